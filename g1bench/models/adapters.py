"""PEFT adapter folders (e.g. a LoRA training run's output) as models: ``g1bench eval --model ./outputs/<run>``.

A LoRA run saves ``adapter_config.json`` + ``adapter_model.safetensors`` (and the processor), not a full
model. Such a folder resolves to a :class:`~g1bench.models.base.ModelSource` whose provenance names the
adapter and its base model; the transformers backend loads the base model (a local folder or a Hub id,
resolved like any ``--model``), applies the adapter with ``peft`` and merges it, so generation runs at the
base model's speed. The processor comes from the adapter folder when it holds one (the trainer saves the
processor it trained with, image-size bounds included), else from the base model.

vLLM and OpenAI-compatible servers need a full model: :func:`merge_adapter` (``python
training/merge_adapter.py ADAPTER OUT``) writes one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# the on-disk format lives in .adapter_files (which .base reads too); re-exported here for callers of this module
from .adapter_files import (ADAPTER_CONFIG, ADAPTER_CONFIG_FILES, PROCESSOR_FILES, adapter_hash, base_model_id,
                            is_adapter_folder, read_adapter_config)
from .base import ModelSource, resolve_model
from .config import MissingExtraError, ModelError


@dataclass
class Adapter:
    """An adapter folder and its resolved base model."""

    path: str
    config: dict[str, Any]
    base: Any  # ModelSource of the base model

    @property
    def processor_id(self) -> str:
        """Where the processor loads from: the adapter folder if it holds one, else the base model."""
        if any((Path(self.path) / f).is_file() for f in PROCESSOR_FILES):
            return self.path
        return self.base.load_id

    @property
    def processor_revision(self) -> str | None:
        return None if self.processor_id == self.path else self.base.load_revision

    def describe(self) -> dict[str, Any]:
        return {"adapter": self.path, "peft_type": self.config.get("peft_type"), "base_model": self.base.to_dict()}

    def apply(self, model: Any) -> Any:
        """``model`` (the base) with the adapter applied and merged into its weights."""
        try:
            from peft import PeftModel
        except ImportError:
            raise MissingExtraError("loading a PEFT adapter needs peft: pip install 'g1bench[training]'") from None
        try:
            merged = PeftModel.from_pretrained(model, self.path).merge_and_unload()
        except (ValueError, OSError, KeyError, RuntimeError) as e:
            raise ModelError(f"cannot apply the adapter {self.path} to its base model: {str(e).splitlines()[0]}") from None
        merged.eval()
        return merged


def adapter_for(source: Any) -> Adapter | None:
    """The :class:`Adapter` a resolved model source stands for, or None for a full model."""
    if getattr(source, "source", None) != "local" or not source.path or not is_adapter_folder(source.path):
        return None
    cfg = read_adapter_config(source.path)
    base = base_model_id(source.path, cfg["base_model_name_or_path"])
    if os.path.isdir(base) and is_adapter_folder(base):
        raise ModelError(f"the base model of {source.path} is itself an adapter ({base}); merge it first")
    try:
        base_source = resolve_model(base, cfg.get("revision") if not os.path.isdir(base) else None)
    except ModelError as e:
        raise ModelError(f"adapter {source.path}: its base model cannot be found ({e})") from None
    return Adapter(source.path, cfg, base_source)


def merge_adapter(adapter_dir: str | os.PathLike, out_dir: str | os.PathLike, dtype: str = "auto",
                  trust_remote_code: bool = False) -> Path:
    """Write the adapter merged into its base model as a full model folder (weights + processor) at ``out_dir``,
    loadable by every backend (vLLM included). ``trust_remote_code`` runs code shipped with the base model
    (off unless asked, as everywhere in g1bench)."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    path = os.path.abspath(os.fspath(adapter_dir))
    adapter = adapter_for(ModelSource(path, "local", path=path))
    if adapter is None:
        raise ModelError(f"{adapter_dir} is not a PEFT adapter folder (no {ADAPTER_CONFIG}, or it holds a full model)")
    kw: dict[str, Any] = {"revision": adapter.base.load_revision, "trust_remote_code": trust_remote_code}
    if dtype != "auto":
        kw["dtype"] = getattr(torch, dtype)
    model = adapter.apply(AutoModelForImageTextToText.from_pretrained(adapter.base.load_id, **kw))
    out = Path(out_dir)
    model.save_pretrained(out)
    AutoProcessor.from_pretrained(adapter.processor_id, revision=adapter.processor_revision,
                                  trust_remote_code=trust_remote_code).save_pretrained(out)
    return out


__all__ = ["ADAPTER_CONFIG", "ADAPTER_CONFIG_FILES", "Adapter", "adapter_for", "adapter_hash",
           "is_adapter_folder", "merge_adapter", "read_adapter_config"]

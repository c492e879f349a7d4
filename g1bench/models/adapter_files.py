"""What a PEFT adapter folder is on disk (e.g. a LoRA training run's output), read without loading anything.

A LoRA run saves ``adapter_config.json`` + ``adapter_model.safetensors`` (and the processor), not a full model;
``adapter_config.json`` names the base model (``base_model_name_or_path``, and ``revision`` for a Hub id).
This module only reads those files: :mod:`.base` uses it to resolve ``--model ADAPTER_DIR``, and
:mod:`.adapters` to load and merge the adapter. It imports neither, so the two never import each other.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .config import ModelError

ADAPTER_CONFIG = "adapter_config.json"
#: Files of an adapter folder that decide how it behaves (the adapter weights are not hashed).
ADAPTER_CONFIG_FILES = (ADAPTER_CONFIG, "preprocessor_config.json", "processor_config.json", "tokenizer_config.json",
                        "chat_template.jinja", "chat_template.json", "video_preprocessor_config.json")
PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json")


def is_adapter_folder(path: str | os.PathLike) -> bool:
    """A folder with ``adapter_config.json`` and no ``config.json`` (a full model folder wins)."""
    p = Path(path)
    return (p / ADAPTER_CONFIG).is_file() and not (p / "config.json").is_file()


def read_adapter_config(path: str | os.PathLike) -> dict[str, Any]:
    """The adapter's config; :class:`ModelError` when it is not JSON or names no base model."""
    file = Path(path) / ADAPTER_CONFIG
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"{file} is not a readable JSON adapter config ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("base_model_name_or_path"), str) \
            or not data["base_model_name_or_path"].strip():
        raise ModelError(f"{file} names no base model (base_model_name_or_path); cannot load the adapter")
    return data


def adapter_hash(path: str | os.PathLike) -> str:
    """SHA-256 (first 16 hex) over the names and bytes of the adapter folder's config files."""
    h = hashlib.sha256()
    for name in ADAPTER_CONFIG_FILES:
        p = Path(path) / name
        if p.is_file():
            h.update(name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def base_model_id(adapter_path: str | os.PathLike, base: str) -> str:
    """The base model as recorded, or, for a relative path that is not a folder from here, relative to the adapter
    folder's parent. g1bench's trainers record an absolute path (:func:`g1bench.training.trainers`), so this
    fallback only serves adapters written elsewhere with a relative base path."""
    expanded = os.path.expanduser(base)
    if os.path.isdir(expanded) or os.path.isabs(expanded) or not base.startswith((".", os.sep)):
        return base
    candidate = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(adapter_path)), expanded))
    return candidate if os.path.isdir(candidate) else base


def adapter_note(path: str | os.PathLike) -> str:
    """The provenance note of an adapter folder: its PEFT type and its base model (and revision)."""
    cfg = read_adapter_config(path)
    base = base_model_id(path, cfg["base_model_name_or_path"])
    revision = cfg.get("revision")
    return f"PEFT {cfg.get('peft_type') or 'adapter'} adapter over base model {base}" + (f"@{revision}" if revision else "")


__all__ = ["ADAPTER_CONFIG", "ADAPTER_CONFIG_FILES", "PROCESSOR_FILES", "adapter_hash", "adapter_note",
           "base_model_id", "is_adapter_folder", "read_adapter_config"]

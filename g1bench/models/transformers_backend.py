"""The transformers backend: ``AutoModelForImageTextToText`` + ``AutoProcessor`` + the model's chat template.

The turns of one policy call are generated in batches of ``--batch-size`` with left padding (turns are
sorted by prompt length first so a batch pads little, and answers are put back in order). Greedy when
``--temperature 0``; otherwise sampled from a generator seeded per call. On a GPU the weights load in
bfloat16 (``--dtype auto``) with ``device_map="auto"`` (spread over every visible GPU); on the CPU in
float32. Needs ``pip install 'g1bench[transformers]'``.
"""

from __future__ import annotations

import re
import time
from typing import Any

from ..eval.policies import Answer, Turn
from .adapters import adapter_for
from .base import ModelPolicy, ModelSource, package_version
from .config import MissingExtraError, ModelConfig, ModelError
from .messages import call_seed, hf_images, hf_messages
from .preflight import context_length, for_model

EXTRA_HINT = "pip install 'g1bench[transformers]'"


def _import():
    try:
        import torch
        import transformers
    except ImportError as e:
        raise MissingExtraError(f"the transformers backend needs torch, torchvision and transformers ({e}); "
                                f"install them with: {EXTRA_HINT}") from None
    return torch, transformers


def _version_tuple(version: str) -> tuple[int, ...]:
    """``"4.56.0.dev0"`` -> ``(4, 56, 0)``: the leading numbers of a version string."""
    parts = []
    for piece in version.split(".")[:3]:
        m = re.match(r"\d+", piece)
        if m is None:
            break
        parts.append(int(m.group()))
        if m.end() < len(piece):
            break
    return tuple(parts)


def cuda_available() -> bool:
    """Whether torch is installed and sees a CUDA GPU (False without torch)."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_dtype(dtype: str, cuda: bool):
    """The torch dtype for ``--dtype``: auto = bfloat16 on a GPU (float16 where bf16 is unsupported), else float32."""
    import torch

    if dtype == "auto":
        if not cuda:
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return getattr(torch, dtype)


class TransformersPolicy(ModelPolicy):
    """A Hub or local VLM run in-process with transformers (see the module docstring)."""

    backend = "transformers"

    def __init__(self, model: str, cfg: ModelConfig, source: ModelSource, suite: Any = None):
        super().__init__(model, cfg, source)
        torch, transformers = _import()
        from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

        self._torch = torch
        self.cuda = bool(torch.cuda.is_available())
        torch_dtype = resolve_dtype(cfg.dtype, self.cuda)
        self.dtype = str(torch_dtype).replace("torch.", "")
        # always explicit: left unset, transformers asks on stdin and runs the folder's code on a "y"
        common: dict[str, Any] = {"revision": source.load_revision, "trust_remote_code": bool(cfg.trust_remote_code)}
        load_id = source.load_id
        processor_id, processor_kw = load_id, dict(common)
        self.adapter = adapter_for(source)  # a PEFT adapter folder: its base model, then the adapter (adapters.py)
        if self.adapter is not None:
            load_id, common["revision"] = self.adapter.base.load_id, self.adapter.base.load_revision
            processor_id, processor_kw["revision"] = self.adapter.processor_id, self.adapter.processor_revision
        try:
            config = AutoConfig.from_pretrained(load_id, **common)
        except ValueError as e:
            raise self._load_error(e) from None
        except OSError as e:
            raise ModelError(f"cannot load the config of {model!r}: {str(e).splitlines()[0]}") from None
        auto_map = getattr(config, "auto_map", None) or {}
        if type(config) not in AutoModelForImageTextToText._model_mapping and "AutoModelForImageTextToText" not in auto_map:
            raise self._not_vlm(config)
        try:
            self.processor = AutoProcessor.from_pretrained(processor_id, **processor_kw)
            if cfg.min_pixels is not None or cfg.max_pixels is not None:
                self.processor = AutoProcessor.from_pretrained(processor_id, **processor_kw, **self._pixel_kwargs(transformers))
        except (ValueError, OSError) as e:
            raise self._load_error(e, "processor") from None
        self.tokenizer = getattr(self.processor, "tokenizer", None)
        if self.tokenizer is None or getattr(self.processor, "image_processor", None) is None:
            raise ModelError(f"{model!r}: AutoProcessor returned {type(self.processor).__name__}, which cannot "
                             "process images (not an image-text model, or torchvision is missing: "
                             f"{EXTRA_HINT})")
        template = getattr(self.processor, "chat_template", None) or getattr(self.tokenizer, "chat_template", None)
        if not template:
            raise ModelError(f"{model!r} has no chat template (no chat_template.jinja / chat_template in its "
                             "processor or tokenizer config): g1bench sends chat messages, so use an instruction-"
                             "tuned checkpoint or add a chat template to the folder")
        if suite is not None:  # image tokens per frame; a step longer than the model's context is refused before the weights load
            self.preflight = for_model(suite, self.processor, cfg, context_length(config), "the model's context length")
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # `dtype` replaced `torch_dtype` in transformers 4.56
        dtype_key = "dtype" if _version_tuple(transformers.__version__) >= (4, 56) else "torch_dtype"
        load_kw: dict[str, Any] = dict(common, **{dtype_key: torch_dtype})
        if self.cuda:
            load_kw["device_map"] = "auto"
        try:
            self.model = AutoModelForImageTextToText.from_pretrained(load_id, **load_kw)
        except ValueError as e:
            raise self._load_error(e, config=config) from None
        except OSError as e:
            raise ModelError(f"cannot load the weights of {model!r}: {str(e).splitlines()[0]}") from None
        if self.adapter is not None:
            self.model = self.adapter.apply(self.model)
        self.model.eval()
        if not self.cuda:
            self.model.to("cpu")
        self.device = str(next(self.model.parameters()).device)
        gen = self.model.generation_config
        eos = gen.eos_token_id if gen.eos_token_id is not None else self.tokenizer.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, (list, tuple)) else [eos]) - {None}
        self.pad_id = self.tokenizer.pad_token_id
        self.versions = {"transformers": transformers.__version__, "torch": torch.__version__,
                         "torchvision": package_version("torchvision"), "accelerate": package_version("accelerate")}

    def _pixel_kwargs(self, transformers) -> dict[str, Any]:
        """Processor kwargs for --min-pixels / --max-pixels (Qwen-style processors, which resize by pixel area:
        ``size={"shortest_edge": min, "longest_edge": max}`` in transformers 5, ``min_pixels``/``max_pixels`` before)."""
        ip = getattr(self.processor, "image_processor", None)
        size = getattr(ip, "size", None)
        get = (lambda k: size.get(k)) if isinstance(size, dict) else (lambda k: getattr(size, k, None))
        if ip is None or not hasattr(ip, "merge_size") or get("longest_edge") is None:
            raise ModelError(f"--min-pixels/--max-pixels apply to processors that resize images by pixel area "
                             f"(the Qwen2-VL family); {type(ip).__name__} of {self.model_id!r} does not")
        lo = self.cfg.min_pixels if self.cfg.min_pixels is not None else get("shortest_edge")
        hi = self.cfg.max_pixels if self.cfg.max_pixels is not None else get("longest_edge")
        if _version_tuple(transformers.__version__) >= (5,):
            return {"size": {"shortest_edge": lo, "longest_edge": hi}}
        return {"min_pixels": lo, "max_pixels": hi}

    def _load_error(self, e: Exception, what: str = "model", config=None) -> ModelError:
        msg = str(e)
        if "trust_remote_code" in msg:
            return ModelError(f"{self.model_id!r} ships its own code: rerun with --trust-remote-code if you trust "
                              "that repository (it runs on this machine)")
        if "Unrecognized configuration class" in msg or "AutoModelForImageTextToText" in msg:
            return self._not_vlm(config)
        return ModelError(f"cannot load the {what} of {self.model_id!r}: {msg.splitlines()[0] if msg else type(e).__name__}")

    def _not_vlm(self, config) -> ModelError:
        kind = getattr(config, "model_type", "?")
        return ModelError(f"{self.model_id!r} (model type {kind!r}) is not an image-text-to-text model: transformers "
                          "has no AutoModelForImageTextToText class for it, so it cannot read the game frames; "
                          "pick a vision-language model")

    def backend_versions(self) -> dict[str, str | None]:
        return self.versions

    def image_bounds(self) -> dict[str, Any]:
        """The flags' bounds, plus the image size rule the processor really applies (its ``size``)."""
        out = super().image_bounds()
        size = getattr(self.processor.image_processor, "size", None)
        items = size.items() if isinstance(size, dict) else vars(size).items() if size is not None else ()
        applied = {k: v for k, v in items if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if applied:
            out["processor_size"] = applied
        return out

    def describe_backend(self) -> dict[str, Any]:
        out = {"batch_size": self.cfg.batch_size, "device": "cuda" if self.cuda else "cpu"}
        return {**out, "adapter": self.adapter.describe()} if self.adapter is not None else out

    # -- generation ----------------------------------------------------------------------------------
    def act(self, turns: list[Turn]) -> list[Answer]:
        if not turns:
            return []
        texts = [self.processor.apply_chat_template(hf_messages(t, self.cfg.system_prompt), add_generation_prompt=True,
                                                    tokenize=False) for t in turns]
        order = sorted(range(len(turns)), key=lambda i: len(texts[i]))
        answers: list[Answer | None] = [None] * len(turns)
        bs = self.cfg.batch_size
        for start in range(0, len(order), bs):
            idx = order[start : start + bs]
            for i, answer in zip(idx, self._generate([turns[i] for i in idx], [texts[i] for i in idx])):
                answers[i] = answer
        return answers  # type: ignore[return-value]

    def _generate(self, turns: list[Turn], texts: list[str]) -> list[Answer]:
        torch, cfg = self._torch, self.cfg
        t0 = time.perf_counter()
        images = hf_images(turns)
        inputs = self.processor(text=texts, images=images or None, padding=True, return_tensors="pt")
        inputs = inputs.to(self.model.device)
        gen_kw: dict[str, Any] = {"max_new_tokens": cfg.max_new_tokens, "pad_token_id": self.pad_id}
        if cfg.temperature > 0:
            gen_kw.update(do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p, top_k=0)
            torch.manual_seed(call_seed(cfg.sampling_seed, turns))
        else:
            gen_kw.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        with torch.inference_mode():
            out = self.model.generate(**inputs, **gen_kw)
        prompt_len = inputs["input_ids"].shape[1]
        new = out[:, prompt_len:].tolist()
        in_tokens = inputs["attention_mask"].sum(dim=1).tolist()
        dt = (time.perf_counter() - t0) / len(turns)
        answers = []
        for row, n_in in zip(new, in_tokens):
            n_out, finish = len(row), "length"
            for k, tok in enumerate(row):
                if tok in self.eos_ids:
                    n_out, finish = k + 1, "stop"
                    break
            text = self.tokenizer.decode(row[:n_out], skip_special_tokens=True)
            answers.append(Answer(text, input_tokens=int(n_in), output_tokens=n_out, latency_s=dt,
                                  extra={"finish_reason": finish}))
        return answers

    def close(self) -> None:
        self.model = None
        if self.cuda:
            self._torch.cuda.empty_cache()


__all__ = ["TransformersPolicy", "cuda_available", "resolve_dtype"]

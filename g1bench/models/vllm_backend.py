"""The vLLM backend: one ``LLM`` engine, all envs' requests in one ``llm.chat`` call per step.

The request construction lives in :mod:`g1bench.models.messages` (``vllm_llm_kwargs``,
``vllm_sampling_kwargs``, ``vllm_conversations``) and is unit-tested without vLLM; this module only
starts the engine and calls it. Needs a CUDA GPU and ``pip install 'g1bench[vllm]'``. Scripts that use
it directly need an ``if __name__ == "__main__":`` guard (vLLM spawns worker processes).
"""

from __future__ import annotations

import time
from typing import Any

from ..eval.policies import Answer, Turn
from .base import ModelPolicy, ModelSource, package_version
from ..eval.history import suite_history
from .config import MissingExtraError, ModelConfig, ModelError
from .messages import turn_frames, vllm_conversations, vllm_llm_kwargs, vllm_sampling_kwargs

EXTRA_HINT = "pip install 'g1bench[vllm]'"


def _import():
    try:
        import vllm
    except ImportError as e:
        raise MissingExtraError(f"the vLLM backend needs vllm ({e}); install it with: {EXTRA_HINT} "
                                "(or use --backend transformers)") from None
    return vllm


def image_part_kind(vllm_version: str | None) -> str:
    """``pil`` for vLLM >= 0.10 (``image_pil`` content parts), else ``data_url``."""
    try:
        major, minor = (int(x) for x in (vllm_version or "0.0").split(".")[:2])
    except ValueError:
        return "data_url"
    return "pil" if (major, minor) >= (0, 10) else "data_url"


class VLLMPolicy(ModelPolicy):
    """A Hub or local VLM served in-process by vLLM (see the module docstring)."""

    backend = "vllm"

    def __init__(self, model: str, cfg: ModelConfig, source: ModelSource, suite: Any = None):
        super().__init__(model, cfg, source)
        vllm = _import()
        # a multi-turn suite sends 1 + history frames per request (the engine refuses more than it was started for)
        self.images_per_prompt = 1 + (suite_history(suite) if suite is not None else 0)
        self.llm_kwargs = vllm_llm_kwargs(source.load_id, cfg, source.load_revision, images=self.images_per_prompt)
        if suite is not None:  # before the engine: its start takes minutes, and a too-short context fails every step
            self.preflight = vllm_preflight(suite, source, cfg)
        self.llm = vllm.LLM(**self.llm_kwargs)
        self._sampling_params = vllm.SamplingParams
        self.image_part = image_part_kind(vllm.__version__)
        self.versions = {"vllm": vllm.__version__, "torch": package_version("torch"),
                         "transformers": package_version("transformers")}
        try:
            self.dtype = str(self.llm.llm_engine.model_config.dtype).replace("torch.", "")
        except AttributeError:
            self.dtype = cfg.dtype

    def backend_versions(self) -> dict[str, str | None]:
        return self.versions

    def describe_backend(self) -> dict[str, Any]:
        return {"tensor_parallel_size": self.cfg.tensor_parallel_size, "data_parallel_size": self.cfg.data_parallel_size}

    def act(self, turns: list[Turn]) -> list[Answer]:
        if not turns:
            return []
        most = max(len(turn_frames(t)) for t in turns)
        if most > self.images_per_prompt:
            raise ModelError(f"a turn carries {most} frames (its history), but the vLLM engine was started for "
                             f"{self.images_per_prompt} per prompt: pass the suite to load_policy(..., suite=suite)")
        t0 = time.perf_counter()
        conversations = vllm_conversations(turns, self.cfg.system_prompt, image=self.image_part)
        params = [self._sampling_params(**vllm_sampling_kwargs(self.cfg, t)) for t in turns]
        outputs = self.llm.chat(conversations, params, use_tqdm=False)
        dt = (time.perf_counter() - t0) / len(turns)
        return [answer_from_output(o, dt) for o in outputs]

    def close(self) -> None:
        self.llm = None


def vllm_preflight(suite: Any, source: ModelSource, cfg: ModelConfig, log: Any = None):
    """The pre-flight (:mod:`g1bench.models.preflight`) of ``suite`` with the model's own processor and config
    (small files; transformers comes with vLLM): image tokens per frame at the chosen --max-pixels, and a
    :class:`ModelError` when --max-model-len (or, unset, the model's context length) cannot hold prompt + frame +
    --max-new-tokens. None when the processor cannot be loaded here or is not of the Qwen2-VL family (vLLM
    then decides alone)."""
    import sys

    from .preflight import context_length, for_model

    say = log or (lambda text: print(text, file=sys.stderr, flush=True))
    kw = {"revision": source.load_revision, "trust_remote_code": bool(cfg.trust_remote_code)}
    try:
        from transformers import AutoConfig, AutoProcessor

        processor = AutoProcessor.from_pretrained(source.load_id, **kw)
        limit = cfg.max_model_len or context_length(AutoConfig.from_pretrained(source.load_id, **kw))
    except Exception as e:  # noqa: BLE001 - the engine reports load failures itself, with more context
        say(f"pre-flight: skipped, the processor of {source.model!r} did not load here "
            f"({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})")
        return None
    name = "--max-model-len" if cfg.max_model_len else "the model's context length (set --max-model-len)"
    return for_model(suite, processor, cfg, limit, name, log=say)


def answer_from_output(output: Any, latency_s: float) -> Answer:
    """An :class:`Answer` from a vLLM ``RequestOutput`` (text, prompt and output token counts)."""
    completion = output.outputs[0]
    prompt_ids = getattr(output, "prompt_token_ids", None)
    return Answer(completion.text, input_tokens=len(prompt_ids) if prompt_ids is not None else None,
                  output_tokens=len(completion.token_ids), latency_s=latency_s,
                  extra={"finish_reason": getattr(completion, "finish_reason", None)})


__all__ = ["VLLMPolicy", "answer_from_output", "image_part_kind", "vllm_preflight"]

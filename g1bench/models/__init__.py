"""Model backends: any Hub or local VLM through vLLM or transformers, or any OpenAI-compatible server.

``g1bench eval --model <Hub id | local folder | served model name>`` resolves the model here:

* ``--backend auto`` (default): ``openai`` when ``--base-url`` is given; else vLLM when it is installed
  and a CUDA GPU is present; else transformers.
* ``vllm`` (:mod:`.vllm_backend`, ``pip install 'g1bench[vllm]'``), ``transformers``
  (:mod:`.transformers_backend`, ``pip install 'g1bench[transformers]'``), ``openai``
  (:mod:`.openai_backend`, standard library only).

Every backend sends the game's versioned prompt with its frame (:mod:`.messages`) and returns the
model's raw text, which the game parses. Provenance (:meth:`ModelPolicy.describe`) records the model,
the resolved commit, backend versions, sampling, image bounds, dtype and the system prompt's hash.

Example::

    from g1bench.eval.runner import evaluate
    from g1bench.eval.suites import get_suite
    from g1bench.models import ModelConfig, load_policy

    policy = load_policy("Qwen/Qwen2.5-VL-7B-Instruct", ModelConfig(max_new_tokens=2048))
    results = evaluate(get_suite("paper"), policy, "runs/qwen7b")
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from typing import Any

from .base import ModelPolicy, ModelSource, resolve_model
from .config import BACKENDS, MissingExtraError, ModelConfig, ModelError, add_arguments


def choose_backend(cfg: ModelConfig) -> str:
    """The backend ``cfg.backend`` means here: ``auto`` picks openai (with --base-url), vllm (installed and a
    CUDA GPU present) or transformers."""
    if cfg.backend != "auto":
        return cfg.backend
    if cfg.base_url:
        return "openai"
    if importlib.util.find_spec("vllm") is not None:
        from .transformers_backend import cuda_available

        if cuda_available():
            return "vllm"
    return "transformers"


def load_policy(model: str, args: argparse.Namespace | ModelConfig | None = None, *, suite: Any = None,
                **overrides: Any) -> ModelPolicy:
    """A policy that asks ``model`` for answers.

    Args:
        model: a Hub id (``Qwen/Qwen2.5-VL-7B-Instruct``), a local model folder, or the model name an
            OpenAI-compatible server knows.
        args: the parsed ``g1bench eval`` arguments, or a :class:`ModelConfig` (None: defaults).
        suite: the suite the policy will play: vLLM and transformers then run the pre-flight
            (:mod:`.preflight`) before loading weights: image tokens per frame, and a refusal of a context
            (--max-model-len) that cannot hold prompt + frame + --max-new-tokens (+ the past turns of a suite
            with ``history``, whose largest value also sets vLLM's images per prompt).
        **overrides: ModelConfig fields to change.

    Returns:
        A :class:`ModelPolicy` (call ``close()`` when done).

    Raises:
        ModelError: bad options, a model that cannot be found or loaded, an unreachable server.
        MissingExtraError: the backend's packages are not installed (the message names the extra).
    """
    if args is None:
        cfg = ModelConfig()
    elif isinstance(args, ModelConfig):
        cfg = args
    else:
        cfg = ModelConfig.from_args(args)
    if overrides:
        cfg = ModelConfig(**{**cfg.__dict__, **overrides})
    cfg.validate()
    if cfg.base_url and cfg.backend not in ("auto", "openai"):
        raise ModelError(f"--base-url is for the openai backend, not --backend {cfg.backend}")
    backend = choose_backend(cfg)
    if backend == "openai":
        from .base import config_hash
        from .openai_backend import OpenAIPolicy

        source = ModelSource(model, "server", revision=cfg.revision)
        if os.path.isdir(model):  # e.g. transformers serve with a local folder: record what it holds
            source.path = os.path.abspath(model)
            source.config_hash = config_hash(source.path)
        if cfg.revision:
            source.note = "the server decides which weights it serves; --revision is recorded, not enforced"
        return OpenAIPolicy(model, cfg, source)
    source = resolve_model(model, cfg.revision)
    from .adapters import is_adapter_folder

    if backend == "vllm" and source.path and is_adapter_folder(source.path):
        if cfg.backend == "vllm":
            raise ModelError(f"{model!r} is a PEFT adapter folder: vLLM loads full models; merge it first "
                             "(python training/merge_adapter.py ADAPTER OUT) or use --backend transformers")
        backend = "transformers"  # auto: the transformers backend applies adapters itself
    if backend == "vllm":
        from .vllm_backend import VLLMPolicy

        return VLLMPolicy(model, cfg, source, suite=suite)
    from .transformers_backend import TransformersPolicy

    return TransformersPolicy(model, cfg, source, suite=suite)


__all__ = ["load_policy", "choose_backend", "ModelConfig", "ModelError", "MissingExtraError", "ModelPolicy",
           "ModelSource", "resolve_model", "add_arguments", "BACKENDS"]

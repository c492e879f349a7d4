"""The options of every model backend: one dataclass, whose field help is also the CLI help."""

from __future__ import annotations

import argparse
import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

BACKENDS = ("auto", "vllm", "transformers", "openai")
DTYPES = ("auto", "bfloat16", "float16", "float32")
#: The environment variable read for an API key when --api-key-env is not given (optional then).
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
#: What --api-key-env accepts: an environment variable's name (a key pasted there instead is refused, unshown).
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
#: Names safe to repeat in messages: the conventional upper-case ones (a lower-case "name" may be a key).
_SHOWN_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")


def shown_env_name(name: str) -> str:
    """``name`` for a message if it looks like a conventional variable name, else a placeholder: a key given
    by mistake as --api-key-env must never be printed."""
    return name if _SHOWN_ENV_NAME.fullmatch(name) else "(the name given, not shown: it may be the key itself)"


def check_api_key_env(name: str | None) -> None:
    """Refuse an --api-key-env that is not an environment variable's name (e.g. the key itself), without
    repeating it."""
    if name is not None and not ENV_NAME.fullmatch(name):
        raise ModelError("--api-key-env takes the NAME of the environment variable that holds the key (letters, digits "
                         "and _, e.g. MY_API_KEY), not the key itself; the value given is not shown. "
                         "Run: export MY_API_KEY=<your key>; then pass --api-key-env MY_API_KEY")


class ModelError(RuntimeError):
    """A model cannot be loaded or queried as asked; the message says what to do."""


class MissingExtraError(ModelError, ImportError):
    """A backend's optional dependencies are not installed; the message names the extra."""


@dataclass
class ModelConfig:
    """How a model is loaded, prompted and sampled. ``g1bench eval`` exposes every field as ``--<field-name>``.

    Example::

        from g1bench.models import ModelConfig, load_policy
        policy = load_policy("Qwen/Qwen2.5-VL-7B-Instruct", ModelConfig(backend="vllm", max_new_tokens=2048))
    """

    backend: str = field(default="auto", metadata={
        "help": "auto: vLLM when installed and a CUDA GPU is present, else transformers; openai when --base-url is given",
        "choices": BACKENDS})
    revision: str | None = field(default=None, metadata={
        "help": "Hub branch, tag or commit of the model; the resolved commit is recorded in the results"})
    base_url: str | None = field(default=None, metadata={
        "help": "OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (vllm serve, transformers serve, a commercial API)"})
    api_key_env: str | None = field(default=None, metadata={
        "help": f"environment variable holding the API key (None: {DEFAULT_API_KEY_ENV} if set; local servers need "
                "none); the key is never printed or saved"})
    price_in: float | None = field(default=None, metadata={"help": "price per 1M input tokens (records the cost of a run)"})
    price_out: float | None = field(default=None, metadata={"help": "price per 1M output tokens"})
    system_prompt: str | None = field(default=None, metadata={
        "help": "system message (None: none sent; the model's chat template may add its own)"})
    max_new_tokens: int = field(default=1024, metadata={"help": "most tokens a model may write per step"})
    temperature: float = field(default=0.0, metadata={"help": "sampling temperature (0 = greedy)"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling mass"})
    sampling_seed: int = field(default=0, metadata={
        "help": "seed of the model's sampling (each request's seed derives from it, the episode and the step)"})
    min_pixels: int | None = field(default=None, metadata={"help": "smallest image area in pixels the model's processor resizes to (None: the model's own)"})
    max_pixels: int | None = field(default=None, metadata={"help": "largest image area in pixels the model's processor resizes to (None: the model's own)"})
    tensor_parallel_size: int = field(default=1, metadata={"help": "vLLM: GPUs per model replica"})
    data_parallel_size: int = field(default=1, metadata={"help": "vLLM: model replicas"})
    max_model_len: int | None = field(default=None, metadata={
        "help": "vLLM: longest sequence (prompt + frame + answer) the engine reserves KV cache for (None: the model's "
                "own, often 32k-128k tokens, which may not fit a 24-48 GB GPU); checked before loading against the "
                "suite's prompts, frames and --max-new-tokens"})
    gpu_memory_utilization: float = field(default=0.9, metadata={
        "help": "vLLM: fraction of the GPU's memory for weights and KV cache (lower it when the GPU is shared)"})
    enforce_eager: bool = field(default=False, metadata={
        "help": "vLLM: no CUDA graphs (starts faster and uses less memory; steps are slower)"})
    dtype: str = field(default="auto", metadata={
        "help": "weights dtype; auto = bfloat16 on a GPU (float16 where bf16 is unsupported), float32 on the CPU",
        "choices": DTYPES})
    trust_remote_code: bool = field(default=False, metadata={
        "help": "run code shipped with the model repository (only for repositories you trust)"})
    batch_size: int = field(default=8, metadata={"help": "transformers: turns per generate() call"})
    max_concurrency: int = field(default=8, metadata={"help": "openai: requests in flight"})
    timeout: float = field(default=600.0, metadata={"help": "openai: seconds per request before it is retried"})
    retries: int = field(default=5, metadata={"help": "openai: retries of a request after 429, 5xx or a timeout"})
    retry_backoff: float = field(default=1.0, metadata={
        "help": "openai: first retry delay in seconds (doubles per retry, with jitter; a Retry-After header wins)"})

    def validate(self) -> "ModelConfig":
        """Check ranges; raises :class:`ModelError` naming the flag."""
        def bad(flag: str, why: str) -> ModelError:
            return ModelError(f"--{flag.replace('_', '-')} {why}")

        if self.backend not in BACKENDS:
            raise bad("backend", f"must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.dtype not in DTYPES:
            raise bad("dtype", f"must be one of {', '.join(DTYPES)}, not {self.dtype!r}")
        for name in ("max_new_tokens", "tensor_parallel_size", "data_parallel_size", "batch_size", "max_concurrency"):
            if getattr(self, name) < 1:
                raise bad(name, "must be >= 1")
        if self.max_model_len is not None and self.max_model_len < 2:
            raise bad("max_model_len", "must be >= 2")
        if not 0 < self.gpu_memory_utilization <= 1:
            raise bad("gpu_memory_utilization", f"must be in (0, 1], not {self.gpu_memory_utilization}")
        check_api_key_env(self.api_key_env)
        if self.temperature < 0:
            raise bad("temperature", "must be >= 0")
        if not 0 < self.top_p <= 1:
            raise bad("top_p", "must be in (0, 1]")
        if self.timeout <= 0:
            raise bad("timeout", "must be > 0")
        if self.retries < 0 or self.retry_backoff < 0:
            raise bad("retries", "and --retry-backoff must be >= 0")
        for name in ("min_pixels", "max_pixels"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise bad(name, "must be >= 1")
        if self.min_pixels and self.max_pixels and self.min_pixels > self.max_pixels:
            raise bad("min_pixels", f"({self.min_pixels}) exceeds --max-pixels ({self.max_pixels})")
        for name in ("price_in", "price_out"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise bad(name, "must be >= 0")
        return self

    def sampling(self) -> dict[str, Any]:
        """The sampling parameters, as recorded in provenance."""
        return {"max_new_tokens": self.max_new_tokens, "temperature": self.temperature, "top_p": self.top_p,
                "seed": self.sampling_seed}

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "ModelConfig":
        """The config from parsed ``g1bench eval`` arguments (fields that are absent keep their defaults)."""
        kw = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
        return cls(**kw).validate()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every :class:`ModelConfig` field to ``parser`` as ``--field-name`` (in a "model options" group)."""
    group = parser.add_argument_group("model options (vLLM, transformers, OpenAI-compatible backends)")
    for f in dataclasses.fields(ModelConfig):
        flag = "--" + f.name.replace("_", "-")
        kw: dict[str, Any] = {"help": f.metadata.get("help", ""), "default": f.default}
        if isinstance(f.default, bool):
            group.add_argument(flag, action="store_true", **kw)
            continue
        if "choices" in f.metadata:
            kw["choices"] = f.metadata["choices"]
        annotation = str(f.type)  # a string under `from __future__ import annotations`: "int", "float | None", ...
        kind = int if annotation.startswith("int") else float if annotation.startswith("float") else None
        if kind is not None:
            kw["type"] = kind
        group.add_argument(flag, **kw)


__all__ = ["ModelConfig", "ModelError", "MissingExtraError", "add_arguments", "check_api_key_env", "shown_env_name",
           "BACKENDS", "DTYPES", "DEFAULT_API_KEY_ENV"]

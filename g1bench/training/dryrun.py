"""``--preflight only``: a recipe's pre-flight without weights and without the Hub.

What a run will cost is knowable before anything is downloaded: a model's ``config.json`` gives its exact parameter
count (the model is built on the meta device) and layer sizes, its ``preprocessor_config.json`` how a frame becomes
image tokens, and the recipe the batch, lengths and sharding. :func:`model_files` finds those files in a local
folder, the local Hub cache, or the copies g1bench ships for the paper's models (``g1bench/assets/model_configs``:
Qwen2.5-VL-7B-Instruct and Qwen2.5-VL-72B-Instruct); :func:`dry_run` then reports, per (game, preset) trained on:

* the model frame, its size after the trainer's resize (``--min_pixels``/``--max_pixels``) and its image tokens,
  exactly (the Qwen2-VL processors' rule, :mod:`g1bench.models.preflight`);
* whether TRL's vLLM engine (built from the model name, so with the model's *own* pixel bounds) resizes it to the
  same size (:func:`check_image_agreement`; a run where they differ is refused: sampling and the loss would see
  different images);
* the prompt's text tokens: exact when the model's tokenizer is at hand (its folder or the Hub cache), else an
  upper bound (the templated prompt's UTF-8 bytes: a byte-level BPE token covers at least one byte), said so;
* the memory estimate term by term (:func:`g1bench.training.preflight.estimate_memory`).

Nothing here imports vLLM, loads weights, or opens a network connection.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..models.preflight import VisionGrid, image_tokens, resized_size, vision_grid
from .preflight import MemoryEstimate, PreflightError, PromptBudget, count_parameters, estimate_memory

#: Models whose config.json and preprocessor_config.json ship with g1bench (see assets/model_configs/SOURCES.md).
SHIPPED_MODELS = ("Qwen/Qwen2.5-VL-7B-Instruct", "Qwen/Qwen2.5-VL-72B-Instruct")
_PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json")
STRATEGIES = ("ddp", "zero1", "zero2", "zero3", "fsdp")


def shipped_model_dir(model_id: str) -> Path | None:
    """The folder of ``model_id``'s shipped config files (``config.json``, ``preprocessor_config.json``), or None.
    The benchmarks build Qwen2.5-VL-7B's architecture with random weights from it."""
    if model_id not in SHIPPED_MODELS:
        return None
    from importlib import resources

    return Path(str(resources.files("g1bench").joinpath("assets/model_configs", model_id.replace("/", "--"))))


@dataclass
class ModelFiles:
    """What the pre-flight knows of a model without its weights."""

    model_id: str
    where: str  # "from its folder", "from the Hub cache" or "shipped with g1bench"
    config: Any  # a transformers PretrainedConfig
    processor_config: dict[str, Any]
    processor: Any = None  # the model's own processor when its tokenizer is at hand (exact text token counts)

    @property
    def grid(self) -> VisionGrid | None:
        """The model's own image grid (its processor's pixel bounds): what TRL's vLLM engine uses."""
        return vision_grid(self.processor_config)


def _read_processor_config(folder: Path) -> dict[str, Any]:
    for name in _PROCESSOR_FILES:
        p = folder / name
        if p.is_file():
            try:
                return json.loads(p.read_text())
            except (OSError, ValueError) as e:
                raise PreflightError(f"cannot read {p}: {e}") from None
    return {}


def _local_processor(model_id: str, **kw: Any) -> Any:
    """The full processor when its files are local (a folder, or the Hub cache with ``local_files_only``)."""
    import warnings

    from transformers import AutoProcessor

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            processor = AutoProcessor.from_pretrained(model_id, **kw)
    except Exception:  # noqa: BLE001 - no tokenizer here: the text is bounded instead of counted
        return None
    return processor if getattr(processor, "tokenizer", None) is not None else None


def model_files(model_id: str, revision: str | None = None, trust_remote_code: bool = False,
                fallback: str | None = None) -> ModelFiles:
    """The config files of ``model_id`` from its folder, the local Hub cache, or g1bench's shipped copies (in that
    order; never the network), else those of ``fallback`` (e.g. the base model of a G1 recipe whose SFT output does
    not exist yet).

    Raises:
        PreflightError: none of those has the model's config.
    """
    from transformers import AutoConfig

    def config(source: str, **kw: Any) -> Any:
        try:
            return AutoConfig.from_pretrained(source, trust_remote_code=trust_remote_code, **kw)
        except (OSError, ValueError) as e:
            raise PreflightError(f"cannot read the config of {model_id!r}: {str(e).splitlines()[0]}") from None

    folder = Path(os.path.expanduser(model_id))
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise PreflightError(f"{model_id!r} is a folder without config.json (a LoRA adapter? give its base model)")
        return ModelFiles(model_id, "from its folder", config(str(folder)), _read_processor_config(folder),
                          _local_processor(str(folder), trust_remote_code=trust_remote_code))
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(model_id, "config.json", revision=revision)
    except Exception:  # noqa: BLE001 - not a Hub id: not cached
        cached = None
    if isinstance(cached, str):
        snapshot = Path(cached).parent
        return ModelFiles(model_id, "from the Hub cache", config(str(snapshot)), _read_processor_config(snapshot),
                          _local_processor(model_id, revision=revision, local_files_only=True,
                                           trust_remote_code=trust_remote_code))
    shipped = shipped_model_dir(model_id)
    if shipped is not None:
        return ModelFiles(model_id, "shipped with g1bench", config(str(shipped)), _read_processor_config(shipped))
    if fallback and fallback != model_id:
        try:
            files = model_files(fallback, None, trust_remote_code)
        except PreflightError as e:
            raise PreflightError(f"{model_id!r} does not exist (yet), and --preflight_model: {e}") from None
        files.where = f"{files.where}, as {model_id!r} (not there yet) per --preflight_model"
        return files
    raise PreflightError(f"{model_id!r} is not a local folder, not in the Hub cache, and g1bench ships no config for it "
                         f"(it does for {', '.join(SHIPPED_MODELS)}); for a model not trained yet (a G1 recipe before "
                         "its SFT) give --preflight_model with the model it starts from")


# -- images -----------------------------------------------------------------------------------------------
def check_image_agreement(frames: Iterable[tuple[str, tuple[int, int]]], trainer: VisionGrid, engine: VisionGrid,
                          bounds_flags: str = "--min_pixels/--max_pixels") -> list[str]:
    """Refuse (:class:`PreflightError`) a frame that the trainer's processor and the vLLM engine would resize
    differently; returns one line per frame with its size and image tokens under both.

    TRL builds its vLLM engine (colocate, and ``trl vllm-serve``) from the model name, so vLLM resizes with the
    model's own bounds (``engine``), while the trainer's processor uses the recipe's (``trainer``). TRL tokenizes the
    prompt with the trainer's processor and hands vLLM those ids with the image: different sizes would mean a
    different image (or a token count vLLM rejects) for sampling than for the loss.
    """
    lines = []
    for key, (w, h) in frames:
        rt, re = resized_size(w, h, trainer), resized_size(w, h, engine)
        tt, te = image_tokens(w, h, trainer), image_tokens(w, h, engine)
        if rt != re:
            f = trainer.factor
            rw, rh = round(w / f) * f, round(h / f) * f
            raise PreflightError(
                f"{key}: the trainer ({bounds_flags} {trainer.min_pixels}..{trainer.max_pixels}) resizes the {w}x{h} "
                f"frame to {rt[0]}x{rt[1]} = {tt} image tokens, but vLLM, which TRL builds from the model name with the "
                f"model's own bounds {engine.min_pixels}..{engine.max_pixels}, to {re[0]}x{re[1]} = {te}: sampling and "
                f"the loss would see different images. Use bounds that both hold the frame's area after rounding to "
                f"multiples of {f} ({rw}x{rh} = {rw * rh} pixels), e.g. leave {bounds_flags} unset, or another "
                "--model_frame")
        lines.append(f"{key}: frame {w}x{h} -> {rt[0]}x{rt[1]}, {tt} image tokens (trainer and vLLM alike)")
    return lines


# -- text -------------------------------------------------------------------------------------------------
def text_tokens(files: ModelFiles, prompt: str, system_prompt: str | None = None) -> tuple[int, bool]:
    """(tokens of one step's templated prompt without the image's own tokens, exact?). Exact with the model's
    tokenizer; else the UTF-8 byte count of the prompt templated with Qwen's chat template, an upper bound for a
    byte-level BPE tokenizer (every token covers at least one byte; each special token counts its whole text)."""
    from ..models.preflight import prompt_tokens

    if files.processor is not None:
        n = prompt_tokens(files.processor, prompt, system_prompt)
        if n is not None:
            return n, True
    from jinja2 import Template

    from ..testing.tiny_vlm import QWEN_VL_CHAT_TEMPLATE
    from .states import prompt_messages

    text = Template(QWEN_VL_CHAT_TEMPLATE).render(messages=prompt_messages(prompt, system_prompt),
                                                  add_generation_prompt=True)
    return len(text.replace("<|image_pad|>", "").encode("utf-8")), False


# -- the report -------------------------------------------------------------------------------------------
def parse_sharding(text: str | None) -> tuple[str, int] | None:
    """``"zero3:8"`` -> ("zero3", 8); None -> None. Raises :class:`PreflightError` otherwise."""
    if text is None:
        return None
    strategy, _, n = str(text).partition(":")
    if strategy not in STRATEGIES or not n.isdigit() or int(n) < 1:
        raise PreflightError(f"--preflight_sharding must be STRATEGY:PROCESSES with STRATEGY one of {list(STRATEGIES)}, "
                             f"e.g. zero3:8 (the 8-GPU ZeRO-3 recipes); got {text!r}")
    return strategy, int(n)


@dataclass
class DryRun:
    """The pre-flight of a run, made without weights: per-frame budgets, the memory estimate, and the report."""

    files: ModelFiles
    budgets: list[PromptBudget]
    exact_text: bool
    memory: MemoryEstimate
    lines: list[str] = field(default_factory=list)

    @property
    def longest_prompt(self) -> int:
        return max(b.prompt_tokens for b in self.budgets)


def _cells_frames(cells: Sequence[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, tuple[int, int], str]]:
    """(key, model frame size, prompt) per (game, preset, knobs) a run trains on."""
    import warnings

    from ..core.env import G1Env

    out = []
    for game, preset, knobs in cells:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            env = G1Env(game, difficulty=preset, render_mode=None, **knobs)
        out.append((f"{game}/{preset}", tuple(env.model_frame_size), env.prompt))
    return out


def dry_run(cells: Sequence[tuple[str, str, dict[str, Any]]], files: ModelFiles, *, min_pixels: int | None,
            max_pixels: int | None, completion_tokens: int, micro_batch: int, lora: Any = None, weight_bytes: int = 2,
            beta: float = 0.0, gradient_checkpointing: bool = True, vllm: str | None = None,
            vllm_gpu_memory_utilization: float = 0.0, vllm_max_model_length: int | None = None,
            gpu_memory_gb: float | None = None, sharding: tuple[str, int] | None = None,
            system_prompt: str | None = None, check_lengths: bool = True) -> DryRun:
    """The pre-flight of a run on ``cells`` = (game, preset, knobs) with the model ``files`` describe.

    Args:
        min_pixels / max_pixels: the trainer's processor bounds (None: the model's own).
        completion_tokens: ``max_completion_length`` (GRPO) or the longest answer (SFT).
        vllm: None (no vLLM), ``"colocate"`` or ``"server"``: then the trainer's and vLLM's image sizes must agree.
        gpu_memory_gb: the GPU to check the estimate against (None: what torch sees; none on a CPU).
        sharding: (strategy, processes), e.g. ("zero3", 8); None: what ``accelerate launch`` set, else ddp x 1.

    Raises:
        PreflightError: the images would differ between vLLM and the trainer, a prompt + completion cannot fit, or
            the memory estimate exceeds the GPU.
    """
    from ..models.preflight import context_length
    from .preflight import check_grpo_lengths, check_memory, gpu_memory_bytes
    from .preflight import sharding as launched

    own = files.grid
    if own is None:
        raise PreflightError(f"{files.model_id}: its processor is not of the Qwen2-VL family (no patch_size/merge_size "
                             "in preprocessor_config.json); the dry run knows only that family's image arithmetic")
    trainer = vision_grid(files.processor_config, min_pixels, max_pixels)
    if trainer.min_pixels > trainer.max_pixels:
        raise PreflightError(f"--min_pixels {trainer.min_pixels} exceeds --max_pixels {trainer.max_pixels}")
    frames = _cells_frames(cells)
    lines = [f"model {files.model_id}: config files {files.where}" + ("" if files.processor is not None else
             " (no tokenizer at hand: text tokens are upper bounds)")]
    if vllm:
        lines += check_image_agreement([(k, s) for k, s, _ in frames], trainer, own)
    budgets, exact = [], True
    for (key, (w, h), prompt), (game, preset, _) in zip(frames, cells):
        text, is_exact = text_tokens(files, prompt, system_prompt)
        exact &= is_exact
        n_img = image_tokens(w, h, trainer)
        budgets.append(PromptBudget(game, preset, (w, h), resized_size(w, h, trainer), n_img, text + n_img,
                                    exact=is_exact))
    if check_lengths:
        vllm_len = vllm_max_model_length if vllm else None
        try:
            lines += check_grpo_lengths(budgets, completion_tokens, context_length(files.config), vllm_len)
        except PreflightError as e:
            if exact:
                raise
            lines += [b.line() for b in budgets]
            lines.append(f"NOTE: with upper bounds on the text, {e} Cache the tokenizer ({files.model_id}) for the "
                         "exact count.")
    strategy, processes = sharding or launched()
    gpu = float(gpu_memory_gb) * 1024**3 if gpu_memory_gb else gpu_memory_bytes(None)
    lora_params = count_parameters(files.config, lora) if lora is not None else None
    params = lora_params or _params(files.config)
    estimate = estimate_memory(
        files.config, micro_batch=micro_batch, prompt_tokens=max(b.prompt_tokens for b in budgets),
        completion_tokens=completion_tokens, lora=lora, weight_bytes=weight_bytes, beta=beta,
        gradient_checkpointing=gradient_checkpointing,
        vllm_colocate_fraction=vllm_gpu_memory_utilization if vllm == "colocate" else 0.0, gpu_bytes=gpu,
        strategy=strategy, processes=processes, params=params)
    lines.append(f"sharding: {strategy} over {processes} process(es)")
    lines += check_memory(estimate)
    if gpu is None:
        lines.append("no GPU here: give --gpu_memory_gb (e.g. 80) to check the estimate against a GPU")
    return DryRun(files, budgets, exact, estimate, lines)


_PARAMS: dict[str, tuple[int, int]] = {}


def _params(config: Any) -> tuple[int, int]:
    """(total, trainable) of a full fine-tune, counted once per config in this process (a 72B model takes seconds
    to build on the meta device)."""
    key = config.to_json_string()
    if key not in _PARAMS:
        _PARAMS[key] = count_parameters(config)
    return _PARAMS[key]


__all__ = ["DryRun", "ModelFiles", "SHIPPED_MODELS", "STRATEGIES", "check_image_agreement", "dry_run", "model_files",
           "parse_sharding", "shipped_model_dir", "text_tokens"]

"""Pre-flight checks before a training run: lengths and memory, with a clear error instead of a silent
truncation or an out-of-memory an hour in.

* **Lengths.** A game frame becomes a few hundred image tokens (Qwen2.5-VL: one token per 28 x 28 pixels
  after the processor's resize between ``min_pixels`` and ``max_pixels``). :func:`prompt_budgets` runs the
  real processor on one frame of every (game, preset) the run trains on and counts the prompt's tokens
  exactly; :func:`check_grpo_lengths` and :func:`check_sft_lengths` compare them with the run's limits
  (the model's context, vLLM's ``max_model_len``, SFT's ``max_length``). The G1 paper's own trainer cut
  prompts at 1,024 tokens from the right (spec section 9, item 12): here nothing is cut silently.
* **Memory.** :func:`estimate_memory` adds up, per GPU, the weights, gradients and optimizer states (LoRA:
  only the adapter's), the reference model (when ``beta > 0`` and no LoRA), vLLM's share in colocate mode,
  activations (with or without gradient checkpointing) and the logits of a micro-batch, with ZeRO-3 / FSDP
  sharding over the processes. Parameter counts are exact (the model is built on the meta device, LoRA
  applied to it); the rest is an upper-bound estimate, printed term by term.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

GB = 1024**3


class PreflightError(RuntimeError):
    """The run would truncate its inputs or run out of memory; the message says which flag to change."""


# -- lengths ----------------------------------------------------------------------------------------------
@dataclass
class PromptBudget:
    """Tokens of one (game, preset) prompt: the frame's image tokens and the whole templated prompt."""

    game: str
    difficulty: str
    frame: tuple[int, int]  # (width, height) as rendered
    model_image: tuple[int, int] | None  # (width, height) after the processor's resize, when it says
    image_tokens: int
    prompt_tokens: int
    exact: bool = True  # False: prompt_tokens is an upper bound (the text counted without the model's tokenizer)

    def line(self) -> str:
        resized = f" -> {self.model_image[0]}x{self.model_image[1]}" if self.model_image else ""
        prompt = (f"{self.prompt_tokens} prompt tokens" if self.exact else
                  f"at most {self.prompt_tokens} prompt tokens (an upper bound: no tokenizer to count the text with)")
        return (f"{self.game}/{self.difficulty}: frame {self.frame[0]}x{self.frame[1]}{resized}, "
                f"{self.image_tokens} image tokens, {prompt}")


def _image_token_id(processor: Any) -> int | None:
    token = getattr(processor, "image_token", None) or "<|image_pad|>"
    tid = processor.tokenizer.convert_tokens_to_ids(token)
    return tid if isinstance(tid, int) and tid != processor.tokenizer.unk_token_id else None


def prompt_budget(processor: Any, row: dict[str, Any]) -> PromptBudget:
    """Count the tokens of one training row (``prompt`` messages + ``image``) exactly as TRL will feed them."""
    text = processor.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=False)
    enc = processor(text=[text], images=[row["image"]], return_tensors="pt")
    ids = enc["input_ids"][0]
    tid = _image_token_id(processor)
    image_tokens = int((ids == tid).sum()) if tid is not None else 0
    model_image = None
    grid = enc.get("image_grid_thw")
    patch = getattr(getattr(processor, "image_processor", None), "patch_size", None)
    if grid is not None and patch:
        _, gh, gw = (int(v) for v in grid[0])
        model_image = (gw * patch, gh * patch)
    return PromptBudget(row["game"], row["difficulty"], tuple(row["image"].size), model_image, image_tokens, int(ids.shape[0]))


def prompt_budgets(processor: Any, cells: Iterable[tuple[str, str, dict[str, Any]]],
                   system_prompt: str | None = None) -> list[PromptBudget]:
    """One :class:`PromptBudget` per (game, preset, overrides): frame size and prompt depend on the config only."""
    import warnings

    from ..core.env import G1Env
    from .states import GRPO_SEED_BASE, env_row

    out = []
    for game, preset, overrides in cells:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            env = G1Env(game, difficulty=preset, **overrides)
        env.reset(seed=GRPO_SEED_BASE)
        out.append(prompt_budget(processor, env_row(env, {"difficulty": preset, "seed": GRPO_SEED_BASE}, system_prompt)))
    return out


def check_grpo_lengths(budgets: Sequence[PromptBudget], max_completion_length: int, context: int | None,
                       vllm_max_model_length: int | None = None) -> list[str]:
    """Raise :class:`PreflightError` if a prompt plus a full-length completion exceeds a limit; returns notes."""
    longest = max(budgets, key=lambda b: b.prompt_tokens)
    need = longest.prompt_tokens + max_completion_length
    limits = [(context, "the model's context (max_position_embeddings)", "a smaller --max_completion_length or "
               "--max_pixels")]
    if vllm_max_model_length:
        limits.append((vllm_max_model_length, "--vllm_max_model_length", "a larger --vllm_max_model_length, a "
                       "smaller --max_completion_length or --max_pixels"))
    for limit, what, fix in limits:
        if limit is not None and need > limit:
            raise PreflightError(f"{longest.game}/{longest.difficulty}: prompt {longest.prompt_tokens} tokens "
                                 f"({longest.image_tokens} of them image) + max_completion_length "
                                 f"{max_completion_length} = {need} > {what} {limit}; completions would be cut. "
                                 f"Use {fix}.")
    return [b.line() for b in budgets] + [f"longest prompt + completion: {need} tokens"]


def check_sft_lengths(budgets: Sequence[PromptBudget], answer_tokens: dict[tuple[str, str], int],
                      max_length: int | None, context: int | None) -> list[str]:
    """SFT: the longest (prompt + answer) per (game, preset) against ``max_length`` and the model's context."""
    worst, need = None, 0
    for b in budgets:
        n = b.prompt_tokens + answer_tokens.get((b.game, b.difficulty), 0) + 2  # the closing <|im_end|>\n
        if n > need:
            worst, need = b, n
    for limit, what in ((max_length, "--max_length"), (context, "the model's context")):
        if limit is not None and worst is not None and need > limit:
            raise PreflightError(f"{worst.game}/{worst.difficulty}: the longest example is {need} tokens "
                                 f"({worst.image_tokens} image tokens) > {what} {limit}; it would be truncated "
                                 "(TRL cuts the end: the answer). Set --max_length None or >= "
                                 f"{need}, or a smaller --max_pixels.")
    return [b.line() for b in budgets] + [f"longest SFT example: {need} tokens"]


# -- memory -----------------------------------------------------------------------------------------------
@dataclass
class MemoryEstimate:
    """Per-GPU memory of a training run, term by term (bytes)."""

    terms: dict[str, float] = field(default_factory=dict)
    total_params: int = 0
    trainable_params: int = 0
    gpu_bytes: float | None = None

    @property
    def total(self) -> float:
        return sum(self.terms.values())

    def lines(self) -> list[str]:
        out = [f"parameters: {self.total_params / 1e9:.2f} B total, {self.trainable_params / 1e6:.1f} M trainable"]
        out += [f"  {k}: {v / GB:.1f} GiB" for k, v in self.terms.items()]
        gpu = f" of {self.gpu_bytes / GB:.0f} GiB" if self.gpu_bytes else ""
        out.append(f"  estimated peak per GPU: {self.total / GB:.1f} GiB{gpu}")
        return out


def count_parameters(model_config: Any, lora: Any = None) -> tuple[int, int]:
    """(total, trainable) parameters of the model ``model_config`` describes, LoRA (a peft config) applied,
    counted on the meta device (no weights are loaded or allocated)."""
    import warnings

    from accelerate import init_empty_weights
    from transformers import AutoModelForImageTextToText

    with warnings.catch_warnings(), init_empty_weights():
        warnings.simplefilter("ignore")
        model = AutoModelForImageTextToText.from_config(model_config)
    total = sum(p.numel() for p in model.parameters())
    if lora is None:
        return total, total
    from peft import get_peft_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peft_model = get_peft_model(model, lora)
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    return total, trainable


def sharding() -> tuple[str, int]:
    """How ``accelerate launch`` shards the model: ("zero3" | "zero2" | "zero1" | "fsdp" | "ddp", processes)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true":
        return "fsdp", world
    if os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true":
        return f"zero{os.environ.get('ACCELERATE_DEEPSPEED_ZERO_STAGE', '3')}", world
    return "ddp", world


def estimate_memory(model_config: Any, *, micro_batch: int, prompt_tokens: int, completion_tokens: int,
                    lora: Any = None, weight_bytes: int = 2, beta: float = 0.0, gradient_checkpointing: bool = True,
                    vllm_colocate_fraction: float = 0.0, gpu_bytes: float | None = None,
                    strategy: str = "ddp", processes: int = 1, params: tuple[int, int] | None = None) -> MemoryEstimate:
    """An upper-bound estimate of the peak memory per GPU of a GRPO or SFT step.

    Args:
        model_config: the model's ``transformers`` config.
        micro_batch: ``per_device_train_batch_size``.
        prompt_tokens / completion_tokens: the longest prompt and the completion (answer) budget.
        lora: the peft config, or None for full fine-tuning.
        weight_bytes: 2 for bf16/fp16 weights, 4 for fp32.
        beta: GRPO's KL coefficient (a reference model is kept when > 0 and there is no LoRA).
        vllm_colocate_fraction: ``vllm_gpu_memory_utilization`` when vLLM runs colocated, else 0.
        gpu_bytes: the GPU's memory (only recorded, for the report).
        strategy / processes: from :func:`sharding`.
        params: (total, trainable) if already counted.
    """
    total, trainable = params or count_parameters(model_config, lora)
    text = model_config.get_text_config()
    hidden, layers, vocab = int(text.hidden_size), int(text.num_hidden_layers), int(text.vocab_size)
    shard_all = processes if strategy in ("zero3", "fsdp") else 1
    shard_states = processes if strategy in ("zero1", "zero2", "zero3", "fsdp") else 1
    shard_grads = processes if strategy in ("zero2", "zero3", "fsdp") else 1
    terms: dict[str, float] = {}
    terms["weights"] = total * weight_bytes / shard_all
    terms["gradients"] = trainable * weight_bytes / shard_grads
    # AdamW: two fp32 moments, plus an fp32 master copy of the trainable weights under mixed precision
    terms["optimizer (AdamW)"] = trainable * (8 + (4 if weight_bytes < 4 else 0)) / shard_states
    if beta > 0 and lora is None:
        terms["reference model"] = total * weight_bytes / shard_all
    if vllm_colocate_fraction > 0 and gpu_bytes:
        terms["vLLM colocate"] = vllm_colocate_fraction * gpu_bytes
    seq = prompt_tokens + completion_tokens
    if gradient_checkpointing:  # one hidden state per layer kept, one layer's activations recomputed at a time
        terms["activations"] = micro_batch * seq * hidden * weight_bytes * (layers + 34)
    else:  # ~34 bytes-per-element worth of activations per layer (Korthikanti et al. 2022, flash attention)
        terms["activations"] = micro_batch * seq * hidden * layers * 17 * weight_bytes
    # logits of the completion tokens and their gradient, plus one sequence's fp32 log-softmax at a time (TRL
    # computes the log-probabilities row by row)
    terms["logits"] = micro_batch * completion_tokens * vocab * 2 * weight_bytes + completion_tokens * vocab * 4
    terms["CUDA context and buffers"] = 1.5 * GB
    return MemoryEstimate(terms, total, trainable, gpu_bytes)


def gpu_memory_bytes(gpu_memory_gb: float | None = None) -> float | None:
    """The GPU's memory: ``gpu_memory_gb`` when given, else what torch sees on device 0, else None."""
    if gpu_memory_gb:
        return float(gpu_memory_gb) * GB
    try:
        import torch

        if torch.cuda.is_available():
            return float(torch.cuda.get_device_properties(0).total_memory)
    except Exception:  # noqa: BLE001 - no torch or no driver: nothing to compare with
        pass
    return None


def check_memory(estimate: MemoryEstimate, headroom: float = 0.95) -> list[str]:
    """Raise :class:`PreflightError` when the estimate exceeds ``headroom`` of the GPU's memory."""
    lines = estimate.lines()
    if estimate.gpu_bytes and estimate.total > headroom * estimate.gpu_bytes:
        biggest = max(estimate.terms, key=estimate.terms.get)
        raise PreflightError(
            f"estimated {estimate.total / GB:.1f} GiB per GPU > {headroom:.0%} of {estimate.gpu_bytes / GB:.0f} GiB "
            f"(largest term: {biggest}). Lower --per_device_train_batch_size (raise --gradient_accumulation_steps to "
            "keep the batch), --max_completion_length or --vllm_gpu_memory_utilization; use LoRA (--use_peft) or "
            "ZeRO-3/FSDP over more GPUs (training/accelerate_configs/); or --preflight warn to go on anyway.\n"
            + "\n".join(lines))
    return lines


__all__ = ["GB", "MemoryEstimate", "PreflightError", "PromptBudget", "check_grpo_lengths", "check_memory",
           "check_sft_lengths", "count_parameters", "estimate_memory", "gpu_memory_bytes",
           "prompt_budget", "prompt_budgets", "sharding"]

"""Pre-flight of a model run: image tokens per frame and the context a step needs, before any engine loads.

A vLLM engine reserves KV cache for ``--max-model-len`` tokens per sequence; a step of g1bench sends one
frame and the game's prompt and lets the model write up to ``--max-new-tokens`` (with the ``history`` knob at
k, one chat of k + 1 frames, k + 1 prompts, the k past answers and their k feedback lines). Too small a
``--max-model-len`` fails every request after a multi-minute engine start (or, worse, truncates), too
large one may not fit the GPU. So before loading, g1bench states what each of the suite's frames costs at
the chosen ``--max-pixels`` and refuses a context that cannot hold prompt + frame + answer.

The image arithmetic is that of the Qwen2-VL family's processors (Qwen2-VL, Qwen2.5-VL, and the many
models that reuse their image processor): a frame is resized to sides that are multiples of
``patch_size * merge_size`` (28 px) with its area kept within ``[min_pixels, max_pixels]``
(:func:`resized_size`, the processors' ``smart_resize``), cut into 14 px patches, and every 2 x 2 patches
merge into one token (:func:`image_tokens`). Frame sizes come from the suite (each env version's
``frame_size``); the text's tokens from the model's own tokenizer and chat template.

Everything but :func:`prompt_tokens` / :func:`grid_from_processor` is pure and needs neither torch nor vLLM.

Example::

    >>> image_tokens(672, 672, VisionGrid(max_pixels=1003520))   # a 6x6 Shisen-Sho frame, 84 px cells
    576
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .config import ModelError

#: The Qwen2-VL image processor's defaults (transformers ``Qwen2VLImageProcessor``).
QWEN2_VL_MIN_PIXELS = 56 * 56
QWEN2_VL_MAX_PIXELS = 14 * 14 * 4 * 1280


@dataclass(frozen=True)
class VisionGrid:
    """How a Qwen2-VL-family processor turns an image into tokens."""

    patch_size: int = 14
    merge_size: int = 2
    min_pixels: int = QWEN2_VL_MIN_PIXELS
    max_pixels: int = QWEN2_VL_MAX_PIXELS

    @property
    def factor(self) -> int:
        """Resized sides are multiples of this (28 px for Qwen2-VL)."""
        return self.patch_size * self.merge_size


def resized_size(width: int, height: int, grid: VisionGrid) -> tuple[int, int]:
    """The (width, height) the processor resizes a frame to (``smart_resize`` of the Qwen2-VL processors):
    sides rounded to multiples of ``grid.factor``, area scaled into ``[min_pixels, max_pixels]``."""
    if width < 1 or height < 1:
        raise ValueError(f"a frame needs positive sides, got {width}x{height}")
    f = grid.factor
    h_bar, w_bar = round(height / f) * f, round(width / f) * f
    if h_bar * w_bar > grid.max_pixels:
        beta = math.sqrt((height * width) / grid.max_pixels)
        h_bar = max(f, math.floor(height / beta / f) * f)
        w_bar = max(f, math.floor(width / beta / f) * f)
    elif h_bar * w_bar < grid.min_pixels:
        beta = math.sqrt(grid.min_pixels / (height * width))
        h_bar = math.ceil(height * beta / f) * f
        w_bar = math.ceil(width * beta / f) * f
    return w_bar, h_bar


def image_tokens(width: int, height: int, grid: VisionGrid) -> int:
    """Tokens one frame of ``width`` x ``height`` becomes: (resized area / patch area) / merge_size**2."""
    w, h = resized_size(width, height, grid)
    return (w // grid.patch_size) * (h // grid.patch_size) // (grid.merge_size ** 2)


def vision_grid(processor_config: Mapping[str, Any], min_pixels: int | None = None,
                max_pixels: int | None = None) -> VisionGrid | None:
    """The grid of a processor config document (``preprocessor_config.json``, or ``processor_config.json``
    whose ``image_processor`` holds it), with ``--min-pixels``/``--max-pixels`` applied; None when it is not
    a Qwen2-VL-family image processor (no ``patch_size`` and ``merge_size``).

    Pixel bounds are read as ``min_pixels``/``max_pixels`` (transformers 4) or ``size.shortest_edge`` /
    ``size.longest_edge`` (transformers 5, which names the area bounds so).
    """
    cfg = processor_config.get("image_processor", processor_config)
    if not isinstance(cfg, Mapping):
        return None
    patch, merge = cfg.get("patch_size"), cfg.get("merge_size")
    if not isinstance(patch, int) or not isinstance(merge, int) or patch < 1 or merge < 1:
        return None
    size = cfg.get("size") if isinstance(cfg.get("size"), Mapping) else {}
    lo = cfg.get("min_pixels") or size.get("shortest_edge") or QWEN2_VL_MIN_PIXELS
    hi = cfg.get("max_pixels") or size.get("longest_edge") or QWEN2_VL_MAX_PIXELS
    return VisionGrid(patch, merge, int(min_pixels if min_pixels is not None else lo),
                      int(max_pixels if max_pixels is not None else hi))


def grid_from_processor(processor: Any, min_pixels: int | None = None, max_pixels: int | None = None) -> VisionGrid | None:
    """:func:`vision_grid` of a loaded transformers processor (its image processor's attributes)."""
    ip = getattr(processor, "image_processor", processor)
    size = getattr(ip, "size", None)
    size = dict(size) if isinstance(size, Mapping) else {k: getattr(size, k) for k in ("shortest_edge", "longest_edge")
                                                           if getattr(size, k, None) is not None}
    doc = {"patch_size": getattr(ip, "patch_size", None), "merge_size": getattr(ip, "merge_size", None),
           "min_pixels": getattr(ip, "min_pixels", None), "max_pixels": getattr(ip, "max_pixels", None), "size": size}
    return vision_grid(doc, min_pixels, max_pixels)


@dataclass(frozen=True)
class FrameCost:
    """What one (game, difficulty, history) of a suite costs a model per step."""

    key: str
    frame: tuple[int, int]
    resized: tuple[int, int]
    image_tokens: int  # per frame
    text_tokens: int | None  # the templated chat without the images (None: no tokenizer to count with)
    history: int = 0  # past turns in the chat: history + 1 frames, and history past answers

    @property
    def frames(self) -> int:
        """Frames in one step's chat."""
        return self.history + 1

    @property
    def prompt_tokens(self) -> int | None:
        """The chat's tokens with its frames, without the past answers (each up to --max-new-tokens)."""
        return None if self.text_tokens is None else self.text_tokens + self.frames * self.image_tokens

    def needed(self, max_new_tokens: int) -> int | None:
        """Chat + frames + the past answers and the new one, each of up to ``max_new_tokens``."""
        return None if self.prompt_tokens is None else self.prompt_tokens + self.frames * max_new_tokens


@dataclass
class Preflight:
    """The suite's frames and prompts against the model's context: :meth:`check` refuses what cannot fit."""

    costs: list[FrameCost]
    max_new_tokens: int
    max_model_len: int | None
    limit_name: str = "--max-model-len"
    notes: list[str] = field(default_factory=list)

    @property
    def needed(self) -> int | None:
        """Prompt + frame + answer tokens of the costliest step (None when the text could not be counted)."""
        if not self.costs or any(c.prompt_tokens is None for c in self.costs):
            return None
        return max(c.needed(self.max_new_tokens) for c in self.costs)  # type: ignore[type-var]

    def summary(self) -> str:
        """One line per (game, difficulty): frame size, resized size, image tokens, prompt tokens."""
        lines = []
        for c in self.costs:
            many = f" x {c.frames} frames (history {c.history})" if c.history else ""
            text = ""
            if c.prompt_tokens is not None:
                text = (f", chat {c.prompt_tokens} tokens with the frames and past feedback" if c.history else
                        f", prompt {c.prompt_tokens} tokens with the frame")
            lines.append(f"pre-flight: {c.key}: frame {c.frame[0]}x{c.frame[1]} -> {c.resized[0]}x{c.resized[1]}, "
                         f"{c.image_tokens} image tokens{many}{text}")
        need = self.needed
        if need is not None:
            limit = f" of {self.limit_name} {self.max_model_len}" if self.max_model_len else ""
            past = max(c.history for c in self.costs)
            answers = (f" --max-new-tokens {self.max_new_tokens} for the answer and each of up to {past} past answers"
                       if past else f" --max-new-tokens {self.max_new_tokens}")
            lines.append(f"pre-flight: a step needs up to {need} tokens (prompt + frame{'s' if past else ''} +"
                         f"{answers}){limit}")
        lines += [f"pre-flight: {n}" for n in self.notes]
        return "\n".join(lines)

    def check(self) -> "Preflight":
        """Raise :class:`ModelError` when ``max_model_len`` cannot hold the costliest step."""
        need = self.needed
        if self.max_model_len is None or need is None or need <= self.max_model_len:
            return self
        worst = max(self.costs, key=lambda c: c.needed(self.max_new_tokens) or 0)
        room = (self.max_model_len - (worst.prompt_tokens or 0)) // worst.frames
        fix = (f"lower --max-new-tokens to {room} or less, or " if room >= 1 else "") + \
              f"raise {self.limit_name} to {need} or more"
        if worst.image_tokens > 256:
            fix += " (or lower --max-pixels: fewer image tokens per frame)"
        if worst.history:
            raise ModelError(
                f"{self.limit_name} {self.max_model_len} cannot hold a step of {worst.key}: with history {worst.history} "
                f"its chat is {worst.prompt_tokens} tokens ({worst.frames} frames of {worst.image_tokens} tokens, "
                f"{worst.frame[0]}x{worst.frame[1]}) + up to {self.max_new_tokens} tokens for each of {worst.history} "
                f"past answers and the new one = {need}; {fix}")
        raise ModelError(f"{self.limit_name} {self.max_model_len} cannot hold a step of {worst.key}: its prompt is "
                         f"{worst.prompt_tokens} tokens ({worst.image_tokens} for the {worst.frame[0]}x{worst.frame[1]} "
                         f"frame) + up to {self.max_new_tokens} new tokens = {need}; {fix}")

    def to_dict(self) -> dict[str, Any]:
        """For provenance: image tokens (and prompt tokens) per (game, difficulty)."""
        return {c.key: {"frame": list(c.frame), "resized": list(c.resized), "image_tokens": c.image_tokens,
                        **({"frames": c.frames} if c.history else {}),
                        **({"prompt_tokens": c.prompt_tokens} if c.prompt_tokens is not None else {})}
                for c in self.costs}


def plan(frames: Iterable[tuple], grid: VisionGrid, max_new_tokens: int, max_model_len: int | None,
         limit_name: str = "--max-model-len") -> Preflight:
    """The pre-flight of ``frames`` = (key, (width, height), text tokens or None[, history]) under ``grid``."""
    costs = [FrameCost(key, (int(w), int(h)), resized_size(w, h, grid), image_tokens(w, h, grid), text,
                       int(history[0]) if history else 0)
             for key, (w, h), text, *history in frames]
    return Preflight(costs, max_new_tokens, max_model_len, limit_name)


def suite_frames(suite: Any) -> list[tuple[str, tuple[int, int], str, int]]:
    """(key, size of the picture the model is given, prompt, history) per distinct (game, difficulty, overrides) of
    a suite, from one env of each (its ``model_frame_size``: the paper presets' G1 sizes, else the frame as drawn;
    its ``history`` knob: past turns in the chat)."""
    import json

    out, seen = [], set()
    for e in suite.episodes:
        key = f"{e.group}|{json.dumps(dict(e.overrides), sort_keys=True)}"
        if key in seen:
            continue
        seen.add(key)
        env = e.make_env(render_mode=None)
        w, h = env.model_frame_size
        shown = {k: v for k, v in e.overrides.items() if k != "history"}  # the group key names the history
        out.append((e.group + ("" if not shown else f" {shown}"), (int(w), int(h)), env.prompt, env.config.history))
    return out


def prompt_tokens(processor: Any, prompt: str, system_prompt: str | None = None, history: int = 0) -> int | None:
    """Tokens of one step's templated chat without the images' own tokens (an image placeholder, e.g.
    Qwen's ``<|vision_start|><|image_pad|><|vision_end|>``, counts its start/end markers and not the pad);
    None when the processor has no tokenizer or chat template. With ``history`` k the chat holds k past turns,
    each with an empty answer (the caller adds up to --max-new-tokens per answer) and the longest feedback line
    the wording allows (:func:`g1bench.core.feedback.longest_line`)."""
    import numpy as np

    from ..core.feedback import longest_line
    from ..eval.policies import PastTurn, Turn
    from .messages import hf_messages

    tok = getattr(processor, "tokenizer", None)
    if tok is None:
        return None
    frame = np.zeros((28, 28, 3), dtype=np.uint8)
    past = tuple(PastTurn(frame, "", longest_line()) for _ in range(history))
    turn = Turn(game="", frame=frame, prompt=prompt, state={}, history=past)
    try:
        text = processor.apply_chat_template(hf_messages(turn, system_prompt), add_generation_prompt=True, tokenize=False)
    except Exception:  # noqa: BLE001 - no chat template: the backend says so with its own message
        return None
    ids = tok(text, add_special_tokens=False)["input_ids"]
    pad = getattr(processor, "image_token", None)
    pad_id = tok.convert_tokens_to_ids(pad) if pad else None
    return len(ids) - (ids.count(pad_id) if pad_id is not None else 0)


def preflight_suite(suite: Any, processor: Any, grid: VisionGrid, max_new_tokens: int, max_model_len: int | None,
                    system_prompt: str | None = None, limit_name: str = "--max-model-len") -> Preflight:
    """:func:`plan` for a suite: its frames, and its prompts counted with ``processor``'s tokenizer."""
    frames = [(key, size, prompt_tokens(processor, prompt, system_prompt, history), history)
              for key, size, prompt, history in suite_frames(suite)]
    return plan(frames, grid, max_new_tokens, max_model_len, limit_name)


def context_length(config: Any) -> int | None:
    """A transformers model config's context length (``max_position_embeddings``, of its text model for VLMs)."""
    for c in (getattr(config, "text_config", None), config):
        n = getattr(c, "max_position_embeddings", None) if c is not None else None
        if isinstance(n, int) and n > 0:
            return n
    return None


def for_model(suite: Any, processor: Any, cfg: Any, max_model_len: int | None, limit_name: str = "--max-model-len",
              log: Any = None) -> Preflight | None:
    """The pre-flight of ``suite`` for a model whose processor is loaded: states each frame's image tokens (via
    ``log``, default stderr) and refuses (:class:`ModelError`) a ``max_model_len`` that cannot hold a step.
    None when the processor is not of the Qwen2-VL family (its image arithmetic is unknown here)."""
    import sys

    grid = grid_from_processor(processor, cfg.min_pixels, cfg.max_pixels)
    if grid is None:
        return None
    pf = preflight_suite(suite, processor, grid, cfg.max_new_tokens, max_model_len, cfg.system_prompt, limit_name)
    (log or (lambda text: print(text, file=sys.stderr, flush=True)))(pf.summary())
    return pf.check()


__all__ = ["VisionGrid", "FrameCost", "Preflight", "resized_size", "image_tokens", "vision_grid",
           "grid_from_processor", "plan", "suite_frames", "prompt_tokens", "preflight_suite", "context_length", "for_model",
           "QWEN2_VL_MIN_PIXELS", "QWEN2_VL_MAX_PIXELS"]

"""What a model is sent: chat messages and request bodies built from turns, as pure functions.

Every backend sends the same conversation per turn: an optional system message, then one user message
holding the game frame and the game's versioned prompt (image first, then text)::

    [{"role": "system", "content": SYSTEM},                       # only with --system-prompt
     {"role": "user", "content": [<image part>, {"type": "text", "text": turn.prompt}]}]

With the ``history`` knob at k > 0 (:mod:`g1bench.eval.history`) the turn carries up to k past turns of the
current game, and the chat holds them first, oldest first, each answered by the model; the feedback line on an
answer (:mod:`g1bench.core.feedback`) opens the next user message. With two past turns::

    [{"role": "system", ...},                                     # only with --system-prompt
     {"role": "user", "content": [<image t-2>, <text prompt>]},
     {"role": "assistant", "content": <answer t-2>},
     {"role": "user", "content": [<text feedback t-2>, <image t-1>, <text prompt>]},
     {"role": "assistant", "content": <answer t-1>},
     {"role": "user", "content": [<text feedback t-1>, <image t>, <text prompt>]}]

so k + 1 images in one request, and with k = 0 exactly the single-step chat above. (An assistant message's
content is a string for OpenAI-style messages and a list with one text part for transformers templates.)

The image part differs by backend: transformers processors take ``{"type": "image"}`` placeholders with
the images passed beside the text; OpenAI-compatible servers take ``{"type": "image_url", "image_url":
{"url": "data:image/png;base64,..."}}``; vLLM's ``LLM.chat`` takes either that or ``{"type": "image_pil",
"image_pil": <PIL image>}`` (vLLM >= 0.10, no PNG round trip).

Nothing here imports torch, transformers or vllm, so the request construction is unit-tested anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any, Sequence

import numpy as np

from ..core.hashing import content_hash
from ..eval.history import seed_id
from ..eval.policies import Turn
from .config import ModelConfig


# -- images -----------------------------------------------------------------------------------------
def to_pil(frame: np.ndarray):
    """An HxWx3 uint8 frame as a PIL RGB image."""
    from PIL import Image

    if isinstance(frame, Image.Image):
        return frame.convert("RGB")
    arr = np.asarray(frame)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 frame, got shape {arr.shape} dtype {arr.dtype}")
    return Image.fromarray(arr)


def png_bytes(frame: np.ndarray) -> bytes:
    """The frame encoded as PNG (lossless: the model sees exactly the rendered pixels)."""
    buf = io.BytesIO()
    to_pil(frame).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def png_data_url(frame: np.ndarray) -> str:
    """The frame as a ``data:image/png;base64,...`` URL (OpenAI-style image content part)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(frame)).decode("ascii")


# -- provenance helpers -----------------------------------------------------------------------------
def system_prompt_hash(system_prompt: str | None) -> str | None:
    """SHA-256 (hex, first 16) of the system prompt, or None when there is none."""
    return None if system_prompt is None else hashlib.sha256(system_prompt.encode("utf-8")).hexdigest()[:16]


def turn_seed(seed: int, turn: Turn) -> int:
    """A request's sampling seed: a function of (seed, episode, step) only, so a request gets the same
    seed whatever the batching, after a resume and at every history of the episode's seed
    (:func:`g1bench.eval.history.seed_id`). Fits in 31 bits (every server accepts it)."""
    return int(content_hash([int(seed), seed_id(turn.episode), int(turn.step)], 8), 16) & 0x7FFFFFFF


def call_seed(seed: int, turns: Sequence[Turn]) -> int:
    """One seed for a batched call (transformers samples a whole batch from one generator)."""
    return int(content_hash([int(seed), [[seed_id(t.episode), int(t.step)] for t in turns]], 8), 16) & 0x7FFFFFFF


# -- chat messages ----------------------------------------------------------------------------------
def _system(system_prompt: str | None, as_parts: bool) -> list[dict[str, Any]]:
    if system_prompt is None:
        return []
    content: Any = [{"type": "text", "text": system_prompt}] if as_parts else system_prompt
    return [{"role": "system", "content": content}]


def _chat(turn: Turn) -> list[tuple[str, Any]]:
    """The conversation of a turn as (role, content) with neutral parts: ``("image", frame)`` / ``("text", str)``
    for a user message, the answer text for an assistant message (see the module docstring)."""
    out: list[tuple[str, Any]] = []
    feedback = None
    for past in (*turn.history, None):
        frame, answer = (past.frame, past.answer) if past is not None else (turn.frame, None)
        parts: list[tuple[str, Any]] = [("text", feedback)] if feedback is not None else []
        if frame is not None:
            parts.append(("image", frame))
        parts.append(("text", turn.prompt))
        out.append(("user", parts))
        if past is not None:
            out.append(("assistant", answer))
            feedback = past.feedback
    return out


def hf_messages(turn: Turn, system_prompt: str | None = None) -> list[dict[str, Any]]:
    """Messages for a transformers processor's chat template: an image placeholder then the prompt (after the
    past turns, with ``history``).

    The frames themselves go to the processor beside the templated text (see :func:`hf_images`). Content
    is always a list of parts (every multimodal chat template accepts that).
    """
    messages = _system(system_prompt, as_parts=True)
    for role, content in _chat(turn):
        if role == "assistant":
            messages.append({"role": role, "content": [{"type": "text", "text": content}]})
        else:
            messages.append({"role": role, "content": [{"type": "image"} if kind == "image" else
                                                       {"type": "text", "text": value} for kind, value in content]})
    return messages


def turn_frames(turn: Turn) -> list:
    """The frames of one turn's chat in the order their images appear: the past turns' (oldest first), then its own."""
    return [f for f in (*(p.frame for p in turn.history), turn.frame) if f is not None]


def hf_images(turns: Sequence[Turn]) -> list:
    """The PIL images of a batch, in the order their placeholders appear (every frame of every turn's chat)."""
    return [to_pil(f) for t in turns for f in turn_frames(t)]


def openai_messages(turn: Turn, system_prompt: str | None = None, image: str = "data_url") -> list[dict[str, Any]]:
    """OpenAI-style messages: each frame as an ``image_url`` part holding a base64 PNG data URL.

    Args:
        turn: the env's turn (with ``history``: its past turns come first, see the module docstring).
        system_prompt: optional system message.
        image: ``"data_url"`` (OpenAI, vLLM serve, transformers serve) or ``"pil"`` (vLLM >= 0.10
            ``LLM.chat``: an ``image_pil`` part, no PNG round trip).
    """
    if image not in ("data_url", "pil"):
        raise ValueError(f"image must be 'data_url' or 'pil', not {image!r}")

    def part(kind: str, value: Any) -> dict[str, Any]:
        if kind == "text":
            return {"type": "text", "text": value}
        if image == "pil":
            return {"type": "image_pil", "image_pil": to_pil(value)}
        return {"type": "image_url", "image_url": {"url": png_data_url(value)}}

    messages = _system(system_prompt, as_parts=False)
    for role, content in _chat(turn):
        messages.append({"role": role, "content": content if role == "assistant" else [part(*p) for p in content]})
    return messages


# -- OpenAI-compatible requests ---------------------------------------------------------------------
def openai_request(model: str, turn: Turn, cfg: ModelConfig) -> dict[str, Any]:
    """The JSON body of one ``POST /v1/chat/completions`` for a turn."""
    body: dict[str, Any] = {
        "model": model,
        "messages": openai_messages(turn, cfg.system_prompt),
        "max_tokens": cfg.max_new_tokens,
        "temperature": cfg.temperature,
        "top_p": cfg.top_p,
        "seed": turn_seed(cfg.sampling_seed, turn),
        "stream": False,
    }
    return body


def parse_openai_response(data: dict[str, Any]) -> dict[str, Any]:
    """Text, token usage and finish reason of a chat-completions response.

    Returns:
        ``{"text": str, "input_tokens": int | None, "output_tokens": int | None, "finish_reason": str | None}``
        (``refusal`` added when the server refused). A missing or empty content is the empty string.

    Raises:
        ValueError: the body is not a chat completion (no ``choices``).
    """
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ValueError(f"not a chat completion (no choices): {str(data)[:300]}")
    choice = choices[0]
    message = choice.get("message") or {}
    content = message.get("content")
    if isinstance(content, list):  # some servers return content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    usage = data.get("usage") or {}
    out = {"text": content if isinstance(content, str) else "",
           "input_tokens": usage.get("prompt_tokens"), "output_tokens": usage.get("completion_tokens"),
           "finish_reason": choice.get("finish_reason")}
    if message.get("refusal"):
        out["refusal"] = message["refusal"]
    return out


def cost_usd(input_tokens: int | None, output_tokens: int | None, price_in: float | None,
             price_out: float | None) -> float | None:
    """The cost of one request from prices per 1M tokens; None when no price is given or usage is unknown."""
    if price_in is None and price_out is None:
        return None
    if (price_in is not None and input_tokens is None) or (price_out is not None and output_tokens is None):
        return None
    return ((input_tokens or 0) * (price_in or 0.0) + (output_tokens or 0) * (price_out or 0.0)) / 1e6


# -- vLLM -------------------------------------------------------------------------------------------
def vllm_llm_kwargs(model: str, cfg: ModelConfig, revision: str | None = None, images: int = 1) -> dict[str, Any]:
    """Keyword arguments of ``vllm.LLM(...)``: ``images`` per prompt (1 + the suite's largest ``history``),
    image-size bounds, parallelism, memory.

    ``trust_remote_code`` is always passed (False unless --trust-remote-code); ``max_model_len`` only when
    given (vLLM's default is the model's own context length); ``enforce_eager`` only when set.
    """
    kw: dict[str, Any] = {
        "model": model,
        "dtype": cfg.dtype,
        "trust_remote_code": bool(cfg.trust_remote_code),
        "tensor_parallel_size": cfg.tensor_parallel_size,
        "limit_mm_per_prompt": {"image": int(images)},
        "seed": cfg.sampling_seed,
        "gpu_memory_utilization": cfg.gpu_memory_utilization,
    }
    if revision is not None:
        kw["revision"] = revision
    if cfg.max_model_len is not None:
        kw["max_model_len"] = cfg.max_model_len
    if cfg.enforce_eager:
        kw["enforce_eager"] = True
    if cfg.data_parallel_size > 1:
        kw["data_parallel_size"] = cfg.data_parallel_size
    mm = {k: getattr(cfg, k) for k in ("min_pixels", "max_pixels") if getattr(cfg, k) is not None}
    if mm:
        kw["mm_processor_kwargs"] = mm
    return kw


def vllm_sampling_kwargs(cfg: ModelConfig, turn: Turn) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams(...)`` for one turn (greedy when temperature is 0)."""
    kw: dict[str, Any] = {"max_tokens": cfg.max_new_tokens, "temperature": cfg.temperature, "n": 1}
    if cfg.temperature > 0:
        kw["top_p"] = cfg.top_p
        kw["seed"] = turn_seed(cfg.sampling_seed, turn)
    return kw


def vllm_conversations(turns: Sequence[Turn], system_prompt: str | None = None, image: str = "pil") -> list[list[dict[str, Any]]]:
    """The conversations of one ``llm.chat(conversations, params)`` call: one per turn, in order."""
    return [openai_messages(t, system_prompt, image=image) for t in turns]


__all__ = [
    "to_pil", "png_bytes", "png_data_url", "system_prompt_hash", "turn_seed", "call_seed",
    "hf_messages", "hf_images", "turn_frames", "openai_messages", "openai_request", "parse_openai_response", "cost_usd",
    "vllm_llm_kwargs", "vllm_sampling_kwargs", "vllm_conversations",
]

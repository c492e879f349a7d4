"""Tiny random-weight vision-language models built offline, for tests and benchmarks.

:func:`build_tiny_vlm` writes a complete Hugging Face model folder (config, safetensors weights,
byte-level tokenizer, image processor, Qwen chat template) that loads with the stock
``AutoModelForImageTextToText`` / ``AutoProcessor`` and runs ``generate()`` on image + text on a CPU in
milliseconds. Nothing comes from the Hub. The weights are random: the model writes random bytes, so tests
check plumbing and the parsing of garbage, never skill.

Example::

    from g1bench.testing.tiny_vlm import build_tiny_vlm
    path = build_tiny_vlm(tmp_path / "tiny-qwen2-vl")                # Qwen2-VL
    path = build_tiny_vlm(tmp_path / "tiny-qwen25-vl", "qwen2_5_vl")  # Qwen2.5-VL
    # g1bench eval --model <path> --suite smoke

Needs ``torch``, ``torchvision`` and ``transformers>=5`` (``pip install 'g1bench[transformers]'``).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The Qwen2-VL / Qwen2.5-VL chat template (as published with the official checkpoints).
QWEN_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

#: Qwen's special tokens, in the order the official tokenizer numbers them.
QWEN_SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
]

ARCHITECTURES = ("qwen2_vl", "qwen2_5_vl")


def build_tokenizer():
    """A Qwen2 tokenizer over the 256 byte-level symbols plus the Qwen special tokens (no merges)."""
    from tokenizers import pre_tokenizers
    from transformers import Qwen2Tokenizer

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {sym: i for i, sym in enumerate(alphabet)}
    for tok in QWEN_SPECIAL_TOKENS:
        vocab[tok] = len(vocab)
    tok = Qwen2Tokenizer(vocab=vocab, merges=[], errors="replace", unk_token=None,
                         additional_special_tokens=QWEN_SPECIAL_TOKENS[1:], model_max_length=32768)
    tok.eos_token = "<|im_end|>"
    tok.pad_token = "<|endoftext|>"
    tok.padding_side = "left"
    tok.chat_template = QWEN_VL_CHAT_TEMPLATE
    return tok


def build_tiny_vlm(path: str | os.PathLike, arch: str = "qwen2_vl", *, hidden_size: int = 32, layers: int = 2,
                   min_pixels: int = 28 * 28, max_pixels: int = 112 * 112, seed: int = 0,
                   chat_template: bool = True) -> Path:
    """Write a tiny random-weight Qwen2-VL (``arch="qwen2_vl"``) or Qwen2.5-VL (``"qwen2_5_vl"``) to ``path``.

    Args:
        path: an empty or missing folder; it receives a model folder loadable by ``from_pretrained``.
        arch: ``qwen2_vl`` or ``qwen2_5_vl``.
        hidden_size / layers: width and depth of the text model (heads of 16 dims); the vision tower
            is one 16-wide layer.
        min_pixels / max_pixels: the image processor's bounds; the defaults give 1-16 visual tokens.
        seed: torch seed of the random weights (the same seed gives the same model).
        chat_template: False leaves the chat template out (to test the error for such models).

    Returns:
        ``Path(path)``.
    """
    import torch
    from transformers import AutoModelForImageTextToText, Qwen2VLImageProcessor

    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")
    path = Path(path)
    tok = build_tokenizer()
    ids = {t: tok.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS}
    head_dim = 16
    text = dict(vocab_size=len(tok), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                num_hidden_layers=layers, num_attention_heads=hidden_size // head_dim,
                num_key_value_heads=max(1, hidden_size // head_dim // 2), max_position_embeddings=32768,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
                bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
                tie_word_embeddings=True)
    if arch == "qwen2_vl":
        from transformers import Qwen2VLConfig as Config

        vision = dict(depth=1, embed_dim=16, hidden_size=hidden_size, num_heads=1, mlp_ratio=2,
                      patch_size=14, spatial_merge_size=2, temporal_patch_size=2)
    else:
        from transformers import Qwen2_5_VLConfig as Config

        vision = dict(depth=1, hidden_size=16, intermediate_size=32, num_heads=1, out_hidden_size=hidden_size,
                      patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=56,
                      fullatt_block_indexes=[0])
    config = Config(text_config=text, vision_config=vision, image_token_id=ids["<|image_pad|>"],
                    video_token_id=ids["<|video_pad|>"], vision_start_token_id=ids["<|vision_start|>"],
                    vision_end_token_id=ids["<|vision_end|>"], tie_word_embeddings=True)
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(config, dtype=torch.float32)
    with torch.no_grad():  # wide random weights: the model writes varied bytes instead of one repeated token
        for param in model.parameters():
            if param.dim() > 1:
                param.normal_(0.0, 0.3)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.generation_config.do_sample = False
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)

    from transformers.models.qwen2_vl.processing_qwen2_vl import Qwen2VLProcessor

    image_processor = Qwen2VLImageProcessor(min_pixels=min_pixels, max_pixels=max_pixels,
                                            patch_size=14, merge_size=2, temporal_patch_size=2)
    if arch == "qwen2_5_vl":
        from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor as Processor
    else:
        Processor = Qwen2VLProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    video_processor = Qwen2VLVideoProcessor(min_pixels=min_pixels, max_pixels=max_pixels)
    processor = Processor(image_processor=image_processor, tokenizer=tok, video_processor=video_processor,
                          chat_template=QWEN_VL_CHAT_TEMPLATE if chat_template else None)
    if not chat_template:
        tok.chat_template = None
    processor.save_pretrained(path)
    if not chat_template:
        for name in ("chat_template.jinja", "chat_template.json"):
            (path / name).unlink(missing_ok=True)
    return path


def scripted_reply_bias(tokenizer, text: str, step: float = 50.0) -> list:
    """``generation_kwargs={"sequence_bias": ...}`` that make any model reply exactly ``text`` (then its end token),
    turn after turn: a scripted model that still runs the real ``generate()``, tokenizer and chat template.

    Each prefix of the reply's token ids is a sequence-bias key whose bias grows with its length, so at every position
    the next token of the longest matching prefix wins by far, whatever the (random) weights say. Used to drive real
    trainers through tool calls (``tests/test_integrations_trl.py``).
    """
    ids = tokenizer.encode(text, add_special_tokens=False) + [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    return [[ids[: i + 1], step * (i + 1)] for i in range(len(ids))]


__all__ = ["build_tiny_vlm", "build_tokenizer", "scripted_reply_bias", "QWEN_VL_CHAT_TEMPLATE", "QWEN_SPECIAL_TOKENS"]

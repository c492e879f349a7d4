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
from typing import Iterable, Iterator

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


#: The 8 tokens the Qwen2.5 tokenizer numbers after :data:`QWEN_SPECIAL_TOKENS` (151657-151664).
QWEN_EXTRA_TOKENS = [
    "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>",
]


def python_sources(max_bytes: int = 4 << 20) -> Iterator[str]:
    """Python's standard-library sources (tests excluded), file by file, until ``max_bytes`` characters: English
    and code that every machine has, for :func:`build_tokenizer` to learn generic BPE merges from (no game text)."""
    import sysconfig

    size = 0
    for p in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py")):
        if size >= max_bytes:
            return
        if "test" in p.parts or "tests" in p.parts or "site-packages" in p.parts:
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        yield text[: max_bytes - size]
        size += len(text)


def _learn_merges(corpus: Iterable[str], size: int) -> list[tuple[str, str]]:
    """Byte-level BPE merges learnt from ``corpus`` (``tokenizers``' trainer, Qwen2's pre-tokenizer), at most
    ``size - 256`` of them."""
    import json

    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  min_frequency=2, show_progress=False)
    bpe.train_from_iterator(corpus, trainer)
    merges = json.loads(bpe.to_str())["model"]["merges"]
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in merges]


def build_tokenizer(regular_tokens: int | None = None, vocab_size: int | None = None,
                    corpus: Iterable[str] | None = None):
    """A Qwen2 tokenizer made offline.

    Without arguments: the 256 byte-level symbols plus the Qwen special tokens, no merges (the tiny models'
    tokenizer: text is one token per byte).

    With ``regular_tokens``, it is laid out like Qwen's own: ids ``0 .. regular_tokens-1`` are byte-level BPE
    tokens (the 256 byte symbols, then merges learnt from ``corpus``, then filler tokens no text encodes
    to), then the 14 special tokens and the 8 other Qwen2.5 added tokens, then fillers up to ``vocab_size``
    (a model's padded vocabulary), so that every id a random-weight model can sample decodes. Qwen's layout
    is ``regular_tokens=151643, vocab_size=152064`` (``<|endoftext|>`` = 151643, ``<|image_pad|>`` = 151655).
    The merges make English and the games' prompts come out at a BPE's token counts, not one token per byte.
    """
    from tokenizers import pre_tokenizers
    from transformers import Qwen2Tokenizer

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {sym: i for i, sym in enumerate(alphabet)}
    merges: list[tuple[str, str]] = []
    specials = list(QWEN_SPECIAL_TOKENS)
    if regular_tokens is not None:
        if regular_tokens < len(alphabet):
            raise ValueError(f"regular_tokens must be >= {len(alphabet)} (the byte-level symbols)")
        if corpus is not None and regular_tokens > len(alphabet):
            for a, b in _learn_merges(corpus, regular_tokens):
                if a + b not in vocab and len(vocab) < regular_tokens:
                    merges.append((a, b))
                    vocab[a + b] = len(vocab)
        while len(vocab) < regular_tokens:
            vocab[f"<|fill_{len(vocab)}|>"] = len(vocab)
        specials += QWEN_EXTRA_TOKENS
    for tok in specials:
        vocab[tok] = len(vocab)
    if vocab_size is not None:
        if vocab_size < len(vocab):
            raise ValueError(f"vocab_size {vocab_size} is smaller than the {len(vocab)} tokens laid out")
        while len(vocab) < vocab_size:
            vocab[f"<|fill_{len(vocab)}|>"] = len(vocab)
    tok = Qwen2Tokenizer(vocab=vocab, merges=merges, errors="replace", unk_token=None,
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


#: config.json keys that hold a special token's id (flat Qwen2-VL / Qwen2.5-VL layout), and the token.
_CONFIG_TOKEN_IDS = {
    "bos_token_id": "<|endoftext|>", "eos_token_id": "<|im_end|>", "vision_start_token_id": "<|vision_start|>",
    "vision_end_token_id": "<|vision_end|>", "vision_token_id": "<|vision_pad|>", "image_token_id": "<|image_pad|>",
    "video_token_id": "<|video_pad|>",
}


def _merged(base: dict, overrides: dict) -> dict:
    out = dict(base)
    for k, v in overrides.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def build_vlm_from_config(path: str | os.PathLike, config_dir: str | os.PathLike, *, overrides: dict | None = None,
                          preprocessor_overrides: dict | None = None, regular_tokens: int | None = None,
                          corpus: Iterable[str] | None = None, dtype: str = "bfloat16", device: str = "cpu",
                          seed: int = 0, never_stop: bool = False) -> Path:
    """Write a random-weight model with the architecture of a shipped config to ``path``.

    ``config_dir`` holds a Qwen2-VL / Qwen2.5-VL ``config.json`` and ``preprocessor_config.json`` (e.g. the
    published files of Qwen2.5-VL-7B-Instruct): the model is built from them (``overrides`` / ``preprocessor_overrides``
    change keys, nested dicts merged: a tiny variant of the same layout), with weights drawn by transformers'
    own initialisation, the tokenizer of :func:`build_tokenizer` laid out as the config's token ids say
    (``regular_tokens`` BPE tokens before ``<|endoftext|>``: the config's ``bos_token_id`` unless given, in
    which case the config's token ids are renumbered), the Qwen chat template and the shipped image processor.

    Args:
        dtype / device: where the weights are drawn (a 7B model: ``"bfloat16"``, ``"cuda"``).
        corpus: texts to learn BPE merges from (see :func:`build_tokenizer`).
        never_stop: zero the output rows of the stop tokens (``<|im_end|>``, ``<|endoftext|>``). A random model's
            logits are spread around 0, so greedy decoding then never picks a stop token and every answer runs to
            the length limit: throughput checks get a fixed answer length.

    Returns:
        ``Path(path)``.
    """
    import json

    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText, Qwen2VLImageProcessor

    path, config_dir = Path(path), Path(config_dir)
    doc = _merged(json.loads((config_dir / "config.json").read_text()), overrides or {})
    if doc.get("model_type") not in ARCHITECTURES:
        raise ValueError(f"{config_dir}: model_type must be one of {ARCHITECTURES}, got {doc.get('model_type')!r}")
    regular = int(regular_tokens if regular_tokens is not None else doc["bos_token_id"])
    tok = build_tokenizer(regular, vocab_size=int(doc["vocab_size"]), corpus=corpus)
    for key, token in _CONFIG_TOKEN_IDS.items():
        want = tok.convert_tokens_to_ids(token)
        if regular_tokens is None and key in doc and doc[key] != want:
            raise ValueError(f"{config_dir}: {key} is {doc[key]} but the Qwen token layout puts {token} at {want}")
        doc[key] = want
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(doc, indent=2))
    config = AutoConfig.from_pretrained(path)
    torch.manual_seed(seed)
    with torch.device(device):
        model = AutoModelForImageTextToText.from_config(config, dtype=getattr(torch, dtype))
    stops = [tok.convert_tokens_to_ids("<|im_end|>"), tok.convert_tokens_to_ids("<|endoftext|>")]
    if never_stop:
        with torch.no_grad():
            model.get_output_embeddings().weight[stops] = 0
    gen = model.generation_config
    gen.bos_token_id, gen.eos_token_id, gen.pad_token_id = stops[1], stops, stops[1]
    gen.do_sample = False
    model.save_pretrained(path)

    pre = _merged(json.loads((config_dir / "preprocessor_config.json").read_text()), preprocessor_overrides or {})
    image_processor = Qwen2VLImageProcessor(**{k: v for k, v in pre.items() if k not in ("image_processor_type", "processor_class")})
    if doc["model_type"] == "qwen2_5_vl":
        from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor as Processor
    else:
        from transformers.models.qwen2_vl.processing_qwen2_vl import Qwen2VLProcessor as Processor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    video_processor = Qwen2VLVideoProcessor(min_pixels=pre["min_pixels"], max_pixels=pre["max_pixels"])
    Processor(image_processor=image_processor, tokenizer=tok, video_processor=video_processor,
              chat_template=QWEN_VL_CHAT_TEMPLATE).save_pretrained(path)
    return path


__all__ = ["build_tiny_vlm", "build_tokenizer", "build_vlm_from_config", "python_sources", "scripted_reply_bias",
           "QWEN_VL_CHAT_TEMPLATE", "QWEN_SPECIAL_TOKENS"]

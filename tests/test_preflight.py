"""Pre-flight of a model run: image tokens per frame and the context check, before any engine loads."""

import json
import shutil

import numpy as np
import pytest

from g1bench.eval.suites import get_suite
from g1bench.models import ModelConfig, ModelError, load_policy
from g1bench.models import preflight as pf
from g1bench.models.config import add_arguments


def test_resize_and_tokens_follow_the_qwen2_vl_processor_rule():
    grid = pf.VisionGrid(max_pixels=1003520)
    assert pf.resized_size(672, 672, grid) == (672, 672)  # 24 x 28 px: kept
    assert pf.image_tokens(672, 672, grid) == (672 // 14) ** 2 // 4 == 576
    assert pf.resized_size(500, 510, grid) == (504, 504)  # rounded to multiples of 28
    small = pf.VisionGrid(max_pixels=200_000)  # 672 x 672 = 451,584 px is over: scaled down, sides floored to 28
    w, h = pf.resized_size(672, 672, small)
    assert (w, h) == (420, 420) and w * h <= 200_000 and pf.image_tokens(672, 672, small) == 15 * 15
    tiny = pf.VisionGrid(min_pixels=100_000)  # 56 x 56 is under: scaled up, sides ceiled to 28
    assert pf.resized_size(56, 56, tiny) == (336, 336)
    with pytest.raises(ValueError, match="positive"):
        pf.resized_size(0, 10, grid)


def test_resize_equals_transformers_smart_resize():
    qwen = pytest.importorskip("transformers.models.qwen2_vl.image_processing_qwen2_vl")
    rng = np.random.default_rng(0)
    for _ in range(300):
        w, h = (int(v) for v in rng.integers(28, 2000, size=2))
        lo = int(rng.integers(784, 200_000))
        hi = int(rng.integers(lo, 4_000_000))
        grid = pf.VisionGrid(min_pixels=lo, max_pixels=hi)
        h_bar, w_bar = qwen.smart_resize(h, w, factor=28, min_pixels=lo, max_pixels=hi)
        assert pf.resized_size(w, h, grid) == (w_bar, h_bar)


def test_vision_grid_reads_both_config_shapes_and_the_flags():
    flat = {"patch_size": 14, "merge_size": 2, "min_pixels": 3136, "max_pixels": 12845056}
    assert pf.vision_grid(flat) == pf.VisionGrid(14, 2, 3136, 12845056)
    nested = {"image_processor": {"patch_size": 14, "merge_size": 2, "size": {"shortest_edge": 784, "longest_edge": 12544}}}
    assert pf.vision_grid(nested) == pf.VisionGrid(14, 2, 784, 12544)
    assert pf.vision_grid(nested, max_pixels=50_176) == pf.VisionGrid(14, 2, 784, 50_176)
    assert pf.vision_grid({"image_processor": {"size": {"height": 384, "width": 384}}}) is None  # not Qwen2-VL-like


def _costs(max_new_tokens, max_model_len):
    frames = [("2048/paper", (448, 504), 300), ("swap/paper", (560, 616), 420)]
    return pf.plan(frames, pf.VisionGrid(max_pixels=1003520), max_new_tokens, max_model_len)


def test_check_refuses_a_context_that_cannot_hold_prompt_frame_and_answer():
    plan = _costs(1024, 4096)
    swap_tokens = pf.image_tokens(560, 616, pf.VisionGrid(max_pixels=1003520))
    assert plan.costs[1].prompt_tokens == 420 + swap_tokens
    assert plan.needed == 420 + swap_tokens + 1024
    assert plan.check() is plan
    with pytest.raises(ModelError) as e:
        _costs(1024, plan.needed - 1).check()
    msg = str(e.value)
    assert msg.startswith(f"--max-model-len {plan.needed - 1} cannot hold a step of swap/paper")
    assert f"= {plan.needed}" in msg and f"raise --max-model-len to {plan.needed}" in msg
    assert f"lower --max-new-tokens to {1023} or less" in msg
    assert _costs(1024, None).check().needed == plan.needed  # no limit given: nothing to refuse
    summary = plan.summary()
    assert f"swap/paper: frame 560x616 -> 560x616, {swap_tokens} image tokens" in summary
    assert f"a step needs up to {plan.needed} tokens" in summary


def test_model_options_are_cli_flags_and_validated():
    import argparse

    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args(["--max-model-len", "8192", "--gpu-memory-utilization", "0.5", "--enforce-eager"])
    cfg = ModelConfig.from_args(args)
    assert (cfg.max_model_len, cfg.gpu_memory_utilization, cfg.enforce_eager) == (8192, 0.5, True)
    for bad in (dict(max_model_len=1), dict(gpu_memory_utilization=0.0), dict(gpu_memory_utilization=1.5)):
        with pytest.raises(ModelError, match="--max-model-len|--gpu-memory-utilization"):
            ModelConfig(**bad).validate()


# -- with a real processor (the tiny Qwen2-VL) --------------------------------------------------------------
def test_counts_equal_what_the_processor_builds(tiny_qwen2_vl):
    from transformers import AutoProcessor

    from g1bench.eval.policies import Turn
    from g1bench.models.messages import hf_messages

    processor = AutoProcessor.from_pretrained(tiny_qwen2_vl)
    grid = pf.grid_from_processor(processor)
    assert grid == pf.vision_grid(json.loads((tiny_qwen2_vl / "processor_config.json").read_text()))
    plan = pf.preflight_suite(get_suite("smoke"), processor, grid, 64, None)
    assert len(plan.costs) == 4
    for (key, (w, h), prompt, _), cost in zip(pf.suite_frames(get_suite("smoke")), plan.costs):
        frame = np.zeros((h, w, 3), dtype=np.uint8)
        turn = Turn(game="", frame=frame, prompt=prompt, state={})
        text = processor.apply_chat_template(hf_messages(turn), add_generation_prompt=True, tokenize=False)
        ids = processor(text=[text], images=[frame], return_tensors="np")["input_ids"][0]
        assert cost.prompt_tokens == len(ids), key  # exactly what the model is sent
        image_id = processor.tokenizer.convert_tokens_to_ids(processor.image_token)
        assert cost.image_tokens == int((ids == image_id).sum()), key


def _short_context_copy(src, dst, n):
    shutil.copytree(src, dst)
    cfg = json.loads((dst / "config.json").read_text())
    cfg.setdefault("text_config", {})["max_position_embeddings"] = n
    (dst / "config.json").write_text(json.dumps(cfg))
    (dst / "model.safetensors").unlink()  # the refusal must come before the weights are read
    return dst


def test_transformers_backend_refuses_before_loading_weights(tiny_qwen2_vl, tmp_path, capsys):
    model = _short_context_copy(tiny_qwen2_vl, tmp_path / "short", 300)
    with pytest.raises(ModelError, match=r"^the model's context length 300 cannot hold a step of "):
        load_policy(str(model), ModelConfig(backend="transformers", max_new_tokens=64), suite=get_suite("smoke"))
    assert "image tokens" in capsys.readouterr().err  # the frames' cost was stated first


def test_transformers_backend_states_image_tokens_and_records_them(tiny_qwen2_vl, capsys):
    policy = load_policy(str(tiny_qwen2_vl), ModelConfig(backend="transformers", max_new_tokens=8, max_pixels=50_176),
                         suite=get_suite("smoke"))
    try:
        recorded = policy.describe()["preflight"]
        err = capsys.readouterr().err
        grid = pf.VisionGrid(14, 2, 784, 50_176)
        for key, cost in recorded.items():
            w, h = cost["frame"]
            assert cost["image_tokens"] == pf.image_tokens(w, h, grid) <= 50_176 // (28 * 28)
            assert f"{key}: frame {w}x{h} -> " in err
    finally:
        policy.close()


def test_vllm_preflight_runs_before_the_engine(tiny_qwen2_vl, tmp_path, monkeypatch, capsys):
    """vLLM itself is not installed here: the engine class is replaced by one that records being started, so
    the test shows the order (pre-flight, then engine) and the kwargs the engine would get."""
    from g1bench.models import vllm_backend
    from g1bench.models.base import resolve_model

    started = []

    class Engine:
        def __init__(self, **kw):
            started.append(kw)

    class FakeVLLM:
        __version__ = "0.10.0"
        LLM = Engine
        SamplingParams = dict

    monkeypatch.setattr(vllm_backend, "_import", lambda: FakeVLLM)
    source = resolve_model(str(tiny_qwen2_vl))
    cfg = ModelConfig(backend="vllm", max_new_tokens=64, max_model_len=400)
    with pytest.raises(ModelError, match=r"^--max-model-len 400 cannot hold a step of "):
        vllm_backend.VLLMPolicy(str(tiny_qwen2_vl), cfg, source, suite=get_suite("smoke"))
    assert started == []  # refused before the engine started
    cfg = ModelConfig(backend="vllm", max_new_tokens=64, max_model_len=4096, gpu_memory_utilization=0.7, enforce_eager=True)
    policy = vllm_backend.VLLMPolicy(str(tiny_qwen2_vl), cfg, source, suite=get_suite("smoke"))
    assert len(started) == 1 and started[0]["max_model_len"] == 4096 and started[0]["enforce_eager"] is True
    assert started[0]["gpu_memory_utilization"] == 0.7 and started[0]["trust_remote_code"] is False
    assert set(policy.describe()["preflight"]) == {c[0] for c in pf.suite_frames(get_suite("smoke"))}
    assert "a step needs up to" in capsys.readouterr().err

"""The training benchmarks: benchmarks/gpu_check.py (its shipped architecture, the offline tokenizer and random-weight
model it builds, its --dry-run on the CPU) and benchmarks/grpo_learning.py (its --tiny run: the cold start -> SFT ->
GRPO pipeline with a learning-rate-0 control over 3 seeds, and its figures)."""

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torchvision")
pytest.importorskip("trl")
pytest.importorskip("peft")

from g1bench.training.dryrun import shipped_model_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = shipped_model_dir("Qwen/Qwen2.5-VL-7B-Instruct")


def _env(tmp: Path) -> dict:
    return {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp / "hf"), "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin",
            "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false", "HOME": os.environ.get("HOME", "/tmp"),
            "OMP_NUM_THREADS": "2", "MPLBACKEND": "Agg"}


def _run(args, tmp, timeout=900):
    return subprocess.run([sys.executable, *map(str, args)], cwd=tmp, env=_env(tmp), capture_output=True, text=True,
                          timeout=timeout)


# -- gpu_check: the shipped architecture and what is built from it --------------------------------------------
def test_shipped_config_is_qwen25_vl_7b_instruct():
    from accelerate import init_empty_weights
    from transformers import AutoConfig, AutoModelForImageTextToText

    config = AutoConfig.from_pretrained(FIXTURE)
    text, vision = config.get_text_config(), config.vision_config
    assert (text.hidden_size, text.num_hidden_layers, text.num_attention_heads, text.num_key_value_heads,
            text.intermediate_size, text.vocab_size) == (3584, 28, 28, 4, 18944, 152064)
    assert (vision.depth, vision.hidden_size, vision.out_hidden_size, vision.patch_size,
            vision.spatial_merge_size) == (32, 1280, 3584, 14, 2)
    assert not config.tie_word_embeddings
    pre = json.loads((FIXTURE / "preprocessor_config.json").read_text())
    assert (pre["min_pixels"], pre["max_pixels"], pre["patch_size"], pre["merge_size"]) == (3136, 12845056, 14, 2)
    with init_empty_weights():
        model = AutoModelForImageTextToText.from_config(config)
    assert sum(p.numel() for p in model.parameters()) == 8_292_166_656


def test_offline_tokenizer_has_qwens_layout_and_decodes_every_id():
    from g1bench.testing.tiny_vlm import build_tokenizer

    tok = build_tokenizer(151643, vocab_size=152064)
    assert len(tok) == 152064
    ids = {t: tok.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
                                                      "<|image_pad|>", "<|video_pad|>", "<|file_sep|>")}
    assert ids == {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645, "<|vision_start|>": 151652,
                   "<|image_pad|>": 151655, "<|video_pad|>": 151656, "<|file_sep|>": 151664}
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    for i in (0, 255, 151642, 151665, 152063):  # fillers too: a random model may sample any id
        assert tok.decode([i]) != ""
    text = "First describe the board in <perception></perception>. (0, 1) | Red circle"
    assert tok.decode(tok(text)["input_ids"]) == text and len(tok(text)["input_ids"]) == len(text.encode())


def test_offline_tokenizer_learns_merges_from_a_corpus():
    from g1bench.games.twenty48 import G1_PROMPT
    from g1bench.testing.tiny_vlm import build_tokenizer, python_sources

    tok = build_tokenizer(2048, corpus=python_sources(1 << 20))
    ids = tok(G1_PROMPT)["input_ids"]
    assert len(ids) < len(G1_PROMPT.encode()) / 2  # a BPE's token counts, not one token per byte
    assert tok.decode(ids) == G1_PROMPT
    assert tok.convert_tokens_to_ids("<|endoftext|>") == 2048 and tok.convert_tokens_to_ids("<|image_pad|>") == 2060


def test_random_model_from_the_shipped_config_never_stops(tmp_path):
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

    from g1bench.testing.tiny_vlm import build_vlm_from_config

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import gpu_check
    finally:
        sys.path.pop(0)
    path = build_vlm_from_config(tmp_path / "m", FIXTURE, overrides=gpu_check.TINY_CONFIG,
                                 preprocessor_overrides=gpu_check.TINY_PREPROCESSOR,
                                 regular_tokens=gpu_check.TINY_REGULAR_TOKENS, dtype="float32", never_stop=True)
    config = AutoConfig.from_pretrained(path)
    processor = AutoProcessor.from_pretrained(path)
    tok = processor.tokenizer
    assert config.image_token_id == tok.convert_tokens_to_ids("<|image_pad|>") == gpu_check.TINY_REGULAR_TOKENS + 12
    assert config.vision_start_token_id == tok.convert_tokens_to_ids("<|vision_start|>")
    assert (config.vision_config.patch_size, config.vision_config.spatial_merge_size) == (14, 2)
    model = AutoModelForImageTextToText.from_pretrained(path)
    stops = [tok.convert_tokens_to_ids("<|im_end|>"), tok.convert_tokens_to_ids("<|endoftext|>")]
    assert model.generation_config.eos_token_id == stops
    assert torch.count_nonzero(model.get_output_embeddings().weight[stops]) == 0
    assert torch.count_nonzero(model.get_output_embeddings().weight) > 0
    # greedy: every answer runs to the length limit
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe the board."}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    from PIL import Image

    inputs = processor(text=[text] * 2, images=[Image.new("RGB", (640, 840), c) for c in ("red", "blue")],
                       return_tensors="pt", padding=True)
    out = model.generate(**inputs, max_new_tokens=40, do_sample=False)
    new = out[:, inputs["input_ids"].shape[1]:]
    assert new.shape[1] == 40 and not any(t in stops for t in new.flatten().tolist())


def test_a_config_whose_token_ids_disagree_with_qwens_layout_is_refused(tmp_path):
    from g1bench.testing.tiny_vlm import build_vlm_from_config

    cfg = tmp_path / "cfg"
    cfg.mkdir()
    doc = json.loads((FIXTURE / "config.json").read_text())
    doc["image_token_id"] = 151600
    (cfg / "config.json").write_text(json.dumps(doc))
    (cfg / "preprocessor_config.json").write_bytes((FIXTURE / "preprocessor_config.json").read_bytes())
    with pytest.raises(ValueError, match=r"image_token_id is 151600 but the Qwen token layout puts <\|image_pad\|> at 151655"):
        build_vlm_from_config(tmp_path / "m", cfg, overrides={"hidden_size": 32, "num_hidden_layers": 1})


def test_gpu_check_without_a_gpu_says_to_use_the_dry_run(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is here: gpu_check would run for real")
    res = _run([ROOT / "benchmarks" / "gpu_check.py", "--out", tmp_path / "out"], tmp_path, timeout=300)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1] == "error: no CUDA GPU here; run with --dry-run for the CPU check"


@pytest.mark.slow
def test_gpu_check_dry_run(tmp_path):
    out = tmp_path / "out"
    res = _run([ROOT / "benchmarks" / "gpu_check.py", "--dry-run", "--out", out], tmp_path)
    assert res.returncode == 0, (res.stdout[-3000:], res.stderr[-3000:])
    report = json.loads((out / "gpu_check.json").read_text())
    assert report["dry_run"] is True and report["device"] == "cpu"
    build = report["build"]
    assert build["text"]["hidden_size"] == 32 and build["vision"]["patch_size"] == 14
    assert build["tokenizer"]["ids"] == 1024
    # (a) is skipped, and says why
    assert report["eval_vllm"] == {"skipped": "vLLM needs a CUDA GPU"}
    assert any(s.startswith("(a) eval through vLLM") for s in report["skipped"])
    # (b) the paper suite's 40 episodes, one step each, every answer exactly --max-new-tokens long
    ev = report["eval_transformers"]
    assert ev["suite"] == "paper-first1-v3" and ev["turns"] == 40 and ev["complete"] is True
    assert ev["answers_at_max_new_tokens"] == 40 and ev["output_tokens"] == 40 * report["max_new_tokens"]
    assert ev["images_per_s"] == pytest.approx(40 / ev["run_s"])
    assert 0 < ev["model_s"] <= ev["run_s"] and ev["harness_share"] == pytest.approx(1 - ev["model_s"] / ev["run_s"])
    frames = {k.split(" ")[0]: v["frame"] for k, v in ev["preflight"].items()}
    assert frames == {"2048/paper": [640, 840], "shisensho/paper": [640, 640], "shisensho-images/paper": [640, 640],
                      "swap/paper": [640, 640]}  # G1's evaluation pictures
    # (c) three steps of the lora-1gpu recipe, timed by TRL's own timers
    grpo = report["grpo"]
    assert [s["step"] for s in grpo["steps"]] == [1, 2, 3]
    assert any(n.endswith("GRPOTrainer.transformers.generate") for n in grpo["timers"])   # TRL's timer, our subclass
    for s in grpo["steps"]:
        assert 0 < s["generation_s"] < s["step_time_s"] and s["generation_share"] == pytest.approx(s["generation_s"] / s["step_time_s"])
    assert grpo["preflight_estimate_gib"] > 0 and "weights" in grpo["preflight_terms_gib"]
    assert any("vLLM colocated" in s for s in report["skipped"]) and "peak GPU memory: no GPU" in report["skipped"]
    assert "(b) eval, transformers: 40 images" in res.stdout and "skipped: (a) eval through vLLM" in res.stdout


# -- grpo_learning -----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_grpo_learning_tiny_run_has_a_true_control(tmp_path):
    import statistics

    from safetensors.torch import load_file

    out = tmp_path / "out"
    res = _run([ROOT / "benchmarks" / "grpo_learning.py", "--tiny", "--out", out], tmp_path)
    assert res.returncode == 0, (res.stdout[-3000:], res.stderr[-3000:])
    report = json.loads((out / "grpo_learning.json").read_text())
    assert report["seeds"] == [0, 1, 2]
    s = report["settings"]
    assert (s["game"], s["preset"], s["game_overrides"]) == ("2048", "paper", {"size": 2})
    # the pipeline is the recipes' own: oracle cold start, SFT, then GRPO with g1 (perception weight 0)
    commands = [c["command"] for c in report["commands"]]
    assert commands[1].startswith("python training/build_coldstart.py") and "--teacher oracle" in commands[1]
    assert commands[2].startswith("python training/sft.py")
    grpo = [c for c in commands if c.startswith("python training/grpo.py")]
    assert len(grpo) == 6 and all("--reward_funcs g1" in c and "--perception_weight 0" in c for c in grpo)
    assert sum("--learning_rate 0.0 " in c for c in grpo) == 3  # one control per seed
    for arm in ("learn", "control"):
        for seed in ("0", "1", "2"):
            run = report["runs"][arm][seed]
            assert run["step"] == [1, 2] and all(-1 <= v <= 1 for v in run["game_reward"])
    # per-step aggregates are the spread over seeds
    for arm in ("learn", "control"):
        for i, agg in enumerate(report["per_step"]["game_reward"][arm]):
            vals = [report["runs"][arm][seed]["game_reward"][i] for seed in ("0", "1", "2")]
            assert agg["mean"] == pytest.approx(statistics.fmean(vals)) and agg["min"] == min(vals)
    # the control is the same run: identical first step (same model, states and sampling seed) ...
    for seed in ("0", "1", "2"):
        for m in ("game_reward", "format_rate", "answer_length"):
            assert report["runs"]["learn"][seed][m][0] == report["runs"]["control"][seed][m][0]
    # ... whose weights never move (learning rate 0); the learn arm trains at --lr
    sft = load_file(out / "sft" / "model.safetensors")
    control = load_file(out / "grpo-control-seed0" / "model.safetensors")
    assert all((control[k] == sft[k]).all() for k in sft)
    for arm, lr in (("learn", s["lr"]), ("control", 0.0)):
        logged = [json.loads(line) for line in (out / f"grpo-{arm}-seed0" / "g1_metrics.jsonl").read_text().splitlines()]
        assert [d["learning_rate"] for d in logged if "learning_rate" in d] == [pytest.approx(lr)] * 2
    png = (out / "grpo_learning.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24])[0] > 500
    assert "learn - control over the last third" in res.stdout and "wall time:" in res.stdout
    assert "command: python benchmarks/grpo_learning.py --tiny --out" in res.stdout

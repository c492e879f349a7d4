"""The recipes end to end on the CPU with a tiny random-weight VLM built offline: the recipes' own command lines
(cold start -> SFT, GRPO with the real game rewards, LoRA), then `g1bench eval --model <checkpoint>`.

Random weights write random bytes: these check the plumbing (datasets, rewards, logs, saving, loading the
checkpoint for evaluation), never skill. benchmarks/grpo_learning.py is the learning check.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torchvision")
pytest.importorskip("trl")
pytest.importorskip("peft")

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ROOT / "training"
RECIPES = TRAINING / "recipes" / "tiny-cpu"
GAMES = ("2048", "shisensho", "shisensho-images", "swap")


def _env(tmp: Path) -> dict:
    return {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp / "hf"), "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin",
            "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false", "HOME": os.environ.get("HOME", "/tmp"),
            "OMP_NUM_THREADS": "2"}


def _run(args, tmp, timeout=600, cwd=None):
    res = subprocess.run([sys.executable, *map(str, args)], cwd=cwd or tmp, env=_env(tmp), capture_output=True,
                         text=True, timeout=timeout)
    assert res.returncode == 0, (res.stdout[-2000:], res.stderr[-4000:])
    return res


def _eval(model, tmp, name, cwd=None):
    out = tmp / name
    res = _run(["-m", "g1bench.cli", "eval", "--model", model, "--suite", "smoke", "-o", out, "--max-new-tokens", "8",
                "--quiet"], tmp, cwd=cwd)
    results = (out / "results.json").read_text()
    for game in GAMES:
        assert f"{game}/paper" in res.stdout
    return json.loads(results), res


def _script(name):
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", TRAINING / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_cold_start_then_sft_then_eval(tiny_qwen2_vl, tmp_path):
    data = tmp_path / "coldstart"
    res = _run([TRAINING / "build_coldstart.py", "--config", RECIPES / "coldstart.yaml", "--output_dir", data], tmp_path)
    assert "swap: kept 4 of 4 states" in res.stdout
    sft_out = tmp_path / "sft"
    res = _run([TRAINING / "sft.py", "--config", RECIPES / "sft.yaml", "--model_name_or_path", tiny_qwen2_vl,
                "--dataset_name", data, "--output_dir", sft_out], tmp_path)
    assert "image tokens" in res.stderr and "longest SFT example" in res.stderr  # the pre-flight report
    logs = [json.loads(line) for line in (sft_out / "g1_metrics.jsonl").read_text().splitlines()]
    assert [d["step"] for d in logs if "loss" in d] == [1, 2]
    state = json.loads((sft_out / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    assert (sft_out / "config.json").is_file() and (sft_out / "chat_template.jinja").is_file()
    results, _ = _eval(sft_out, tmp_path, "eval-sft")
    assert str(sft_out) in json.dumps(results)


@pytest.mark.slow
def test_grpo_with_the_game_rewards_then_eval_and_plot(tiny_qwen2_vl, tmp_path):
    out = tmp_path / "grpo"
    res = _run([TRAINING / "grpo.py", "--config", RECIPES / "grpo.yaml", "--model_name_or_path", tiny_qwen2_vl,
                "--output_dir", out], tmp_path)
    assert "prompt tokens" in res.stderr
    logs = [json.loads(line) for line in (out / "g1_metrics.jsonl").read_text().splitlines()]
    steps = [d for d in logs if "rewards/g1/mean" in d]
    assert [d["step"] for d in steps] == [1, 2]
    seen = set()
    for d in steps:
        # random bytes never play a winning move in the right format: the paper's reward is exactly -1
        assert d["rewards/g1/mean"] == -1.0
        for game in GAMES:
            if f"g1/{game}/game_reward" in d:
                seen.add(game)
                assert d[f"g1/{game}/game_reward"] == -1.0 and d[f"g1/{game}/format_rate"] == 0.0
    assert seen == set(GAMES)  # every game of the mix was sampled and scored (8 states over 2 steps)
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 2
    plot = _run([TRAINING / "plot.py", out], tmp_path)
    assert Path(plot.stdout.strip()).stat().st_size > 10_000
    results, _ = _eval(out, tmp_path, "eval-grpo")
    assert str(out) in json.dumps(results)


@pytest.mark.slow
def test_lora_adapter_is_evaluated_directly_and_merges(tiny_qwen2_vl, tmp_path):
    import shutil

    # trained from tmp_path with a relative model path, written two folders down
    shutil.copytree(tiny_qwen2_vl, tmp_path / "models" / "tiny")
    out = tmp_path / "runs" / "lora" / "out"
    _run([TRAINING / "grpo.py", "--config", RECIPES / "grpo.yaml", "--model_name_or_path", "models/tiny",
          "--output_dir", "runs/lora/out", "--use_peft", "--lora_r", "8", "--lora_target_modules", "all-linear"],
         tmp_path)
    assert (out / "adapter_config.json").is_file() and not (out / "config.json").exists()
    # the adapter records where its base model is, from anywhere
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tmp_path / "models" / "tiny")
    # random bytes all score -1, so the advantages are 0 and LoRA's B matrices are still their initial zeros: give
    # them values, as a run with a learning signal would, so that applying the adapter visibly changes the model
    import torch
    from safetensors.torch import load_file, save_file

    weights = load_file(out / "adapter_model.safetensors")
    assert any("lora_B" in k for k in weights)
    torch.manual_seed(0)
    save_file({k: torch.randn_like(v) * 0.5 if "lora_B" in k else v for k, v in weights.items()},
              out / "adapter_model.safetensors")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    results, _ = _eval(out, tmp_path, "eval-lora", cwd=elsewhere)  # evaluated from another working directory
    text = json.dumps(results)
    assert "adapter" in text and str(tmp_path / "models" / "tiny") in text  # provenance names the adapter and its base

    from g1bench.eval.policies import Turn
    from g1bench.eval.suites import get_suite, start_game
    from g1bench.models import ModelConfig, load_policy
    from g1bench.models.adapters import merge_adapter

    merged = merge_adapter(out, tmp_path / "merged")
    assert (merged / "config.json").is_file()
    turns = []
    for spec in get_suite("smoke").episodes[::2]:
        env = spec.make_env()
        start_game(spec, env, 0)
        turns.append(Turn(spec.game, env.render(), env.prompt, {}, spec.episode_id, 0))
    cfg = ModelConfig(max_new_tokens=8)
    answers = {}
    for name, path in (("adapter", out), ("merged", merged), ("base", tmp_path / "models" / "tiny")):
        policy = load_policy(str(path), cfg)
        answers[name] = [a.text for a in policy.act(turns)]
        policy.close()
    assert answers["adapter"] == answers["merged"]  # greedy: the same model either way
    assert answers["adapter"] != answers["base"]  # and the adapter did change it


def test_bad_options_are_one_line_errors(tiny_qwen2_vl, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.chdir(tmp_path)
    grpo, sft, cold = _script("grpo"), _script("sft"), _script("build_coldstart")
    base = ["--config", str(RECIPES / "grpo.yaml"), "--model_name_or_path", str(tiny_qwen2_vl), "--output_dir", "o"]
    cases = [
        (grpo, base + ["--games", "chess"], "unknown game 'chess'"),
        (grpo, base + ["--reward_funcs", "gmae"], "unknown reward function 'gmae'"),
        (grpo, base + ["--max_completion_length", "40000"], "> the model's context"),
        (grpo, base + ["--curriculum", "--dataset_name", "x"], "cannot use a states dataset"),
        (grpo, base + ["--model_name_or_path", str(tmp_path)], "no config.json|not a model|Unrecognized|config"),
        (cold, ["--config", str(RECIPES / "coldstart.yaml"), "--output_dir", "c", "--games", "2048,nope"], "unknown game"),
    ]
    for script, argv, pattern in cases:
        rc = script.main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and err and err[-1].startswith("error: "), (argv, err[-3:])
        import re

        assert re.search(pattern, err[-1]), (pattern, err[-1])
    (tmp_path / "broken.yaml").write_text("games: [swap\n")
    for script in (grpo, sft, cold):  # a recipe file that is missing, a folder or not YAML
        for config, why in (("missing.yaml", "No such file or directory: missing.yaml"), (str(tmp_path), "Is a directory"),
                            ("broken.yaml", "while parsing a flow sequence")):
            with pytest.raises(SystemExit) as stop:
                script.main(["--config", config, "--output_dir", "o"])
            err = capsys.readouterr().err.strip().splitlines()
            assert stop.value.code == 2 and len(err) == 1 and err[0].startswith(
                "error: cannot read the recipe (--config): ") and why in err[0], (config, err)
    rc = sft.main(["--config", str(RECIPES / "sft.yaml"), "--model_name_or_path", str(tiny_qwen2_vl), "--dataset_name",
                   str(tmp_path / "no-such-data"), "--output_dir", "s"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith(f"error: cannot load config all (split train) of {tmp_path / 'no-such-data'}: ")
    data = tmp_path / "cs"
    assert cold.main(["--config", str(RECIPES / "coldstart.yaml"), "--output_dir", str(data), "--games", "swap"]) == 0
    capsys.readouterr()
    rc = sft.main(["--config", str(RECIPES / "sft.yaml"), "--model_name_or_path", str(tiny_qwen2_vl), "--dataset_name",
                   str(data), "--output_dir", "s", "--max_length", "64"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("error: swap/paper: the longest example is") and "--max_length" in err[-1]
    assert not (tmp_path / "s" / "model.safetensors").exists()  # stopped before training


@pytest.mark.slow
def test_resume_continues_a_run_identically(tiny_qwen2_vl, tmp_path, monkeypatch, capsys):
    """A run of 2 GRPO steps equals a run of 1 step resumed to 2 from its checkpoint: the same completions, rewards,
    KL, losses and gradients at every step, and the same final weights. The sampled states (the stream, in order),
    the generator (the RNG state in the checkpoint), the optimizer and the weights all continue where they were.
    A reward with a learning signal for random bytes (the share of letters) makes the weights move."""
    (tmp_path / "resume_reward.py").write_text(
        "def letters(prompts, completions, **kwargs):\n"
        "    texts = [c[0]['content'] for c in completions]\n"
        "    return [sum(ch.isalpha() for ch in t) / max(1, len(t)) for t in texts]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.chdir(tmp_path)
    grpo = _script("grpo")
    common = ["--config", str(RECIPES / "grpo.yaml"), "--model_name_or_path", str(tiny_qwen2_vl),
              "--reward_funcs", "g1", "resume_reward:letters", "--save_strategy", "steps", "--save_steps", "1"]
    assert grpo.main(common + ["--max_steps", "2", "--output_dir", "whole"]) == 0
    assert grpo.main(common + ["--max_steps", "1", "--output_dir", "split"]) == 0
    assert grpo.main(common + ["--max_steps", "2", "--output_dir", "split", "--resume_from_checkpoint",
                               "split/checkpoint-1"]) == 0
    assert "There were missing keys" not in capsys.readouterr().err

    def steps(run):
        logs = [json.loads(line) for line in (tmp_path / run / "g1_metrics.jsonl").read_text().splitlines()]
        return {d["step"]: d for d in logs if "loss" in d}

    whole, split = steps("whole"), steps("split")
    assert sorted(whole) == sorted(split) == [1, 2]
    keys = ["loss", "kl", "grad_norm", "rewards/letters/mean", "rewards/g1/mean", "completions/mean_length",
            "reward_std"]
    for step in (1, 2):
        assert {k: whole[step][k] for k in keys} == {k: split[step][k] for k in keys}, step
    assert whole[2]["kl"] > 0  # the second step starts from trained weights, in both runs

    import torch
    from safetensors.torch import load_file

    a, b = load_file(tmp_path / "whole" / "model.safetensors"), load_file(tmp_path / "split" / "model.safetensors")
    start = load_file(Path(tiny_qwen2_vl) / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], start[k]) for k in a)  # and they did train

"""`g1bench data from-run`: an evaluation run directory becomes episodes configs in the built format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import g1bench
from g1bench.core.hashing import content_hash
from g1bench.data.errors import DataError
from g1bench.data.fromrun import from_run
from g1bench.data.schema import EPISODES
from g1bench.eval.policies import RandomLegalPolicy, RandomPolicy, Turn
from g1bench.eval.suites import custom_suite


def _frame_id(frame: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(frame.tobytes()).hexdigest()[:20]


def fabricate_run(root: Path, torn_tail: bool = True) -> Path:
    """A run directory in the exact format of the evaluation runner (run.json, episodes.jsonl, frames/)."""
    run = root / "run"
    (run / "frames").mkdir(parents=True)
    suite = custom_suite(["swap", "2048"], "paper", episodes=2, steps=3)
    (run / "run.json").write_text(json.dumps({
        "suite": suite.to_dict(), "policy": {"policy": "random-legal", "backend": "builtin", "seed": 0},
        "g1bench_version": g1bench.__version__, "start_time": "2026-11-22T00:00:00+00:00"}))
    policies = {"swap": RandomPolicy(), "2048": RandomLegalPolicy()}
    lines = []
    for spec in suite.episodes:
        env = spec.make_env()
        env.reset(seed=spec.seed)
        steps, score = [], 0
        for t in range(spec.steps):
            frame = env.render()
            fid = _frame_id(frame)
            if not (run / "frames" / f"{fid}.png").exists():
                Image.fromarray(frame).save(run / "frames" / f"{fid}.png", compress_level=1)
            truth, state_hash = env.game.perception_text(), env.state_hash()
            turn = Turn(spec.game, None, env.prompt, env.get_state(), spec.episode_id, t)
            answer = policies[spec.game].act([turn])[0].text
            _, reward, terminated, _, info = env.step(answer)
            score += info["score_delta"]
            steps.append({
                "step": t, "game_index": 0, "state_hash": state_hash, "frame": fid,
                "prompt_hash": content_hash(env.prompt), "answer": answer, "parse_error": info["parse_error"],
                "action": info["action"], "reward": reward, "score_delta": info["score_delta"],
                "valid": info["valid"], "success": info["success"], "terminated": terminated, "perception": truth,
                "perception_ok": False, "format_ok": info["format_ok"], "output_tokens": 12 + t, "latency_s": 0.1,
            })
        lines.append(json.dumps({**spec.to_dict(), "episode_id": spec.episode_id, "score": score, "steps": steps}))
    text = "\n".join(reversed(lines)) + "\n"  # finished out of order, as concurrent episodes do
    if torn_tail:
        text += lines[0][: len(lines[0]) // 2]  # a crash while appending
    (run / "episodes.jsonl").write_text(text)
    return run


def test_run_becomes_episodes_configs(tmp_path, monkeypatch):
    import datasets

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    run = fabricate_run(tmp_path)
    with pytest.warns(UserWarning, match="torn last line"):
        report = from_run(run, tmp_path / "out")
    out = tmp_path / "out"
    assert datasets.get_dataset_config_names(str(out)) == ["episodes-2048", "episodes-swap"]
    records = {json.loads(line)["episode_id"]: json.loads(line)
               for line in (run / "episodes.jsonl").read_text().splitlines()[:-1]}
    for game in ("2048", "swap"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = datasets.load_dataset(str(out), f"episodes-{game}", split="train", cache_dir=str(out.parent / "cache"))
        assert ds.column_names == [c[0] for c in EPISODES]
        assert ds["episode_id"] == sorted(ds["episode_id"], key=lambda e: int(e.rsplit("/", 1)[1]))
        for row in ds:
            step = records[row["episode_id"]]["steps"][row["step"]]
            png = Image.open(run / "frames" / f"{step['frame']}.png")
            assert np.array_equal(np.asarray(row["frame"]), np.asarray(png))
            assert row["prompt"] == g1bench.make(game, "paper").prompt
            assert row["answer"] == step["answer"] and row["reward"] == step["reward"]
            assert row["action"] == (step["action"] if isinstance(step["action"], list) else [step["action"]])
            assert row["policy"] == "random-legal" and row["output_tokens"] == step["output_tokens"]
            assert row["done"] == (step["terminated"] or row["step"] == 2)
    assert report.rows() == 2 * 2 * 3
    card = (out / "README.md").read_text()
    assert "g1bench data from-run" in card and json.loads((out / "run.json").read_text())["suite"]["hash"] in card

    # deterministic: converting again gives the same bytes
    with pytest.warns(UserWarning):
        from_run(run, tmp_path / "again")
    a = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    b = {p.relative_to(tmp_path / "again"): p.read_bytes() for p in (tmp_path / "again").rglob("*") if p.is_file()}
    assert a == b


def test_a_run_without_frames_converts_with_null_frames(tmp_path):
    import pyarrow.parquet as pq

    run = fabricate_run(tmp_path, torn_tail=False)
    lines = []
    for line in (run / "episodes.jsonl").read_text().splitlines():
        rec = json.loads(line)
        for step in rec["steps"]:
            step["frame"] = None  # what `g1bench eval --no-frames` records
        lines.append(json.dumps(rec))
    (run / "episodes.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.warns(UserWarning, match="no saved frame"):
        from_run(run, tmp_path / "out")
    table = pq.read_table(next((tmp_path / "out" / "episodes-swap").glob("*.parquet")))
    assert table.column("frame").null_count == table.num_rows > 0


def test_bad_run_dirs_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="not a g1bench run directory"):
        from_run(tmp_path, tmp_path / "out")
    run = fabricate_run(tmp_path, torn_tail=False)
    frame = next((run / "frames").glob("*.png"))
    frame.rename(frame.with_suffix(".bak"))
    with pytest.raises(DataError, match="is missing"):
        from_run(run, tmp_path / "out1")
    frame.with_suffix(".bak").rename(frame)
    text = (run / "episodes.jsonl").read_text()
    rec = json.loads(text.splitlines()[0])
    rec["steps"][0]["prompt_hash"] = "0" * 16
    (run / "episodes.jsonl").write_text(json.dumps(rec) + "\n")
    with pytest.raises(DataError, match="prompt hash"):
        from_run(run, tmp_path / "out2")
    (run / "episodes.jsonl").write_text("{not json}\n")
    with pytest.raises(DataError, match="not valid JSON"):
        from_run(run, tmp_path / "out3")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(DataError, match="not empty"):
        from_run(fabricate_run(tmp_path / "r2", torn_tail=False), tmp_path / "busy")


def test_a_real_evaluation_run_converts(tmp_path):
    """The runner's own output (smoke suite, random baseline) goes through the CLI."""
    from g1bench.eval.policies import RandomPolicy
    from g1bench.eval.runner import evaluate
    from g1bench.eval.suites import get_suite

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluate(get_suite("smoke"), RandomPolicy(), tmp_path / "run", progress=False)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    out = subprocess.run([sys.executable, "-m", "g1bench.cli", "data", "from-run", str(tmp_path / "run"),
                          str(tmp_path / "ds")], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    code = ("import datasets, sys; ds = datasets.load_dataset(sys.argv[1], 'episodes-swap', split='train'); "
            "print(len(ds), ds[0]['frame'].size)")
    loaded = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ds")], capture_output=True, text=True, env=env)
    assert loaded.returncode == 0, loaded.stderr
    n = sum(e.steps for e in get_suite("smoke").episodes if e.game == "swap")
    assert loaded.stdout.split()[0] == str(n)


def test_a_multi_turn_run_records_each_steps_history(tmp_path):
    """A run with the history knob converts with the context each answer was given (the ``history`` column) and
    the model's pictures (G1's size on the paper presets)."""
    import io

    import pyarrow.parquet as pq

    from g1bench.eval.runner import evaluate
    from g1bench.eval.suites import custom_suite

    suite = custom_suite(["swap"], episodes=1, steps=4, history=2)
    evaluate(suite, RandomPolicy(), tmp_path / "run", progress=False)
    from_run(tmp_path / "run", tmp_path / "ds")
    table = pq.read_table(next((tmp_path / "ds" / "episodes-swap").glob("*.parquet"))).to_pylist()
    assert [r["history"] for r in table] == [0, 1, 2, 2]  # the context grows to the knob's k
    assert Image.open(io.BytesIO(table[0]["model_frame"]["bytes"])).size == (640, 640)
    assert Image.open(io.BytesIO(table[0]["frame"]["bytes"])).size == (560, 616)

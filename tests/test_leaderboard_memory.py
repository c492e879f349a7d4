"""The leaderboard's memory section: per model, the score against the history length on the multiturn suite
(hand-made entry summaries: real multiturn runs take too long here; tests/test_multiturn.py runs the suite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from g1bench.eval.history import split_group
from g1bench.eval.suites import get_suite
from g1bench.leaderboard.aggregation import Leaderboard
from g1bench.leaderboard.memory import memory_curves

SUITE = get_suite("multiturn")


def summary(name: str, anchor: str | None, score) -> dict:
    """An entry summary of the multiturn suite whose every episode in a cell scores ``score(game, history)``."""
    groups, scores = {}, {}
    for key in SUITE.groups():
        base, k = split_group(key)
        game = base.split("/")[0]
        m = float(score(game, k))
        groups[key] = {"game": game, "difficulty": "paper", "mean": m, "ci95": [m, m], "n": 10, "steps": 1000}
        scores[key] = [m - 1, m + 1] * 5  # a spread, so the intervals are intervals
    return {"entry_id": f"multiturn-v1/{name}--{'0' * 16}", "suite_id": SUITE.suite_id, "suite_name": "multiturn",
            "suite_hash": SUITE.hash(), "model": name, "model_type": "baseline" if anchor else "open weights",
            "model_revision": None, "anchor": anchor, "backend": "builtin" if anchor else "vllm", "date": "2026-01-01",
            "g1bench_version": "0", "groups": groups, "totals": {}, "episode_scores": scores}


def board(with_baselines: bool = True) -> Leaderboard:
    rows = [summary("acme/memory-vlm", None, lambda g, k: {0: 2, 1: 5, 4: 8}[k]),  # uses its past turns
            summary("acme/amnesic-vlm", None, lambda g, k: 3)]
    if with_baselines:  # baselines have no memory: the same in every history cell
        rows += [summary("random", "random", lambda g, k: 0), summary("oracle", "oracle", lambda g, k: 10)]
    return Leaderboard.build(rows, [])


def test_memory_curves_score_each_history_between_the_baselines():
    lb = board()
    curves = memory_curves(lb, "multiturn-v1")
    assert curves["histories"] == [0, 1, 4] and curves["value"] == "normalised"
    by_model = {c["model"]: c for c in curves["curves"]}
    assert set(by_model) == {"acme/memory-vlm", "acme/amnesic-vlm", "random", "oracle"}
    mem = by_model["acme/memory-vlm"]
    assert [p["history"] for p in mem["points"]] == [0, 1, 4]
    assert [p["score"] for p in mem["points"]] == [20.0, 50.0, 80.0]  # 100 * (score - random) / (oracle - random)
    assert all(p["ci95"][0] < p["score"] < p["ci95"][1] for p in mem["points"])
    assert mem["points"][2]["games"]["swap"] == {"mean": 8.0, "ci95": [8.0, 8.0], "normalised": 80.0}
    assert [p["score"] for p in by_model["acme/amnesic-vlm"]["points"]] == [30.0] * 3
    assert [p["score"] for p in by_model["oracle"]["points"]] == [100.0] * 3 and by_model["oracle"]["kind"] == "baseline"
    assert memory_curves(lb, "paper-v3")["curves"] == []  # a suite without history cells has no memory curve


def test_the_memory_section_in_every_export():
    lb = board()
    text = lb.export("table", "multiturn")
    assert "multiturn-v1 memory: score against history" in text
    line = next(x for x in text.splitlines() if x.startswith("acme/memory-vlm") and "+60.0" in x)
    assert "20.0 [" in line and "80.0 [" in line
    md = lb.export("md", "multiturn")
    assert "### multiturn-v1: memory: score against history" in md and "| history 4 [95% CI] |" in md and "| \\+60.0 |" in md
    data = json.loads(lb.export("json", "multiturn"))
    assert [p["score"] for p in data["memory"]["multiturn-v1"]["curves"][0]["points"]] in ([20.0, 50.0, 80.0], [30.0] * 3)
    assert "score against history" not in lb.export("csv", "multiturn")  # one flat table
    assert "score against history" not in lb.export("table", "paper")
    assert json.loads(lb.export("json", "paper"))["memory"] == {}


def test_without_baselines_the_memory_table_shows_the_paper_metric():
    lb = board(with_baselines=False)
    curves = memory_curves(lb, "multiturn-v1")
    assert curves["value"] == "mean" and all(p["score"] is None for c in curves["curves"] for p in c["points"])
    text = lb.export("table", "multiturn")
    assert "2048 (history 0 / 1 / 4)" in text and "2.0 / 5.0 / 8.0" in text
    assert "no overall score" in text


def test_the_memory_plot_as_data_and_png(tmp_path):
    pytest.importorskip("matplotlib")
    lb = board()
    mem = lb.memory(tmp_path / "plots")
    assert Path(mem["png"]).is_file() and mem["png"].endswith("memory.png")
    assert [c["model"] for c in mem["curves"]][:2] == ["acme/memory-vlm", "acme/amnesic-vlm"]  # leaderboard order
    assert lb.memory()["figure"] is not None  # no folder: a matplotlib figure (for the Space)
    assert board().memory(suite="paper")["png"] is None

"""The leaderboard on the local store: entries, the lossless step-log codec, push refusals, re-verification
on aggregation, the table's numbers against the runs, the overall score and ranks on hand-made numbers,
Hub eval-results formats, plots, the CLI and `load_dataset(folder, "results" | "steps")`.

The Hub-backed store runs the same flows in tests/test_leaderboard_hub.py (which reuses the helpers here).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from g1bench.eval.policies import Answer, OraclePolicy, Policy, RandomLegalPolicy, RandomPolicy, _EnvCache, turn_rng
from g1bench.eval.runner import Runner
from g1bench.eval.suites import Suite, custom_suite, get_suite
from g1bench.eval.verify import verify_data, verify_run

GAMES = ("2048", "shisensho", "shisensho-images", "swap")


# -- helpers shared with test_leaderboard_hub.py --------------------------------------------------------
class FakeVLM(Policy):
    """A stand-in for a model backend: with probability ``skill`` a valid move with an exact perception
    block, else a random answer with a wrong one; reports tokens, latency and cost as backends do."""

    needs_frames = False

    def __init__(self, name: str = "acme/vlm-7b", skill: float = 0.5, seed: int = 0):
        self.name, self.skill, self._seed = name, skill, seed
        self.good, self.bad, self.cache = RandomLegalPolicy(seed), RandomPolicy(seed), _EnvCache()

    def act(self, turns):
        out = []
        for t, g, b in zip(turns, self.good.act(turns), self.bad.act(turns)):
            truth = self.cache.env_at(t.state)._info()["perception"]
            if turn_rng(self._seed + 99, t).random() < self.skill:
                text = f"<perception>{truth}</perception><think>a legal move</think>{g.text}"
            else:
                text = f"<perception>not sure</perception><think>a guess</think>{b.text}"
            out.append(Answer(text, input_tokens=900, output_tokens=len(text) // 4, latency_s=0.25,
                              extra={"cost_usd": 0.0001}))
        return out

    def describe(self) -> dict[str, Any]:
        return {"policy": self.name, "backend": "transformers", "dtype": "bfloat16",
                "model": {"model": self.name, "source": "hub", "revision": "main", "commit": "c0ffee" * 6 + "beef"},
                "sampling": {"temperature": 0.0}}


class ServedVLM(FakeVLM):
    """The same answers, described as a model behind a remote OpenAI-compatible API (any name is its name)."""

    def describe(self) -> dict[str, Any]:
        return {"policy": self.name, "backend": "openai", "base_url": "https://api.example.com/v1",
                "model": {"model": self.name, "source": "server"}, "sampling": {"temperature": 0.0}}


class Interrupting(Policy):
    """Answers like ``inner`` and interrupts the run on its ``after``-th call (an incomplete run)."""

    needs_frames = False

    def __init__(self, inner: Policy, after: int):
        self.inner, self.after, self.calls = inner, after, 0
        self.name = inner.name

    def act(self, turns):
        self.calls += 1
        if self.calls >= self.after:
            raise KeyboardInterrupt
        return self.inner.act(turns)

    def describe(self):
        return self.inner.describe()


def make_run(path: Path, suite: Suite | str, policy: Policy, **kw) -> Path:
    suite = get_suite(suite) if isinstance(suite, str) else suite
    Runner(suite, policy, path, progress=False, **kw).run()
    return path


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit_json(path: Path, fn) -> None:
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def tamper_figure(src: Path, dst: Path) -> tuple[Path, str]:
    """A copy of a run with one results figure edited (still schema-valid); returns the expected reason."""
    copy_run(src, dst)
    old = {}

    def edit(r):
        g = r["results"]["2048/paper"]
        old["v"] = g["parse_failure_rate"]
        g["parse_failure_rate"] = 0.5 if g["parse_failure_rate"] != 0.5 else 0.25
        old["new"] = g["parse_failure_rate"]

    edit_json(dst / "results.json", edit)
    return dst, (f"results.json results['2048/paper'].parse_failure_rate: recorded {old['new']!r}, "
                 f"recomputed {old['v']!r}")


def tamper_answer(src: Path, dst: Path) -> tuple[Path, str]:
    """A copy of a run whose first 2048 answer names another move; returns the expected reason."""
    copy_run(src, dst)
    lines = (dst / "steps.jsonl").read_text().splitlines()
    for i, line in enumerate(lines):
        rec = json.loads(line)
        if rec["episode_id"] == "2048/paper/0" and rec["step"] == 0 and rec["parse_error"] is None:
            new = (rec["action"] + 1) % 4
            rec["answer"] = rec["answer"].replace(f"<answer> {rec['action']} </answer>", f"<answer> {new} </answer>")
            assert str(new) in rec["answer"]
            lines[i] = json.dumps(rec, separators=(",", ":"))
            (dst / "steps.jsonl").write_text("\n".join(lines) + "\n")
            return dst, f"steps.jsonl: 2048/paper/0 step 0: action is {rec['action']} in the log, {new} on replay"
    raise AssertionError("no parsed 2048 step to tamper with")


def unknown_suite(src: Path, dst: Path) -> Path:
    """A copy of a run whose suite is renamed (hash recomputed, so only its name is unknown)."""
    copy_run(src, dst)
    run = json.loads((dst / "run.json").read_text())
    run["suite"]["name"] = "mystery"
    suite = Suite.from_dict(run["suite"])
    run["suite"].update(suite_id=suite.suite_id, hash=suite.hash())
    (dst / "run.json").write_text(json.dumps(run))
    edit_json(dst / "results.json", lambda r: r["provenance"]["suite"].update(
        name="mystery", suite_id=suite.suite_id, hash=run["suite"]["hash"]))
    return dst


def steps_of(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines() if line.strip()]


def pooled_rates(run_dir: Path) -> dict[str, float | None]:
    """Perception/reasoning accuracy and parse-failure rate over every step, computed here from the log."""
    steps = steps_of(run_dir)
    block = [s for s in steps if s["has_perception"]]
    ok = [s for s in block if s["perception_ok"]]
    return {"perception_accuracy": len(ok) / len(block) if block else None,
            "reasoning_accuracy": (sum(1 for s in ok if s["success"] and s["fallback_action"] is None) / len(ok)) if ok else None,
            "parse_failure_rate": sum(1 for s in steps if s["parse_error"]) / len(steps)}


def expected_overall(model: dict, random: dict, oracle: dict, groups: list[str]) -> float:
    """g1bench-overall/1 from three results.json files, written out by hand."""
    norms = []
    for g in groups:
        m, r, o = (x["results"][g]["mean"] for x in (model, random, oracle))
        norms.append(100 * (m - r) / (o - r))
    return sum(norms) / len(norms)


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory) -> dict[str, Path]:
    """Real smoke-suite runs: the two anchors, two models, and runs the leaderboard must refuse."""
    root = tmp_path_factory.mktemp("lb-runs")
    runs = {
        "random": make_run(root / "random", "smoke", RandomPolicy()),
        "oracle": make_run(root / "oracle", "smoke", OraclePolicy()),
        "good": make_run(root / "good", "smoke", FakeVLM("acme/vlm-7b", skill=0.9)),
        "weak": make_run(root / "weak", "smoke", FakeVLM("acme/vlm-2b", skill=0.2, seed=1)),
        "shard": make_run(root / "shard", "smoke", RandomPolicy(), shard=(0, 2)),
        "custom": make_run(root / "custom", custom_suite(["swap"], episodes=1, steps=3), RandomPolicy()),
    }
    with pytest.raises(KeyboardInterrupt):
        make_run(root / "incomplete", "smoke", Interrupting(RandomPolicy(), after=3))
    runs["incomplete"] = root / "incomplete"
    runs["figure"], runs["figure_reason"] = tamper_figure(runs["random"], root / "figure")
    runs["answer"], runs["answer_reason"] = tamper_answer(runs["random"], root / "answer")
    runs["mystery"] = unknown_suite(runs["random"], root / "mystery")
    return runs


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    """Every test gets its own g1bench cache (verdicts, Hub sync state)."""
    monkeypatch.setenv("G1BENCH_CACHE_DIR", str(tmp_path / "g1bench-cache"))


# -- the step-log codec ---------------------------------------------------------------------------------
def test_the_step_log_round_trips_exactly_through_parquet(smoke_runs):
    from g1bench.eval.rundir import read_steps_file
    from g1bench.leaderboard.entry import (canonical_steps, entry_from_run_dir, parquet_bytes, read_entry_files,
                                           read_parquet, steps_from_table, steps_table)

    run_dir = smoke_runs["good"]
    entry = entry_from_run_dir(run_dir)
    back = read_entry_files(entry.entry_id, entry.files)
    original, _ = read_steps_file(run_dir / "steps.jsonl")
    assert back.steps == original and canonical_steps(back.steps) == canonical_steps(original)
    for eid in original:  # same keys in the same order, same JSON types
        for a, b in zip(original[eid], back.steps[eid]):
            assert list(a) == list(b) and json.dumps(a) == json.dumps(b)
    v = verify_data(back.run, back.results, back.steps, source=entry.entry_id)
    assert v.ok and v.complete and v.steps_replayed == 32, v.problems

    # whatever a record holds comes back: odd types, missing and unknown keys, big ints, nulls, unicode
    odd = {"episode_id": "swap/paper/0", "step": 0, "game_index": 0, "state_hash": "ab", "frame": None,
           "prompt_hash": "cd", "answer": [0, 1, 0, 2], "parse_error": None, "action": None, "fallback_action": None,
           "reward": 1, "score_delta": 2.5, "valid": 1, "success": False, "reason": "é ✓ \x1b[31m", "terminated": False,
           "perception": "", "has_perception": False, "perception_ok": None, "format_ok": False,
           "input_tokens": 2 ** 70, "output_tokens": None, "latency_s": -0.0, "extra": {"cost_usd": 0.1, "k": [1]},
           "new_field": {"x": 1}}
    missing = {k: v for k, v in odd.items() if k not in ("frame", "extra", "new_field")} | {"answer": 3}
    table = steps_table({"swap/paper/0": [odd, missing | {"step": 1}]})
    again = steps_from_table(read_parquet(parquet_bytes(table), "t"))["swap/paper/0"]
    assert again == [odd, missing | {"step": 1}]
    assert [json.dumps(r) for r in again] == [json.dumps(odd), json.dumps(missing | {"step": 1})]
    assert type(again[0]["reward"]) is int and type(again[0]["valid"]) is int and "frame" not in again[1]


# -- scoring on hand-made numbers -------------------------------------------------------------------------
def test_the_overall_score_formula_on_hand_made_numbers():
    from g1bench.leaderboard import scoring

    game_of = {"a/x": "a", "a/y": "a", "b/x": "b"}
    anchor = scoring.anchors([{"a/x": 10, "a/y": 0, "b/x": 2}, {"a/x": 30, "a/y": 0, "b/x": 2}],  # two random entries
                             [{"a/x": 120, "a/y": 40, "b/x": 2}])
    # random a/x = mean(10, 30) = 20; b/x is left out (both baselines score 2)
    assert anchor == {"a/x": (20.0, 120.0), "a/y": (0.0, 40.0)}
    assert scoring.normalise(70, 20, 120) == 50.0
    # game a = mean(norm a/x, norm a/y) = mean(100 * 50 / 100, 100 * 10 / 40) = mean(50, 25) = 37.5; b has no anchor
    assert scoring.game_scores({"a/x": 70, "a/y": 10, "b/x": 5}, anchor, game_of) == {"a": 37.5}
    assert scoring.overall({"a/x": 70, "a/y": 10, "b/x": 5}, anchor, game_of) == 37.5
    two = {"a/x": (0.0, 10.0), "b/x": (1.0, 3.0)}
    # a: 100 * 5 / 10 = 50; b: 100 * (0 - 1) / 2 = -50 (below random: not clipped); overall 0
    assert scoring.overall({"a/x": 5, "b/x": 0}, two, game_of) == 0.0
    assert scoring.overall({"a/x": 15, "b/x": 3}, two, game_of) == 125.0  # above the oracle: not clipped
    assert scoring.overall({"a/x": 5}, two, game_of) is None  # a game missing: undefined
    assert scoring.overall({"a/x": 5}, {}, game_of) is None  # no baselines: undefined
    assert scoring.anchors([], [{"a/x": 1}]) == {}

    # the bootstrap: replicates of a constant model are constant; identical indices for every run (paired)
    reps = scoring.overall_replicates({"a/x": [5, 5, 5], "b/x": [2, 2]}, two, game_of)
    assert reps.shape == (scoring.RESAMPLES,) and np.all(reps == 50 * 0.5 + 50 * 0.5)
    assert np.array_equal(scoring.resample_indices("a/x", 3), scoring.resample_indices("a/x", 3))
    r1 = scoring.overall_replicates({"a/x": [0, 10, 5], "b/x": [1, 3]}, two, game_of)
    lo, hi = scoring.interval(r1)
    assert lo < scoring.overall({"a/x": 5, "b/x": 2}, two, game_of) < hi


def test_ranks_are_given_only_where_differences_are_meaningful():
    from g1bench.leaderboard.scoring import ranks

    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 2000)
    reps = [base + 50, base + 50.2, base + 10, None, base + 50, rng.normal(0, 3, 2000) + 30]
    points = [50.0, 50.2, 10.0, None, 50.0, 30.0]
    out = ranks(points, reps)
    # 50.2 vs 50: intervals overlap, but the paired difference is exactly +0.2 every time: significant
    assert [o["label"] for o in out] == ["=2", "1", "5", "", "=2", "4"]
    assert out[3] == {"rank": None, "tied": False, "label": ""}
    # a very uncertain row is below nobody with confidence: it shares the top rank
    wide = ranks([50.2, 30.0], [base + 50.2, rng.normal(0, 20, 2000) + 30])
    assert [o["label"] for o in wide] == ["=1", "=1"]
    # unpaired noise: the same point estimates with independent noise cannot be told apart
    noisy = [rng.normal(0, 5, 2000) + p for p in (50.0, 50.2)]
    assert [o["label"] for o in ranks([50.0, 50.2], noisy)] == ["=1", "=1"]


def test_model_types_come_from_the_backend_and_address():
    from g1bench.leaderboard.identity import anchor_of, model_name, model_repo, model_revision, model_type

    assert model_type({"policy": "random", "backend": "builtin", "seed": 0}) == "baseline"
    assert anchor_of({"policy": "random", "backend": "builtin", "seed": 0}) == "random"
    assert anchor_of({"policy": "random", "backend": "builtin", "seed": 1}) is None
    assert model_type({"backend": "vllm"}) == model_type({"backend": "transformers"}) == "open weights"
    assert model_type({"backend": "openai", "base_url": "http://127.0.0.1:8000/v1"}) == "open weights"
    assert model_type({"backend": "openai", "base_url": "http://10.0.0.7:8000/v1"}) == "open weights"
    assert model_type({"backend": "openai", "base_url": "https://api.openai.com/v1"}) == "API"
    assert model_type({"backend": "telepathy"}) == "unknown"
    hub = {"policy": "Qwen/Qwen2.5-VL-7B-Instruct", "model": {"model": "Qwen/Qwen2.5-VL-7B-Instruct", "source": "hub",
                                                               "revision": "main", "commit": "a" * 40}}
    assert model_repo(hub) == "Qwen/Qwen2.5-VL-7B-Instruct" and model_revision(hub) == "a" * 40
    assert model_repo({"model": {"model": "./ckpt", "source": "local"}}) is None
    assert model_name({"policy": "evil\x1b[2J\nname\u202e"}) == "evil name"


# -- Hub eval-results formats ------------------------------------------------------------------------------
def test_eval_yaml_and_eval_results_follow_the_hub_format():
    from g1bench.leaderboard.card import store_files
    from g1bench.leaderboard.evalresults import (EvalYamlError, benchmark_yaml, load_yaml, model_eval_results,
                                                 validate_benchmark, validate_eval_results)

    bench = validate_benchmark(load_yaml(store_files("org/lb")["eval.yaml"], "eval.yaml"))
    assert bench == benchmark_yaml()
    assert [(t["id"], t["config"], t["split"]) for t in bench["tasks"]] == [
        ("overall", "paper", "test"), ("2048", "paper-2048", "test"), ("shisensho", "paper-shisensho", "test"),
        ("shisensho-images", "paper-shisensho-images", "test"), ("swap", "paper-swap", "test")]
    card = store_files("org/lb")["README.md"].decode()
    front = load_yaml(card.split("---\n")[1], "card")
    configs = {c["config_name"]: c for c in front["configs"]}
    for t in bench["tasks"]:  # every task's config exists in the card, with the task's split
        assert configs[t["config"]]["data_files"][0]["split"] == t["split"]

    results = model_eval_results("org/lb", "f" * 40, {"overall": 12.345678, "2048": 900.0, "swap": 3.0},
                                 date="2026-01-15", source_url="https://hf.co/datasets/org/lb/tree/x",
                                 notes={"overall": "n", "2048": "m"})
    assert [r["dataset"]["task_id"] for r in results] == ["overall", "2048", "swap"]
    assert results[0]["value"] == 12.3457 and "notes" not in results[2]
    text = "\n".join(["- dataset:", "    id: org/lb", "    task_id: '2048'", "  value: 1", "  date: 2026-01-15"])
    assert validate_eval_results(load_yaml(text, "x"), benchmark={"org/lb": bench})
    validate_eval_results(results, benchmark={"org/lb": bench})
    bad = [
        ([{"dataset": {"id": "org/lb"}, "value": 1}], "task_id: required"),
        ([{"dataset": {"id": "org/lb", "task_id": "2048"}, "value": True}], "value: required, a finite number"),
        ([{"dataset": {"id": "org/lb", "task_id": "2048"}, "value": 1, "date": "yesterday"}], "ISO-8601"),
        ([{"dataset": {"id": "org/lb", "task_id": "2048"}, "value": 1, "score": 2}], "unknown keys ['score']"),
        ([{"dataset": {"id": "org/lb", "task_id": "chess"}, "value": 1}], "'chess' is not a task of org/lb"),
        ([{"dataset": {"id": "org/lb", "task_id": "2048"}, "value": 1, "source": {"name": "x"}}], "source.url"),
        ([], "non-empty list"),
    ]
    for data, reason in bad:
        with pytest.raises(EvalYamlError, match=reason.replace("[", r"\[").replace("]", r"\]")):
            validate_eval_results(data, benchmark={"org/lb": bench})
    with pytest.raises(EvalYamlError, match="tasks\\[0\\].id must be non-empty text"):
        validate_benchmark({**bench, "tasks": [{"id": 2048, "config": "paper-2048", "split": "test"}]})
    with pytest.raises(EvalYamlError, match="repeated"):
        validate_benchmark({**bench, "tasks": bench["tasks"] + bench["tasks"][:1]})


# -- the local store: push, refusals, corrupt entries, aggregation ------------------------------------------
def test_local_store_push_refuse_aggregate_and_fetch(smoke_runs, tmp_path, monkeypatch):
    from g1bench.leaderboard import PushRefused, aggregate, open_store, push_run
    from g1bench.leaderboard.isolation import VerifierPool
    from g1bench.leaderboard.store import LocalStore

    store = open_store(str(tmp_path / "store"))
    assert isinstance(store, LocalStore)
    pushed = {}
    for name in ("random", "oracle", "good", "weak"):
        res = push_run(smoke_runs[name], store, frames=name == "good")
        assert res.changed and res.entry_id.startswith("smoke-v3/")
        pushed[name] = res.entry_id
    assert pushed["good"].startswith("smoke-v3/acme-vlm-7b--")
    folder = store.root / "entries" / pushed["random"]
    stamp = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = push_run(smoke_runs["random"], store)  # the same run: nothing written
    assert again.entry_id == pushed["random"] and not again.changed
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamp
    # the verdicts reached when pushing are found by content: aggregating here replays nothing
    with monkeypatch.context() as m:
        m.setattr(VerifierPool, "run", lambda *a, **k: pytest.fail("re-verified a run verified at push"))
        assert len(aggregate(store, log=lambda line: None).entries) == 4

    refusals = {
        "figure": smoke_runs["figure_reason"],
        "answer": smoke_runs["answer_reason"],
        "incomplete": f"is incomplete (0/8 episodes of smoke-v3): finish it with `g1bench eval --resume -o "
                      f"{smoke_runs['incomplete']}`",
        "shard": "is shard 0/2 of smoke-v3: join the shards with `g1bench merge`",
        "mystery": "uses the suite mystery-v3, which is not a built-in one: the leaderboard takes the built-in suites only",
        "custom": "uses the custom suite custom-swap-paper-e1-s3-seed0-v1: the leaderboard takes the built-in suites only",
    }
    for name, reason in refusals.items():
        with pytest.raises(PushRefused) as e:
            push_run(smoke_runs[name], store)
        assert reason in str(e.value) and "\n" not in str(e.value), (name, str(e.value))
    assert len(store.entries()) == 4

    # corrupt entries placed directly in the store are skipped, each with its reason
    good_dir = store.root / "entries" / pushed["good"]
    edited = store.root / "entries" / "smoke-v3" / f"acme-vlm-7b--{'0' * 16}"
    shutil.copytree(good_dir, edited)  # a copy under another id: its content does not hash to its name
    garbage = store.root / "entries" / "smoke-v3" / f"acme-vlm-7b--{'1' * 16}"
    shutil.copytree(good_dir, garbage)
    (garbage / "steps.parquet").write_bytes(b"PAR1 not really")
    figure = store.root / "entries" / "smoke-v3" / f"acme-vlm-7b--{'2' * 16}"
    shutil.copytree(good_dir, figure)
    edit_json(figure / "results.json", lambda r: r["results"]["swap/paper"].update(parse_failure_rate=0.75))
    (store.root / "entries" / "smoke-v3" / "not-an-entry").mkdir()
    logged = []
    lb = aggregate(store, cache=False, log=logged.append)
    reasons = {s["entry_id"]: s["reason"] for s in lb.skipped}
    assert set(reasons) == {edited.relative_to(store.root / "entries").as_posix(), "smoke-v3/not-an-entry",
                            garbage.relative_to(store.root / "entries").as_posix(),
                            figure.relative_to(store.root / "entries").as_posix()}
    assert "hashes to" in reasons[f"smoke-v3/acme-vlm-7b--{'0' * 16}"]
    assert "not a readable parquet file" in reasons[f"smoke-v3/acme-vlm-7b--{'1' * 16}"]
    assert "does not verify: results.json results['swap/paper'].parse_failure_rate: recorded 0.75" in \
        reasons[f"smoke-v3/acme-vlm-7b--{'2' * 16}"]
    assert "not an entry id" in reasons["smoke-v3/not-an-entry"]
    assert len(logged) == 4 and all(line.startswith("skipped ") for line in logged)

    # the table's numbers are the runs' numbers
    res = {k: json.loads((smoke_runs[k] / "results.json").read_text()) for k in ("random", "oracle", "good", "weak")}
    groups = [f"{g}/paper" for g in GAMES]
    rows = {r["entry_id"]: r for r in lb.table("smoke")}
    assert [r["kind"] for r in lb.table("smoke")] == ["measured", "measured", "baseline", "baseline"]
    for name, eid in pushed.items():
        row = rows[eid]
        for g in GAMES:
            cell = res[name]["results"][f"{g}/paper"]
            assert (row[g], row[f"{g}_ci95_low"], row[f"{g}_ci95_high"]) == (cell["mean"], *cell["ci95"])
        assert row["overall"] == pytest.approx(expected_overall(res[name], res["random"], res["oracle"], groups), abs=1e-9)
        for k, v in pooled_rates(smoke_runs[name]).items():
            assert row[k] == (pytest.approx(v) if v is not None else None), (name, k)
        assert row["entry_url"] == (store.root / "entries" / eid).resolve().as_uri()
    assert rows[pushed["random"]]["overall"] == 0 and rows[pushed["oracle"]]["overall"] == 100
    good, weak = rows[pushed["good"]], rows[pushed["weak"]]
    assert good["model_type"] == "open weights" and good["model_revision"] == "c0ffee" * 6 + "beef"
    assert good["mean_output_tokens"] > 0 and good["mean_latency_s"] == 0.25 and good["cost_usd"] == pytest.approx(32e-4)
    assert good["rank_label"] in ("1", "=1") and weak["rank_label"] in ("2", "=1")
    assert rows[pushed["random"]]["rank_label"] == "" and rows[pushed["random"]]["model_type"] == "baseline"
    assert lb.suites["smoke-v3"]["anchors"]["swap/paper"] == [0.0, 4.0]
    paper = lb.table("paper")  # no paper-suite entries: the paper's reported rows only, marked
    assert [r["model"] for r in paper][:2] == ["G1-7B", "Claude-3.7-Sonnet-Thinking"]
    assert {r["kind"] for r in paper} == {"reported in the paper"} and len(paper) == 8

    # a second aggregation with nothing new verifies nothing (verdicts cached by content)
    with monkeypatch.context() as m:
        m.setattr(VerifierPool, "run", lambda *a, **k: pytest.fail("re-verified"))
        lb2 = aggregate(store, log=lambda line: None)
    assert lb2.stats["verified"] == 0 and lb2.rows == lb.rows and lb2.skipped == lb.skipped
    # two verifier processes (python -m g1bench.leaderboard.isolation) reach the same verdicts
    lb3 = aggregate(store, cache=False, workers=2, log=lambda line: None)
    assert lb3.stats["workers"] == 2 and lb3.stats["verified"] == 7 and 0 < lb3.stats["verifier_peak_rss_mb"] < 1024
    assert lb3.rows == lb.rows and lb3.skipped == lb.skipped

    # an entry comes back as a run directory that verifies, frames included
    out = store.fetch_entry(pushed["good"], tmp_path / "fetched")
    v = verify_run(out)
    assert v.ok and v.complete, v.problems
    assert sorted(p.name for p in (out / "frames").iterdir()) == sorted(p.name for p in (smoke_runs["good"] / "frames").iterdir())


def test_the_cli_pushes_refuses_and_exports(smoke_runs, tmp_path, capsys):
    from g1bench.cli import main

    store = str(tmp_path / "s")
    assert main(["push", str(smoke_runs["random"]), "--repo", store]) == 0
    assert capsys.readouterr().out.startswith("pushed: smoke-v3/random--")
    assert main(["push", str(smoke_runs["random"]), "--repo", store]) == 0
    assert capsys.readouterr().out.startswith("unchanged (already in the store): smoke-v3/random--")
    assert main(["push", str(smoke_runs["answer"]), "--repo", store]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {smoke_runs['answer']} does not verify: {smoke_runs['answer_reason']}\n"
    assert main(["push", str(tmp_path / "nowhere"), "--repo", store]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    (tmp_path / "afile").write_text("not a store")
    for cmd in (["push", str(smoke_runs["random"])], ["leaderboard"]):
        assert main([*cmd, "--repo", str(tmp_path / "afile")]) == 2
        assert capsys.readouterr().err == f"error: {tmp_path / 'afile'} is a file, not a results store folder\n"
    assert main(["push", str(smoke_runs["random"]), "--repo", store, "--model-pr"]) == 2
    assert "--model-pr needs a Hub results repo" in capsys.readouterr().err
    # eval --push: a fresh run goes straight to the store
    assert main(["eval", "--model", "oracle", "--suite", "smoke", "-o", str(tmp_path / "o"), "--quiet", "--no-frames",
                 "--push", "--repo", store]) == 0
    assert "pushed: smoke-v3/oracle--" in capsys.readouterr().out

    for fmt in ("table", "csv", "md", "json"):
        assert main(["leaderboard", "--repo", store, "--suite", "smoke", "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert "oracle" in out and "random" in out
    assert main(["leaderboard", "--repo", store, "--suite", "smoke", "--format", "json", "-o", str(tmp_path / "lb.json")]) == 0
    assert capsys.readouterr().out.startswith("wrote ")
    data = json.loads((tmp_path / "lb.json").read_text())
    assert data["formula"] == "g1bench-overall/1" and [r["model"] for r in data["rows"]] == ["oracle", "random"]
    assert main(["leaderboard", "--repo", store, "--suite", "smoke", "--format", "csv"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split(",")
    assert header[:5] == ["rank_label", "kind", "model", "model_type", "overall"] and "2048_ci95_low" in header


def test_entry_text_is_plain_and_escaped(smoke_runs, tmp_path):
    from g1bench.leaderboard import aggregate, open_store, push_run

    nasty = "<img src=x onerror=alert(1)>|[click](http://evil.example)"
    run = make_run(tmp_path / "nasty", "smoke", ServedVLM(nasty, skill=0.5), save_frames=False)
    store = open_store(str(tmp_path / "s"))
    res = push_run(run, store)
    assert "/" in res.entry_id and ".." not in res.entry_id and "<" not in res.entry_id
    lb = aggregate(store, log=lambda line: None)
    row = lb.table("smoke")[0]
    assert row["model"] == "<img src=x onerror=alert(1)>|[click](http://evil.example)"  # plain text, escapes gone
    md = lb.to_markdown("smoke")
    assert "<img" not in md and "](http" not in md and "\x1b" not in md
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;\\|\\[click\\]\\(http://evil.example\\)" in md
    assert "\x1b" not in lb.to_text("smoke") and "\x1b" not in lb.to_csv("smoke")
    formula = make_run(tmp_path / "formula", "smoke", ServedVLM("=HYPERLINK(\"http://evil.example\")", skill=0.5),
                       save_frames=False)
    push_run(formula, store)
    csv_text = aggregate(store, log=lambda line: None).to_csv("smoke")
    assert "'=HYPERLINK" in csv_text and ',=HYPERLINK' not in csv_text  # a spreadsheet shows it as text
    # a name with control characters (an ANSI escape) is not shown cleaned: it is refused
    from g1bench.leaderboard import PushRefused

    escaped = make_run(tmp_path / "ansi", "smoke", ServedVLM("evil\x1b[31m", skill=0.6), save_frames=False)
    with pytest.raises(PushRefused) as e:
        push_run(escaped, store)
    assert str(e.value) == f"{escaped}: its model name has a control character (U+001B)"


def test_load_dataset_reads_the_results_and_steps_configs(smoke_runs, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    import datasets

    from g1bench.leaderboard import open_store, push_run

    store = open_store(str(tmp_path / "store"))
    ids = [push_run(smoke_runs[k], store).entry_id for k in ("random", "good")]
    cache = str(tmp_path / "hf_home" / "datasets")
    assert sorted(datasets.get_dataset_config_names(str(store.root))) == sorted(
        ["results", "steps", "paper", "paper-2048", "paper-shisensho", "paper-shisensho-images", "paper-swap"])
    results = datasets.load_dataset(str(store.root), "results", split="train", cache_dir=cache)
    assert len(results) == 2 * 4 and sorted(set(results["entry_id"])) == sorted(ids)
    good = json.loads((smoke_runs["good"] / "results.json").read_text())
    row = next(r for r in results if r["entry_id"] == ids[1] and r["group"] == "swap/paper")
    cell = good["results"]["swap/paper"]
    assert (row["mean"], row["ci95_low"], row["n"], row["perception_accuracy"], row["model_type"]) == \
        (cell["mean"], cell["ci95"][0], cell["n"], cell["perception_accuracy"], "open weights")
    steps = datasets.load_dataset(str(store.root), "steps", split="train", cache_dir=cache)
    assert len(steps) == 2 * 32
    mine = [s for s in steps if s["entry_id"] == ids[1]]
    log = steps_of(smoke_runs["good"])
    key = lambda s: (s["episode_id"], s["step"])  # noqa: E731
    by_key = {key(s): s for s in log}
    for s in mine:
        rec = by_key[key(s)]
        assert (s["answer"], json.loads(s["action"]) if s["action"] else None, s["reward"], s["state_hash"]) == \
            (rec["answer"], rec["action"], rec["reward"], rec["state_hash"])
        assert s["game"] == rec["episode_id"].split("/")[0] and s["model"] == "acme/vlm-7b"
    episodes = datasets.load_dataset(str(store.root), "paper-swap", split="test", cache_dir=cache)
    assert len(episodes) == 10 and set(episodes["game"]) == {"swap"}


def test_plots_of_the_grid_suite_as_data_and_png(tmp_path):
    """Heatmaps and the perception plot from hand-made grid summaries (real grid runs take too long here)."""
    pytest.importorskip("matplotlib")
    from g1bench.games import GAMES
    from g1bench.leaderboard.aggregation import Leaderboard

    suite = get_suite("grid")

    def summary(name: str, policy_anchor: str | None, score) -> dict:
        groups = {}
        for key in suite.groups():
            game, diff = key.split("/")
            m = float(score(game, diff))
            groups[key] = {"game": game, "difficulty": diff, "mean": m, "ci95": [m, m], "n": 5, "steps": 150,
                           "perception_accuracy": None if policy_anchor else (0.9 if diff == "base" else 0.4)}
        return {"entry_id": f"grid-v2/{name}--{'0' * 16}", "suite_id": "grid-v2", "suite_name": "grid",
                "suite_hash": "h", "model": name, "model_type": "baseline" if policy_anchor else "open weights",
                "model_revision": None, "anchor": policy_anchor, "backend": "x", "date": "2026-01-01",
                "g1bench_version": "0", "groups": groups, "totals": {},
                "episode_scores": {k: [g["mean"]] * 5 for k, g in groups.items()}}

    lb = Leaderboard.build([summary("random", "random", lambda g, d: 0), summary("oracle", "oracle", lambda g, d: 10),
                            summary("m", None, lambda g, d: 9 if d == "base" else 2)], [])
    maps = lb.heatmaps(tmp_path / "plots")
    assert [m["model"] for m in maps] == ["random", "oracle", "m"] and all(Path(m["png"]).is_file() for m in maps)
    m = maps[2]
    assert m["value"] == "normalised"
    cell = next(c for c in m["cells"] if c["game"] == "swap" and c["difficulty"] == "large")
    assert (cell["perception"], cell["reasoning"]) == GAMES["swap"].Config.preset_grid["large"] == ("base", "large")
    assert cell["normalised"] == 20.0 and cell["mean"] == 2.0
    plot = lb.perception_plot(tmp_path / "plots")
    assert Path(plot["png"]).is_file() and {p["model"] for p in plot["points"]} == {"m"}
    assert {(p["perception_accuracy"], p["normalised"]) for p in plot["points"]} == {(0.9, 90.0), (0.4, 20.0)}
    fig = lb.perception_plot()["figure"]  # no folder: a matplotlib figure for the Space
    assert fig is not None and lb.to_dataframe("grid").shape[0] == 3


def test_the_published_leaderboard_folder_is_consistent():
    """leaderboard/ is what `python leaderboard/build.py` made: its baselines verify on this g1bench's paper
    suite and anchor the overall score; its card, eval.yaml and paper rows are the package's."""
    from g1bench.leaderboard import aggregate, open_store
    from g1bench.leaderboard.card import store_files
    from g1bench.leaderboard.evalresults import benchmark_yaml, load_yaml
    from g1bench.leaderboard.paper import paper_rows_csv

    folder = Path(__file__).resolve().parent.parent / "leaderboard"
    lb = aggregate(open_store(str(folder)), log=lambda line: None)
    assert lb.skipped == [], "rebuild with `python leaderboard/build.py --rebuild`"
    suite = get_suite("paper")
    assert sorted(e["anchor"] for e in lb.entries) == ["oracle", "random"]
    assert {(e["suite_id"], e["suite_hash"]) for e in lb.entries} == {(suite.suite_id, suite.hash())}
    rows = lb.table("paper")
    assert [r["overall"] for r in rows if r["kind"] == "baseline"] == [100.0, 0.0]
    assert load_yaml((folder / "eval.yaml").read_text(), "eval.yaml") == benchmark_yaml()
    assert (folder / "paper_reported.csv").read_text() == paper_rows_csv()
    card = (folder / "README.md").read_text()
    assert card.startswith(store_files("ORG/g1bench-results")["README.md"].decode().split("Written by")[0])
    assert lb.to_markdown("paper") in card
    from g1bench.leaderboard.entry import read_parquet

    for path, data in store_files("ORG/g1bench-results").items():
        if path.endswith(".parquet"):  # the same episodes (bytes may differ with the pyarrow version)
            assert read_parquet((folder / path).read_bytes(), path).to_pylist() == read_parquet(data, path).to_pylist()

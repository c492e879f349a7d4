"""Hostile leaderboard entries: none can crash, hang or flood the leaderboard, or move its ranks.

One case per class of issue 16 (and a few more), each asserting the refusal and its exact reason, that the
table is still printed (no traceback), and the time and memory it took (each entry is verified in a verifier
process under its budget; the aggregation records per entry the seconds and the verifier's peak memory).
The same store is aggregated from a local folder and from the local Hub server (real huggingface_hub client
in a subprocess, as in tests/test_leaderboard_hub.py). Push-time refusals, the push race, the verdict cache,
budgets and `--model-pr` have their own tests below.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from g1bench import __version__
from g1bench.eval.results import load
from g1bench.eval.rundir import read_run_json, read_steps_file
from g1bench.testing import HubServer, hub_env

from test_leaderboard import make_run, smoke_runs, FakeVLM, ServedVLM  # noqa: F401 (fixture)

#: every hostile entry is judged within these bounds (a loaded 2-core machine; a smoke entry takes ~50 ms)
ENTRY_SECONDS = 20.0
ENTRY_PEAK_MB = 700.0


def run_data(run_dir: Path) -> tuple[dict, dict, dict]:
    return read_run_json(run_dir), load(run_dir), read_steps_file(run_dir / "steps.jsonl")[0]


def rebuild(run: dict, results: dict, steps: dict) -> dict:
    """results.json recomputed from an edited run (so only the edit itself is hostile), when it can be."""
    from g1bench.eval.runner import build_results
    from g1bench.eval.suites import Suite

    try:
        suite = Suite.from_dict(run["suite"])
        prov = results["provenance"]
        return build_results(suite, {"suite": run["suite"], "policy": run["policy"], "shard": None,
                                     "start_time": prov["start_time"]}, suite.episodes, steps, end_time=prov["end_time"])
    except (ArithmeticError, ValueError, KeyError, TypeError):
        return results  # numbers no results file can hold: the step records are refused first anyway


def set_policy(run: dict, results: dict, policy: dict) -> None:
    run["policy"] = policy
    results["provenance"]["policy"] = policy


def served(name: Any) -> dict:
    return {"policy": name, "backend": "openai", "base_url": "https://api.example.com/v1",
            "model": {"model": "m", "source": "server"}}


# -- hostile entries: (name, base run, edit(run, results, steps), the reason's expected text) --------------
def _tokens(n):
    def edit(run, results, steps):
        steps["2048/paper/0"][0]["input_tokens"] = n
    return edit


def _depth6(run, results, steps):
    set_policy(run, results, {"policy": "oracle", "backend": "builtin", "depth": 6})


def _warmup(run, results, steps):
    run["suite"]["episodes"][0]["warmup"] = 10 ** 9


def _custom_steps(run, results, steps):
    run["suite"]["episodes"][0]["steps"] = 10 ** 9
    run["suite"]["name"] = "custom-2048-paper-e1-s1000000000-seed0"


def _name(value, backend="builtin"):
    def edit(run, results, steps):
        set_policy(run, results, {"policy": value, "backend": backend} if backend == "builtin" else served(value))
    return edit


def _model(**changes):
    def edit(run, results, steps):
        policy = copy.deepcopy(results["provenance"]["policy"])
        model = policy["model"]
        for k, v in changes.items():
            if k == "commit":
                model["commit"] = v
        set_policy(run, results, policy)
        for recs in steps.values():
            for r in recs:
                if "tokens" in changes:
                    r["input_tokens"] = None
                if "latency" in changes:
                    r["latency_s"] = 0.0
    return edit


def _date(value):
    def edit(run, results, steps):
        run["start_time"] = results["provenance"]["start_time"] = value
    return edit


def _long_answer(run, results, steps):
    steps["swap/paper/0"][0]["answer"] = "x" * 300_000


HOSTILE: list[tuple[str, str, Callable, str]] = [
    ("tokens-10e400", "random", _tokens(10 ** 400),
     "input_tokens must be a non-negative integer or null (at most 10,000,000 per step), got 1000000000"),
    ("tokens-10e30", "random", _tokens(10 ** 30),
     "input_tokens must be a non-negative integer or null (at most 10,000,000 per step), got 10000000000000000"),
    ("oracle-depth6", "random", _depth6, "run.json policy: the built-in baseline 'oracle' takes depth as an integer "
                                         "from 1 to 3, got 6"),
    ("warmup-1e9", "random", _warmup, "suite smoke-v3 declares 32 policy steps and 1,000,000,010 warm-up moves in 8 "
                                      "episodes: verifying it needs a budget of 2,000,036 s and 386 MB, more than the "
                                      "largest (3,600 s, 4,096 MB); refused without replaying it"),
    ("steps-1e9", "random", _custom_steps, "the entry uses the custom suite custom-2048-paper-e1-s1000000000-seed0-v3: "
                                           "the leaderboard takes the built-in suites only"),
    ("zero-width-oracle", "random", _name("oracle\u200b"), "its model name 'oracle\\u200b' looks like the name of "
                                                           "g1bench's built-in baseline 'oracle'"),
    ("cyrillic-oracle", "random", _name("\u043eracle"), "its model name 'оracle' looks like the name of g1bench's "
                                                        "built-in baseline 'oracle'"),
    ("served-random", "weak", _name("RANDOM", "openai"), "its model name 'RANDOM' looks like the name of g1bench's "
                                                         "built-in baseline 'random'"),
    ("object-name", "weak", _name({"a": 1}, "openai"), "its model name must be text, got dict"),
    ("bidi-name", "weak", _name("acme\u202emodel", "openai"), "its model name has an invisible or direction-changing "
                                                              "character (U+202E)"),
    ("vllm-zero-commit", "good", _model(commit="0" * 40), "policy.model.commit must be the 40-hex commit its weights "
                                                          "were loaded at, got '0000000000"),
    ("vllm-no-tokens", "good", _model(tokens=True), "2048/paper/0 step 0 records no input_tokens: a transformers run "
                                                    "records token counts at every step"),
    ("vllm-zero-latency", "good", _model(latency=True), "2048/paper/0 step 0 records a latency of 0.0: a transformers "
                                                        "run records the time of every model call (above zero)"),
    ("date-1999", "random", _date("1999-01-01T00:00:00+00:00"), "run.json start_time 1999-01-01T00:00:00+00:00 is "
                                                                "before the suite 'smoke' was released (2025-05-19)"),
    ("date-not-a-date", "random", _date("not-a-date"), "run.json start_time must be an ISO 8601 date and time with a "
                                                       "time zone, got 'not-a-date'"),
    ("date-future", "random", _date("2999-01-01T00:00:00+00:00"), "run.json start_time 2999-01-01T00:00:00+00:00 is in "
                                                                  "the future"),
    ("long-answer", "random", _long_answer, "swap/paper/0 step 0: answer must be text of at most 262,144 bytes of JSON"),
]


def _parquet_rows(rows: int):
    """A steps.parquet of ``rows`` rows with the step-table schema (a million rows compress to a few KB)."""
    def make(entry_files: dict[str, bytes]) -> dict[str, bytes]:
        import pyarrow as pa

        from g1bench.leaderboard.entry import parquet_bytes, steps_schema

        schema = steps_schema()
        big = pa.Table.from_arrays([pa.nulls(rows, type=f.type) for f in schema], schema=schema)
        return {**entry_files, "steps.parquet": parquet_bytes(big)}
    return make


def _duplicate_row(entry_files):
    import pyarrow as pa

    from g1bench.leaderboard.entry import parquet_bytes, read_parquet

    t = read_parquet(entry_files["steps.parquet"], "t")
    rows = t.to_pylist()
    twin = dict(rows[0], answer="<answer> 3 </answer>")  # a conflicting second record of the same step
    return {**entry_files, "steps.parquet": parquet_bytes(pa.Table.from_pylist([rows[0], twin] + rows[2:], schema=t.schema))}


def _expanding_cell(entry_files):
    import pyarrow as pa

    from g1bench.leaderboard.entry import parquet_bytes, read_parquet

    t = read_parquet(entry_files["steps.parquet"], "t")
    rows = t.to_pylist()
    rows[0]["exceptions"] = json.dumps({"set": {"padding": "z" * 20_000_000}})  # 20 MB that zstd makes tiny
    return {**entry_files, "steps.parquet": parquet_bytes(pa.Table.from_pylist(rows, schema=t.schema))}


#: entries whose files are hostile (their folder name cannot be their hash: they are refused before hashing)
RAW: list[tuple[str, Callable, str]] = [
    ("million-rows", _parquet_rows(1_000_000), "steps.parquet: 1,000,000 rows, but its suite has 32 steps to answer "
                                               "(one row per answered step); refused without reading them"),
    ("duplicate-row", _duplicate_row, "steps.parquet row 1: a second row of '2048/paper/0' step 0 (one row per "
                                      "answered step, numbered from 0)"),
    ("expanding-cell", _expanding_cell, "steps.parquet: its rows take 19.1 MB uncompressed, more than the 5.0 MB its "
                                        "suite's steps may log; refused without reading them"),
]


def copies_of(weak: Path, tmp: Path) -> list[tuple[dict, dict, dict]]:
    """The weak model's answers under 16 other names, and 5 times with only start_time edited."""
    run, results, steps = run_data(weak)
    out = []
    for i in range(16):
        r, res = copy.deepcopy(run), copy.deepcopy(results)
        set_policy(r, res, served(f"famous/model-{i:02d}"))
        out.append((r, res, steps))
    for i in range(5):
        r, res = copy.deepcopy(run), copy.deepcopy(results)
        stamp = f"2026-0{i + 1}-01T00:00:00+00:00"
        r["start_time"] = res["provenance"]["start_time"] = stamp
        out.append((r, res, steps))
    return out


@pytest.fixture(scope="module")
def hostile_store(smoke_runs, tmp_path_factory) -> dict[str, Any]:
    """A local store with honest entries (the anchors, a good and a weak model), the weak model's 21 copies, and
    one hostile entry per case: ``{"folder", "expect": {entry_id: reason}, "honest": {...}, "copies": [...]}``."""
    from g1bench.leaderboard.entry import ENTRIES_DIR, make_entry
    from g1bench.leaderboard.store import LocalStore

    folder = tmp_path_factory.mktemp("hostile") / "store"
    store = LocalStore(folder)
    honest = {}
    for name in ("random", "oracle", "good", "weak"):
        e = make_entry(*run_data(smoke_runs[name]))
        store.put(e)
        honest[name] = e.entry_id
        time.sleep(0.01)  # the local store orders entries by write time: the copies come later
    copies = []
    for data in copies_of(smoke_runs["weak"], folder.parent):
        e = make_entry(*data)
        store.put(e)
        copies.append(e.entry_id)
    expect = {}
    for case, base, edit, reason in HOSTILE:
        run, results, steps = (copy.deepcopy(x) for x in run_data(smoke_runs[base]))
        edit(run, results, steps)
        e = make_entry(run, rebuild(run, results, steps), steps)
        store.put(e)
        expect[e.entry_id] = reason
    good = make_entry(*run_data(smoke_runs["good"]))
    for i, (case, make, reason) in enumerate(RAW):
        eid = f"smoke-v3/acme-vlm-7b--{i:016x}"
        target = folder / ENTRIES_DIR / eid
        target.mkdir(parents=True)
        for name, data in make(good.files).items():
            (target / name).write_bytes(data)
        expect[eid] = reason
    return {"folder": folder, "expect": expect, "honest": honest, "copies": copies}


def check_table(lb_json: dict, expect: dict[str, str], honest: dict[str, str], copies: list[str]) -> None:
    """The refusals and the table of an aggregation of :func:`hostile_store` (from either store)."""
    skipped = {s["entry_id"]: s["reason"] for s in lb_json["skipped"]}
    for eid, reason in expect.items():
        assert eid in skipped, (eid, reason)
        assert reason in skipped[eid], (eid, skipped[eid])
        assert "\n" not in skipped[eid] and "Traceback" not in skipped[eid]
    assert set(skipped) == set(expect)
    rows = lb_json["rows"]
    measured = [r for r in rows if r["kind"] == "measured"]
    assert [r["entry_id"] for r in measured] == [honest["good"], honest["weak"]]  # one row per distinct run
    assert measured[0]["rank_label"] == "1" and measured[1]["rank_label"] == "2"
    copied = [r for r in rows if r["kind"] == "copy"]
    assert sorted(r["entry_id"] for r in copied) == sorted(copies)
    assert all(r["copy_of"] == honest["weak"] and r["rank"] is None for r in copied)
    base = [r for r in rows if r["kind"] == "baseline"]
    assert sorted(r["model"] for r in base) == ["oracle", "random"]  # no lookalike among the baselines
    assert [r["overall"] for r in base] == [100.0, 0.0]


def test_hostile_entries_in_a_local_store_are_skipped_with_their_reasons(hostile_store, tmp_path, capsys):
    from g1bench.cli import main
    from g1bench.leaderboard import aggregate

    t = time.perf_counter()
    lb = aggregate(str(hostile_store["folder"]), cache_root=tmp_path / "cache", log=lambda line: None)
    seconds = time.perf_counter() - t
    check_table(json.loads(lb.to_json("smoke")), hostile_store["expect"], hostile_store["honest"], hostile_store["copies"])
    checks = lb.stats["checks"]
    assert set(hostile_store["expect"]) <= set(checks)
    for eid in hostile_store["expect"]:
        secs, peak = checks[eid]
        assert secs < ENTRY_SECONDS and peak is not None and peak < ENTRY_PEAK_MB, (eid, secs, peak)
    assert seconds < 120 and lb.stats["over_budget"] == 0
    # the command prints the table (exit 0), one note per skipped entry, no traceback
    assert main(["leaderboard", "--repo", str(hostile_store["folder"]), "--suite", "smoke"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("smoke-v3 (hash ") and "# copies (the same answers as an entry above; no rank)" in out
    assert len([ln for ln in err.splitlines() if ln.startswith("note: skipped ")]) == len(hostile_store["expect"])
    assert "Traceback" not in err


# -- the same on the Hub --------------------------------------------------------------------------------------
TOKEN = "hf_hostile_token_1234"
UPLOAD = r'''
import json, sys
from huggingface_hub import HfApi
api = HfApi()
api.create_repo(sys.argv[1], repo_type="dataset", exist_ok=True)
c = api.upload_folder(repo_id=sys.argv[1], repo_type="dataset", folder_path=sys.argv[2], commit_message=sys.argv[3])
print(json.dumps({"commit": c.oid}))
'''
AGGREGATE = r'''
import json, sys, time
from g1bench.leaderboard import aggregate
t = time.perf_counter()
lb = aggregate(sys.argv[1], log=lambda line: None, resolve=False)  # models: see test_model_not_resolved
print(json.dumps({"lb": json.loads(lb.to_json("smoke")), "checks": lb.stats["checks"], "seconds": time.perf_counter() - t}))
'''


def _py(env: dict, code: str, *args: str) -> dict:
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_hostile_entries_in_a_hub_store_are_skipped_with_their_reasons(hostile_store, tmp_path):
    """The same entries in a Hub dataset repo, plus one whose file the listing shows too large: it is not
    downloaded. Each entry goes up in its own commit, in the local store's order (the Hub's order decides copies)."""
    from g1bench.leaderboard.entry import ENTRIES_DIR

    src = hostile_store["folder"] / ENTRIES_DIR
    with HubServer(orgs=("org",)) as hub:
        env = hub_env(hub, tmp_path / "home", token=TOKEN)
        env.update(G1BENCH_CACHE_DIR=str(tmp_path / "cache"), HF_DATASETS_OFFLINE="1", PYTHONWARNINGS="ignore")
        repo = "org/hostile"
        ordered = sorted((p for p in src.glob("*/*") if p.is_dir()), key=lambda p: (p / "run.json").stat().st_mtime_ns)
        honest_first = [p for p in ordered if f"{p.parent.name}/{p.name}" in hostile_store["honest"].values()]
        batches = [honest_first, [p for p in ordered if p not in honest_first]]
        for i, batch in enumerate(batches):
            stage = tmp_path / f"stage{i}"
            for p in batch:
                shutil.copytree(p, stage / ENTRIES_DIR / p.parent.name / p.name)
            _py(env, UPLOAD, repo, str(stage), f"batch {i}")
        big = tmp_path / "big" / ENTRIES_DIR / "smoke-v3" / f"acme-vlm-7b--{'e' * 16}"
        shutil.copytree(src / hostile_store["honest"]["good"], big)
        (big / "results.parquet").write_bytes(b"\0" * (5 * 2 ** 20))  # over the 4 MiB a results.parquet may have
        _py(env, UPLOAD, repo, str(tmp_path / "big"), "too large")
        hub.requests.clear()
        got = _py(env, AGGREGATE, repo)
        expect = dict(hostile_store["expect"])
        expect[f"smoke-v3/acme-vlm-7b--{'e' * 16}"] = ("results.parquet is 5,242,880 bytes in the Hub listing, more "
                                                       "than the 4,194,304 bytes an entry's results.parquet may have; "
                                                       "not downloaded")
        check_table(got["lb"], expect, hostile_store["honest"], hostile_store["copies"])
        assert not any("eeeeeeeeeeeeeeee" in path for _, path in hub.requests if "/resolve/" in path)
        for eid in hostile_store["expect"]:
            secs, peak = got["checks"][eid]
            assert secs < ENTRY_SECONDS and peak is not None and peak < ENTRY_PEAK_MB, (eid, secs, peak)


# -- push: one error line, and it stores what it verified ---------------------------------------------------------
PUSH_REFUSALS = [
    ("a date that is not one", lambda run, res: (run.update(start_time="not-a-date"),
                                                 res["provenance"].update(start_time="not-a-date")),
     "run.json start_time must be an ISO 8601 date and time with a time zone, got 'not-a-date'"),
    ("a JSON object as the model name", lambda run, res: set_policy(run, res, served({"x": 1})),
     "its model name must be text, got dict"),
    ("an oracle of depth '2'", lambda run, res: set_policy(run, res, {"policy": "oracle", "backend": "builtin",
                                                                        "depth": "2"}),
     "does not verify: run.json policy: the built-in baseline 'oracle' takes depth as an integer from 1 to 3, got '2'"),
    ("a seed of -1", lambda run, res: set_policy(run, res, {"policy": "random", "backend": "builtin", "seed": -1}),
     "does not verify: run.json policy: the built-in baseline 'random' takes seed as an integer from 0 to 2**63-1, "
     "got -1"),
    ("a lookalike of a baseline", lambda run, res: set_policy(run, res, {"policy": "rand\u043em", "backend": "builtin"}),
     "its model name 'randоm' looks like the name of g1bench's built-in baseline 'random'"),
]


@pytest.mark.parametrize("what,edit,reason", PUSH_REFUSALS, ids=[c[0] for c in PUSH_REFUSALS])
def test_push_refuses_bad_provenance_in_one_line(smoke_runs, tmp_path, what, edit, reason):
    from g1bench.core.files import write_atomic

    run_dir = tmp_path / "run"
    shutil.copytree(smoke_runs["random"], run_dir)
    run, results = read_run_json(run_dir), load(run_dir)
    edit(run, results)
    write_atomic(run_dir / "run.json", run)
    write_atomic(run_dir / "results.json", results)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "g1bench.cli", "push", str(run_dir), "--repo", str(tmp_path / "s")],
                         capture_output=True, text=True, timeout=300)
    assert time.perf_counter() - t < 60
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.splitlines()) == 1 and out.stderr.startswith("error: ") and reason in out.stderr, out.stderr
    assert not (tmp_path / "s" / "entries").exists()  # nothing written


def test_push_stores_the_snapshot_it_verified_not_a_file_swapped_in_after(smoke_runs, tmp_path, monkeypatch):
    """results.json swapped during a push used to be stored (and cached as verified) though the genuine one was
    verified: now the run is snapshotted first and exactly the entry built from the verified snapshot is stored."""
    from g1bench.leaderboard import aggregate, push, push_run
    from g1bench.leaderboard.aggregation import VerdictCache, verdict_cache_path
    from g1bench.leaderboard.entry import content_key, read_entry_dir

    run_dir = tmp_path / "run"
    shutil.copytree(smoke_runs["weak"], run_dir)
    genuine = (run_dir / "results.json").read_bytes()
    forged = json.loads(genuine)
    forged["results"]["swap/paper"]["mean"] = 4.0
    real_snapshot = push.snapshot_run

    def snapshot_then_swap(src, dest, frames=False):
        out = real_snapshot(src, dest, frames)
        (run_dir / "results.json").write_text(json.dumps(forged))  # the swap, once the snapshot is taken
        return out

    monkeypatch.setattr(push, "snapshot_run", snapshot_then_swap)
    res = push_run(run_dir, str(tmp_path / "store"))
    assert json.loads((run_dir / "results.json").read_text())["results"]["swap/paper"]["mean"] == 4.0
    stored = tmp_path / "store" / "entries" / res.entry_id
    assert json.loads((stored / "results.json").read_bytes()) == json.loads(genuine)
    key = content_key(res.entry_id, read_entry_dir(res.entry_id, stored))
    assert VerdictCache(verdict_cache_path()).get(key, res.entry_id)["ok"]  # cached for exactly the stored bytes
    lb = aggregate(str(tmp_path / "store"), log=lambda line: None)
    assert lb.stats["verified"] == 0 and [r["entry_id"] for r in lb.table("smoke") if r["kind"] == "measured"] == \
        [res.entry_id]


def test_an_edited_verdict_cache_cannot_crash_the_table_or_relabel_an_entry(smoke_runs, tmp_path):
    """The verdict cache is a local trust boundary (README); still, a verdict that is not well formed, or that names
    another entry, is ignored and the entry verified again."""
    from g1bench.leaderboard import aggregate, push_run
    from g1bench.leaderboard.aggregation import verdict_cache_path

    store = str(tmp_path / "store")
    ids = {k: push_run(smoke_runs[k], store).entry_id for k in ("good", "weak")}
    path = verdict_cache_path()
    data = json.loads(path.read_text())
    verdicts = data["verdicts"]
    by_entry = {v["summary"]["entry_id"]: k for k, v in verdicts.items() if v.get("summary")}
    good_key, weak_key = by_entry[ids["good"]], by_entry[ids["weak"]]
    verdicts[weak_key] = copy.deepcopy(verdicts[good_key])  # the good model's row under the weak model's entry
    verdicts[good_key]["summary"]["groups"]["2048/paper"]["mean"] = "huge"  # not a number
    path.write_text(json.dumps(data))
    lb = aggregate(store, log=lambda line: None)
    assert lb.stats["verified"] == 2  # both verified again
    rows = {r["entry_id"]: r for r in lb.table("smoke") if r["kind"] == "measured"}
    assert rows[ids["weak"]]["model"] == "acme/vlm-2b" and rows[ids["good"]]["model"] == "acme/vlm-7b"
    assert isinstance(rows[ids["good"]]["2048"], float)


# -- budgets: over time, over memory; refused with the reason, and cached like any verdict -----------------------
def test_a_run_over_its_memory_budget_is_refused_and_the_verdict_cached(smoke_runs, tmp_path):
    from g1bench.eval.budget import Budget
    from g1bench.leaderboard import aggregate, verify_under_budget
    from g1bench.leaderboard.entry import make_entry
    from g1bench.leaderboard.store import LocalStore

    tight = Budget(60, 1, "a 1 MB test budget")
    v = verify_under_budget(smoke_runs["good"], budget=tight)
    assert not v.ok and v.problems == ["over its budget: verifying it needed more than 1 MB of memory (a 1 MB test "
                                       "budget); stopped"]
    store = LocalStore(tmp_path / "store")
    e = make_entry(*run_data(smoke_runs["good"]))
    store.put(e)
    lb = aggregate(store, cache_root=tmp_path / "c", budget=tight, log=lambda line: None)
    assert lb.skipped == [{"entry_id": e.entry_id, "reason": v.problems[0]}] and lb.stats["over_budget"] == 1
    again = aggregate(store, cache_root=tmp_path / "c", log=lambda line: None)  # cached like any other verdict
    assert again.stats["verified"] == 0 and again.skipped == lb.skipped


@pytest.mark.slow
def test_a_run_over_its_time_budget_is_stopped_and_refused(tmp_path):
    from g1bench.eval.budget import Budget
    from g1bench.eval.policies import RandomPolicy
    from g1bench.eval.suites import get_suite
    from g1bench.leaderboard import verify_under_budget

    run = make_run(tmp_path / "paper", "paper", RandomPolicy(), save_frames=False)  # 4,000 steps: seconds to replay
    t = time.perf_counter()
    v = verify_under_budget(run, budget=Budget(1.0, 2048, "a 1 s test budget"))
    assert time.perf_counter() - t < 15
    assert not v.ok and v.problems == ["over its budget: verifying it took more than 1 s (a 1 s test budget); stopped"]
    assert verify_under_budget(run).ok  # its own budget (derived from the suite) is ample
    assert get_suite("paper")  # (the suite the budget came from)


def test_verify_under_budget_is_safe_from_several_threads(smoke_runs, tmp_path):
    """The Space verifies several submissions at once: each call has its own process and its own verdict."""
    from concurrent.futures import ThreadPoolExecutor

    from g1bench.leaderboard import verify_under_budget

    bad = tmp_path / "bad"
    shutil.copytree(smoke_runs["weak"], bad)
    (bad / "steps.jsonl").write_text((bad / "steps.jsonl").read_text().replace('"step":0,', '"step":"0",', 1))
    runs = [smoke_runs["good"], bad, smoke_runs["random"], smoke_runs["custom"]]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda r: verify_under_budget(r, builtin_only=True), runs))
    assert [v.ok for v in got] == [True, False, True, False]
    assert "a step record is a JSON object with 'episode_id' (text) and 'step' (integer)" in got[1].problems[0]
    assert got[3].suite_kind == "custom" and got[3].problems == [
        f"{smoke_runs['custom']} uses the custom suite custom-swap-paper-e1-s3-seed0-v1: the leaderboard takes the "
        "built-in suites only (paper, grid, smoke, multiturn)"]
    assert [v.run_dir for v in got] == [str(r) for r in runs]


# -- baselines on demand ------------------------------------------------------------------------------------------
def test_a_store_without_baseline_entries_gets_overall_scores_from_baselines_computed_here(smoke_runs, tmp_path,
                                                                                            monkeypatch):
    from g1bench.leaderboard import aggregate, push_run
    from g1bench.leaderboard import aggregation as agg

    store = str(tmp_path / "store")
    good = push_run(smoke_runs["good"], store).entry_id
    lb = aggregate(store, log=lambda line: None)
    rows = lb.table("smoke")
    assert [r["kind"] for r in rows] == ["measured", "baseline", "baseline"]
    base = {r["model"]: r for r in rows if r["kind"] == "baseline"}
    assert base["oracle"]["overall"] == 100.0 and base["random"]["overall"] == 0.0
    assert base["random"]["entry_id"].endswith(f"/random (computed by g1bench {__version__})") and base["random"]["computed"]
    res = {k: load(smoke_runs[k]) for k in ("good", "random", "oracle")}
    from test_leaderboard import GAMES, expected_overall

    assert rows[0]["entry_id"] == good and rows[0]["overall"] == pytest.approx(
        expected_overall(res["good"], res["random"], res["oracle"], [f"{g}/paper" for g in GAMES]), abs=1e-9)
    assert lb.suites["smoke-v3"]["baselines"] == "computed here" and lb.suites["smoke-v3"]["tiles"] == "bundled"
    # a pushed baseline entry stands for the computed one, and is checked against it
    push_run(smoke_runs["random"], store)
    real = agg.cached_baselines

    def off_by_one(suite_id, suite_hash, cache_root=None):  # as if this machine's random played otherwise
        baselines, tiles = real(suite_id, suite_hash, cache_root)
        out = copy.deepcopy(baselines)
        out["random"]["groups"]["swap/paper"]["mean"] += 1
        return out, tiles

    monkeypatch.setattr(agg, "cached_baselines", off_by_one)
    lb = aggregate(store, log=lambda line: None)
    assert [s["reason"] for s in lb.skipped] == [
        "it names g1bench's random baseline, but its swap/paper mean 0.0 differs from that baseline's 1.0 computed here"]


def test_the_tile_source_of_a_suite_is_shown(monkeypatch):
    from g1bench.eval.suites import get_suite
    from g1bench.leaderboard.aggregation import tile_source

    assert tile_source(get_suite("smoke")) == "bundled"
    assert tile_source(get_suite("paper")) == "bundled (for cifar10, unavailable here)"  # offline: CIFAR-10 cannot load

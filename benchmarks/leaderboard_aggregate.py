"""Leaderboard aggregation: 1,000 entries from the local store, 200 from the local Hub server, and 200 honest
entries with 20 hostile ones.

    python benchmarks/leaderboard_aggregate.py                      # --local 1000 --hub 200 --hostile 200 --basis 24
    python benchmarks/leaderboard_aggregate.py --local 200 --hub 0  # a quicker look

Entries are real smoke-suite runs (``g1bench eval --suite smoke``: 8 episodes x 4 steps): the random and oracle
anchors plus ``--basis`` runs of a stand-in model (valid random moves with a model backend's token counts and
latencies, described as a vLLM model) with distinct seeds. Each basis run is stored as many times as needed with a
distinct start time (run.json and results.json), so every entry has its own id and content and its step log is
replayed in full like any other (the table lists the later ones as copies of the first: the same answers).

Every new entry is verified in a verifier process under the budget of its suite (the budgets are always on). For
each store it reports, measured in a fresh process per phase (the time of ``aggregate()`` itself; peak RSS of the
aggregating process and the largest of its verifier processes):

* cold: no cached verdicts, every entry re-verified from its step log (goals: < 5 s local, < 30 s Hub);
* again: a second aggregation with nothing new (goal: < 1 s);
* one new: a second aggregation after one more entry was added (Hub: one new entry downloaded);
* hostile: ``--hostile`` honest entries cold, then the same with 20 hostile ones (one per class of issue 16: huge
  token counts, an oracle of depth 6, a billion warm-up moves, a million-row or expanding step table, a repeated
  step, baseline lookalike names, a model backend without tokens or latencies or with an all-zero commit, dates
  that are not, in the future or too old, a name that is an object): every hostile entry is refused with its
  reason, and the time stays within 1.5x of the honest entries alone (goal), peak memory under 1.5 GB (goal:
  the aggregating process plus every verifier process at its peak).

Timings on a loaded machine are inflated: the verifiers' CPU seconds per entry (also printed) are what a quiet
machine's wall time follows (cold ~ start-up + entries x CPU per entry / verifier processes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOALS = {"local": {"cold": 5.0, "again": 1.0}, "hub": {"cold": 30.0, "again": 1.0}}
#: 200 honest + 20 hostile entries take at most this many times the 200 alone, in at most this much memory
HOSTILE_RATIO, HOSTILE_PEAK_MB = 1.5, 1536


def _model_policy(i: int):
    from g1bench.eval.policies import RandomLegalPolicy

    class BenchModel(RandomLegalPolicy):
        """Valid random moves, with the token counts and latencies a model backend records."""

        def act(self, turns):
            out = super().act(turns)
            for a in out:
                a.input_tokens, a.output_tokens, a.latency_s = 1200, 40, 0.3
            return out

        def describe(self) -> dict[str, Any]:
            return {"policy": f"bench/model-{i:03d}", "backend": "vllm",
                    "model": {"model": f"bench/model-{i:03d}", "source": "hub", "commit": f"{i + 1:040x}"}}

    return BenchModel(seed=i)


def make_basis(root: Path, n: int) -> list[Path]:
    """The anchors and ``n`` model runs of the smoke suite (real runs, no frames)."""
    from g1bench.eval.policies import OraclePolicy, RandomPolicy
    from g1bench.eval.runner import Runner
    from g1bench.eval.suites import get_suite

    suite = get_suite("smoke")
    runs = []
    for name, policy in [("random", RandomPolicy()), ("oracle", OraclePolicy())] + \
            [(f"model-{i:03d}", _model_policy(i)) for i in range(n)]:
        out = root / name
        if not (out / "results.json").exists():
            Runner(suite, policy, out, progress=False, save_frames=False).run()
        runs.append(out)
    return runs


def fill_store(folder: Path, basis: list[Path], count: int, offset: int = 0) -> list[str]:
    """Write ``count`` entries into a local store folder: the anchors first, then the model runs in turn."""
    from g1bench.eval.results import load
    from g1bench.eval.rundir import read_run_json, read_steps_file
    from g1bench.leaderboard.entry import make_entry
    from g1bench.leaderboard.store import LocalStore

    store = LocalStore(folder)
    data = [(read_run_json(r), load(r), read_steps_file(r / "steps.jsonl")[0]) for r in basis]
    ids = []
    for i in range(offset, offset + count):
        run, results, steps = data[i] if i < 2 else data[2 + (i - 2) % (len(data) - 2)]
        stamp = f"2026-01-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}+00:00"
        run = {**run, "start_time": stamp}
        results = {**results, "provenance": {**results["provenance"], "start_time": stamp}}
        entry = make_entry(run, results, steps)
        store.put(entry)
        ids.append(entry.entry_id)
    return ids


CHILD = r'''
import json, sys, time
t0 = time.perf_counter()
from g1bench.leaderboard import aggregate, open_store
from g1bench.leaderboard.verdict import peak_rss_mb
spec, workers = sys.argv[1], sys.argv[2]
t1 = time.perf_counter()
lb = aggregate(open_store(spec), workers=None if workers == "auto" else int(workers), log=lambda line: None)
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t1, "imports_s": t1 - t0, "entries": len(lb.entries), "skipped": len(lb.skipped),
                  "reasons": [s["reason"] for s in lb.skipped], "peak_rss_mb": peak_rss_mb(), "stats": lb.stats}))
'''


def child(spec: str, env: dict[str, str], workers: str) -> dict[str, Any]:
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", CHILD, spec, workers], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"aggregation failed:\n{res.stderr[-3000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - t
    return out


def report(kind: str, phase: str, r: dict[str, Any]) -> None:
    goal = GOALS[kind].get(phase)
    verdict = "" if goal is None else (f"  goal < {goal:g} s: {'met' if r['seconds'] < goal else 'MISSED'}")
    st = r["stats"]
    peak = st.get("verifier_peak_rss_mb")
    print(f"{kind:<5} {phase:<7} {r['entries']:>5} entries ({r['skipped']} skipped, {st['verified']} verified now, "
          f"{st['cached']} cached)  aggregate() {r['seconds']:7.2f} s  (process {r['process_s']:.1f} s, imports "
          f"{r['imports_s']:.1f} s)  peak RSS {r['peak_rss_mb']:.0f} MB"
          + (f" + {st['workers']} verifier processes, each at most {peak:.0f} MB" if peak else "")
          + verdict, flush=True)
    print("      " + ", ".join(f"{k} {v:.2f} s" for k, v in st["seconds"].items())
          + (f"; verifier CPU {st['verifier_cpu_s']:.2f} s ({1000 * st['verifier_cpu_s'] / max(1, st['verified']):.1f} ms "
             "per entry)" if st.get("verifier_cpu_s") else ""), flush=True)


def bench_local(root: Path, basis: list[Path], n: int, workers: str) -> None:
    folder = root / "local-store"
    for old in (folder, root / "cache-local"):
        shutil.rmtree(old, ignore_errors=True)  # a fresh store and cache each time (--work-dir keeps the runs only)
    t = time.perf_counter()
    fill_store(folder, basis, n)
    print(f"local store: {n} entries written in {time.perf_counter() - t:.1f} s "
          f"({sum(f.stat().st_size for f in folder.rglob('*') if f.is_file()) / 1e6:.1f} MB)", flush=True)
    env = {**os.environ, "G1BENCH_CACHE_DIR": str(root / "cache-local"), "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    report("local", "cold", child(str(folder), env, workers))
    report("local", "again", child(str(folder), env, workers))
    fill_store(folder, basis, 1, offset=n)
    report("local", "one new", child(str(folder), env, workers))


UPLOAD = r'''
import sys
from huggingface_hub import HfApi
api = HfApi()
api.create_repo(sys.argv[1], repo_type="dataset", exist_ok=True)
api.upload_folder(repo_id=sys.argv[1], repo_type="dataset", folder_path=sys.argv[2], commit_message="entries")
'''


def bench_hub(root: Path, basis: list[Path], n: int, workers: str) -> None:
    from g1bench.testing import HubServer, hub_env

    folder = root / "hub-store"
    for old in (folder, root / "hub-extra", root / "cache-hub", root / "hf_home"):
        shutil.rmtree(old, ignore_errors=True)
    fill_store(folder, basis, n)
    with HubServer() as hub:
        env = hub_env(hub, root / "hf_home")
        env.update(G1BENCH_CACHE_DIR=str(root / "cache-hub"), HF_DATASETS_OFFLINE="1", PYTHONWARNINGS="ignore")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", UPLOAD, "org/results", str(folder)], env=env, check=True)
        print(f"hub store: {n} entries uploaded in {time.perf_counter() - t:.1f} s", flush=True)
        hub.requests.clear()
        report("hub", "cold", child("org/results", env, workers))
        print(f"      cold: {len(hub.requests)} requests", flush=True)
        hub.requests.clear()
        report("hub", "again", child("org/results", env, workers))
        print(f"      again: {len(hub.requests)} requests", flush=True)
        extra = root / "hub-extra"
        fill_store(extra, basis, 1, offset=n)
        subprocess.run([sys.executable, "-c", UPLOAD, "org/results", str(extra)], env=env, check=True)
        hub.requests.clear()
        report("hub", "one new", child("org/results", env, workers))
        print(f"      one new: {len(hub.requests)} requests", flush=True)


def hostile_entries(basis: list[Path]) -> list[tuple[str, Any]]:
    """20 hostile entries, two of each of ten classes: ``(expected reason fragment, EntryFiles or files dict)``."""
    import copy

    import pyarrow as pa

    from g1bench.eval.results import load
    from g1bench.eval.rundir import read_run_json, read_steps_file
    from g1bench.leaderboard.entry import make_entry, parquet_bytes, steps_schema

    random_run, model_run = basis[0], basis[2]

    def data(run_dir):
        return read_run_json(run_dir), load(run_dir), read_steps_file(run_dir / "steps.jsonl")[0]

    def policy(run, results, p):
        run["policy"] = results["provenance"]["policy"] = p

    def tokens(run, results, steps, i):
        steps[next(iter(steps))][0]["input_tokens"] = 10 ** (400 + i)

    def depth(run, results, steps, i):
        policy(run, results, {"policy": "oracle", "backend": "builtin", "depth": 6 + i})

    def warmup(run, results, steps, i):
        run["suite"]["episodes"][0]["warmup"] = 10 ** 9 + i

    def lookalike(run, results, steps, i):
        policy(run, results, {"policy": ["oracle\u200b", "\u043eracle"][i], "backend": "builtin"})

    def zero_commit(run, results, steps, i):
        p = copy.deepcopy(run["policy"])
        p["model"]["commit"] = "0" * 40
        p["sampling"] = {"i": i}
        policy(run, results, p)

    def no_tokens(run, results, steps, i):
        for recs in steps.values():
            for r in recs:
                r["input_tokens"] = None
        tokens_note = {"i": i}
        run["command"] = tokens_note

    def bad_date(run, results, steps, i):
        run["start_time"] = results["provenance"]["start_time"] = ["not-a-date", "1999-01-01T00:00:00+00:00"][i]

    def future(run, results, steps, i):
        run["start_time"] = results["provenance"]["start_time"] = f"299{i}-01-01T00:00:00+00:00"

    def rebuilt(run, results, steps):
        """results.json recomputed from the edited run (so only the edit is hostile), where numbers allow."""
        from g1bench.eval.runner import build_results
        from g1bench.eval.suites import Suite

        try:
            suite = Suite.from_dict(run["suite"])
            prov = results["provenance"]
            return build_results(suite, {"suite": run["suite"], "policy": run["policy"], "shard": None,
                                         "start_time": prov["start_time"]}, suite.episodes, steps, prov["end_time"])
        except (ArithmeticError, ValueError, KeyError, TypeError):
            return results

    def object_name(run, results, steps, i):
        policy(run, results, {"policy": {"name": i}, "backend": "openai", "base_url": "https://api.example.com/v1"})

    edits = [("input_tokens must be", random_run, tokens), ("takes depth as an integer from 1 to 3", random_run, depth),
             ("warm-up moves", random_run, warmup), ("looks like the name of g1bench's built-in baseline", random_run,
                                                     lookalike),
             ("policy.model.commit must be", model_run, zero_commit), ("records no input_tokens", model_run, no_tokens),
             ("start_time", random_run, bad_date), ("its model name must be text", model_run, object_name),
             ("is in the future", random_run, future)]
    out: list[tuple[str, Any]] = []
    for reason, base, edit in edits:
        for i in range(2):
            run, results, steps = (copy.deepcopy(x) for x in data(base))
            edit(run, results, steps, i)
            out.append((reason, make_entry(run, rebuilt(run, results, steps), steps)))
    good = make_entry(*data(model_run))
    schema = steps_schema()
    million = pa.Table.from_arrays([pa.nulls(1_000_000, type=f.type) for f in schema], schema=schema)
    out.append(("rows, but its suite has", {**good.files, "steps.parquet": parquet_bytes(million)}))
    from g1bench.leaderboard.entry import read_parquet

    rows = read_parquet(good.files["steps.parquet"], "t").to_pylist()
    rows[1] = dict(rows[0], answer="<answer> 3 </answer>")
    out.append(("a second row of", {**good.files, "steps.parquet": parquet_bytes(pa.Table.from_pylist(rows, schema=schema))}))
    rows[1]["exceptions"] = json.dumps({"set": {"pad": "z" * 20_000_000}})
    rows[1]["step"] = 1
    out.append(("uncompressed, more than", {**good.files, "steps.parquet": parquet_bytes(pa.Table.from_pylist(rows, schema=schema))}))
    return out[:20]


def put_hostile(folder: Path, hostile: list[tuple[str, Any]]) -> None:
    from g1bench.leaderboard.entry import ENTRIES_DIR
    from g1bench.leaderboard.store import LocalStore

    store = LocalStore(folder)
    for k, (_, entry) in enumerate(hostile):
        if isinstance(entry, dict):
            target = folder / ENTRIES_DIR / "smoke-v2" / f"bench-hostile--{k:016x}"
            target.mkdir(parents=True, exist_ok=True)
            for name, data in entry.items():
                (target / name).write_bytes(data)
        else:
            store.put(entry)


def bench_hostile(root: Path, basis: list[Path], n: int, workers: str) -> None:
    honest, mixed = root / "honest-store", root / "mixed-store"
    for folder in (honest, mixed, root / "cache-honest", root / "cache-mixed"):
        shutil.rmtree(folder, ignore_errors=True)  # a fresh store each time (--work-dir keeps the runs only)
    fill_store(honest, basis, n)
    shutil.copytree(honest, mixed)
    hostile = hostile_entries(basis)
    put_hostile(mixed, hostile)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    alone = child(str(honest), {**env, "G1BENCH_CACHE_DIR": str(root / "cache-honest")}, workers)
    report("local", "honest", alone)
    both = child(str(mixed), {**env, "G1BENCH_CACHE_DIR": str(root / "cache-mixed")}, workers)
    report("local", "+hostile", both)
    refused = sum(1 for reason, _ in hostile if any(reason in r for r in both["reasons"]))
    ratio = both["seconds"] / alone["seconds"]
    st = both["stats"]
    peak = both["peak_rss_mb"] + st["workers"] * (st.get("verifier_peak_rss_mb") or 0)
    print(f"      {refused}/{len(hostile)} hostile entries refused with their reason; {n} honest + {len(hostile)} hostile "
          f"take {ratio:.2f}x the time of the {n} alone (goal <= {HOSTILE_RATIO}: "
          f"{'met' if ratio <= HOSTILE_RATIO else 'MISSED'}); peak memory {peak:.0f} MB, the aggregating process plus "
          f"{st['workers']} verifier processes at their peak (goal < {HOSTILE_PEAK_MB} MB: "
          f"{'met' if peak < HOSTILE_PEAK_MB else 'MISSED'})", flush=True)
    if refused != len(hostile):
        raise SystemExit(f"hostile entries not refused as expected: {both['reasons']}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--local", type=int, default=1000, help="entries in the local store (0: skip)")
    p.add_argument("--hub", type=int, default=200, help="entries in the Hub store (0: skip)")
    p.add_argument("--hostile", type=int, default=200, help="honest entries measured alone and with 20 hostile ones "
                   "(0: skip)")
    p.add_argument("--basis", type=int, default=24, help="distinct model runs the entries are made from")
    p.add_argument("--workers", default="auto", help="verifier processes (auto: the CPU count when many are new)")
    p.add_argument("--work-dir", default=None, help="keep the runs and stores here (default: a temporary folder)")
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="g1bench-lb-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    basis = make_basis(root / "runs", args.basis)
    print(f"{len(basis)} real smoke runs (2 anchors + {args.basis} model runs) in {time.perf_counter() - t:.1f} s; "
          f"{os.cpu_count()} CPUs; work dir {root}", flush=True)
    if args.local:
        bench_local(root, basis, args.local, args.workers)
    if args.hub:
        bench_hub(root, basis, args.hub, args.workers)
    if args.hostile:
        bench_hostile(root, basis, args.hostile, args.workers)


if __name__ == "__main__":
    main()

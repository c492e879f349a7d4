"""Leaderboard aggregation: 1,000 entries from the local store and 200 from the local Hub server.

    python benchmarks/leaderboard_aggregate.py                      # --local 1000 --hub 200 --basis 24
    python benchmarks/leaderboard_aggregate.py --local 200 --hub 0  # a quicker look

Entries are real smoke-suite runs (``g1bench eval --suite smoke``: 8 episodes x 4 steps): the random and oracle
anchors plus ``--basis`` runs of a stand-in model (valid random moves, described as a vLLM model) with distinct
seeds. Each basis run is stored as many times as needed with a distinct start time (run.json and results.json),
so every entry has its own id and content and its step log is replayed in full like any other.

For each store it reports, measured in a fresh process per phase (the time of ``aggregate()`` itself; peak RSS
of the aggregating process and of its verifier workers):

* cold: no cached verdicts, every entry re-verified from its step log (goals: < 5 s local, < 30 s Hub);
* again: a second aggregation with nothing new (goal: < 1 s);
* one new: a second aggregation after one more entry was added (Hub: one new entry downloaded).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOALS = {"local": {"cold": 5.0, "again": 1.0}, "hub": {"cold": 30.0, "again": 1.0}}


def _model_policy(i: int):
    from g1bench.eval.policies import RandomLegalPolicy

    class BenchModel(RandomLegalPolicy):
        def describe(self) -> dict[str, Any]:
            return {"policy": f"bench/model-{i:03d}", "backend": "vllm",
                    "model": {"model": f"bench/model-{i:03d}", "source": "hub", "commit": f"{i:040x}"}}

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
                  "peak_rss_mb": peak_rss_mb(), "stats": lb.stats}))
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
    workers = st.get("worker_peak_rss_mb") or []
    print(f"{kind:<5} {phase:<7} {r['entries']:>5} entries ({r['skipped']} skipped, {st['verified']} verified now, "
          f"{st['cached']} cached)  aggregate() {r['seconds']:7.2f} s  (process {r['process_s']:.1f} s, imports "
          f"{r['imports_s']:.1f} s)  peak RSS {r['peak_rss_mb']:.0f} MB"
          + (f" + {len(workers)} verifier processes {'/'.join(f'{w:.0f}' for w in workers)} MB" if workers else "")
          + verdict, flush=True)
    print("      " + ", ".join(f"{k} {v:.2f} s" for k, v in st["seconds"].items()), flush=True)


def bench_local(root: Path, basis: list[Path], n: int, workers: str) -> None:
    folder = root / "local-store"
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--local", type=int, default=1000, help="entries in the local store (0: skip)")
    p.add_argument("--hub", type=int, default=200, help="entries in the Hub store (0: skip)")
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


if __name__ == "__main__":
    main()

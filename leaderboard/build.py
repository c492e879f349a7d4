"""Rebuild this folder: what is published as the leaderboard's Hub dataset repo.

    python leaderboard/build.py                         # card, eval.yaml, paper rows; baselines if missing
    python leaderboard/build.py --rebuild               # re-run g1bench's random and oracle baselines first
    python leaderboard/build.py --push ORG/g1bench-results   # then upload this folder to that dataset repo

The folder is a g1bench results store (``g1bench.leaderboard.store.LocalStore``):

* ``entries/paper-v3/{random,oracle}--<hash>/``: g1bench's own baselines on the ``paper`` suite (``g1bench eval
  --model random|oracle --suite paper``), verified and added with ``push_run``; the aggregator computes the same two itself to
  anchor the overall score (0 = random, 100 = oracle), and checks these against them;
* ``README.md``: the card, with the ``results`` / ``steps`` / per-task ``configs`` and the current standings;
* ``eval.yaml``: the Hub benchmark declaration (task ``overall`` and one task per game of the paper suite);
* ``suites/paper-v3/*.parquet``: the episodes each benchmark task evaluates on;
* ``paper_reported.csv``: the G1 paper's reported rows (``g1bench.leaderboard.paper``), never mixed with measured rows.

The suite hash depends on the tiles this machine can load: offline, the natural-image game uses the bundled tile
pack instead of CIFAR-10, and so do the committed baselines. Rebuild with ``--rebuild`` where CIFAR-10 loads before
publishing a leaderboard that takes CIFAR-10 runs. Everything here is done by ``g1bench.leaderboard``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANCHORS = ("random", "oracle")


def baselines(store, rebuild: bool) -> None:
    from g1bench.eval.policies import get_policy
    from g1bench.eval.runner import Runner
    from g1bench.eval.suites import get_suite
    from g1bench.leaderboard import aggregate, push_run

    suite = get_suite("paper")
    have = {e["anchor"] for e in aggregate(store, log=print).entries
            if e["suite_id"] == suite.suite_id and e["suite_hash"] == suite.hash() and e["anchor"]}
    for name in ANCHORS:
        if name in have and not rebuild:
            continue
        if rebuild:  # the old entries of this anchor go (another machine's tiles give another suite hash)
            for old in (HERE / "entries" / suite.suite_id).glob(f"{name}--*"):
                shutil.rmtree(old)
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / name
            Runner(suite, get_policy(name), run, progress=False, save_frames=False).run()
            res = push_run(run, store)
        print(f"{'added' if res.changed else 'kept'} {res.entry_id}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rebuild", action="store_true", help="re-run the random and oracle baselines")
    p.add_argument("--push", metavar="ORG/NAME", help="upload this folder to the Hub dataset repo (token: HF_TOKEN)")
    args = p.parse_args()

    from g1bench.leaderboard import aggregate
    from g1bench.leaderboard.card import store_files
    from g1bench.leaderboard.paper import paper_rows_csv
    from g1bench.leaderboard.store import LocalStore

    store = LocalStore(HERE)
    baselines(store, args.rebuild)
    lb = aggregate(store, log=print)
    repo = args.push or "ORG/g1bench-results"
    files = store_files(repo, standings=lb.to_markdown("paper"))
    for path, data in files.items():
        (HERE / path).parent.mkdir(parents=True, exist_ok=True)
        (HERE / path).write_bytes(data)
    (HERE / "paper_reported.csv").write_text(paper_rows_csv())
    print(lb.to_text("paper"))
    if args.push:
        from huggingface_hub import HfApi

        api = HfApi()
        api.create_repo(args.push, repo_type="dataset", exist_ok=True)
        info = api.upload_folder(repo_id=args.push, repo_type="dataset", folder_path=str(HERE),
                                 commit_message="g1bench leaderboard: card, eval.yaml, baselines",
                                 ignore_patterns=["__pycache__/**", "*.pyc", ".*"])
        print(f"uploaded {HERE} to {args.push} (commit {info.oid})")  # entries pushed by others stay
    return 0


if __name__ == "__main__":
    sys.exit(main())

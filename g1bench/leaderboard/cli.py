"""``g1bench push`` and ``g1bench leaderboard``.

Imports stay light here: the store, the Hub client and the verifier load inside the handlers.
"""

from __future__ import annotations

import sys

PUSH_HELP = """Verify a run (`g1bench verify`, in a process of its own under its suite's time and memory
budget) and add it to a results store as one entry: run.json, results.json, the step log as parquet and, with
--frames, its frames. The run's files are snapshotted first and exactly the verified snapshot is stored. A run
that does not verify, is incomplete, is a shard, whose suite is not a built-in suite, or whose names, dates or
model records do not hold is refused with the reason. Pushing the same run again writes nothing. The Hub token
comes from HF_TOKEN or `hf auth login` and is never printed."""

LEADERBOARD_HELP = """Aggregate a results store: every entry is verified again from its step log, each in a
verifier process under its suite's time and memory budget (verdicts are cached by content, so only new entries
are replayed), and bad entries are skipped with the reason: the table is printed whatever one entry does.
Prints the table of a suite: per game the paper metric with its 95% CI, the normalised overall score
(g1bench-overall/1: 0 = random, 100 = oracle, both computed here), perception/reasoning accuracy,
parse-failure and invalid-action rates, tokens, latency and cost, the model type and what was checked; one row
per distinct run (copies are listed as copies); ranks only where differences are significant. g1bench's
baselines and the paper's reported rows come in their own sections."""


def add_commands(sub) -> None:
    from .push import add_push_arguments

    p = sub.add_parser("push", help="verify a run and add it to the leaderboard's results store", description=PUSH_HELP)
    p.add_argument("run", metavar="RUN_DIR", help="a complete run directory of `g1bench eval` (or `g1bench merge`)")
    add_push_arguments(p)
    p.add_argument("--frames", action="store_true", help="also store the run's frames (shared by hash across entries)")
    p.add_argument("--model-pr", action="store_true", help="then open a pull request on the Hub model repo the entry "
                   "names, adding .eval_results/g1bench.yaml with the values read back from the stored entry, as a "
                   "community result verified by replay (paper suite, Hub results repo)")
    p.add_argument("--model-repo", metavar="ORG/NAME", default=None,
                   help="the model repo for --model-pr; must be the one the run names (its Hub model)")
    from .push import cmd_push

    p.set_defaults(func=cmd_push)

    q = sub.add_parser("leaderboard", help="aggregate a results store (re-verifying entries) and print the table",
                       description=LEADERBOARD_HELP)
    add_push_arguments(q)
    q.add_argument("--suite", default="paper", help="suite name or id (paper, grid, smoke, paper-v2, ...) or 'all' (default: paper)")
    q.add_argument("--format", choices=("table", "csv", "md", "json"), default="table", help="output format (default: table)")
    q.add_argument("--output", "-o", metavar="FILE", help="write the table to FILE instead of printing it")
    q.add_argument("--plots", metavar="DIR", help="also write the perception x reasoning heatmaps and the perception "
                   "plot of the grid suite and the memory curves of the multiturn suite (PNG + JSON data) to DIR "
                   "(needs g1bench[report])")
    q.add_argument("--no-cache", action="store_true", help="verify every entry again (ignore cached verdicts)")
    q.add_argument("--workers", type=int, default=None, help="verifier processes for new entries (default: 1, the "
                   "CPU count when there are many)")
    q.set_defaults(func=cmd_leaderboard)


def cmd_leaderboard(args) -> int:
    import json
    from pathlib import Path

    from ..core.files import clean_text
    from .aggregation import aggregate
    from .isolation import VerifierError
    from .store import StoreError

    try:
        lb = aggregate(args.repo, workers=args.workers, cache=not args.no_cache,
                       log=lambda line: print(f"note: {line}", file=sys.stderr))
        out = lb.export(args.format, args.suite)
    except (StoreError, ValueError, VerifierError) as e:
        print(f"error: {clean_text(e, keep_newlines=False)}", file=sys.stderr)
        return 2
    if args.output:
        try:
            Path(args.output).write_text(out if out.endswith("\n") else out + "\n", encoding="utf-8")
        except OSError as e:
            print(f"error: cannot write {args.output}: {e.strerror or e}", file=sys.stderr)
            return 2
        print(f"wrote {args.output} ({len(lb.table(args.suite))} rows)")
    else:
        print(out.rstrip("\n"))
    if args.plots:
        try:
            Path(args.plots).mkdir(parents=True, exist_ok=True)
            maps = lb.heatmaps(args.plots)
            plot = lb.perception_plot(args.plots)
            memory = lb.memory(args.plots)  # the multiturn suite's memory curves
            data = {"heatmaps": [{k: v for k, v in m.items() if k != "figure"} for m in maps],
                    "perception_plot": {k: v for k, v in plot.items() if k != "figure"},
                    "memory": {k: v for k, v in memory.items() if k != "figure"}}
            Path(args.plots, "plots.json").write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")
        except ImportError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        except OSError as e:
            print(f"error: cannot write the plots to {args.plots}: {e.strerror or e}", file=sys.stderr)
            return 2
        print(f"plots: {len(maps)} heatmaps{' and the perception plot' if plot['png'] else ''} in {args.plots}"
              + ("" if maps else " (no verified run of the grid suite)")
              + ("; memory curves in memory.png" if memory["png"] else ""), file=sys.stderr)
    return 0

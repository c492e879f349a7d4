"""``g1bench eval``, ``g1bench report`` and ``g1bench compare``."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import sys

from ..core.config import UnknownNameError


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def add_commands(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a model or baseline on a suite", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", required=True, help="a baseline (random, random-legal, oracle) or a model (Hub id or local folder)")
    p.add_argument("--suite", default="paper", help="built-in suite: paper, grid, smoke (ignored when --games is given)")
    p.add_argument("--games", help="custom suite: comma-separated games")
    p.add_argument("--difficulty", default="paper", help="custom suite: difficulty preset")
    p.add_argument("--episodes", type=_positive, default=10, help="custom suite: episodes per game")
    p.add_argument("--steps", type=_positive, default=100, help="custom suite: policy steps per episode")
    p.add_argument("--seed", type=_non_negative, default=0, help="custom suite: first seed")
    p.add_argument("--warmup", type=_non_negative, default=None, help="custom suite: random warm-up moves (default: the paper's)")
    p.add_argument("--output-dir", "-o", help="run directory (default runs/<suite>__<model>__<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --output-dir")
    p.add_argument("--concurrency", type=_positive, default=2, help="episode cohorts in flight (2 overlaps env work with model calls)")
    p.add_argument("--max-active", type=_positive, default=64, help="at most this many episodes live at once (bounds memory)")
    p.add_argument("--no-frames", action="store_true", help="do not store frames (smaller runs; no replays/videos)")
    p.add_argument("--save-videos", action="store_true", help="write an animated GIF per episode at the end")
    p.add_argument("--policy-seed", type=_non_negative, default=0, help="seed of the baselines' randomness")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    from ..models.config import add_arguments as add_model_arguments

    add_model_arguments(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("suites", help="list the built-in suites, or write their seed manifests")
    p.add_argument("--manifest", metavar="SUITE", help="print this suite's seed manifest as JSON")
    p.add_argument("--write", metavar="DIR", help="write every suite's manifest to DIR/<suite_id>.json")
    p.set_defaults(func=cmd_suites)

    p = sub.add_parser("report", help="summary table, plots and videos of a run")
    p.add_argument("run", help="run directory")
    p.add_argument("--no-plots", action="store_true", help="do not write the cumulative-score plots (they need g1bench[report])")
    p.add_argument("--videos", action="store_true", help="write an animated GIF per episode")
    p.add_argument("--json", action="store_true", help="print results.json instead of the table")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("compare", help="paired comparison of two runs of the same suite (B - A)")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "model"


def resolve_policy(args):
    """A built-in baseline, or a model through the model backends."""
    from .policies import BASELINES, get_policy

    if args.model in BASELINES:
        return get_policy(args.model, seed=args.policy_seed)
    from ..models import ModelError, load_policy

    try:
        return load_policy(args.model, args)
    except ModelError as e:
        if "/" not in args.model and not args.base_url and args.backend != "openai":  # maybe a mistyped baseline
            raise type(e)(f"{e}\n(built-in baselines: {', '.join(sorted(BASELINES))})") from None
        raise


def cmd_eval(args) -> int:
    from .report import summary_table, write_videos
    from .runner import RunError, Runner
    from .suites import custom_suite, get_suite

    try:
        if args.games:
            suite = custom_suite([g.strip() for g in args.games.split(",") if g.strip()], args.difficulty,
                                 args.episodes, args.steps, args.seed, args.warmup)
        else:
            suite = get_suite(args.suite)
    except (UnknownNameError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.resume and not args.output_dir:
        print("error: --resume needs --output-dir (the run to continue)", file=sys.stderr)
        return 2
    from ..models.config import ModelError

    try:
        policy = resolve_policy(args)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = args.output_dir or f"runs/{suite.suite_id}__{_slug(args.model)}__{_dt.datetime.now():%Y%m%d-%H%M%S}"
    try:
        results = Runner(suite, policy, out, resume=args.resume, concurrency=args.concurrency, max_active=args.max_active,
                         save_frames=not args.no_frames, progress=not args.quiet).run()
    except RunError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ModelError as e:
        print(f"error: {e}\nfinished episodes are saved; continue with --resume --output-dir {out}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished episodes are saved; continue with --resume --output-dir {out}", file=sys.stderr)
        return 130
    finally:
        policy.close()
    print(summary_table(results))
    print(f"run directory: {out}")
    if args.save_videos:
        print(f"videos: {len(write_videos(out))} GIFs in {out}/videos")
    return 0


def manifest_document(suite) -> dict:
    """A suite's published seed manifest: its identity plus every episode's start-state hash."""
    return {"suite_id": suite.suite_id, "hash": suite.hash(), "description": suite.description,
            "invalid_answer": dict(suite.invalid_answer), "envs": suite.env_versions(), "episodes": suite.manifest()}


def cmd_suites(args) -> int:
    from pathlib import Path

    from .suites import SUITES, get_suite

    if args.manifest:
        try:
            suite = get_suite(args.manifest)
        except UnknownNameError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(json.dumps(manifest_document(suite), indent=1))
        return 0
    for name in SUITES:
        suite = get_suite(name)
        if args.write:
            out = Path(args.write) / f"{suite.suite_id}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(manifest_document(suite), indent=1) + "\n")
        games = ", ".join(suite.games())
        print(f"{suite.suite_id:<10} hash {suite.hash()}  {len(suite.episodes):>4} episodes  [{games}]  {suite.description}")
    return 0


def cmd_report(args) -> int:
    from .report import plot_curves, summary_table, write_videos
    from .results import ResultsError, load

    try:
        results = load(args.run)
    except ResultsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(results, indent=2) if args.json else summary_table(results))
    if not args.no_plots:
        try:
            paths = plot_curves(args.run)
            print(f"plots: {', '.join(str(p) for p in paths)}")
        except ImportError as e:  # the table is still useful without matplotlib
            print(f"note: no plots written: {e}", file=sys.stderr)
    if args.videos:
        print(f"videos: {len(write_videos(args.run))} GIFs in {args.run}/videos")
    return 0


def cmd_compare(args) -> int:
    from .report import compare, compare_table
    from .results import ResultsError

    try:
        cmp = compare(args.run_a, args.run_b)
    except ResultsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(cmp, indent=2) if args.json else compare_table(cmp))
    return 0

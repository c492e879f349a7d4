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
    p.add_argument("--model", help="a baseline (random, random-legal, oracle) or a model (Hub id or local folder); "
                   "required unless --resume")
    p.add_argument("--suite", default="paper", help="built-in suite: paper, grid, smoke, multiturn (ignored when --games "
                   "is given)")
    p.add_argument("--games", help="custom suite: comma-separated games")
    p.add_argument("--difficulty", default="paper", help="custom suite: difficulty preset")
    p.add_argument("--episodes", type=_positive, default=10, help="custom suite: episodes per game")
    p.add_argument("--steps", type=_positive, default=100, help="custom suite: policy steps per episode")
    p.add_argument("--seed", type=_non_negative, default=0, help="custom suite: first seed")
    p.add_argument("--warmup", type=_non_negative, default=None, help="custom suite: random warm-up moves (default: the paper's)")
    p.add_argument("--history", type=_non_negative, default=0, help="custom suite: past turns in the model's chat, each "
                   "with its frame, answer and feedback line (0 = G1's single step)")
    p.add_argument("--output-dir", "-o", help="run directory (default runs/<suite>__<model>__<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --output-dir (its model and options "
                   "come from its run.json)")
    p.add_argument("--shard", metavar="I/N", help="run only every N-th episode from the I-th (0-based); join the "
                   "shards with `g1bench merge`")
    p.add_argument("--concurrency", type=_positive, default=2, help="episode cohorts in flight (2 overlaps env work with model calls)")
    p.add_argument("--max-active", type=_positive, default=64, help="at most this many episodes live at once (bounds memory)")
    p.add_argument("--no-frames", action="store_true", help="do not store frames (smaller runs; no replays/videos)")
    p.add_argument("--save-videos", action="store_true", help="write an animated GIF per episode at the end")
    p.add_argument("--policy-seed", type=_non_negative, default=0, help="seed of the baselines' randomness")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--push", action="store_true", help="when the run is complete, verify it and add it to the "
                   "leaderboard's results store (see `g1bench push`)")
    p.add_argument("--repo", metavar="ORG/NAME|PATH", default=None, help="results store for --push (default: "
                   "$G1BENCH_RESULTS_REPO, else the local store)")
    from ..models.config import add_arguments as add_model_arguments

    add_model_arguments(p)
    p.set_defaults(func=cmd_eval, _eval_parser=p)

    p = sub.add_parser("verify", help="check a run: results against its suite, every figure recomputed from the step log "
                       "(in a process of its own, under its suite's time and memory budget)")
    p.add_argument("run", help="run directory")
    p.add_argument("--json", action="store_true", help="print the verification as JSON")
    p.add_argument("--no-frames", action="store_true", help="skip re-rendering frames to check their ids (faster)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("merge", help="join the shards of a run (eval --shard I/N) into one run directory")
    p.add_argument("runs", nargs="+", help="shard run directories")
    p.add_argument("--output-dir", "-o", required=True, help="the merged run directory (new or empty)")
    p.set_defaults(func=cmd_merge)

    p = sub.add_parser("suites", help="list the built-in suites, or write their seed manifests")
    p.add_argument("--manifest", metavar="SUITE", help="print this suite's seed manifest as JSON")
    p.add_argument("--write", metavar="DIR", help="write every suite's manifest to DIR/<suite_id>.json")
    p.set_defaults(func=cmd_suites)

    p = sub.add_parser("report", help="summary table, plots and videos of a run")
    p.add_argument("run", help="run directory (or its results.json)")
    p.add_argument("--no-plots", action="store_true", help="do not write the cumulative-score plots (they need g1bench[report])")
    p.add_argument("--videos", action="store_true", help="write an animated GIF per episode (on every core)")
    p.add_argument("--json", action="store_true", help="print results.json instead of the table (only JSON on stdout)")
    p.add_argument("--out-dir", metavar="DIR", help="write plots/ and videos/ here instead of in the run directory")
    p.add_argument("--no-verify", action="store_true", help="do not check the run (g1bench verify, without frames)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("compare", help="paired comparison of two runs of the same suite (B - A)")
    p.add_argument("run_a", help="run directory (or its results.json)")
    p.add_argument("run_b", help="run directory (or its results.json)")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--no-verify", action="store_true", help="do not check the runs (g1bench verify, without frames)")
    p.set_defaults(func=cmd_compare)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "model"


def resolve_policy(args, suite=None):
    """A built-in baseline, or a model through the model backends (which run their pre-flight against
    ``suite``'s frames and prompts before loading weights)."""
    from .policies import BASELINES, get_policy

    if args.model in BASELINES:
        return get_policy(args.model, seed=args.policy_seed)
    from ..models import ModelError, load_policy

    try:
        return load_policy(args.model, args, suite=suite)
    except ModelError as e:
        if "/" not in args.model and not args.base_url and args.backend != "openai":  # maybe a mistyped baseline
            raise type(e)(f"{e}\n(built-in baselines: {', '.join(sorted(BASELINES))})") from None
        raise


#: eval options that only change how a run is executed, not what it measures (free to change on resume)
RUNTIME_OPTIONS = ("output_dir", "resume", "quiet", "save_videos", "concurrency", "max_active", "push", "repo")


def _given_options(args) -> set[str]:
    """The eval options given on the command line (not left at their defaults)."""
    parser, argv = getattr(args, "_eval_parser", None), getattr(args, "_argv", None)
    if parser is None or argv is None or "eval" not in argv:
        return set()
    tail = argv[argv.index("eval") + 1:]
    saved = [(a, a.default) for a in parser._actions]
    try:
        for a, _ in saved:
            a.default = argparse.SUPPRESS
        given, _ = parser.parse_known_args(tail)
    finally:
        for a, d in saved:
            a.default = d
    return set(vars(given))


def _recorded_options(args) -> dict:
    """What run.json keeps of the command, so `--resume -o DIR` alone rebuilds the same run."""
    parser = args._eval_parser
    return {a.dest: getattr(args, a.dest) for a in parser._actions
            if a.dest not in RUNTIME_OPTIONS and a.dest != "help" and hasattr(args, a.dest)}


def _apply_recorded(args) -> str | None:
    """On --resume, take the model and options from the run's run.json; an error message on a conflict."""
    from pathlib import Path

    from .rundir import RunError, holds_no_run, read_run_json

    try:
        if Path(args.output_dir).is_dir() and holds_no_run(Path(args.output_dir)):
            return None  # stopped while it was being created: nothing recorded, the options start it
        run = read_run_json(args.output_dir)
    except RunError as e:
        return str(e)
    recorded = run.get("command")
    if not isinstance(recorded, dict):
        return None  # a run started from Python: the command line must give everything again
    given = _given_options(args)
    for dest, value in recorded.items():
        if not hasattr(args, dest) or dest in RUNTIME_OPTIONS:
            continue
        if dest in given and getattr(args, dest) != value:
            flag = "--" + dest.replace("_", "-")
            return (f"{flag} {getattr(args, dest)!r} conflicts with this run's {value!r} (from {args.output_dir}/run.json); "
                    f"resume with the run's own settings: drop {flag}")
        setattr(args, dest, value)
    return None


def resume_command(out: str) -> str:
    import shlex

    return f"g1bench eval --resume -o {shlex.quote(str(out))}"


def cmd_eval(args) -> int:
    from ..core.files import clean_text
    from ..models.config import ModelError
    from .report import summary_table, write_videos
    from .rundir import ReplayError
    from .runner import RunError, Runner, parse_shard
    from .suites import custom_suite, get_suite

    def fail(msg: str, code: int = 2) -> int:
        print(f"error: {clean_text(msg)}", file=sys.stderr)
        return code

    if args.resume:
        if not args.output_dir:
            return fail("--resume needs --output-dir (the run to continue)")
        if (problem := _apply_recorded(args)) is not None:
            return fail(problem)
    if not args.model:
        from pathlib import Path

        from .rundir import RunError as _RunError, holds_no_run

        try:
            empty = args.resume and Path(args.output_dir).is_dir() and holds_no_run(Path(args.output_dir))
        except _RunError:
            empty = False
        if empty:
            return fail(f"--model is required: {args.output_dir} holds no run yet (it was stopped while being created); "
                        "give the model and suite options to start it there")
        if args.resume:  # a run started from Python records no command to take the model from
            return fail(f"--model is required: {args.output_dir}/run.json records no command line (the run was "
                        "started from Python); give the model and suite options again")
        return fail("--model is required (a baseline: random, random-legal, oracle; or a model id or folder)")
    custom_only = sorted(_given_options(args) & {"difficulty", "episodes", "steps", "seed", "warmup", "history"})
    if custom_only and not args.games:  # else `--suite paper --episodes 20` would silently run 10 episodes
        flags = ", ".join("--" + d for d in custom_only)
        return fail(f"{flags} describe a custom suite: add --games to build one, or drop {flags} to run the built-in "
                    f"suite {args.suite!r} as it is")
    try:
        shard = parse_shard(args.shard) if args.shard else None
        if args.games:
            suite = custom_suite([g.strip() for g in args.games.split(",") if g.strip()], args.difficulty,
                                 args.episodes, args.steps, args.seed, args.warmup, args.history)
        else:
            suite = get_suite(args.suite)
    except (UnknownNameError, ValueError) as e:
        return fail(str(e))
    try:
        policy = resolve_policy(args, suite)
    except ModelError as e:
        return fail(str(e))
    shard_tag = f"__shard{shard[0]}of{shard[1]}" if shard else ""
    out = args.output_dir or f"runs/{suite.suite_id}__{_slug(args.model)}{shard_tag}__{_dt.datetime.now():%Y%m%d-%H%M%S}"
    runner = Runner(suite, policy, out, resume=args.resume, concurrency=args.concurrency, max_active=args.max_active,
                    save_frames=not args.no_frames, progress=not args.quiet, shard=shard,
                    command=_recorded_options(args))

    def saved() -> str:
        return f"{runner.steps_saved} of {runner.steps_total} steps are saved in {out}"

    try:
        results = runner.run()
    except RunError as e:  # a step that does not replay stops every resume too: no command to continue with
        resumable = runner.steps_saved and not isinstance(e, ReplayError)
        return fail(str(e) + (f"\n{saved()}; continue with: {resume_command(out)}" if resumable else ""))
    except ModelError as e:
        return fail(f"{e}\n{saved()}; continue with: {resume_command(out)}", 1)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {saved()}; continue with: {resume_command(out)}", file=sys.stderr)
        return 130
    finally:
        policy.close()
    print(summary_table(results))
    print(f"run directory: {out}")
    if args.save_videos:
        print(f"videos: {len(write_videos(out))} GIFs in {out}/videos")
    if args.push:  # the leaderboard verifies the run and refuses it with the reason if it cannot take it
        from ..leaderboard.push import cmd_push

        return cmd_push(argparse.Namespace(run=out, repo=args.repo, frames=False, model_pr=False, model_repo=None))
    return 0


def manifest_document(suite) -> dict:
    """A suite's published seed manifest: its identity plus every episode's start-state hash."""
    return {"suite_id": suite.suite_id, "hash": suite.hash(), "description": suite.description,
            "invalid_answer": dict(suite.invalid_answer), "envs": suite.env_versions(), "episodes": suite.manifest()}


def cmd_suites(args) -> int:
    from pathlib import Path

    from .suites import SUITE_VERSIONS, SUITES, get_suite

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
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(json.dumps(manifest_document(suite), indent=1) + "\n")
            except OSError as e:
                print(f"error: cannot write {out}: {e.strerror or e}", file=sys.stderr)
                return 2
        games = ", ".join(suite.games())
        print(f"{suite.suite_id:<10} hash {suite.hash()}  {len(suite.episodes):>4} episodes  [{games}]  {suite.description}")
    older = [f"{n}-v{v}" for n, vs in SUITE_VERSIONS.items() for v in sorted(vs) if v != get_suite(n).version]
    if older:
        print(f"older versions (their runs still verify; --manifest ID shows one): {', '.join(older)}")
    return 0


def cmd_report(args) -> int:
    from .report import report_command

    return report_command(args)


def cmd_compare(args) -> int:
    from .report import compare_command

    return compare_command(args)


def cmd_verify(args) -> int:
    from ..leaderboard.isolation import VerifierError, verify_under_budget

    try:
        v = verify_under_budget(args.run, check_frames=not args.no_frames)
    except VerifierError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(v.to_dict(), indent=2))
    else:
        print(v.summary())
        for p in v.problems[1:]:
            print(f"  also: {p}")
        for n in v.notes:
            print(f"  note: {n}")
    return 0 if v.ok else 1


def cmd_merge(args) -> int:
    from ..core.files import clean_text
    from .merge import merge_runs
    from .report import summary_table
    from .rundir import RunError
    from .verify import verify_run

    try:
        results, missing = merge_runs(args.runs, args.output_dir)
    except RunError as e:
        print(f"error: {clean_text(e)}", file=sys.stderr)
        return 2
    print(summary_table(results))
    if missing:
        print(f"note: shards {missing} are missing; the merged run is incomplete", file=sys.stderr)
    v = verify_run(args.output_dir)
    print(f"merged into {args.output_dir}: {v.summary()}")
    return 0 if v.ok else 1

"""``g1bench data build | from-run | push``: datasets of the games for the Hugging Face Hub.

Imports stay light here: the builders (pyarrow, datasets, huggingface_hub) load inside the handlers.
"""

from __future__ import annotations

import argparse
import errno
import sys

BUILD_HELP = """Build a dataset folder that `datasets.load_dataset(OUT, CONFIG)` reads offline.

Configs: perception-<game>-<preset> (frames, perception ground truth, structured state, exact-answer
questions; train/test), states-<game> (restorable start states: `paper` and `late-game` sampling;
train/test), episodes-<game> (baseline trajectories), manifests (suite seed manifests). The same command
gives byte-identical files; an interrupted build is finished with --resume."""


def add_commands(sub) -> None:
    p = sub.add_parser("data", help="build, convert and publish Hugging Face datasets of the games")
    data = p.add_subparsers(dest="data_command", required=True)

    fmt = argparse.ArgumentDefaultsHelpFormatter
    b = data.add_parser("build", help="build perception / states / episodes / manifests configs into a folder",
                        description=BUILD_HELP, formatter_class=fmt)
    b.add_argument("out", metavar="OUT", help="output folder (must be empty or absent, see --resume/--overwrite)")
    b.add_argument("--configs", default="perception,states,episodes,manifests",
                   help="config kinds, comma-separated: perception, states, episodes, manifests")
    b.add_argument("--games", default=None, help="games, comma-separated (default: all)")
    b.add_argument("--presets", default=None,
                   help="presets, comma-separated: NAME (every selected game that has it) or GAME:NAME "
                        "(default: every preset that builds offline)")
    b.add_argument("--train", type=int, default=1000, help="perception rows per (game, preset) in the train split")
    b.add_argument("--test", type=int, default=200, help="perception rows per (game, preset) in the test split")
    b.add_argument("--states-train", type=int, default=100, help="state rows per (game, preset, sampling), train split")
    b.add_argument("--states-test", type=int, default=20, help="state rows per (game, preset, sampling), test split")
    b.add_argument("--episodes", type=int, default=3, help="baseline episodes per (game, preset, policy)")
    b.add_argument("--steps", type=int, default=30, help="steps per baseline episode")
    b.add_argument("--policies", default="random,random-legal,oracle", help="baseline policies for episodes")
    b.add_argument("--workers", type=int, default=2, help="worker processes (0: build in this process); "
                                                          "does not change the output")
    b.add_argument("--resume", action="store_true", help="finish an interrupted build of the same command in OUT")
    b.add_argument("--overwrite", action="store_true", help="delete a previous g1bench dataset in OUT first")
    b.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    b.set_defaults(func=cmd_build)

    f = data.add_parser("from-run", help="convert an evaluation run directory into episodes configs",
                        formatter_class=fmt)
    f.add_argument("run_dir", metavar="RUN_DIR", help="a run directory of `g1bench eval` (run.json, episodes.jsonl, frames/)")
    f.add_argument("out", metavar="OUT", help="output folder (must be empty or absent unless --overwrite)")
    f.add_argument("--overwrite", action="store_true", help="delete a previous g1bench dataset in OUT first")
    f.set_defaults(func=cmd_from_run)

    u = data.add_parser("push", help="upload a dataset folder to the Hugging Face Hub", formatter_class=fmt,
                        description="Upload a finished dataset folder to a Hub dataset repo (created if missing). The "
                                    "repo's parquet files then mirror the folder's (stale ones are deleted in the same "
                                    "commit); unchanged files are not re-uploaded and identical content makes no commit. "
                                    "The token comes from HF_TOKEN or `hf auth login` and is never printed.")
    u.add_argument("folder", metavar="FOLDER", help="a folder made by `g1bench data build` or `data from-run`")
    u.add_argument("--repo", required=True, metavar="ORG/NAME", help="dataset repo id (created if missing)")
    u.add_argument("--private", action="store_true", help="create the repo private")
    u.add_argument("--revision", default=None, help="branch to push to (created if missing; default: main)")
    u.add_argument("--message", default=None, help="commit message (default: names the g1bench version and build)")
    u.set_defaults(func=cmd_push)


def _fail(e: Exception | str) -> int:
    from ..core.files import clean_text

    print(f"error: {clean_text(e, keep_newlines=False)}", file=sys.stderr)
    return 2


#: what to do about an OSError, by errno
_OS_HINTS = {
    errno.EROFS: "a read-only filesystem: choose an output folder you can write",
    errno.EACCES: "permission denied: choose an output folder you can write",
    errno.EPERM: "not permitted: choose an output folder you can write",
    errno.ENOSPC: "the disk is full: free some space, then finish with the same command and --resume",
    errno.EDQUOT: "over the disk quota: free some space, then finish with the same command and --resume",
    errno.ENAMETOOLONG: "the name is too long: choose a shorter path",
    errno.ENOTDIR: "a parent of this path is a file, not a folder",
    errno.EISDIR: "a folder is where a file was expected",
}


def _os_error(e: OSError, resumable: bool = False) -> int:
    """One line for a filesystem failure: the path, what went wrong, what to do."""
    where = e.filename if e.filename is not None else "a file"
    hint = _OS_HINTS.get(e.errno or -1, e.strerror or str(e))
    if not resumable:
        hint = hint.replace(", then finish with the same command and --resume", " and run the command again")
    return _fail(f"{where}: {hint}")


def _data_error(e: Exception, resumable: bool = False) -> int:
    """A :class:`DataError` as one line. A worker's failure carries its traceback after the first line: shown
    only with G1BENCH_DEBUG=1; a filesystem errno in it gets the same advice as :func:`_os_error`."""
    import os
    import re

    text = str(e)
    if os.environ.get("G1BENCH_DEBUG") and "\n" in text:
        print(text, file=sys.stderr)
    first = text.split("\n", 1)[0].strip()
    m = re.search(r"\[Errno (\d+)\]", first)
    hint = _OS_HINTS.get(int(m.group(1))) if m else None
    if hint and not resumable:
        hint = hint.replace(", then finish with the same command and --resume", " and run the command again")
    return _fail(first + (f" ({hint})" if hint else ""))


def _interrupted(resumable: bool) -> int:
    print("\ninterrupted: " + ("the folder is marked unfinished; finish it with the same command and --resume"
                               if resumable else "nothing was finished; run the command again"), file=sys.stderr)
    return 130


def cmd_build(args) -> int:
    from .build import build_dataset, make_spec
    from .errors import DataError

    try:
        spec = make_spec(args.configs, args.games, args.presets, args.train, args.test, args.states_train,
                         args.states_test, args.episodes, args.steps, args.policies)
        log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
        report = build_dataset(args.out, spec, workers=args.workers, resume=args.resume,
                               overwrite=args.overwrite, log=log)
    except DataError as e:
        return _data_error(e, resumable=True)
    except OSError as e:
        return _os_error(e, resumable=True)
    except KeyboardInterrupt:
        return _interrupted(resumable=True)
    configs = sorted({f.config for f in report.files if f.config})
    print(f"{args.out}: {len(configs)} configs, {report.rows()} rows, {report.bytes() / 1e6:.1f} MB"
          + (f" in {report.seconds:.1f} s" if report.seconds else ""))
    return 0


def cmd_from_run(args) -> int:
    from .errors import DataError
    from .fromrun import from_run

    try:
        report = from_run(args.run_dir, args.out, overwrite=args.overwrite)
    except DataError as e:
        return _data_error(e)
    except OSError as e:
        return _os_error(e)
    except KeyboardInterrupt:
        return _interrupted(resumable=False)
    configs = sorted({f.config for f in report.files if f.config})
    print(f"{args.out}: {', '.join(configs)}; {report.rows()} steps")
    return 0


def cmd_push(args) -> int:
    from .errors import DataError
    from .hub import push_folder

    try:
        info = push_folder(args.folder, args.repo, private=args.private, revision=args.revision, message=args.message)
    except DataError as e:
        return _fail(e)
    except KeyboardInterrupt:
        print("\ninterrupted: the Hub keeps only whole commits; push again to upload the folder", file=sys.stderr)
        return 130
    print(f"pushed {args.folder} to {info['url']} (commit {info['commit']}{', unchanged' if not info['changed'] else ''})")
    return 0

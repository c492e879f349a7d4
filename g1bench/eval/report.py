"""Reading runs back: the summary table, paired comparisons, plots and episode videos.

Everything read from a run (policy names, model ids, group keys, notes) may come from anyone, so text goes
through :func:`g1bench.core.files.clean_text` before it reaches a terminal. GIFs are written on every core
(:mod:`.gifs`).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

from ..core.files import clean_text
from .history import episode_history, group_key
from .metrics import PAPER_REFERENCE, paired_difference
from .results import ResultsError, load
from .runner import load_episodes

#: frame ids are content hashes (hex); anything else in a step record is refused (no path tricks)
FRAME_ID = re.compile(r"[0-9a-f]{8,64}")


def _t(x: Any) -> str:
    """Text from a run file, safe for a terminal line."""
    return clean_text(x, keep_newlines=False)


def run_dir_of(path: str | os.PathLike) -> Path:
    """The run directory ``path`` names: the folder itself, or the folder holding a results file."""
    p = Path(path)
    return p.parent if p.is_file() else p


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.0f}%" if pct else (f"{x:.1f}" if abs(x) < 100 else f"{x:.0f}")


def summary_table(results: dict[str, Any]) -> str:
    """A plain-text table of every group, with the paper's Random and G1-7B numbers beside ours."""
    prov = results["provenance"]
    head = (f"{_t(prov['suite']['suite_id'])} (hash {_t(prov['suite']['hash'])}) · policy {_t(prov['policy'].get('policy'))}"
            f" · {results['episodes_done']}/{results['episodes_total']} episodes"
            + ("" if results["complete"] else " · INCOMPLETE"))
    cols = ["game/difficulty", "score", "95% CI", "n", "parse fail", "invalid", "P_acc", "R_acc", "paper Random", "paper G1-7B"]
    substituted = {}
    for k, v in prov["env_versions"].items():
        if v.get("substituted"):
            substituted[k.split("|")[0]] = v["substituted"]
    rows = []
    for key, g in results["results"].items():
        game, diff = key.split("/", 1)
        # the paper's numbers only sit beside a run of the paper protocol on the paper's own settings
        ref = prov["suite"]["name"] == "paper" and key not in substituted
        rows.append([_t(key) + (" *" if key in substituted else ""), _fmt(g["mean"]), f"[{_fmt(g['ci95'][0])}, {_fmt(g['ci95'][1])}]", str(g["n"]),
                     _fmt(g["parse_failure_rate"], True), _fmt(g["invalid_action_rate"], True),
                     _fmt(g["perception_accuracy"], True), _fmt(g["reasoning_accuracy"], True),
                     _fmt(PAPER_REFERENCE["Random"].get(game)) if ref else "",
                     _fmt(PAPER_REFERENCE["G1-7B"].get(game)) if ref else ""])
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths))
    body = "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows)
    notes = ("score = 2048: merge score summed over the steps; tile games: successful moves (Swap: per 100 steps).\n"
             "Paper numbers: G1 paper Fig. 1 (avg over 10 runs of 100 steps), shown for the paper suite only.")
    for key, subs in substituted.items():
        what = _t(", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in subs.items()))
        notes += f"\n* {_t(key)} ran with {what} on this machine: not comparable with the paper's numbers."
    return f"{head}\n{line}\n{'-' * len(line)}\n{body}\n{notes}"


def compare(run_a: str | os.PathLike, run_b: str | os.PathLike) -> dict[str, Any]:
    """Per group, the paired difference B - A on the episodes both runs share (same suite required).

    ``run_a`` / ``run_b``: run directories, or their ``results.json`` files.
    """
    ra, rb = load(run_a), load(run_b)
    run_a, run_b = run_dir_of(run_a), run_dir_of(run_b)
    ha, hb = ra["provenance"]["suite"]["hash"], rb["provenance"]["suite"]["hash"]
    if ha != hb:
        raise ResultsError(f"runs use different suites ({ra['provenance']['suite']['suite_id']} {ha} vs "
                           f"{rb['provenance']['suite']['suite_id']} {hb}); paired comparison needs identical seeds")
    ea = {e["episode_id"]: e for e in load_episodes(run_a)}
    eb = {e["episode_id"]: e for e in load_episodes(run_b)}
    out = {}
    groups = list(dict.fromkeys([*ra["results"], *rb["results"]]))
    for g in groups:
        a = {k: float(e["score"]) for k, e in ea.items() if f"{e['game']}/{e['difficulty']}" == g}
        b = {k: float(e["score"]) for k, e in eb.items() if f"{e['game']}/{e['difficulty']}" == g}
        out[g] = paired_difference(a, b)
    return {"a": {"policy": ra["provenance"]["policy"], "dir": str(run_a)},
            "b": {"policy": rb["provenance"]["policy"], "dir": str(run_b)}, "groups": out}


def compare_table(cmp: dict[str, Any]) -> str:
    """The plain-text form of :func:`compare` (with each run's verification when ``cmp`` holds it)."""
    a, b = cmp["a"], cmp["b"]
    lines = [f"B - A  (A = {_t(a['policy'].get('policy'))} {_t(a['dir'])}, B = {_t(b['policy'].get('policy'))} {_t(b['dir'])})"]
    for g, d in cmp["groups"].items():
        if not d["n"]:
            lines.append(f"  {_t(g):<28} no shared episodes")
            continue
        lo, hi = d["ci95"]
        sig = " *" if (lo > 0 or hi < 0) else ""
        lines.append(f"  {_t(g):<28} {d['mean_diff']:+.2f}  95% CI [{lo:+.2f}, {hi:+.2f}]  n={d['n']}  "
                     f"(A {d['a_mean']:.1f}, B {d['b_mean']:.1f}){sig}")
    lines.append("  * the interval excludes 0 (paired bootstrap over shared seeds)")
    for name, side in (("A", a), ("B", b)):
        if "verification" in side:
            lines.append(f"  {name}: {_t(side['verification'])}")
    return "\n".join(lines)


def _groups(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list] = {}
    for e in load_episodes(run_dir):
        groups.setdefault(group_key(e["game"], e["difficulty"], episode_history(e)), []).append(e)
    return groups


def plot_curves(run_dir: str | os.PathLike, out: str | os.PathLike | None = None,
                progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """One PNG per group: the cumulative paper metric over steps, one line per episode (like the paper's figure).

    ``out``: the folder for the PNGs (default ``RUN_DIR/plots``); ``progress(done, total)`` is called before
    the first plot and after each.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'g1bench[report]'") from None
    from .metrics import step_score

    run_dir = run_dir_of(run_dir)
    out_dir = Path(out) if out else run_dir / "plots"
    groups = _groups(run_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if progress is not None:
        progress(0, len(groups))
    written = []
    for g, eps in groups.items():
        fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
        for e in sorted(eps, key=lambda e: e["index"]):
            total, ys = 0.0, []
            for s in e["steps"]:
                total += step_score(e["game"], s)
                ys.append(total)
            ax.plot(range(1, len(ys) + 1), ys, label=_t(f"seed {e['seed']}"), linewidth=1)
        ax.set_title(_t(f"{g}: cumulative score per episode"))
        ax.set_xlabel("step")
        ax.set_ylabel("cumulative score")
        if len(eps) <= 10:
            ax.legend(fontsize=6, loc="upper left")
        fig.tight_layout()
        path = out_dir / f"{_safe_name(g)}.png"
        try:
            fig.savefig(path)
        finally:
            plt.close(fig)
        written.append(path)
        if progress is not None:
            progress(len(written), len(groups))
    return written


def _safe_name(key: str) -> str:
    """A file name for a group or episode id (``/`` -> ``__``; nothing that leaves the folder)."""
    name = re.sub(r"[^A-Za-z0-9._=-]+", "_", key.replace("/", "__")).strip(".")
    return name[:200] or "_"


# -- videos ----------------------------------------------------------------------------------------------
def video_jobs(run_dir: str | os.PathLike, out: str | os.PathLike | None = None) -> list[tuple[str, list[str]]]:
    """(GIF path, frame ids) per episode of a run that has frames (checked: ids are content hashes)."""
    run_dir = run_dir_of(run_dir)
    out_dir = Path(out) if out else run_dir / "videos"
    jobs = []
    for e in load_episodes(run_dir):
        ids = [s["frame"] for s in e["steps"] if s.get("frame")]
        if not ids:
            continue
        bad = next((f for f in ids if not isinstance(f, str) or not FRAME_ID.fullmatch(f)), None)
        if bad is not None:
            raise ResultsError(f"{run_dir}: episode {_t(e['episode_id'])} names frame {_t(repr(bad))[:80]}, "
                               "which is not a frame id")
        jobs.append((str(out_dir / f"{_safe_name(e['episode_id'])}.gif"), ids))
    return jobs


def write_videos(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, fps: int = 4,
                 workers: int | None = None, progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """An animated GIF per episode from its stored frames (needs a run saved with frames).

    Args:
        run_dir: the run directory (or its results file).
        out: the folder for the GIFs (default ``RUN_DIR/videos``).
        fps: frames per second.
        workers: worker processes (default: one per core; 0 writes in this process). See :mod:`.gifs`.
        progress: ``progress(done, total)``, called before the first GIF and after each.

    Returns:
        The GIFs' paths, in the run's episode order.

    Raises:
        GifError: a frame is missing or unreadable, or the folder cannot be written.
    """
    from .gifs import write_gifs

    run_dir = run_dir_of(run_dir)
    jobs = video_jobs(run_dir, out)
    Path(out if out else run_dir / "videos").mkdir(parents=True, exist_ok=True)
    written = write_gifs(run_dir / "frames", jobs, int(1000 / fps), workers=workers, progress=progress)
    return [Path(p) for p in written]


# -- the report and compare commands ----------------------------------------------------------------------
def _error(message: Any) -> int:
    print(f"error: {_t(message)}", file=sys.stderr)
    return 2


def _progress(what: str, where: Path) -> Callable[[int, int], None]:
    """A progress callback: a tqdm bar on a terminal's stderr, else one line saying what is being written."""
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            if sys.stderr.isatty():
                from tqdm.auto import tqdm

                state["bar"] = tqdm(total=total, desc=what, unit="file", file=sys.stderr, leave=False)
            else:
                state["bar"] = None
                print(f"writing {total} {what} in {where} ...", file=sys.stderr, flush=True)
        bar = state["bar"]
        if bar is not None:
            bar.n = done
            bar.refresh()
            if done >= total:
                bar.close()

    return update


_LOAD_ERRORS: tuple = ()


def _load_errors() -> tuple:
    """The error types of the run readers (results, step log, files), caught as one clear line."""
    global _LOAD_ERRORS
    if not _LOAD_ERRORS:
        from ..core.files import FileFormatError
        from .gifs import GifError
        from .runner import RunError

        _LOAD_ERRORS = (ResultsError, FileFormatError, RunError, GifError)
    return _LOAD_ERRORS


def _malformed(path: Any, e: Exception) -> str:
    return f"{path}: a record is malformed ({type(e).__name__}: {e}); `g1bench verify` names the bad field"


def report_command(args: Any) -> int:
    """``g1bench report``: the table first (stdout), then whether the run verifies, then plots and videos.

    With ``--json`` stdout holds only results.json; every note and progress line goes to stderr. Any failure is
    one ``error:`` line on stderr with exit status 2 (130 on Ctrl-C), after what could already be shown.
    """
    errors = _load_errors()
    try:
        results = load(args.run)
        table = None if args.json else summary_table(results)
    except errors as e:
        return _error(e)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        return _error(_malformed(args.run, e))
    run_dir = run_dir_of(args.run)
    info = sys.stderr if args.json else sys.stdout
    import json

    print(json.dumps(results, indent=2) if args.json else table, flush=True)
    if not getattr(args, "no_verify", False):
        from ..tiles import quiet_fallback
        from .verify import verify_run

        with quiet_fallback():  # a replay, not play: the table already says which tiles the run used
            v = verify_run(run_dir, check_frames=False)
        print(f"verification: {_t(v.summary())}", file=info, flush=True)
    out = Path(args.out_dir) if getattr(args, "out_dir", None) else run_dir
    what, where = "plots", out / "plots"
    try:
        if not args.no_plots:
            try:
                paths = plot_curves(run_dir, where, progress=_progress("plots", where))
            except ImportError as e:  # the table is still useful without matplotlib
                print(f"note: no plots written: {e}", file=sys.stderr)
            else:
                print(f"plots: {', '.join(_t(p) for p in paths)}", file=info, flush=True)
        if args.videos:
            what, where = "videos", out / "videos"
            paths = write_videos(run_dir, where, progress=_progress("GIFs", where))
            if paths:
                print(f"videos: {len(paths)} GIFs in {_t(where)}", file=info, flush=True)
            else:
                print("note: no GIFs written: no finished episode of this run has stored frames (was it run with "
                      "--no-frames?)", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print(f"\ninterrupted: the {what} in {_t(where)} are incomplete (finished files are whole); run the report "
              "again to write them all", file=sys.stderr)
        return 130
    except OSError as e:
        why = e.strerror or str(e)
        return _error(f"cannot write the {what} in {where}: {why}; pass --out-dir DIR (a folder you can write), "
                      f"or {'--no-plots' if what == 'plots' else 'leave out --videos'}")
    except errors as e:
        return _error(e)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        return _error(_malformed(run_dir, e))
    return 0


def compare_command(args: Any) -> int:
    """``g1bench compare``: the paired difference B - A per group, and whether each run verifies."""
    import json

    errors = _load_errors()
    try:
        cmp = compare(args.run_a, args.run_b)
    except errors as e:
        return _error(e)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        return _error(_malformed(f"{args.run_a} / {args.run_b}", e))
    if not getattr(args, "no_verify", False):
        from ..tiles import quiet_fallback
        from .verify import verify_run

        for side, path in (("a", args.run_a), ("b", args.run_b)):
            with quiet_fallback():  # a replay, not play
                v = verify_run(run_dir_of(path), check_frames=False)
            cmp[side]["verified"], cmp[side]["verification"] = v.ok, v.summary()
    print(json.dumps(cmp, indent=2) if args.json else compare_table(cmp))
    return 0

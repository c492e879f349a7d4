"""Reading runs back: the summary table, paired comparisons, plots and episode videos."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .metrics import PAPER_REFERENCE, paired_difference
from .results import ResultsError, load
from .runner import load_episodes


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.0f}%" if pct else (f"{x:.1f}" if abs(x) < 100 else f"{x:.0f}")


def summary_table(results: dict[str, Any]) -> str:
    """A plain-text table of every group, with the paper's Random and G1-7B numbers beside ours."""
    prov = results["provenance"]
    head = (f"{prov['suite']['suite_id']} (hash {prov['suite']['hash']}) · policy {prov['policy'].get('policy')}"
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
        rows.append([key + (" *" if key in substituted else ""), _fmt(g["mean"]), f"[{_fmt(g['ci95'][0])}, {_fmt(g['ci95'][1])}]", str(g["n"]),
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
        what = ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in subs.items())
        notes += f"\n* {key} ran with {what} on this machine: not comparable with the paper's numbers."
    return f"{head}\n{line}\n{'-' * len(line)}\n{body}\n{notes}"


def compare(run_a: str | os.PathLike, run_b: str | os.PathLike) -> dict[str, Any]:
    """Per group, the paired difference B - A on the episodes both runs share (same suite required)."""
    ra, rb = load(run_a), load(run_b)
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
    lines = [f"B - A  (A = {cmp['a']['policy'].get('policy')} {cmp['a']['dir']}, B = {cmp['b']['policy'].get('policy')} {cmp['b']['dir']})"]
    for g, d in cmp["groups"].items():
        if not d["n"]:
            lines.append(f"  {g:<28} no shared episodes")
            continue
        lo, hi = d["ci95"]
        sig = " *" if (lo > 0 or hi < 0) else ""
        lines.append(f"  {g:<28} {d['mean_diff']:+.2f}  95% CI [{lo:+.2f}, {hi:+.2f}]  n={d['n']}  "
                     f"(A {d['a_mean']:.1f}, B {d['b_mean']:.1f}){sig}")
    lines.append("  * the interval excludes 0 (paired bootstrap over shared seeds)")
    return "\n".join(lines)


def plot_curves(run_dir: str | os.PathLike, out: str | os.PathLike | None = None) -> list[Path]:
    """One PNG per group: the cumulative paper metric over steps, one line per episode (like the paper's figure)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'g1bench[report]'") from None
    from .metrics import step_score

    run_dir = Path(run_dir)
    out_dir = Path(out) if out else run_dir / "plots"
    out_dir.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list] = {}
    for e in load_episodes(run_dir):
        groups.setdefault(f"{e['game']}/{e['difficulty']}", []).append(e)
    written = []
    for g, eps in groups.items():
        fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
        for e in sorted(eps, key=lambda e: e["index"]):
            total, ys = 0.0, []
            for s in e["steps"]:
                total += step_score(e["game"], s)
                ys.append(total)
            ax.plot(range(1, len(ys) + 1), ys, label=f"seed {e['seed']}", linewidth=1)
        ax.set_title(f"{g}: cumulative score per episode")
        ax.set_xlabel("step")
        ax.set_ylabel("cumulative score")
        if len(eps) <= 10:
            ax.legend(fontsize=6, loc="upper left")
        fig.tight_layout()
        path = out_dir / f"{g.replace('/', '__')}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


def write_videos(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, fps: int = 4) -> list[Path]:
    """An animated GIF per episode from its stored frames (needs a run saved with frames)."""
    from PIL import Image

    run_dir = Path(run_dir)
    out_dir = Path(out) if out else run_dir / "videos"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for e in load_episodes(run_dir):
        ids = [s["frame"] for s in e["steps"] if s.get("frame")]
        if not ids:
            continue
        frames = [Image.open(run_dir / "frames" / f"{fid}.png").convert("RGB") for fid in ids]
        path = out_dir / f"{e['episode_id'].replace('/', '__')}.gif"
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
        written.append(path)
    return written

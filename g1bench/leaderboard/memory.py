"""The memory curve: per model, its score against the number of past turns in its context (the ``history`` knob).

A suite whose cells differ by history (the ``multiturn`` suite: the paper games at history 0, 1 and 4, same
seeds; cells ``game/paper``, ``game/paper@h1``, ``game/paper@h4``) gives every verified entry one point per
history: the normalised overall score (:mod:`g1bench.leaderboard.scoring`) over that history's cells, with its
bootstrap interval, and per game the paper metric with its interval. The anchors are the suite's random and
oracle baselines in the same cells; baselines answer from the state alone, so they score alike at every history
and a model's curve shows what its memory is worth (0 = random, 100 = oracle). Without both baselines in the
store, only the paper metric per game is shown.

As data (:func:`memory_curves`), a section of the leaderboard's text and Markdown output (:func:`section`) and a
PNG (:func:`memory_figure`, needs ``g1bench[report]``).
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..eval.history import split_group
from . import scoring


def histories(info: dict[str, Any]) -> list[int]:
    """The history lengths of a suite's cells (sorted); one value means the suite has no memory curve."""
    return sorted({split_group(g)[1] for g in info.get("groups", ())})


def memory_curves(lb: Any, suite_id: str | None) -> dict[str, Any]:
    """Every entry's memory curve on ``suite_id`` (see the module docstring).

    Returns ``{"suite_id", "histories", "value": "normalised" | "mean", "curves": [{"entry_id", "model", "kind",
    "points": [{"history", "score", "ci95", "games": {game: {"mean", "ci95", "normalised"}}}]}]}``, curves in the
    leaderboard's row order; ``score`` is None where the overall score is undefined (``value`` is then ``mean``).
    """
    from .identity import row_kind as _kind

    info = lb.suites.get(suite_id) if suite_id else None
    out: dict[str, Any] = {"suite_id": suite_id, "histories": [], "value": "mean", "curves": []}
    if info is None or len(histories(info)) < 2:
        return out
    ks = histories(info)
    anchor = {g: tuple(v) for g, v in info["anchors"].items()}
    game_of = info["game_of"]
    cells = {k: [g for g in info["groups"] if split_group(g)[1] == k] for k in ks}
    order = {r["entry_id"]: i for i, r in enumerate(lb.table(suite_id))}
    entries = sorted((s for s in lb.entries if s["suite_id"] == suite_id), key=lambda s: order.get(s["entry_id"], 1e9))
    out.update(histories=ks, value="normalised" if anchor else "mean")
    for s in entries:
        points = []
        for k in ks:
            mine = {g: anchor[g] for g in cells[k] if g in anchor}
            means = {g: s["groups"][g]["mean"] for g in cells[k] if g in s["groups"]}
            score = scoring.overall(means, mine, game_of) if mine else None
            ci = [None, None]
            if score is not None:
                reps = scoring.overall_replicates({g: s["episode_scores"].get(g, []) for g in mine}, mine, game_of)
                if reps is not None:
                    ci = list(scoring.interval(reps))
            games = {}
            for g in cells[k]:
                if g in s["groups"]:
                    grp = s["groups"][g]
                    games[game_of[g]] = {"mean": grp["mean"], "ci95": list(grp["ci95"]),
                                         "normalised": scoring.normalise(grp["mean"], *anchor[g]) if g in anchor else None}
            points.append({"history": k, "score": score, "ci95": ci, "games": games})
        out["curves"].append({"entry_id": s["entry_id"], "model": s["model"], "kind": _kind(s), "points": points})
    return out


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    return f"{x:.1f}" if abs(x) < 100 else f"{x:.0f}"


def rows(curves: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(header, cells) of the memory table: per model its score at each history and the change from the first
    history to the last (normalised overall, or each game's paper metric where there are no anchors)."""
    ks = curves["histories"]
    if not curves["curves"]:
        return [], []
    first, last = ks[0], ks[-1]
    if curves["value"] == "normalised":
        head = ["model", "kind", *(f"history {k} [95% CI]" for k in ks), f"change {first} -> {last}"]
        cells = []
        for c in curves["curves"]:
            pts = {p["history"]: p for p in c["points"]}
            row = [c["model"], c["kind"]]
            for k in ks:
                p = pts[k]
                row.append("-" if p["score"] is None else
                           _fmt(p["score"]) + ("" if p["ci95"][0] is None else f" [{_fmt(p['ci95'][0])}, {_fmt(p['ci95'][1])}]"))
            a, b = pts[first]["score"], pts[last]["score"]
            row.append("-" if a is None or b is None else f"{b - a:+.1f}")
            cells.append(row)
        return head, cells
    games = list(dict.fromkeys(g for c in curves["curves"] for p in c["points"] for g in p["games"]))
    head = ["model", "kind", *(f"{g} (history {' / '.join(map(str, ks))})" for g in games)]
    cells = []
    for c in curves["curves"]:
        pts = {p["history"]: p for p in c["points"]}
        cells.append([c["model"], c["kind"], *(" / ".join(_fmt(pts[k]["games"].get(g, {}).get("mean")) for k in ks)
                                              for g in games)])
    return head, cells


_TITLE = "memory: score against history (past turns in the model's context)"
_NOTE_NORMALISED = ("normalised overall score over each history's cells (0 = random, 100 = oracle; the baselines "
                    "have no memory and score alike at every history)")
_NOTE_MEAN = "the paper metric per game (no overall score: the store lacks the random or oracle baseline of this suite)"


def section(lb: Any, suite_id: str | None, fmt: str) -> str:
    """The memory table as a block of the leaderboard's ``table`` or ``md`` output ("" when the suite has no
    history cells or no entries)."""
    from .identity import md_escape
    from .identity import text

    curves = memory_curves(lb, suite_id)
    head, cells = rows(curves)
    if not cells:
        return ""
    note = _NOTE_NORMALISED if curves["value"] == "normalised" else _NOTE_MEAN
    if fmt == "md":
        lines = [f"### {md_escape(suite_id)}: {_TITLE}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(md_escape(v) for v in row) + " |" for row in cells]
        return "\n".join(lines) + f"\n\n{note}.\n"
    cells = [[text(v, 120) for v in row] for row in cells]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(head)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
    return "\n".join([f"{suite_id} {_TITLE}", line(head), "-" * len(line(head)), *map(line, cells), f"({note})"])


def with_memory(lb: Any, fmt: str, suite: str | None, rendered: str) -> str:
    """``rendered`` (an export of the leaderboard) with the memory section of the suites it shows: a block after
    the text and Markdown tables, a ``memory`` object in the JSON; CSV stays one flat table."""
    sid = lb.resolve_suite(suite)
    sids = [sid] if sid is not None else lb.suite_ids()
    if fmt == "json":
        data = json.loads(rendered)
        mem = {s: memory_curves(lb, s) for s in sids}
        data["memory"] = {s: m for s, m in mem.items() if m["curves"]}
        return json.dumps(data, indent=1, allow_nan=False)
    if fmt not in ("table", "md"):
        return rendered
    blocks = [b for b in (section(lb, s, fmt) for s in sids) if b]
    if not blocks:
        return rendered
    return rendered.rstrip("\n") + "\n\n" + "\n\n".join(blocks) + ("\n" if fmt == "md" else "")


def memory_figure(lb: Any, suite_id: str | None, out_dir: str | os.PathLike | None) -> dict[str, Any]:
    """The memory curves as a PNG in ``out_dir`` (or a matplotlib figure): one panel with the normalised overall
    score (when the suite has anchors) and one per game with its paper metric, against the history, one line per
    model with its 95% intervals. Returns :func:`memory_curves` plus ``png`` and ``figure``."""
    curves = memory_curves(lb, suite_id)
    out = {**curves, "png": None, "figure": None}
    if not curves["curves"]:
        return out
    from .plots import _finish, _plain, _plt

    plt = _plt()
    ks = curves["histories"]
    games = list(dict.fromkeys(g for c in curves["curves"] for p in c["points"] for g in p["games"]))
    panels = (["overall"] if curves["value"] == "normalised" else []) + games
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels), 3.2), dpi=110, squeeze=False)
    colors = plt.get_cmap("tab10")
    for ax, panel in zip(axes[0], panels):
        for i, c in enumerate(curves["curves"]):
            if panel == "overall":
                ys = [p["score"] for p in c["points"]]
                cis = [p["ci95"] for p in c["points"]]
            else:
                ys = [p["games"].get(panel, {}).get("mean") for p in c["points"]]
                cis = [p["games"].get(panel, {}).get("ci95", [None, None]) for p in c["points"]]
            xs = [k for k, y in zip(ks, ys) if y is not None]
            if not xs:
                continue
            y = [v for v in ys if v is not None]
            lo = [v - (ci[0] if ci[0] is not None else v) for v, ci in zip(ys, cis) if v is not None]
            hi = [(ci[1] if ci[1] is not None else v) - v for v, ci in zip(ys, cis) if v is not None]
            ax.errorbar(xs, y, yerr=[lo, hi], marker="o", capsize=3, color=colors(i % 10),
                        linestyle="--" if c["kind"] == "baseline" else "-", label=_plain(c["model"]))
        ax.set_xticks(ks)
        ax.set_xlabel("history (past turns)", fontsize=8)
        ax.set_ylabel("normalised score" if panel == "overall" else "paper metric", fontsize=8)
        ax.set_title(panel, fontsize=9)
    axes[0][0].legend(fontsize=6, loc="best")
    fig.suptitle(f"memory curve ({suite_id})", fontsize=9)
    return _finish(fig, out, out_dir, "memory.png")


__all__ = ["memory_curves", "memory_figure", "section", "with_memory", "rows", "histories"]

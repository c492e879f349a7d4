"""The G1 paper's reported numbers: the one owner of every figure g1bench quotes from the paper.

The leaderboard shows these rows marked "reported in the paper" and never mixes them with measured rows
(they were not produced by g1bench and cannot be verified). ``g1bench.eval.metrics.PAPER_REFERENCE`` and
the published ``leaderboard/paper_reported.csv`` are derived from :data:`PAPER_ROWS`.

Sources (see ``shared/spec/g1-reference.md`` §7): the bar values printed on the paper's Fig. 1 ("2048
(avg@10)", "Shisen-Sho (avg@10)", "Shisen-Sho-Cifar10 (avg@10)", "Swap (avg@100)") and, for
Qwen2.5-VL-7B, the paper's table as transcribed in a written summary, whose Swap column is in swaps per
step (0.02); Fig. 1 shows Swap as swaps per 100 steps, so that row is scaled by 100 here. Every value is
the mean over 10 runs of 100 policy steps, the protocol of g1bench's ``paper`` suite.

This module imports nothing heavy: the harness imports it for its summary table.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

#: the games of the paper, in the order of its figure
PAPER_GAMES = ("2048", "shisensho", "shisensho-images", "swap")

#: what each column of the paper measures (Swap: successful swaps per 100 steps = per episode)
PAPER_UNITS = {
    "2048": "merge score summed over 100 steps, mean of 10 runs",
    "shisensho": "successful matches in 100 steps, mean of 10 runs",
    "shisensho-images": "successful matches in 100 steps, mean of 10 runs (CIFAR-10 tiles)",
    "swap": "successful swaps in 100 steps, mean of 10 runs",
}

#: the paper's rows, best first as in its Fig. 1; ``source`` says where each row was read
PAPER_ROWS: tuple[dict[str, Any], ...] = (
    {"model": "G1-7B", "model_type": "open weights", "source": "Fig. 1",
     "scores": {"2048": 1070, "shisensho": 17.5, "shisensho-images": 14.1, "swap": 78}},
    {"model": "Claude-3.7-Sonnet-Thinking", "model_type": "API", "source": "Fig. 1",
     "scores": {"2048": 892, "shisensho": 15.3, "shisensho-images": 8.7, "swap": 43}},
    {"model": "G0-7B", "model_type": "open weights", "source": "Fig. 1",
     "scores": {"2048": 759, "shisensho": 12.8, "shisensho-images": 8.0, "swap": 5}},
    {"model": "OpenAI o1", "model_type": "API", "source": "Fig. 1",
     "scores": {"2048": 539, "shisensho": 3.9, "shisensho-images": 5.4, "swap": 4}},
    {"model": "Qwen2.5-VL-72B", "model_type": "open weights", "source": "Fig. 1",
     "scores": {"2048": 243, "shisensho": 2.6, "shisensho-images": 0.8, "swap": 6}},
    {"model": "GPT-4o", "model_type": "API", "source": "Fig. 1",
     "scores": {"2048": 620, "shisensho": 1.5, "shisensho-images": 4.7, "swap": 1}},
    {"model": "Qwen2.5-VL-7B", "model_type": "open weights", "source": "paper table (via a written summary; Swap x100)",
     "scores": {"2048": 246, "shisensho": 1.9, "shisensho-images": 0.4, "swap": 2}},
    {"model": "Random", "model_type": "baseline", "source": "Fig. 1",
     "scores": {"2048": 701, "shisensho": 0.4, "shisensho-images": 0.4, "swap": 1}},
)

#: the label every paper row carries in the leaderboard
REPORTED = "reported in the paper"


def paper_reference() -> dict[str, dict[str, float]]:
    """``{model: {game: value}}`` for every paper row (what ``metrics.PAPER_REFERENCE`` is)."""
    return {row["model"]: dict(row["scores"]) for row in PAPER_ROWS}


def paper_rows_csv() -> str:
    """The paper's rows as CSV text (model, model type, one column per game, source)."""
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["model", "model_type", *PAPER_GAMES, "source", "label"])
    for row in PAPER_ROWS:
        w.writerow([row["model"], row["model_type"], *(row["scores"][g] for g in PAPER_GAMES), row["source"], REPORTED])
    return out.getvalue()


#: why an overall score of a paper row is approximate (shown with it)
APPROXIMATE_REASON = (
    "approximate: the paper's figures are means of its own runs (not this suite's seeded episodes, and with no "
    "per-episode scores), normalised here with this suite's g1bench random and oracle baselines; no interval, "
    "no rank")


def approximate_overall(scores: Mapping[str, float], anchors: Mapping[str, Sequence[float]],
                        game_of: Mapping[str, str]) -> dict[str, Any]:
    """The overall score of a row of the paper against a suite's baselines, marked approximate.

    Each anchored cell ``g`` of the suite (``anchors``: ``{group: (random_g, oracle_g)}``, ``game_of``: ``{group:
    game}``, as in :attr:`g1bench.leaderboard.Leaderboard.suites`) takes the paper's figure for its game, and the
    cells are normalised and averaged exactly like a measured row (:func:`g1bench.leaderboard.scoring.overall`).

    Args:
        scores: the paper's figure per game (a row's ``scores``).
        anchors, game_of: the suite's baselines and its cells' games.

    Returns:
        ``{"overall": float | None, "games": {game: normalised score}, "approximate": True, "reason": str}``;
        ``overall`` is None (and ``reason`` says why) when the suite has no baselines or the paper has no figure
        for one of its games.

    Example::

        approximate_overall({"2048": 1070, ...}, lb.suites["paper-v3"]["anchors"], lb.suites["paper-v3"]["game_of"])
    """
    from .scoring import game_scores, overall

    anchor = {g: (float(v[0]), float(v[1])) for g, v in anchors.items()}
    if not anchor:
        return {"overall": None, "games": {}, "approximate": True,
                "reason": "no overall score: this suite has no random and oracle baseline runs to normalise with"}
    missing = sorted({game_of[g] for g in anchor} - set(scores))
    if missing:
        return {"overall": None, "games": {}, "approximate": True,
                "reason": f"no overall score: the paper reports no figure for {', '.join(missing)}"}
    means = {g: float(scores[game_of[g]]) for g in anchor}
    return {"overall": overall(means, anchor, game_of), "games": game_scores(means, anchor, game_of),
            "approximate": True, "reason": APPROXIMATE_REASON}


__all__ = ["PAPER_GAMES", "PAPER_UNITS", "PAPER_ROWS", "REPORTED", "APPROXIMATE_REASON", "paper_reference",
           "paper_rows_csv", "approximate_overall"]

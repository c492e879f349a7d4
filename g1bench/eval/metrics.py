"""Metrics over episode records (one owner for every number a results file reports).

An episode record is what the runner writes per finished episode (see :mod:`g1bench.eval.runner`):
``{"episode_id", "game", "difficulty", "score", "steps": [step records]}``.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

from ..leaderboard.paper import paper_reference
from .history import episode_history, group_key

#: the paper metric per game, as the original eval scripts computed it
METRIC = {
    "2048": "merge score summed over the policy steps",
    "shisensho": "successful matches",
    "shisensho-images": "successful matches",
    "swap": "successful swaps",
}

#: The paper's reference numbers ({model: {game: value}}; Swap in swaps per 100 steps), for the summary table.
#: Owned by :mod:`g1bench.leaderboard.paper` (every row of the paper's Fig. 1, with sources).
PAPER_REFERENCE: dict[str, dict[str, float]] = paper_reference()


def step_score(game: str, step: dict[str, Any]) -> float:
    """One step's contribution to the paper metric."""
    if game == "2048":
        return float(step["score_delta"])
    return 1.0 if step["success"] else 0.0


def episode_score(game: str, steps: Iterable[dict[str, Any]]) -> float:
    return float(sum(step_score(game, s) for s in steps))


def bootstrap_ci(values: Sequence[float], level: float = 0.95, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (seeded, so the same data gives the same interval)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (math.nan, math.nan)
    if x.size == 1 or np.all(x == x[0]):
        return (float(x[0]) if x.size else math.nan, float(x[0]))
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return (float(lo), float(hi))


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def summarize_group(episodes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every reported number for one (game, difficulty) cell."""
    if not episodes:
        raise ValueError("no episodes to summarise")
    game = episodes[0]["game"]
    scores = [float(e["score"]) for e in episodes]
    steps = [s for e in episodes for s in e["steps"]]
    n_steps = len(steps)
    parse_fail = sum(1 for s in steps if s.get("parse_error"))
    parsed = [s for s in steps if not s.get("parse_error")]
    invalid = sum(1 for s in parsed if not s["valid"])
    with_block = [s for s in steps if s.get("perception_ok") is not None and s.get("has_perception")]
    perceived = [s for s in with_block if s["perception_ok"]]
    tokens = [float(s["output_tokens"]) for s in steps if s.get("output_tokens") is not None]
    in_tokens = [float(s["input_tokens"]) for s in steps if s.get("input_tokens") is not None]
    costs = [float(s["extra"]["cost_usd"]) for s in steps
             if isinstance(s.get("extra"), dict) and s["extra"].get("cost_usd") is not None]
    latency = [float(s["latency_s"]) for s in steps if s.get("latency_s") is not None]
    lo, hi = bootstrap_ci(scores)
    history = {episode_history(e) for e in episodes}
    return {
        "game": game,
        "difficulty": episodes[0]["difficulty"],
        # a multi-turn cell names its history (left out at 0: single-step results are as they always were)
        **({"history": history.pop()} if len(history) == 1 and 0 not in history else {}),
        "metric": METRIC.get(game, "score"),
        "n": len(scores),
        "mean": float(np.mean(scores)),
        "std": float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0,
        "ci95": [lo, hi],
        "steps": n_steps,
        "success_rate": _rate(sum(1 for s in steps if s["success"]), n_steps),
        "parse_failure_rate": _rate(parse_fail, n_steps),
        "invalid_action_rate": _rate(invalid, len(parsed)),
        "format_rate": _rate(sum(1 for s in steps if s.get("format_ok")), n_steps),
        "perception_answered": len(with_block),
        "perception_accuracy": _rate(len(perceived), len(with_block)),
        # success given correct perception; a move played by the 2048 random-move rule is not the model's
        "reasoning_accuracy": _rate(sum(1 for s in perceived if s["success"] and s.get("fallback_action") is None),
                                    len(perceived)),
        "mean_output_tokens": _mean(tokens),
        "mean_input_tokens": _mean(in_tokens),
        "mean_latency_s": _mean(latency),
        "cost_usd": float(sum(costs)) if costs else None,
        "games_played": int(sum(1 + max((s.get("game_index", 0) for s in e["steps"]), default=0) for e in episodes)),
    }


def summarize(episodes: Sequence[dict[str, Any]], order: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """Per group summaries (``game/difficulty``, ``game/difficulty@hK`` at history K), in ``order`` if given."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for e in episodes:
        groups.setdefault(group_key(e["game"], e["difficulty"], episode_history(e)), []).append(e)
    keys = [k for k in (order or []) if k in groups] + sorted(k for k in groups if k not in (order or []))
    return {k: summarize_group(sorted(groups[k], key=lambda e: e["episode_id"])) for k in keys}


def paired_difference(a: dict[str, float], b: dict[str, float], seed: int = 0) -> dict[str, Any]:
    """Mean of (b - a) over the episode ids both runs have, with a paired bootstrap 95% CI."""
    shared = sorted(set(a) & set(b))
    diffs = [b[k] - a[k] for k in shared]
    if not diffs:
        return {"n": 0, "mean_diff": None, "ci95": [None, None]}
    lo, hi = bootstrap_ci(diffs, seed=seed)
    return {"n": len(diffs), "mean_diff": float(np.mean(diffs)), "ci95": [lo, hi],
            "a_mean": float(np.mean([a[k] for k in shared])), "b_mean": float(np.mean([b[k] for k in shared]))}


def max_episode_score(game: str, steps: int, warmup: int = 0) -> float:
    """The most an episode of ``steps`` policy steps can score by the paper metric (a bound, not a target).

    Tile games count successful moves, at most one per step. In 2048 a move's merge score is at most
    the sum of the tiles on the board, which starts at most 8 (two 4s) in every game and grows by at
    most 4 per move (one spawn), so step t after ``warmup`` moves scores at most 8 + 4 * (warmup + t).
    """
    if game != "2048":
        return float(steps)
    return float(sum(8 + 4 * (warmup + t) for t in range(1, steps + 1)))

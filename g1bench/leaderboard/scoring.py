"""The leaderboard's numbers: the normalised overall score, its bootstrap interval, and ranks that are
given only where differences are meaningful. Pure functions of plain numbers (tested on hand-made ones).

**Overall score, ``g1bench-overall/1``.** For each (game, difficulty) cell ``g`` of a suite::

    norm_g = 100 * (score_g - random_g) / (oracle_g - random_g)

where ``score_g`` is the model's mean paper metric in the cell and ``random_g`` / ``oracle_g`` are the means of
g1bench's ``random`` (policy seed 0) and ``oracle`` baselines on the same suite (same suite hash), averaged over
their verified entries. A game's score is the mean of ``norm_g`` over its cells; the overall score is the mean
over the suite's games (every game weighs the same, whatever its number of cells). 0 is the random baseline,
100 the oracle; nothing is clipped (a model can score below 0, or above 100 where the oracle is not optimal,
as in 2048). A cell where the two baselines score the same is left out for every model of that suite.

**Interval.** A percentile bootstrap over episodes: 2,000 resamples, episodes resampled within each cell. The
resample indices depend only on the cell and its size, so every run of a suite is resampled identically: the
difference of two runs' replicates is the *paired* bootstrap over their shared seeds.

**Ranks.** Model A ranks above model B only if A's overall score is higher with 95% confidence: their intervals
do not overlap, or, where they overlap, the paired bootstrap interval of A - B lies above 0. A row's rank is 1
plus the number of rows above it in that sense, so rows whose difference is not meaningful share a rank.
"""

from __future__ import annotations

import zlib
from typing import Any, Mapping, Sequence

import numpy as np

OVERALL_FORMULA = "g1bench-overall/1"
OVERALL_TEXT = ("for each (game, difficulty) cell g, norm_g = 100 * (score_g - random_g) / (oracle_g - random_g), "
                "where score_g is the mean paper metric in the cell and random_g / oracle_g are those of g1bench's "
                "`random` (policy seed 0) and `oracle` baselines on the same suite (same suite hash); a game's score "
                "is the mean of norm_g over its cells and the overall score the mean over the suite's games. 0 = "
                "random, 100 = oracle, not clipped; a cell where both baselines score the same is left out. 95% "
                "interval: percentile bootstrap over episodes (2,000 resamples within each cell).")
RESAMPLES = 2000
LEVEL = 0.95


def anchors(random_means: Sequence[Mapping[str, float]], oracle_means: Sequence[Mapping[str, float]]) -> dict[str, tuple[float, float]]:
    """``{group: (random_g, oracle_g)}`` from the group means of every random / oracle baseline entry of a
    suite (averaged), for the groups both baselines have and where they differ."""
    out = {}
    if not random_means or not oracle_means:
        return out
    groups = set.intersection(*(set(m) for m in [*random_means, *oracle_means]))
    for g in sorted(groups):
        r = _mean([m[g] for m in random_means])
        o = _mean([m[g] for m in oracle_means])
        if o != r:
            out[g] = (r, o)
    return out


def normalise(value: float, random_value: float, oracle_value: float) -> float:
    """``100 * (value - random) / (oracle - random)``."""
    return 100.0 * (float(value) - random_value) / (oracle_value - random_value)


def game_scores(group_means: Mapping[str, float], anchor: Mapping[str, tuple[float, float]],
                game_of: Mapping[str, str]) -> dict[str, float]:
    """``{game: mean of norm_g over its anchored cells}`` for the games with at least one anchored cell."""
    per_game: dict[str, list[float]] = {}
    for g, (r, o) in anchor.items():
        if g in group_means:
            per_game.setdefault(game_of[g], []).append(normalise(group_means[g], r, o))
    return {game: _mean(v) for game, v in per_game.items()}


def _mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values))  # plain floats: numpy's overhead dominates on a handful of numbers


def overall(group_means: Mapping[str, float], anchor: Mapping[str, tuple[float, float]],
            game_of: Mapping[str, str]) -> float | None:
    """The overall score (mean of the game scores), or None without anchors or when a game is missing."""
    if not anchor:
        return None
    games = {game_of[g] for g in anchor}
    scores = game_scores(group_means, anchor, game_of)
    if set(scores) != games:
        return None
    return _mean([scores[g] for g in sorted(games)])


def resample_indices(group: str, n: int, resamples: int = RESAMPLES, seed: int = 0) -> np.ndarray:
    """The bootstrap indices of a cell of ``n`` episodes: the same for every run of a suite (paired)."""
    rng = np.random.default_rng([seed, n, zlib.crc32(group.encode())])
    return rng.integers(0, n, size=(resamples, n))


def overall_replicates(episode_scores: Mapping[str, Sequence[float]], anchor: Mapping[str, tuple[float, float]],
                       game_of: Mapping[str, str], resamples: int = RESAMPLES, seed: int = 0,
                       _indices: dict | None = None) -> np.ndarray | None:
    """Bootstrap replicates of the overall score (``resamples`` values), from each cell's episode scores in
    suite order; None when the overall score is undefined."""
    if not anchor or any(g not in episode_scores or not len(episode_scores[g]) for g in anchor):
        return None
    per_game: dict[str, list[np.ndarray]] = {}
    for g, (r, o) in anchor.items():
        x = np.asarray(episode_scores[g], dtype=float)
        key = (g, x.size)
        idx = _indices.get(key) if _indices is not None else None
        if idx is None:
            idx = resample_indices(g, x.size, resamples, seed)
            if _indices is not None:
                _indices[key] = idx
        means = x[idx].mean(axis=1)
        per_game.setdefault(game_of[g], []).append(100.0 * (means - r) / (o - r))
    return np.mean([np.mean(v, axis=0) for _, v in sorted(per_game.items())], axis=0)


def overall_replicates_many(episode_scores: Sequence[Mapping[str, Sequence[float]]],
                            anchor: Mapping[str, tuple[float, float]], game_of: Mapping[str, str],
                            resamples: int = RESAMPLES, seed: int = 0, chunk: int = 64) -> list[np.ndarray | None]:
    """:func:`overall_replicates` for many runs of one suite at once (vectorised; the same numbers)."""
    out: list[np.ndarray | None] = [None] * len(episode_scores)
    if not anchor:
        return out
    ok = [i for i, sc in enumerate(episode_scores)
          if all(g in sc and len(sc[g]) for g in anchor)
          and all(len(sc[g]) == len(episode_scores[i][g]) for g in anchor)]
    by_size: dict[tuple, list[int]] = {}
    for i in ok:  # runs of a suite have the same episodes; group by cell sizes anyway (partial runs differ)
        by_size.setdefault(tuple(len(episode_scores[i][g]) for g in sorted(anchor)), []).append(i)
    for sizes, rows in by_size.items():
        games = sorted({game_of[g] for g in anchor})
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            per_game: dict[str, list[np.ndarray]] = {}
            for g, n in zip(sorted(anchor), sizes):
                r, o = anchor[g]
                x = np.asarray([episode_scores[i][g] for i in part], dtype=float)  # (runs, n)
                means = x[:, resample_indices(g, n, resamples, seed)].mean(axis=2)  # (runs, resamples)
                per_game.setdefault(game_of[g], []).append(100.0 * (means - r) / (o - r))
            total = np.mean([np.mean(per_game[gm], axis=0) for gm in games], axis=0)
            for k, i in enumerate(part):
                out[i] = total[k]
    return out


def interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    lo, hi = np.quantile(replicates, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def ranks(points: Sequence[float | None], replicates: Sequence[np.ndarray | None], level: float = LEVEL) -> list[dict[str, Any]]:
    """Ranks of rows by their overall score, given only where differences are meaningful (module docstring).

    Returns, per row, ``{"rank": int | None, "tied": bool, "label": "1" | "=2" | ""}``; rows without a score get
    no rank. Identical replicate vectors (e.g. re-runs of a deterministic policy) are compared once.
    """
    n = len(points)
    out = [{"rank": None, "tied": False, "label": ""} for _ in range(n)]
    scored = [i for i in range(n) if points[i] is not None and replicates[i] is not None]
    if not scored:
        return out
    # collapse identical replicate vectors: equal runs tie by construction
    uniq: dict[bytes, int] = {}
    members: list[list[int]] = []
    reps: list[np.ndarray] = []
    for i in scored:
        key = np.asarray(replicates[i], dtype=float).tobytes()
        if key not in uniq:
            uniq[key] = len(reps)
            reps.append(np.asarray(replicates[i], dtype=float))
            members.append([])
        members[uniq[key]].append(i)
    k = len(reps)
    R = np.vstack(reps)
    point = np.array([float(points[m[0]]) for m in members])
    q = (1 - level) / 2
    lo, hi = np.quantile(R, q, axis=1), np.quantile(R, 1 - q, axis=1)
    weight = np.array([len(m) for m in members])  # rows per distinct vector
    above = np.zeros(k, dtype=int)
    for j in range(k):
        clear = lo > hi[j]  # intervals do not overlap: above with 95% confidence
        close = np.where(~clear & (point > point[j]))[0]
        count = int(weight[clear].sum())
        if close.size:
            d_lo = np.quantile(R[close] - R[j], q, axis=1)
            count += int(weight[close][d_lo > 0].sum())
        above[j] = count
    rank_of = [0] * n
    for u, rows in enumerate(members):
        for i in rows:
            rank_of[i] = int(above[u]) + 1
    counts: dict[int, int] = {}
    for i in scored:
        counts[rank_of[i]] = counts.get(rank_of[i], 0) + 1
    for i in scored:
        r = rank_of[i]
        tied = counts[r] > 1
        out[i] = {"rank": r, "tied": tied, "label": f"={r}" if tied else str(r)}
    return out


__all__ = ["OVERALL_FORMULA", "OVERALL_TEXT", "RESAMPLES", "anchors", "normalise", "game_scores", "overall",
           "resample_indices", "overall_replicates", "overall_replicates_many", "interval", "ranks"]

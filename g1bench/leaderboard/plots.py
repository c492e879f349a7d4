"""What no other leaderboard shows: perception x reasoning heatmaps per model, and perception accuracy
against game score across models (as data, PNG files and matplotlib figures; needs ``g1bench[report]``).

Model names are drawn as plain text (matplotlib's mathtext is switched off for them), never as markup.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'g1bench[report]'") from None
    return plt


def _levels(game: str) -> tuple[list[str], list[str]]:
    """The perception and reasoning levels of a game, in the order its presets declare them."""
    from ..games import GAMES

    grid = GAMES[game].Config.preset_grid if game in GAMES else {}
    perception = list(dict.fromkeys(p for p, _ in grid.values()))
    reasoning = list(dict.fromkeys(r for _, r in grid.values()))
    return perception, reasoning


def _file_name(entry_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "__", entry_id)


def _plain(s: str) -> str:
    return s.replace("$", r"\$")  # no mathtext from a model's name


def heatmap_figures(lb: Any, suite_id: str | None, out_dir: str | os.PathLike | None) -> list[dict[str, Any]]:
    """See :meth:`g1bench.leaderboard.aggregation.Leaderboard.heatmaps`."""
    cells = lb.cells(suite_id) if suite_id else []
    if not cells:
        return []
    plt = _plt()
    value = "normalised" if all(c["normalised"] is not None for c in cells) else "mean"
    by_entry: dict[str, list[dict[str, Any]]] = {}
    for c in cells:
        by_entry.setdefault(c["entry_id"], []).append(c)
    out_path = Path(out_dir) if out_dir is not None else None
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
    results = []
    for entry_id, mine in by_entry.items():
        games = list(dict.fromkeys(c["game"] for c in mine))
        fig, axes = plt.subplots(1, len(games), figsize=(3.4 * len(games), 3.2), dpi=110, squeeze=False)
        for ax, game in zip(axes[0], games):
            perception, reasoning = _levels(game)
            m = np.full((len(perception), len(reasoning)), np.nan)
            for c in mine:
                if c["game"] == game and c["perception"] in perception and c["reasoning"] in reasoning:
                    v = c[value]
                    m[perception.index(c["perception"]), reasoning.index(c["reasoning"])] = np.nan if v is None else v
            im = ax.imshow(m, cmap="viridis", aspect="auto",
                           **({"vmin": 0, "vmax": 100} if value == "normalised" else {}))
            for (i, j), v in np.ndenumerate(m):
                if not np.isnan(v):
                    ax.text(j, i, f"{v:.0f}" if abs(v) >= 10 else f"{v:.1f}", ha="center", va="center",
                            color="white" if (value != "normalised" or v < 60) else "black", fontsize=8)
            ax.set_xticks(range(len(reasoning)), reasoning, fontsize=7, rotation=20)
            ax.set_yticks(range(len(perception)), perception, fontsize=7)
            ax.set_xlabel("reasoning", fontsize=8)
            ax.set_ylabel("perception", fontsize=8)
            ax.set_title(game, fontsize=9)
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        fig.suptitle(_plain(f"{mine[0]['model']} ({'normalised score, 0 = random, 100 = oracle' if value == 'normalised' else 'mean paper metric'})"),
                     fontsize=9)
        fig.tight_layout()
        png = None
        if out_path is not None:
            png = out_path / f"heatmap__{_file_name(entry_id)}.png"
            fig.savefig(png)
            plt.close(fig)
            fig = None
        results.append({"entry_id": entry_id, "model": mine[0]["model"], "kind": mine[0]["kind"], "value": value,
                        "cells": mine, "png": str(png) if png else None, "figure": fig})
    return results


def perception_figure(lb: Any, suite_id: str | None, out_dir: str | os.PathLike | None) -> dict[str, Any]:
    """See :meth:`g1bench.leaderboard.aggregation.Leaderboard.perception_plot`."""
    cells = lb.cells(suite_id) if suite_id else []
    points = [c for c in cells if c["perception_accuracy"] is not None]
    value = "normalised" if cells and all(c["normalised"] is not None for c in cells) else "mean"
    out = {"suite_id": suite_id, "value": value, "points": points, "png": None, "figure": None}
    if not points:
        return out
    plt = _plt()
    games = list(dict.fromkeys(c["game"] for c in points))
    fig, axes = plt.subplots(1, len(games), figsize=(3.6 * len(games), 3.4), dpi=110, squeeze=False)
    models = list(dict.fromkeys(c["model"] for c in points))
    colors = plt.get_cmap("tab10")
    for ax, game in zip(axes[0], games):
        for k, model in enumerate(models):
            mine = [c for c in points if c["game"] == game and c["model"] == model]
            if mine:
                ax.scatter([100 * c["perception_accuracy"] for c in mine], [c[value] for c in mine], s=18,
                           color=colors(k % 10), label=_plain(model))
        ax.set_title(game, fontsize=9)
        ax.set_xlabel("perception accuracy (%)", fontsize=8)
        ax.set_ylabel("normalised score" if value == "normalised" else "mean paper metric", fontsize=8)
        ax.set_xlim(-5, 105)
    axes[0][0].legend(fontsize=6, loc="best")
    fig.suptitle(f"perception accuracy vs score per difficulty cell ({suite_id})", fontsize=9)
    return _finish(fig, out, out_dir, "perception_vs_score.png")


def _finish(fig, out: dict[str, Any], out_dir: str | os.PathLike | None, name: str) -> dict[str, Any]:
    """Lay ``fig`` out and save it as ``out_dir/name`` (``out["png"]``), or hand it back (``out["figure"]``)."""
    fig.tight_layout()
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        png = Path(out_dir) / name
        fig.savefig(png)
        _plt().close(fig)
        out["png"] = str(png)
    else:
        out["figure"] = fig
    return out


__all__ = ["heatmap_figures", "perception_figure"]

"""Read a run's training logs and draw the paper's curves per game.

The logs are what TRL's ``trainer.log`` recorded: ``<output_dir>/g1_metrics.jsonl`` (written as training
goes), or ``trainer_state.json`` (its ``log_history``; also inside every ``checkpoint-*``). The per-game
metrics are those of :func:`g1bench.training.rewards.log_game_metrics`: game reward, format rate,
perception accuracy and reasoning accuracy (success given correct perception), the curves of the paper's
analysis (spec section 8).
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

#: (metric suffix, panel title) of the paper's curves
PANELS = (
    ("game_reward", "game reward (+1 / -1)"),
    ("format_rate", "format rate"),
    ("perception_acc", "perception accuracy"),
    ("reasoning_acc", "reasoning accuracy (success | perception right)"),
)
_METRIC = re.compile(r"^g1/(?P<game>[^/]+)/(?P<name>[a-z_]+)$")


class LogError(ValueError):
    """The logs cannot be read; the message says what was expected."""


def read_logs(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The logged dicts of a run: ``path`` is a run/checkpoint folder, a ``g1_metrics.jsonl`` or a
    ``trainer_state.json``. A torn last JSON line (a run killed mid-write) is skipped."""
    path = Path(path)
    if path.is_dir():
        for name in ("g1_metrics.jsonl", "trainer_state.json"):
            if (path / name).is_file():
                return read_logs(path / name)
        raise LogError(f"{path} holds neither g1_metrics.jsonl nor trainer_state.json (is it a training output_dir?)")
    if not path.is_file():
        raise LogError(f"{path} does not exist")
    text = path.read_text()
    if path.suffix == ".jsonl":
        logs = []
        lines = text.splitlines()
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                logs.append(json.loads(line))
            except ValueError:
                if n == len(lines):
                    break  # torn last line
                raise LogError(f"{path}:{n} is not valid JSON") from None
        return logs
    try:
        data = json.loads(text)
    except ValueError as e:
        raise LogError(f"{path} is not valid JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("log_history"), list):
        raise LogError(f"{path} has no log_history (expected a transformers trainer_state.json)")
    return data["log_history"]


def game_curves(logs: list[dict[str, Any]]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """``{game: {metric: [(step, value), ...]}}`` from the ``g1/<game>/<metric>`` entries."""
    out: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for entry in logs:
        step = entry.get("step")
        if not isinstance(step, (int, float)):
            continue
        for key, value in entry.items():
            m = _METRIC.match(key)
            if m and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                out.setdefault(m["game"], {}).setdefault(m["name"], []).append((int(step), float(value)))
    return out


def plot_curves(logs: list[dict[str, Any]], out: str | os.PathLike, title: str = "") -> Path:
    """Draw the four panels of :data:`PANELS` (one line per game) into a PNG; returns its path.

    Raises:
        LogError: no per-game metric in the logs.
        ImportError: matplotlib is missing (``pip install 'g1bench[training]'``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = game_curves(logs)
    if not curves:
        raise LogError("the logs hold no g1/<game>/<metric> entries: was the run trained with a judging reward "
                       "(g1 or game) of g1bench.training.rewards?")
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    for ax, (name, label) in zip(axes.flat, PANELS):
        drawn = False
        for game, metrics in sorted(curves.items()):
            points = metrics.get(name)
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, ms=3, label=game)
                drawn = True
        if not drawn:  # reasoning accuracy needs completions whose perception was exactly right
            why = "no completion had exactly right perception yet" if name == "reasoning_acc" else "not logged"
            ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, color="0.4", fontsize=9)
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
        if name == "game_reward":
            ax.set_ylim(-1.05, 1.05)
        else:
            ax.set_ylim(-0.02, 1.02)
    for ax in axes[1]:
        ax.set_xlabel("step")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title or "GRPO on g1bench games", fontsize=11)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


__all__ = ["LogError", "PANELS", "game_curves", "plot_curves", "read_logs"]

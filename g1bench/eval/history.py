"""Multi-turn play in the harness: what context an answer is given, how the step log records it, how results
are grouped by it.

With the ``history`` knob at k > 0, a model answering step t of an episode is given, in one chat, the last k
turns *of the current game* (a step that ends a game clears them: the next game is a new board), each as the
frame it was shown, its answer and the env's feedback line, then the current frame and the prompt. That context
is a pure function of the episode's earlier steps, so the step log records it compactly: every step of such an
episode carries

* ``history``: how many past turns the context held (``<= k``; fewer at the start of a game);
* ``context_hash``: :func:`context_hash` of those turns: per turn the state hash it was shown (the frame is a
  pure function of the state and the suite's renderer), its answer and its feedback line.

The runner, ``--resume`` and ``g1bench verify`` build the context with the same :class:`History`, so a replay
recomputes both fields and any difference is reported. At ``history`` 0 neither field is written: logs of
single-step runs are exactly what they were before multi-turn play existed.

Results are grouped per (game, difficulty, history): :func:`group_key` is ``game/difficulty`` at history 0 (as
before) and ``game/difficulty@hK`` at history K.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..core.feedback import feedback_line
from ..core.hashing import content_hash

_SUFFIX = re.compile(r"^(?P<base>.+)@h(?P<k>[1-9][0-9]*)$")
_ID_TAG = re.compile(r"@h[1-9][0-9]*(?=/[^/]*$)")


@dataclass(frozen=True)
class PastTurn:
    """One earlier turn of the episode's current game, as a model with memory (the ``history`` knob) sees it:
    the picture it was given then (None for baselines), what it answered, and the env's feedback line on that
    answer (:func:`g1bench.core.feedback.feedback_line`)."""

    frame: np.ndarray | None
    answer: str
    feedback: str


def group_key(game: str, difficulty: str, history: int = 0) -> str:
    """The results group of (game, difficulty, history): ``2048/paper``, ``2048/paper@h4``."""
    return f"{game}/{difficulty}" + (f"@h{int(history)}" if history else "")


def split_group(key: str) -> tuple[str, int]:
    """``"2048/paper@h4"`` -> ``("2048/paper", 4)``; a key without the suffix has history 0."""
    m = _SUFFIX.match(key)
    return (m["base"], int(m["k"])) if m else (key, 0)


def seed_id(episode_id: str) -> str:
    """The episode id that per-episode randomness is drawn from: the id without its history tag
    (``2048/paper@h4/3`` -> ``2048/paper/3``). The baselines' draws, the 2048 random-move rule and a model's
    sampling seeds are then the same at every history of one seed: baselines (which have no memory) play
    identically in every history cell, and a model's histories are compared on common random numbers."""
    return _ID_TAG.sub("", episode_id)


def episode_history(episode: Mapping[str, Any]) -> int:
    """The ``history`` knob of an episode record (:func:`g1bench.eval.rundir.episode_record`) or an episode's
    ``to_dict()``: its override (0 when absent)."""
    overrides = episode.get("overrides")
    value = overrides.get("history", 0) if isinstance(overrides, Mapping) else 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def answer_text(answer: Any) -> str:
    """A recorded answer as the text a chat shows (a structured action as its JSON)."""
    return answer if isinstance(answer, str) else json.dumps(answer)


def context_hash(turns: Any) -> str:
    """The hash of a context: ``[[state_hash, answer, feedback], ...]`` of its past turns, oldest first."""
    return content_hash([[s, a, f] for s, a, f in turns])


class History:
    """The last ``k`` turns of one episode's current game (see the module docstring).

    Args:
        k: the episode's ``history`` knob (0: nothing is kept and :meth:`fields` is empty).
    """

    def __init__(self, k: int):
        self.k = int(k)
        self._turns: deque[tuple[str, np.ndarray | None, str, str]] = deque(maxlen=max(self.k, 1))

    def __len__(self) -> int:
        return len(self._turns)

    def fields(self) -> dict[str, Any]:
        """What the step record of the next answer says about its context (empty at history 0)."""
        if not self.k:
            return {}
        return {"history": len(self._turns), "context_hash": context_hash((s, a, f) for s, _, a, f in self._turns)}

    def turns(self) -> tuple[PastTurn, ...]:
        """The context of the next answer, oldest first (what :class:`~g1bench.eval.policies.Turn` carries)."""
        return tuple(PastTurn(frame, answer, feedback) for _, frame, answer, feedback in self._turns)

    def push(self, record: Mapping[str, Any], frame: np.ndarray | None = None) -> None:
        """Add an answered step (its step record, and the model frame it was shown); a step that ended its game
        clears the history instead."""
        if not self.k:
            return
        if record.get("terminated"):
            self._turns.clear()
            return
        self._turns.append((record["state_hash"], frame, answer_text(record.get("answer")), feedback_line(record)))

    def clear(self) -> None:
        self._turns.clear()


def suite_history(suite: Any) -> int:
    """The largest ``history`` of a suite's episodes (how many past frames a request may carry)."""
    return max((episode_history(e.to_dict()) for e in suite.episodes), default=0)


__all__ = ["History", "PastTurn", "group_key", "split_group", "seed_id", "episode_history", "answer_text", "context_hash", "suite_history"]

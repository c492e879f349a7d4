"""Policies: a batch of turns in, a batch of answers out.

The harness asks every active episode of every game for its next answer in one call to
:meth:`Policy.act`. Model backends implement the same interface; the built-in baselines
(``random``, ``random-legal``, ``oracle``) run anywhere.
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core.config import UnknownNameError
from ..core.env import G1Env
from ..core.hashing import content_hash
from .history import PastTurn, seed_id


@dataclass
class Turn:
    """One env waiting for an answer: what a model sees (frame, prompt) and, for baselines, the env state.

    ``state`` is the env snapshot; only baselines may look at it (a model must answer from the frame).
    ``history`` holds the earlier turns the model is given, oldest first (empty at ``history`` 0: G1's single
    step); the model backends send them and this turn as one chat (:mod:`g1bench.models.messages`).
    """

    game: str
    frame: np.ndarray | None
    prompt: str
    state: dict[str, Any]
    episode: str = ""
    step: int = 0
    history: tuple[PastTurn, ...] = ()


@dataclass
class Answer:
    """A policy's answer to one turn, with what it cost."""

    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class Policy(abc.ABC):
    """Answers a batch of turns. Subclasses set ``name`` and implement :meth:`act`."""

    name: str = "policy"
    #: whether the policy needs frames (baselines don't: the runner then skips rendering for them)
    needs_frames: bool = True

    @abc.abstractmethod
    def act(self, turns: list[Turn]) -> list[Answer]:
        """One answer per turn, in order."""

    def describe(self) -> dict[str, Any]:
        """Provenance: model id, revision, backend and version, sampling parameters, image size."""
        return {"policy": self.name, "backend": "builtin"}

    def seed(self, seed: int) -> None:
        """Reseed any internal randomness (baselines draw from their own generator)."""

    def close(self) -> None:
        """Free resources (servers, GPU memory)."""


class _EnvCache:
    """Scratch envs keyed by (game, config) for baselines that simulate moves."""

    def __init__(self) -> None:
        self._envs: dict[str, G1Env] = {}

    def env_at(self, state: dict[str, Any]) -> G1Env:
        from ..core.hashing import canonical_json

        key = state["game"] + canonical_json(state["config"])
        env = self._envs.get(key)
        if env is None:
            env = G1Env(state["game"], difficulty=dict(state["config"]), render_mode=None)
            self._envs[key] = env
        env.set_state(state)
        return env


def turn_rng(seed: int, turn: Turn) -> np.random.Generator:
    """A generator that depends only on (seed, episode, step): answers do not depend on batching or
    on where a run resumed, so a resumed run equals an uninterrupted one (nor on the episode's history:
    :func:`g1bench.eval.history.seed_id`)."""

    episode_key = int(content_hash(seed_id(turn.episode), 8), 16)
    return np.random.default_rng([seed, episode_key, turn.step])


#: the deepest look-ahead of the built-in oracle (each level costs ~50x: depth 4 takes half a second a move)
MAX_ORACLE_DEPTH = 3
#: the built-in baselines' settings: {baseline: {setting: (check, what it must be)}}
_SEED = (lambda x: isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2 ** 63, "an integer from 0 to 2**63-1")
BASELINE_SETTINGS: dict[str, dict[str, tuple[Callable[[Any], bool], str]]] = {
    "random": {"seed": _SEED},
    "random-legal": {"seed": _SEED},
    "oracle": {"seed": _SEED, "depth": (lambda x: isinstance(x, int) and not isinstance(x, bool)
                                        and 1 <= x <= MAX_ORACLE_DEPTH, f"an integer from 1 to {MAX_ORACLE_DEPTH}")},
}


def baseline_settings_problem(name: str, settings: dict[str, Any]) -> str | None:
    """Why ``settings`` are not settings of the built-in baseline ``name``, or None (one line)."""
    known = BASELINE_SETTINGS.get(name, {})
    for key, value in settings.items():
        if key not in known:
            return f"the built-in baseline {name!r} has no setting {str(key)[:40]!r}"
        ok, want = known[key]
        if not ok(value):
            shown = repr(value)
            return f"the built-in baseline {name!r} takes {key} as {want}, got {shown[:40]}"
    return None


def _checked(name: str, **settings: Any) -> None:
    problem = baseline_settings_problem(name, settings)
    if problem:
        raise ValueError(problem)


class RandomPolicy(Policy):
    """The paper's random baseline: the same answer distribution as the original eval scripts.

    2048: a uniform action number 0-3. Tile games: two coordinates drawn uniformly from an 8x8 grid
    whatever the board size (as the original did), so on a 6x6 board many are off the board.
    """

    name = "random"
    needs_frames = False
    PAPER_GRID = 8

    def __init__(self, seed: int = 0):
        _checked("random", seed=seed)
        self._seed = seed

    def seed(self, seed: int) -> None:
        self._seed = seed

    def act(self, turns: list[Turn]) -> list[Answer]:
        out = []
        for t in turns:
            rng = turn_rng(self._seed, t)
            if t.game == "2048":
                out.append(Answer(f"<answer> {int(rng.integers(4))} </answer>"))
            else:
                r1, c1, r2, c2 = (int(v) for v in rng.integers(0, self.PAPER_GRID, size=4))
                out.append(Answer(f"<answer>({r1}, {c1}) ({r2}, {c2})</answer>"))
        return out

    def describe(self) -> dict[str, Any]:
        return {"policy": self.name, "backend": "builtin", "seed": self._seed}


class RandomLegalPolicy(Policy):
    """A uniformly random *valid* move (needs the state: a lower bound for a model that never errs)."""

    name = "random-legal"
    needs_frames = False

    def __init__(self, seed: int = 0):
        _checked("random-legal", seed=seed)
        self._seed = seed
        self.cache = _EnvCache()

    def seed(self, seed: int) -> None:
        self._seed = seed

    def act(self, turns: list[Turn]) -> list[Answer]:
        out = []
        for t in turns:
            env = self.cache.env_at(t.state)
            legal = env.game.legal_actions()
            if not legal:
                out.append(Answer("<answer>no move</answer>"))
                continue
            pick = legal[int(turn_rng(self._seed, t).integers(len(legal)))]
            out.append(Answer(env.game.format_action(pick)))
        return out

    def describe(self) -> dict[str, Any]:
        return {"policy": self.name, "backend": "builtin", "seed": self._seed}


def _expectimax_2048(env: G1Env, depth: int) -> int:
    """2048 move by expectimax over spawns: maximise merge score plus an empty-cell bonus."""
    from ..games.twenty48 import move_board

    def empties(b):
        return sum(v == 0 for row in b for v in row)

    def value(board, d):
        if d == 0:
            return empties(board) * 8.0
        best = None
        for m in range(4):
            new, s = move_board(board, m)
            if new == board:
                continue
            cells = [(r, c) for r, row in enumerate(new) for c, v in enumerate(row) if v == 0]
            if not cells:
                v = s + value(new, d - 1)
            else:
                # sample at most 6 spawn cells to bound the cost; 2 (p=0.9) and 4 (p=0.1)
                step = max(1, len(cells) // 6)
                total = 0.0
                chosen = cells[::step]
                for r, c in chosen:
                    for tile, p in ((1, 0.9), (2, 0.1)):
                        new[r][c] = tile
                        total += p * value(new, d - 1)
                        new[r][c] = 0
                v = s + total / len(chosen)
            best = v if best is None or v > best else best
        return -1000.0 if best is None else best

    board = env.game.board
    scores = []
    for m in range(4):
        new, s = move_board(board, m)
        if new == board:
            scores.append(float("-inf"))
            continue
        scores.append(s + value(new, depth - 1) if depth > 1 else s + empties(new) * 8.0)
    return int(np.argmax(scores))


class OraclePolicy(Policy):
    """A strong reference player that reads the true state.

    2048: expectimax look-ahead (depth 2 over spawns). Shisen-Sho (both): a connectable pair, preferring
    the move that leaves the most connectable pairs (avoids dead ends). Swap: the swap with the highest
    immediate score (cascades included).
    """

    name = "oracle"
    needs_frames = False

    def __init__(self, seed: int = 0, depth: int = 2):
        _checked("oracle", seed=seed, depth=depth)
        self.cache = _EnvCache()
        self.depth = depth

    def describe(self) -> dict[str, Any]:
        return {"policy": self.name, "backend": "builtin", "depth": self.depth}

    def act(self, turns: list[Turn]) -> list[Answer]:
        return [Answer(self.best_answer(t.state)) for t in turns]

    def best_answer(self, state: dict[str, Any]) -> str:
        env = self.cache.env_at(state)
        game = env.game
        legal = game.legal_actions()
        if not legal:
            return "<answer>no move</answer>"
        if state["game"] == "2048":
            return game.format_action(_expectimax_2048(env, self.depth))
        counts_after = getattr(game, "legal_counts_after", None)
        if counts_after is not None:
            # Shisen-Sho: every legal move scores 1, so the key below reduces to the moves left open; the
            # game counts them for all moves in one pass instead of playing each (same pick: first best)
            return game.format_action(legal[int(np.argmax(counts_after(legal)))])
        best, best_key = legal[0], None
        for action in legal:
            env.set_state(state)
            outcome = game.apply(action, env.np_random)
            # immediate score first, then how many moves stay open (dead ends lose episodes)
            key = (outcome.score_delta, len(game.legal_actions()) if state["game"] != "swap" else 0)
            if best_key is None or key > best_key:
                best, best_key = action, key
        env.set_state(state)
        return game.format_action(best)


class FunctionPolicy(Policy):
    """Wraps a plain function ``f(frames, prompts) -> list[str]`` (the original eval scripts' custom_policy)."""

    def __init__(self, fn: Callable[[list, list], list[str]], name: str = "custom"):
        self.fn, self.name = fn, name

    def act(self, turns: list[Turn]) -> list[Answer]:
        t = time.perf_counter()
        texts = self.fn([x.frame for x in turns], [x.prompt for x in turns])
        dt = (time.perf_counter() - t) / max(len(turns), 1)
        return [Answer(str(s), latency_s=dt) for s in texts]


BASELINES: dict[str, Callable[..., Policy]] = {
    "random": RandomPolicy,
    "random-legal": RandomLegalPolicy,
    "oracle": OraclePolicy,
}


def get_policy(name: str, **kwargs: Any) -> Policy:
    """A built-in baseline by name (model backends are resolved by the model-backend layer)."""
    if name not in BASELINES:
        raise UnknownNameError(f"unknown policy {name!r}; built-in baselines: {sorted(BASELINES)}")
    return BASELINES[name](**kwargs)

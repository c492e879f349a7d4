"""One game played move by move, as every framework integration plays it (no framework imported here).

A :class:`GameSession` starts like an evaluation episode (a seed, the episode's warm-up and, when the suite asks, the
next game of the seed stream after one ends: :func:`g1bench.eval.suites.start_game`) or from a snapshot (a
``states-<game>`` row, ``env.get_state()``), and plays each answer through :func:`g1bench.eval.steps.play_answer`,
the function behind ``g1bench eval``, ``--resume`` and ``g1bench verify``. So an answer does the same thing to the
same state whichever framework sent it, and the step records it returns are the step log's records.

Answers are either text (what a model writes, read by the config's answer grammar) or a structured action (what a
tool call carries: ``2`` for 2048, ``(r1, c1, r2, c2)`` for the tile games), range-checked by the game; either kind
that cannot be played is a parse failure, never an exception.

The tools that play a move (:data:`TOOLS`), the instruction that tells a model to use them (:func:`tool_prompt`) and
the line a player is told after each move (:func:`feedback_line`) are defined here once, for TRL, inspect_ai and
OpenEnv alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..core.env import G1Env, StateError
from ..core.feedback import feedback_line as protocol_feedback_line
from ..core.hashing import canonical_json
from ..eval.metrics import step_score
from ..eval.steps import play_answer
from ..eval.suites import EpisodeSpec, start_game

#: 2048's directions by name, in the game's action order (0 Up, 1 Right, 2 Down, 3 Left)
DIRECTIONS = ("up", "right", "down", "left")
#: the most warm-up moves a session may ask for (a bound on the work one request can cause)
MAX_WARMUP = 10_000


class SessionError(ValueError):
    """A session cannot start as asked (unknown game, bad knob, malformed snapshot, ...); the message says why."""


@dataclass(frozen=True)
class Tool:
    """The tool that plays a move of one game: its name, its arguments and what the instruction tells a model."""

    name: str
    args: tuple[str, ...]
    how: str


#: per game, the tool that makes a move
TOOLS: dict[str, Tool] = {
    "2048": Tool("move", ("direction",), "call the `move` tool with the direction to slide the tiles: 'up', "
                 "'right', 'down' or 'left'"),
    "shisensho": Tool("select_pair", ("row1", "col1", "row2", "col2"), "call the `select_pair` tool with the "
                      "coordinates of the two tiles to match (0-indexed from the top left)"),
    "shisensho-images": Tool("select_pair", ("row1", "col1", "row2", "col2"), "call the `select_pair` tool with the "
                             "coordinates of the two tiles to match (0-indexed from the top left)"),
    "swap": Tool("swap", ("row1", "col1", "row2", "col2"), "call the `swap` tool with the coordinates of the two "
                 "adjacent tiles to swap (0-indexed from the top left)"),
}


def tool_prompt(prompt: str, game: str) -> str:
    """The game's prompt for tool play: the prompt, then how to make a move with the game's tool."""
    return (f"{prompt.rstrip()}\n\nMake each move with a tool: {TOOLS[game].how}, instead of writing "
            "<answer></answer>. Each call returns the new board and one line saying what the move did; keep playing "
            "until the game is over.")


class _Unknown:
    """A tool argument that names no move: the game refuses it (a parse failure) and the reason quotes it."""

    def __init__(self, value: Any, known: str):
        self.value, self.known = value, known

    def __repr__(self) -> str:
        shown = repr(self.value)
        return f"{shown if len(shown) <= 40 else shown[:37] + '...'} ({self.known})"


def direction_action(direction: Any) -> Any:
    """2048's action number for a direction name (``"up"`` .. ``"left"``, any case, or the number ``0``-``3``);
    anything else becomes an action the game refuses as a parse failure whose reason names the directions."""
    if isinstance(direction, str) and direction.strip().lower() in DIRECTIONS:
        return DIRECTIONS.index(direction.strip().lower())
    if isinstance(direction, int) and not isinstance(direction, bool):
        return direction  # the game range-checks it
    return _Unknown(direction, "the directions are 'up', 'right', 'down' and 'left'")


def feedback_line(record: Mapping[str, Any], score: float | None = None) -> str:
    """The one line a player is told after a move: the feedback line of the multi-turn protocol (the frozen wording
    of :func:`g1bench.core.feedback.feedback_line`: the reward and what the move did), then the score and whether
    the game ended (a tool-playing model needs both to know where it stands). ``record`` is a step record
    (:func:`g1bench.eval.steps.play_answer`) or a judgement's ``to_dict()``."""
    line = protocol_feedback_line(record)
    if score is not None:
        line += f" Score {score:g}."
    if record.get("terminated"):
        line += " The game is over."
    return line


def read_overrides(value: Any) -> dict[str, Any]:
    """Knob overrides given as a mapping or as its JSON text (a dataset's ``overrides`` column)."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as e:
            raise SessionError(f"overrides are not valid JSON: {e}") from None
    if not isinstance(value, Mapping):
        raise SessionError(f"overrides must be an object of knob values, got {type(value).__name__}")
    return dict(value)


def _snapshot(value: Any) -> dict[str, Any]:
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError as e:
            raise SessionError(f"the state is not valid JSON: {e}") from None
    if not isinstance(value, Mapping) or "game" not in value or "config" not in value:
        raise SessionError("not a g1bench snapshot: it needs 'game' and 'config' (see env.get_state())")
    return dict(value)


class GameSession:
    """One game (or one evaluation episode) played move by move.

    Args:
        invalid_answer: what an unparseable answer does: ``None``/``"fail"`` (reward -1, the state unchanged) or
            ``"random-move"`` (the paper's 2048 test-time rule: a random move, seeded by the episode and step).
        continue_games: after a game ends inside the step budget, start the next game of the episode's seed stream
            (as ``g1bench eval`` does); otherwise the session is over when its game is.

    Example:
        >>> s = GameSession()
        >>> s.start("shisensho", "base", seed=0)
        >>> record = s.play((0, 0, 0, 1))
        >>> feedback_line(record, s.score)  # doctest: +SKIP
    """

    def __init__(self, invalid_answer: str | None = None, continue_games: bool = False):
        if invalid_answer not in (None, "fail", "random-move"):
            raise ValueError(f"invalid_answer must be None, 'fail' or 'random-move', got {invalid_answer!r}")
        self.invalid_answer = invalid_answer
        self.continue_games = continue_games
        self._envs: dict[str, G1Env] = {}
        self.env: G1Env | None = None
        self.spec: EpisodeSpec | None = None
        self.episode_id = ""
        self.game_index = 0
        self.step = 0
        self.steps: int | None = None
        self.score = 0.0
        self.over = True
        self._before: dict[str, Any] | None = None

    # -- starting --------------------------------------------------------------------------------------
    def _env(self, key: str, build) -> G1Env:
        env = self._envs.get(key)
        if env is None:
            if len(self._envs) >= 8:  # a long-lived session that hops between configs keeps a few envs only
                self._envs.pop(next(iter(self._envs))).close()
            env = self._envs[key] = build()
        return env

    def start(self, game: str | None = None, difficulty: str | Mapping[str, Any] | None = "paper",
              overrides: Mapping[str, Any] | str | None = None, *, seed: int | None = None, warmup: int = 0,
              state: Mapping[str, Any] | str | bytes | None = None, steps: int | None = None,
              episode_id: str = "") -> None:
        """Start a game: from ``state`` (a snapshot: its own game and config are used) or from ``seed`` (a seeded
        deal, then ``warmup`` random moves, exactly an evaluation episode's start).

        Args:
            game / difficulty / overrides: the game, its preset (or knob dict) and knob overrides (dict or JSON).
            seed: reset seed (with ``warmup``); ignored when ``state`` is given.
            state: a snapshot (``env.get_state()``, a ``states-<game>`` row's ``state``), as data or JSON.
            steps: the step budget (None: until the game ends).
            episode_id: names the episode (it seeds the paper's 2048 random-move rule).

        Raises:
            SessionError: unknown game or preset, a bad knob, a malformed snapshot, no seed and no state.
        """
        from ..core.config import ConfigError
        from ..tiles import TileSourceError

        if steps is not None and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 1):
            raise SessionError(f"steps must be a positive integer, got {steps!r}")
        try:
            if state is not None:
                snap = _snapshot(state)
                if game is not None and snap["game"] != game:
                    raise SessionError(f"the snapshot is a {snap['game']!r} game, not {game!r}")
                key = canonical_json([snap["game"], snap["config"]])
                env = self._env(key, lambda: G1Env(snap["game"], difficulty=dict(snap["config"])))
                env._reset(options={"state": snap})  # (no frame drawn: nobody looks at it yet)
                env._begin_episode()
                self.spec = None
            else:
                if game is None:
                    raise SessionError("name a game")
                if seed is None:
                    raise SessionError("a game starts from a 'seed' or from a 'state' (a snapshot); neither was given")
                if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
                    raise SessionError(f"seed must be an integer >= 0, got {seed!r}")
                if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or not 0 <= warmup <= MAX_WARMUP:
                    raise SessionError(f"warmup must be an integer in 0..{MAX_WARMUP}, got {warmup!r}")
                if not isinstance(difficulty, (str, Mapping)) and difficulty is not None:
                    raise SessionError(f"difficulty must be a preset name or a dict of knobs, got {difficulty!r}")
                knobs = read_overrides(overrides)
                from ..games import get_game

                name = get_game(game).name  # canonical name (KeyError names the games)
                self.spec = EpisodeSpec(name, difficulty if isinstance(difficulty, str) else "custom", seed=int(seed),
                                        steps=steps or 1, warmup=int(warmup), overrides=knobs)
                base = difficulty if difficulty is not None else "paper"
                key = canonical_json([name, base, knobs])
                env = self._env(key, lambda: G1Env(name, difficulty=base, **knobs))
                self.game_index = start_game(self.spec, env, 0)
        except KeyError as e:
            raise SessionError(str(e.args[0]) if e.args else "unknown game") from None
        except (ConfigError, StateError, TileSourceError, TypeError) as e:
            raise SessionError(str(e)) from None
        if state is not None:
            self.game_index = 0
        self.env = env
        self.episode_id = episode_id
        self.steps = steps
        self.step = 0
        self.score = 0.0
        self.over = env.game.is_over()
        self._before = env._key_info()

    @property
    def game(self) -> str:
        return self._require().game.name

    def _require(self) -> G1Env:
        if self.env is None:
            raise SessionError("no game started yet: call reset first")
        return self.env

    # -- playing ---------------------------------------------------------------------------------------
    def play(self, answer: Any, *, input_tokens: int | None = None, output_tokens: int | None = None,
             latency_s: float | None = None) -> dict[str, Any]:
        """Play one answer (text, or a structured action) and return its step record (with what the answer cost, when
        given, as the step log records it).

        Raises:
            SessionError: no game started, or the session is over (its game ended, or its step budget is spent).
        """
        env = self._require()
        if self.over:
            raise SessionError("the game is over: start a new one (reset)")
        record = play_answer(env, episode_id=self.episode_id, step=self.step, game_index=self.game_index,
                             invalid_rule=self.invalid_answer, before=self._before, frame_id=None,
                             answer={"answer": answer, "input_tokens": input_tokens, "output_tokens": output_tokens,
                                     "latency_s": latency_s})
        if isinstance(record["answer"], _Unknown):  # keep records JSON: the argument the tool was given
            record["answer"] = repr(record["answer"].value)
        self.score += step_score(env.game.name, record)
        self.step += 1
        if self.steps is not None and self.step >= self.steps:
            self.over = True
        elif record["terminated"]:
            if self.continue_games and self.spec is not None:
                self.game_index = start_game(self.spec, env, self.game_index + 1)
            else:
                self.over = True
        self._before = env._key_info()
        return record

    # -- what a player is shown ------------------------------------------------------------------------
    @property
    def prompt(self) -> str:
        return self._require().prompt

    @property
    def perception(self) -> str:
        """The perception ground truth of the current board."""
        return self._before["perception"] if self._before else self._require().game.perception_text()

    @property
    def state_hash(self) -> str:
        return self._before["state_hash"] if self._before else self._require().state_hash()

    def model_frame(self) -> np.ndarray:
        """The picture a model is given now (``env.model_observation()``: the paper presets' G1 sizes)."""
        return self._require().model_observation()

    def model_frame_png(self) -> bytes:
        """The model's picture as PNG bytes."""
        from ..render.png import encode_png

        return encode_png(self.model_frame())

    def model_image(self):
        """The model's picture as a PIL image."""
        from ..models.messages import to_pil

        return to_pil(self.model_frame())

    def close(self) -> None:
        for env in self._envs.values():
            env.close()
        self._envs.clear()
        self.env, self._before, self.over = None, None, True


__all__ = ["DIRECTIONS", "GameSession", "SessionError", "TOOLS", "Tool", "direction_action", "feedback_line",
           "read_overrides", "tool_prompt"]

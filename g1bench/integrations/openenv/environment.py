"""The OpenEnv environment: one g1bench game session per OpenEnv session, any game, any preset."""

from __future__ import annotations

import base64
import logging
import os
import threading
import uuid
from typing import Any, Mapping, Optional

from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import EnvironmentMetadata

from ..play import GameSession, SessionError, feedback_line
from .models import G1Action, G1Observation, G1State

log = logging.getLogger("g1bench.serve")

#: the longest answer text a move may carry; a longer one is a move that cannot be read (a parse error)
MAX_ANSWER_CHARS = 65_536
#: tile sources a client may ask for (never a path or another dataset on the server's side)
CLIENT_TILE_SOURCES = ("bundled", "cifar10")
RESET_ARGS = ("game", "difficulty", "overrides", "seed", "warmup", "state", "steps", "perception", "invalid_answer",
              "episode_id")


class _TooLong:
    """An answer over :data:`MAX_ANSWER_CHARS`: the game refuses it and the reason says why."""

    def __init__(self, n: int):
        self.n = n

    def __repr__(self) -> str:
        return f"an answer of {self.n} characters (the server reads at most {MAX_ANSWER_CHARS})"


class SessionCounter:
    """How many environments exist now (the server's sessions and the stateless HTTP requests in flight)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.live = 0
        self.created = 0

    def add(self, n: int) -> None:
        with self._lock:
            self.live += n
            self.created += max(n, 0)


def _check_tile_source(config: Mapping[str, Any] | None) -> None:
    source = (config or {}).get("tile_source")
    if source is not None and source not in CLIENT_TILE_SOURCES:
        raise SessionError(f"tile_source {source!r} is not served; choose {list(CLIENT_TILE_SOURCES)}")


class G1Environment(Environment[G1Action, G1Observation, G1State]):
    """Every g1bench game behind OpenEnv's ``reset`` / ``step`` / ``state``.

    ``reset(game="2048", difficulty="paper", overrides=None, seed=None, warmup=0, state=None, steps=None,
    perception=False, invalid_answer=None, episode_id=None)`` starts a game: dealt from ``seed`` (a random one when
    neither a seed nor a state is given; the observation says which) with ``warmup`` random moves, or restored from
    ``state`` (a snapshot from ``state()``, ``env.get_state()`` or a ``states-<game>`` row). The session is one game
    (``done`` when it ends); with ``steps`` it is an evaluation episode instead: ``steps`` moves, a game that ends
    followed by the next game of the seed stream, as ``g1bench eval`` plays. ``perception=True`` adds the perception
    ground truth to every observation, ``invalid_answer="random-move"`` applies the paper's 2048 test-time rule.
    ``step(G1Action(answer=...))`` plays one answer.

    Nothing a client sends raises: a bad argument, a move before ``reset`` or after the game ended is an observation
    whose ``error`` says why; an answer that cannot be read is a move with a ``parse_error`` and reward -1.
    """

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self, counter: SessionCounter | None = None):
        super().__init__()
        self._counter = counter
        self._session = GameSession()
        self._perception = False
        self._difficulty: str | None = None
        self._seed: int | None = None
        self._episode_id: str | None = None
        self._last_frame: tuple[str, str, list[int]] | None = None  # (state hash, base64 PNG, [width, height])
        self._closed = False
        if counter is not None:
            counter.add(1)

    # -- OpenEnv API -----------------------------------------------------------------------------------
    def reset(self, seed: Optional[int] = None, episode_id: Optional[str] = None, **kwargs: Any) -> G1Observation:
        try:
            return self._reset(seed, episode_id, kwargs)
        except SessionError as e:
            return self._error(str(e))
        except Exception as e:  # a bug must not become an HTTP 500 or a dropped session: say it, log it
            log.exception("reset failed")
            return self._error(f"internal error: {type(e).__name__}: {e}")

    def step(self, action: G1Action, timeout_s: Optional[float] = None, **kwargs: Any) -> G1Observation:
        try:
            return self._step(action)
        except SessionError as e:
            return self._error(str(e))
        except Exception as e:
            log.exception("step failed")
            return self._error(f"internal error: {type(e).__name__}: {e}")

    @property
    def state(self) -> G1State:
        s = self._session
        if self._closed or s.env is None:
            return G1State(episode_id=self._episode_id, step_count=s.step if s.env is not None else 0)
        return G1State(episode_id=self._episode_id, step_count=s.step, game=s.game, difficulty=self._difficulty,
                       seed=self._seed, score=s.score, over=s.over, state_hash=s.state_hash,
                       snapshot=s.env.get_state())

    def get_metadata(self) -> EnvironmentMetadata:
        from ... import __version__
        from ...games import list_games

        return EnvironmentMetadata(
            name="g1bench",
            description=("The games of VLM-Gym (G1, arXiv 2505.13426) for vision-language models that act: "
                         f"{', '.join(list_games())}, every difficulty preset; frames as PNG, the perception ground "
                         "truth on request, exact snapshots."),
            version=__version__)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._session.close()
        if self._counter is not None:
            self._counter.add(-1)

    # -- the work --------------------------------------------------------------------------------------
    def _reset(self, seed: Any, episode_id: Any, kwargs: dict[str, Any]) -> G1Observation:
        if self._closed:
            raise SessionError("this session was closed (idle too long?): open a new one")
        unknown = sorted(set(kwargs) - set(RESET_ARGS))
        if unknown:
            raise SessionError(f"unknown reset argument(s) {unknown[:5]}; arguments: {['seed', *RESET_ARGS]}")
        game = kwargs.get("game", "2048")
        difficulty = kwargs.get("difficulty", "paper")
        overrides = kwargs.get("overrides")
        state = kwargs.get("state")
        invalid = kwargs.get("invalid_answer")
        if not isinstance(game, str):
            raise SessionError(f"game must be a game's name, got {type(game).__name__}")
        if not isinstance(kwargs.get("perception", False), bool):
            raise SessionError("perception must be true or false")
        if invalid not in (None, "fail", "random-move"):
            raise SessionError(f"invalid_answer must be 'fail' or 'random-move', got {invalid!r}")
        if episode_id is not None and not isinstance(episode_id, str):
            raise SessionError("episode_id must be text")
        if overrides is not None and not isinstance(overrides, Mapping):
            raise SessionError("overrides must be an object of knob values")
        _check_tile_source(overrides)
        if isinstance(difficulty, Mapping):
            _check_tile_source(difficulty)
        if isinstance(state, Mapping):
            _check_tile_source(state.get("config") if isinstance(state.get("config"), Mapping) else None)
        elif state is not None:
            raise SessionError("state must be a snapshot object (from state() or env.get_state())")
        if state is None and seed is None:
            seed = int.from_bytes(os.urandom(4), "little") >> 1  # reported in the observation: the game is replayable
        # the same session (and its envs) across resets: a reset is a new game, not a new env
        # with a step budget a session is an evaluation episode: a game that ends is followed by the next game of the
        # seed stream (as g1bench eval plays it); without one, the session is one game and ends with it
        self._session.invalid_answer = invalid
        self._session.continue_games = state is None and kwargs.get("steps") is not None
        self._session.start(game if state is None or "game" in kwargs else None, difficulty, overrides, seed=seed, warmup=kwargs.get("warmup", 0), state=state,
                            steps=kwargs.get("steps"), episode_id=episode_id or "")
        self._perception = kwargs.get("perception", False)
        self._difficulty = difficulty if isinstance(difficulty, str) else "custom"
        self._seed = None if state is not None else int(seed)
        self._episode_id = episode_id or str(uuid.uuid4())
        return self._observe(None)

    def _step(self, action: G1Action) -> G1Observation:
        if self._closed:
            raise SessionError("this session was closed (idle too long?): open a new one")
        answer: Any = action.answer
        if isinstance(answer, str) and len(answer) > MAX_ANSWER_CHARS:
            answer = _TooLong(len(answer))
        record = self._session.play(answer)
        if isinstance(record["answer"], _TooLong):
            record["answer"] = None
        return self._observe(record)

    def _frame(self) -> tuple[str, list[int]]:
        """The model frame of the board now as base64 PNG, and its size; drawn again only when the state changed
        (a move that could not be read, or an invalid one, leaves the state and so the picture as they were)."""
        key = self._session.state_hash
        if self._last_frame is None or self._last_frame[0] != key:
            from ...render.png import encode_png

            frame = self._session.model_frame()
            self._last_frame = (key, base64.b64encode(encode_png(frame)).decode("ascii"),
                                [int(frame.shape[1]), int(frame.shape[0])])
        return self._last_frame[1], self._last_frame[2]

    def _observe(self, record: dict[str, Any] | None) -> G1Observation:
        s = self._session
        png, size = self._frame()
        obs = G1Observation(
            game=s.game, difficulty=self._difficulty, prompt=s.prompt, frame_png=png, frame_size=size,
            score=s.score, step=s.step, game_index=s.game_index, seed=self._seed, state_hash=s.state_hash,
            perception=s.perception if self._perception else None, done=s.over,
        )
        if record is not None:
            obs.reward = float(record["reward"])
            obs.feedback = feedback_line(record, s.score)
            obs.parse_error, obs.valid, obs.success = record["parse_error"], record["valid"], record["success"]
            obs.score_delta = int(record["score_delta"])
        return obs

    def _error(self, message: str) -> G1Observation:
        s = self._session
        live = s.env is not None and not self._closed
        return G1Observation(error=message, game=s.game if live else None, difficulty=self._difficulty if live else None,
                             step=s.step if live else 0, score=s.score if live else 0.0,
                             state_hash=s.state_hash if live else "", done=s.over if live else True)


__all__ = ["CLIENT_TILE_SOURCES", "G1Environment", "MAX_ANSWER_CHARS", "SessionCounter"]

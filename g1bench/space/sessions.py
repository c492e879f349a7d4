"""One visitor's state, and the checks every event runs on its inputs.

A session is plain data: the env's JSON snapshot (:meth:`G1Env.get_state`), an undo history of snapshots
and a few counters. An event acts on the env at the snapshot and returns a *new* session; nothing is
shared between visitors, so many can play at once, and a failed event leaves the old session untouched.
Two things ride along that are not data: the live env at the snapshot (a cache that saves rebuilding it,
dropped on any failure) and the visitor's :class:`SessionLine` (their own events run one at a time, each
on their newest state). A session that is missing, of another format or corrupt is refused with a
message that says to start a new game.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from .. import G1Env, list_games, list_presets, make_from_state
from ..core.config import ConfigError, UnknownNameError
from ..core.env import StateError
from .errors import SpaceError

#: seeds are 32-bit (numpy accepts any integer, but a huge one is a typo or an attack, not a game)
MAX_SEED = 2**32 - 1
#: moves that can be undone (older snapshots are dropped)
MAX_UNDO = 500
PLAY_FORMAT = "g1bench-space-play/1"

#: how the games are named to people (the values are g1bench game names)
GAME_LABELS = {"2048": "2048", "shisensho": "Shisen-Sho", "shisensho-images": "Shisen-Sho (natural images)",
               "swap": "Swap (match-3)"}


def game_choices() -> list[tuple[str, str]]:
    """(label, game name) pairs for a dropdown, in paper order."""
    return [(GAME_LABELS.get(g, g), g) for g in list_games()]


def check_game(game: Any) -> str:
    """The game name if it is a known game, else a SpaceError listing the games."""
    if not isinstance(game, str) or game not in list_games():
        shown = repr(game)[:60]
        raise SpaceError(f"unknown game {shown}; choose one of: {', '.join(list_games())}")
    return game


def check_preset(game: str, preset: Any) -> str:
    """The preset if ``game`` has it, else a SpaceError listing the game's presets."""
    presets = list_presets(game)
    if not isinstance(preset, str) or preset not in presets:
        shown = repr(preset)[:60]
        raise SpaceError(f"unknown preset {shown} for {game}; choose one of: {', '.join(presets)}")
    return preset


def check_seed(seed: Any) -> int:
    """An integer seed in 0..MAX_SEED (floats that are whole numbers and digit strings are accepted)."""
    value: Any = seed
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 20:
        value = int(value.strip())
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        shown = repr(seed)[:40]
        raise SpaceError(f"the seed must be a whole number from 0 to {MAX_SEED}, not {shown}")
    return value


def env_from_snapshot(snapshot: Any, game: str) -> G1Env:
    """The env at ``snapshot``, checked to be a valid snapshot of ``game``; else a SpaceError."""
    if not isinstance(snapshot, dict) or snapshot.get("game") != game:
        raise SpaceError("this session's saved game is not valid (it may be from an older version of the app); "
                         "press New game")
    try:
        return make_from_state(snapshot)
    except (StateError, ConfigError, UnknownNameError, KeyError, TypeError, ValueError) as e:
        raise SpaceError(f"this session's saved game cannot be restored ({str(e)[:120]}); press New game") from None


class SessionLine:
    """The line of states of one visitor's play: the newest state, and a lock so that the visitor's own events
    run one at a time, each on the newest state.

    Gradio hands an event the session state as it was when the event *started*; two quick key presses can
    both start from the same state, and the second would silently undo the first. Every state of one
    visitor shares one line (``dataclasses.replace`` keeps it), so an event takes the lock and works on
    ``current``. Different visitors never share a line.
    """

    __slots__ = ("lock", "current")

    def __init__(self) -> None:
        self.lock = threading.RLock()  # re-entrant: Same seed again runs New game inside its own event
        self.current: "PlaySession | None" = None

    def __deepcopy__(self, memo: dict) -> "SessionLine":
        return SessionLine()  # a copied session starts its own line

    def __repr__(self) -> str:
        return "SessionLine()"


@dataclass
class PlaySession:
    """A person's game in the Play tab.

    Attributes:
        game, preset, seed: what was dealt. snapshot: the env now. history: snapshots before each move (undo).
        selected: the first tile clicked (tile games), waiting for the second.
        moves / total_reward / last_reward: attempted moves since the deal and their game rewards.
        over: the game has ended. note: a line about the setup (e.g. a substituted tile source).
        record: the visitor opted in to recording; recording: this game is being recorded (it was dealt
            after the opt-in); recorded: the steps of this game to record.
        undos: undo presses in this game (a recorded game says whether undo was used).
        tag: an anonymous random id naming this session's recorded games. clock: when the last move (or
            the deal) happened (``time.monotonic``), for the player's thinking time.
    """

    game: str
    preset: str
    seed: int
    snapshot: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    selected: tuple[int, int] | None = None
    moves: int = 0
    total_reward: float = 0.0
    last_reward: float | None = None
    over: bool = False
    note: str = ""
    message: str = ""
    record: bool = False
    recording: bool = False
    recorded: list[dict[str, Any]] = field(default_factory=list)
    undos: int = 0
    tag: str = field(default_factory=lambda: PlaySession.new_tag())
    games_recorded: int = 0
    clock: float = 0.0
    format: str = PLAY_FORMAT
    line: SessionLine = field(default_factory=SessionLine, repr=False, compare=False)
    # A live env at ``snapshot``, handed from session to session so an event need not rebuild it. A cache,
    # never the truth: it is not copied by replace(), an event takes it (take_env) before changing it, and
    # on any failure the session simply rebuilds it from the snapshot.
    _env: Any = field(default=None, init=False, repr=False, compare=False)

    @staticmethod
    def new_tag() -> str:
        """An anonymous random id for one browser session's recorded games."""
        return uuid.uuid4().hex[:12]

    def replace(self, **changes: Any) -> "PlaySession":
        """A new session with ``changes`` (lists are copied, so the old session stays as it was)."""
        s = dataclasses.replace(self, **changes)
        if "history" not in changes:
            s.history = list(self.history)
        if "recorded" not in changes:
            s.recorded = list(self.recorded)
        return s

    def env(self) -> G1Env:
        """A new env at this session's snapshot."""
        return env_from_snapshot(self.snapshot, self.game)

    def take_env(self) -> G1Env:
        """The session's live env, removed from it (so two events never share one), or a rebuilt one."""
        env = self.__dict__.pop("_env", None)  # one atomic step: a concurrent event gets None and rebuilds
        return env if env is not None else self.env()

    def keep_env(self, env: G1Env) -> "PlaySession":
        """Hand ``env`` (which must be at ``snapshot``) to this session for the next event."""
        self._env = env
        return self


def check_play_session(value: Any) -> PlaySession:
    """``value`` if it is a well-formed play session, else a SpaceError saying what to do."""
    if value is None:
        raise SpaceError("no game in progress: press New game")
    if not isinstance(value, PlaySession) or value.format != PLAY_FORMAT:
        raise SpaceError("this session's state is not valid (it may be from an older version of the app); press New game")
    try:
        check_game(value.game)
        check_preset(value.game, value.preset)
        check_seed(value.seed)
    except SpaceError as e:
        raise SpaceError(f"this session's state is not valid ({e}); press New game") from None
    if not isinstance(value.history, list) or not isinstance(value.recorded, list):
        raise SpaceError("this session's state is not valid; press New game")
    if value.selected is not None and (not isinstance(value.selected, tuple) or len(value.selected) != 2):
        raise SpaceError("this session's state is not valid; press New game")
    if not isinstance(value.line, SessionLine):
        raise SpaceError("this session's state is not valid; press New game")
    return value


__all__ = ["MAX_SEED", "MAX_UNDO", "GAME_LABELS", "PlaySession", "SessionLine", "check_game", "check_preset", "check_seed",
           "check_play_session", "env_from_snapshot", "game_choices"]

"""The contract every game implements: pure rules and state, no rendering, no gymnasium.

A :class:`Game` holds one board. Every random draw goes through the ``rng`` it is handed
(the env's ``np_random``), so the env can snapshot and restore the whole thing.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar, Hashable, Mapping

import gymnasium as gym
import numpy as np

from .answer import ParseError, parse_pair_answer
from .config import PROMPT_VERSIONS, GameConfig
from .hashing import content_hash

Action = Hashable  # an int (2048) or a (r1, c1, r2, c2) tuple (tile games)


@dataclass(frozen=True)
class Outcome:
    """What one action did.

    Attributes:
        valid: the action was legal and changed the state (a parse failure or illegal move is not).
        success: the paper's success test (2048: tiles merged; Shisen-Sho: a pair removed; Swap: the swap
            made a line). The game reward is ``+1`` if success else ``-1``.
        score_delta: the raw score gained (2048: merge score; Shisen-Sho: 1 per pair; Swap: sum of n*(n-1)).
        terminated: the game is over after this action.
        reason: why the action was not valid (None when it was).
    """

    valid: bool
    success: bool
    score_delta: int
    terminated: bool
    reason: str | None = None

    @property
    def reward(self) -> float:
        """The paper's game reward GR: +1 for success, -1 otherwise."""
        return 1.0 if self.success else -1.0


@dataclass(frozen=True)
class PromptText:
    """One frozen prompt version of one game.

    ``template`` is the text, with ``{field}`` slots that :meth:`Game.prompt_fields` fills from the config
    (g1bench's prompt names the board size and tiles; G1's is fixed text, except that the natural-image game
    names its tile source). A version's text never changes: tests pin :attr:`hash`, so new wording is a new
    version name.
    """

    version: str
    template: str
    #: where the text comes from, for people (``g1bench games``)
    source: str = ""

    @property
    def hash(self) -> str:
        """The content hash of the template."""
        return content_hash(self.template)


class Game(abc.ABC):
    """Rules and state of one board of one game.

    Subclasses set the class attributes and implement the abstract methods. They keep their whole
    state in attributes listed by :meth:`get_state`, so :meth:`set_state` restores it exactly.
    """

    #: short name used by ``g1bench.make`` and the CLI
    name: ClassVar[str]
    #: the gymnasium id stem, e.g. "ShisenSho" -> "g1bench/ShisenSho-v1"
    env_name: ClassVar[str]
    #: the rules' version: bump when rules, presets or the perception format change
    version: ClassVar[int] = 0
    #: every prompt version (each name in ``config.PROMPT_VERSIONS``) -> its frozen text
    prompts: ClassVar[Mapping[str, PromptText]] = {}
    Config: ClassVar[type[GameConfig]]
    #: a one-line description for ``g1bench games``
    summary: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "Config", None) is not None and set(cls.prompts) != set(PROMPT_VERSIONS):
            raise TypeError(f"{cls.__name__}.prompts must have exactly the versions {list(PROMPT_VERSIONS)}")

    def __init__(self, config: GameConfig):
        if not isinstance(config, self.Config):
            raise TypeError(f"{type(self).__name__} needs a {self.Config.__name__}, got {type(config).__name__}")
        self.config = config
        self.score = 0
        self.moves = 0  # valid moves made since the deal

    # -- rules --------------------------------------------------------------------------------------
    @abc.abstractmethod
    def deal(self, rng: np.random.Generator) -> None:
        """Set up a new game; resets score and move counters."""

    @abc.abstractmethod
    def apply(self, action: Action, rng: np.random.Generator) -> Outcome:
        """Apply one structured action (already range-checked by :meth:`coerce_action`)."""

    @abc.abstractmethod
    def legal_actions(self) -> list[Action]:
        """Every action that is valid now (for tile games: each unordered pair once)."""

    def is_over(self) -> bool:
        """True when no further valid action exists (the episode has terminated)."""
        return not self.legal_actions()

    # -- actions ------------------------------------------------------------------------------------
    @abc.abstractmethod
    def action_space(self) -> gym.Space:
        ...

    @abc.abstractmethod
    def coerce_action(self, action: Any) -> Action | ParseError:
        """Turn a structured action (int, tuple, numpy array) into the canonical form or a ParseError."""

    @abc.abstractmethod
    def parse_answer(self, text: str) -> Action | ParseError:
        """Turn a model's raw response into an action with the config's ``answer_grammar``, or a ParseError
        with the reason. Never raises."""

    @abc.abstractmethod
    def format_action(self, action: Action) -> str:
        """The answer text a model should give for this action, e.g. ``<answer>(0, 1) (2, 3)</answer>``."""

    # -- what the model sees and must perceive -------------------------------------------------------
    @property
    def prompt_text(self) -> PromptText:
        """The frozen prompt version the config asks for."""
        return self.prompts[self.config.prompt_version]

    def prompt(self) -> str:
        """The instruction shown beside the frame: the config's prompt version, its slots filled from the
        config (never from the state)."""
        return self.prompt_text.template.format(**self.prompt_fields())

    def prompt_fields(self) -> dict[str, Any]:
        """Values for the prompt templates' ``{field}`` slots."""
        return {}

    @abc.abstractmethod
    def perception_text(self) -> str:
        """The exact perception ground truth, in the paper's text format."""

    @abc.abstractmethod
    def structured_state(self) -> dict[str, Any]:
        """The board as plain JSON data, for people and datasets (``{"rows":…, "cols":…, "cells": […]}``)."""

    # -- snapshots ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def get_state(self) -> dict[str, Any]:
        """Everything that defines the game now, as JSON-serialisable data (the RNG lives in the env)."""

    @abc.abstractmethod
    def set_state(self, state: dict[str, Any]) -> None:
        """Restore exactly what :meth:`get_state` returned."""

    # -- rendering hooks (used by g1bench.render) ----------------------------------------------------
    @abc.abstractmethod
    def cell_keys(self) -> np.ndarray:
        """(rows, cols) int array: the sprite key of each cell (0 = empty). Equal keys draw equal pixels."""

    @abc.abstractmethod
    def draw_sprite(self, key: int, cell_px: int) -> np.ndarray:
        """The (cell_px, cell_px, 3) uint8 picture of one sprite key. Called once per key and size."""

    @abc.abstractmethod
    def status_text(self) -> str:
        """The text of the status bar under the board."""

    @property
    @abc.abstractmethod
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the board."""

    default_cell_px: ClassVar[int] = 64
    #: colour of the margins and status bar, and of the text drawn on them
    background: ClassVar[tuple[int, int, int]] = (255, 255, 255)
    ink: ClassVar[tuple[int, int, int]] = (0, 0, 0)

    def sprite_namespace(self) -> Hashable:
        """Sprites drawn for equal namespaces and keys are equal; the canvas caches them under it."""
        return (type(self).__name__, self.version, content_hash(self.config.to_dict()))

    @property
    def cell_px(self) -> int:
        return self.config.cell_px or self.default_cell_px


class PairActions:
    """The tile games' action protocol: two board cells ``(r1, c1, r2, c2)``, 0-indexed from the top left,
    answered as ``<answer>(r1, c1) (r2, c2)</answer>``. Mixed into a :class:`Game` that has ``shape``."""

    def action_space(self) -> gym.Space:
        rows, cols = self.shape  # type: ignore[attr-defined]
        return gym.spaces.MultiDiscrete([rows, cols, rows, cols])

    def coerce_action(self, action: Any) -> "tuple[int, int, int, int] | ParseError":
        what = "actions are 4 integers (r1, c1, r2, c2)"
        if isinstance(action, np.ndarray):
            if action.shape != (4,) or not np.issubdtype(action.dtype, np.integer):
                return ParseError(f"{what}, got an array {action.dtype} {action.shape}")
            action = action.tolist()
        elif not isinstance(action, (tuple, list)):
            return ParseError(f"{what}, got {action!r}")
        if len(action) != 4 or any(isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) for v in action):
            return ParseError(f"{what}, got {action!r}")
        r1, c1, r2, c2 = (int(v) for v in action)
        rows, cols = self.shape  # type: ignore[attr-defined]
        for r, c in ((r1, c1), (r2, c2)):
            if not (0 <= r < rows and 0 <= c < cols):
                return ParseError(f"coordinate ({r}, {c}) is outside the {rows}x{cols} board")
        return (r1, c1, r2, c2)

    def parse_answer(self, text: str) -> "tuple[int, int, int, int] | ParseError":
        rows, cols = self.shape  # type: ignore[attr-defined]
        return parse_pair_answer(text, rows, cols, self.config.answer_grammar)  # type: ignore[attr-defined]

    def format_action(self, action: Any) -> str:
        r1, c1, r2, c2 = (int(v) for v in action)
        return f"<answer>({r1}, {c1}) ({r2}, {c2})</answer>"

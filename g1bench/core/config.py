"""Difficulty as validated data.

Every game has one config dataclass. Each field is a knob on one of three axes, declared in its metadata:

* ``perception``: what it takes to *see* the board (tile set, resolution, labels, ...);
* ``reasoning``: what it takes to *play* it (board size, number of tile kinds, ...);
* ``protocol``: how the game talks to a model: which frozen prompt text it shows (``prompt_version``) and
  which grammar reads the answers (``answer_grammar``). The ``paper`` presets use G1's own
  (:data:`PAPER_PROTOCOL`), every other preset g1bench's.

Named presets compose the perception and reasoning axes (and set the protocol). Presets are part of the public, versioned surface: changing one is a
breaking change (bump the game's ``version``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from .answer import GRAMMARS

#: Frozen prompt texts every game has: G1's original prompt (byte for byte) and g1bench's clearer one.
PROMPT_VERSIONS = ("g1-paper", "g1bench-v1")
#: Answer grammars (specified in :mod:`g1bench.core.answer`).
ANSWER_GRAMMARS = GRAMMARS
#: The protocol knobs of every game's ``paper`` preset: G1's prompt and G1's answer grammar.
PAPER_PROTOCOL = {"prompt_version": "g1-paper", "answer_grammar": "g1"}


class ConfigError(ValueError):
    """A difficulty knob has an invalid value; the message names the knob and what is allowed."""


class UnknownNameError(KeyError):
    """An unknown game, suite or policy name; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


def knob(default: Any, axis: str, help: str, **kwargs: Any) -> Any:
    """A config field with its difficulty axis and help text (shown by ``g1bench games``)."""
    if axis not in ("perception", "reasoning", "protocol"):
        raise ValueError(axis)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"axis": axis, "help": help}, **kwargs)
    return field(default=default, metadata={"axis": axis, "help": help}, **kwargs)


@dataclass(frozen=True)
class GameConfig:
    """Base of every game's config. Subclasses add knobs and extend :meth:`validate`."""

    cell_px: int = knob(0, "perception", "Pixel size of one board cell (0 = the game's default).")
    labels: bool = knob(False, "perception", "Draw row/column indices around the board.")
    patch: int = knob(28, "perception", "Frame width and height are padded to a multiple of this (28 suits Qwen2.5-VL).")
    prompt_version: str = knob(
        "g1bench-v1", "protocol",
        "The prompt text shown: 'g1-paper' (G1's original prompt, byte for byte) or 'g1bench-v1' (g1bench's "
        "clearer text, which also names the configured palette and board size).",
    )
    answer_grammar: str = knob(
        "lenient", "protocol",
        "How answers are read: 'g1' (G1's: the first answer block, exactly '(r, c) (r, c)') or 'lenient' "
        "(the last block; spacing, words and punctuation around the move are ignored).",
    )

    #: preset name -> overrides of the defaults; filled in by each game
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    #: which presets sit at which (perception level, reasoning level)
    preset_grid: ClassVar[Mapping[str, tuple[str, str]]] = {}

    def __post_init__(self) -> None:
        # Tuples keep configs hashable and immutable even when given lists.
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
        self.validate()

    # -- validation helpers -------------------------------------------------------------------------
    def _int_range(self, name: str, lo: int, hi: int) -> None:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{type(self).__name__}.{name} must be an integer, got {value!r}")
        if not lo <= value <= hi:
            raise ConfigError(f"{type(self).__name__}.{name} must be between {lo} and {hi}, got {value}")

    def _choices(self, name: str, allowed: tuple[str, ...], min_len: int) -> None:
        value = getattr(self, name)
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{type(self).__name__}.{name} must be a list of names, got {value!r}")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise ConfigError(f"{type(self).__name__}.{name}: unknown {unknown}; choose from {list(allowed)}")
        if len(set(value)) != len(value):
            raise ConfigError(f"{type(self).__name__}.{name} has duplicates: {list(value)}")
        if len(value) < min_len:
            raise ConfigError(f"{type(self).__name__}.{name} needs at least {min_len} entries, got {len(value)}")

    def validate(self) -> None:
        """Raise :class:`ConfigError` if any knob is out of range."""
        if isinstance(self.labels, bool) is False:
            raise ConfigError(f"{type(self).__name__}.labels must be true or false, got {self.labels!r}")
        if self.cell_px != 0:
            self._int_range("cell_px", 16, 256)
        self._int_range("patch", 1, 64)
        for name, allowed in (("prompt_version", PROMPT_VERSIONS), ("answer_grammar", ANSWER_GRAMMARS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{type(self).__name__}.{name} must be one of {list(allowed)}, got {getattr(self, name)!r}")

    # -- (de)serialisation --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in dataclasses.fields(self)}

    @classmethod
    def knobs(cls) -> list[dataclasses.Field]:
        return list(dataclasses.fields(cls))

    @classmethod
    def from_preset(cls, difficulty: "str | Mapping[str, Any] | GameConfig | None" = None, **overrides: Any) -> "GameConfig":
        """Build a config from a preset name (or a dict of knobs, or a config) plus keyword overrides."""
        if isinstance(difficulty, GameConfig):
            if not isinstance(difficulty, cls):
                raise ConfigError(f"expected a {cls.__name__}, got a {type(difficulty).__name__}")
            base = difficulty.to_dict()
        elif difficulty is None or isinstance(difficulty, str):
            name = difficulty or "paper"
            if name not in cls.presets:
                raise ConfigError(f"unknown difficulty {name!r} for {cls.__name__}; presets: {sorted(cls.presets)}")
            base = dict(cls.presets[name])
        elif isinstance(difficulty, Mapping):
            base = dict(difficulty)
        else:
            raise ConfigError(f"difficulty must be a preset name, a dict or a config, got {type(difficulty).__name__}")
        base.update(overrides)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(base) - names)
        if unknown:
            raise ConfigError(f"{cls.__name__} has no knob(s) {unknown}; knobs: {sorted(names)}")
        return cls(**base)

"""Difficulty as validated data.

Every game has one config dataclass. Each field is a knob on one of three axes, declared in its metadata:

* ``perception``: what it takes to *see* the board (tile set, resolution, labels, ...);
* ``reasoning``: what it takes to *play* it (board size, number of tile kinds, ...);
* ``protocol``: how the game talks to a model: which frozen prompt text it shows (``prompt_version``),
  which grammar reads the answers (``answer_grammar``), what size of picture the model is given
  (``model_frame``, ``model_resample``) and how many of its past turns it sees (``history``). The ``paper``
  presets use G1's own (:func:`paper_protocol`), every other preset g1bench's (``history`` is 0 in every
  preset: a suite sets it per episode).

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
#: The protocol knobs every game's ``paper`` preset shares: G1's prompt and G1's answer grammar.
PAPER_PROTOCOL = {"prompt_version": "g1-paper", "answer_grammar": "g1"}
#: The size (width, height) G1 resized every frame to before its model saw it, in evaluation (the eval scripts'
#: ``screen_size``: 2048 640x840, the tile games 640x640; spec sections 2, 6) ...
G1_EVAL_FRAME = {"2048": (640, 840), "shisensho": (640, 640), "shisensho-images": (640, 640), "swap": (640, 640)}
#: ... and in training (every trainer's ``screen_size``, all four games; spec section 4.1).
G1_TRAIN_FRAME = (640, 840)
#: PIL resampling filters a model frame can be resized with (G1 used BICUBIC).
RESAMPLE_FILTERS = ("bicubic", "bilinear", "lanczos", "nearest")
#: The most past turns a model's context may hold (the ``history`` knob): each costs a frame's image tokens.
MAX_HISTORY = 16


def paper_protocol(game: str) -> dict[str, Any]:
    """The protocol knobs of ``game``'s ``paper`` preset: G1's prompt, G1's answer grammar and G1's evaluation
    frame size (resized with BICUBIC, as G1's ``GameSandbox`` did)."""
    return {**PAPER_PROTOCOL, "model_frame": G1_EVAL_FRAME[game], "model_resample": "bicubic"}


def parse_frame_size(value: Any) -> "str | tuple[int, int]":
    """A ``model_frame`` value in its canonical form: ``"native"`` or ``(width, height)``.

    Accepts ``"native"``, a pair ``(w, h)`` / ``[w, h]``, or text ``"WxH"`` (``"640x840"``, as typed with
    ``--set model_frame=640x840``). Raises :class:`ConfigError` otherwise.
    """
    if value == "native":
        return "native"
    if isinstance(value, str):
        w, sep, h = value.lower().partition("x")
        if sep and w.strip().isdigit() and h.strip().isdigit():
            value = (int(w), int(h))
    if (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        w, h = value
        if 28 <= w <= 4096 and 28 <= h <= 4096:
            return (int(w), int(h))
        raise ConfigError(f"model_frame sides must be between 28 and 4096 pixels, got {w}x{h}")
    raise ConfigError(f"model_frame must be 'native' or a size (width, height) such as [640, 840] or '640x840', "
                      f"got {value!r}")


class ConfigError(ValueError):
    """A difficulty knob has an invalid value; the message names the knob and what is allowed."""


class UnknownNameError(KeyError):
    """An unknown game, suite or policy name; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


def knob(default: Any, axis: str, help: str, omit_default: bool = False, **kwargs: Any) -> Any:
    """A config field with its difficulty axis and help text (shown by ``g1bench games``).

    ``omit_default``: :meth:`GameConfig.to_dict` leaves the knob out while it has its default value. Knobs added
    after a game's first release use it, so every config, snapshot, state hash and suite hash made before the
    knob existed stays valid (the default must behave exactly as the game did without the knob).
    """
    if axis not in ("perception", "reasoning", "protocol"):
        raise ValueError(axis)
    metadata = {"axis": axis, "help": help, "omit_default": omit_default}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=metadata, **kwargs)
    return field(default=default, metadata=metadata, **kwargs)


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
    model_frame: Any = knob(
        "native", "protocol",
        "The picture a model is given: 'native' (the frame as drawn) or a size (width, height) every frame is "
        "resized to first, as G1 did (the paper presets: 640x840 for 2048, 640x640 for the tile games). People, "
        "replays and GIFs always see the native frame.", omit_default=True,
    )
    model_resample: str = knob(
        "bicubic", "protocol",
        "The PIL filter that resizes a model frame (G1: 'bicubic'); only with a model_frame size.", omit_default=True,
    )
    history: int = knob(
        0, "protocol",
        "Past turns in the model's context: 0 = G1's single step (one frame and the prompt); k > 0 = one chat holding "
        "the last k turns of the current game, each with its frame, the model's answer and the env's feedback line "
        "(g1bench.core.feedback), then the current frame (k + 1 images).", omit_default=True,
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
        object.__setattr__(self, "model_frame", parse_frame_size(self.model_frame))
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
        self._int_range("history", 0, MAX_HISTORY)
        for name, allowed in (("prompt_version", PROMPT_VERSIONS), ("answer_grammar", ANSWER_GRAMMARS),
                              ("model_resample", RESAMPLE_FILTERS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{type(self).__name__}.{name} must be one of {list(allowed)}, got {getattr(self, name)!r}")
        if self.model_frame == "native" and self.model_resample != "bicubic":
            raise ConfigError(f"{type(self).__name__}.model_resample applies only with a model_frame size; "
                              "model_frame is 'native'")

    # -- (de)serialisation --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The knobs as JSON data (a knob declared ``omit_default`` is left out while it has its default)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.metadata.get("omit_default") and v == f.default:
                continue
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

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

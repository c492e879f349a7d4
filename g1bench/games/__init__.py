"""The game registry: one line per game; ``get_game`` is the only lookup."""

from __future__ import annotations

from ..core.config import UnknownNameError
from ..core.game import Game
from .shisensho import ShisenSho
from .shisensho_images import ShisenShoImages
from .swap import Swap
from .twenty48 import TwentyFortyEight

GAMES: dict[str, type[Game]] = {g.name: g for g in (TwentyFortyEight, ShisenSho, ShisenShoImages, Swap)}


def list_games() -> list[str]:
    """Names accepted by ``g1bench.make`` and the CLI, in paper order."""
    return list(GAMES)


def get_game(name: str) -> type[Game]:
    """The game class registered under ``name`` (case-insensitive; ``_`` and ``-`` are the same)."""
    if not isinstance(name, str):
        raise TypeError(f"game must be a name, got {type(name).__name__}")
    key = name.strip().lower().replace("_", "-")
    aliases = {g.env_name.lower(): n for n, g in GAMES.items()}
    key = aliases.get(key, key)
    if key not in GAMES:
        raise UnknownNameError(f"unknown game {name!r}; games: {list_games()}")
    return GAMES[key]

"""g1bench: VLM-Gym re-implemented — visual games, evaluation and RL training for vision-language models.

>>> import g1bench
>>> env = g1bench.make("shisensho", difficulty="base", labels=True)
>>> frame, info = env.reset(seed=0)
>>> frame, reward, terminated, truncated, info = env.step("<answer>(0, 0) (0, 1)</answer>")
"""

from __future__ import annotations

__version__ = "0.3.0"

from typing import Any, Mapping

from .core.answer import ParseError
from .core.config import ConfigError, GameConfig
from .core.env import G1Env, Judgement, StateError
from .core.game import Game, Outcome
from .games import get_game, list_games
from .registration import register_envs

__all__ = [
    "ConfigError", "G1Env", "Game", "GameConfig", "Judgement", "Outcome", "ParseError", "StateError",
    "get_game", "list_games", "list_presets", "make", "make_from_state", "__version__",
]


def make(game: str, difficulty: str | Mapping[str, Any] | GameConfig | None = None, **kwargs: Any) -> G1Env:
    """Build the env of ``game`` at a difficulty preset (default ``"paper"``), with knob overrides.

    Args:
        game: a name from :func:`list_games` (``"2048"``, ``"shisensho"``, ``"shisensho-images"``, ``"swap"``).
        difficulty: a preset name from :func:`list_presets`, a dict of knobs, or a config object.
        **kwargs: knob overrides (e.g. ``labels=True``, ``cell_px=56``) and env options
            (``render_mode``, ``max_steps``).

    Returns:
        A :class:`G1Env`; call ``reset(seed=...)`` before stepping.

    Raises:
        KeyError: unknown game. ConfigError: unknown preset or an invalid knob value.

    Example:
        >>> env = make("2048", max_steps=100)
    """
    return G1Env(game, difficulty=difficulty, **kwargs)


def make_from_state(state: Mapping[str, Any] | str | bytes, **kwargs: Any) -> G1Env:
    """Build an env positioned at a snapshot from :meth:`G1Env.get_state` (dict or JSON)."""
    import json

    if isinstance(state, (str, bytes)):
        try:
            state = json.loads(state)
        except ValueError as e:
            raise StateError(f"snapshot is not valid JSON: {e}") from None
    if not isinstance(state, Mapping) or "game" not in state or "config" not in state:
        raise StateError("not a g1bench snapshot: it needs 'game' and 'config'")
    env = G1Env(state["game"], difficulty=dict(state["config"]), **kwargs)
    env.reset(options={"state": state})
    return env


def list_presets(game: str) -> list[str]:
    """The difficulty presets of ``game``."""
    return list(get_game(game).Config.presets)


register_envs()

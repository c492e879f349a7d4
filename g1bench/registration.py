"""Gymnasium ids: ``g1bench/<Game>-v<N>`` (the paper preset) and ``g1bench/<Game>-<preset>-v<N>``."""

from __future__ import annotations

import gymnasium as gym


def env_ids() -> list[str]:
    """Every id g1bench registers with gymnasium."""
    from .games import GAMES

    ids = []
    for cls in GAMES.values():
        ids.append(f"g1bench/{cls.env_name}-v{cls.version}")
        ids.extend(f"g1bench/{cls.env_name}-{p}-v{cls.version}" for p in cls.Config.presets if p != "paper")
    return ids


def register_envs() -> None:
    """Register all ids (idempotent). Importing g1bench calls this."""
    from .games import GAMES

    for name, cls in GAMES.items():
        for preset in cls.Config.presets:
            suffix = "" if preset == "paper" else f"-{preset}"
            env_id = f"g1bench/{cls.env_name}{suffix}-v{cls.version}"
            if env_id in gym.registry:
                continue
            gym.register(
                id=env_id,
                entry_point="g1bench.core.env:G1Env",
                kwargs={"game": name, "difficulty": preset},
            )

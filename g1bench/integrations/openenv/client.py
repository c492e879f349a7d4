"""The client of a g1bench OpenEnv server: OpenEnv's ``EnvClient`` over one WebSocket session."""

from __future__ import annotations

from typing import Any, Dict

from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient

from .models import G1Action, G1Observation, G1State


class G1EnvClient(EnvClient[G1Action, G1Observation, G1State]):
    """One game session on a ``g1bench serve`` server (async; ``.sync()`` for a blocking client).

    Example:
        >>> with G1EnvClient(base_url="http://127.0.0.1:8000").sync() as env:  # doctest: +SKIP
        ...     first = env.reset(game="shisensho", difficulty="base", seed=0)
        ...     result = env.step(G1Action(answer="<answer>(0, 0) (0, 1)</answer>"))
        ...     result.reward, result.observation.feedback, result.observation.image()
        ...     snapshot = env.state().snapshot  # reset(state=snapshot) restores it exactly
    """

    def _step_payload(self, action: G1Action | str) -> Dict[str, Any]:
        if isinstance(action, str):  # the answer text itself
            return {"answer": action}
        return {"answer": action.answer}

    def _parse_result(self, payload: Dict[str, Any]) -> StepResult[G1Observation]:
        obs = G1Observation(**payload.get("observation", {}), reward=payload.get("reward"),
                            done=payload.get("done", False))
        return StepResult(observation=obs, reward=payload.get("reward"), done=payload.get("done", False))

    def _parse_state(self, payload: Dict[str, Any]) -> G1State:
        return G1State(**payload)


__all__ = ["G1EnvClient"]

"""Every g1bench game as an OpenEnv environment (``pip install 'g1bench[openenv]'``).

* :class:`G1Environment` (server side): one game session per OpenEnv session, any game and preset;
* :func:`build_app` / :func:`serve` (``g1bench serve``): OpenEnv's FastAPI server around it, with a cap on sessions,
  an idle timeout and bounded inputs; ``g1bench_env/`` deploys it as a container or a Space;
* :class:`G1EnvClient` (client side) with :class:`G1Action` / :class:`G1Observation` / :class:`G1State`.

Example::

    from g1bench.integrations.openenv import G1Action, G1EnvClient

    with G1EnvClient(base_url="http://127.0.0.1:8000").sync() as env:
        result = env.reset(game="2048", seed=0, warmup=100, perception=True)
        result = env.step(G1Action(answer="<answer>0</answer>"))
        print(result.reward, result.observation.feedback)
"""

from __future__ import annotations

try:
    import openenv.core  # noqa: F401
except ImportError as e:  # pragma: no cover - the message is the point
    raise ImportError("g1bench's OpenEnv server and client need openenv-core: pip install 'g1bench[openenv]'") from e

from .client import G1EnvClient
from .environment import G1Environment
from .models import G1Action, G1Observation, G1State
from .server import BackgroundServer, build_app, serve

__all__ = ["BackgroundServer", "G1Action", "G1EnvClient", "G1Environment", "G1Observation", "G1State", "build_app",
           "serve"]

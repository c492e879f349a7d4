"""The g1bench OpenEnv server as OpenEnv's layout names it: ``uvicorn server.app:app``, ``uv run server``,
``python -m server.app``. The server itself is g1bench's (:mod:`g1bench.integrations.openenv.server`); ``g1bench serve``
runs the same one. Settings: G1BENCH_SERVE_MAX_SESSIONS (default 64), G1BENCH_SERVE_IDLE_TIMEOUT (seconds, default 300).
"""

import os
import sys

from g1bench.integrations.openenv.server import build_app

app = build_app(max_sessions=int(os.environ.get("G1BENCH_SERVE_MAX_SESSIONS", "64")),
                idle_timeout_s=float(os.environ.get("G1BENCH_SERVE_IDLE_TIMEOUT", "300")) or None)


def main(argv=None) -> int:
    """``g1bench serve`` with the same options (``--host``, ``--port``, ``--max-sessions``, ``--idle-timeout``)."""
    from g1bench.cli import main as g1bench_main

    return g1bench_main(["serve", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())

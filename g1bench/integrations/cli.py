"""``g1bench serve``: every game and preset behind an OpenEnv server (``pip install 'g1bench[openenv]'``)."""

from __future__ import annotations

import argparse
import sys

SERVE_HELP = """Serve every g1bench game and preset as an OpenEnv environment: WebSocket sessions at /ws (one game per
session: reset(game=..., difficulty=..., seed=... or state=...), step(answer)), frames as PNG in the observations, the
perception ground truth on request, snapshots through state(); plus /reset, /step, /state, /schema, /metadata,
/health and /sessions over HTTP. Clients: g1bench.integrations.openenv.G1EnvClient, or any OpenEnv client. Needs the
openenv extra: pip install 'g1bench[openenv]'. Deploy it as a container or a Space with g1bench_env/."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0-65535 (0: any free port), got {value}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 seconds (0: never), got {text}")
    return value


def add_commands(sub) -> None:
    p = sub.add_parser("serve", help="serve the games as an OpenEnv environment (HTTP + WebSocket)",
                       description=SERVE_HELP)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 exposes it to your network)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0 picks a free one and prints it)")
    p.add_argument("--max-sessions", type=_positive_int, default=64,
                   help="most WebSocket sessions at once; the next is refused until one closes (default 64)")
    p.add_argument("--idle-timeout", type=_seconds, default=300.0,
                   help="close a session idle this many seconds and free its memory (default 300; 0: never)")
    p.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"],
                   help="server log level (default warning)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from .openenv.server import serve
    except ImportError as e:
        print(f"error: `g1bench serve` needs OpenEnv: pip install 'g1bench[openenv]' ({e})", file=sys.stderr)
        return 2
    try:
        serve(args.host, args.port, max_sessions=args.max_sessions, idle_timeout_s=args.idle_timeout or None,
              log_level=args.log_level)
    except OSError as e:
        print(f"error: cannot listen on {args.host}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 2
    return 0

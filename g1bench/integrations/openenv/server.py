"""The g1bench OpenEnv server: OpenEnv's FastAPI app (``create_app``) around :class:`G1Environment`.

Routes (OpenEnv's): ``POST /reset``, ``POST /step``, ``GET /state``, ``GET /schema``, ``GET /metadata``,
``GET /health``, ``WS /ws`` (the stateful sessions :class:`~.client.G1EnvClient` opens; ``/reset`` and ``/step`` over
plain HTTP are stateless, each on a fresh environment), ``/mcp``; and g1bench's ``GET /sessions`` (how many
environments exist now, the cap, the idle timeout).

Bounds: at most ``max_sessions`` WebSocket sessions (the next one is refused with OpenEnv's ``CAPACITY_REACHED``);
a session idle for ``idle_timeout_s`` is closed and its memory freed (OpenEnv's reaper checks every
``max(timeout / 4, 5)`` seconds); a request body or WebSocket message over :data:`MAX_REQUEST_BYTES` is refused
(HTTP 413 / the socket closed); an answer over ``MAX_ANSWER_CHARS`` characters is a move that cannot be read.
"""

from __future__ import annotations

import functools
import socket
import sys
import threading
from typing import Any

from openenv.core.env_server.http_server import create_app
from openenv.core.env_server.types import ConcurrencyConfig

from .environment import G1Environment, SessionCounter
from .models import G1Action, G1Observation

#: the largest request body / WebSocket message the server reads (answers, snapshots and reset options are far smaller)
MAX_REQUEST_BYTES = 1 << 20
DEFAULT_MAX_SESSIONS = 64
DEFAULT_IDLE_TIMEOUT_S = 300.0


class _Bounds:
    """ASGI middleware. HTTP: a request body over ``limit`` bytes gets 413 before the app sees any of it (a body within
    the limit is read here, at most ``limit`` bytes, then handed to the app as it came). WebSocket: a client that
    closes its session first is not an error (openenv-core 0.3.0 then closes the closed socket again, and the
    exception would be logged as a crash for every session that ends normally)."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            from starlette.websockets import WebSocketDisconnect

            try:
                return await self.app(scope, receive, send)
            except WebSocketDisconnect:
                return None
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                return await self._refuse(send)
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                return await self._refuse(send)
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replayed():
            return next(replay, None) or await receive()

        return await self.app(scope, replayed, send)

    async def _refuse(self, send) -> None:
        body = b'{"detail":"request body too large (the limit is %d bytes)"}' % self.limit
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def build_app(max_sessions: int = DEFAULT_MAX_SESSIONS, idle_timeout_s: float | None = DEFAULT_IDLE_TIMEOUT_S):
    """The FastAPI app: every g1bench game through OpenEnv's server, with the bounds above."""
    if not isinstance(max_sessions, int) or max_sessions < 1:
        raise ValueError(f"max_sessions must be >= 1, got {max_sessions!r}")
    if idle_timeout_s is not None and not idle_timeout_s > 0:
        raise ValueError(f"idle_timeout_s must be > 0 (or None: never), got {idle_timeout_s!r}")
    counter = SessionCounter()
    app = create_app(functools.partial(G1Environment, counter=counter), G1Action, G1Observation, env_name="g1bench",
                     concurrency_config=ConcurrencyConfig(max_concurrent_envs=max_sessions,
                                                          session_timeout=idle_timeout_s))

    @app.get("/sessions", tags=["Environment Info"], summary="How many game environments exist now")
    def sessions() -> dict[str, Any]:
        return {"live": counter.live, "created": counter.created, "max_sessions": max_sessions,
                "idle_timeout_s": idle_timeout_s}

    app.state.g1bench_counter = counter
    app.add_middleware(_Bounds, limit=MAX_REQUEST_BYTES)
    return app


def _uvicorn_config(app: Any, log_level: str = "warning"):
    import uvicorn

    return uvicorn.Config(app, log_level=log_level, ws_max_size=MAX_REQUEST_BYTES, lifespan="on")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (``port`` 0 picks a free one); OSError when the address is taken or not ours."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(host: str = "127.0.0.1", port: int = 8000, max_sessions: int = DEFAULT_MAX_SESSIONS,
          idle_timeout_s: float | None = DEFAULT_IDLE_TIMEOUT_S, log_level: str = "warning") -> None:
    """Run the server in this process until interrupted; prints the address it listens on first."""
    import uvicorn

    sock = bind(host, port)
    app = build_app(max_sessions, idle_timeout_s)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"g1bench serve: listening on http://{shown}:{bound} (OpenEnv; sessions at ws://{shown}:{bound}/ws, at most "
          f"{max_sessions}, closed after {idle_timeout_s:g} s idle)" if idle_timeout_s else
          f"g1bench serve: listening on http://{shown}:{bound} (OpenEnv; sessions at ws://{shown}:{bound}/ws, at most "
          f"{max_sessions}, never closed for idleness)", flush=True)
    uvicorn.Server(_uvicorn_config(app, log_level)).run(sockets=[sock])


class BackgroundServer:
    """The server on a thread of this process (tests, notebooks): ``with BackgroundServer() as url: ...``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **app_options: Any):
        import uvicorn

        self.app = build_app(**app_options)
        self._sock = bind(host, port)
        self.url = f"http://{host}:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(_uvicorn_config(self.app))
        self._server.install_signal_handlers = lambda: None  # not the main thread
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True,
                                        name="g1bench-serve")

    @property
    def counter(self) -> SessionCounter:
        return self.app.state.g1bench_counter

    def __enter__(self) -> str:
        import time

        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the g1bench OpenEnv server did not start")
            time.sleep(0.02)
        return self.url

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


def main(argv=None) -> int:  # `python -m g1bench.integrations.openenv.server` (the same as `g1bench serve`)
    from ...cli import main as cli_main

    return cli_main(["serve", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["BackgroundServer", "DEFAULT_IDLE_TIMEOUT_S", "DEFAULT_MAX_SESSIONS", "MAX_REQUEST_BYTES", "bind",
           "build_app", "serve"]

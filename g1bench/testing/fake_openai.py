"""A scripted OpenAI-compatible chat server on 127.0.0.1, for testing clients offline (standard library only).

It answers ``POST /v1/chat/completions`` and ``GET /v1/models`` like a real server, and can fail on
purpose: each request takes the next entry of ``script`` (then keeps answering normally):

* an int status (``429``, ``500``, ``401`` ...): that status with an OpenAI-style error body;
* ``("slow", seconds)``: sleep, then answer normally (a client with a shorter timeout gives up);
* ``"ok"``: answer normally.

A normal answer is ``reply(request_json)`` (default: ``"<answer>0</answer>"``) with a ``usage`` block
counting request and reply characters. Every request is recorded (path, headers, JSON body), and
``max_in_flight`` says how many chat requests were ever handled at once. ``delay`` seconds are spent on
every normal answer.

Example::

    with FakeOpenAIServer(script=[429, 500, ("slow", 2.0)]) as srv:
        client = OpenAIClient(srv.base_url, timeout=0.5, backoff=0.01)
        data, attempts = client.request("POST", "/chat/completions", {...})   # attempts == 4
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Sequence


class FakeOpenAIServer:
    """See the module docstring. ``echo_auth=True`` puts the Authorization header into error bodies
    (as some real APIs do), to test that clients redact it."""

    def __init__(self, script: Sequence[Any] = (), reply: Callable[[dict], str] | None = None,
                 models: Sequence[str] = ("fake-model",), echo_auth: bool = False, retry_after: str | None = None,
                 delay: float = 0.0):
        self.script = list(script)
        self.reply = reply or (lambda body: "<answer>0</answer>")
        self.models, self.echo_auth, self.retry_after, self.delay = list(models), echo_auth, retry_after, delay
        self.requests: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0  # chat requests being handled now / at most at once
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> "FakeOpenAIServer":
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-openai").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def next_action(self) -> Any:
        with self._lock:
            return self.script.pop(0) if self.script else "ok"

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]


class _Handler(BaseHTTPRequestHandler):
    server_owner: FakeOpenAIServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass

    def do_GET(self) -> None:  # noqa: N802
        owner = self.server_owner
        with owner._lock:
            owner.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers.items()), "json": None})
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in owner.models]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802
        owner = self.server_owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, {"error": {"message": "body is not JSON"}})
            return
        with owner._lock:
            owner.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers.items()), "json": body})
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        with owner._lock:
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            self._chat(owner, body)
        finally:
            with owner._lock:
                owner.in_flight -= 1

    def _chat(self, owner: FakeOpenAIServer, body: dict[str, Any]) -> None:
        action = owner.next_action()
        if isinstance(action, int):
            message = f"scripted failure {action}"
            if owner.echo_auth:
                message += f"; you sent {self.headers.get('Authorization')}"
            headers = {"Retry-After": owner.retry_after} if owner.retry_after is not None else None
            self._send(action, {"error": {"message": message, "type": "scripted"}}, headers)
            return
        if isinstance(action, tuple) and action[0] == "slow":
            time.sleep(float(action[1]))
        elif owner.delay:
            time.sleep(owner.delay)
        text = owner.reply(body)
        prompt_chars = len(json.dumps(body.get("messages", [])))
        self._send(200, {
            "id": f"chatcmpl-{len(owner.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": max(1, len(text) // 4),
                      "total_tokens": prompt_chars // 4 + max(1, len(text) // 4)},
        })


__all__ = ["FakeOpenAIServer"]

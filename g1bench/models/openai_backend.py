"""The OpenAI-compatible backend: ``POST {base_url}/chat/completions`` with base64 PNG image parts.

Works against ``vllm serve``, ``transformers serve`` and commercial APIs. Uses only the standard library
(``urllib``), so it needs no extra. Requests of one policy call run on ``--max-concurrency`` threads; a
request that gets 429, a 5xx, a connection error or no reply within ``--timeout`` seconds is retried up
to ``--retries`` times with exponential backoff and jitter (a ``Retry-After`` header is honoured, up to
60 s). Any other error stops the run with the server's message; finished episodes stay saved and
``--resume`` continues.

The API key is read from the environment variable named by ``--api-key-env`` (default
``OPENAI_API_KEY``, optional then: local servers need none). It lives only in this process's memory:
never in provenance, logs, errors or the run directory.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .. import __version__
from ..eval.policies import Answer, Turn
from .base import ModelPolicy, ModelSource
from .config import DEFAULT_API_KEY_ENV, ModelConfig, ModelError, check_api_key_env, shown_env_name
from .messages import cost_usd, openai_request, parse_openai_response

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
MAX_RETRY_AFTER_S = 60.0


class APIError(ModelError):
    """A request failed for good (a non-retryable status, or retries exhausted)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def normalize_base_url(base_url: str) -> str:
    """Check a base URL and give it the ``/v1`` path when it has none (``http://host:8000`` -> ``.../v1``).

    Raises:
        ModelError: not an http(s) URL with a host.
    """
    parsed = urllib.parse.urlsplit(base_url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ModelError(f"--base-url {base_url!r} is not an http(s) URL with a host "
                         "(e.g. http://127.0.0.1:8000/v1 or https://api.openai.com/v1)")
    path = parsed.path.rstrip("/")
    if not path:
        path = "/v1"
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))


def public_url(url: str) -> str:
    """The URL without user info, query or fragment (safe to record)."""
    p = urllib.parse.urlsplit(url)
    host = p.hostname or ""
    if p.port:
        host = f"{host}:{p.port}"
    return urllib.parse.urlunsplit((p.scheme, host, p.path, "", ""))


def read_api_key(env_name: str | None) -> str | None:
    """The API key from the environment variable ``env_name`` (or ``OPENAI_API_KEY`` when None).

    Raises:
        ModelError: ``env_name`` is not a variable name (e.g. the key itself: refused without repeating it), or
            was named explicitly and is unset or empty.
    """
    check_api_key_env(env_name)
    name = env_name or DEFAULT_API_KEY_ENV
    key = os.environ.get(name, "").strip()
    if not key and env_name is not None:
        shown = shown_env_name(env_name)
        hint = f"export {shown}=<your key>" if shown == env_name else "export MY_API_KEY=<your key> and pass --api-key-env MY_API_KEY"
        raise ModelError(f"--api-key-env: the environment variable {shown} is not set ({hint}; the key is never "
                         "printed or saved)")
    return key or None


def retry_delay(attempt: int, backoff: float, retry_after: str | None = None, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): ``backoff * 2**attempt`` with up to
    25% jitter, or the server's ``Retry-After`` (seconds) when given, capped at 60 s."""
    if retry_after:
        try:
            return min(max(float(retry_after), 0.0), MAX_RETRY_AFTER_S)
        except ValueError:
            pass
    base = backoff * (2 ** attempt)
    return min(base * (1 + 0.25 * (rng or random).random()), MAX_RETRY_AFTER_S)


class OpenAIClient:
    """A minimal thread-safe chat-completions client with retries (standard library only).

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1``.
        api_key: sent as ``Authorization: Bearer``; never logged, never part of an error message.
        timeout: seconds per attempt. retries: extra attempts after retryable failures.
        backoff: first retry delay in seconds (doubles per retry).
    """

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 600.0, retries: int = 5,
                 backoff: float = 1.0):
        self.base_url = normalize_base_url(base_url)
        self.__key = api_key
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self._rng = random.Random(0)
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # no key in reprs
        return f"OpenAIClient({public_url(self.base_url)!r})"

    def _redact(self, text: str) -> str:
        """Server messages may echo the key back (some APIs do): never let it into an error."""
        return text.replace(self.__key, "***") if self.__key else text

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": f"g1bench/{__version__}"}
        if self.__key:
            h["Authorization"] = f"Bearer {self.__key}"
        return h

    def _once(self, method: str, path: str, body: bytes | None, timeout: float) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(self.base_url + path, data=body, method=method, headers=self._headers())
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as e:
            try:
                data = e.read()
            except Exception:  # noqa: BLE001
                data = b""
            return e.code, dict(e.headers.items()) if e.headers else {}, data

    def request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> tuple[dict[str, Any], int]:
        """Send with retries; returns (decoded JSON, attempts used).

        Raises:
            APIError: a non-retryable status (the server's message included), or retries exhausted.
        """
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        where = f"{method} {public_url(self.base_url)}{path}"
        last = ""
        for attempt in range(self.retries + 1):
            retry_after = None
            try:
                status, headers, data = self._once(method, path, body, self.timeout)
            except (TimeoutError, socket.timeout):
                last = f"no reply within {self.timeout:g} s"
            except urllib.error.URLError as e:
                reason = e.reason
                if isinstance(reason, (TimeoutError, socket.timeout)):
                    last = f"no reply within {self.timeout:g} s"
                else:
                    last = f"cannot connect ({reason})"
            except (OSError, http.client.HTTPException) as e:
                last = f"connection failed ({type(e).__name__}: {e})"
            else:
                if 200 <= status < 300:
                    try:
                        return json.loads(data.decode("utf-8")), attempt + 1
                    except ValueError:
                        raise APIError(self._redact(f"{where}: the reply is not JSON: {data[:200]!r}"), status) from None
                message = self._redact(_error_message(data))
                if status not in RETRY_STATUS:
                    hint = {401: " (check the API key: --api-key-env)", 403: " (the key may lack access to this model)",
                            404: " (check --base-url and --model)"}.get(status, "")
                    raise APIError(f"{where} -> HTTP {status}{hint}: {message}", status)
                last = f"HTTP {status}: {message}"
                retry_after = {k.lower(): v for k, v in headers.items()}.get("retry-after")
            if attempt < self.retries:
                with self._lock:
                    delay = retry_delay(attempt, self.backoff, retry_after, self._rng)
                time.sleep(delay)
        raise APIError(f"{where} failed after {self.retries + 1} attempts; last: {last}")

    def probe(self) -> None:
        """Fail fast on an unreachable server or a rejected key (``GET /models``; other errors are ignored:
        not every server lists models).

        Raises:
            ModelError: the server cannot be reached or answers 401/403.
        """
        try:
            status, _, data = self._once("GET", "/models", None, min(self.timeout, 30.0))
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise ModelError(f"cannot reach the OpenAI-compatible server at {public_url(self.base_url)} ({reason}); "
                             "check --base-url and that the server is running") from None
        if status in (401, 403):
            raise ModelError(f"{public_url(self.base_url)} rejected the API key (HTTP {status}: "
                             f"{self._redact(_error_message(data))}); check --api-key-env")


def _error_message(data: bytes) -> str:
    try:
        obj = json.loads(data.decode("utf-8"))
        err = obj.get("error", obj) if isinstance(obj, dict) else obj
        msg = err.get("message", err) if isinstance(err, dict) else err
        text = msg if isinstance(msg, str) else json.dumps(msg)
    except (ValueError, UnicodeDecodeError, AttributeError):
        text = data[:300].decode("utf-8", "replace")
    return text.strip()[:300] or "(empty body)"


class OpenAIPolicy(ModelPolicy):
    """A model behind an OpenAI-compatible chat-completions endpoint (see the module docstring)."""

    backend = "openai"

    def __init__(self, model: str, cfg: ModelConfig, source: ModelSource, probe: bool = True,
                 api_key: str | None = None):
        """``api_key``: the key itself, for callers that hold one per user (e.g. a Space session); it then never
        goes near ``os.environ``, which every thread of the process shares. Without it the key is read from
        the variable named by ``cfg.api_key_env``."""
        super().__init__(model, cfg, source)
        if not cfg.base_url:
            raise ModelError("--backend openai needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        self._key_given = api_key is not None
        key = api_key if api_key is not None else read_api_key(cfg.api_key_env)
        self.client = OpenAIClient(cfg.base_url, key, timeout=cfg.timeout, retries=cfg.retries,
                                   backoff=cfg.retry_backoff)
        self.dtype = None  # decided by the server
        if probe:
            self.client.probe()
        self.pool = ThreadPoolExecutor(max_workers=cfg.max_concurrency, thread_name_prefix="g1bench-openai")

    def describe_backend(self) -> dict[str, Any]:
        d: dict[str, Any] = {"base_url": public_url(self.client.base_url),
                             "api_key_env": None if self._key_given else self.cfg.api_key_env or DEFAULT_API_KEY_ENV}
        if self.cfg.price_in is not None or self.cfg.price_out is not None:
            d["price_per_1m_tokens"] = {"input": self.cfg.price_in, "output": self.cfg.price_out}
        return d

    def backend_versions(self) -> dict[str, str | None]:
        return {"client": f"g1bench-urllib/{__version__}"}

    def act(self, turns: list[Turn]) -> list[Answer]:
        return list(self.pool.map(self._one, turns))

    def _one(self, turn: Turn) -> Answer:
        t0 = time.perf_counter()
        data, attempts = self.client.request("POST", "/chat/completions", openai_request(self.model_id, turn, self.cfg))
        latency = time.perf_counter() - t0
        try:
            parsed = parse_openai_response(data)
        except ValueError as e:
            raise APIError(f"{public_url(self.client.base_url)}/chat/completions: {e}") from None
        extra: dict[str, Any] = {"finish_reason": parsed["finish_reason"]}
        if attempts > 1:
            extra["attempts"] = attempts
        if "refusal" in parsed:
            extra["refusal"] = parsed["refusal"]
        cost = cost_usd(parsed["input_tokens"], parsed["output_tokens"], self.cfg.price_in, self.cfg.price_out)
        if cost is not None:
            extra["cost_usd"] = cost
        return Answer(parsed["text"], input_tokens=parsed["input_tokens"], output_tokens=parsed["output_tokens"],
                      latency_s=latency, extra=extra)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["OpenAIPolicy", "OpenAIClient", "APIError", "normalize_base_url", "public_url", "read_api_key", "retry_delay"]

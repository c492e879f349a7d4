"""The Watch tab's backend: a baseline or a model plays one game step by step while a visitor watches.

Players: the built-in baselines (``oracle``, ``random-legal``, ``random``), the Space's own model (an
OpenAI-compatible endpoint the operator configured, see :mod:`.settings`) and, for one session only, an
endpoint the visitor names with their own key. The visitor's key lives in that session's server-side
state and nowhere else: it is not put in the environment, logged, shown, returned to the browser or
recorded; error messages are scrubbed of it. Unless the operator allows it, a visitor's endpoint may not
point at a loopback, private or link-local address (the Space would otherwise fetch its own network).

A model's step has a time limit (``SpaceSettings.visitor_step_limit_s`` for a visitor's endpoint, stated on the
page; ``model_timeout_s`` for the Space's own model): the answer is awaited in a worker thread, and a step
that takes longer is not played. **Stop** (:meth:`WatchBackend.stop`) ends the autoplay and abandons a step
in flight at once; the visitor never waits for a slow endpoint with no way out.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field, replace
from typing import Any

from .. import G1Env, make
from ..core.answer import extract_tag
from ..core.config import ConfigError
from ..eval.policies import BASELINES, Policy, Turn, get_policy
from ..models.base import ModelSource
from ..models.config import ModelConfig, ModelError
from ..models.openai_backend import OpenAIClient, OpenAIPolicy, normalize_base_url, public_url
from ..tiles import TileSourceError
from .errors import SpaceError
from .frames import FrameStore
from .sessions import GAME_LABELS, check_game, check_preset, check_seed, env_from_snapshot
from .settings import SpaceSettings
from .text import esc
from .warmup import TileWarmup

BASELINE_PLAYERS = ("oracle", "random-legal", "random")
SPACE_MODEL = "space-model"
OWN_ENDPOINT = "own-endpoint"
#: steps per watched game (the paper's evaluation budget)
MAX_STEPS = 100
#: how much of a model's answer is kept and shown
MAX_SHOWN_CHARS = 20_000
MAX_LOG_ROWS = 100
WATCH_FORMAT = "g1bench-space-watch/1"
LOG_HEADERS = ["step", "action", "reward", "score", "note"]


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible endpoint and its key. The key is never part of ``repr`` or any message."""

    base_url: str
    model: str
    key: str | None = field(default=None, repr=False)
    visitor: bool = False


class WatchControl:
    """What Stop acts on while a step runs: a counter that Stop moves on (a step started before it is abandoned)
    and whether autoplay is stopped. One per watched game, shared by its sessions (never copied: gradio hands an
    event the stored session itself, and Stop runs while a step still holds it)."""

    __slots__ = ("lock", "token", "stopped")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token = 0
        self.stopped = False

    def stop(self) -> None:
        with self.lock:
            self.token += 1
            self.stopped = True

    def resume(self) -> None:
        with self.lock:
            self.stopped = False

    def __deepcopy__(self, memo: dict) -> "WatchControl":
        return WatchControl()

    def __repr__(self) -> str:
        return "WatchControl()"


@dataclass
class WatchSession:
    """One watched game: the env snapshot, who plays, and what happened so far."""

    game: str
    preset: str
    seed: int
    snapshot: dict[str, Any]
    player: str
    endpoint: Endpoint | None = None
    step: int = 0
    total_reward: float = 0.0
    over: bool = False
    log: list[list[Any]] = field(default_factory=list)
    last: dict[str, Any] | None = None
    note: str = ""
    format: str = WATCH_FORMAT
    control: WatchControl = field(default_factory=WatchControl, repr=False, compare=False)


@dataclass
class WatchView:
    """What the Watch tab shows."""

    frame: str | None
    status: str
    perception: str
    think: str
    answer: str
    action: str
    log: list[list[Any]]
    over: bool


def player_choices(settings: SpaceSettings) -> list[tuple[str, str]]:
    """(label, value) pairs of who can play."""
    out = [("Oracle (reads the true state)", "oracle"), ("Random legal move", "random-legal"),
           ("Random (the paper's random baseline)", "random")]
    if settings.has_space_model:
        out.append((f"Model: {settings.model_name} (this Space's endpoint)", SPACE_MODEL))
    out.append(("My own OpenAI-compatible endpoint", OWN_ENDPOINT))
    return out


def _redact(text: str, endpoint: Endpoint | None) -> str:
    if endpoint is not None and endpoint.key:
        text = text.replace(endpoint.key, "***")
    return text


def check_endpoint_address(base_url: str, allow_private: bool) -> None:
    """Refuse endpoints on loopback, private, link-local or otherwise internal addresses (unless allowed).

    The host is resolved once here; this stops a visitor from pointing the Space at its own network, not a
    DNS server that answers differently later (a separate network policy is the real guard).
    """
    if allow_private:
        return
    host = urllib.parse.urlsplit(base_url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        raise SpaceError(f"cannot resolve the endpoint's host {host[:80]!r}") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if (addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_multicast or addr.is_reserved
                or addr.is_unspecified):
            raise SpaceError(f"the endpoint's host {host[:80]!r} is a local or private address ({addr}); "
                             "give a public endpoint")


class WatchBackend:
    """Watch-tab actions (holds only the app's read-only services)."""

    def __init__(self, settings: SpaceSettings, frames: FrameStore, warmup: "TileWarmup | None" = None):
        self.settings = settings
        self.frames = frames
        self.warmup = warmup

    # -- who plays -----------------------------------------------------------------------------------
    def _endpoint(self, player: str, base_url: Any, model: Any, key: Any) -> Endpoint | None:
        if player in BASELINE_PLAYERS:
            return None
        if player == SPACE_MODEL:
            s = self.settings
            if not s.has_space_model:
                raise SpaceError("this Space has no model endpoint configured; choose a baseline or your own endpoint")
            secret = os.environ.get(s.model_api_key_env, "").strip() or None
            return Endpoint(normalize_base_url(s.model_base_url or ""), s.model_name or "", secret)
        if player != OWN_ENDPOINT:
            raise SpaceError(f"unknown player {str(player)[:40]!r}; choose one of: "
                             + ", ".join(v for _, v in player_choices(self.settings)))
        if not isinstance(base_url, str) or not base_url.strip():
            raise SpaceError("give your endpoint's base URL, e.g. https://api.example.com/v1")
        if len(base_url) > 500:
            raise SpaceError("the endpoint URL is too long")
        try:
            url = normalize_base_url(base_url)
        except ModelError:
            raise SpaceError("the endpoint must be an http(s) URL with a host, e.g. https://api.example.com/v1") from None
        if urllib.parse.urlsplit(url).username or urllib.parse.urlsplit(url).password:
            raise SpaceError("put the key in the key box, not in the URL")
        if not isinstance(model, str) or not model.strip() or len(model) > 200 or not model.strip().isprintable():
            raise SpaceError("give the model name your endpoint serves (at most 200 printable characters)")
        if key is not None and not isinstance(key, str):
            raise SpaceError("the API key must be text")
        key = (key or "").strip() or None
        if key is not None and (len(key) > 1000 or not key.isprintable() or any(c.isspace() for c in key)):
            raise SpaceError("the API key must be one line of printable characters without spaces")
        check_endpoint_address(url, self.settings.allow_private_endpoints)
        return Endpoint(url, model.strip(), key, visitor=True)

    def step_limit(self, endpoint: Endpoint | None) -> float | None:
        """Seconds a step of this player may take (None: a baseline, which answers at once)."""
        if endpoint is None:
            return None
        return self.settings.visitor_step_limit_s if endpoint.visitor else self.settings.model_timeout_s

    def _policy(self, session: WatchSession) -> Policy:
        if session.endpoint is None:
            if session.player not in BASELINES:
                raise SpaceError("this session's player is not valid; press Start")
            return get_policy(session.player, seed=session.seed)
        # the step is bounded by _answer (the limit, said on the page); the request's own timeout is a little longer,
        # so that a slow answer meets the step's limit, and a visitor's endpoint gets one attempt (a retry would
        # outlast the limit)
        visitor = session.endpoint.visitor
        cfg = ModelConfig(backend="openai", base_url=session.endpoint.base_url,
                          timeout=self.step_limit(session.endpoint) + 5.0, retries=0 if visitor else 1,
                          retry_backoff=0.5, max_concurrency=1)
        # the key is handed in (never read from or put in os.environ, which every session shares); "" = none,
        # so a visitor's endpoint never gets the Space's own key
        return OpenAIPolicy(session.endpoint.model, cfg, ModelSource(session.endpoint.model, "server"), probe=False,
                            api_key=session.endpoint.key or "")

    # -- events --------------------------------------------------------------------------------------
    def start(self, game: Any, preset: Any, seed: Any, player: Any, base_url: Any = None, model: Any = None,
              key: Any = None) -> tuple[WatchSession, WatchView]:
        """Deal a game for ``player`` (an endpoint is checked with one request before the game starts)."""
        game = check_game(game)
        preset = check_preset(game, preset)
        seed = check_seed(seed)
        if not isinstance(player, str):
            raise SpaceError("choose who plays")
        endpoint = self._endpoint(player, base_url, model, key)
        if endpoint is not None:
            probe = OpenAIClient(endpoint.base_url, endpoint.key, timeout=min(self.step_limit(endpoint), 15.0), retries=0)
            try:
                probe.probe()
            except ModelError as e:
                raise SpaceError(_redact(str(e).replace("--base-url", "the URL").replace("--api-key-env", "the key"),
                                         endpoint)) from None
        if self.warmup is not None:  # never make a visitor wait for a tile download
            self.warmup.check(game, preset)
        try:
            env = make(game, preset)
        except (ConfigError, TileSourceError, ValueError) as e:
            raise SpaceError(f"cannot set up {game} / {preset}: {str(e)[:200]}") from None
        env.reset(seed=seed)
        who = (esc(f"{endpoint.model} at {public_url(endpoint.base_url)}") if endpoint is not None
               else dict((v, lbl) for lbl, v in player_choices(self.settings)).get(player, player))
        session = WatchSession(game=game, preset=preset, seed=seed, snapshot=env.get_state(), player=player,
                               endpoint=endpoint, over=env.game.is_over(),
                               note=f"{who} plays {GAME_LABELS.get(game, game)} ({preset}, seed {seed}).")
        return session, self.view(session, env)

    def stop(self, session: Any) -> str:
        """Stop autoplay and abandon the step in flight (it is not played); returns the line to show."""
        if session is None:
            return "Stopped."
        s = check_watch_session(session)
        s.control.stop()
        return f"Stopped at step {s.step}: press **Step** or **Play** to go on, or **Start** for a new game."

    def step(self, session: Any, autoplay: bool = False) -> tuple[WatchSession, WatchView]:
        """Ask the player for one move and apply it (``autoplay``: a tick of Play, which does nothing once stopped)."""
        s = check_watch_session(session)
        if s.over:
            raise SpaceError("this game is over: press Start for a new one")
        if autoplay and s.control.stopped:
            raise SpaceError(f"Stopped at step {s.step}.")
        if not autoplay:
            s.control.resume()
        env = env_from_snapshot(s.snapshot, s.game)
        policy = self._policy(s)
        try:
            frame = env.model_observation() if policy.needs_frames else None  # the preset's model frame, as in eval
            turn = Turn(game=s.game, frame=frame, prompt=env.prompt, state=s.snapshot, episode=f"watch/{s.seed}",
                        step=s.step)
            answer = self._answer(s, policy, turn)
        except ModelError as e:
            raise SpaceError("the model's endpoint failed: " + _redact(str(e), s.endpoint)[:400]) from None
        finally:
            policy.close()
        text = _redact(answer.text if isinstance(answer.text, str) else str(answer.text), s.endpoint)
        _, reward, terminated, _, info = env.step(text)
        step = s.step + 1
        over = bool(terminated) or step >= MAX_STEPS
        if info["parse_error"]:
            action, note = "—", f"parse error: {info['parse_error']}"
        else:
            action = _action_text(s.game, info["action"])
            note = "ok" if info["success"] else (info["reason"] or "no merge")
        row = [step, action, f"{reward:+.0f}", env.game.score, note[:120]]
        last = {
            "perception": extract_tag(text, "perception") or "",
            "think": extract_tag(text, "think") or "",
            "answer": text[:MAX_SHOWN_CHARS],
            "action": (f"**Step {step}** · action **{esc(action)}** · reward **{reward:+.0f}**"
                       + ((f" · {'format ok' if info.get('format_ok') else 'format not followed'} · "
                           f"perception {'exact' if info.get('perception_ok') else 'not exact'}"
                           f" · {answer.latency_s:.1f} s") if s.endpoint is not None else "")
                       + (f"\n\n{esc(note)}" if note != "ok" else "")),
        }
        new = replace(s, snapshot=env.get_state(), step=step, total_reward=s.total_reward + reward, over=over,
                      log=(s.log + [row])[-MAX_LOG_ROWS:], last=last)
        return new, self.view(new, env)

    def _answer(self, s: WatchSession, policy: Policy, turn: Turn):
        """The player's answer; a model's is awaited in a worker thread, within the step's limit and until Stop."""
        limit = self.step_limit(s.endpoint)
        if limit is None:
            return policy.act([turn])[0]
        token = s.control.token
        box: dict[str, Any] = {}
        done = threading.Event()

        def ask() -> None:
            try:
                box["answer"] = policy.act([turn])[0]
            except BaseException as e:  # noqa: BLE001 - handed to the waiting event
                box["error"] = e
            finally:
                done.set()

        threading.Thread(target=ask, name="g1bench-watch-step", daemon=True).start()
        deadline = time.monotonic() + limit
        while not done.wait(0.05):
            if s.control.token != token:
                raise SpaceError(f"Stopped at step {s.step}: that step was not played.")
            if time.monotonic() >= deadline:
                who = "your endpoint" if s.endpoint is not None and s.endpoint.visitor else "the model"
                raise SpaceError(f"{who} did not answer within {limit:g} s, this Space's limit per step; the step was "
                                 "not played (press Step to try again)")
        if s.control.token != token:  # Stop was pressed as the answer came: it is not played either
            raise SpaceError(f"Stopped at step {s.step}: that step was not played.")
        if "error" in box:
            raise box["error"]
        return box["answer"]

    def view(self, s: WatchSession, env: G1Env | None = None) -> WatchView:
        env = env if env is not None else env_from_snapshot(s.snapshot, s.game)
        status = (f"{s.note}\n\n**Step** {s.step} / {MAX_STEPS} · **Score** {env.game.score} · "
                  f"**Total reward** {s.total_reward:+.0f}")
        if s.over:
            status += " · **Game over**" if env.game.is_over() else " · **Step budget reached**"
        last = s.last or {}
        return WatchView(frame=self.frames.png_path(env.render()), status=status,
                         perception=last.get("perception", ""), think=last.get("think", ""),
                         answer=last.get("answer", ""), action=last.get("action", ""),
                         log=list(reversed(s.log)), over=s.over)


def _action_text(game: str, action: Any) -> str:
    if game == "2048":
        a = int(action[0] if isinstance(action, (list, tuple)) else action)
        return f"{a} ({('Up', 'Right', 'Down', 'Left')[a]})"
    r1, c1, r2, c2 = (int(v) for v in action)
    return f"({r1}, {c1}) ({r2}, {c2})"


def check_watch_session(value: Any) -> WatchSession:
    """``value`` if it is a well-formed watch session, else a SpaceError saying what to do."""
    if value is None:
        raise SpaceError("nothing to watch yet: choose a player and press Start")
    if not isinstance(value, WatchSession) or value.format != WATCH_FORMAT:
        raise SpaceError("this session's state is not valid (it may be from an older version of the app); press Start")
    try:
        check_game(value.game)
        check_preset(value.game, value.preset)
        check_seed(value.seed)
    except SpaceError as e:
        raise SpaceError(f"this session's state is not valid ({e}); press Start") from None
    if value.endpoint is None and value.player not in BASELINE_PLAYERS:
        raise SpaceError("this session's player is not valid; press Start")
    return value


__all__ = ["WatchBackend", "WatchSession", "WatchView", "WatchControl", "Endpoint", "player_choices", "check_endpoint_address",
           "check_watch_session", "BASELINE_PLAYERS", "SPACE_MODEL", "OWN_ENDPOINT", "MAX_STEPS", "LOG_HEADERS"]

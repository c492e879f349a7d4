"""The Play tab's backend: a person plays any game, preset and seed.

2048 is played with a direction (arrow buttons or keys); the tile games with two clicks on the frame,
mapped to board cells by :meth:`Canvas.cell_at` (the first selected tile is highlighted). Every method
takes the visitor's session and returns a *new* session and what to show; bad input raises
:class:`SpaceError` with the message to show, and the old session stays as it was.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import G1Env, make
from ..core.config import ConfigError
from ..core.env import StateError
from ..tiles import TileSourceError
from .errors import SpaceError
from .frames import FrameStore, highlight
from .record import HumanGameRecorder
from .sessions import (GAME_LABELS, MAX_UNDO, PlaySession, check_game, check_play_session, check_preset,
                       check_seed)
from .settings import SpaceSettings
from .warmup import TileWarmup

#: 2048's actions, in the game's numbering (0 = Up, 1 = Right, 2 = Down, 3 = Left)
DIRECTIONS = ("up", "right", "down", "left")
#: a frame is at most this many pixels on a side (clicks beyond are refused before any lookup)
MAX_FRAME_SIDE = 10_000


@dataclass
class PlayView:
    """What the Play tab shows for a session."""

    frame: str | None
    status: str
    message: str
    perception: str
    prompt: str
    is_2048: bool
    rule: str = ""


def parse_direction(direction: Any) -> int:
    """A 2048 action from ``0..3`` or ``up/right/down/left`` (any case), else a SpaceError."""
    if isinstance(direction, str):
        key = direction.strip().lower()
        if key in DIRECTIONS:
            return DIRECTIONS.index(key)
        if key in ("0", "1", "2", "3"):
            return int(key)
    elif isinstance(direction, int) and not isinstance(direction, bool) and 0 <= direction <= 3:
        return direction
    raise SpaceError(f"unknown direction {str(direction)[:30]!r}; use up, right, down or left")


def _coordinate(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpaceError(f"the click's {name} coordinate must be a number, not {str(value)[:30]!r}")
    return float(value)


def _in_line(method):
    """Run a session event under its visitor's line lock, on the newest state of the line (see SessionLine)."""

    @functools.wraps(method)
    def wrapped(self, session: Any, *args: Any, **kwargs: Any):
        s = check_play_session(session)
        with s.line.lock:
            latest = s.line.current if isinstance(s.line.current, PlaySession) else s
            result = method(self, latest, *args, **kwargs)
            if isinstance(result[0], PlaySession):
                s.line.current = result[0]
            return result

    return wrapped


class PlayBackend:
    """Play-tab actions. Holds only the app's read-only services (settings, frame files, recorder)."""

    def __init__(self, settings: SpaceSettings, frames: FrameStore, warmup: "TileWarmup | None" = None):
        self.settings = settings
        self.frames = frames
        self.warmup = warmup
        self.recorder = HumanGameRecorder(settings.record_dir) if settings.record_dir is not None else None
        # model frames by state: a click that only selects a tile leaves the state, and so the frame, as it was
        self._model_frames: OrderedDict[str, tuple[str | None, str]] = OrderedDict()
        self._model_frames_lock = threading.Lock()

    # -- starting ------------------------------------------------------------------------------------
    def new_game(self, game: Any, preset: Any, seed: Any, record: Any = False,
                 previous: PlaySession | None = None) -> tuple[PlaySession, PlayView]:
        """Deal ``game`` at ``preset`` with ``seed``; a recorded game in ``previous`` is saved first."""
        game = check_game(game)
        preset = check_preset(game, preset)
        seed = check_seed(seed)
        record = bool(record)
        if record and self.recorder is None:
            raise SpaceError("recording is not enabled on this Space")
        try:
            previous = check_play_session(previous)
        except SpaceError:  # no game yet, or a state we cannot trust: start a line of its own
            previous = None
        if previous is None:
            session, view = self._deal(game, preset, seed, record, None)
            session.line.current = session
            return session, view
        with previous.line.lock:
            latest = previous.line.current if isinstance(previous.line.current, PlaySession) else previous
            session, view = self._deal(game, preset, seed, record, latest)
            previous.line.current = session
            return session, view

    def _deal(self, game: str, preset: str, seed: int, record: bool,
              previous: PlaySession | None) -> tuple[PlaySession, PlayView]:
        saved = self._save_recording(previous) if previous is not None else ""
        env = self._make(game, preset)
        env.reset(seed=seed)
        note = self._substitution_note(game, preset, env)
        session = PlaySession(game=game, preset=preset, seed=seed, snapshot=env.get_state(), note=note,
                              record=record, recording=record, over=env.game.is_over(),
                              tag=previous.tag if previous is not None else PlaySession.new_tag(),
                              games_recorded=previous.games_recorded if previous is not None else 0,
                              clock=time.monotonic())
        if previous is not None:
            session.line = previous.line
        message = f"New game: {GAME_LABELS.get(game, game)}, preset {preset}, seed {seed}. " + self._howto(game)
        if saved:
            message = saved + " " + message
        session.message = message
        return session.keep_env(env), self.view(session, env)

    @_in_line
    def restart(self, s: PlaySession) -> tuple[PlaySession, PlayView]:
        """The same game, preset and seed again, from the start."""
        return self.new_game(s.game, s.preset, s.seed, s.record, previous=s)

    def _make(self, game: str, preset: str) -> G1Env:
        if self.warmup is not None:  # never make a visitor wait for a tile download
            self.warmup.check(game, preset)
        try:
            return make(game, preset)
        except (ConfigError, TileSourceError, ValueError) as e:
            raise SpaceError(f"cannot set up {game} / {preset}: {str(e)[:200]}") from None

    @staticmethod
    def _substitution_note(game: str, preset: str, env: G1Env) -> str:
        from .record import overrides_of

        changed = overrides_of(game, preset, env.config.to_dict())
        if not changed:
            return ""
        what = ", ".join(f"{k} = {v}" for k, v in changed.items())
        return f"Note: this machine runs the preset with {what} (the preset's own source could not be loaded)."

    @staticmethod
    def _howto(game: str) -> str:
        if game == "2048":
            return "Use the arrow buttons, your keyboard's arrow keys or swipe on the board."
        return "Click two tiles to play them as a pair."

    # -- moves ---------------------------------------------------------------------------------------
    @_in_line
    def move(self, s: PlaySession, direction: Any) -> tuple[PlaySession, PlayView]:
        """Play a 2048 direction."""
        if s.game != "2048":
            raise SpaceError(f"{GAME_LABELS.get(s.game, s.game)} is played by clicking two tiles, not with directions")
        action = parse_direction(direction)
        self._require_not_over(s)
        return self._step(s, s.take_env(), action, DIRECTIONS[action].capitalize())

    @_in_line
    def click(self, s: PlaySession, x: Any, y: Any) -> tuple[PlaySession, PlayView]:
        """A click at pixel (x, y) of the frame: select a tile, or play the selected tile with this one."""
        px, py = _coordinate(x, "x"), _coordinate(y, "y")
        if s.game == "2048":
            raise SpaceError("2048 is played with the arrow buttons or the arrow keys, not by clicking")
        self._require_not_over(s)
        if not (0 <= px < MAX_FRAME_SIDE and 0 <= py < MAX_FRAME_SIDE):
            raise SpaceError("that click is outside the board: click on a tile")
        env = s.take_env()
        cell = env.canvas.cell_at(px, py)
        if cell is None:
            s.keep_env(env)
            raise SpaceError("that click is outside the board: click on a tile")
        if s.selected is None:
            if s.game != "swap" and int(env.game.cell_keys()[cell]) == 0:
                s.keep_env(env)
                raise SpaceError(f"cell {cell} is empty: click on a tile")
            new = s.replace(selected=cell, message=f"Selected {cell}: now click the second tile (click it again to deselect).")
            return new.keep_env(env), self.view(new, env)
        if tuple(s.selected) == cell:
            new = s.replace(selected=None, message=f"Deselected {cell}.")
            return new.keep_env(env), self.view(new, env)
        (r1, c1), (r2, c2) = s.selected, cell
        return self._step(s.replace(selected=None), env, (r1, c1, r2, c2), f"{(r1, c1)} with {(r2, c2)}")

    @_in_line
    def undo(self, s: PlaySession) -> tuple[PlaySession, PlayView]:
        """Take back the last move."""
        if not s.history:
            raise SpaceError("nothing to undo")
        last = s.history[-1]
        recorded = s.recorded[:-1] if s.recording and s.recorded else list(s.recorded)
        new = s.replace(snapshot=last["snapshot"], history=s.history[:-1], moves=last["moves"],
                        total_reward=last["total_reward"], last_reward=last["last_reward"], over=False,
                        selected=None, undos=s.undos + 1, recorded=recorded,
                        # a game already saved at its end is not recorded again after an undo
                        recording=s.recording and not last.get("saved", False), message="Undid the last move.")
        env = s.take_env()
        try:
            env.set_state(last["snapshot"])
        except (StateError, ValueError) as e:
            raise SpaceError(f"this session's saved game cannot be restored ({str(e)[:120]}); press New game") from None
        new.over = env.game.is_over()
        return new.keep_env(env), self.view(new, env)

    def set_record(self, session: Any, on: Any) -> tuple[PlaySession | None, str]:
        """Opt in or out of recording; returns the session (None when there is no game yet) and a message."""
        on = bool(on)
        if on and self.recorder is None:
            raise SpaceError("recording is not enabled on this Space")
        if session is None:
            return None, ("Recording is on: your games will be saved from the next New game." if on
                          else "Recording is off.")
        return self._set_record(session, on)

    @_in_line
    def _set_record(self, s: PlaySession, on: bool) -> tuple[PlaySession, str]:
        if not on:
            new = s.replace(record=False, recording=False, recorded=[], message="Recording is off: this game will not be saved.")
            return new, new.message
        if s.moves == 0:
            new = s.replace(record=True, recording=True, recorded=[], message="Recording is on: this game will be saved when it ends.")
        else:
            new = s.replace(record=True, message="Recording is on from your next game (New game or Same seed again).")
        return new, new.message

    def _require_not_over(self, s: PlaySession) -> None:
        if s.over:
            raise SpaceError("the game is over: press New game or Same seed again (or Undo)")

    def _step(self, s: PlaySession, env: G1Env, action: Any, what: str) -> tuple[PlaySession, PlayView]:
        before = s.snapshot
        now = time.monotonic()
        _, reward, terminated, _, info = env.step(action)
        entry = {"snapshot": before, "moves": s.moves, "total_reward": s.total_reward, "last_reward": s.last_reward}
        history = (s.history + [entry])[-MAX_UNDO:]
        recorded = list(s.recorded)
        if s.recording:
            recorded.append({
                "snapshot": before, "action": list(action) if isinstance(action, tuple) else [int(action)],
                "answer": env.answer_for(action), "reward": reward, "score_delta": info["score_delta"],
                "valid": info["valid"], "success": info["success"], "terminated": terminated,
                "parse_error": info["parse_error"], "latency_s": round(max(0.0, now - s.clock), 3),
            })
        new = s.replace(snapshot=env.get_state(), history=history, moves=s.moves + 1,
                        total_reward=s.total_reward + reward, last_reward=reward, over=bool(terminated),
                        recorded=recorded, clock=now)
        if info["success"]:
            gain = f" (+{info['score_delta']} points)" if s.game in ("2048", "swap") else ""
            message = f"{what}: " + ("tiles merged" if s.game == "2048" else "pair removed" if s.game != "swap"
                                     else "made a line") + f"{gain}. Reward +1."
        elif info["valid"]:
            message = f"{what}: moved, but nothing merged. Reward -1."
        else:
            reason = info["reason"] or info["parse_error"] or "not a valid move"
            message = f"{what}: refused ({reason}). Reward -1."
        if terminated:
            message += f" Game over: score {env.game.score} after {new.moves} moves."
            saved = self._save_recording(new)
            if saved:
                new.history[-1]["saved"] = True
                new.recorded, new.games_recorded, new.recording = [], new.games_recorded + 1, False
                message += " " + saved
        new.message = message
        return new.keep_env(env), self.view(new, env)

    def _save_recording(self, s: PlaySession) -> str:
        """Save a session's recorded steps (if any); returns a line for the visitor."""
        if self.recorder is None or not s.recording or not s.recorded:
            return ""
        try:
            self.recorder.save(s.game, s.preset, s.seed, s.recorded, s.tag, s.games_recorded + 1, s.undos > 0)
        except OSError as e:  # a full disk must not end the visitor's game
            return f"(Your game could not be recorded: {type(e).__name__}.)"
        return "Your game was recorded, thank you."

    # -- what to show --------------------------------------------------------------------------------
    @_in_line
    def model_view(self, s: PlaySession) -> tuple[str, str, str | None, str]:
        """What a model gets for the session's current state: (perception ground truth, prompt, the model's
        frame as a PNG path, a line saying its size and image tokens)."""
        env = s.take_env()
        s.keep_env(env)
        return (env.game.perception_text(), env.prompt, *self._model_frame(s, env))

    @_in_line
    def model_frame(self, s: PlaySession) -> tuple[str | None, str]:
        """(PNG path, caption) of the frame a model is given for the session's current state:
        ``env.model_observation()``, the preset's ``model_frame`` (G1's 640 x 840 or 640 x 640 on the paper
        presets), not the native frame people see."""
        env = s.take_env()
        s.keep_env(env)
        return self._model_frame(s, env)

    _MODEL_FRAMES_KEPT = 512

    def _model_frame(self, s: PlaySession, env: G1Env) -> tuple[str | None, str]:
        from ..core.hashing import canonical_json
        from ..models.preflight import VisionGrid, image_tokens

        key = f"{s.game}/{s.preset}/" + canonical_json(s.snapshot)
        with self._model_frames_lock:
            kept = self._model_frames.get(key)
            if kept is not None and kept[0] is not None and Path(kept[0]).is_file():  # (the store prunes old files)
                self._model_frames.move_to_end(key)
                return kept
        w, h = env.model_frame_size
        native = env.canvas.size
        how = "its native size" if (w, h) == tuple(native) else \
            f"resized from {native[0]} x {native[1]} ({env.config.model_resample})"
        out = (self.frames.png_path(env.model_observation()),
               f"The frame a model gets: {w} x {h} px, {how}; {image_tokens(w, h, VisionGrid())} image tokens "
               "for Qwen2.5-VL (14 px patches, 2 x 2 merge).")
        with self._model_frames_lock:
            self._model_frames[key] = out
            while len(self._model_frames) > self._MODEL_FRAMES_KEPT:
                self._model_frames.popitem(last=False)
        return out

    def view(self, s: PlaySession, env: G1Env | None = None) -> PlayView:
        env = env if env is not None else s.env()
        frame = env.render()
        if s.selected is not None:
            frame = highlight(frame, env.canvas.cell_box(*s.selected))
        game = env.game
        reward = "–" if s.last_reward is None else f"{s.last_reward:+.0f}"
        parts = [f"**Score** {game.score}", f"**Last reward** {reward}", f"**Moves** {s.moves}",
                 f"**Total reward** {s.total_reward:+.0f}", f"**Valid moves now** {len(game.legal_actions())}"]
        status = " · ".join(parts)
        if s.over:
            status = "### Game over\n" + status
        if s.recording:
            status += " · ⏺ recording"
        if s.note:
            status += f"\n\n{s.note}"
        from .about import rule_line

        return PlayView(frame=self.frames.png_path(frame), status=status, message=s.message,
                        perception=game.perception_text(), prompt=env.prompt, is_2048=s.game == "2048",
                        rule=rule_line(s.game))


__all__ = ["PlayBackend", "PlayView", "DIRECTIONS", "parse_direction"]

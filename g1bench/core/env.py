"""The one env API: a Gymnasium env around any :class:`~g1bench.core.game.Game`."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import gymnasium as gym
import numpy as np

from ..render.canvas import RENDERER_VERSION, Canvas
from ..render.model_frame import model_frame_size, to_model_frame
from .answer import ParseError, format_ok, perception_exact
from .config import GameConfig
from .feedback import FEEDBACK_HASH, FEEDBACK_VERSION
from .game import Game, Outcome
from .hashing import canonical_json, content_hash

STATE_FORMAT = "g1bench-state/1"


class StateError(ValueError):
    """A snapshot cannot be restored into this env (wrong format, game, version or config)."""


@dataclass(frozen=True)
class Judgement:
    """What one action or answer did, with the reward terms the paper defines.

    ``format_ok`` and ``perception_ok`` are None when the action was structured (not model text).
    """

    action: Any
    parse_error: str | None
    outcome: Outcome
    format_ok: bool | None
    perception_ok: bool | None

    @property
    def reward(self) -> float:
        """The game reward GR (+1 success / -1 otherwise)."""
        return self.outcome.reward

    def total_reward(self, alpha: float = 1.0, beta: float = 0.0) -> float:
        """The paper's training reward GR + alpha*FR + beta*PR (main setting alpha=1, beta=0)."""
        return self.reward + alpha * float(bool(self.format_ok)) + beta * float(bool(self.perception_ok))

    def to_dict(self) -> dict[str, Any]:
        o = self.outcome
        return {
            "action": list(self.action) if isinstance(self.action, tuple) else self.action,
            "parse_error": self.parse_error, "format_ok": self.format_ok, "perception_ok": self.perception_ok,
            "reward": self.reward, "valid": o.valid, "success": o.success, "score_delta": o.score_delta,
            "terminated": o.terminated, "reason": o.reason,
        }


class G1Env(gym.Env):
    """A g1bench game as a Gymnasium env.

    ## Description
    One board of one game (see ``g1bench games``), rendered as an RGB frame for a vision-language model.

    ## Action Space
    The game's structured space (2048: ``Discrete(4)``; tile games: ``MultiDiscrete([R, C, R, C])`` for
    ``(r1, c1, r2, c2)``), **or** the model's raw answer text (``str``), which the game parses. A parse
    failure is a defined outcome: reward -1, state unchanged, ``info["parse_error"]`` says why.

    ## Observation Space
    ``Box(0, 255, (H, W, 3), uint8)``: the frame as drawn, H and W multiples of ``config.patch``. What a model
    is given is :meth:`model_observation`: the same frame, resized to ``config.model_frame`` when that is a size
    (the ``paper`` presets: G1's 640x840 for 2048, 640x640 for the tile games).

    ## Starting State
    ``reset(seed=s)`` deals a board from the env's own generator, so the same seed gives the same board
    and a pixel-identical frame in any process. ``reset(options={"state": snapshot})`` starts from a
    snapshot instead (see :meth:`get_state`).

    ## Reward
    The paper's game reward: +1 if the action succeeded (2048: tiles merged; Shisen-Sho: a pair was
    removed; Swap: the swap made a line), else -1. ``info["score_delta"]`` has the raw score gain.

    ## Episode End
    ``terminated`` when the game is over (no valid move left / board cleared); ``truncated`` after
    ``max_steps`` steps if given. There is never a hidden reset inside ``step``.

    ## Information
    ``perception`` (ground-truth text), ``state`` (structured board), ``score``, ``moves``, ``n_legal``,
    ``state_hash``; after a step also ``action``, ``parse_error``, ``valid``, ``success``, ``score_delta``,
    ``reason``, and, for text answers, ``format_ok`` and ``perception_ok``.

    ## Arguments
    ``gymnasium.make("g1bench/ShisenSho-v1", difficulty="composition", labels=True, max_steps=100)``

    ## Version History
    * v1, since g1bench 0.3: the ``history`` knob (0 by default: G1's single step) gives a model its last k turns
      of the current game, each with the env's feedback line (:mod:`g1bench.core.feedback`).
    * v1, since g1bench 0.3: the ``paper`` preset also gives a model G1's frame sizes (knobs ``model_frame`` and
      ``model_resample``, see :meth:`model_observation`). Rules, prompts and observations are unchanged, and
      configs and snapshots without the new knobs mean exactly what they meant, so the id stays v1.
    * v1: the ``paper`` preset (the bare id) shows G1's original prompt and reads answers with G1's grammar
      (knobs ``prompt_version`` and ``answer_grammar``); the other presets are unchanged.
    * v0: first release.
    """

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 4}

    def __init__(
        self,
        game: str | type[Game] = "2048",
        difficulty: str | Mapping[str, Any] | GameConfig | None = None,
        render_mode: str | None = "rgb_array",
        max_steps: int | None = None,
        **overrides: Any,
    ):
        if isinstance(game, str):
            from ..games import get_game

            cls = get_game(game)
        else:
            cls = game
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 1):
            raise ValueError(f"max_steps must be a positive integer or None, got {max_steps!r}")
        self.config = cls.Config.from_preset(difficulty, **overrides)
        self.game: Game = cls(self.config)
        # a game may resolve its config (the image game records the tile source it really loaded)
        self.config = self.game.config
        self.canvas = Canvas(self.game)
        self.render_mode = render_mode
        self.max_steps = max_steps
        w, h = self.canvas.size
        self.observation_space = gym.spaces.Box(0, 255, (h, w, 3), dtype=np.uint8)
        self.action_space = self.game.action_space()
        self.spec_id = f"g1bench/{cls.env_name}-v{cls.version}"
        self._steps = 0
        self._dealt = False
        self._over = False

    # -- gymnasium API -------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._reset(seed, options)
        return self._observe(), self._info()

    def _reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """:meth:`reset` without drawing the frame or building the info (for callers that need neither yet)."""
        super().reset(seed=seed)
        options = options or {}
        unknown = set(options) - {"state"}
        if unknown:
            raise ValueError(f"unknown reset option(s) {sorted(unknown)}; supported: ['state']")
        if "state" in options:
            self.set_state(options["state"])
        else:
            self.game.deal(self.np_random)
            self._dealt = True
            self._begin_episode()

    def _begin_episode(self) -> None:
        """Count a new episode from the current position: step 0, the end flag read off the board."""
        self._steps = 0
        self._over = self.game.is_over()

    def step(self, action: Any):
        frame, reward, terminated, truncated, info = self._step(action, render=True)
        return frame, reward, terminated, truncated, info

    def render(self):
        if self.render_mode == "ansi":
            return self.game.perception_text()
        if self.render_mode == "rgb_array":
            self._require_dealt()
            return self._observe()
        return None

    # -- judging answers -----------------------------------------------------------------------------
    def judge(self, action: Any) -> Judgement:
        """Apply one action or answer text to the current state and say what it did."""
        self._require_dealt()
        if self._over:
            raise RuntimeError("the episode is over; call reset() before stepping again")
        text = action if isinstance(action, str) else None
        truth = self.game.perception_text() if text is not None else None
        parsed = self.game.parse_answer(text) if text is not None else self.game.coerce_action(action)
        if isinstance(parsed, ParseError):
            reason = parsed.reason if len(parsed.reason) <= 300 else parsed.reason[:297] + "..."  # huge inputs
            outcome = Outcome(valid=False, success=False, score_delta=0, terminated=False, reason=f"parse error: {reason}")
            parse_error, parsed = reason, None
        else:
            outcome = self.game.apply(parsed, self.np_random)
            parse_error = None
        return Judgement(
            action=parsed,
            parse_error=parse_error,
            outcome=outcome,
            format_ok=format_ok(text) if text is not None else None,
            perception_ok=perception_exact(text, truth) if text is not None else None,
        )

    def evaluate_group(self, answers: Sequence[Any]) -> list[Judgement]:
        """Apply each answer to the *same* current state (a GRPO group) and restore it afterwards.

        Every answer sees the identical board, score and RNG state, so n answers get n independent
        rewards; the env is left exactly as it was.
        """
        snap = self._snapshot()
        results = []
        try:
            for answer in answers:
                self._restore(snap)
                results.append(self.judge(answer))
        finally:
            self._restore(snap)
        return results

    def _apply(self, action: Any) -> Judgement:
        """Judge and apply one action, counting it as a step of the episode (no frame, no info dict: for
        callers that replay thousands of steps and need only the judgement)."""
        j = self.judge(action)
        self._steps += 1
        self._over = j.outcome.terminated
        return j

    def _step(self, action: Any, render: bool):
        j = self._apply(action)
        truncated = self.max_steps is not None and self._steps >= self.max_steps and not self._over
        info = self._info()
        info.update(j.to_dict())
        frame = self._observe() if render else None
        return frame, j.reward, j.outcome.terminated, truncated, info

    # -- what the model sees ------------------------------------------------------------------------
    @property
    def prompt(self) -> str:
        """The game's versioned instruction (depends on the config only)."""
        return self.game.prompt()

    def legal_actions(self) -> list[Any]:
        """Every valid structured action now (tile games: each unordered pair once)."""
        self._require_dealt()
        return self.game.legal_actions()

    def answer_for(self, action: Any) -> str:
        """The answer text that plays ``action`` (e.g. ``<answer>(0, 1) (2, 3)</answer>``)."""
        return self.game.format_action(action)

    def model_observation(self, frame: np.ndarray | None = None) -> np.ndarray:
        """The picture a model is given for the current state (or for ``frame``, a frame this env drew): the
        frame resized to ``config.model_frame`` with ``config.model_resample`` (see
        :mod:`g1bench.render.model_frame`), or the frame itself when ``model_frame`` is ``native``."""
        if frame is None:
            self._require_dealt()
            frame = self._observe()
        return to_model_frame(frame, self.config)

    @property
    def model_frame_size(self) -> tuple[int, int]:
        """(width, height) of :meth:`model_observation`'s pictures."""
        return model_frame_size(self.config, self.canvas.size)

    def _observe(self) -> np.ndarray:
        return self.canvas.render(self.game)

    def _key_info(self) -> dict[str, Any]:
        """What a step record needs of the state before the step: the perception truth and the state hash."""
        return {"perception": self.game.perception_text(), "state_hash": self.state_hash()}

    def _info(self) -> dict[str, Any]:
        return {
            "perception": self.game.perception_text(),
            "state": self.game.structured_state(),
            "score": self.game.score,
            "moves": self.game.moves,
            "steps": self._steps,
            "n_legal": len(self.game.legal_actions()),
            "state_hash": self.state_hash(),
        }

    # -- snapshots -----------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """Everything that defines this env now (board, counters, RNG state), as JSON-ready data.

        ``set_state`` on any env of the same game and config (in any process) restores it exactly:
        the same frame, the same legal moves and the same future random draws.
        """
        self._require_dealt()
        cls = type(self.game)
        return {
            "format": STATE_FORMAT,
            "game": cls.name,
            "game_version": cls.version,
            "config": self.config.to_dict(),
            "board": self.game.get_state(),
            "rng": self.np_random.bit_generator.state,
            "steps": self._steps,
        }

    def set_state(self, state: Mapping[str, Any] | str | bytes) -> None:
        """Restore a snapshot from :meth:`get_state` (a dict, or its JSON as str/bytes)."""
        if isinstance(state, (str, bytes)):
            try:
                state = json.loads(state)
            except ValueError as e:
                raise StateError(f"snapshot is not valid JSON: {e}") from None
        if not isinstance(state, Mapping) or state.get("format") != STATE_FORMAT:
            raise StateError(f"not a g1bench snapshot (expected format {STATE_FORMAT!r})")
        cls = type(self.game)
        if state.get("game") != cls.name or state.get("game_version") != cls.version:
            raise StateError(
                f"snapshot is for {state.get('game')!r} v{state.get('game_version')}, this env runs {cls.name!r} v{cls.version}"
            )
        if state.get("config") != self.config.to_dict():
            raise StateError(
                "snapshot was taken with another config; build the env with g1bench.make_from_state(snapshot)"
            )
        before = self.game.get_state() if self._dealt else None
        try:  # validate everything before changing anything; on any error the env is left as it was
            rng = np.random.Generator(np.random.PCG64())
            rng.bit_generator.state = copy.deepcopy(state["rng"])
            steps = int(state.get("steps", 0))
            self.game.set_state(copy.deepcopy(state["board"]))
        except (KeyError, TypeError, ValueError) as e:
            if before is not None:
                self.game.set_state(before)
            raise StateError(f"malformed snapshot: {type(e).__name__}: {e}") from None
        self._np_random, self._steps = rng, steps
        self._dealt = True
        self._over = self.game.is_over()
        self.canvas.invalidate()

    def state_hash(self) -> str:
        """A stable hash of the game, config, board, counters and RNG state (not of the step count)."""
        cls = type(self.game)
        return content_hash([cls.name, cls.version, self.config.to_dict(), self.game.get_state(),
                             self.np_random.bit_generator.state])

    def encode_state(self) -> bytes:
        """The snapshot as canonical JSON bytes."""
        return canonical_json(self.get_state()).encode()

    def _snapshot(self):
        return (self.game.get_state(), self.np_random.bit_generator.state, self._steps, self._over)

    def _restore(self, snap) -> None:
        board, rng, steps, over = snap
        self.game.set_state(copy.deepcopy(board))
        self.np_random.bit_generator.state = rng
        self._steps, self._over = steps, over

    def _require_dealt(self) -> None:
        if not self._dealt:
            raise gym.error.ResetNeeded("call reset() before using the env")

    # -- provenance ----------------------------------------------------------------------------------
    def versions(self) -> dict[str, Any]:
        """What defines this env's behaviour: hash it into results so numbers stay comparable."""
        cls = type(self.game)
        prompt = self.game.prompt_text
        return {
            "game": cls.name,
            "game_version": cls.version,
            "prompt_version": prompt.version,
            "prompt_template_hash": prompt.hash,
            "answer_grammar": self.config.answer_grammar,
            "renderer_version": RENDERER_VERSION,
            "config": self.config.to_dict(),
            "prompt_hash": content_hash(self.game.prompt()),
            "frame_size": [self.canvas.width, self.canvas.height],
            # a model with memory is also told the feedback line after each answer: its wording is protocol too
            # (left out at history 0, so every suite hash made before the knob stays valid)
            **({"history": self.config.history, "feedback_version": FEEDBACK_VERSION, "feedback_hash": FEEDBACK_HASH}
               if self.config.history else {}),
        }

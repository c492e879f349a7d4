"""One step of an evaluation episode: what an answer does to the env and what the step log records.

The runner, ``--resume`` and ``g1bench verify`` all go through :func:`play_answer`, so a step replayed
from the log is judged exactly as it was when the policy answered. Every field in
:data:`DETERMINISTIC_FIELDS` is a pure function of the state before the step and the answer text (the
context fields ``history`` and ``context_hash``, of the episode's earlier steps: :mod:`g1bench.eval.history`);
a replay that disagrees with the log on any of them means the log was edited or made by other rules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.answer import ParseError, format_ok, perception_block, perception_exact
from ..core.env import G1Env
from ..core.hashing import content_hash
from .history import seed_id

#: recorded fields a replay must reproduce exactly
DETERMINISTIC_FIELDS = (
    "step", "game_index", "state_hash", "frame", "prompt_hash", "parse_error", "action", "fallback_action",
    "reward", "score_delta", "valid", "success", "reason", "terminated", "perception", "has_perception",
    "perception_ok", "format_ok", "history", "context_hash",
)
#: recorded fields that come from the policy (what it answered and what that cost)
POLICY_FIELDS = ("answer", "input_tokens", "output_tokens", "latency_s", "extra")


def fallback_move(episode_id: str, step: int, n_actions: int) -> int:
    """The random move the paper's 2048 test-time rule plays for an unparseable answer (recorded, seeded
    by episode and step so a replay draws the same one; the same at every history of the episode's seed)."""
    rng = np.random.default_rng([int(content_hash(seed_id(episode_id), 8), 16), step, 0xFA11])
    return int(rng.integers(n_actions))


def play_answer(env: G1Env, *, episode_id: str, step: int, game_index: int, invalid_rule: str | None,
                before: dict[str, Any], frame_id: str | None, answer: Any,
                context: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply one answer to ``env`` (at the state described by ``before`` = ``env._key_info()``) and return
    the step record. ``answer`` is an :class:`~g1bench.eval.policies.Answer` or a recorded step; ``context`` is
    what the record says about the past turns the answer was given (:meth:`g1bench.eval.history.History.fields`:
    ``history`` and ``context_hash``; nothing at history 0)."""
    get = answer.get if isinstance(answer, dict) else lambda k, d=None: getattr(answer, k if k != "answer" else "text", d)
    text = get("answer")
    truth = before["perception"]
    record: dict[str, Any] = {
        "episode_id": episode_id, "step": step, "game_index": game_index, "state_hash": before["state_hash"],
        "frame": frame_id, "prompt_hash": content_hash(env.prompt), **(context or {}), "answer": text,
    }
    parsed = env.game.parse_answer(text) if isinstance(text, str) else env.game.coerce_action(text)
    failed = isinstance(parsed, ParseError)
    fallback = None
    if failed and invalid_rule == "random-move":
        # the paper's test-time rule for 2048: an unparseable answer plays a random move
        fallback = fallback_move(episode_id, step, env.action_space.n)
    judged = env._apply(fallback if fallback is not None else text).to_dict()
    record.update(
        parse_error=parsed.reason if failed else None,
        action=judged["action"], fallback_action=fallback, reward=judged["reward"], score_delta=judged["score_delta"],
        valid=judged["valid"], success=judged["success"], reason=judged["reason"], terminated=judged["terminated"],
        perception=truth, has_perception=perception_block(text) is not None,
        perception_ok=perception_exact(text, truth), format_ok=format_ok(text),
        input_tokens=get("input_tokens"), output_tokens=get("output_tokens"), latency_s=get("latency_s"),
    )
    extra = get("extra")
    if extra:  # backend details: finish reason, retries, cost (model backends only)
        record["extra"] = extra
    return record


def _is_int(x: Any, low: int | None = None) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and (low is None or x >= low)


def _is_number(x: Any, low: float | None = None) -> bool:
    """A finite JSON number of a size the metrics' float arithmetic takes (an int of 400 digits is not)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    if not (math.isfinite(x) if isinstance(x, float) else -2 ** 63 <= x < 2 ** 63):
        return False
    return low is None or x >= low


#: (field, type check, what it must be, required) of the step fields the results are computed from
_RECORD_CHECKS = (
    ("game_index", lambda x: _is_int(x, 0), "an integer >= 0", False),
    ("score_delta", _is_number, "a number", True),
    ("reward", _is_number, "a number", False),
    ("valid", lambda x: isinstance(x, bool), "true or false", True),
    ("success", lambda x: isinstance(x, bool), "true or false", True),
    ("parse_error", lambda x: x is None or isinstance(x, str), "text or null", False),
    ("has_perception", lambda x: x is None or isinstance(x, bool), "true, false or null", False),
    ("perception_ok", lambda x: x is None or isinstance(x, bool), "true, false or null", False),
    ("format_ok", lambda x: x is None or isinstance(x, bool), "true, false or null", False),
    ("input_tokens", lambda x: x is None or _is_int(x, 0), "a non-negative integer or null", False),
    ("output_tokens", lambda x: x is None or _is_int(x, 0), "a non-negative integer or null", False),
    ("latency_s", lambda x: x is None or _is_number(x, 0), "a non-negative number or null", False),
    ("history", lambda x: _is_int(x, 0), "an integer >= 0", False),
    ("context_hash", lambda x: isinstance(x, str) and len(x) <= 64, "a hash (text)", False),
    ("extra", lambda x: isinstance(x, dict) and (x.get("cost_usd") is None or _is_number(x["cost_usd"], 0)),
     "an object (with a non-negative cost_usd or none)", False),
)


def record_problem(rec: dict[str, Any]) -> str | None:
    """What is wrong with the types of a recorded step's fields that the results are computed from, if anything
    (a step log can be edited by hand: such a record must be refused with a reason, not crash the reader)."""
    for key, ok, want, required in _RECORD_CHECKS:
        if key not in rec:
            if required:
                return f"a step record needs '{key}'"
        elif not ok(rec[key]):
            shown = repr(rec[key])
            return f"{key} must be {want}, got {shown if len(shown) <= 60 else shown[:57] + '...'}"
    return None


def diff_step(recorded: dict[str, Any], replayed: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The deterministic fields on which a recorded step and its replay disagree: (field, recorded, replay)."""
    out = []
    for k in DETERMINISTIC_FIELDS:
        a, b = recorded.get(k), replayed.get(k)
        if k == "frame" and a is not None and b is None:
            continue  # a replay without rendering cannot name the frame
        if a != b or type(a) is bool and type(b) is not bool:
            out.append((k, a, b))
    return out


__all__ = ["DETERMINISTIC_FIELDS", "POLICY_FIELDS", "play_answer", "diff_step", "fallback_move", "record_problem"]

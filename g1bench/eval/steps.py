"""One step of an evaluation episode: what an answer does to the env and what the step log records.

The runner, ``--resume`` and ``g1bench verify`` all go through :func:`play_answer`, so a step replayed
from the log is judged exactly as it was when the policy answered. Every field in
:data:`DETERMINISTIC_FIELDS` is a pure function of the state before the step and the answer text (the
context fields ``history`` and ``context_hash``, of the episode's earlier steps: :mod:`g1bench.eval.history`);
a replay that disagrees with the log on any of them means the log was edited or made by other rules.

A step record is bounded, so the step log's writer and its reader agree on every line: an answer whose
JSON text is longer than :data:`MAX_ANSWER_BYTES` is stored cut to that size with its real length in
``answer_chars`` and judged a parse error (a replay judges the stored record the same way), and the
backend's ``extra`` details are kept to :data:`MAX_EXTRA_BYTES`. :data:`RECORD_CHECKS` is the one table of
what each field may hold (types, 64-bit and plausible bounds): the reader of a step log, an entry's
step table and ``g1bench verify`` all refuse a record through :func:`record_problem`; a new field is one
row there.
"""

from __future__ import annotations

import json
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
POLICY_FIELDS = ("answer", "input_tokens", "output_tokens", "latency_s", "extra", "answer_chars")
#: the longest answer a step record holds, as JSON text (a few MB of NULs escape to six times their size);
#: a longer answer is stored cut to this size and judged a parse error
MAX_ANSWER_BYTES = 256 * 1024
#: the most JSON text of backend details (``extra``) a step record keeps
MAX_EXTRA_BYTES = 64 * 1024
#: plausible bounds of one step's cost (a 64-bit count alone would still overflow the sums of a suite)
MAX_STEP_TOKENS = 10_000_000
MAX_STEP_LATENCY_S = 86_400.0
MAX_STEP_COST_USD = 1_000.0
#: the most items of a structured answer (an action given as a list, not text)
MAX_ANSWER_ITEMS = 64


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
    cut = get("answer_chars")  # recorded when the policy's answer did not fit in its record
    if cut is None and isinstance(text, str):
        text, cut = fit_answer(text)
    truth = before["perception"]
    record: dict[str, Any] = {
        "episode_id": episode_id, "step": step, "game_index": game_index, "state_hash": before["state_hash"],
        "frame": frame_id, "prompt_hash": content_hash(env.prompt), **(context or {}), "answer": text,
    }
    if cut is not None:
        parsed = ParseError(too_long(cut))
    else:
        parsed = env.game.parse_answer(text) if isinstance(text, str) else env.game.coerce_action(text)
    failed = isinstance(parsed, ParseError)
    fallback = None
    if failed and invalid_rule == "random-move":
        # the paper's test-time rule for 2048: an unparseable answer plays a random move
        fallback = fallback_move(episode_id, step, env.action_space.n)
    # a cut answer is never parsed: the env judges an empty answer (unparseable under every grammar) instead
    judged = env._apply(fallback if fallback is not None else ("" if cut is not None else text)).to_dict()
    record.update(
        parse_error=parsed.reason if failed else None,
        action=judged["action"], fallback_action=fallback, reward=judged["reward"], score_delta=judged["score_delta"],
        valid=judged["valid"], success=judged["success"],
        reason=f"parse error: {parsed.reason}" if cut is not None and fallback is None else judged["reason"],
        terminated=judged["terminated"],
        perception=truth, has_perception=perception_block(text) is not None,
        perception_ok=perception_exact(text, truth), format_ok=format_ok(text),
        input_tokens=get("input_tokens"), output_tokens=get("output_tokens"), latency_s=get("latency_s"),
    )
    extra = get("extra")
    if extra:  # backend details: finish reason, retries, cost (model backends only)
        record["extra"] = fit_extra(extra)
    if cut is not None:  # last, so the record's fields keep their order through the entry codec
        record["answer_chars"] = cut
    return record


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), allow_nan=False))


def fit_answer(text: str) -> tuple[str, int | None]:
    """``(text, None)`` when an answer fits in a step record, else ``(the longest prefix whose JSON text fits in
    MAX_ANSWER_BYTES, the answer's length in characters)``."""
    if len(text) * 12 + 2 <= MAX_ANSWER_BYTES or _json_size(text) <= MAX_ANSWER_BYTES:  # 12: an escaped surrogate pair
        return text, None
    lo, hi = 0, min(len(text), MAX_ANSWER_BYTES)
    while lo < hi:  # the JSON size of a prefix grows with its length: bisect
        mid = (lo + hi + 1) // 2
        if _json_size(text[:mid]) <= MAX_ANSWER_BYTES:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo], len(text)


def too_long(chars: Any) -> str:
    """The parse error of an answer that did not fit in its step record."""
    return f"the answer ({chars:,} characters) is longer than a step record holds ({MAX_ANSWER_BYTES:,} bytes of JSON)"


def fit_extra(extra: Any) -> Any:
    """Backend details as recorded: kept whole when their JSON fits in MAX_EXTRA_BYTES, else only the cost."""
    try:
        if _json_size(extra) <= MAX_EXTRA_BYTES:
            return extra
    except (TypeError, ValueError):
        pass
    kept: dict[str, Any] = {"dropped": f"backend details larger than {MAX_EXTRA_BYTES:,} bytes of JSON"}
    cost = extra.get("cost_usd") if isinstance(extra, dict) else None
    if _is_number(cost, 0):
        kept["cost_usd"] = cost
    return kept


def _is_int(x: Any, low: int | None = None) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and (low is None or x >= low)


def _is_number(x: Any, low: float | None = None, high: float | None = None) -> bool:
    """A finite JSON number of a size the metrics' float arithmetic takes (an int of 400 digits is not)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    if not (math.isfinite(x) if isinstance(x, float) else -2 ** 63 <= x < 2 ** 63):
        return False
    return (low is None or x >= low) and (high is None or x <= high)


def _answer_ok(x: Any) -> bool:
    if x is None or _is_int(x):
        return not isinstance(x, int) or -2 ** 63 <= x < 2 ** 63
    if isinstance(x, str):
        return len(x) * 12 + 2 <= MAX_ANSWER_BYTES or _json_size(x) <= MAX_ANSWER_BYTES
    return isinstance(x, list) and len(x) <= MAX_ANSWER_ITEMS and all(_is_int(v) and abs(v) < 2 ** 31 for v in x)


def _extra_ok(x: Any) -> bool:
    if not isinstance(x, dict) or not (x.get("cost_usd") is None or _is_number(x["cost_usd"], 0, MAX_STEP_COST_USD)):
        return False
    try:
        return _json_size(x) <= MAX_EXTRA_BYTES
    except (TypeError, ValueError):
        return False


def _tokens_ok(x: Any) -> bool:
    return x is None or (_is_int(x, 0) and x <= MAX_STEP_TOKENS)


#: (field, check, what it must be, required): the one table of what a step record's fields may hold. Fields it
#: does not name are kept as they are (the entry codec stores them too); a new field is one row here.
RECORD_CHECKS = (
    ("game_index", lambda x: _is_int(x, 0) and x < 2 ** 31, "an integer >= 0", False),
    ("score_delta", _is_number, "a number", True),
    ("reward", _is_number, "a number", False),
    ("valid", lambda x: isinstance(x, bool), "true or false", True),
    ("success", lambda x: isinstance(x, bool), "true or false", True),
    ("parse_error", lambda x: x is None or isinstance(x, str), "text or null", False),
    ("has_perception", lambda x: x is None or isinstance(x, bool), "true, false or null", False),
    ("perception_ok", lambda x: x is None or isinstance(x, bool), "true, false or null", False),
    ("format_ok", lambda x: x is None or isinstance(x, bool), "true, false or null", False),
    ("answer", _answer_ok, f"text of at most {MAX_ANSWER_BYTES:,} bytes of JSON (longer answers are stored cut), "
     f"an integer, a list of at most {MAX_ANSWER_ITEMS} integers, or null", False),
    ("answer_chars", lambda x: _is_int(x) and MAX_ANSWER_BYTES // 12 <= x < 2 ** 63,
     "the length of a cut answer (an integer)", False),
    ("input_tokens", _tokens_ok, f"a non-negative integer or null (at most {MAX_STEP_TOKENS:,} per step)", False),
    ("output_tokens", _tokens_ok, f"a non-negative integer or null (at most {MAX_STEP_TOKENS:,} per step)", False),
    ("latency_s", lambda x: x is None or _is_number(x, 0, MAX_STEP_LATENCY_S),
     f"a non-negative number or null (at most {MAX_STEP_LATENCY_S:,.0f} seconds per step)", False),
    ("extra", _extra_ok, f"an object (with a non-negative cost_usd or none; at most {MAX_EXTRA_BYTES:,} bytes of JSON "
     f"and ${MAX_STEP_COST_USD:,.0f} per step)", False),
)


def record_problem(rec: dict[str, Any]) -> str | None:
    """What is wrong with a recorded step's fields (:data:`RECORD_CHECKS`), if anything: a step log can be
    edited by hand, so such a record must be refused with a reason, not crash the reader."""
    for key, ok, want, required in RECORD_CHECKS:
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


__all__ = ["DETERMINISTIC_FIELDS", "POLICY_FIELDS", "RECORD_CHECKS", "MAX_ANSWER_BYTES", "MAX_EXTRA_BYTES",
           "MAX_STEP_TOKENS", "MAX_STEP_LATENCY_S", "MAX_STEP_COST_USD", "play_answer", "diff_step", "fallback_move",
           "record_problem", "fit_answer", "fit_extra", "too_long"]

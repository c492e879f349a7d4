"""The env's feedback line: what a model with memory (the ``history`` knob) is told after each of its answers.

One line per answered turn, read off the step's judgement (a step record of the eval harness, or the ``info``
of :meth:`G1Env.step`): the game reward, then what the answer did::

    Feedback: reward +1. The move scored 8.
    Feedback: reward -1. The move was played but scored nothing.
    Feedback: reward -1. Invalid move: tiles differ: Red circle vs Blue square.
    Feedback: reward -1. Your answer could not be read: no <answer>…</answer> block.
    Feedback: reward +1. Your answer could not be read (no <answer>…</answer> block), so a random move was
    played instead. The move scored 4.

(the last one, on one line: 2048's test-time rule, which plays a random move for an unreadable answer). The wording is part
of the protocol, frozen like the prompts: :data:`FEEDBACK_VERSION` names it and :data:`FEEDBACK_HASH` (pinned
by the tests) hashes its templates, and a suite's hash covers both wherever its history is above 0. New wording
is a new version.
"""

from __future__ import annotations

from typing import Any, Mapping

from .hashing import content_hash

FEEDBACK_VERSION = "g1bench-feedback-v1"
#: the frozen templates of :data:`FEEDBACK_VERSION`
FEEDBACK_TEMPLATES = {
    "line": "Feedback: reward {reward}. {detail}",
    "unreadable": "Your answer could not be read: {reason}.",
    "random_move": "Your answer could not be read ({reason}), so a random move was played instead. {detail}",
    "invalid": "Invalid move: {reason}.",
    "scored": "The move scored {score}.",
    "unscored": "The move was played but scored nothing.",
}
FEEDBACK_HASH = content_hash(FEEDBACK_TEMPLATES)
#: a reason (a parse error or why a move is invalid) is cut to this many characters in a feedback line
MAX_REASON_CHARS = 200


def _reason(text: Any) -> str:
    """A reason on one line, at most :data:`MAX_REASON_CHARS` characters (parse errors quote model text)."""
    flat = " ".join(str(text if text is not None else "unknown").split()).rstrip(".")
    return flat if len(flat) <= MAX_REASON_CHARS else flat[: MAX_REASON_CHARS - 3] + "..."


def _number(x: Any) -> str:
    return f"{float(x):g}"


def feedback_line(result: Mapping[str, Any]) -> str:
    """The feedback line of one answered turn.

    Args:
        result: the step's judgement: a step record (:func:`g1bench.eval.steps.play_answer`) or the ``info`` of
            ``G1Env.step``: ``reward``, ``parse_error``, ``valid``, ``success``, ``score_delta``, ``reason`` and,
            where the 2048 random-move rule played, ``fallback_action``.
    """
    t = FEEDBACK_TEMPLATES
    if result.get("valid"):
        played = t["scored"].format(score=_number(result.get("score_delta") or 0)) if result.get("success") \
            else t["unscored"]
    else:
        played = t["invalid"].format(reason=_reason(result.get("reason")))
    if result.get("parse_error") is not None:
        if result.get("fallback_action") is not None:
            detail = t["random_move"].format(reason=_reason(result["parse_error"]), detail=played)
        else:
            detail = t["unreadable"].format(reason=_reason(result["parse_error"]))
    else:
        detail = played
    return t["line"].format(reward=f"{float(result.get('reward', -1.0)):+g}", detail=detail)


def longest_line() -> str:
    """A feedback line as long as the wording allows (a reason of :data:`MAX_REASON_CHARS` characters): what the
    pre-flight counts per past turn."""
    reason = ("the answer " * (MAX_REASON_CHARS // 11 + 1))[:MAX_REASON_CHARS]
    return feedback_line({"reward": -1.0, "parse_error": reason, "fallback_action": 0, "valid": False,
                          "reason": reason})


__all__ = ["FEEDBACK_VERSION", "FEEDBACK_TEMPLATES", "FEEDBACK_HASH", "MAX_REASON_CHARS", "feedback_line",
           "longest_line"]

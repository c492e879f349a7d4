"""The response protocol shared by every game: ``<perception>…</perception><think>…</think><answer>…</answer>``.

Everything here is linear-time on any input (no backtracking regex over the whole response) and never
raises on model output: a malformed answer becomes a :class:`ParseError` value with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TAGS = ("perception", "think", "answer")
#: An answer block longer than this is rejected (real answers are a few characters).
MAX_ANSWER_CHARS = 256
_COORD = re.compile(r"\(\s*(\d{1,4})\s*,\s*(\d{1,4})\s*\)")
_INT = re.compile(r"-?\d{1,6}")


@dataclass(frozen=True)
class ParseError:
    """Why an answer could not be turned into an action. Falsy, so ``if parsed:`` reads naturally."""

    reason: str

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        return self.reason


def extract_tag(text: str, tag: str, last: bool = True) -> str | None:
    """Content of the last (or first) complete ``<tag>…</tag>`` block, or None.

    The last block is used by default: a model that quotes the format inside ``<think>`` still has its
    real answer read.
    """
    if not isinstance(text, str):
        return None
    open_t, close_t = f"<{tag}>", f"</{tag}>"
    if last:
        end = text.rfind(close_t)
        if end < 0:
            return None
        start = text.rfind(open_t, 0, end)
        if start < 0:
            return None
    else:
        start = text.find(open_t)
        if start < 0:
            return None
        end = text.find(close_t, start + len(open_t))
        if end < 0:
            return None
    return text[start + len(open_t) : end]


def answer_block(text: object) -> str | ParseError:
    """The stripped content of the answer block, or a ParseError saying what is missing."""
    if not isinstance(text, str):
        return ParseError(f"answer must be text, got {type(text).__name__}")
    content = extract_tag(text, "answer")
    if content is None:
        return ParseError("no <answer>…</answer> block")
    content = content.strip()
    if not content:
        return ParseError("empty <answer> block")
    if len(content) > MAX_ANSWER_CHARS:
        return ParseError(f"<answer> block too long ({len(content)} chars > {MAX_ANSWER_CHARS})")
    return content


def parse_int_answer(text: object, n_actions: int) -> int | ParseError:
    """First integer of the answer block, which must lie in ``0..n_actions-1`` (2048's format)."""
    content = answer_block(text)
    if isinstance(content, ParseError):
        return content
    m = _INT.search(content)
    if m is None:
        return ParseError(f"no action number in <answer>{content}</answer>")
    value = int(m.group())
    if not 0 <= value < n_actions:
        return ParseError(f"action {value} is out of range 0-{n_actions - 1}")
    return value


def parse_pair_answer(text: object, rows: int, cols: int) -> tuple[int, int, int, int] | ParseError:
    """``(r1, c1) (r2, c2)`` from the answer block, each coordinate checked against the board size.

    Coordinates are kept as a tuple (never packed into one integer), so no board size can alias.
    """
    content = answer_block(text)
    if isinstance(content, ParseError):
        return content
    coords = _COORD.findall(content)
    if len(coords) < 2:
        return ParseError(f"expected two coordinates '(row1, col1) (row2, col2)', got <answer>{content}</answer>")
    if len(coords) > 2:
        return ParseError(f"expected exactly two coordinates, got {len(coords)}")
    (r1, c1), (r2, c2) = ((int(r), int(c)) for r, c in coords)
    for r, c in ((r1, c1), (r2, c2)):
        if not (0 <= r < rows and 0 <= c < cols):
            return ParseError(f"coordinate ({r}, {c}) is outside the {rows}x{cols} board")
    return (r1, c1, r2, c2)


def format_ok(text: object) -> bool:
    """The paper's format reward: all six tags appear somewhere in the response (order not checked)."""
    if not isinstance(text, str):
        return False
    return all(f"<{t}>" in text and f"</{t}>" in text for t in TAGS)


def perception_block(text: object) -> str | None:
    return extract_tag(text, "perception") if isinstance(text, str) else None


def perception_exact(text: object, truth: str) -> bool:
    """Exact match of the ``<perception>`` block with the ground truth, ignoring only outer whitespace
    (the P_acc of the paper's analysis)."""
    block = perception_block(text)
    return block is not None and block.strip("\n ") == truth.strip("\n ")


def perception_substring(text: object, truth: str) -> bool:
    """The released trainers' perception reward: the ground-truth string appears verbatim in the response."""
    return isinstance(text, str) and truth in text

"""The response protocol shared by every game, ``<perception>…</perception><think>…</think><answer>…</answer>``,
and the two *answer grammars* that read a move out of a response.

A game's config picks the grammar (the ``answer_grammar`` knob; the ``paper`` presets use ``g1``, every other
preset ``lenient``). Both are linear-time on any input (no backtracking regex over the whole response, no
``int()`` of a huge number) and never raise on model output: a malformed answer becomes a
:class:`ParseError` value with a reason.

``lenient``: g1bench's reader, tolerant of how models write.
    1. The answer is the **last** complete ``<answer>…</answer>`` block (a model that quotes the format
       inside ``<think>`` still has its real answer read), stripped of outer whitespace. An empty block or
       one longer than :data:`MAX_ANSWER_CHARS` characters is a parse failure.
    2. 2048: the first integer in the block (an optional ``-`` and *all* its digits, so ``0000001`` is 1),
       which must be 0-3.
    3. Tile games: every ``(r, c)`` in the block, with any spaces or newlines around the numbers; there
       must be exactly two, each on the board. Everything else in the block (words, commas, numbering,
       labels, a trailing period) is ignored. Leading zeros are allowed, there is no length cap on a
       number, and ``(-1, 0)`` is not a coordinate.

``g1``: G1's acceptance set (chenllliang/G1 at 716e666, ``vlmgym/sandbox/games/``), for the ``paper`` suite.
    1. Answer blocks are read in order, the **first** acceptable one wins. A block is the text between a
       ``</answer>`` and the nearest ``<answer>`` before it (an earlier ``<answer>`` that is never closed
       opens no block). There is no length cap.
    2. 2048 (G1: ``<answer>.*?(\\d+).*?</answer>``): the first block that contains a digit; the move is its
       first run of digits, which must be 0-3 (at test time G1 plays a random move for anything else; the
       paper suite does the same, see ``invalid_answer``).
    3. Tile games (G1: ``<answer>\\((\\d+),\\s*(\\d+)\\)\\s*\\((\\d+),\\s*(\\d+)\\)</answer>``): the first block
       whose *whole* content is ``(r, c) (r, c)`` in exactly that syntax: a digit right after ``(``, the comma
       right after the number, optional whitespace after the comma and between the pairs, ``)`` right after
       the number, nothing else (no padding inside the tags, no words, no trailing period).

    Where G1 is plainly wrong, ``g1`` departs from the original code:
      * it never reads a digit outside an answer block. G1's 2048 pattern runs across tags, so a quoted
        ``<answer></answer>`` or an unclosed ``<answer>`` before the real answer made it read a digit from
        the text in between;
      * a coordinate off the board is a parse failure. G1 packed the four numbers into one integer in
        base 6 (Shisen-Sho) or 8 (Swap), so ``(0, 7)`` on a 6x6 board became the cell ``(1, 1)``;
      * ``-1`` is a parse failure (out of range); G1 read it as 1;
      * a tile-game block that is not exactly two pairs is a parse failure. G1 fell back to its first
        integer ``a`` and played ``(a, a, a, a)``, a move that always fails, so only the parse-failure
        count differs, not the score.
    (The README's list also has the 2048 uint8 score overflow, a matter of the rules, not of reading:
    g1bench scores with Python integers.)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator

TAGS = ("perception", "think", "answer")
#: The answer grammars a game config may choose (the ``answer_grammar`` knob).
GRAMMARS = ("g1", "lenient")
#: A ``lenient`` answer block longer than this is rejected (real answers are a few characters).
MAX_ANSWER_CHARS = 256
#: How much of a malformed answer a ParseError quotes.
_QUOTE_CHARS = 80

_LENIENT_COORD = re.compile(r"\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_LENIENT_INT = re.compile(r"-?\d+")
#: G1's pair syntax (gamematch.py:474, gamematch3.py), matched against the whole content of one block.
_G1_PAIR = re.compile(r"\((\d+),\s*(\d+)\)\s*\((\d+),\s*(\d+)\)")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class ParseError:
    """Why an answer could not be turned into an action. Falsy, so ``if parsed:`` reads naturally."""

    reason: str

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        return self.reason


def check_grammar(grammar: str) -> str:
    """``grammar`` if it is a known answer grammar, else a ValueError naming the known ones."""
    if grammar not in GRAMMARS:
        raise ValueError(f"unknown answer grammar {grammar!r}; grammars: {list(GRAMMARS)}")
    return grammar


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


def tag_blocks(text: str, tag: str = "answer") -> Iterator[str]:
    """The contents of the ``<tag>…</tag>`` blocks in order: each ``</tag>`` with the nearest ``<tag>``
    before it (an unclosed ``<tag>`` before that one opens no block). One pass over the text."""
    open_t, close_t = f"<{tag}>", f"</{tag}>"
    pos = 0
    while True:
        start = text.find(open_t, pos)
        if start < 0:
            return
        end = text.find(close_t, start + len(open_t))
        if end < 0:
            return
        start = text.rfind(open_t, start, end)
        yield text[start + len(open_t) : end]
        pos = end + len(close_t)


def _quote(content: str) -> str:
    """``<answer>content</answer>`` for an error message, shortened if long."""
    if len(content) > _QUOTE_CHARS:
        content = content[: _QUOTE_CHARS - 3] + "..."
    return f"<answer>{content}</answer>"


def _small_int(digits: str, bound: int) -> int | None:
    """``int(digits)`` if it is below ``bound``, else None. Never converts a long run: ``int()`` is
    quadratic in the length and refuses more than 4300 digits."""
    if not digits.isascii():  # other scripts' decimal digits, which \\d matches and int() reads
        digits = "".join(str(unicodedata.decimal(c)) for c in digits)
    significant = digits.lstrip("0")
    if len(significant) > len(str(bound)):
        return None
    value = int(significant or "0")
    return value if value < bound else None


def _negative(number: str) -> bool:
    """``-`` followed by a number other than zero (``-0`` is 0)."""
    return number.startswith("-") and bool(number.strip("-0"))


def _shown(digits: str) -> str:
    return digits if len(digits) <= 12 else digits[:9] + "..."


def answer_block(text: object) -> str | ParseError:
    """The ``lenient`` answer block: the stripped content of the last block, or a ParseError saying what
    is missing."""
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


def parse_int_answer(text: object, n_actions: int, grammar: str = "lenient") -> int | ParseError:
    """An action number ``0..n_actions-1`` from the response (2048's format), read by ``grammar``."""
    if check_grammar(grammar) == "g1":
        return _g1_int(text, n_actions)
    content = answer_block(text)
    if isinstance(content, ParseError):
        return content
    m = _LENIENT_INT.search(content)
    if m is None:
        return ParseError(f"no action number in {_quote(content)}")
    number = m.group()
    value = None if _negative(number) else _small_int(number.lstrip("-"), n_actions)
    if value is None:
        return ParseError(f"action {_shown(number)} is out of range 0-{n_actions - 1}")
    return value


def _g1_int(text: object, n_actions: int) -> int | ParseError:
    if not isinstance(text, str):
        return ParseError(f"answer must be text, got {type(text).__name__}")
    seen = False
    for content in tag_blocks(text):
        seen = True
        m = _DIGITS.search(content)
        if m is None:
            continue
        number = m.group()
        negative = m.start() > 0 and content[m.start() - 1] == "-" and _negative("-" + number)
        value = None if negative else _small_int(number, n_actions)
        if value is None:
            return ParseError(f"action {'-' if negative else ''}{_shown(number)} is out of range 0-{n_actions - 1}")
        return value
    return ParseError("no action number in any <answer>…</answer> block" if seen else "no <answer>…</answer> block")


def parse_pair_answer(text: object, rows: int, cols: int, grammar: str = "lenient") -> tuple[int, int, int, int] | ParseError:
    """``(r1, c1) (r2, c2)`` from the response, read by ``grammar``, each coordinate checked against the
    board size.

    Coordinates are kept as a tuple (never packed into one integer), so no board size can alias.
    """
    if check_grammar(grammar) == "g1":
        return _g1_pair(text, rows, cols)
    content = answer_block(text)
    if isinstance(content, ParseError):
        return content
    coords = _LENIENT_COORD.findall(content)
    if len(coords) < 2:
        return ParseError(f"expected two coordinates '(row1, col1) (row2, col2)', got {_quote(content)}")
    if len(coords) > 2:
        return ParseError(f"expected exactly two coordinates, got {len(coords)}")
    return _on_board(coords, rows, cols)


def _on_board(coords: list[tuple[str, str]], rows: int, cols: int) -> tuple[int, int, int, int] | ParseError:
    out = []
    for r, c in coords:
        rv, cv = _small_int(r, rows), _small_int(c, cols)
        if rv is None or cv is None:
            return ParseError(f"coordinate ({_shown(r)}, {_shown(c)}) is outside the {rows}x{cols} board")
        out += [rv, cv]
    return tuple(out)  # type: ignore[return-value]


def _g1_pair(text: object, rows: int, cols: int) -> tuple[int, int, int, int] | ParseError:
    if not isinstance(text, str):
        return ParseError(f"answer must be text, got {type(text).__name__}")
    first = None
    for content in tag_blocks(text):
        m = _G1_PAIR.fullmatch(content)
        if m is not None:
            r1, c1, r2, c2 = m.groups()
            return _on_board([(r1, c1), (r2, c2)], rows, cols)
        if first is None:
            first = content
    if first is None:
        return ParseError("no <answer>…</answer> block")
    return ParseError(f"no <answer> block is exactly '(row1, col1) (row2, col2)' (G1's syntax); the first is {_quote(first)}")


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

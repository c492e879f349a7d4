"""Swap (match-3) on an 8 x 8 board of 12 coloured shapes, as in the paper."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from ..core.config import ConfigError, GameConfig, knob, paper_protocol
from ..core.game import Game, Outcome, PairActions, PromptText
from ..render.shapes import COLORS, SHAPES, empty_cell, shape_tile

PAPER_COLORS = ("Red", "Green", "Blue", "Yellow")
PAPER_SHAPES = ("circle", "square", "triangle")
#: the original code's six colours and six shapes (its Shisen-Sho HEAD palette)
WIDE_COLORS = ("Red", "Green", "Blue", "Yellow", "Magenta", "Cyan")
WIDE_SHAPES = ("circle", "square", "triangle", "diamond", "cross", "star")

#: random deals tried before a move is planted into the last one (see ``Swap._fresh_board``)
DEAL_ATTEMPTS = 100
#: random permutations tried by a reshuffle before the tiles are dealt anew
SHUFFLE_ATTEMPTS = 100


@dataclass(frozen=True)
class ConfigSwap(GameConfig):
    """Knobs of Swap.

    The palette is every (colour, shape) combination of ``colors`` x ``shapes``. A deal samples
    ``n_kinds`` kinds of it with the env's generator (all of them when ``n_kinds`` is 0 or equals the
    palette size), so a larger palette is harder to *see* while the number of kinds on the board sets how
    hard it is to *find* a move (fewer kinds: more lines, easier).
    """

    rows: int = knob(8, "reasoning", "Board height (the paper uses 8).")
    cols: int = knob(8, "reasoning", "Board width (the paper uses 8).")
    n_kinds: int = knob(0, "reasoning", "Tile kinds on the board, sampled from the palette at each deal (0 = the whole palette; the paper has 12). Fewer kinds make lines easier.")
    colors: tuple[str, ...] = knob(list(PAPER_COLORS), "perception", f"Colour names of the palette; choose from {list(COLORS)}.")
    shapes: tuple[str, ...] = knob(list(PAPER_SHAPES), "perception", f"Shape names of the palette; choose from {list(SHAPES)}.")

    presets: ClassVar = {
        # 8x8, Red/Green/Blue/Yellow x circle/square/triangle, all 12 kinds: the released code, with G1's
        # prompt, answer grammar and frame size.
        "paper": {**paper_protocol("swap")},
        "base": {},
        # Perception: the same 12 kinds on the board, drawn from a 6 colour x 6 shape palette (36 kinds),
        # so colour and shape must be read more carefully (magenta vs red, diamond vs square, ...).
        "more-kinds": {"colors": list(WIDE_COLORS), "shapes": list(WIDE_SHAPES), "n_kinds": 12},
        # Reasoning: a 10x10 board with 16 kinds (the paper's four colours x four shapes, adding only
        # "diamond"). It has about as many valid moves as the paper's board but spread over 100 cells
        # (fewer per cell), and 180 instead of 112 candidate swaps. Cells shrink to 56 px so the frame
        # keeps the paper's 560 px board width.
        "large": {"rows": 10, "cols": 10, "n_kinds": 16, "shapes": list(PAPER_SHAPES) + ["diamond"], "cell_px": 56},
        # Both: the large board's 16 kinds drawn from the 6x6 palette.
        "composition": {"rows": 10, "cols": 10, "n_kinds": 16, "colors": list(WIDE_COLORS),
                        "shapes": list(WIDE_SHAPES), "cell_px": 56},
    }
    preset_grid: ClassVar = {
        "base": ("base", "base"), "more-kinds": ("more-kinds", "base"), "large": ("base", "large"),
        "composition": ("more-kinds", "large"), "paper": ("base", "base"),
    }

    def validate(self) -> None:
        super().validate()
        self._int_range("rows", 3, 12)
        self._int_range("cols", 3, 12)
        self._choices("colors", tuple(COLORS), 1)
        self._choices("shapes", SHAPES, 1)
        palette = len(self.colors) * len(self.shapes)
        if palette < 3:
            raise ConfigError(
                f"ConfigSwap: the palette colors x shapes has {palette} kind(s); a match-3 board needs at least 3 "
                f"(got colors={list(self.colors)}, shapes={list(self.shapes)})"
            )
        if self.prompt_version == "g1-paper" and (self.colors, self.shapes) != (PAPER_COLORS, PAPER_SHAPES):
            # G1's text names the paper's four colours and three shapes; it would describe another palette wrongly
            raise ConfigError(
                f"ConfigSwap: prompt_version 'g1-paper' names the colours {list(PAPER_COLORS)} and shapes "
                f"{list(PAPER_SHAPES)}; use prompt_version 'g1bench-v1' with colors={list(self.colors)}, "
                f"shapes={list(self.shapes)}"
            )
        if isinstance(self.n_kinds, bool) or not isinstance(self.n_kinds, int):
            raise ConfigError(f"ConfigSwap.n_kinds must be an integer, got {self.n_kinds!r}")
        if self.n_kinds != 0 and not 3 <= self.n_kinds <= palette:
            raise ConfigError(
                f"ConfigSwap.n_kinds must be 0 (the whole palette) or between 3 and the palette size "
                f"{len(self.colors)}x{len(self.shapes)}={palette}, got {self.n_kinds}"
            )

    @property
    def palette(self) -> list[str]:
        """Every kind name, ``"<Colour> <shape>"``, colour-major: kind id ``k`` is ``colors[k // S]`` x ``shapes[k % S]``."""
        return [f"{c} {s}" for c, s in itertools.product(self.colors, self.shapes)]

    @property
    def kinds_in_play(self) -> int:
        return self.n_kinds or len(self.colors) * len(self.shapes)


# -- board helpers (pure numpy; boards are (rows, cols) int arrays of kind indices) ---------------------


def line_mask(b: np.ndarray) -> np.ndarray | None:
    """Boolean mask of every cell in a horizontal or vertical run of >= 3 equal values (None if none)."""
    h = (b[:, :-2] == b[:, 1:-1]) & (b[:, 1:-1] == b[:, 2:])
    v = (b[:-2] == b[1:-1]) & (b[1:-1] == b[2:])
    h_any, v_any = h.any(), v.any()
    if not (h_any or v_any):
        return None
    mask = np.zeros(b.shape, dtype=bool)
    if h_any:
        mask[:, :-2] |= h
        mask[:, 1:-1] |= h
        mask[:, 2:] |= h
    if v_any:
        mask[:-2] |= v
        mask[1:-1] |= v
        mask[2:] |= v
    return mask


def has_line(b: np.ndarray) -> bool:
    """True if the board holds a run of >= 3 equal values in a row or column."""
    return bool(
        ((b[:, :-2] == b[:, 1:-1]) & (b[:, 1:-1] == b[:, 2:])).any()
        or ((b[:-2] == b[1:-1]) & (b[1:-1] == b[2:])).any()
    )


@lru_cache(maxsize=None)
def _swap_tables(rows: int, cols: int) -> tuple[tuple, np.ndarray, np.ndarray, np.ndarray]:
    """Lookup tables that test every adjacent swap of a rows x cols board at once.

    For swap ``s`` and each of its two cells ``d`` (where a tile lands), ``moved[s, d]`` is the flat index
    (before the swap) of the tile that lands there, and ``other1/other2[s, d, w]`` are the flat indices
    (before the swap) of the tiles that will sit in the two other cells of the ``w``-th 3-window through
    ``d`` (up to 3 horizontal and 3 vertical windows). A window that sticks out of the board points at the
    sentinel index ``rows*cols``. A line forms iff, for some ``d`` and ``w``, both others equal the moved tile.
    """
    pairs = sorted(
        [(r, c, r, c + 1) for r in range(rows) for c in range(cols - 1)]
        + [(r, c, r + 1, c) for r in range(rows - 1) for c in range(cols)]
    )
    sentinel = rows * cols
    n = len(pairs)
    moved = np.empty((n, 2), dtype=np.intp)
    other1 = np.full((n, 2, 6), sentinel, dtype=np.intp)
    other2 = np.full((n, 2, 6), sentinel, dtype=np.intp)
    for s, (r1, c1, r2, c2) in enumerate(pairs):
        p1, p2 = r1 * cols + c1, r2 * cols + c2
        after = {p1: p2, p2: p1}  # flat index -> where its tile comes from after the swap
        for d, (r, c) in enumerate(((r1, c1), (r2, c2))):
            moved[s, d] = after[r * cols + c]
            w = 0
            for dr, dc in ((0, 1), (1, 0)):
                for off in (-2, -1, 0):
                    cells = [(r + (off + k) * dr, c + (off + k) * dc) for k in range(3)]
                    if all(0 <= rr < rows and 0 <= cc < cols for rr, cc in cells):
                        others = [rr * cols + cc for rr, cc in cells if (rr, cc) != (r, c)]
                        other1[s, d, w], other2[s, d, w] = (after.get(o, o) for o in others)
                    w += 1
    return tuple(pairs), moved, other1, other2


def valid_swaps(b: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Every adjacent swap that creates a line on a line-free board, as sorted ``(r1, c1, r2, c2)`` tuples.

    Vectorised over all swaps with :func:`_swap_tables` (only the windows through the two swapped cells
    can change, so on a line-free board this equals testing every swapped board for a run).
    """
    rows, cols = b.shape
    pairs, moved, other1, other2 = _swap_tables(rows, cols)
    vals = np.empty(rows * cols + 1, dtype=np.int16)
    vals[:-1] = b.ravel()
    vals[-1] = -1
    t = vals[moved][:, :, None]
    ok = ((vals[other1] == t) & (vals[other2] == t)).any(axis=(1, 2))
    return [pairs[i] for i in np.flatnonzero(ok).tolist()]


#: G1's prompt, byte for byte (gamematch3.py:525 at 716e666): a triple-quoted string, so it starts with a
#: newline, every line carries the source's 8-space indentation, blank lines are 8 spaces, and it ends with
#: a newline and 8 spaces.
G1_PROMPT = (
    "\n"
    "        You are playing a Match-3 Game where you need to swap adjacent tiles to create matches of 3 or more "
    "identical tiles.\n"
    "        \n"
    "        Rules:\n"
    "        - Tiles are identified by color (Red, Green, Blue, Yellow) and shape (circle, square, triangle)\n"
    "        - You can only swap adjacent tiles (not diagonal)\n"
    "        - A valid move must create at least one match of 3 or more identical tiles\n"
    "        - After matches are removed, tiles above will fall down and new tiles will appear at the top\n"
    "        - If no valid moves are available, the board will automatically be shuffled\n"
    "        - The game ends when you run out of moves\n"
    "        \n"
    "        Please analyze the game board and identify two adjacent tiles to swap that will create a match.\n"
    "        Return your answer as follows:\n"
    "        1. First coordinate: (row1, col1)\n"
    "        2. Second coordinate: (row2, col2)\n"
    "        \n"
    "        Where row and col are 0-indexed numbers starting from the top-left of the board.\n"
    "        First describe the board in <perception></perception>. Then output your thinking process in "
    "<think></think> and final action in <answer>(row1, col1) (row2, col2)</answer>.\n"
    "        "
)
#: g1bench's: G1's without the indentation, naming the configured palette and the board size.
G1BENCH_V1_PROMPT = (
    "You are playing a Match-3 Game where you need to swap adjacent tiles to create matches of 3 or more "
    "identical tiles.\n\n"
    "Rules:\n"
    "- The board has {rows} rows and {cols} columns\n"
    "- Tiles are identified by color ({colors}) and shape ({shapes})\n"
    "- You can only swap adjacent tiles (not diagonal)\n"
    "- A valid move must create at least one match of 3 or more identical tiles\n"
    "- After matches are removed, tiles above will fall down and new tiles will appear at the top\n"
    "- If no valid moves are available, the board will automatically be shuffled\n"
    "- The game ends when you run out of moves\n\n"
    "Please analyze the game board and identify two adjacent tiles to swap that will create a match.\n"
    "Return your answer as follows:\n"
    "1. First coordinate: (row1, col1)\n"
    "2. Second coordinate: (row2, col2)\n\n"
    "Where row and col are 0-indexed numbers starting from the top-left of the board.\n"
    "First describe the board in <perception></perception>. Then output your thinking process in "
    "<think></think> and final action in <answer>(row1, col1) (row2, col2)</answer>."
)


class Swap(PairActions, Game):
    """Swap (match-3): swap two adjacent tiles so that three or more identical tiles line up.

    * Tiles are (colour, shape) kinds; only identical kinds (same colour *and* shape) match.
    * **Deal**: if ``n_kinds`` is smaller than the palette, that many kinds are drawn without replacement
      (``rng.choice``) and kept in palette order. The board is filled row by row, left to right, from one
      batch of uniforms (``rng.random(rows*cols)``); each cell picks uniformly among the kinds that do not
      complete a line with the two cells to its left or the two above it, so no line exists. A board
      without a valid move is dealt again (up to 100 times; after that a move is planted into the last
      board: cells (0,0), (0,1), (1,2) get one kind, so swapping (0,2)-(1,2) lines up row 0).
    * **Action** ``(r1, c1, r2, c2)``, 0-indexed from the top left: the two cells must be orthogonally
      adjacent and the swap must create at least one horizontal or vertical line of >= 3 identical tiles.
      Otherwise nothing changes (reasons: "same cell", "not adjacent", "swap makes no line of 3").
    * **Resolution** after a valid swap, repeated until no line remains (cascades): take the set of all
      cells in lines (a cell shared by two lines counts once), add ``n*(n-1)`` to the score for that round's
      ``n`` cells (3 -> 6, 4 -> 12, 5 -> 20, two separate 3-lines -> 30, as the original code), remove
      them, let the tiles above fall down in each column, and fill the empty cells with kinds drawn in one
      batch (``rng.integers(n_kinds, size=n_empty)``) assigned in row-major order (top row first, left to
      right).
    * **Reshuffle**: if no valid move is left, the tiles are permuted (``rng.permutation``) until the board
      has no line and at least one valid move (up to 100 permutations, none when no kind occurs 3 times;
      then the tiles are dealt anew with the same kinds). A reshuffle never scores; ``shuffles`` counts them.
    * Success (reward +1) = the swap was valid; ``score_delta`` = the score it gained, cascades included.
    * The game never ends (the original gave 1,000,000 moves): episodes end by truncation only.
    """

    name = "swap"
    env_name = "Swap"
    # v1: the paper preset shows G1's prompt and reads answers with G1's grammar
    version = 1
    prompts = {
        "g1-paper": PromptText("g1-paper", G1_PROMPT, "G1 vlmgym/sandbox/games/gamematch3.py @ 716e666"),
        "g1bench-v1": PromptText("g1bench-v1", G1BENCH_V1_PROMPT, "g1bench"),
    }
    Config = ConfigSwap
    summary = "Match-3: swap adjacent tiles to line up 3+ identical coloured shapes (paper: 8x8, 12 kinds)."
    default_cell_px = 70

    def __init__(self, config: ConfigSwap):
        super().__init__(config)
        self._palette = config.palette
        self._palette_index = {name: i for i, name in enumerate(self._palette)}
        n = config.kinds_in_play
        #: palette ids of the kinds in play (board values index into this)
        self.kinds = np.arange(n, dtype=np.int64)
        self.board = np.zeros((config.rows, config.cols), dtype=np.int8)
        self.shuffles = 0
        self._legal_key: bytes | None = None
        self._legal: list[tuple[int, int, int, int]] = []
        self._legal_set: frozenset = frozenset()
        self._text_key: bytes | None = None
        self._text = ""
        self._names: list[list[str]] = []

    @property
    def shape(self) -> tuple[int, int]:
        return self.config.rows, self.config.cols

    # -- rules ---------------------------------------------------------------------------------------
    def _no_line_board(self, rng: np.random.Generator) -> np.ndarray:
        rows, cols = self.shape
        n = len(self.kinds)
        u = rng.random(rows * cols).tolist()
        b = [[0] * cols for _ in range(rows)]
        i = 0
        for r in range(rows):
            row = b[r]
            for c in range(cols):
                excluded = set()
                if c >= 2 and row[c - 1] == row[c - 2]:
                    excluded.add(row[c - 1])
                if r >= 2 and b[r - 1][c] == b[r - 2][c]:
                    excluded.add(b[r - 1][c])
                j = int(u[i] * (n - len(excluded)))
                for e in sorted(excluded):  # the j-th kind that is not excluded
                    if j >= e:
                        j += 1
                row[c] = j
                i += 1
        return np.array(b, dtype=np.int8)

    def _plant_move(self, b: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list]:
        """Make (0,2)<->(1,2) a valid move by giving (0,0), (0,1), (1,2) one kind; keep the board line-free."""
        for k in rng.permutation(len(self.kinds)).tolist():
            p = b.copy()
            p[0, 0] = p[0, 1] = p[1, 2] = k
            if not has_line(p):
                legal = valid_swaps(p)
                if legal:
                    return p, legal
        raise RuntimeError(f"Swap could not deal a {self.shape} board with {len(self.kinds)} kinds")  # pragma: no cover

    def _fresh_board(self, rng: np.random.Generator) -> tuple[np.ndarray, list]:
        """A line-free board with at least one valid move (and its valid moves), from the kinds in play."""
        for _ in range(DEAL_ATTEMPTS):
            b = self._no_line_board(rng)
            legal = valid_swaps(b)
            if legal:
                return b, legal
        return self._plant_move(b, rng)

    def deal(self, rng: np.random.Generator) -> None:
        palette = len(self._palette)
        n = self.config.kinds_in_play
        if n < palette:
            self.kinds = np.sort(rng.choice(palette, size=n, replace=False)).astype(np.int64)
        else:
            self.kinds = np.arange(palette, dtype=np.int64)
        self._text_key = None
        self.board, legal = self._fresh_board(rng)
        self._set_legal(legal)
        self.score = 0
        self.moves = 0
        self.shuffles = 0

    def _ensure_legal(self) -> None:
        if self.board.tobytes() != self._legal_key:
            self._set_legal(valid_swaps(self.board))

    def _set_legal(self, legal: list[tuple[int, int, int, int]]) -> None:
        self._legal = legal
        self._legal_set = frozenset(legal) | frozenset((r2, c2, r1, c1) for r1, c1, r2, c2 in legal)
        self._legal_key = self.board.tobytes()

    def legal_actions(self) -> list[tuple[int, int, int, int]]:
        self._ensure_legal()
        return list(self._legal)

    def is_over(self) -> bool:
        """Never true for a dealt board: a position without a valid move is reshuffled at once."""
        self._ensure_legal()
        return not self._legal

    def _reshuffle(self, rng: np.random.Generator) -> None:
        """Permute the tiles until no line and >= 1 valid move (bounded; then deal new tiles). No score."""
        self.shuffles += 1
        flat = self.board.ravel()
        # No arrangement has a move unless some kind occurs 3 times: then go straight to new tiles.
        attempts = SHUFFLE_ATTEMPTS if np.bincount(flat).max() >= 3 else 0
        for _ in range(attempts):
            b = rng.permutation(flat).reshape(self.board.shape)
            if not has_line(b):
                legal = valid_swaps(b)
                if legal:
                    self.board = b
                    self._set_legal(legal)
                    return
        self.board, legal = self._fresh_board(rng)
        self._set_legal(legal)

    def _resolve(self, b: np.ndarray, rng: np.random.Generator) -> int:
        """Clear lines, apply gravity and refill until no line remains; returns the score gained."""
        rows = b.shape[0]
        n_kinds = len(self.kinds)
        gained = 0
        row_idx = np.arange(rows)[:, None]
        while True:
            mask = line_mask(b)
            if mask is None:
                return gained
            n = int(mask.sum())
            gained += n * (n - 1)
            # Stable sort per column: removed cells (key False) first, kept tiles after in their order.
            order = np.argsort(~mask, axis=0, kind="stable")
            b[:] = np.take_along_axis(b, order, axis=0)
            empty = row_idx < mask.sum(axis=0)[None, :]
            b[empty] = rng.integers(0, n_kinds, size=n)

    def apply(self, action: tuple[int, int, int, int], rng: np.random.Generator) -> Outcome:
        self._ensure_legal()
        if action not in self._legal_set:
            r1, c1, r2, c2 = action
            if r1 == r2 and c1 == c2:
                reason = "same cell"
            elif abs(r1 - r2) + abs(c1 - c2) != 1:
                reason = "not adjacent"
            else:
                reason = "swap makes no line of 3"
            return Outcome(False, False, 0, False, reason=reason)
        r1, c1, r2, c2 = action
        b = self.board.copy()
        b[r1, c1], b[r2, c2] = b[r2, c2], b[r1, c1]
        gained = self._resolve(b, rng)
        self.board = b
        self.score += gained
        self.moves += 1
        self._set_legal(valid_swaps(b))
        if not self._legal:
            self._reshuffle(rng)
        return Outcome(True, True, gained, False)

    # -- views ---------------------------------------------------------------------------------------
    def prompt_fields(self) -> dict[str, Any]:
        rows, cols = self.shape
        return {"rows": rows, "cols": cols, "colors": ", ".join(self.config.colors), "shapes": ", ".join(self.config.shapes)}

    def _cell_names(self) -> list[list[str]]:
        key = self.board.tobytes()
        if key != self._text_key:
            names = [self._palette[k] for k in self.kinds.tolist()]
            self._names = [[names[v] for v in row] for row in self.board.tolist()]
            self._text = "\n".join(" | ".join(row) for row in self._names)
            self._text_key = key
        return self._names

    def perception_text(self) -> str:
        self._cell_names()
        return self._text

    def structured_state(self) -> dict[str, Any]:
        rows, cols = self.shape
        return {
            "rows": rows,
            "cols": cols,
            "cells": [list(row) for row in self._cell_names()],
            "kinds": [self._palette[k] for k in self.kinds.tolist()],
            "shuffles": self.shuffles,
        }

    def status_text(self) -> str:
        return f"Score: {self.score}   Moves: {self.moves}"

    # -- snapshots -----------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """``board``: kind indices into ``kinds`` (names ``"<Colour> <shape>"``), plus the counters."""
        return {
            "board": self.board.tolist(),
            "kinds": [self._palette[k] for k in self.kinds.tolist()],
            "score": self.score,
            "moves": self.moves,
            "shuffles": self.shuffles,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict):
            raise ValueError(f"Swap state must be a dict, got {type(state).__name__}")
        missing = [k for k in ("board", "kinds", "score", "moves", "shuffles") if k not in state]
        if missing:
            raise ValueError(f"Swap state is missing {missing}")
        kinds = state["kinds"]
        n = self.config.kinds_in_play
        if not isinstance(kinds, list) or len(kinds) != n:
            raise ValueError(f"Swap state 'kinds' must be a list of {n} kind names")
        unknown = [k for k in kinds if k not in self._palette_index]
        if unknown:
            raise ValueError(f"Swap state 'kinds' has names outside the palette: {unknown}; palette: {self._palette}")
        if len(set(kinds)) != len(kinds):
            raise ValueError("Swap state 'kinds' has duplicates")
        rows, cols = self.shape
        board = state["board"]
        if not isinstance(board, list) or len(board) != rows or any(not isinstance(row, list) or len(row) != cols for row in board):
            raise ValueError(f"Swap state 'board' must be {rows} lists of {cols} kind indices")
        if any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < n for row in board for v in row):
            raise ValueError(f"Swap state 'board' cells must be integers 0..{n - 1} (indices into 'kinds')")
        counters = {}
        for name in ("score", "moves", "shuffles"):
            v = state[name]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"Swap state {name!r} must be a non-negative integer, got {v!r}")
            counters[name] = v
        b = np.array(board, dtype=np.int8)
        if has_line(b):
            raise ValueError("Swap state 'board' already holds a line of 3 (such a position is always cleared)")
        legal = valid_swaps(b)
        if not legal:
            raise ValueError("Swap state 'board' has no valid swap (such a position is always reshuffled)")
        self.kinds = np.array([self._palette_index[k] for k in kinds], dtype=np.int64)
        self.board = b
        self.score, self.moves, self.shuffles = counters["score"], counters["moves"], counters["shuffles"]
        self._text_key = None
        self._set_legal(legal)

    # -- rendering -----------------------------------------------------------------------------------
    def cell_keys(self) -> np.ndarray:
        """Palette id + 1 of each cell (stable across deals, so cached sprites stay correct)."""
        return self.kinds[self.board] + 1

    def draw_sprite(self, key: int, cell_px: int) -> np.ndarray:
        if key == 0:
            return empty_cell(cell_px)
        k = key - 1
        n_shapes = len(self.config.shapes)
        return shape_tile(self.config.shapes[k % n_shapes], COLORS[self.config.colors[k // n_shapes]], cell_px)

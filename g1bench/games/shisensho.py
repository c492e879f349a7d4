"""Shisen-Sho (tile matching, "连连看") with coloured shapes (paper: 6 x 6; original code: 12 x 12).

The path rule is computed for the whole board at once: after every change of the board, one vectorised
pass finds *every* connectable pair (see :class:`PairTable`), and an action is judged by a set
lookup. Illegal actions therefore cost a few dictionary look-ups and recompute nothing.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import numpy as np

from ..core.config import ConfigError, GameConfig, knob, paper_protocol
from ..core.game import Game, Outcome, PairActions, PromptText
from ..render.shapes import COLORS, SHAPES, empty_cell, shape_tile

#: the original code's 6 colours and 6 shapes (gamematch.py at HEAD)
PAPER_COLORS = ("Red", "Green", "Blue", "Yellow", "Magenta", "Cyan")
PAPER_SHAPES = ("circle", "square", "triangle", "diamond", "cross", "star")
BASE_COLORS = ("Red", "Green", "Blue")
BASE_SHAPES = ("circle", "square", "triangle")

#: a deal with no connectable pair is redealt; this many failures in a row is a bug or a silly config
MAX_DEALS = 10_000

Pair = tuple[int, int, int, int]


# -- configs ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BoardConfig(GameConfig):
    """Board knobs shared by the Shisen-Sho games: size and number of tile kinds."""

    rows: int = knob(6, "reasoning", "Board rows (2-16; rows*cols must be even).")
    cols: int = knob(6, "reasoning", "Board columns (2-16; rows*cols must be even).")
    n_kinds: int = knob(
        0, "reasoning",
        "Distinct tile kinds on the board (0 = rows*cols//4, i.e. every kind 4 times as in the paper). "
        "rows*cols must be divisible by it, with an even number of copies per kind.",
    )

    @property
    def kinds_count(self) -> int:
        """The number of tile kinds dealt (n_kinds with 0 resolved)."""
        return self.n_kinds or (self.rows * self.cols) // 4

    @property
    def copies(self) -> int:
        """How many tiles of each kind a deal places."""
        return (self.rows * self.cols) // self.kinds_count

    def _valid_kinds(self, limit: int) -> list[int]:
        n = self.rows * self.cols
        return [k for k in range(1, min(n, limit) + 1) if n % k == 0 and (n // k) % 2 == 0]

    def _validate_board(self, max_kinds: int | None) -> None:
        name = type(self).__name__
        self._int_range("rows", 2, 16)
        self._int_range("cols", 2, 16)
        n = self.rows * self.cols
        if n % 2:
            raise ConfigError(f"{name}: rows*cols must be even, got {self.rows}x{self.cols} = {n} cells")
        self._int_range("n_kinds", 0, n // 2)
        k = self.kinds_count
        what = f"n_kinds={self.n_kinds}" + (f" (auto = {k})" if self.n_kinds == 0 else "")
        if k < 1 or n % k or (n // k) % 2:
            raise ConfigError(
                f"{name}: {what} must divide the {n} cells of a {self.rows}x{self.cols} board into an even "
                f"number of copies per kind; valid n_kinds: {self._valid_kinds(max_kinds or n)}"
            )
        if max_kinds is not None and k > max_kinds:
            raise ConfigError(
                f"{name}: {what} needs {k} distinct tiles but only {max_kinds} are available; "
                f"valid n_kinds: {self._valid_kinds(max_kinds)}"
            )


@dataclass(frozen=True)
class ConfigShisenSho(BoardConfig):
    """Knobs of Shisen-Sho. A tile kind is one (colour, shape) combination of the palette."""

    n_kinds: int = knob(
        9, "reasoning",
        "Distinct tile kinds on the board (0 = rows*cols//4, i.e. every kind 4 times as in the paper). "
        "rows*cols must be divisible by it, with an even number of copies per kind.",
    )
    colors: tuple[str, ...] = knob(BASE_COLORS, "perception", f"Tile colours, from {list(COLORS)}.")
    shapes: tuple[str, ...] = knob(BASE_SHAPES, "perception", f"Tile shapes, from {list(SHAPES)}.")

    presets: ClassVar = {
        # The figure's "Base Level": 6x6, 3 colours x 3 shapes (also the dev notebook's board).
        "base": {"rows": 6, "cols": 6, "n_kinds": 9, "colors": BASE_COLORS, "shapes": BASE_SHAPES},
        # "More Shapes & Colors" (perception): 9 kinds drawn from the original code's 6 x 6 palette.
        "more-kinds": {"rows": 6, "cols": 6, "n_kinds": 9, "colors": PAPER_COLORS, "shapes": PAPER_SHAPES},
        # "More Tiles" (reasoning): 12x12 with the base palette, 9 kinds x 16 copies.
        "more-tiles": {"rows": 12, "cols": 12, "n_kinds": 9, "colors": BASE_COLORS, "shapes": BASE_SHAPES,
                       "cell_px": 56},
        # "Composition": both; exactly the original code at HEAD (12x12, 36 kinds x 4 of 6 x 6 types).
        "composition": {"rows": 12, "cols": 12, "n_kinds": 36, "colors": PAPER_COLORS, "shapes": PAPER_SHAPES,
                        "cell_px": 56},
        # The paper's main setting: its Fig. 1 thumbnail is a 6x6 board with 9 kinds x 4 in mixed colours
        # and shapes, and the released code's palette is 6 colours x 6 shapes, so we deal 9 of those 36
        # kinds on 6x6 (spec section 2.2: the exact palette of the paper's runs is unknown). The board of
        # "more-kinds", with G1's prompt, answer grammar and frame size.
        "paper": {"rows": 6, "cols": 6, "n_kinds": 9, "colors": PAPER_COLORS, "shapes": PAPER_SHAPES,
                  **paper_protocol("shisensho")},
    }
    preset_grid: ClassVar = {
        "base": ("base", "base"),
        "more-kinds": ("more-kinds", "base"),
        "more-tiles": ("base", "more-tiles"),
        "composition": ("more-kinds", "more-tiles"),
        "paper": ("more-kinds", "base"),
    }

    def validate(self) -> None:
        super().validate()
        self._choices("colors", tuple(COLORS), 1)
        self._choices("shapes", SHAPES, 1)
        self._validate_board(len(self.colors) * len(self.shapes))

    @property
    def palette(self) -> list[tuple[str, str]]:
        """Every (colour, shape) kind this config can deal, colour-major; a kind id indexes this list."""
        return list(itertools.product(self.colors, self.shapes))


# -- the path rule --------------------------------------------------------------------------------------
class PairTable:
    """The tiles' occupancy and every same-kind pair of one deal, and the all-pairs path test.

    Tiles never move in Shisen-Sho, only disappear, so the candidate pairs of a deal are fixed when it is
    dealt (a table is built per deal or restored state); later boards test the pairs whose two tiles are
    still there. :meth:`remove` keeps the occupancy up to date.

    The path rule (at most 2 turns through empty cells and a one-cell ring around the board): every such
    path is vertical-horizontal-vertical or horizontal-vertical-horizontal, with segments possibly of
    length 0. For V-H-V through row x of the padded grid, each tile must see row x along its own column
    (nothing in between) and row x must be empty strictly between the two columns. The rows a tile sees
    form an interval around it, so the test is: some x in the intersection of the two tiles' intervals
    has an empty stretch of row (prefix sums). H-V-H is the same on the transposed grid.

    Everything is vectorised over all pairs, all x and both orientations at once: the padded grid is
    embedded in a P x P square (P = max(rows, cols) + 2, cells outside the ring marked occupied so no path
    goes further out) and stacked with its transpose, so one call is ~25 small numpy operations.
    """

    def __init__(self, grid: np.ndarray):
        R, C = grid.shape
        P = max(R, C) + 2
        self.P = P
        occ = np.ones((P, P), dtype=np.int64)
        occ[: R + 2, : C + 2] = 0
        occ[1 : R + 1, 1 : C + 1] = grid >= 0
        #: occ[0] = padded occupancy (1 = tile or outside the ring), occ[1] = its transpose
        self.occ = np.stack([occ, occ.T])
        #: 1 where a tile has an empty orthogonal neighbour (a path can leave it); kept up to date by remove()
        self.free = np.zeros((P, P), dtype=np.int64)
        inner = occ[1 : R + 1, 1 : C + 1]
        blocked = occ[: R, 1 : C + 1] & occ[2 : R + 2, 1 : C + 1] & occ[1 : R + 1, : C] & occ[1 : R + 1, 2 : C + 2]
        self.free[1 : R + 1, 1 : C + 1] = inner & (blocked ^ 1)
        pa, pb = _same_kind_pairs(grid)
        #: the pairs as (r1, c1, r2, c2) tuples, (r1, c1) < (r2, c2), in lexicographic order
        self.pairs: list[Pair] = list(zip((pa // C).tolist(), (pa % C).tolist(), (pb // C).tolist(), (pb % C).tolist()))
        ra, ca = pa // C + 1, pa % C + 1  # padded coordinates
        rb, cb = pb // C + 1, pb % C + 1
        PP = P * P
        self._cell_a, self._cell_b = (ra * P + ca).astype(np.intp), (rb * P + cb).astype(np.intp)
        self._adjacent = (np.abs(ra - rb) + np.abs(ca - cb) == 1).astype(np.int64)
        # Gather indices into the (4, P, P) accumulations [up(occ), up(occT), down(occ), down(occT)]
        # ("down" ones run on the row-reversed grids): (4 quantities, 2 orientations, pairs)
        self._acc_index = np.stack([
            np.stack([(ra - 1) * P + ca, PP + (ca - 1) * P + ra]),  # one step above / left of a
            np.stack([(rb - 1) * P + cb, PP + (cb - 1) * P + rb]),  # ... of b
            np.stack([2 * PP + (P - 2 - ra) * P + ca, 3 * PP + (P - 2 - ca) * P + ra]),  # below / right of a
            np.stack([2 * PP + (P - 2 - rb) * P + cb, 3 * PP + (P - 2 - cb) * P + rb]),  # ... of b
        ]).astype(np.intp)
        # Row indices into the (2P, P) column-major prefix sums: (hi/lo, orientation, pairs). The middle
        # segment spans columns min+1 .. max-1 (rows for H-V-H): prefix[max-1] - prefix[min].
        self._seg_index = np.stack([
            np.stack([np.maximum(ca, cb) - 1, P + np.maximum(ra, rb) - 1]),
            np.stack([np.minimum(ca, cb), P + np.minimum(ra, rb)]),
        ]).astype(np.intp)
        self._ri1, self._span = _grid_constants(P)

    def __len__(self) -> int:
        return len(self.pairs)

    def remove(self, r: int, c: int) -> None:
        """Mark cell (r, c) (board coordinates) empty."""
        r, c = r + 1, c + 1
        o = self.occ[0]
        o[r, c] = 0
        self.occ[1, c, r] = 0
        self.free[r, c] = 0
        for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if o[nr, nc]:  # a tile (cells next to a board cell are board cells or the empty ring)
                self.free[nr, nc] = 1

    def connectable(self) -> list[Pair]:
        """The pairs whose two tiles are present and joined by a path with at most 2 turns."""
        if not self.pairs:
            return []
        pairs = self.pairs
        return [pairs[i] for i in self._connectable_index().tolist()]

    def _connectable_index(self) -> np.ndarray:
        """Indices into :attr:`pairs` of the connectable pairs, in order (see :meth:`connectable`)."""
        occ = self.occ
        a, b = self._cell_a, self._cell_b
        # Both tiles present, and a path can leave each through an empty neighbour (or they are neighbours).
        flat, ff = occ[0].ravel(), self.free.ravel()
        live = np.flatnonzero((ff[a] & ff[b]) | (self._adjacent & flat[a] & flat[b]))
        if not len(live):
            return live
        # acc[q, r, c] = 1 + the last occupied row <= r in column c (0 if none): a tile at row r sees
        # rows >= acc[r-1, c] going up; on the reversed grid the same gives the rows it sees going down.
        acc = np.maximum.accumulate(np.concatenate((occ, occ[:, ::-1])) * self._ri1, axis=1).ravel()
        g = acc[self._acc_index[:, :, live]]  # (4, 2, m)
        lo = np.maximum(g[0], g[1])  # the first row both tiles see
        hi_rev = np.maximum(g[2], g[3])  # P-1 - the last row both tiles see
        # prefix[o, col, x] = occupied cells of row x at columns <= col (orientation o)
        prefix = occ[::-1].cumsum(axis=1).reshape(2 * self.P, self.P)
        seg = prefix[self._seg_index[:, :, live]]  # (2, 2, m, P)
        ok = ((seg[0] - seg[1] <= 0) & self._span[lo, hi_rev]).any(axis=2)
        return live[ok[0] | ok[1]]

    def counts_after(self, removals: Sequence[Pair]) -> np.ndarray:
        """For each pair of ``removals`` (pairs connectable now), how many pairs are connectable once its two
        tiles are gone: ``len(connectable())`` after removing them, for every removal at once, table unchanged.

        Look-ahead players (the oracle) rank moves by this. Removing tiles only empties cells, so every
        connectable pair that keeps both tiles stays connectable; the count is the connectable pairs now,
        minus those sharing a tile with the removal, plus the pairs the emptied cells newly connect. Only
        a pair whose row or column span holds an emptied cell can change (the path test reads nothing
        else), and those few (removal, pair) combinations go through the same vectorised test as
        :meth:`connectable`, each on its own board.
        """
        m = len(removals)
        if not m:
            return np.zeros(0, dtype=np.int64)
        P, PP = self.P, self.P * self.P
        rem = np.asarray(removals, dtype=np.intp).reshape(m, 4) + 1  # padded coordinates
        ru, cu, rv, cv = rem.T
        u, v = ru * P + cu, rv * P + cv
        legal = self._connectable_index()
        a, b = self._cell_a, self._cell_b
        la, lb = a[legal][None, :], b[legal][None, :]
        U, V = u[:, None], v[:, None]
        counts = len(legal) - ((la == U) | (la == V) | (lb == U) | (lb == V)).sum(axis=1)
        # the pairs that could become connectable: both tiles present, not connectable now
        flat = self.occ[0].ravel()
        waiting = (flat[a] & flat[b]).astype(bool)
        waiting[legal] = False
        q = np.flatnonzero(waiting)
        if not len(q):
            return counts
        # A tile can leave through a cell emptied next to it: the tiles that are free on some removal's board.
        # (No such pair is a pair of neighbours: two present neighbours of one kind are always connectable.)
        ff = self.free.ravel().astype(bool)
        near = np.zeros(PP, dtype=bool)
        for cell in (u, v):
            near[np.concatenate((cell - 1, cell + 1, cell - P, cell + P))] = True
        maybe = ff | near
        q = q[maybe[a[q]] & maybe[b[q]]]
        if not len(q):
            return counts
        # per removal: the tiles free on its board (the two removed tiles are gone) ...
        rows = np.arange(m)
        free = np.repeat(ff[None], m, axis=0)
        for cell in (u, v):
            for step in (-1, 1, -P, P):  # a neighbour that is a tile (ring cells are never tiles)
                nb = cell + step
                free[rows, nb] |= flat[nb].astype(bool)
        free[rows, u] = free[rows, v] = False
        # ... and the cells whose emptying can change the path test's answer for each pair (a pair is tested
        # on a removal's board only if the removal empties one of them). Every such pair fails the test on
        # this board (a tile that cannot leave sees only its own row and column, walled in by neighbours):
        # through every row x both tiles see (V-H-V), the row is blocked between the columns. Emptying cells
        # changes what a tile sees only by removing the tile that stops its view (the blocker above or below
        # it; a freed tile's new exit is one), and opens a seen row only if the row holds at most two tiles
        # between the columns. H-V-H: the same, transposed.
        n = len(q)
        qa, qb = a[q], b[q]
        occ_now = self.occ
        acc_now = np.maximum.accumulate(np.concatenate((occ_now, occ_now[:, ::-1])) * self._ri1, axis=1).ravel()
        g = acc_now[self._acc_index[:, :, q]]  # (4, 2, n) as in connectable()
        lo, hi_rev = np.maximum(g[0], g[1]), np.maximum(g[2], g[3])
        prefix = occ_now[::-1].cumsum(axis=1).reshape(2 * P, P)
        seg = prefix[self._seg_index[:, :, q]]  # (2, 2, n, P)
        opens = self._span[lo, hi_rev] & (seg[0] - seg[1] <= 2)  # (2, n, P): seen rows (columns) <= 2 tiles
        x = np.arange(P)[:, None]
        ra, ca, rb, cb = qa // P, qa % P, qb // P, qb % P
        between_c = (x > np.minimum(ca, cb)) & (x < np.maximum(ca, cb))  # (P, n)
        between_r = (x > np.minimum(ra, rb)) & (x < np.maximum(ra, rb))
        trigger = (opens[0].T[:, None, :] & between_c[None, :, :]) | (between_r[:, None, :] & opens[1].T[None, :, :])
        trigger = trigger.reshape(PP, n)
        cols = np.arange(n)
        # the blockers: up/down in the tiles' columns (o=0), left/right in their rows (o=1); 0 = none
        for k_, (r_, c_) in enumerate(((ra, ca), (rb, cb), (ra, ca), (rb, cb))):
            for o in (0, 1):
                gk = g[k_, o]
                line = gk - 1 if k_ < 2 else P - gk  # the blocker's row (o=0) or column (o=1)
                cell = line * P + c_ if o == 0 else r_ * P + line
                has = gk > 0
                trigger[cell[has], cols[has]] = True
        live = (trigger[u] | trigger[v]) & free[:, qa] & free[:, qb]
        pi, k = np.nonzero(live)
        if not len(pi):
            return counts
        qi = q[k]
        # each removal's board: occupancy (and its transpose) with the two cells emptied; the test of
        # connectable() on every combination (int8: the values are at most P, and the arrays are big here)
        occ = np.repeat(self.occ[None].astype(np.int8), m, axis=0)
        flat_b = occ.reshape(m, 2 * PP)
        for cell, r, c in ((u, ru, cu), (v, rv, cv)):
            flat_b[rows, cell] = 0
            flat_b[rows, PP + c * P + r] = 0
        ri1 = self._ri1.astype(np.int8)
        acc = np.maximum.accumulate(np.concatenate((occ, occ[:, :, ::-1]), axis=1) * ri1, axis=2)
        g = acc.reshape(m, 4 * PP)[pi, self._acc_index[:, :, qi]]  # (4, 2, k)
        lo = np.maximum(g[0], g[1])
        hi_rev = np.maximum(g[2], g[3])
        prefix = occ[:, ::-1].cumsum(axis=2, dtype=np.int8).reshape(m, 2 * P, P)
        seg = prefix[pi, self._seg_index[:, :, qi]]  # (2, 2, k, P)
        ok = ((seg[0] <= seg[1]) & self._span[lo, hi_rev]).any(axis=2)
        return counts + np.bincount(pi[ok[0] | ok[1]], minlength=m)


@functools.lru_cache(maxsize=None)
def _grid_constants(P: int) -> tuple[np.ndarray, np.ndarray]:
    """Per padded size P (a table is built per deal and per restored state, so these are made once):
    row numbers 1..P as a column, and span[lo, hi_rev, x] = lo <= x <= P-1-hi_rev (x lies in both tiles'
    intervals). Read-only."""
    ri1 = np.arange(1, P + 1, dtype=np.int64)[:, None]
    x = np.arange(P)
    span = (x[None, None, :] >= x[:, None, None]) & (x[None, None, :] <= P - 1 - x[None, :, None])
    ri1.setflags(write=False)
    span.setflags(write=False)
    return ri1, span


@functools.lru_cache(maxsize=None)
def _upper_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(n, 1)``, made once per n (read-only)."""
    i, j = np.triu_indices(n, 1)
    i.setflags(write=False)
    j.setflags(write=False)
    return i, j


def _same_kind_pairs(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat cell indices (a, b), a < b, of every pair of non-empty cells of the same kind, sorted."""
    flat = grid.ravel()
    cells = np.flatnonzero(flat >= 0)
    order = np.lexsort((cells, flat[cells]))
    cells, kinds = cells[order], flat[cells][order]
    pa, pb = [], []
    for group in np.split(cells, np.flatnonzero(np.diff(kinds)) + 1):
        if len(group) > 1:
            i, j = _upper_pairs(len(group))
            pa.append(group[i])
            pb.append(group[j])
    if not pa:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    a, b = np.concatenate(pa), np.concatenate(pb)
    order = np.lexsort((b, a))
    return a[order], b[order]


def connectable_pairs(grid: np.ndarray) -> list[Pair]:
    """Every pair of identical tiles on ``grid`` (kind ids, -1 empty) joined by a path of at most 2 turns."""
    return PairTable(grid).connectable()


# -- prompts -------------------------------------------------------------------------------------------
#: The end of G1's tile-matching prompts (gamematch.py:465 and gamematch_cifar.py:527 at 716e666).
G1_PAIR_INSTRUCTIONS = (
    "Please analyze the game board and identify two matching tiles that can be connected according to these "
    "rules.\n"
    "Return your answer as follows:\n"
    "1. First coordinate: (row1, col1)\n"
    "2. Second coordinate: (row2, col2)\n"
    "Where row and col are 0-indexed numbers such as (0, 1), starting from the top-left of the board.\n"
    "First describe the board in <perception></perception>. Then output your thinking process in <think></think> "
    "and final action in <answer>(row1, col1) (row2, col2)</answer>."
)
#: g1bench's: G1's, after a line with the board size (which matters on larger boards).
V1_PAIR_INSTRUCTIONS = "The board has {rows} rows and {cols} columns.\n" + G1_PAIR_INSTRUCTIONS
#: G1's prompt, byte for byte (gamematch.py:465), quirks included: the colour line and "etc." lines list
#: the released code's palette whatever the board shows.
G1_PROMPT = (
    "You are playing a 'Shisen-sho' puzzle game.\n"
    "The goal is to match pairs of identical tiles by connecting them with a path that has at most 2 turns and "
    "doesn't cross any other tiles.\n"
    "The tiles are distinguished by their color and shape:\n"
    "- Red, Green, Blue, Yellow, Magenta, Cyan, etc.\n"
    "- Shapes include: circle, square, triangle, diamond, cross, star, etc.\n" + G1_PAIR_INSTRUCTIONS
)
#: g1bench's: names the configured colours and shapes, and the board size.
G1BENCH_V1_PROMPT = (
    "You are playing a 'Shisen-sho' puzzle game.\n"
    "The goal is to match pairs of identical tiles by connecting them with a path that has at most 2 turns and "
    "doesn't cross any other tiles.\n"
    "The tiles are distinguished by their color and shape:\n"
    "- Colors: {colors}\n"
    "- Shapes: {shapes}\n" + V1_PAIR_INSTRUCTIONS
)


# -- the game ------------------------------------------------------------------------------------------
class ShisenSho(PairActions, Game):
    """Shisen-Sho: remove pairs of identical tiles joined by a path with at most two turns.

    * A deal samples ``n_kinds`` distinct (colour, shape) kinds from the palette (colours x shapes) with the
      env's RNG, places each kind ``copies`` times (rows*cols / n_kinds; 4 in the paper) and shuffles the
      board with the same RNG. A deal whose board has no connectable pair is thrown away and the deal is
      repeated with the next draws of the same RNG (so a seed still fixes the board).
    * Two tiles match iff they are at different cells, both non-empty, of the identical kind, and joined by
      a path of horizontal and vertical segments with at most 2 turns (3 segments) through empty cells. The
      path may leave the board through a one-cell empty ring around it, but no further.
    * A match removes both tiles: score += 1, moves += 1, success (reward +1), score_delta 1. Anything else
      is not valid: success False, score_delta 0, state unchanged, with the reason in ``Outcome.reason``.
    * The game is over when the board is empty or no connectable pair is left.
    * Actions are ``(r1, c1, r2, c2)``, 0-indexed from the top-left; ``(a, b)`` and ``(b, a)`` are the same
      move. Coordinates are kept as tuples, so no board size can alias (the original's base-6 encoding bug).
    """

    name = "shisensho"
    env_name = "ShisenSho"
    # v1: the paper preset shows G1's prompt and reads answers with G1's grammar
    version = 1
    prompts = {
        "g1-paper": PromptText("g1-paper", G1_PROMPT, "G1 vlmgym/sandbox/games/gamematch.py @ 716e666"),
        "g1bench-v1": PromptText("g1bench-v1", G1BENCH_V1_PROMPT, "g1bench"),
    }
    Config = ConfigShisenSho
    summary = "Match identical coloured shapes joined by a path with at most 2 turns (paper: 6x6)."
    default_cell_px = 84  # the largest cell; bigger boards get smaller cells (see cell_px)
    #: frames aim at about this many pixels per side when cell_px is 0
    target_board_px = 672

    def __init__(self, config: BoardConfig):
        super().__init__(config)
        self._rows, self._cols = config.rows, config.cols
        self._names: list[str] = self._kind_universe()  # kind id -> name
        self._name_to_id = {n: i for i, n in enumerate(self._names)}
        self.kinds: list[int] = []  # kind ids in play (sorted after a deal)
        # indexed by kind id; -1 (empty) picks the last entry
        self._cell_text = [f" {n} " for n in self._names] + [" - "]
        self._cell_name: list[str | None] = [*self._names, None]
        self._set_board(np.full((self._rows, self._cols), -1, dtype=np.int64))

    # -- hooks the image variant overrides -------------------------------------------------------------
    def _kind_universe(self) -> list[str]:
        """Names of every kind a deal can use; a kind id indexes this list."""
        return [f"{color} {shape}" for color, shape in self.config.palette]

    def _draw_tiles(self, rng: np.random.Generator) -> np.ndarray:
        """One deal's board of kind ids, drawn with ``rng`` (sets ``self.kinds``)."""
        cfg = self.config
        self.kinds = sorted(int(k) for k in rng.choice(len(self._names), size=cfg.kinds_count, replace=False))
        tiles = np.repeat(np.asarray(self.kinds, dtype=np.int64), cfg.copies)
        return rng.permutation(tiles).reshape(self._rows, self._cols)

    def _on_remove(self, cells: Sequence[tuple[int, int]]) -> None:
        """Called after tiles were removed from ``cells``."""

    # -- board bookkeeping ------------------------------------------------------------------------------
    def _set_board(self, grid: np.ndarray) -> None:
        self._grid = grid
        self._table = PairTable(grid)
        self._remaining = int((grid >= 0).sum())
        self._invalidate()

    def _invalidate(self) -> None:
        self._cache_key: bytes | None = None
        self._legal: list[Pair] = []
        self._legal_set: frozenset[Pair] = frozenset()
        self._text_key: bytes | None = None

    def _refresh(self) -> None:
        """Recompute the connectable pairs if the board changed since the last time (keyed on the board)."""
        key = self._grid.tobytes()
        if key == self._cache_key:
            return
        self._legal = self._table.connectable()
        self._legal_set = frozenset(self._legal)
        self._cache_key = key

    @property
    def shape(self) -> tuple[int, int]:
        return self._rows, self._cols

    @property
    def cell_px(self) -> int:
        """config.cell_px, or (when 0) ``default_cell_px`` shrunk so the board is about 672 px wide."""
        return self.config.cell_px or max(32, min(self.default_cell_px, self.target_board_px // max(self.shape)))

    @property
    def remaining(self) -> int:
        """Tiles left on the board."""
        return self._remaining

    # -- rules ---------------------------------------------------------------------------------------
    def deal(self, rng: np.random.Generator) -> None:
        for _ in range(MAX_DEALS):
            self._set_board(self._draw_tiles(rng))
            self._refresh()
            if self._legal:
                break
        else:  # pragma: no cover - needs a pathological config
            raise RuntimeError(f"no deal with a connectable pair in {MAX_DEALS} tries for {self.config}")
        self.score = 0
        self.moves = 0

    def legal_actions(self) -> list[Pair]:
        self._refresh()
        return list(self._legal)

    def legal_counts_after(self, actions: Sequence[Pair]) -> list[int]:
        """For each legal action, ``len(legal_actions())`` after playing it, without playing it (one
        vectorised pass, :meth:`PairTable.counts_after`; the look-ahead of the oracle baseline)."""
        self._refresh()
        norm = [a if (a[0], a[1]) <= (a[2], a[3]) else (a[2], a[3], a[0], a[1]) for a in actions]
        if any(a not in self._legal_set for a in norm):
            raise ValueError("legal_counts_after takes legal actions only")
        return self._table.counts_after(norm).tolist()

    def is_over(self) -> bool:
        self._refresh()
        return not self._legal

    def apply(self, action: Pair, rng: np.random.Generator) -> Outcome:
        r1, c1, r2, c2 = action
        if (r2, c2) < (r1, c1):
            r1, c1, r2, c2 = r2, c2, r1, c1
        self._refresh()
        if (r1, c1, r2, c2) not in self._legal_set:
            return Outcome(False, False, 0, False, reason=self._why_not(r1, c1, r2, c2))
        self._grid[r1, c1] = self._grid[r2, c2] = -1
        self._table.remove(r1, c1)
        self._table.remove(r2, c2)
        self._remaining -= 2
        self._on_remove(((r1, c1), (r2, c2)))
        self.score += 1
        self.moves += 1
        self._refresh()
        return Outcome(True, True, 1, not self._legal)

    def _why_not(self, r1: int, c1: int, r2: int, c2: int) -> str:
        if (r1, c1) == (r2, c2):
            return "same cell"
        k1, k2 = int(self._grid[r1, c1]), int(self._grid[r2, c2])
        if k1 < 0:
            return f"cell ({r1}, {c1}) is empty"
        if k2 < 0:
            return f"cell ({r2}, {c2}) is empty"
        if k1 != k2:
            return f"tiles differ: {self._names[k1]} vs {self._names[k2]}"
        return "no path with at most 2 turns"

    # -- views ---------------------------------------------------------------------------------------
    def prompt_fields(self) -> dict[str, Any]:
        cfg = self.config
        return {"rows": self._rows, "cols": self._cols, "colors": ", ".join(cfg.colors), "shapes": ", ".join(cfg.shapes)}

    def _texts(self) -> tuple[str, list[list[str | None]]]:
        key = self._grid.tobytes()
        if key != self._text_key:
            rows = self._grid.tolist()
            text, name = self._cell_text.__getitem__, self._cell_name.__getitem__
            self._perception = "\n".join(["|".join(map(text, row)) for row in rows])
            self._cells = [list(map(name, row)) for row in rows]
            self._text_key = key
        return self._perception, self._cells

    def perception_text(self) -> str:
        return self._texts()[0]

    def structured_state(self) -> dict[str, Any]:
        cells = self._texts()[1]
        return {
            "rows": self._rows,
            "cols": self._cols,
            "cells": [row[:] for row in cells],
            "kinds": [self._names[k] for k in self.kinds],
            "remaining": self.remaining,
        }

    def status_text(self) -> str:
        return f"Score: {self.score}   Remaining: {self.remaining}"

    # -- snapshots -----------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """``kinds``: names of the kinds dealt; ``board``: per cell an index into ``kinds`` or -1 (empty)."""
        lut = np.full(len(self._names) + 1, -1, dtype=np.int64)
        lut[np.asarray(self.kinds, dtype=np.int64) + 1] = np.arange(len(self.kinds))
        return {
            "kinds": [self._names[k] for k in self.kinds],
            "board": lut[self._grid + 1].tolist(),
            "score": self.score,
            "moves": self.moves,
        }

    def _check_state(self, state: Any) -> tuple[list[int], np.ndarray]:
        """Validate the shared part of a snapshot; returns (kind ids, grid of kind ids)."""
        if not isinstance(state, dict):
            raise ValueError(f"state must be a dict, got {type(state).__name__}")
        missing = [k for k in ("kinds", "board", "score", "moves") if k not in state]
        if missing:
            raise ValueError(f"state is missing {missing}")
        kinds = state["kinds"]
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise ValueError("state['kinds'] must be a list of kind names")
        unknown = [k for k in kinds if k not in self._name_to_id]
        if unknown:
            raise ValueError(f"state['kinds'] has kinds this config cannot deal: {unknown}")
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"state['kinds'] has duplicates: {kinds}")
        board = state["board"]
        R, C = self._rows, self._cols
        if not isinstance(board, list) or len(board) != R or any(not isinstance(r, list) or len(r) != C for r in board):
            raise ValueError(f"state['board'] must be {R} lists of {C} cells")
        if any(isinstance(v, bool) or not isinstance(v, int) or not -1 <= v < len(kinds) for row in board for v in row):
            raise ValueError(f"state['board'] cells must be -1 (empty) or an index into kinds (0..{len(kinds) - 1})")
        for key in ("score", "moves"):
            v = state[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"state[{key!r}] must be a non-negative integer, got {v!r}")
        ids = [self._name_to_id[k] for k in kinds]
        lut = np.asarray([-1] + ids, dtype=np.int64)
        return ids, lut[np.asarray(board, dtype=np.int64) + 1]

    def set_state(self, state: dict[str, Any]) -> None:
        ids, grid = self._check_state(state)
        self.kinds = ids
        self._set_board(grid)
        self.score = int(state["score"])
        self.moves = int(state["moves"])

    # -- rendering -----------------------------------------------------------------------------------
    def cell_keys(self) -> np.ndarray:
        """Kind id + 1 (0 = empty); kind ids index the config's palette, so keys mean the same in every deal."""
        return self._grid + 1

    def draw_sprite(self, key: int, cell_px: int) -> np.ndarray:
        if key == 0:
            return empty_cell(cell_px)
        color, shape = self.config.palette[key - 1]
        return shape_tile(shape, COLORS[color], cell_px)

"""2048 on an N x N board (4 x 4 in the paper)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from ..core.answer import ParseError, parse_int_answer
from ..core.config import ConfigError, GameConfig, knob, paper_protocol
from ..core.game import Game, Outcome, PromptText
from ..render.font import fit_scale, stamp_centered

DIRECTIONS = ("Up", "Right", "Down", "Left")

_TILE_COLORS = {
    0: (205, 193, 180), 1: (238, 228, 218), 2: (237, 224, 200), 3: (242, 177, 121), 4: (245, 149, 99),
    5: (246, 124, 95), 6: (246, 94, 59), 7: (237, 207, 114), 8: (237, 204, 97), 9: (237, 200, 80),
    10: (237, 197, 63), 11: (237, 194, 46),
}
_BOARD = (187, 173, 160)
_DARK_TEXT, _LIGHT_TEXT = (119, 110, 101), (249, 246, 242)


@dataclass(frozen=True)
class Config2048(GameConfig):
    """Knobs of 2048."""

    size: int = knob(4, "reasoning", "Board side (the paper uses 4).")
    colored: bool = knob(True, "perception", "Colour tiles by value (False: every tile the same colour, read the digits).")

    presets: ClassVar = {
        "paper": {**paper_protocol("2048")},
        "base": {},
        "mono": {"colored": False},
        "large": {"size": 6, "cell_px": 84},
        "composition": {"size": 6, "cell_px": 84, "colored": False},
    }
    preset_grid: ClassVar = {
        "base": ("base", "base"), "mono": ("mono", "base"), "large": ("base", "large"),
        "composition": ("mono", "large"), "paper": ("base", "base"),
    }

    def validate(self) -> None:
        super().validate()
        self._int_range("size", 2, 8)
        if not isinstance(self.colored, bool):
            raise ConfigError(f"Config2048.colored must be true or false, got {self.colored!r}")


def slide_line(line: list[int]) -> tuple[list[int], int]:
    """Slide one line of exponents towards index 0, merging equal neighbours once.

    Returns the new line and the merge score (the sum of the values of the merged tiles, as a Python
    int so it never wraps around).
    """
    tiles = [v for v in line if v]
    out: list[int] = []
    score = 0
    i = 0
    while i < len(tiles):
        if i + 1 < len(tiles) and tiles[i] == tiles[i + 1]:
            out.append(tiles[i] + 1)
            score += 2 ** (tiles[i] + 1)
            i += 2
        else:
            out.append(tiles[i])
            i += 1
    out.extend([0] * (len(line) - len(out)))
    return out, score


def move_board(board: list[list[int]], direction: int) -> tuple[list[list[int]], int]:
    """The board after sliding in ``direction`` (0 Up, 1 Right, 2 Down, 3 Left) and the merge score."""
    n = len(board)
    score = 0
    new = [[0] * n for _ in range(n)]
    for k in range(n):
        if direction == 0:
            line = [board[r][k] for r in range(n)]
        elif direction == 2:
            line = [board[r][k] for r in range(n - 1, -1, -1)]
        elif direction == 3:
            line = board[k][:]
        else:
            line = board[k][::-1]
        out, s = slide_line(line)
        score += s
        for i, v in enumerate(out):
            if direction == 0:
                new[i][k] = v
            elif direction == 2:
                new[n - 1 - i][k] = v
            elif direction == 3:
                new[k][i] = v
            else:
                new[k][n - 1 - i] = v
    return new, score


#: G1's prompt, byte for byte (game2048.py:11 at 716e666), quirks included: "Only Tiles", "</perception>.Then".
G1_PROMPT = (
    "You are now playing the 2048 game. 2048 is a sliding tile puzzle game where you combine numbered tiles to "
    "create a tile with the value 2048.\n\n"
    "Rule:\nOnly Tiles with the SAME number merge when they collide. After each move, a new tile (2 or 4) appears "
    "randomly on the board. The game ends when there are no more valid moves.\n\n"
    "Available actions:\n"
    "- (0): Up (slide all tiles upward)\n"
    "- (1): Right (slide all tiles to the right)\n"
    "- (2): Down (slide all tiles downward)\n"
    "- (3): Left (slide all tiles to the left)\n"
    "What action should you take to achieve the highest score and reach the 2048 tile?\n\n"
    "First describe the board in <perception></perception>.Then output your thinking process in <think></think> "
    "and final action number in <answer></answer>."
)
#: g1bench's prompt: G1's with the two typos fixed.
G1BENCH_V1_PROMPT = (
    "You are now playing the 2048 game. 2048 is a sliding tile puzzle game where you combine numbered "
    "tiles to create a tile with the value 2048.\n\n"
    "Rule:\nOnly tiles with the SAME number merge when they collide. After each move, a new tile (2 or 4) "
    "appears randomly on the board. The game ends when there are no more valid moves.\n\n"
    "Available actions:\n"
    "- (0): Up (slide all tiles upward)\n"
    "- (1): Right (slide all tiles to the right)\n"
    "- (2): Down (slide all tiles downward)\n"
    "- (3): Left (slide all tiles to the left)\n"
    "What action should you take to achieve the highest score and reach the 2048 tile?\n\n"
    "First describe the board in <perception></perception>. Then output your thinking process in "
    "<think></think> and final action number in <answer></answer>."
)


class TwentyFortyEight(Game):
    """2048: slide all tiles in one direction; equal tiles that collide merge.

    * Board cells hold exponents (0 = empty, 1 = tile 2, 2 = tile 4, ...).
    * A deal places 2 tiles. After every move that changes the board one tile spawns on a uniformly
      chosen empty cell: 2 with probability 0.9, 4 with probability 0.1 (cell first, then value).
    * A move that leaves the board unchanged is illegal: nothing spawns and the state is unchanged.
    * Success (reward +1) = the move merged tiles; score_delta = the sum of the merged tiles' values.
    * The game is over when no move changes the board.
    """

    name = "2048"
    env_name = "2048"
    # v1: the paper preset shows G1's prompt and reads answers with G1's grammar
    version = 1
    prompts = {
        "g1-paper": PromptText("g1-paper", G1_PROMPT, "G1 vlmgym/sandbox/games/game2048.py @ 716e666"),
        "g1bench-v1": PromptText("g1bench-v1", G1BENCH_V1_PROMPT, "g1bench"),
    }
    Config = Config2048
    summary = "Slide and merge numbered tiles (paper: 4x4)."
    default_cell_px = 112
    background = (250, 248, 239)
    ink = _DARK_TEXT

    def __init__(self, config: Config2048):
        super().__init__(config)
        n = config.size
        self.board: list[list[int]] = [[0] * n for _ in range(n)]
        self._moves_cache: tuple[tuple, list] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.config.size, self.config.size

    # -- rules ---------------------------------------------------------------------------------------
    def _spawn(self, rng: np.random.Generator) -> None:
        empty = [(r, c) for r, row in enumerate(self.board) for c, v in enumerate(row) if v == 0]
        if not empty:
            return
        r, c = empty[int(rng.integers(len(empty)))]
        self.board[r][c] = 1 if rng.random() < 0.9 else 2

    def deal(self, rng: np.random.Generator) -> None:
        n = self.config.size
        self.board = [[0] * n for _ in range(n)]
        self.score = 0
        self.moves = 0
        self._spawn(rng)
        self._spawn(rng)

    def _all_moves(self) -> list[tuple[list[list[int]], int, bool]]:
        """(board, score, changed) for each direction, cached for the current board."""
        key = tuple(map(tuple, self.board))
        if self._moves_cache is None or self._moves_cache[0] != key:
            results = []
            for d in range(4):
                new, s = move_board(self.board, d)
                results.append((new, s, new != self.board))
            self._moves_cache = (key, results)
        return self._moves_cache[1]

    def legal_actions(self) -> list[int]:
        return [d for d, (_, _, changed) in enumerate(self._all_moves()) if changed]

    def apply(self, action: int, rng: np.random.Generator) -> Outcome:
        new, gained, changed = self._all_moves()[action]
        if not changed:
            return Outcome(False, False, 0, False, reason=f"moving {DIRECTIONS[action]} does not change the board")
        self.board = [row[:] for row in new]
        self.score += gained
        self.moves += 1
        self._spawn(rng)
        return Outcome(True, gained > 0, gained, self.is_over())

    # -- actions -------------------------------------------------------------------------------------
    def action_space(self) -> gym.Space:
        return gym.spaces.Discrete(4)

    def coerce_action(self, action: Any) -> int | ParseError:
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            if isinstance(action, np.ndarray) and action.shape == () and np.issubdtype(action.dtype, np.integer):
                action = int(action)
            else:
                return ParseError(f"2048 actions are integers 0-3, got {action!r}")
        action = int(action)
        if not 0 <= action < 4:
            return ParseError(f"action {action} is out of range 0-3")
        return action

    def parse_answer(self, text: str) -> int | ParseError:
        return parse_int_answer(text, 4, self.config.answer_grammar)

    def format_action(self, action: int) -> str:
        return f"<answer>{int(action)}</answer>"

    # -- views ---------------------------------------------------------------------------------------
    def perception_text(self) -> str:
        return "\n".join("|".join(f" {2 ** v} " if v else " - " for v in row) for row in self.board)

    def structured_state(self) -> dict[str, Any]:
        n = self.config.size
        return {"rows": n, "cols": n, "cells": [[2 ** v if v else 0 for v in row] for row in self.board]}

    def get_state(self) -> dict[str, Any]:
        return {"board": [row[:] for row in self.board], "score": self.score, "moves": self.moves}

    def set_state(self, state: dict[str, Any]) -> None:
        board = state["board"]
        n = self.config.size
        if len(board) != n or any(len(row) != n for row in board):
            raise ValueError(f"board must be {n}x{n}")
        if any(not isinstance(v, int) or not 0 <= v <= 30 for row in board for v in row):
            raise ValueError("board cells must be exponents 0..30")
        score, moves = state["score"], state["moves"]
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in (score, moves)):
            raise ValueError("score and moves must be non-negative integers")
        self.board = [list(row) for row in board]
        self.score, self.moves = score, moves

    # -- rendering -----------------------------------------------------------------------------------
    def cell_keys(self) -> np.ndarray:
        return np.array(self.board, dtype=np.int64)

    def draw_sprite(self, key: int, cell_px: int) -> np.ndarray:
        img = np.empty((cell_px, cell_px, 3), dtype=np.uint8)
        img[:] = _BOARD
        pad = max(2, cell_px // 22)
        color = _TILE_COLORS.get(key, (60, 58, 50)) if (self.config.colored or key == 0) else (238, 228, 218)
        img[pad : cell_px - pad, pad : cell_px - pad] = color
        if key:
            text = str(2**key)
            inner = cell_px - 2 * pad
            scale = fit_scale(text, int(inner * 0.8), int(inner * 0.45))
            ink = _DARK_TEXT if (key <= 2 or not self.config.colored) else _LIGHT_TEXT
            stamp_centered(img, text, scale, ink)
        return img

    def status_text(self) -> str:
        return f"Score: {self.score}"

"""The frame composer shared by every game.

A frame is: an optional label margin (column indices on top, row indices on the left), the board
(one cached sprite per cell) and a status bar underneath, padded so that both sides are multiples of
``config.patch`` (28 px by default, the merged-patch size of Qwen2.5-VL), with no aspect distortion.

Frames are composed incrementally: only cells whose sprite key changed since the last frame are
re-blitted, and every sprite is drawn once per (game tiles, key, size) and then reused.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Hashable

import numpy as np

from ..core.hashing import content_hash
from .font import GLYPH_H, fit_scale, font_data, stamp, text_mask, text_width

if TYPE_CHECKING:
    from ..core.game import Game

#: changes whenever the composer or the font draws different pixels for the same input
RENDERER_VERSION = "r1-" + content_hash(font_data(), 8)

# (sprite namespace, key, cell_px) -> sprite; shared by all canvases in the process
_SPRITES: dict[tuple[Hashable, int, int], np.ndarray] = {}
_MAX_SPRITES = 20_000


def _ceil_to(x: int, m: int) -> int:
    return -(-x // m) * m


class Canvas:
    """Draws a :class:`~g1bench.core.game.Game` into RGB frames of a fixed size."""

    def __init__(self, game: "Game"):
        self.rows, self.cols = game.shape
        self.cell = game.cell_px
        cfg = game.config
        self.background = np.array(game.background, dtype=np.uint8)
        self.ink = tuple(int(v) for v in game.ink)
        self.margin = max(20, self.cell // 2) if cfg.labels else 0
        self.bar_h = max(28, self.cell // 2)
        board_w, board_h = self.cols * self.cell, self.rows * self.cell
        self.width = _ceil_to(self.margin + board_w, cfg.patch)
        self.height = _ceil_to(self.margin + board_h + self.bar_h, cfg.patch)
        self.ox = self.margin + (self.width - self.margin - board_w) // 2
        self.oy = self.margin
        self.bar_top = self.oy + board_h
        self.namespace = game.sprite_namespace()
        self._base = np.empty((self.height, self.width, 3), dtype=np.uint8)
        self._base[:] = self.background
        if cfg.labels:
            self._draw_labels()
        self.invalidate()

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.width, self.height

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The (row, col) of the board cell under pixel (x, y) of a frame, or None off the board
        (for clickable frames: a person playing in a browser)."""
        c = int((x - self.ox) // self.cell) if x >= self.ox else -1
        r = int((y - self.oy) // self.cell) if y >= self.oy else -1
        return (r, c) if 0 <= r < self.rows and 0 <= c < self.cols else None

    def cell_box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) pixel box of a board cell in the frame."""
        x, y = self.ox + col * self.cell, self.oy + row * self.cell
        return (x, y, x + self.cell, y + self.cell)

    def invalidate(self) -> None:
        """Forget what was drawn (the next frame is composed from scratch). Cheap: the buffer is reset only
        when the next frame is drawn (snapshots restore states far more often than frames are drawn)."""
        self._stale = True
        #: an id of the last rendered frame: equal ids mean pixel-identical frames
        self.frame_id: str | None = None

    def _fresh(self) -> None:
        self._buf = self._base.copy()
        self._keys = np.full((self.rows, self.cols), -1, dtype=np.int64)
        self._status: str | None = None
        self._stale = False

    def _draw_labels(self) -> None:
        m = self.margin
        scale = fit_scale(str(max(self.rows, self.cols) - 1), m - 6, m - 6)
        scale = min(scale, max(1, self.cell // 20))
        for c in range(self.cols):
            mask = text_mask(str(c), scale)
            x = self.ox + c * self.cell + (self.cell - mask.shape[1]) // 2
            stamp(self._base, mask, (m - mask.shape[0]) // 2, x, self.ink)
        for r in range(self.rows):
            mask = text_mask(str(r), scale)
            y = self.oy + r * self.cell + (self.cell - mask.shape[0]) // 2
            stamp(self._base, mask, y, self.ox - m + (m - mask.shape[1]) // 2, self.ink)

    def _sprite(self, game: "Game", key: int) -> np.ndarray:
        k = (self.namespace, key, self.cell)
        sprite = _SPRITES.get(k)
        if sprite is None:
            sprite = np.ascontiguousarray(game.draw_sprite(key, self.cell), dtype=np.uint8)
            if sprite.shape != (self.cell, self.cell, 3):
                raise ValueError(f"{type(game).__name__}.draw_sprite returned {sprite.shape}, need {(self.cell, self.cell, 3)}")
            sprite.setflags(write=False)
            if len(_SPRITES) >= _MAX_SPRITES:
                _SPRITES.clear()
            _SPRITES[k] = sprite
        return sprite

    def render(self, game: "Game", copy: bool = True) -> np.ndarray:
        """The current frame of ``game`` as a (height, width, 3) uint8 array."""
        if self._stale:
            self._fresh()
        keys = game.cell_keys()
        changed = np.argwhere(keys != self._keys)
        buf, cell = self._buf, self.cell
        for r, c in changed.tolist():
            y, x = self.oy + r * cell, self.ox + c * cell
            buf[y : y + cell, x : x + cell] = self._sprite(game, int(keys[r, c]))
        self._keys = keys.copy()
        status = game.status_text()
        if status != self._status:
            self._draw_status(status)
        # the frame is a pure function of (namespace, keys, status): name it without hashing pixels
        h = hashlib.blake2b(repr((self.namespace, self.width, self.height, status)).encode(), digest_size=10)
        h.update(keys.tobytes())
        self.frame_id = h.hexdigest()
        return buf.copy() if copy else buf

    def _draw_status(self, status: str) -> None:
        bar = self._buf[self.bar_top : self.bar_top + self.bar_h]
        bar[:] = self._base[self.bar_top : self.bar_top + self.bar_h]
        scale = max(1, min((self.bar_h - 8) // GLYPH_H, 3))
        while scale > 1 and text_width(status, scale) > self.width - 8:
            scale -= 1
        mask = text_mask(status, scale)[:, : self.width - 8]
        stamp(bar, mask, (self.bar_h - mask.shape[0]) // 2, 4 + self.ox - self.margin, self.ink)
        self._status = status

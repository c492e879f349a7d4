"""Coloured shape sprites for the tile games (Shisen-Sho, Swap), drawn with numpy masks."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: colour name -> RGB. The first six are the paper's HEAD palette; the rest its commented-out extension.
COLORS: dict[str, tuple[int, int, int]] = {
    "Red": (255, 0, 0),
    "Green": (0, 255, 0),
    "Blue": (0, 0, 255),
    "Yellow": (255, 255, 0),
    "Magenta": (255, 0, 255),
    "Cyan": (0, 255, 255),
    "Maroon": (128, 0, 0),
    "Dark green": (0, 128, 0),
    "Navy": (0, 0, 128),
    "Olive": (128, 128, 0),
    "Purple": (128, 0, 128),
    "Teal": (0, 128, 128),
    "Orange": (255, 165, 0),
    "Brown": (139, 69, 19),
    "Steel blue": (70, 130, 180),
    "Pink": (219, 112, 147),
}

#: The paper's six shapes first. Unlike the original (which drew "star" as an X), each name is drawn as
#: what it says: "cross" is a plus sign and "star" a five-pointed star.
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "diamond", "cross", "star", "hexagon", "pentagon")

WHITE = (255, 255, 255)
GRID = (200, 200, 200)
BLACK = (0, 0, 0)


def _polygon_mask(n: int, points: np.ndarray) -> np.ndarray:
    """Even-odd fill of a polygon given in pixel-centre coordinates on an n x n grid."""
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float64) + 0.5
    inside = np.zeros((n, n), dtype=bool)
    px, py = points[:, 0], points[:, 1]
    qx, qy = np.roll(px, -1), np.roll(py, -1)
    for x0, y0, x1, y1 in zip(px, py, qx, qy):
        crosses = (y0 > ys) != (y1 > ys)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x0 + (ys - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (xs < x_at)
    return inside


def _regular(n_pts: int, cx: float, cy: float, r: float, start: float = -np.pi / 2) -> np.ndarray:
    a = start + 2 * np.pi * np.arange(n_pts) / n_pts
    return np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], axis=1)


@lru_cache(maxsize=None)
def shape_mask(shape: str, size: int) -> np.ndarray:
    """Boolean (size, size) mask of a shape centred in a cell with ~12% padding."""
    pad = max(2, round(size * 0.125))
    r = size / 2 - pad
    c = size / 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    dx, dy = xs - c, ys - c
    if shape == "circle":
        return dx * dx + dy * dy <= r * r
    if shape == "square":
        return (np.abs(dx) <= r) & (np.abs(dy) <= r)
    if shape == "diamond":
        return np.abs(dx) + np.abs(dy) <= r
    if shape == "triangle":
        return (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
    if shape == "cross":
        t = r * 0.32
        inside = (np.abs(dx) <= r) & (np.abs(dy) <= r)
        return inside & ((np.abs(dx) <= t) | (np.abs(dy) <= t))
    if shape == "star":
        outer = _regular(5, c, c + r * 0.1, r * 1.05)
        inner = _regular(5, c, c + r * 0.1, r * 0.42, start=-np.pi / 2 + np.pi / 5)
        pts = np.empty((10, 2))
        pts[0::2], pts[1::2] = outer, inner
        return _polygon_mask(size, pts)
    if shape == "hexagon":
        return _polygon_mask(size, _regular(6, c, c, r, start=0.0))
    if shape == "pentagon":
        return _polygon_mask(size, _regular(5, c, c + r * 0.08, r * 1.04))
    raise KeyError(f"unknown shape {shape!r}; shapes: {list(SHAPES)}")


def _erode(mask: np.ndarray, k: int) -> np.ndarray:
    out = mask.copy()
    for _ in range(k):
        m = out.copy()
        m[1:, :] &= out[:-1, :]
        m[:-1, :] &= out[1:, :]
        m[:, 1:] &= out[:, :-1]
        m[:, :-1] &= out[:, 1:]
        out = m
    return out


def empty_cell(size: int, background=WHITE, grid=GRID) -> np.ndarray:
    """A blank cell with a 1 px grid line on its top and left edges (the board looks ruled)."""
    img = np.empty((size, size, 3), dtype=np.uint8)
    img[:] = background
    img[0, :] = grid
    img[:, 0] = grid
    return img


def shape_tile(shape: str, color: tuple[int, int, int], size: int) -> np.ndarray:
    """A cell showing ``shape`` filled with ``color`` and a black outline, on a ruled white cell."""
    img = empty_cell(size)
    mask = shape_mask(shape, size)
    img[mask] = color
    outline = mask & ~_erode(mask, max(1, size // 40))
    img[outline] = BLACK
    return img

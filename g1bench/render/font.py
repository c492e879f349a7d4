"""A 5x7 bitmap font drawn with numpy: deterministic everywhere, legible when scaled up."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_GLYPHS: dict[str, tuple[str, ...]] = {
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "D": ("###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
    ":": (".....", "..#..", "..#..", ".....", "..#..", "..#..", "....."),
    "-": (".....", ".....", ".....", "#####", ".....", ".....", "....."),
    "/": ("....#", "....#", "...#.", "..#..", ".#...", "#....", "#...."),
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    ",": (".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."),
    "(": ("...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."),
    ")": (".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."),
    "!": ("..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."),
    "?": (".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."),
    " ": (".....",) * 7,
}
GLYPH_H, GLYPH_W, SPACING = 7, 5, 1


def font_data() -> dict[str, tuple[str, ...]]:
    """The glyph table (hashed into the renderer version)."""
    return dict(_GLYPHS)


@lru_cache(maxsize=None)
def _glyph(ch: str, scale: int) -> np.ndarray:
    glyph = _GLYPHS.get(ch, _GLYPHS["?"])
    mask = np.array([[c == "#" for c in row] for row in glyph], dtype=bool)
    return np.repeat(np.repeat(mask, scale, axis=0), scale, axis=1)


@lru_cache(maxsize=2048)
def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """Boolean (7*scale, width*scale) mask of ``text``; letters are upper-cased, unknown chars become '?'."""
    if scale < 1:
        raise ValueError("scale must be >= 1")
    text = text.upper()
    if not text:
        return np.zeros((GLYPH_H * scale, 0), dtype=bool)
    gap = np.zeros((GLYPH_H * scale, SPACING * scale), dtype=bool)
    parts = []
    for i, ch in enumerate(text):
        if i:
            parts.append(gap)
        parts.append(_glyph(ch, scale))
    mask = np.concatenate(parts, axis=1)
    mask.setflags(write=False)
    return mask


def text_width(text: str, scale: int = 1) -> int:
    return (len(text) * (GLYPH_W + SPACING) - SPACING) * scale if text else 0


def fit_scale(text: str, max_w: int, max_h: int) -> int:
    """The largest integer scale at which ``text`` fits in max_w x max_h (at least 1)."""
    w = max(text_width(text), 1)
    return max(1, min(max_w // w, max_h // GLYPH_H))


def stamp(img: np.ndarray, mask: np.ndarray, top: int, left: int, color: tuple[int, int, int]) -> None:
    """Paint ``color`` into ``img`` where ``mask`` is set, clipped to the image."""
    h, w = mask.shape
    H, W = img.shape[:2]
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + h, H), min(left + w, W)
    if t1 <= t0 or l1 <= l0:
        return
    sub = mask[t0 - top : t1 - top, l0 - left : l1 - left]
    # copyto with a broadcast mask is several times faster than boolean fancy indexing
    np.copyto(img[t0:t1, l0:l1], np.asarray(color, dtype=img.dtype), where=sub[:, :, None])


def stamp_centered(img: np.ndarray, text: str, scale: int, color: tuple[int, int, int]) -> None:
    mask = text_mask(text, scale)
    top = (img.shape[0] - mask.shape[0]) // 2
    left = (img.shape[1] - mask.shape[1]) // 2
    stamp(img, mask, top, left, color)

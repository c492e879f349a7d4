"""Frames as PNG files for the browser, and the selection highlight drawn on a frame.

Gradio serves an image output from a file. Encoding with g1bench's PNG encoder is 10-20x faster than the
default (PIL, WebP, which is also lossy: a visitor would not see the exact pixels a model sees). Files are
named by a hash of their bytes, so the folder is a write-once cache that sessions cannot disturb: equal
names always mean equal contents.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np

from ..render.png import encode_png

#: colour of the selected-tile frame (an orange no game uses for tiles) and its width as a share of a cell
HIGHLIGHT_RGB = (255, 140, 0)
HIGHLIGHT_WIDTH = 0.08


class FrameStore:
    """Writes frames into ``folder`` as ``<hash>.png`` and prunes files nobody can still be fetching.

    Gradio copies an output file into its own cache while it answers the event, so a file here is only
    needed for a moment; files older than ``keep_s`` seconds are removed once more than ``max_files`` exist.
    """

    def __init__(self, folder: str | os.PathLike, max_files: int = 2000, keep_s: float = 600.0):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_files, self.keep_s = max_files, keep_s
        self._writes = 0

    def png_path(self, frame: np.ndarray) -> str:
        """The path of a PNG file holding ``frame`` (written unless it already exists)."""
        return self.bytes_path(encode_png(frame))

    def bytes_path(self, png: bytes, suffix: str = ".png") -> str:
        """The path of a file holding ``png`` (already-encoded bytes)."""
        name = hashlib.blake2b(png, digest_size=16).hexdigest() + suffix
        path = self.folder / name
        if not path.exists():
            tmp = path.with_name(f".{name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
            tmp.write_bytes(png)
            os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
            self._writes += 1
            if self._writes % 200 == 0:
                self.prune()
        return str(path)

    def prune(self) -> int:
        """Remove old files beyond ``max_files``; returns how many were removed."""
        try:
            entries = [(p.stat().st_mtime, p) for p in self.folder.iterdir() if p.suffix in (".png", ".gif")]
        except OSError:
            return 0
        if len(entries) <= self.max_files:
            return 0
        cutoff = time.time() - self.keep_s
        removed = 0
        for mtime, p in sorted(entries)[: len(entries) - self.max_files]:
            if mtime < cutoff:
                try:
                    p.unlink()
                    removed += 1
                except OSError:
                    pass
        return removed


def highlight(frame: np.ndarray, box: tuple[int, int, int, int], rgb: tuple[int, int, int] = HIGHLIGHT_RGB) -> np.ndarray:
    """A copy of ``frame`` with a rectangle drawn just inside ``box`` (left, top, right, bottom)."""
    out = np.array(frame, copy=True)
    x0, y0, x1, y1 = box
    w = max(2, int(round((x1 - x0) * HIGHLIGHT_WIDTH)))
    colour = np.array(rgb, dtype=np.uint8)
    out[y0 : y0 + w, x0:x1] = colour
    out[y1 - w : y1, x0:x1] = colour
    out[y0:y1, x0 : x0 + w] = colour
    out[y0:y1, x1 - w : x1] = colour
    return out


__all__ = ["FrameStore", "highlight", "HIGHLIGHT_RGB"]

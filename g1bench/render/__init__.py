"""Rendering: one frame composer for every grid game, a built-in bitmap font and shape sprites.

Everything is drawn with numpy from data in this package (no system fonts), so a frame is
pixel-identical in every process and on every machine that runs the same g1bench version.
"""

from .canvas import Canvas, RENDERER_VERSION

__all__ = ["Canvas", "RENDERER_VERSION"]

"""The picture a model is given: the env's frame, resized to the protocol's ``model_frame`` size.

G1's harness resized every frame with PIL before its model saw it (``Image.resize(screen_size, BICUBIC)``:
640x840 for 2048 and 640x640 for the tile games in evaluation, 640x840 for every game in training; spec
sections 2, 4.1 and 6), distorting the aspect ratio. A config's ``model_frame`` knob says whether to do the same
(a ``(width, height)``) or to give the model the frame as drawn (``"native"``). This module is the one place a
drawn frame becomes the model's picture: the eval backends, the training states, the cold-start builder, the
datasets' ``model_frame`` column and the Space's model view all call it. People, replays and GIFs keep the
native frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..core.config import GameConfig


def _filter(name: str):
    from PIL import Image

    return {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR,
            "lanczos": Image.Resampling.LANCZOS, "nearest": Image.Resampling.NEAREST}[name]


def model_frame_size(config: "GameConfig", native_size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of the picture a model gets for a frame of ``native_size`` (width, height)."""
    return tuple(native_size) if config.model_frame == "native" else tuple(config.model_frame)  # type: ignore[return-value]


def to_model_frame(frame: np.ndarray, config: "GameConfig") -> np.ndarray:
    """``frame`` (H x W x 3 uint8, as the env drew it) as the model is given it: the same array when the
    config's ``model_frame`` is ``native`` or already the frame's size, else a new array resized with PIL and
    the config's ``model_resample`` filter (exactly G1's ``img.resize((w, h), Image.BICUBIC)`` for the paper
    presets)."""
    if config.model_frame == "native":
        return frame
    w, h = config.model_frame
    if frame.shape[0] == h and frame.shape[1] == w:
        return frame
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(frame)).resize((w, h), _filter(config.model_resample)))


__all__ = ["model_frame_size", "to_model_frame"]

"""Shisen-Sho with natural-image tiles that match by class (the paper's "Shisen-Sho-Cifar10", 6 x 6)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Hashable, Sequence

import numpy as np

from ..core.config import ConfigError, knob, paper_protocol
from ..core.game import PromptText
from ..core.hashing import content_hash
from ..render.shapes import empty_cell
from ..tiles import TileSet, announce_fallback, resolve_tiles
from .shisensho import G1_PAIR_INSTRUCTIONS, V1_PAIR_INSTRUCTIONS, BoardConfig, ShisenSho

#: G1's prompt (gamematch_cifar.py:527 at 716e666) with the two places that name CIFAR-10 as slots:
#: ``{title}`` ("CIFAR-10") and ``{classes}`` ("airplane, automobile, ..., ship, and truck"). Filled from the
#: CIFAR-10 tiles it is G1's text byte for byte. Any other tile source (the bundled pack, offline) puts its
#: own name and classes there: the perception ground truth names the classes really shown, and a prompt
#: promising CIFAR-10 airplanes over emoji animals would make that target unreachable.
G1_PROMPT = (
    "You are playing a Shisen-sho puzzle game that uses {title} images. Each tile on the board corresponds to "
    "one of the {title} classes: {classes}. The objective is to find a pair of tiles that belong to the same "
    "class and can be connected with a path that does not cross any other tiles and makes at most two turns.\n"
    + G1_PAIR_INSTRUCTIONS
)
#: g1bench's: G1's with the board size.
G1BENCH_V1_PROMPT = (
    "You are playing a Shisen-sho puzzle game that uses {title} images. Each tile on the board corresponds to "
    "one of the {title} classes: {classes}. The objective is to find a pair of tiles that belong to the same "
    "class and can be connected with a path that does not cross any other tiles and makes at most two turns.\n"
    + V1_PAIR_INSTRUCTIONS
)


@dataclass(frozen=True)
class ConfigShisenShoImages(BoardConfig):
    """Knobs of the image variant. A tile kind is an image class; every tile on the board is a different
    picture, and tiles match by class."""

    n_kinds: int = knob(
        9, "reasoning",
        "Distinct classes on the board (0 = rows*cols//4). rows*cols must be divisible by it, with an even "
        "number of copies per class; the source needs that many classes with at least that many images.",
    )
    tile_source: str = knob(
        "cifar10", "perception",
        "Where the pictures come from: 'cifar10' (CIFAR-10 train split from the Hugging Face Hub, as in the "
        "paper), 'bundled' (the offline emoji pack, 10 classes x 8), or a Hub image-classification dataset id "
        "or local dataset folder. If it cannot be loaded, the bundled pack is used and recorded instead.",
    )
    images_per_class: int = knob(
        32, "perception",
        "Candidate pictures per class (the first ones of each class in dataset order); a deal draws "
        "`copies` different ones per class.",
    )

    presets: ClassVar = {
        # The paper's Shisen-Sho-Cifar10: 6x6, 9 of the 10 CIFAR-10 classes, 4 different images each, with
        # G1's prompt, answer grammar and frame size.
        "paper": {"rows": 6, "cols": 6, "n_kinds": 9, "tile_source": "cifar10", **paper_protocol("shisensho-images")},
        # The same board with the offline pack (clean emoji pictograms: easier to recognise than 32x32 photos).
        "bundled": {"rows": 6, "cols": 6, "n_kinds": 9, "tile_source": "bundled"},
        # More tiles: 8x8 with 8 classes x 8 different pictures. 8 copies is what the bundled pack holds per
        # class (12x12 would need 16), so this preset works with either source and its offline fallback.
        "more-tiles": {"rows": 8, "cols": 8, "n_kinds": 8, "tile_source": "cifar10"},
        "bundled-more-tiles": {"rows": 8, "cols": 8, "n_kinds": 8, "tile_source": "bundled"},
    }
    preset_grid: ClassVar = {
        "bundled": ("bundled", "base"),
        "paper": ("cifar10", "base"),
        "bundled-more-tiles": ("bundled", "more-tiles"),
        "more-tiles": ("cifar10", "more-tiles"),
    }

    def validate(self) -> None:
        super().validate()
        name = type(self).__name__
        if not isinstance(self.tile_source, str) or not self.tile_source.strip():
            raise ConfigError(f"{name}.tile_source must be 'cifar10', 'bundled', a dataset id or a folder, got {self.tile_source!r}")
        self._int_range("images_per_class", 1, 1000)
        self._validate_board(None)
        if self.copies > self.images_per_class:
            raise ConfigError(
                f"{name}: a {self.rows}x{self.cols} board with {self.kinds_count} classes needs {self.copies} "
                f"different pictures per class, but images_per_class={self.images_per_class}"
            )


class ShisenShoImages(ShisenSho):
    """Shisen-Sho with pictures: tiles are images of classes and match by class, not by picture.

    * The rules and the path test are those of :class:`~g1bench.games.shisensho.ShisenSho` (at most 2
      turns through empty cells, one-cell ring around the board, removal scores 1, game over when the board
      is empty or no connectable pair is left).
    * A deal samples ``n_kinds`` classes (among those with at least ``copies`` pictures), then for each class
      ``copies`` *different* pictures (indices into the class's first ``images_per_class`` pictures), all
      with the env's RNG, and shuffles them onto the board; a deal with no connectable pair is redealt from
      the same RNG.
    * Two tiles match iff they show the same class; the pictures differ.
    * The perception text names each cell's class (``" airplane | - | cat "`` rows), as in the paper.
    * Tile sources: see :mod:`g1bench.tiles`. If the configured source cannot be loaded the bundled pack is
      used, with a warning, and the game's config records ``tile_source="bundled"``
      (:meth:`resolve_config`).
    """

    name = "shisensho-images"
    env_name = "ShisenShoImages"
    # v1: the paper preset shows G1's prompt and reads answers with G1's grammar
    version = 1
    prompts = {
        "g1-paper": PromptText("g1-paper", G1_PROMPT, "G1 vlmgym/sandbox/games/gamematch_cifar.py @ 716e666 "
                               "(the tile source's name and classes in its two CIFAR-10 slots)"),
        "g1bench-v1": PromptText("g1bench-v1", G1BENCH_V1_PROMPT, "g1bench"),
    }
    Config = ConfigShisenShoImages
    summary = "Shisen-Sho with pictures that match by class (paper: CIFAR-10, 6x6)."

    @classmethod
    def resolve_config(cls, config: ConfigShisenShoImages) -> ConfigShisenShoImages:
        """The config with ``tile_source`` set to the source that will really be used (loads the tiles).

        Envs should build the game from this config (and report it) so that snapshots, hashes and
        ``versions()`` name the tiles actually shown.
        """
        if not isinstance(config, ConfigShisenShoImages):
            raise TypeError(f"{cls.__name__} needs a ConfigShisenShoImages, got {type(config).__name__}")
        tiles = resolve_tiles(config.tile_source, config.images_per_class)
        if tiles.name != config.tile_source:
            config = dataclasses.replace(config, tile_source=tiles.name)
        return config

    def __init__(self, config: ConfigShisenShoImages):
        asked = config.tile_source if isinstance(config, ConfigShisenShoImages) else None
        config = self.resolve_config(config)
        self.tiles: TileSet = resolve_tiles(config.tile_source, config.images_per_class)
        # the source that fell back to the bundled pack: the user is told when a board is dealt (the game is played)
        self._fallback_from = asked if asked != config.tile_source else None
        counts = self.tiles.counts()
        self._eligible = [c for c, n in enumerate(counts) if n >= config.copies]
        if len(self._eligible) < config.kinds_count:
            raise ConfigError(
                f"tile source {config.tile_source!r} has {len(self._eligible)} classes with at least "
                f"{config.copies} pictures (within images_per_class={config.images_per_class}); a "
                f"{config.rows}x{config.cols} board with n_kinds={config.kinds_count} needs {config.kinds_count}"
            )
        self._stride = config.images_per_class
        super().__init__(config)
        self._image = np.full((self._rows, self._cols), -1, dtype=np.int64)

    # -- hooks ---------------------------------------------------------------------------------------
    def _kind_universe(self) -> list[str]:
        return list(self.tiles.class_names)

    def _draw_tiles(self, rng: np.random.Generator) -> np.ndarray:
        if self._fallback_from is not None:
            announce_fallback(self._fallback_from)
        cfg = self.config
        chosen = rng.choice(len(self._eligible), size=cfg.kinds_count, replace=False)
        self.kinds = sorted(self._eligible[int(i)] for i in chosen)
        counts = self.tiles.counts()
        kinds = np.repeat(np.asarray(self.kinds, dtype=np.int64), cfg.copies)
        images = np.concatenate([rng.choice(counts[k], size=cfg.copies, replace=False) for k in self.kinds])
        perm = rng.permutation(len(kinds))
        self._image = images[perm].astype(np.int64).reshape(self._rows, self._cols)
        return kinds[perm].reshape(self._rows, self._cols)

    def _on_remove(self, cells: Sequence[tuple[int, int]]) -> None:
        for r, c in cells:
            self._image[r, c] = -1

    # -- views ---------------------------------------------------------------------------------------
    def prompt_fields(self) -> dict[str, Any]:
        names = list(self.tiles.class_names)
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", and " + names[-1]
        return {"rows": self._rows, "cols": self._cols, "title": self.tiles.title or self.config.tile_source,
                "classes": listed}

    def structured_state(self) -> dict[str, Any]:
        state = super().structured_state()
        state["images"] = self._image.tolist()
        return state

    # -- snapshots -----------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """As Shisen-Sho, plus ``images``: per cell the picture's index within its class, or -1 (empty)."""
        state = super().get_state()
        state["images"] = self._image.tolist()
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        ids, grid = self._check_state(state)
        images = state.get("images") if isinstance(state, dict) else None
        R, C = self._rows, self._cols
        if not isinstance(images, list) or len(images) != R or any(not isinstance(r, list) or len(r) != C for r in images):
            raise ValueError(f"state['images'] must be {R} lists of {C} picture indices")
        if any(isinstance(v, bool) or not isinstance(v, int) for row in images for v in row):
            raise ValueError("state['images'] cells must be integers")
        counts = self.tiles.counts()
        for r in range(R):
            for c in range(C):
                k, i = int(grid[r, c]), images[r][c]
                if k < 0 and i != -1:
                    raise ValueError(f"state['images'][{r}][{c}] must be -1: the cell is empty")
                if k >= 0 and not 0 <= i < counts[k]:
                    raise ValueError(
                        f"state['images'][{r}][{c}] = {i}: class {self._names[k]!r} has pictures 0..{counts[k] - 1}"
                    )
        self.kinds = ids
        self._set_board(grid)
        self._image = np.asarray(images, dtype=np.int64).reshape(R, C)
        self.score = int(state["score"])
        self.moves = int(state["moves"])

    # -- rendering -----------------------------------------------------------------------------------
    def sprite_namespace(self) -> Hashable:
        return (type(self).__name__, self.version, content_hash(self.config.to_dict()), self.tiles.source_id)

    def cell_keys(self) -> np.ndarray:
        """class * images_per_class + picture + 1 (0 = empty): one key per distinct picture."""
        return np.where(self._grid >= 0, self._grid * self._stride + self._image + 1, 0)

    def draw_sprite(self, key: int, cell_px: int) -> np.ndarray:
        img = empty_cell(cell_px)
        if key == 0:
            return img
        cls, index = divmod(key - 1, self._stride)
        pad = max(2, cell_px // 24)
        inner = cell_px - 2 * pad
        img[pad : pad + inner, pad : pad + inner] = self.tiles.resized(cls, index, inner)
        return img

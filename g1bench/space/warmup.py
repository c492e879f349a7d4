"""Loading the natural-image tiles (CIFAR-10) once, in the background, when the Space starts.

The natural-image game's ``paper`` preset plays CIFAR-10 pictures, which :func:`g1bench.tiles.resolve_tiles`
downloads from the Hub the first time a board is dealt (about 120 MB; offline it falls back to the bundled
pack). On a Space that first deal would be a visitor's request, and :func:`g1bench.tiles.load_tiles` holds one
lock while it loads, so every other tile game would wait behind it. :class:`TileWarmup` loads every tile
source the presets name in a daemon thread at start-up instead (the bundled pack first: it takes
milliseconds), and until a source is ready the Space refuses, with a message, what would need it (a deal of
such a preset, verifying a submission) rather than making a visitor wait. Other games are never affected.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Mapping

from .errors import SpaceError

log = logging.getLogger("g1bench.space")


def preset_tile_sources() -> list[tuple[str, int]]:
    """Every (tile source, images per class) a game preset names, the bundled pack first."""
    from ..games import GAMES
    from ..tiles import BUNDLED

    found: list[tuple[str, int]] = []
    for cls in GAMES.values():
        for preset in cls.Config.presets:
            cfg = cls.Config.from_preset(preset).to_dict()
            if "tile_source" in cfg:
                pair = (str(cfg["tile_source"]), int(cfg["images_per_class"]))
                if pair not in found:
                    found.append(pair)
    return sorted(found, key=lambda p: (p[0] != BUNDLED, p))


def _title(source: str) -> str:
    from ..tiles import TITLES

    return TITLES.get(source, source)


class TileWarmup:
    """Loads the presets' tile sources in a background thread; says which are still loading.

    Before :meth:`start` nothing counts as loading (a Space run with ``warm_tiles`` off loads tiles on
    demand, as the CLI does).
    """

    def __init__(self, sources: list[tuple[str, int]] | None = None):
        self.sources = list(sources) if sources is not None else None
        self._pending: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: source -> seconds it took (or the error), for the operator's log
        self.report: dict[str, str] = {}

    def start(self) -> "TileWarmup":
        """Start loading (once); returns self."""
        with self._lock:
            if self._thread is not None:
                return self
            sources = self.sources if self.sources is not None else preset_tile_sources()
            self._pending = set(sources)
            self._thread = threading.Thread(target=self._run, args=(sources,), name="g1bench-tile-warmup", daemon=True)
            self._thread.start()
        return self

    def _run(self, sources: list[tuple[str, int]]) -> None:
        from ..tiles import resolve_tiles

        for source, n in sources:
            t0 = time.perf_counter()
            try:
                tiles = resolve_tiles(source, n)  # an unreachable Hub falls back to the bundled pack
                self.report[source] = (f"{time.perf_counter() - t0:.1f} s"
                                       + ("" if tiles.name == source else f" (substituted by {tiles.name})"))
            except Exception as e:  # noqa: BLE001 - a source that fails now fails again, with its message, on a deal
                self.report[source] = f"failed: {type(e).__name__}: {str(e)[:200]}"
                log.warning("tile source %s could not be loaded at start-up: %s", source, e)
            finally:
                with self._lock:
                    self._pending.discard((source, n))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every source is loaded (tests, scripts); True when done."""
        t = self._thread
        if t is not None:
            t.join(timeout)
        return not self.busy()

    def busy(self) -> bool:
        """Whether some source is still loading."""
        with self._lock:
            return bool(self._pending)

    def loading(self, source: str, images_per_class: int) -> bool:
        with self._lock:
            return (source, images_per_class) in self._pending

    def check_config(self, config: Mapping[str, Any]) -> None:
        """A SpaceError when the tiles a game config needs are still loading."""
        source = config.get("tile_source")
        if source is None:
            return
        if self.loading(str(source), int(config.get("images_per_class", 0))):
            raise SpaceError(f"the {_title(str(source))} pictures for this game are still being loaded (once, when "
                             "the Space starts); try again in a minute, or play the 'bundled' preset meanwhile")

    def check(self, game: str, preset: str, overrides: Mapping[str, Any] | None = None) -> None:
        """A SpaceError when ``game`` at ``preset`` needs tiles that are still loading."""
        from ..games import GAMES

        cls = GAMES.get(game)
        if cls is None:
            return
        try:
            cfg = cls.Config.from_preset(preset, **dict(overrides or {})).to_dict()
        except Exception:  # noqa: BLE001 - a bad preset is refused with its own message where the env is made
            return
        self.check_config(cfg)

    def check_idle(self, what: str) -> None:
        """A SpaceError while any source is loading (``what`` needs them all, e.g. verifying a paper-suite run)."""
        if self.busy():
            names = sorted({_title(s) for s, _ in self._pending_copy()})
            raise SpaceError(f"{what} needs the {', '.join(names)} pictures, which the Space is still loading (once, "
                             "when it starts); try again in a minute")

    def _pending_copy(self) -> set[tuple[str, int]]:
        with self._lock:
            return set(self._pending)


__all__ = ["TileWarmup", "preset_tile_sources"]

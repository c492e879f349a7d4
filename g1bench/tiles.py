"""Natural-image tiles for the image variant of Shisen-Sho: loading, caching and resizing.

A *tile source* names where the pictures come from:

* ``"bundled"``: the pack committed in ``g1bench/assets/tilepack`` (10 classes x 8 emoji pictures, 64 x 64),
  always available offline;
* ``"cifar10"``: the CIFAR-10 train split from the Hugging Face Hub (``uoft-cs/cifar10``), as in the paper;
* any other Hugging Face image-classification dataset id, or a local dataset folder (one written by
  ``Dataset.save_to_disk``, or anything ``datasets.load_dataset(path, split="train")`` reads: parquet files,
  an image folder, ...). The image column is the first ``Image`` feature, the label column the first
  ``ClassLabel`` feature (its names are the class names).

From a dataset, the first ``images_per_class`` images of each class in dataset order are used, so a
source always gives the same tiles. Every image is decoded once per process (:func:`load_tiles` caches the
:class:`TileSet`), and each resized copy is made once per size (:meth:`TileSet.resized`).

:func:`resolve_tiles` is what games call: when a source cannot be loaded (no network, ``HF_HUB_OFFLINE=1``,
a missing dataset) it falls back to the bundled pack, with a :class:`TileSourceFallback` warning (ignored by
default: building a game is not using it, e.g. to hash a suite). The returned set's ``name`` is the source
actually used, which the game records in its config, so hashes and snapshots never claim tiles that were
not shown. When a game deals a board on the substituted pack, :func:`announce_fallback` tells the user once
per process, on stderr, what happened and what to do on an offline machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sys
import threading
import warnings
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
from PIL import Image

BUNDLED = "bundled"
#: short names for Hub datasets
HF_ALIASES = {"cifar10": "uoft-cs/cifar10"}
#: how prompts call a source's pictures ("... a Shisen-sho puzzle game that uses CIFAR-10 images")
TITLES = {"cifar10": "CIFAR-10", "uoft-cs/cifar10": "CIFAR-10", BUNDLED: "emoji"}


class TileSourceError(RuntimeError):
    """A tile source could not be loaded or is not an image-classification dataset."""


class TileSourceFallback(RuntimeWarning):
    """A tile source could not be loaded and the bundled pack is used instead (ignored unless a filter
    enables it: the user is told once, when the game deals, by :func:`announce_fallback`)."""


# appended: any filter the user sets (-W error, pytest.warns) still wins
warnings.filterwarnings("ignore", category=TileSourceFallback, append=True)


class HubUnavailable(TileSourceError):
    """The Hub cannot be reached (no network, or offline mode and the dataset is not cached). This is the
    one failure that falls back to the bundled pack; a wrong path or a dataset that is not image
    classification is an error, never silently replaced."""


@dataclass(frozen=True, eq=False)
class TileSet:
    """The pictures of one tile source.

    Attributes:
        name: the tile source as configs spell it (``"bundled"``, ``"cifar10"``, a dataset id or path).
        class_names: one name per class (classes without images are left out).
        images: ``images[class][i]`` is an (H, W, 3) uint8 array (read-only).
        source_id: identifies the content: the source plus a hash of every class name and pixel.
        title: what prompts call these pictures ("CIFAR-10", "emoji", ...).
    """

    name: str
    class_names: tuple[str, ...]
    images: list[list[np.ndarray]]
    source_id: str
    title: str = ""
    _resized: dict = field(default_factory=dict, repr=False, compare=False)
    _lock: Any = field(default_factory=threading.Lock, repr=False, compare=False)

    def resized(self, cls: int, index: int, size: int) -> np.ndarray:
        """Image ``index`` of class ``cls`` resized to (size, size) with LANCZOS (cached, read-only)."""
        key = (cls, index, size)
        out = self._resized.get(key)
        if out is None:
            img = self.images[cls][index]
            if img.shape[:2] == (size, size):
                out = img
            else:
                out = np.asarray(Image.fromarray(img).resize((size, size), Image.LANCZOS), dtype=np.uint8)
                out.setflags(write=False)
            with self._lock:
                self._resized[key] = out
        return out

    def counts(self) -> list[int]:
        """Number of images of each class."""
        return [len(v) for v in self.images]


def _make(name: str, class_names: list[str], images: list[list[np.ndarray]], title: str, tag: str = "") -> TileSet:
    keep = [i for i, imgs in enumerate(images) if imgs]
    class_names = [class_names[i] for i in keep]
    images = [images[i] for i in keep]
    if not class_names:
        raise TileSourceError(f"tile source {name!r} has no labelled images")
    if len(set(class_names)) != len(class_names):
        raise TileSourceError(f"tile source {name!r} has duplicate class names: {class_names}")
    h = hashlib.sha256(json.dumps(class_names).encode())
    for imgs in images:
        for img in imgs:
            img.setflags(write=False)
            h.update(repr(img.shape).encode())
            h.update(img.tobytes())
    return TileSet(name, tuple(class_names), images, f"{name}:{tag}{h.hexdigest()[:16]}", title)


def _to_rgb(img: Any) -> np.ndarray:
    if not isinstance(img, Image.Image):
        img = Image.fromarray(np.asarray(img))
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def _load_bundled(images_per_class: int) -> TileSet:
    pack = resources.files("g1bench").joinpath("assets", "tilepack")
    manifest = json.loads(pack.joinpath("manifest.json").read_text(encoding="utf-8"))
    names, images = [], []
    for cls, entries in manifest["classes"].items():
        names.append(cls)
        imgs = []
        for entry in entries[:images_per_class]:
            with pack.joinpath(*entry["file"].split("/")).open("rb") as f, Image.open(f) as im:
                imgs.append(_to_rgb(im))
        images.append(imgs)
    return _make(BUNDLED, names, images, TITLES[BUNDLED], tag=f"{manifest['name']}:")


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def hub_offline() -> bool:
    """True when the Hugging Face offline switches are set (read now, not at import time)."""
    return any(_env_true(v) for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _hub_reachable(timeout: float = 3.0) -> tuple[bool, str]:
    """A quick TCP connection to the Hub endpoint, so a machine without network fails in seconds instead of
    sitting through the Hub client's retries."""
    from urllib.parse import urlparse

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    url = urlparse(endpoint)
    host, port = url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True, endpoint
    except OSError as e:
        return False, f"{endpoint} is unreachable ({type(e).__name__}: {e})"


@contextlib.contextmanager
def _offline_mode():
    """Honour HF_HUB_OFFLINE even when it was set after ``datasets`` / ``huggingface_hub`` were imported
    (both read it once at import): force their flags on for the duration of one load."""
    import datasets
    import huggingface_hub.constants as hub_constants

    saved = datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE
    datasets.config.HF_HUB_OFFLINE = hub_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE = saved


def _load_dataset(source: str):
    try:
        import datasets  # heavy: imported only for dataset sources
    except ImportError as e:  # a trimmed install: for a Hub source like an unreachable Hub (the bundled pack stands in)
        err = TileSourceError if os.path.isdir(os.path.expanduser(source)) else HubUnavailable
        raise err(f"the datasets package is not installed ({e}); pip install datasets") from None

    path = os.path.expanduser(source)
    if os.path.isdir(path):
        if any(os.path.exists(os.path.join(path, f)) for f in ("dataset_dict.json", "state.json")):
            ds = datasets.load_from_disk(path)
            if isinstance(ds, datasets.DatasetDict):
                if "train" not in ds:
                    raise TileSourceError(f"{source!r} has no 'train' split (splits: {list(ds)})")
                ds = ds["train"]
            return ds
        return datasets.load_dataset(path, split="train")
    if source.startswith((".", "/", "~")) or os.sep in source.replace("/", ""):
        raise TileSourceError(f"no dataset folder at {path!r}")
    repo = HF_ALIASES.get(source, source)
    if hub_offline():
        with _offline_mode():  # the local cache only
            try:
                return datasets.load_dataset(repo, split="train")
            except Exception as e:  # datasets raises several types for "not in the cache"
                raise HubUnavailable(f"{repo!r} is not in the local cache and offline mode is on ({type(e).__name__})") from e
    ok, why = _hub_reachable()
    if not ok:
        raise HubUnavailable(f"cannot download {repo!r}: {why}; set HF_HUB_OFFLINE=1 to use a cached copy")
    try:
        return datasets.load_dataset(repo, split="train")
    except Exception as e:  # noqa: BLE001 - datasets and huggingface_hub raise many types; sort them by meaning
        kind = type(e).__name__
        if kind in ("DatasetNotFoundError", "RepositoryNotFoundError", "GatedRepoError", "FileNotFoundError"):
            if source in HF_ALIASES:  # g1bench's own default is missing from this Hub (a mirror, a test server)
                raise HubUnavailable(f"the Hub at hand has no {repo!r} ({kind})") from None
            raise TileSourceError(f"tile source {source!r}: no such dataset on the Hub ({kind})") from None
        if isinstance(e, (ConnectionError, TimeoutError)) or "Connection" in kind or "Timeout" in kind:
            raise HubUnavailable(f"cannot download {repo!r}: {kind}") from None
        raise TileSourceError(f"tile source {source!r} cannot be loaded: {kind}: {str(e).splitlines()[0] if str(e) else ''}") from None


def _load_hf(source: str, images_per_class: int) -> TileSet:
    import datasets

    ds = _load_dataset(source)
    image_col = next((k for k, f in ds.features.items() if isinstance(f, datasets.Image)), None)
    label_col = next((k for k, f in ds.features.items() if isinstance(f, datasets.ClassLabel)), None)
    if image_col is None or label_col is None:
        raise TileSourceError(
            f"{source!r} is not an image-classification dataset: it needs an Image and a ClassLabel column, "
            f"has {dict(ds.features)}"
        )
    names = list(ds.features[label_col].names)
    labels = ds.select_columns([label_col]).with_format("arrow")[:].column(label_col).to_numpy()
    chosen = [np.flatnonzero(labels == c)[:images_per_class] for c in range(len(names))]
    order = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
    decoded = ds.select_columns([image_col]).select(order.tolist())[image_col] if len(order) else []
    images: list[list[np.ndarray]] = []
    it = iter(decoded)
    for idx in chosen:
        images.append([_to_rgb(next(it)) for _ in range(len(idx))])
    title = TITLES.get(source) or os.path.basename(os.path.normpath(source)) or source
    return _make(source, names, images, title)


_CACHE: dict[tuple[str, int], TileSet] = {}
_RESOLVED: dict[tuple[str, int], TileSet] = {}
_CACHE_LOCK = threading.Lock()
#: source -> why it fell back to the bundled pack (this process); sources already announced
_FALLBACKS: dict[str, str] = {}
_ANNOUNCED: set[str] = set()


def load_tiles(source: str, images_per_class: int) -> TileSet:
    """The tiles of ``source`` (at most ``images_per_class`` per class), cached per process.

    Raises :class:`TileSourceError` (or the loader's own error) when the source cannot be loaded.
    """
    if not isinstance(source, str) or not source.strip():
        raise TileSourceError(f"tile source must be a non-empty string, got {source!r}")
    if isinstance(images_per_class, bool) or not isinstance(images_per_class, int) or images_per_class < 1:
        raise TileSourceError(f"images_per_class must be a positive integer, got {images_per_class!r}")
    key = (source, images_per_class)
    tiles = _CACHE.get(key)
    if tiles is None:
        with _CACHE_LOCK:
            tiles = _CACHE.get(key)
            if tiles is None:
                tiles = _load_bundled(images_per_class) if source == BUNDLED else _load_hf(source, images_per_class)
                _CACHE[key] = tiles
    return tiles


def resolve_tiles(source: str, images_per_class: int) -> TileSet:
    """Like :func:`load_tiles`, but falls back to the bundled pack (with a warning) when the Hub cannot be
    reached (:class:`HubUnavailable`); any other failure raises :class:`TileSourceError`.

    The result's ``name`` is the source actually used. The outcome is cached per process, so a source
    that failed once is not retried (and not warned about again) in the same process.
    """
    key = (source, images_per_class)
    tiles = _RESOLVED.get(key)
    if tiles is not None:
        return tiles
    try:
        tiles = load_tiles(source, images_per_class)
    except HubUnavailable as e:  # only an unreachable Hub falls back; other errors are the user's to fix
        why = " ".join(str(e).split())
        why = why if len(why) <= 300 else why[:297] + "..."
        _FALLBACKS.setdefault(source, why)
        warnings.warn(
            f"g1bench: tile source {source!r} could not be loaded ({type(e).__name__}: {why}); "
            f"using the bundled tile pack instead (the config records tile_source={BUNDLED!r}).",
            TileSourceFallback,
            stacklevel=2,
        )
        tiles = load_tiles(BUNDLED, images_per_class)
    _RESOLVED[key] = tiles
    return tiles


def fallback_notice(source: str) -> str:
    """What to tell a user whose tile source ``source`` fell back to the bundled pack, with advice that works
    on a machine without internet."""
    repo = HF_ALIASES.get(source, source)
    title = TITLES.get(source, repo)
    why = _FALLBACKS.get(source, "it could not be loaded")
    return (
        f"g1bench: note: the natural-image game (shisensho-images) plays with the bundled emoji tiles, not {title}: "
        f"tile source {source!r} could not be loaded ({why}). Its scores are not comparable with the paper's "
        f"(results record tile_source={BUNDLED!r}).\n"
        f"  To use {title} on this machine: on a machine with internet, run\n"
        f"    HF_HOME=./hf python -c \"import datasets; datasets.load_dataset('{repo}', split='train')\"\n"
        f"  then copy ./hf here and set HF_HOME to it (with HF_HUB_OFFLINE=1: no network needed).\n"
        f"  To play the bundled pack on purpose (no note): --difficulty bundled (eval --games shisensho-images, "
        f"render, play) or --set tile_source=bundled (render, play)."
    )


_QUIET = threading.local()


@contextlib.contextmanager
def quiet_fallback():
    """Deal boards without announcing a fallback: for bookkeeping that is not play (hashing a suite's
    reference frames), so listing suites does not tell the user about a game they are not playing."""
    depth = getattr(_QUIET, "depth", 0)
    _QUIET.depth = depth + 1
    try:
        yield
    finally:
        _QUIET.depth = depth


def announce_fallback(source: str, stream: Any = None) -> bool:
    """Tell the user, once per process and source, that ``source`` fell back to the bundled pack (called by the
    game when it deals on the substituted pack: only a game really played is announced). True if printed."""
    if getattr(_QUIET, "depth", 0):
        return False
    with _CACHE_LOCK:
        if source in _ANNOUNCED:
            return False
        _ANNOUNCED.add(source)
    stream = stream or sys.stderr
    try:  # clear a progress bar first (an eval's), so the note is not glued to it
        from tqdm import tqdm

        with tqdm.external_write_mode(file=stream):
            print(fallback_notice(source), file=stream, flush=True)
    except ImportError:  # pragma: no cover - tqdm is a core dependency
        print(fallback_notice(source), file=stream, flush=True)
    return True

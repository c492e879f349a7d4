"""Checks on the committed natural-image tile pack (g1bench/assets/tilepack)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

PACK = Path(__file__).resolve().parents[1] / "g1bench" / "assets" / "tilepack"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((PACK / "manifest.json").read_text(encoding="utf-8"))


def test_manifest_shape(manifest):
    assert manifest["name"] == "g1bench-emoji-v1"
    assert manifest["size"] == 64
    assert manifest["source"] and manifest["license"]
    classes = manifest["classes"]
    assert len(classes) == 10
    for cls, entries in classes.items():
        assert cls == cls.lower() and cls.isalpha()
        assert len(entries) == 8, cls
        assert len({e["file"] for e in entries}) == 8
        for e in entries:
            assert e["file"].startswith(f"{cls}/") and e["file"].endswith(".png")
            assert e["emoji"] and e["codepoints"].startswith("U+") and e["name"]
    emojis = [e["emoji"] for entries in classes.values() for e in entries]
    assert len(set(emojis)) == len(emojis), "an emoji is used twice"


def test_files_are_64x64_rgb_png(manifest):
    for entries in manifest["classes"].values():
        for e in entries:
            path = PACK / e["file"]
            assert path.is_file(), path
            with Image.open(path) as im:
                assert im.format == "PNG"
                assert im.mode == "RGB"
                assert im.size == (64, 64)


def test_tiles_within_class_differ(manifest):
    for cls, entries in manifest["classes"].items():
        arrays = []
        for e in entries:
            with Image.open(PACK / e["file"]) as im:
                arrays.append(np.asarray(im.convert("RGB"), dtype=np.int16))
        for (i, a), (j, b) in itertools.combinations(enumerate(arrays), 2):
            assert np.abs(a - b).mean() > 1.0, f"{cls}: tiles {i} and {j} look identical"


def test_tiles_are_on_white(manifest):
    for entries in manifest["classes"].values():
        for e in entries:
            with Image.open(PACK / e["file"]) as im:
                a = np.asarray(im.convert("RGB"))
            corners = a[[0, 0, -1, -1], [0, -1, 0, -1]]
            assert (corners >= 250).all(), e["file"]
            assert (a < 200).any(), f"{e['file']} looks blank"


def test_license_exists():
    text = (PACK / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Noto" in text

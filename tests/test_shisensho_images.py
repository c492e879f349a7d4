"""Shisen-Sho with pictures: the tile provider (bundled pack, local datasets, Hub fallback), deals of
different pictures per class, matching by class, views, snapshots and the env."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from g1bench import tiles as tiles_mod
from g1bench.core.config import ConfigError
from g1bench.core.env import G1Env
from g1bench.games.shisensho import ShisenSho
from g1bench.games.shisensho_images import ConfigShisenShoImages, ShisenShoImages
from g1bench.tiles import TileSet, load_tiles, resolve_tiles

PACK = Path(__file__).resolve().parents[1] / "g1bench" / "assets" / "tilepack"
MANIFEST = json.loads((PACK / "manifest.json").read_text(encoding="utf-8"))
CLASSES = list(MANIFEST["classes"])
RNG = np.random.default_rng(0)


def bundled_game(preset: str = "bundled", **knobs) -> ShisenShoImages:
    return ShisenShoImages(ConfigShisenShoImages.from_preset(preset, **knobs))


def state_for(game: ShisenShoImages, rows: list[str], images: list[list[int]]) -> dict:
    """Letters are classes ('a' = animal, 'b' = bird, 'f' = flower, '.' = empty); images are picture indices."""
    letters = sorted({ch for row in rows for ch in row if ch != "."})
    kinds = [{"a": "animal", "b": "bird", "f": "flower"}[ch] for ch in letters]
    return {
        "kinds": kinds,
        "board": [[-1 if ch == "." else letters.index(ch) for ch in row] for row in rows],
        "images": images,
        "score": 0,
        "moves": 0,
    }


# -- the tile provider --------------------------------------------------------------------------------------


def test_bundled_pack_loads_once_with_class_names_in_manifest_order():
    t = load_tiles("bundled", 32)
    assert isinstance(t, TileSet) and t.name == "bundled" and t.title == "emoji"
    assert list(t.class_names) == CLASSES
    assert t.counts() == [8] * 10  # the pack holds 8 per class
    for imgs in t.images:
        for img in imgs:
            assert img.shape == (64, 64, 3) and img.dtype == np.uint8 and not img.flags.writeable
    first = MANIFEST["classes"]["bird"][0]["file"]
    with Image.open(PACK / first) as im:
        assert np.array_equal(t.images[CLASSES.index("bird")][0], np.asarray(im.convert("RGB")))
    assert load_tiles("bundled", 32) is t  # decoded once per process
    assert load_tiles("bundled", 3).counts() == [3] * 10
    assert t.source_id.startswith("bundled:g1bench-emoji-v1:")


def test_resized_tiles_are_lanczos_and_cached():
    t = load_tiles("bundled", 8)
    r = t.resized(2, 5, 74)
    expected = np.asarray(Image.fromarray(t.images[2][5]).resize((74, 74), Image.LANCZOS))
    assert r.shape == (74, 74, 3) and np.array_equal(r, expected)
    assert t.resized(2, 5, 74) is r
    assert t.resized(2, 5, 64) is t.images[2][5]


def make_local_dataset(root: Path, per_class: int = 6) -> tuple[list, list]:
    """An image-classification dataset built from the bundled PNGs, classes interleaved: 0,1,..,9,0,1,..."""
    from datasets import ClassLabel, Dataset, Features
    from datasets import Image as ImageFeature

    images, labels = [], []
    for i in range(per_class):
        for c, entries in enumerate(MANIFEST["classes"].values()):
            with Image.open(PACK / entries[i]["file"]) as im:
                images.append(im.convert("RGB"))
            labels.append(c)
    features = Features({"picture": ImageFeature(), "kind": ClassLabel(names=CLASSES)})
    ds = Dataset.from_dict({"picture": images, "kind": labels}, features=features)
    ds.save_to_disk(str(root / "saved"))
    (root / "parquet" / "data").mkdir(parents=True)
    ds.to_parquet(str(root / "parquet" / "data" / "train-00000-of-00001.parquet"))
    return images, labels


@pytest.fixture
def offline_hub(monkeypatch, tmp_path):
    """No Hub, and a throw-away HF cache (set before anything is loaded)."""
    import datasets

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-home" / "datasets"))
    # datasets reads its cache location once, at import
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-home" / "datasets")
    return tmp_path


@pytest.mark.parametrize("layout", ["saved", "parquet"])
def test_a_local_image_classification_dataset_is_a_tile_source(offline_hub, layout):
    tmp_path = offline_hub
    make_local_dataset(tmp_path)
    source = str(tmp_path / layout)
    t = load_tiles(source, 4)
    assert t.name == source and list(t.class_names) == CLASSES and t.counts() == [4] * 10
    # the first images of each class in dataset order: the first 4 PNGs of the class
    for c, entries in enumerate(MANIFEST["classes"].values()):
        for i in range(4):
            with Image.open(PACK / entries[i]["file"]) as im:
                assert np.array_equal(t.images[c][i], np.asarray(im.convert("RGB")))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback
        g = ShisenShoImages(ConfigShisenShoImages(tile_source=source, images_per_class=4))
    assert g.config.tile_source == source
    g.deal(np.random.default_rng(0))
    assert g.legal_actions() and source in g.tiles.source_id
    assert "uses " + layout + " images" in g.prompt()


def test_an_unreachable_hub_source_falls_back_to_the_bundled_pack(offline_hub):
    cfg = ConfigShisenShoImages(tile_source="g1bench-tests/no-such-dataset")
    with pytest.warns(RuntimeWarning, match=r"'g1bench-tests/no-such-dataset' could not be loaded.*bundled"):
        g = ShisenShoImages(cfg)
    assert g.config.tile_source == "bundled" and g.tiles.name == "bundled"
    assert ShisenShoImages.resolve_config(cfg).tile_source == "bundled"
    assert g.config == ConfigShisenShoImages(tile_source="bundled")
    # the same board as a game built on the bundled pack directly
    g.deal(np.random.default_rng(4))
    h = ShisenShoImages(ConfigShisenShoImages(tile_source="bundled"))
    h.deal(np.random.default_rng(4))
    assert g.get_state() == h.get_state() and np.array_equal(g.cell_keys(), h.cell_keys())


def test_without_network_the_hub_is_given_up_quickly(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.warns(RuntimeWarning, match="unreachable"):
        t = resolve_tiles("g1bench-tests/another-missing-dataset", 8)
    assert t.name == "bundled"


def test_a_wrong_source_is_an_error_not_a_silent_fallback(tmp_path):
    from g1bench.core.env import G1Env
    from g1bench.tiles import TileSourceError

    with pytest.raises(TileSourceError, match="no dataset folder"):
        resolve_tiles(str(tmp_path / "nothing-here"), 8)
    with pytest.raises(TileSourceError, match="no dataset folder"):
        G1Env("shisensho-images", "paper", tile_source="./typo-in-path")


def test_the_cifar10_alias_names_the_paper_dataset():
    assert tiles_mod.HF_ALIASES["cifar10"] == "uoft-cs/cifar10"
    assert tiles_mod.TITLES["cifar10"] == "CIFAR-10"


# -- deals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["bundled", "bundled-more-tiles"])
def test_a_deal_shows_copies_different_pictures_of_each_class(preset):
    g = bundled_game(preset)
    cfg = g.config
    for seed in range(5):
        g.deal(np.random.default_rng(seed))
        s = g.get_state()
        seen: dict[str, list[int]] = {}
        for row_k, row_i in zip(s["board"], s["images"]):
            for k, i in zip(row_k, row_i):
                seen.setdefault(s["kinds"][k], []).append(i)
        assert len(seen) == cfg.kinds_count
        for name, pics in seen.items():
            assert len(pics) == cfg.copies and len(set(pics)) == cfg.copies, (name, pics)
        keys = g.cell_keys()
        assert len(np.unique(keys)) == cfg.rows * cfg.cols  # every tile a different picture
        assert g.legal_actions()


def test_paper_preset_is_cifar10_6x6_with_9_classes_of_4():
    assert ConfigShisenShoImages.presets["paper"]["tile_source"] == "cifar10"
    cfg = ConfigShisenShoImages(**ConfigShisenShoImages.presets["paper"])
    assert (cfg.rows, cfg.cols, cfg.kinds_count, cfg.copies, cfg.tile_source) == (6, 6, 9, 4, "cifar10")
    assert set(ConfigShisenShoImages.preset_grid) == set(ConfigShisenShoImages.presets)
    more = ConfigShisenShoImages(**ConfigShisenShoImages.presets["more-tiles"])
    assert (more.rows, more.kinds_count, more.copies) == (8, 8, 8)  # 8 copies: fits the bundled pack too


def test_env_config_records_the_tile_source_really_used(offline_hub):
    from g1bench.core.env import G1Env

    with pytest.warns(RuntimeWarning, match="could not be loaded"):
        env = G1Env("shisensho-images", "paper", tile_source="g1bench-tests/missing-for-preset")
    # the bundled board, still in the paper preset's protocol
    assert env.config == ConfigShisenShoImages.from_preset("bundled", prompt_version="g1-paper", answer_grammar="g1",
                                                           model_frame=(640, 640))
    assert env.versions()["config"]["tile_source"] == "bundled"
    # building a config alone loads nothing and keeps what was asked for
    assert ConfigShisenShoImages.from_preset("paper").tile_source == "cifar10"


def test_tiles_match_by_class_not_by_picture():
    g = bundled_game()
    rows = ["aa....", "bf....", "......", "......", "......", "....fb"]
    images = [[0, 5, -1, -1, -1, -1], [2, 3, -1, -1, -1, -1]] + [[-1] * 6] * 3 + [[-1, -1, -1, -1, 7, 1]]
    g.set_state(state_for(g, rows, images))
    assert (0, 0, 0, 1) in g.legal_actions()
    out = g.apply((0, 1, 0, 0), RNG)
    assert out.success and g.score == 1
    out = g.apply((1, 0, 1, 1), RNG)
    assert not out.valid and out.reason == "tiles differ: bird vs flower"
    assert g.perception_text().split("\n")[1] == " bird | flower | - | - | - | - "
    assert g.perception_text().split("\n")[0] == " - | - | - | - | - | - "
    assert g.get_state()["images"][0][:2] == [-1, -1]


def test_views_prompt_and_rendering():
    g = bundled_game()
    g.deal(np.random.default_rng(1))
    s = g.structured_state()
    text = g.perception_text()
    assert text == "\n".join("|".join(f" {c} " for c in row) for row in s["cells"])
    assert set(c for row in s["cells"] for c in row) <= set(CLASSES)
    p = g.prompt()
    assert p.startswith("You are playing a Shisen-sho puzzle game that uses emoji images. Each tile on the "
                        "board corresponds to one of the emoji classes: animal, bird, sea, insect, flower, "
                        "fruit, food, vehicle, boat, and ball. The objective")
    assert "The board has 6 rows and 6 columns." in p and "<answer>(row1, col1) (row2, col2)</answer>" in p
    # sprites: the picture, LANCZOS-resized from the decoded image, inside a ruled cell
    k = int(g.cell_keys()[0, 0])
    cls, idx = divmod(k - 1, g.config.images_per_class)
    assert g.tiles.class_names[cls] == s["cells"][0][0] and idx == s["images"][0][0]
    sprite = g.draw_sprite(k, 84)
    pad = max(2, 84 // 24)
    assert np.array_equal(sprite[pad:84 - pad, pad:84 - pad], g.tiles.resized(cls, idx, 84 - 2 * pad))


def test_state_round_trip_and_validation():
    g = bundled_game()
    rng = np.random.default_rng(2)
    g.deal(rng)
    g.apply(g.legal_actions()[0], rng)
    state = json.loads(json.dumps(g.get_state()))
    h = bundled_game()
    h.set_state(state)
    assert h.get_state() == g.get_state() and np.array_equal(h.cell_keys(), g.cell_keys())
    bad = json.loads(json.dumps(state))
    r, c = next((r, c) for r in range(6) for c in range(6) if bad["board"][r][c] >= 0)
    bad["images"][r][c] = 8
    with pytest.raises(ValueError, match="has pictures 0..7"):
        h.set_state(bad)
    bad = json.loads(json.dumps(state))
    r, c = next((r, c) for r in range(6) for c in range(6) if bad["board"][r][c] < 0)
    bad["images"][r][c] = 0
    with pytest.raises(ValueError, match="the cell is empty"):
        h.set_state(bad)
    bad = json.loads(json.dumps(state))
    del bad["images"]
    with pytest.raises(ValueError, match="images"):
        h.set_state(bad)


# -- configs -------------------------------------------------------------------------------------------------


def test_config_validation():
    with pytest.raises(ConfigError, match="images_per_class"):
        ConfigShisenShoImages(images_per_class=0)
    with pytest.raises(ConfigError, match="needs 4 different pictures"):
        ConfigShisenShoImages(images_per_class=3)
    with pytest.raises(ConfigError, match="tile_source"):
        ConfigShisenShoImages(tile_source="  ")
    with pytest.raises(ConfigError, match="valid n_kinds"):
        ConfigShisenShoImages(n_kinds=5)
    # the bundled pack has 10 classes of 8: 12 classes or 16 copies cannot be dealt
    with pytest.raises(ConfigError, match="needs 12"):
        ShisenShoImages(ConfigShisenShoImages(rows=6, cols=8, n_kinds=12, tile_source="bundled"))
    with pytest.raises(ConfigError, match="at least 16 pictures"):
        ShisenShoImages(ConfigShisenShoImages(rows=12, cols=12, n_kinds=9, tile_source="bundled"))


def test_the_image_game_reuses_the_shisensho_rules():
    assert issubclass(ShisenShoImages, ShisenSho)
    assert ShisenShoImages.apply is ShisenSho.apply and ShisenShoImages.legal_actions is ShisenSho.legal_actions


# -- the env ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["bundled", "bundled-more-tiles"])
def test_env_builds_plays_and_snapshots(preset):
    env = G1Env("shisensho-images", difficulty=preset)
    frame, info = env.reset(seed=0)
    assert frame.shape[0] % 28 == 0 and frame.shape[1] % 28 == 0
    again = G1Env("shisensho-images", difficulty=preset).reset(seed=0)[0]
    assert np.array_equal(frame, again)
    action = env.game.legal_actions()[0]
    snap = env.get_state()
    frame2, reward, *_ = env.step(env.game.format_action(action))
    assert reward == 1.0 and not np.array_equal(frame, frame2)
    env.set_state(snap)
    assert np.array_equal(env.render(), frame)


def test_env_with_an_unloadable_source_plays_on_the_bundled_pack(offline_hub):
    with pytest.warns(RuntimeWarning, match="could not be loaded"):
        env = G1Env("shisensho-images", difficulty="paper", tile_source="g1bench-tests/missing-for-env")
    assert env.game.config.tile_source == "bundled" and env.config == env.game.config
    assert env.versions()["config"]["tile_source"] == "bundled"
    frame, info = env.reset(seed=0)
    assert env.get_state()["config"]["tile_source"] == "bundled"
    assert info["n_legal"] > 0

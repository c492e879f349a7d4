"""The natural-image fallback is announced once per process, only when that game is played, with offline advice."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

NOTE = "g1bench: note: the natural-image game (shisensho-images) plays with the bundled emoji tiles"


@pytest.fixture
def offline(tmp_path):
    """No network and an empty Hugging Face cache: CIFAR-10 cannot be loaded."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}


def run(env, *args, python=False):
    cmd = [sys.executable, "-c", args[0]] if python else [sys.executable, "-m", "g1bench.cli", *map(str, args)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    return out.stderr


@pytest.mark.parametrize("args", [
    ("games",),
    ("games", "shisensho-images"),
    ("suites",),
    ("suites", "--manifest", "paper"),
    ("eval", "--model", "random", "--games", "2048,swap", "--episodes", "1", "--steps", "2", "--quiet"),
    ("eval", "--model", "random", "--games", "shisensho-images", "--difficulty", "bundled", "--episodes", "1",
     "--steps", "2", "--quiet"),
    ("render", "shisensho-images", "--set", "tile_source=bundled"),
])
def test_silent_where_the_game_is_not_played_on_substituted_tiles(offline, tmp_path, args):
    extra = ("-o", tmp_path / "out") if args[0] == "eval" else ("-o", tmp_path / "f.png") if args[0] == "render" else ()
    err = run(offline, *args, *extra)
    assert "note:" not in err and "tile source" not in err, err


def test_silent_on_import_and_on_building_envs(offline):
    err = run(offline, "import g1bench, g1bench.eval.suites as s; g1bench.make('shisensho-images'); "
                       "s.get_suite('paper').hash()", python=True)
    assert err == ""


def test_announced_once_when_played_with_offline_advice(offline, tmp_path):
    err = run(offline, "eval", "--model", "random", "--games", "shisensho-images,2048", "--episodes", "3", "--steps", "3",
              "--quiet", "-o", tmp_path / "run")
    assert err.count(NOTE) == 1, err
    note = err[err.index(NOTE):]
    assert "not CIFAR-10" in note and "not comparable with the paper's" in note
    assert "datasets.load_dataset('uoft-cs/cifar10', split='train')" in note and "HF_HOME" in note
    assert "HF_HUB_OFFLINE=1" in note
    assert "--difficulty bundled" in note and "--set tile_source=bundled" in note
    # reading the run back (report and compare replay it to verify it) is not playing: no note again
    assert NOTE not in run(offline, "report", tmp_path / "run", "--no-plots")
    assert NOTE not in run(offline, "compare", tmp_path / "run", tmp_path / "run")


def test_once_per_process_across_envs(offline):
    err = run(offline, "import g1bench\nfor seed in range(3):\n    g1bench.make('shisensho-images').reset(seed=seed)\n"
                       "g1bench.make('shisensho-images', difficulty='more-tiles').reset(seed=0)", python=True)
    assert err.count(NOTE) == 1, err


def test_a_hub_without_cifar10_falls_back_and_a_missing_named_dataset_is_a_clear_error(tmp_path):
    """Online, against a Hub that lacks the datasets asked for (a mirror, a test server): g1bench's default
    falls back to the bundled tiles; a dataset the user named gets one error line, never a traceback."""
    from g1bench.testing.hub_server import HubServer, hub_env

    with HubServer() as hub:
        env = hub_env(hub, tmp_path / "hf")
        code = ("import warnings, g1bench\n"
                "with warnings.catch_warnings(record=True) as w:\n"
                "    warnings.simplefilter('always')\n"
                "    env = g1bench.make('shisensho-images', 'paper')\n"
                "print(env.config.tile_source, any('has no' in str(x.message) for x in w))\n")
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["bundled", "True"]
        bad = subprocess.run([sys.executable, "-m", "g1bench.cli", "render", "shisensho-images", "--set",
                              "tile_source=someone/missing-tiles", "-o", str(tmp_path / "f.png")],
                             env=env, capture_output=True, text=True, timeout=300)
        assert bad.returncode == 2 and "Traceback" not in bad.stderr
        assert "error: tile source 'someone/missing-tiles': no such dataset on the Hub" in bad.stderr

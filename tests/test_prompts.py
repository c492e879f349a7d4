"""Prompt versions: the ``paper`` presets show G1's original prompts byte for byte (fixtures in
tests/fixtures/g1_prompts, taken from chenllliang/G1 at 716e666), every other preset g1bench's, and each
version's text is frozen under its hash."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import g1bench
from g1bench.cli import main
from g1bench.core.config import PAPER_PROTOCOL, PROMPT_VERSIONS, ConfigError
from g1bench.games import GAMES
from g1bench.games.swap import ConfigSwap

FIXTURES = Path(__file__).parent / "fixtures" / "g1_prompts"
SOURCES = json.loads((FIXTURES / "sources.json").read_text())
OFFLINE = {"shisensho-images": {"tile_source": "bundled"}}
CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

#: The hash of every frozen prompt text. A failure here means a version's text changed: keep the old text
#: and add the new one under a new version name (and bump the game version if a preset switches to it).
FROZEN = {
    ("2048", "g1-paper"): "e0b500de9c47f23c",
    ("2048", "g1bench-v1"): "4ca9671d73597efb",
    ("shisensho", "g1-paper"): "0e11e36b7aacb785",
    ("shisensho", "g1bench-v1"): "9d06a55520db94d8",
    ("shisensho-images", "g1-paper"): "005db33a5ce7da01",
    ("shisensho-images", "g1bench-v1"): "d68a8ff0821bd288",
    ("swap", "g1-paper"): "141800ba1eab0192",
    ("swap", "g1bench-v1"): "4b154f015a4d60c3",
}


def original(game: str) -> str:
    """G1's prompt for ``game``, read as bytes (no newline translation)."""
    return (FIXTURES / SOURCES["prompts"][game]["file"]).read_bytes().decode("utf-8")


def test_fixtures_are_the_recorded_original_texts():
    assert SOURCES["commit"].startswith("716e666") and SOURCES["repository"].endswith("chenllliang/G1")
    assert set(SOURCES["prompts"]) == set(GAMES)
    for game, meta in SOURCES["prompts"].items():
        data = (FIXTURES / meta["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == meta["sha256"], f"{meta['file']} was altered (whitespace?)"
        assert meta["source"].startswith("vlmgym/sandbox/games/")


@pytest.mark.parametrize("game", ["2048", "shisensho", "swap"])
def test_paper_prompt_is_g1s_byte_for_byte(game):
    env = g1bench.make(game, "paper", render_mode=None)
    assert env.config.prompt_version == "g1-paper" and env.config.answer_grammar == "g1"
    assert env.prompt == original(game)
    assert g1bench.make(game, render_mode=None).prompt == original(game)  # "paper" is the default preset
    v = env.versions()
    assert (v["prompt_version"], v["answer_grammar"]) == ("g1-paper", "g1")
    assert v["prompt_template_hash"] == FROZEN[(game, "g1-paper")]


def test_the_quirks_are_kept():
    assert "Only Tiles with the SAME number" in original("2048") and "</perception>.Then" in original("2048")
    assert "- Red, Green, Blue, Yellow, Magenta, Cyan, etc.\n- Shapes include:" in original("shisensho")
    swap = original("swap")
    assert swap.startswith("\n        You are playing") and swap.endswith("</answer>.\n        ")
    assert "\n        \n        Rules:\n" in swap


@pytest.mark.parametrize("game", ["2048", "shisensho", "swap"])
def test_gymnasium_paper_id_shows_g1s_prompt(game):
    cls = GAMES[game]
    env = gym.make(f"g1bench/{cls.env_name}-v{cls.version}")
    assert env.unwrapped.prompt == original(game)


@pytest.mark.parametrize("game", list(GAMES))
def test_other_presets_use_g1bench_v1_and_lenient(game):
    cls = GAMES[game]
    for preset in cls.Config.presets:
        cfg = cls.Config.from_preset(preset)
        want = dict(PAPER_PROTOCOL) if preset == "paper" else {"prompt_version": "g1bench-v1", "answer_grammar": "lenient"}
        assert {k: getattr(cfg, k) for k in want} == want, preset


@pytest.mark.parametrize("game", list(GAMES))
def test_prompt_versions_are_frozen(game):
    cls = GAMES[game]
    assert set(cls.prompts) == set(PROMPT_VERSIONS)
    for version, text in cls.prompts.items():
        assert text.version == version
        assert text.hash == FROZEN[(game, version)], f"{game} prompt {version!r} changed: add a new version"


@pytest.mark.parametrize("game", list(GAMES))
def test_a_preset_can_switch_prompt_version(game):
    extra = OFFLINE.get(game, {})
    base = "bundled" if game == "shisensho-images" else "base"
    env = g1bench.make(game, base, render_mode=None, **extra)
    v1 = env.prompt
    assert v1 == v1.strip() and "\n " not in v1 and "  " not in v1  # no stray indentation
    if game != "swap":  # Swap's G1 text names the paper palette, which "base" has too
        g1 = g1bench.make(game, base, render_mode=None, prompt_version="g1-paper", **extra)
        assert g1.prompt != v1 and g1.versions()["prompt_hash"] != env.versions()["prompt_hash"]
    paper_v1 = g1bench.make(game, "paper", render_mode=None, prompt_version="g1bench-v1", **extra)
    assert "The board has" in paper_v1.prompt or game == "2048"
    assert paper_v1.versions()["prompt_version"] == "g1bench-v1"


def test_g1_paper_swap_prompt_refuses_another_palette():
    with pytest.raises(ConfigError, match="prompt_version 'g1-paper' names the colours"):
        ConfigSwap.from_preset("more-kinds", prompt_version="g1-paper")
    with pytest.raises(ConfigError, match="prompt_version must be one of"):
        g1bench.make("2048", prompt_version="v1")


def test_image_game_offline_names_the_bundled_pack_in_g1s_sentence():
    """Offline the paper preset falls back to the bundled pack; its g1-paper prompt is G1's text with the
    pack's name and classes where G1 names CIFAR-10 (the perception target names the pack's classes)."""
    with pytest.warns(RuntimeWarning, match="could not be loaded"):
        env = g1bench.make("shisensho-images", "paper", render_mode=None, tile_source="g1bench-tests/missing-cifar")
    assert env.config.tile_source == "bundled" and env.config.prompt_version == "g1-paper"
    names = list(env.game.tiles.class_names)
    expected = original("shisensho-images").replace("CIFAR-10", "emoji").replace(
        ", ".join(CIFAR10[:-1]) + ", and " + CIFAR10[-1], ", ".join(names[:-1]) + ", and " + names[-1])
    assert env.prompt == expected


CIFAR_CLIENT = r'''
import io, json, sys, warnings
from pathlib import Path
import datasets
from datasets import ClassLabel, Dataset, Features, Image as ImageFeature
from huggingface_hub import HfApi
from PIL import Image

names, pack = json.loads(sys.argv[1]), Path(sys.argv[2])
manifest = json.loads((pack / "manifest.json").read_text())
images, labels = [], []
for c, entries in enumerate(manifest["classes"].values()):  # any pictures will do; the names are CIFAR-10's
    for e in entries[:4]:
        images.append(Image.open(pack / e["file"]).convert("RGB"))
        labels.append(c)
features = Features({"img": ImageFeature(), "label": ClassLabel(names=names)})
buf = io.BytesIO()
Dataset.from_dict({"img": images, "label": labels}, features=features).to_parquet(buf)
api = HfApi()
api.create_repo("uoft-cs/cifar10", repo_type="dataset")
api.upload_file(path_or_fileobj=buf.getvalue(), path_in_repo="plain_text/train-00000-of-00001.parquet",
                repo_id="uoft-cs/cifar10", repo_type="dataset")
warnings.simplefilter("error")  # no fallback to the bundled pack
import g1bench
env = g1bench.make("shisensho-images", "paper", render_mode=None)
print(json.dumps({"prompt": env.prompt, "tile_source": env.config.tile_source, "title": env.game.tiles.title}))
'''


def test_image_game_prompt_is_g1s_byte_for_byte_with_cifar10(tmp_path):
    """The paper preset loading "cifar10" (uoft-cs/cifar10, here from a Hub-protocol server on 127.0.0.1
    holding a tiny stand-in with CIFAR-10's class names) shows G1's CIFAR-10 prompt exactly."""
    pytest.importorskip("datasets")
    from g1bench.testing import HubServer, hub_env

    pack = Path(g1bench.__file__).parent / "assets" / "tilepack"
    with HubServer(orgs=("uoft-cs",)) as hub:
        res = subprocess.run([sys.executable, "-c", CIFAR_CLIENT, json.dumps(CIFAR10), str(pack)],
                             capture_output=True, text=True, env=hub_env(hub, tmp_path / "hf"), timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert (out["tile_source"], out["title"]) == ("cifar10", "CIFAR-10")
    assert out["prompt"] == original("shisensho-images")


def test_games_command_shows_which_preset_uses_which_prompt(capsys):
    assert main(["games", "swap"]) == 0
    out = capsys.readouterr().out
    assert f"g1-paper       {FROZEN[('swap', 'g1-paper')]}  G1 vlmgym/sandbox/games/gamematch3.py @ 716e666" in out
    assert f"g1bench-v1     {FROZEN[('swap', 'g1bench-v1')]}  g1bench" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("    ") and "+" in line}
    assert "g1-paper + g1" in lines["paper"]
    for preset in ("base", "more-kinds", "large", "composition"):
        assert "g1bench-v1 + lenient" in lines[preset]

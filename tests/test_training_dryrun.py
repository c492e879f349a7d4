"""The pre-flight without weights or the Hub (`--preflight only`, g1bench.training.dryrun): the shipped model configs,
image tokens by the Qwen2-VL processors' own rule on both the trainer's and vLLM's path, the refusal of bounds under
which they differ, exact text tokens with a tokenizer and an upper bound without, and the memory estimate."""

import importlib.util
import json
import socket
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("trl")
pytest.importorskip("torchvision")

from g1bench.models.preflight import VisionGrid, image_tokens, resized_size  # noqa: E402
from g1bench.training.dryrun import (SHIPPED_MODELS, check_image_agreement, model_files, shipped_model_dir,  # noqa: E402
                                     text_tokens)
from g1bench.training.preflight import PreflightError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "training" / "recipes"
TRAINER = VisionGrid(min_pixels=262144, max_pixels=4194304)  # the recipes' bounds (G1's trainer's)
ENGINE = VisionGrid(min_pixels=3136, max_pixels=12845056)  # Qwen2.5-VL's own: what TRL's vLLM engine uses


def _script(name):
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", ROOT / "training" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture()
def offline(tmp_path, monkeypatch):
    """An empty Hub cache, offline mode, and no socket may connect: anything that tries the network fails."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return tmp_path


def test_the_shipped_configs_hold_the_models_facts():
    seven = json.loads((shipped_model_dir("Qwen/Qwen2.5-VL-7B-Instruct") / "config.json").read_text())
    assert (seven["hidden_size"], seven["num_hidden_layers"], seven["num_attention_heads"], seven["num_key_value_heads"],
            seven["intermediate_size"], seven["vocab_size"]) == (3584, 28, 28, 4, 18944, 152064)
    v = seven["vision_config"]
    assert (v["depth"], v["hidden_size"], v["out_hidden_size"], v["patch_size"], v["spatial_merge_size"],
            v["intermediate_size"], v["num_heads"]) == (32, 1280, 3584, 14, 2, 3420, 16)
    big = json.loads((shipped_model_dir("Qwen/Qwen2.5-VL-72B-Instruct") / "config.json").read_text())
    assert (big["hidden_size"], big["num_hidden_layers"], big["num_attention_heads"], big["num_key_value_heads"],
            big["intermediate_size"], big["vocab_size"], big["tie_word_embeddings"]) == (8192, 80, 64, 8, 29568, 152064, False)
    v = big["vision_config"]
    assert (v["depth"], v["hidden_size"], v["out_hidden_size"], v["intermediate_size"], v["num_heads"]) == \
        (32, 1280, 8192, 3456, 16)
    for model in SHIPPED_MODELS:
        pre = json.loads((shipped_model_dir(model) / "preprocessor_config.json").read_text())
        assert (pre["min_pixels"], pre["max_pixels"], pre["patch_size"], pre["merge_size"]) == (3136, 12845056, 14, 2)
        assert model_files(model).grid == ENGINE
    sources = (shipped_model_dir(SHIPPED_MODELS[0]).parent / "SOURCES.md").read_text()
    assert sources.count("not verified offline") >= 3 and "tt-metal" in sources and "torchtune" in sources
    assert shipped_model_dir("Qwen/Qwen2-VL-7B-Instruct") is None


def test_the_shipped_configs_count_the_known_parameters():
    from g1bench.training.dryrun import _params

    assert _params(model_files("Qwen/Qwen2.5-VL-7B-Instruct").config) == (8_292_166_656, 8_292_166_656)


@pytest.mark.slow
def test_the_72b_config_counts_73_4_billion_parameters():
    from g1bench.training.dryrun import _params

    assert _params(model_files("Qwen/Qwen2.5-VL-72B-Instruct").config)[0] == 73_410_777_344


# -- one image size from sampling to loss -------------------------------------------------------------------
FRAMES = [(640, 840), (640, 640), (448, 504), (504, 560), (560, 616), (400, 460), (2000, 60)]


@pytest.mark.parametrize("grid", [TRAINER, ENGINE], ids=["trainer", "vllm"])
def test_image_tokens_are_the_qwen2_vl_processors_own(grid):
    """g1bench's arithmetic equals transformers' smart_resize and what Qwen2VLImageProcessor makes of a real image,
    for the trainer's bounds and for the model's own (vLLM's), and G1's training frame is 690 tokens on both."""
    from PIL import Image
    from transformers import Qwen2VLImageProcessor
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    processor = Qwen2VLImageProcessor(min_pixels=grid.min_pixels, max_pixels=grid.max_pixels, patch_size=14,
                                      merge_size=2, temporal_patch_size=2)
    for w, h in FRAMES:
        rh, rw = smart_resize(h, w, factor=28, min_pixels=grid.min_pixels, max_pixels=grid.max_pixels)
        assert resized_size(w, h, grid) == (rw, rh), (w, h)
        thw = processor(images=[Image.new("RGB", (w, h))], return_tensors="pt")["image_grid_thw"][0].tolist()
        assert thw == [1, rh // 14, rw // 14] and image_tokens(w, h, grid) == rh * rw // 784 == int(np.prod(thw)) // 4
    assert image_tokens(640, 840, grid) == 690 and resized_size(640, 840, grid) == (644, 840)
    assert image_tokens(640, 640, grid) == 529


def test_the_preflight_refuses_bounds_under_which_vllm_and_the_trainer_differ():
    frames = [("swap/paper", (640, 840))]
    assert check_image_agreement(frames, TRAINER, ENGINE) == [
        "swap/paper: frame 640x840 -> 644x840, 690 image tokens (trainer and vLLM alike)"]
    small = VisionGrid(min_pixels=3136, max_pixels=300_000)
    with pytest.raises(PreflightError, match=r"swap/paper: the trainer \(--min_pixels/--max_pixels 3136\.\.300000\) resizes "
                       r"the 640x840 frame to 476x616 = 374 image tokens, but vLLM, which TRL builds from the model name "
                       r"with the model's own bounds 3136\.\.12845056, to 644x840 = 690"):
        check_image_agreement(frames, small, ENGINE)
    big_min = VisionGrid(min_pixels=1_000_000, max_pixels=4194304)
    with pytest.raises(PreflightError, match="sampling and the loss would see different images"):
        check_image_agreement([("2048/paper", (640, 640))], big_min, ENGINE)


def test_a_run_with_such_bounds_is_refused_before_anything_loads(offline, capsys):
    grpo = _script("grpo")
    base = ["--config", str(RECIPES / "g0-shisensho" / "grpo.yaml"), "--preflight", "only"]
    assert grpo.main(base + ["--max_pixels", "300000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: shisensho/paper: the trainer (--min_pixels/--max_pixels 262144..300000) resizes "
                              "the 640x840 frame to 476x616 = 374 image tokens, but vLLM")
    # without vLLM the trainer samples and trains with its own processor: nothing to disagree
    assert grpo.main(base + ["--max_pixels", "300000", "--use_vllm", "false", "--gpu_memory_gb", "80",
                             "--preflight_sharding", "zero3:8"]) == 0
    assert "374 image tokens" in capsys.readouterr().err


# -- the dry run -------------------------------------------------------------------------------------------
def test_the_7b_recipes_dry_run_offline(offline, capsys):
    grpo = _script("grpo")
    rc = grpo.main(["--config", str(RECIPES / "g0-shisensho" / "grpo.yaml"), "--preflight", "only",
                    "--preflight_sharding", "zero3:8", "--gpu_memory_gb", "80"])
    err = capsys.readouterr().err
    assert rc == 0, err[-2000:]
    assert "model Qwen/Qwen2.5-VL-7B-Instruct: config files shipped with g1bench (no tokenizer at hand" in err
    assert "shisensho/paper: frame 640x840 -> 644x840, 690 image tokens (trainer and vLLM alike)" in err
    assert "690 image tokens, at most 1660 prompt tokens (an upper bound: no tokenizer to count the text with)" in err
    assert "sharding: zero3 over 8 process(es)" in err and "parameters: 8.29 B total, 8292.2 M trainable" in err
    assert "estimated peak per GPU: 65.0 GiB of 80 GiB" in err
    assert not (offline / "outputs").exists()  # a dry run writes nothing
    # a G1 recipe before its SFT: the dry run reads the model it starts from
    rc = grpo.main(["--config", str(RECIPES / "g1-swap" / "grpo.yaml"), "--preflight", "only"])
    err = capsys.readouterr().err
    assert rc == 0 and "as 'outputs/g1-swap-sft' (not there yet) per --preflight_model" in err
    assert "no GPU here: give --gpu_memory_gb" in err
    assert grpo.main(["--config", str(RECIPES / "g1-swap" / "grpo.yaml"), "--preflight", "only",
                      "--preflight_model", "Nobody/nothing"]) == 2
    assert ("error: 'outputs/g1-swap-sft' does not exist (yet), and --preflight_model: 'Nobody/nothing' is not a local "
            "folder, not in the Hub cache") in capsys.readouterr().err


@pytest.mark.slow
def test_the_72b_dry_run_is_refused_with_its_estimate(offline, capsys):
    grpo = _script("grpo")
    rc = grpo.main(["--config", str(RECIPES / "g0-shisensho" / "grpo.yaml"), "--preflight", "only",
                    "--model_name_or_path", "Qwen/Qwen2.5-VL-72B-Instruct", "--preflight_sharding", "zero3:8",
                    "--gpu_memory_gb", "80"])
    err = capsys.readouterr().err
    assert rc == 2 and "error: estimated 227.5 GiB per GPU > 95% of 80 GiB (largest term: optimizer (AdamW))" in err
    assert "parameters: 73.41 B total" in err


def test_text_tokens_are_exact_with_the_tokenizer_and_bounded_without(tiny_qwen2_vl):
    from g1bench.models.preflight import prompt_tokens

    files = model_files(str(tiny_qwen2_vl))
    assert files.where == "from its folder" and files.processor is not None
    prompt = "Which move?\n<answer>0</answer>"
    exact, is_exact = text_tokens(files, prompt)
    assert is_exact and exact == prompt_tokens(files.processor, prompt)
    files.processor = None
    bound, is_exact = text_tokens(files, prompt)
    assert not is_exact and bound >= exact
    assert bound == len(("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                         "<|vision_start|><|vision_end|>" + prompt + "<|im_end|>\n<|im_start|>assistant\n").encode())


def test_a_cached_tokenizer_gives_exact_counts(tiny_qwen2_vl, offline, capsys, monkeypatch):
    """A model in the local Hub cache is read from there, tokenizer included: exact text counts, no network."""
    import shutil

    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(offline / "hf" / "hub"))  # (read when huggingface_hub loaded)
    snapshot = offline / "hf" / "hub" / "models--Org--tiny" / "snapshots" / ("a" * 40)
    shutil.copytree(tiny_qwen2_vl, snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("a" * 40)
    files = model_files("Org/tiny")
    assert files.where == "from the Hub cache" and files.processor is not None
    grpo = _script("grpo")
    rc = grpo.main(["--config", str(RECIPES / "tiny-cpu" / "grpo.yaml"), "--model_name_or_path", "Org/tiny",
                    "--preflight", "only"])
    err = capsys.readouterr().err
    assert rc == 0 and "at most" not in err and "config files from the Hub cache" in err
    assert "swap/paper: frame 640x840 -> 84x112, 12 image tokens" in err  # the tiny processor's max_pixels 112*112


def test_bad_dry_run_options_are_clear_errors(offline, capsys):
    grpo = _script("grpo")
    base = ["--config", str(RECIPES / "g0-swap" / "grpo.yaml"), "--preflight", "only"]
    for extra, msg in ((["--preflight_sharding", "zero4:8"], "--preflight_sharding must be STRATEGY:PROCESSES"),
                       (["--model_name_or_path", "Nobody/nothing"], "'Nobody/nothing' is not a local folder"),
                       (["--model_name_or_path", str(offline)], "is a folder without config.json")):
        assert grpo.main(base + extra) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("error: ") and msg in err[-1], err[-1]


def test_the_sft_recipes_dry_run(offline, capsys):
    from g1bench.training.coldstart import ColdStartSpec, build_coldstart

    build_coldstart(offline / "data", ColdStartSpec(games=("swap",), states_per_game=2), log=lambda m: None)
    rc = _script("sft").main(["--config", str(RECIPES / "g1-swap" / "sft.yaml"), "--dataset_name", str(offline / "data"),
                              "--preflight", "only", "--preflight_sharding", "zero3:8", "--gpu_memory_gb", "80"])
    err = capsys.readouterr().err
    assert rc == 0, err[-2000:]
    # the cold-start pictures are G1's training size: 690 tokens, the same as in GRPO
    assert "swap/paper: frame 640x840 -> 644x840, 690 image tokens, at most" in err
    assert "longest SFT example:" in err and "estimated peak per GPU:" in err and "of 80 GiB" in err
    assert "reference model" not in err and "vLLM colocate" not in err  # SFT has neither


def test_a_loaded_trainer_processor_is_compared_with_the_models_own_files(tiny_qwen2_vl):
    """The check of a real run (use_vllm): the processor the trainer loaded (the recipe's bounds) against the model
    folder's own preprocessor_config.json, which is what vLLM loads."""
    from types import SimpleNamespace

    from g1bench.training.states import parse_mix
    from g1bench.training.trainers import load_processor, vllm_image_agreement

    cells = [(s.game, s.preset, s.knobs) for s in parse_mix("2048,swap")]
    args = SimpleNamespace(model_revision=None)
    training = SimpleNamespace(trust_remote_code=False)
    same = load_processor(str(tiny_qwen2_vl))
    assert vllm_image_agreement(str(tiny_qwen2_vl), args, training, same, cells) == [
        "2048/paper: frame 640x840 -> 84x112, 12 image tokens (trainer and vLLM alike)",
        "swap/paper: frame 640x840 -> 84x112, 12 image tokens (trainer and vLLM alike)"]
    smaller = load_processor(str(tiny_qwen2_vl), max_pixels=56 * 56)
    with pytest.raises(PreflightError, match=r"2048/paper: the trainer \(--min_pixels/--max_pixels 784\.\.3136\) resizes "
                       r"the 640x840 frame to 28x56 = 2 image tokens, but vLLM"):
        vllm_image_agreement(str(tiny_qwen2_vl), args, training, smaller, cells)

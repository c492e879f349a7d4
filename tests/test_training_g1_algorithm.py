"""G1's algorithm in every g0-*/g1-* recipe: each recipe resolved by TRL's TrlParser equals G1's trainer
(g1bench.training.g1_trainer.G1_GRPO) except exactly the differences the table "G1's trainer and the recipes" of
training/README.md lists, with the values it states; options whose TRL default is not G1's are written out in the
YAML; every option TRL's GRPOConfig adds is classified; and the table's memory reason holds."""

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

pytest.importorskip("trl")

from g1bench.training.args import load_recipe  # noqa: E402
from g1bench.training.g1_trainer import G1_GRPO, NOT_ALGORITHMIC, g1_value, resolved  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / "training" / "recipes").glob("g[01]-*/grpo.yaml"))
README = ROOT / "training" / "README.md"


def readme_table() -> dict[str, dict[str, str]]:
    """The rows of "G1's trainer and the recipes": option (or '—') -> {recipes, g1, why}."""
    text = README.read_text()
    section = text.split("### G1's trainer and the recipes", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    assert header == ["option", "recipes", "G1's trainer", "why"], header
    out = {}
    for i, line in enumerate(rows[2:]):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == 4 and all(cells), line
        m = re.fullmatch(r"`([a-z0-9_]+)`", cells[0])
        key = m.group(1) if m else f"—{i}"
        assert m or cells[0] == "—", cells[0]
        out[key] = {"recipes": cells[1], "g1": cells[2], "why": cells[3]}
    return out


def _first_code(cell: str):
    m = re.search(r"`([^`]+)`", cell)
    assert m, cell
    return yaml.safe_load(m.group(1))


def _option(parsed, name):
    for obj in parsed:
        if hasattr(obj, name):
            return resolved(getattr(obj, name))
    raise AssertionError(f"no option {name!r} in the recipe's dataclasses")


def test_the_table_lists_real_differences_with_reasons():
    table = readme_table()
    options = [k for k in table if not k.startswith("—")]
    assert {"per_device_train_batch_size", "gradient_accumulation_steps", "reward_funcs"} <= set(options)
    for name in options:
        if name in G1_GRPO:  # the G1 column states G1_GRPO's value
            assert _first_code(table[name]["g1"]) == G1_GRPO[name][0], name
    assert len([k for k in table if k.startswith("—")]) >= 4  # the differences no option controls
    for name in ("use_bias_correction_kl", "vllm_importance_sampling_correction"):
        assert name not in table and G1_GRPO[name][0] is False  # set to G1's behaviour, not a difference


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.parent.name)
def test_each_recipe_is_g1s_trainer_but_for_the_table(path):
    import torch

    parsed = load_recipe(str(path))
    script, args, model = parsed
    raw = yaml.safe_load(path.read_text())
    table = readme_table()
    for name, row in table.items():
        if not name.startswith("—"):
            assert _option(parsed, name) == _first_code(row["recipes"]), (path.parent.name, name)
    for name in G1_GRPO:
        value = raw[name] if name == "bf16" and not torch.cuda.is_available() else resolved(getattr(args, name))
        if name in table:
            assert value != g1_value(name, args), f"{name} is listed as a difference but equals G1's"
        else:
            assert value == g1_value(name, args), (path.parent.name, name, value, g1_value(name, args))
    # what TRL's defaults would change is written out where a reader sees it
    from trl import GRPOConfig

    defaults = {f.name: f.default for f in dataclasses.fields(GRPOConfig)}
    silent = [n for n, (v, _) in G1_GRPO.items() if not hasattr(v, "option") and resolved(defaults.get(n)) != v]
    assert {"use_bias_correction_kl", "vllm_importance_sampling_correction", "loss_type", "beta"} <= set(silent)
    missing = [n for n in silent if n not in raw]
    assert not missing, f"{path.parent.name}: TRL's default differs from G1's and the YAML does not say: {missing}"
    assert raw["use_bias_correction_kl"] is False and raw["vllm_importance_sampling_correction"] is False
    assert script.model_frame == "640x840" and (script.min_pixels, script.max_pixels) == (262144, 4194304)


@pytest.mark.parametrize("path", sorted((ROOT / "training" / "recipes").glob("*/grpo.yaml")), ids=lambda p: p.parent.name)
def test_no_recipe_takes_trls_kl_bias_correction_or_vllm_masking(path):
    raw = yaml.safe_load(path.read_text())
    assert raw["use_bias_correction_kl"] is False and raw.get("shuffle_dataset") is False
    if raw.get("use_vllm"):
        assert raw["vllm_importance_sampling_correction"] is False


def test_every_option_trl_adds_is_classified():
    from transformers import TrainingArguments
    from trl import GRPOConfig

    own = {f.name for f in dataclasses.fields(GRPOConfig)} - {f.name for f in dataclasses.fields(TrainingArguments)}
    unclassified = sorted(own - set(G1_GRPO) - NOT_ALGORITHMIC)
    assert not unclassified, f"GRPOConfig options not in G1_GRPO or NOT_ALGORITHMIC: {unclassified}"
    assert not set(G1_GRPO) & NOT_ALGORITHMIC
    stale = sorted((set(G1_GRPO) | NOT_ALGORITHMIC) - {f.name for f in dataclasses.fields(GRPOConfig)})
    assert not stale, f"options TRL no longer has: {stale}"


@pytest.mark.slow
def test_g1s_micro_batch_of_4_does_not_fit_and_the_recipes_2_does():
    """The table's reason for per_device_train_batch_size 2: the pre-flight's estimate of the 7B recipe on 8 x 80 GB
    with ZeRO-3 and colocated vLLM exceeds the GPU at G1's 4 and fits at 2 (with G1's 640 answers per step either
    way)."""
    from g1bench.training.preflight import GB
    from g1bench.training.trainers import grpo_dry_run

    path = str(ROOT / "training" / "recipes" / "g0-shisensho" / "grpo.yaml")
    common = ("--preflight", "only", "--preflight_sharding", "zero3:8", "--gpu_memory_gb", "80", "--preflight", "warn")
    fits = grpo_dry_run(*load_recipe(path, *common[:-2]))
    assert fits.memory.total < 0.95 * 80 * GB and round(fits.memory.total / GB, 1) == 65.0
    from g1bench.training.preflight import PreflightError

    with pytest.raises(PreflightError, match=r"estimated 82\.4 GiB per GPU > 95% of 80 GiB"):
        grpo_dry_run(*load_recipe(path, *common[:-2], "--per_device_train_batch_size", "4",
                                  "--gradient_accumulation_steps", "20"))

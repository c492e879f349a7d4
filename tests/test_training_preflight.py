"""Pre-flight checks (g1bench.training.preflight) and the recipes' configs (training/recipes/*.yaml)."""

from pathlib import Path

import pytest

from g1bench.training.preflight import (GB, PreflightError, check_grpo_lengths, check_memory, check_sft_lengths,
                                        estimate_memory, prompt_budgets)

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "training" / "recipes"


def _qwen25_vl_7b():
    from transformers import Qwen2_5_VLConfig

    return Qwen2_5_VLConfig(
        text_config=dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
                         num_key_value_heads=4, vocab_size=152064, max_position_embeddings=128000,
                         tie_word_embeddings=False),
        vision_config=dict(depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, out_hidden_size=3584,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=112,
                           fullatt_block_indexes=[7, 15, 23, 31]),
        tie_word_embeddings=False)


def test_prompt_budgets_count_image_tokens_exactly(tiny_qwen2_vl):
    from transformers import AutoProcessor

    proc = AutoProcessor.from_pretrained(tiny_qwen2_vl)
    budgets = prompt_budgets(proc, [("2048", "paper", {}), ("swap", "paper", {})])
    for b in budgets:
        w, h = b.model_image
        # Qwen2-VL: one token per 28x28 pixels after the resize into [min_pixels, max_pixels] (here 112*112)
        assert b.image_tokens == (w // 28) * (h // 28) and w * h <= 112 * 112
        assert b.prompt_tokens > b.image_tokens and b.frame[0] >= 448
    small = AutoProcessor.from_pretrained(tiny_qwen2_vl, size={"shortest_edge": 28 * 28, "longest_edge": 56 * 56})
    assert prompt_budgets(small, [("2048", "paper", {})])[0].image_tokens < budgets[0].image_tokens
    # a prompt plus a full completion must fit the context and vLLM's max_model_len: a clear error otherwise
    longest = max(b.prompt_tokens for b in budgets)
    assert check_grpo_lengths(budgets, 100, longest + 100)[-1] == f"longest prompt + completion: {longest + 100} tokens"
    with pytest.raises(PreflightError, match="swap/paper: prompt .* > the model's context"):
        check_grpo_lengths(budgets, 100, longest + 99)
    with pytest.raises(PreflightError, match="--vllm_max_model_length 512"):
        check_grpo_lengths(budgets, 100, 10**6, vllm_max_model_length=512)
    answers = {("2048", "paper"): 50, ("swap", "paper"): 10}
    need = max(b.prompt_tokens + answers[(b.game, b.difficulty)] + 2 for b in budgets)
    assert check_sft_lengths(budgets, answers, need, None)[-1] == f"longest SFT example: {need} tokens"
    with pytest.raises(PreflightError, match="truncated .* Set --max_length None or >= "):
        check_sft_lengths(budgets, answers, need - 1, None)


def test_memory_estimate_of_the_7b_recipes():
    pytest.importorskip("peft")
    from peft import LoraConfig

    from g1bench.training.preflight import count_parameters

    cfg = _qwen25_vl_7b()
    total, trainable = count_parameters(cfg)
    assert 8.2e9 < total < 8.4e9 and trainable == total  # Qwen2.5-VL-7B-Instruct has 8.29 B parameters
    lora = LoraConfig(r=64, lora_alpha=128, target_modules="all-linear", task_type="CAUSAL_LM")
    lt = count_parameters(cfg, lora)
    assert lt[0] == total and 1e8 < lt[1] < 3e8  # base weights; the adapter trains ~0.2 B
    common = dict(prompt_tokens=1300, beta=0.01, vllm_colocate_fraction=0.3, gpu_bytes=80 * GB)
    # training/recipes/lora-1gpu: fits one 80 GB GPU
    one = estimate_memory(cfg, micro_batch=4, completion_tokens=2048, lora=lora, params=lt, **common)
    assert one.total < 0.95 * 80 * GB and "reference model" not in one.terms
    check_memory(one)
    # the same on one GPU without LoRA does not: a clear error naming what to change
    full = estimate_memory(cfg, micro_batch=4, completion_tokens=2048, params=(total, total), **common)
    with pytest.raises(PreflightError, match="use LoRA .*ZeRO-3/FSDP"):
        check_memory(full)
    # the 8-GPU ZeRO-3 recipes (g0-*/g1-*): 2 x 8192-token answers per micro-batch
    z3 = estimate_memory(cfg, micro_batch=2, completion_tokens=8192, strategy="zero3", processes=8,
                         params=(total, total), **common)
    check_memory(z3)
    assert z3.terms["weights"] == pytest.approx(total * 2 / 8)
    assert estimate_memory(cfg, micro_batch=4, completion_tokens=8192, strategy="zero3", processes=8,
                           params=(total, total), **common).total > z3.total


# -- the recipes ----------------------------------------------------------------------------------------------
def _parse(kind, path, *extra):
    from trl import GRPOConfig, ModelConfig, SFTConfig, TrlParser

    from g1bench.models.config import ModelConfig as TeacherConfig
    from g1bench.training.args import ColdStartArguments, GRPOScriptArguments, SFTScriptArguments

    types = {"grpo": (GRPOScriptArguments, GRPOConfig, ModelConfig), "sft": (SFTScriptArguments, SFTConfig, ModelConfig),
             "coldstart": (ColdStartArguments, TeacherConfig)}[kind]
    # bf16 / vLLM settings are for GPU machines; the YAML keys themselves are what is checked here
    return TrlParser(types).parse_args_and_config(["--config", str(path), *extra])


GPU_FLAGS = ["--use_cpu", "true", "--bf16", "false"]


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*/grpo.yaml")), ids=lambda p: p.parent.name)
def test_grpo_recipes_parse_and_hold_the_papers_hyperparameters(path):
    script, args, model = _parse("grpo", path, *([] if "tiny" in path.parent.name else GPU_FLAGS))
    header = path.read_text().splitlines()[:3]
    assert any(f"training/grpo.py --config training/recipes/{path.parent.name}/grpo.yaml" in line for line in header)
    if path.parent.name.startswith(("g0-", "g1-")):
        assert model.model_name_or_path == ("Qwen/Qwen2.5-VL-7B-Instruct" if path.parent.name.startswith("g0-")
                                            else f"outputs/{path.parent.name}-sft")
        assert (args.learning_rate, args.beta, args.epsilon, args.num_generations, args.temperature) == (1e-6, 0.01, 0.2, 5, 1.0)
        # 128 states x 5 answers per optimizer step on 8 GPUs
        assert args.per_device_train_batch_size * args.gradient_accumulation_steps * 8 == 128 * 5
        assert script.reward_funcs == ["g1"] and (script.format_weight, script.perception_weight) == (1.0, 0.0)
        assert args.max_steps == 400 and script.sampling == "paper"
    if path.parent.name == "lora-1gpu":
        assert model.use_peft and args.per_device_train_batch_size * args.gradient_accumulation_steps == 640
    if path.parent.name == "g0-multi":
        assert script.games == "2048,shisensho,shisensho-images,swap"


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*/sft.yaml")), ids=lambda p: p.parent.name)
def test_sft_recipes_parse(path):
    script, args, model = _parse("sft", path, *([] if "tiny" in path.parent.name else GPU_FLAGS))
    assert args.max_length is None and script.completion_only
    if path.parent.name.startswith("g1-"):
        assert (args.learning_rate, args.num_train_epochs) == (2e-5, 1)
        assert script.dataset_name == f"data/coldstart-{path.parent.name[3:]}"


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*/coldstart.yaml")), ids=lambda p: p.parent.name)
def test_coldstart_recipes_parse(path):
    args, teacher = _parse("coldstart", path)
    assert args.teacher == "oracle" and teacher.validate()
    if path.parent.name.startswith("g1-"):
        assert args.states_per_game == 1000 and args.games == path.parent.name[3:]


def test_every_game_has_g0_and_g1_recipes_and_every_script_starts_with_its_command():
    from g1bench import list_games

    for game in list_games():
        for f in (f"g0-{game}/grpo.yaml", f"g1-{game}/coldstart.yaml", f"g1-{game}/sft.yaml", f"g1-{game}/grpo.yaml"):
            assert (RECIPES / f).is_file(), f
    for script in ("grpo.py", "sft.py", "build_coldstart.py", "plot.py", "merge_adapter.py"):
        first = (ROOT / "training" / script).read_text().split('"""')[1].strip().splitlines()[0]
        assert first.startswith(("python training/", "accelerate launch ")) and f"training/{script}" in first
    for name in ("zero3", "fsdp", "ddp", "single_gpu"):
        assert (ROOT / "training" / "accelerate_configs" / f"{name}.yaml").is_file()


def test_an_unknown_recipe_key_is_an_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("games: swap\nuse_cpu: true\nbf16: false\nlearnig_rate: 1.0e-6\n")
    with pytest.raises(ValueError, match="learnig_rate"):
        _parse("grpo", bad)

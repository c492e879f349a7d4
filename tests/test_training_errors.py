"""Clear errors, not tracebacks: what a training run would otherwise fail on late, or with a traceback from inside
accelerate/transformers, is refused first in one `error:` line naming what to do: a GPU recipe on a machine without
a GPU, a reporting integration that is not installed, vLLM generation without vLLM, DeepSpeed without deepspeed."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("torchvision")

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "training" / "recipes"


def _script(name):
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", ROOT / "training" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _one_error(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: ") and not any("Traceback" in line for line in err), err[-5:]
    return err[-1]


def _no_gpu():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")


@pytest.mark.parametrize("script, recipe", [("grpo", "g0-2048/grpo.yaml"), ("grpo", "g1-swap/grpo.yaml"),
                                            ("grpo", "lora-1gpu/grpo.yaml"), ("sft", "g1-shisensho/sft.yaml")])
def test_a_gpu_recipe_on_a_machine_without_a_gpu(script, recipe, tmp_path, monkeypatch, capsys):
    _no_gpu()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        _script(script).main(["--config", str(RECIPES / recipe)])
    assert stop.value.code == 2
    assert _one_error(capsys) == ("error: this recipe trains on GPUs (bf16: true) and this machine has no CUDA GPU. "
                                  "Check it here without weights, GPU or Hub: add --preflight only; train a tiny model "
                                  "on the CPU: training/recipes/tiny-cpu/")


@pytest.mark.skipif(importlib.util.find_spec("wandb") is not None, reason="wandb is installed here")
def test_report_to_an_integration_that_is_not_installed(tiny_qwen2_vl, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    grpo = _script("grpo")
    rc = grpo.main(["--config", str(RECIPES / "tiny-cpu" / "grpo.yaml"), "--model_name_or_path", str(tiny_qwen2_vl),
                    "--output_dir", "o", "--report_to", "wandb"])
    assert rc == 2
    assert _one_error(capsys) == ("error: --report_to wandb: WandbCallback requires wandb to be installed. Run `pip "
                                  "install wandb`. (or --report_to none: logs still go to g1_metrics.jsonl and "
                                  "trainer_state.json)")
    assert not (tmp_path / "o").exists()  # refused before anything loaded or was written


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_vllm_generation_without_vllm(tiny_qwen2_vl, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc = _script("grpo").main(["--config", str(RECIPES / "tiny-cpu" / "grpo.yaml"), "--model_name_or_path",
                               str(tiny_qwen2_vl), "--output_dir", "o", "--use_vllm", "true"])
    assert rc == 2 and _one_error(capsys).startswith(
        "error: --use_vllm true needs vLLM (the version TRL supports): pip install 'g1bench[training-vllm]'")


@pytest.mark.skipif(importlib.util.find_spec("deepspeed") is not None, reason="deepspeed is installed here")
def test_deepspeed_configs_without_deepspeed(tiny_qwen2_vl, tmp_path, monkeypatch, capsys, request):
    # the documented launch: one line instead of accelerate's ImportError traceback
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, str(ROOT / "training" / "launch.py"), "--config_file",
                          str(ROOT / "training" / "accelerate_configs" / "zero3.yaml"), "training/grpo.py", "--config",
                          str(RECIPES / "g0-shisensho" / "grpo.yaml")], capture_output=True, text=True, env=env,
                         timeout=120)
    assert res.returncode == 2 and res.stderr.strip().splitlines() == [
        f"error: {ROOT / 'training' / 'accelerate_configs' / 'zero3.yaml'} uses DeepSpeed (distributed_type: "
        "DEEPSPEED) but deepspeed is not installed: pip install deepspeed (on the GPU machines), or launch with "
        "training/accelerate_configs/fsdp.yaml (FSDP2: the same sharding without DeepSpeed)"]
    # a script started by another launcher with DeepSpeed asked for in its environment
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    from transformers.integrations.deepspeed import unset_hf_deepspeed_config

    request.addfinalizer(unset_hf_deepspeed_config)  # the failed parse leaves transformers' global DeepSpeed config
    with pytest.raises(SystemExit) as stop:  # transformers' arguments already want deepspeed when parsed
        _script("grpo").main(["--config", str(RECIPES / "tiny-cpu" / "grpo.yaml"), "--model_name_or_path",
                              str(tiny_qwen2_vl), "--output_dir", "o"])
    assert stop.value.code == 2 and _one_error(capsys) == (
        "error: this run uses DeepSpeed (a DeepSpeed accelerate config such as zero3.yaml, or --deepspeed) but "
        "deepspeed is not installed: pip install deepspeed (on the GPU machines), or launch with "
        "training/accelerate_configs/fsdp.yaml (FSDP2: the same sharding without DeepSpeed)")


def test_the_launcher_checks_gpus_and_passes_everything_else_to_accelerate(monkeypatch):
    from g1bench.training.launch import LaunchError, check_launch

    fsdp = str(ROOT / "training" / "accelerate_configs" / "fsdp.yaml")
    with pytest.raises(LaunchError, match="starts 8 GPU process\\(es\\) on this machine, which has no CUDA GPU"):
        check_launch(["--config_file", fsdp, "training/grpo.py"], gpus=0)
    with pytest.raises(LaunchError, match="starts 8 GPU process\\(es\\) on this machine, which has 4 CUDA GPU"):
        check_launch(["--config_file", fsdp, "training/grpo.py"], gpus=4)
    s = check_launch(["--config_file", fsdp, "--num_processes", "4", "training/grpo.py", "--max_steps", "3"], gpus=4)
    assert (s["distributed_type"], s["num_processes"]) == ("FSDP", 4)
    # two nodes of 8: 8 processes per machine
    assert check_launch(["--config_file", fsdp, "--num_machines", "2", "--num_processes", "16", "training/grpo.py"],
                        gpus=8)["num_machines"] == 2
    with pytest.raises(LaunchError, match="cannot read the accelerate config"):
        check_launch(["--config_file", "/no/such.yaml", "training/grpo.py"], gpus=8)


def test_fresh_state_rows_counts_the_prompts_trl_asks_for():
    from types import SimpleNamespace

    from g1bench.training.states import StatesError
    from g1bench.training.trainers import fresh_state_rows

    args = SimpleNamespace(max_steps=10, gradient_accumulation_steps=2, steps_per_generation=4, num_iterations=1,
                           generation_batch_size=40, num_generations=5)
    # ceil(10 * 2 / (4 * 1)) + 1 = 6 generation rounds of 40 / 5 = 8 prompts
    assert fresh_state_rows(None, args) == 48 and fresh_state_rows(7, args) == 7
    with pytest.raises(StatesError, match="set --num_states, or --max_steps"):
        fresh_state_rows(None, SimpleNamespace(**{**vars(args), "max_steps": -1}))

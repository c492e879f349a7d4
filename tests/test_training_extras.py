"""Extras that install together and commands TRL accepts: the `training-vllm` extra pins vLLM to the range the
installed TRL supports (its metadata and its import check), and every `trl vllm-serve` / launch command of
training/README.md parses with TRL's own CLI parser, asks for no data parallelism (refused for dense models), a
tensor-parallel size the model can be split by, and 640 answers per optimizer step."""

import importlib.metadata
import re
import shlex
import sys
import warnings
from pathlib import Path

import pytest

pytest.importorskip("trl")

from packaging.requirements import Requirement  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "training" / "README.md"


def _extras() -> dict[str, list[Requirement]]:
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {k: [Requirement(r) for r in v] for k, v in data["project"]["optional-dependencies"].items()}


def _trl_vllm() -> Requirement:
    reqs = [Requirement(r) for r in importlib.metadata.requires("trl")]
    found = [r for r in reqs if r.name == "vllm" and r.marker is not None and r.marker.evaluate({"extra": "vllm"})]
    assert len(found) == 1, found
    return found[0]


def test_the_training_vllm_extra_pins_what_trl_accepts():
    extras = _extras()
    ours = [r for r in extras["training-vllm"] if r.name == "vllm"]
    assert len(ours) == 1 and ours[0].specifier == _trl_vllm().specifier  # e.g. >=0.22.0,<=0.31.0 for TRL 1.16
    names = {r.name for r in extras["training-vllm"]}
    assert "g1bench" in names and any(r.name == "trl" and "vllm" in r.extras for r in extras["training-vllm"])
    trl = next(r for r in extras["training"] if r.name == "trl")
    assert trl.specifier.contains(importlib.metadata.version("trl"))


def test_trls_import_check_accepts_the_pinned_range(monkeypatch):
    """TRL's own vLLM check (trl.import_utils.is_vllm_available) warns outside its range: not at our pin's ends."""
    import trl.import_utils as iu

    spec = _trl_vllm().specifier
    ends = sorted(s.version for s in spec)
    for version, ok in ((ends[0], True), (ends[-1], True), ("0.21.0", False), ("0.33.0", False)):
        monkeypatch.setattr(iu, "_is_package_available", lambda name, return_version=False, v=version: (True, v))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            iu.is_vllm_available()
        assert (not caught) == ok == spec.contains(version), (version, [str(w.message) for w in caught])


def _commands(prefix: str) -> list[list[str]]:
    """The shell commands of training/README.md's bash blocks that run ``prefix`` (continuations joined, the
    environment assignments and a trailing ``&`` dropped, the node placeholders filled in)."""
    text = README.read_text()
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        block = block.replace("$NODE_RANK", "0").replace("$MASTER", "10.0.0.1")  # the README's placeholders
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line.split("#", 1)[0]) if not line.lstrip().startswith("#") else []
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words = words[1:]
            if words and words[-1] == "&":
                words = words[:-1]
            if words[: len(prefix.split())] == prefix.split():
                out.append(words)
    return out


def test_every_vllm_serve_command_is_one_trls_cli_accepts():
    from trl.scripts.vllm_serve import make_parser

    from g1bench.training.dryrun import model_files

    commands = _commands("trl vllm-serve")
    assert len(commands) >= 2
    raw = README.read_text()
    for words in commands:
        args, extra = make_parser().parse_args_and_config(words[2:], return_remaining_strings=True)
        assert extra == [], words
        assert args.data_parallel_size == 1, f"data parallel > 1 is refused for dense models: {words}"
        config = model_files(args.model).config
        heads = (config.get_text_config().num_attention_heads, config.vision_config.num_heads)
        assert all(h % args.tensor_parallel_size == 0 for h in heads), (words, heads)
        # the GPUs it is given (CUDA_VISIBLE_DEVICES on the same line) hold its tensor-parallel ranks
        line = next(line for line in raw.splitlines() if " ".join(words[2:4]) in line)
        visible = re.search(r"CUDA_VISIBLE_DEVICES=([\d,]+)", line)
        if visible:
            assert len(visible.group(1).split(",")) >= args.tensor_parallel_size


def test_every_launch_command_parses_and_trains_on_640_answers_per_step():
    from accelerate.commands.launch import launch_command_parser
    from trl import TrlParser

    from g1bench.training.args import CPU_PARSE_FLAGS, recipe_types
    from g1bench.training.launch import launch_settings

    commands = _commands("python training/launch.py")
    assert len(commands) >= 5
    for words in commands:
        argv = words[2:]
        args = launch_command_parser().parse_args(argv)
        settings = launch_settings(argv)
        script = Path(args.training_script).stem
        assert script in ("grpo", "sft") and Path(ROOT, args.training_script).is_file()
        parsed = TrlParser(recipe_types(script)).parse_args_and_config(
            [a.replace("training/recipes", str(ROOT / "training" / "recipes")) for a in args.training_script_args]
            + list(CPU_PARSE_FLAGS))
        if script == "grpo":
            t = parsed[1]
            answers = settings["num_processes"] * t.per_device_train_batch_size * t.gradient_accumulation_steps
            assert answers == 640 == 128 * t.num_generations, words
    assert sys.executable  # (the commands themselves run only on GPU machines)

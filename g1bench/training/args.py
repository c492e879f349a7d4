"""The options of the training recipes, one dataclass per script (TRL's ``TrlParser`` style).

``training/grpo.py`` parses ``(GRPOScriptArguments, trl.GRPOConfig, trl.ModelConfig)``, ``training/sft.py``
``(SFTScriptArguments, trl.SFTConfig, trl.ModelConfig)`` and ``training/build_coldstart.py``
``(ColdStartArguments, g1bench.models.ModelConfig)`` (the teacher's options are ``g1bench eval``'s model
options). Every field is a YAML key of a recipe and a ``--flag`` of the script; its ``help`` is the CLI help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trl import ScriptArguments

from .states import TRAIN_FRAME

_PREFLIGHT = ("error", "warn", "off", "only")
_MODEL_FRAME_HELP = (
    "the picture the model is given, every game: a size WxH every frame is resized to (PIL BICUBIC), by default "
    f"{TRAIN_FRAME}, G1's training size (spec section 4.1); 'eval': each preset's own (what g1bench eval gives the "
    "model: the paper presets' 640x840 for 2048, 640x640 for the tile games); 'native': the frame as drawn. A "
    "game's own model_frame in game_overrides wins")


@dataclass
class _Preflight:
    preflight: str = field(default="error", metadata={
        "help": "before training, check prompt lengths (image tokens per frame) against the limits, that vLLM and the "
                "trainer see frames at the same size, and estimate GPU memory: 'error' stops with a clear message, "
                "'warn' prints it and goes on, 'off' skips the checks, 'only' is a dry run: the checks from the model's "
                "config files alone (no weights, no Hub; shipped for Qwen2.5-VL-7B/72B-Instruct), then exit",
        "choices": list(_PREFLIGHT)})
    gpu_memory_gb: float | None = field(default=None, metadata={
        "help": "GPU memory per device for the memory check (default: what torch sees; no check on a CPU)"})
    preflight_model: str | None = field(default=None, metadata={
        "help": "--preflight only: the model whose config files stand in for model_name_or_path while that does not "
                "exist yet (a G1 recipe before its SFT has run: the model the SFT starts from)"})
    preflight_sharding: str | None = field(default=None, metadata={
        "help": "--preflight only: how the run will be spread, STRATEGY:PROCESSES with STRATEGY ddp, zero1, zero2, "
                "zero3 or fsdp (the 8-GPU recipes with zero3.yaml: zero3:8; default: what accelerate launch set, "
                "else ddp:1)"})
    min_pixels: int | None = field(default=None, metadata={
        "help": "smallest image area the processor resizes frames to (Qwen2-VL family; None: the model's own). The "
                "paper: 262144"})
    max_pixels: int | None = field(default=None, metadata={
        "help": "largest image area the processor resizes frames to (None: the model's own). The paper: 4194304"})


@dataclass
class GRPOScriptArguments(ScriptArguments, _Preflight):
    """GRPO on start states of the games (see :mod:`g1bench.training.states` and :mod:`.rewards`).

    Without ``dataset_name`` the states are sampled on the fly (the paper's sampler); with it, they are the
    ``states-<game>`` configs of that dataset (a folder or a Hub id made by ``g1bench data build``).
    """

    games: str = field(default="shisensho", metadata={
        "help": "game, or comma-separated games with optional weights for a mix: '2048,swap' or '2048:1,swap:2'"})
    preset: str = field(default="paper", metadata={"help": "difficulty preset of every game"})
    sampling: str = field(default="paper", metadata={
        "help": "start states: 'paper' (seeded reset + the paper's random warm-up) or 'late-game' (oracle play)",
        "choices": ["paper", "late-game"]})
    game_overrides: str | None = field(default=None, metadata={
        "help": "JSON of knob overrides per game, e.g. '{\"shisensho-images\": {\"tile_source\": \"bundled\"}}'"})
    model_frame: str = field(default=TRAIN_FRAME, metadata={"help": _MODEL_FRAME_HELP})
    num_states: int | None = field(default=None, metadata={
        "help": "training states (None: fresh states for every step of max_steps, as the paper; a states dataset: "
                "all its rows)"})
    state_offset: int = field(default=0, metadata={
        "help": "start the sampled states at this row of the training-state stream (runs with different offsets "
                "see different states)"})
    reward_funcs: list[str] = field(default_factory=lambda: ["g1"], metadata={
        "help": "reward functions (g1bench.training.rewards): g1 (the paper's text: GR + format_weight*FR + "
                "perception_weight*PR), g1_released (G1's released trainers: GR + FR + PR as a substring test, weight "
                "1 for 2048, natural images and Swap, 0 for Shisen-Sho), game, format, perception, "
                "perception_substring, format_partial, or package.module:function"})
    format_weight: float = field(default=1.0, metadata={"help": "alpha of the g1 reward (the paper: 1)"})
    perception_weight: float = field(default=0.0, metadata={
        "help": "beta of the g1 reward (the paper: 0; 0.1 in its perception-reward ablation)"})
    system_prompt: str | None = field(default=None, metadata={
        "help": "system message (None: none; Qwen's chat template then adds 'You are a helpful assistant.', as the "
                "paper's trainer did). Evaluate with the same --system-prompt"})
    curriculum: bool = field(default=False, metadata={
        "help": "walk each game's presets along the perception x reasoning grid, moving on when the success rate "
                "passes curriculum_threshold (replaces --preset)"})
    curriculum_presets: str | None = field(default=None, metadata={
        "help": "comma-separated presets of the curriculum (default: each game's grid order)"})
    curriculum_threshold: float = field(default=0.5, metadata={"help": "success rate that moves a game on"})
    curriculum_patience: int = field(default=3, metadata={
        "help": "consecutive logged success rates >= the threshold needed to move on"})


@dataclass
class SFTScriptArguments(ScriptArguments, _Preflight):
    """SFT on a cold-start dataset (``training/build_coldstart.py``): ``dataset_name`` is its folder or Hub id,
    ``dataset_config`` ``all`` (default) or ``coldstart-<game>``."""

    completion_only: bool = field(default=True, metadata={
        "help": "train on the answer only (the user turn becomes the prompt, the answer the completion); False "
                "trains on the whole conversation"})


@dataclass
class ColdStartArguments:
    """Build the G1 cold-start dataset (:mod:`g1bench.training.coldstart`)."""

    output_dir: str = field(metadata={"help": "dataset folder to write"})
    games: str = field(default="2048,shisensho,shisensho-images,swap", metadata={"help": "comma-separated games"})
    preset: str = field(default="paper", metadata={"help": "difficulty preset"})
    states_per_game: int = field(default=1000, metadata={"help": "states asked per game (the paper: 1,000)"})
    teacher: str = field(default="oracle", metadata={
        "help": "'oracle' (offline: the oracle's move with a templated <think>) or a model: a Hub id, a local folder, "
                "or the model name an OpenAI-compatible server knows (with --base_url)"})
    attempts: int = field(default=1, metadata={"help": "tries per state (use temperature > 0 for more than one)"})
    game_overrides: str | None = field(default=None, metadata={
        "help": "JSON of knob overrides per game, e.g. '{\"shisensho-images\": {\"tile_source\": \"bundled\"}}'"})
    model_frame: str = field(default=TRAIN_FRAME, metadata={
        "help": _MODEL_FRAME_HELP.replace("the model is given", "the teacher sees and the dataset stores")})
    resume: bool = field(default=False, metadata={"help": "finish an interrupted build of the same options"})
    overwrite: bool = field(default=False, metadata={"help": "replace a previous g1bench dataset in output_dir"})


def _cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:  # pragma: no cover - torch is a dependency of the training extra
        return False


def requested(argv: list[str], key: str) -> Any:
    """The value ``--key`` has in ``argv``, else in the ``--config`` YAML, else None (read before parsing, to decide
    how to parse)."""
    import yaml

    flag = f"--{key}"
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    for i, arg in enumerate(argv):
        path = argv[i + 1] if arg == "--config" and i + 1 < len(argv) else arg.split("=", 1)[1] \
            if arg.startswith("--config=") else None
        if path:
            try:
                with open(path) as f:
                    data = yaml.safe_load(f)
            except (OSError, yaml.YAMLError):
                return None
            return data.get(key) if isinstance(data, dict) else None
    return None


#: Flags that let a GPU recipe be parsed on a machine without a GPU (for the dry run and for reading the recipe):
#: bf16 is recorded off, which changes nothing the pre-flight reads (the weights' dtype is ``dtype``).
CPU_PARSE_FLAGS = ("--bf16", "false")


def parse_recipe(parser, argv=None) -> tuple:
    """``parser.parse_args_and_config(argv)`` for a recipe script (a ``trl.TrlParser``), with one ``error:`` line
    (exit 2) instead of a traceback for a ``--config`` file that is missing, not a file or not YAML, and for a GPU
    recipe (``bf16: true``) on a machine without a GPU, unless it is a dry run (``--preflight only``), which then
    parses with bf16 off."""
    import sys

    import yaml

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return parser.parse_args_and_config(argv)
    except (OSError, yaml.YAMLError) as e:
        why = f"{e.strerror}: {e.filename}" if isinstance(e, OSError) and e.strerror else " ".join(str(e).split())
        print(f"error: cannot read the recipe (--config): {why}", file=sys.stderr)
        raise SystemExit(2) from None
    except (ValueError, ImportError) as e:  # raised by TrainingArguments.__post_init__
        from .launch import DEEPSPEED_FIX, deepspeed_installed, deepspeed_requested

        text = " ".join(str(e).split())
        if deepspeed_requested(argv) and not deepspeed_installed():
            print("error: this run uses DeepSpeed (a DeepSpeed accelerate config such as zero3.yaml, or --deepspeed) "
                  f"but deepspeed is not installed: {DEEPSPEED_FIX}", file=sys.stderr)
        elif not _cuda() and ("bf16" in text or "fp16" in text or "gpu" in text.lower()):
            if requested(argv, "preflight") == "only":
                return parser.parse_args_and_config(argv + list(CPU_PARSE_FLAGS))
            print("error: this recipe trains on GPUs (bf16: true) and this machine has no CUDA GPU. Check it here "
                  "without weights, GPU or Hub: add --preflight only; train a tiny model on the CPU: "
                  "training/recipes/tiny-cpu/", file=sys.stderr)
        else:
            print(f"error: {text}", file=sys.stderr)
        raise SystemExit(2) from None


def recipe_types(kind: str) -> tuple:
    """The dataclasses ``training/<kind>.py`` parses its recipe into (``grpo``, ``sft`` or ``coldstart``)."""
    from trl import GRPOConfig, ModelConfig, SFTConfig

    from ..models.config import ModelConfig as TeacherConfig

    return {"grpo": (GRPOScriptArguments, GRPOConfig, ModelConfig), "sft": (SFTScriptArguments, SFTConfig, ModelConfig),
            "coldstart": (ColdStartArguments, TeacherConfig)}[kind]


def load_recipe(path: str, *overrides: str, kind: str | None = None) -> tuple:
    """A recipe YAML parsed exactly as its script parses it (TRL's ``TrlParser``), ``overrides`` being extra flags
    (``"--max_steps", "3"``): ``(script_args, training_args, model_args)`` for ``grpo``/``sft``, ``(args,
    teacher_config)`` for ``coldstart`` (``kind`` defaults to the file's name: ``grpo.yaml``...). A GPU recipe parses
    on a machine without a GPU too (bf16 then reads False; ``model_args.dtype`` keeps the weights' dtype).

    Example (what benchmarks compare a measured peak with)::

        script, args, model = load_recipe("training/recipes/lora-1gpu/grpo.yaml", "--gpu_memory_gb", "80")
        from g1bench.training.trainers import grpo_dry_run
        estimate = grpo_dry_run(script, args, model).memory   # .total bytes, .terms
    """
    from pathlib import Path

    from trl import TrlParser

    kind = kind or Path(path).stem
    argv = ["--config", str(path), *overrides]
    parser = TrlParser(recipe_types(kind))
    try:
        return parser.parse_args_and_config(argv)
    except ValueError:
        if _cuda():
            raise
        return parser.parse_args_and_config(argv + list(CPU_PARSE_FLAGS))


__all__ = ["CPU_PARSE_FLAGS", "ColdStartArguments", "GRPOScriptArguments", "SFTScriptArguments", "load_recipe",
           "parse_recipe", "recipe_types", "requested"]

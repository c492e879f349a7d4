"""``python training/launch.py ACCELERATE_LAUNCH_ARGS``: ``accelerate launch``, after checking that this machine has
what the accelerate config asks for.

``accelerate launch --config_file zero3.yaml`` on a machine without deepspeed, or with fewer GPUs than the config's
``num_processes``, fails inside accelerate with a traceback (or, for GPUs, only once every process has loaded its
model). :func:`check_launch` reads the same arguments and config file first and says in one line what is missing and
what to do instead; :func:`main` then hands the unchanged arguments to ``accelerate launch``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any, Sequence


#: What to do when DeepSpeed is asked for and not installed (the launcher, the scripts and the trainers say the same).
DEEPSPEED_FIX = ("pip install deepspeed (on the GPU machines), or launch with training/accelerate_configs/fsdp.yaml "
                 "(FSDP2: the same sharding without DeepSpeed)")


def deepspeed_requested(argv: Sequence[str] = ()) -> bool:
    """Whether a training script is asked to use DeepSpeed: ``accelerate launch`` with a DeepSpeed config sets
    ``ACCELERATE_USE_DEEPSPEED``; ``--deepspeed CONFIG`` asks directly."""
    return os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true" or any(
        a == "--deepspeed" or a.startswith("--deepspeed=") for a in argv)


def deepspeed_installed() -> bool:
    return importlib.util.find_spec("deepspeed") is not None


class LaunchError(RuntimeError):
    """This machine cannot run the launch as asked; the message says what to change."""


def _gpus() -> int:
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except ImportError:  # pragma: no cover - accelerate needs torch
        return 0


def launch_settings(argv: Sequence[str]) -> dict[str, Any]:
    """What ``accelerate launch argv`` would run with: the config file's settings, overridden by the flags."""
    import yaml
    from accelerate.commands.launch import launch_command_parser

    args = launch_command_parser().parse_args(list(argv))
    settings: dict[str, Any] = {}
    if args.config_file:
        try:
            with open(args.config_file) as f:
                settings = yaml.safe_load(f) or {}
        except (OSError, yaml.YAMLError) as e:
            raise LaunchError(f"cannot read the accelerate config {args.config_file}: {' '.join(str(e).split())}") from None
    if args.use_deepspeed:
        settings["distributed_type"] = "DEEPSPEED"
    if args.use_fsdp:
        settings["distributed_type"] = "FSDP"
    if args.cpu:
        settings["use_cpu"] = True
    for key in ("num_processes", "num_machines"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    settings["config_file"] = args.config_file
    return settings


def check_launch(argv: Sequence[str], gpus: int | None = None) -> dict[str, Any]:
    """Raise :class:`LaunchError` when this machine lacks what the launch needs: deepspeed for a DeepSpeed config,
    enough CUDA GPUs for the processes of one machine. Returns the settings."""
    s = launch_settings(argv)
    name = s.get("config_file") or "the accelerate launch flags"
    if s.get("distributed_type") == "DEEPSPEED" and not deepspeed_installed():
        raise LaunchError(f"{name} uses DeepSpeed (distributed_type: DEEPSPEED) but deepspeed is not installed: "
                          f"{DEEPSPEED_FIX}")
    if not s.get("use_cpu"):
        gpus = _gpus() if gpus is None else gpus
        per_machine = -(-int(s.get("num_processes") or 1) // int(s.get("num_machines") or 1))
        if gpus < per_machine:
            have = "no CUDA GPU" if gpus == 0 else f"{gpus} CUDA GPU(s)"
            raise LaunchError(f"{name} starts {per_machine} GPU process(es) on this machine, which has {have}. Use "
                              "--num_processes to match, check a recipe without GPUs with `python training/grpo.py "
                              "--config RECIPE --preflight only`, or train the tiny model on the CPU "
                              "(training/recipes/tiny-cpu/)")
    return s


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        check_launch(argv)
    except LaunchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    os.execv(sys.executable, [sys.executable, "-m", "accelerate.commands.launch", *argv])
    return 0  # pragma: no cover - execv does not return


__all__ = ["DEEPSPEED_FIX", "LaunchError", "check_launch", "deepspeed_installed", "deepspeed_requested", "launch_settings",
           "main"]

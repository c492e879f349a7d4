"""Build and run the TRL trainers of the recipes (the scripts in ``training/`` only parse and call these).

* :func:`run_grpo`: GRPO on start states of the games with the game rewards, per-game metrics, optional
  curriculum, pre-flight checks; saves the model (or LoRA adapter) with its processor, and the logs.
* :func:`run_sft`: SFT on a cold-start dataset (completion-only by default), with pre-flight checks.
* :func:`run_coldstart`: build the cold-start dataset with a teacher.
* :func:`grpo_dry_run` / :func:`sft_dry_run`: ``--preflight only``, the checks from config files alone.

Every run writes ``<output_dir>/g1_metrics.jsonl`` (one JSON object per logging step, as training goes) next
to TRL's ``trainer_state.json``; ``training/plot.py`` draws the paper's curves from either.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from ..models.preflight import context_length, grid_from_processor
from .preflight import (PreflightError, check_grpo_lengths, check_memory, check_sft_lengths, estimate_memory,
                        gpu_memory_bytes, prompt_budgets, sharding)

METRICS_FILE = "g1_metrics.jsonl"


def _main_process() -> bool:
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0"))) == 0


def _say(lines: list[str], prefix: str = "[g1bench preflight] ") -> None:
    if _main_process():
        for line in lines:
            print(prefix + line, file=sys.stderr)


def load_processor(model_id: str, revision: str | None = None, min_pixels: int | None = None,
                   max_pixels: int | None = None, trust_remote_code: bool = False):
    """The model's processor, left-padded (as GRPO needs), with the image-area bounds applied (Qwen2-VL family:
    ``size={"shortest_edge": min_pixels, "longest_edge": max_pixels}``). The bounds are saved with the
    trained model, so ``g1bench eval`` sees frames at the training resolution."""
    from transformers import AutoProcessor

    kw: dict[str, Any] = {"revision": revision, "trust_remote_code": trust_remote_code, "padding_side": "left",
                          "truncation_side": "left"}
    try:
        processor = AutoProcessor.from_pretrained(model_id, **kw)
    except (OSError, ValueError) as e:
        raise PreflightError(f"cannot load the processor of {model_id!r}: {str(e).splitlines()[0] if str(e) else e!r}") from None
    if min_pixels is not None or max_pixels is not None:
        ip = getattr(processor, "image_processor", None)
        size = getattr(ip, "size", None)
        get = (lambda k: size.get(k)) if isinstance(size, dict) else (lambda k: getattr(size, k, None))
        if ip is None or get("longest_edge") is None:
            raise PreflightError(f"--min_pixels/--max_pixels apply to processors that resize by pixel area (the Qwen2-VL "
                                 f"family); {type(ip).__name__} of {model_id!r} does not")
        lo = min_pixels if min_pixels is not None else get("shortest_edge")
        hi = max_pixels if max_pixels is not None else get("longest_edge")
        if lo > hi:
            raise PreflightError(f"--min_pixels {lo} exceeds --max_pixels {hi}")
        processor = AutoProcessor.from_pretrained(model_id, **kw, size={"shortest_edge": lo, "longest_edge": hi})
    if getattr(processor, "image_processor", None) is None:
        raise PreflightError(f"{model_id!r}: AutoProcessor returned {type(processor).__name__}, which cannot process "
                             "images (not a vision-language model, or torchvision is missing)")
    return processor


def load_config(model_id: str, revision: str | None = None, trust_remote_code: bool = False):
    """The model's ``transformers`` config; a :class:`PreflightError` when it cannot be loaded."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(model_id, revision=revision, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise PreflightError(f"cannot load the config of {model_id!r}: {str(e).splitlines()[0] if str(e) else e!r}") from None


def metrics_callback(path: str | os.PathLike):
    """A ``TrainerCallback`` that appends every log (main process) to a JSON-lines file as training goes."""
    from transformers import TrainerCallback

    class MetricsFileCallback(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and state.is_world_process_zero:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                with open(path, "a") as f:
                    f.write(json.dumps({"step": state.global_step, **logs}, default=float) + "\n")

    return MetricsFileCallback()


def model_path(model_args: Any) -> str:
    """``model_name_or_path`` as the trainer gets it: a local folder as an absolute path, so that a LoRA adapter
    records a base model (``base_model_name_or_path``) that ``g1bench eval --model ADAPTER`` finds from any working
    directory; a Hub id as it is."""
    model_id = model_args.model_name_or_path
    if not model_id:
        raise PreflightError("--model_name_or_path is required")
    expanded = os.path.expanduser(model_id)
    return os.path.abspath(expanded) if os.path.isdir(expanded) else model_id


def peft_config(model_args: Any) -> Any:
    """TRL's peft config of the run, recording the base model's revision (so the adapter names exactly its base)."""
    from trl import get_peft_config

    config = get_peft_config(model_args)
    if config is not None and model_args.model_revision:
        config.revision = model_args.model_revision
    return config


def check_environment(training_args: Any) -> list[str]:
    """Refuse, before any weight loads, what would otherwise fail later with a traceback: ``--report_to`` an
    integration that is not installed, ``--use_vllm`` without vLLM, DeepSpeed asked for (``accelerate launch`` with a
    DeepSpeed config, or ``--deepspeed``) without deepspeed."""
    import importlib.util

    from transformers.integrations.integration_utils import get_reporting_integration_callbacks

    report_to = training_args.report_to
    names = [report_to] if isinstance(report_to, str) else list(report_to or [])
    for name in names:
        if name in ("none", "all"):
            continue
        try:
            for callback in get_reporting_integration_callbacks([name]):
                callback()  # the integrations check their package when made (no run starts here)
        except (RuntimeError, ImportError, ModuleNotFoundError, ValueError) as e:
            raise PreflightError(f"--report_to {name}: {str(e).splitlines()[0]} (or --report_to none: logs still go to "
                                 f"{METRICS_FILE} and trainer_state.json)") from None
    if getattr(training_args, "use_vllm", False) and importlib.util.find_spec("vllm") is None:
        raise PreflightError("--use_vllm true needs vLLM (the version TRL supports): pip install 'g1bench[training-vllm]' "
                             "on a GPU machine, or --use_vllm false to generate with transformers")
    from .launch import DEEPSPEED_FIX, deepspeed_installed, deepspeed_requested

    if (deepspeed_requested() or training_args.deepspeed) and not deepspeed_installed():
        raise PreflightError("this run uses DeepSpeed (a DeepSpeed accelerate config such as zero3.yaml, or --deepspeed) "
                             f"but deepspeed is not installed: {DEEPSPEED_FIX}")
    return []


def resumable(trainer_cls: type) -> type:
    """``trainer_cls`` whose ``--resume_from_checkpoint`` loads a full-model checkpoint's weights for real.

    transformers 5's ``Trainer._load_from_checkpoint`` loads the checkpoint file's keys as they are into a model whose
    keys were renamed when it was loaded (Qwen2-VL, Qwen2.5-VL and other VLMs save ``model.layers...`` and hold
    ``model.language_model.layers...``), so not one weight loads and training silently goes on from the start
    model (a warning lists every key; transformers issue #43701). Here a checkpoint written by ``save_pretrained``
    is read back with ``from_pretrained``, which renames the keys, and copied into the model, every key checked.
    Adapter (LoRA), DeepSpeed and FSDP checkpoints take transformers' own path.
    """

    class Resumable(trainer_cls):
        def _load_from_checkpoint(self, resume_from_checkpoint: str, model: Any = None) -> None:
            target = self.model if model is None else model
            full = any(os.path.isfile(os.path.join(resume_from_checkpoint, f))
                       for f in ("model.safetensors", "model.safetensors.index.json"))
            if not full or not hasattr(target, "config") or hasattr(target, "peft_config"):
                return super()._load_from_checkpoint(resume_from_checkpoint, model)
            dtype = next(target.parameters()).dtype
            saved = type(target).from_pretrained(resume_from_checkpoint, dtype=dtype)
            target.load_state_dict(saved.state_dict(), strict=True)
            del saved

    Resumable.__name__ = Resumable.__qualname__ = f"Resumable{trainer_cls.__name__}"
    return Resumable


def _model_init_kwargs(training_args: Any, model_args: Any) -> dict[str, Any]:
    kw = dict(revision=model_args.model_revision, trust_remote_code=training_args.trust_remote_code,
              attn_implementation=model_args.attn_implementation, dtype=model_args.dtype)
    kw.update(training_args.model_init_kwargs or {})
    return kw


def _weight_bytes(dtype: str | None) -> int:
    return 4 if dtype in (None, "float32") else 2


def _memory(model_config: Any, script_args: Any, training_args: Any, model_args: Any, prompt_tokens: int,
            completion_tokens: int, beta: float, vllm_fraction: float) -> list[str]:
    strategy, processes = sharding()
    estimate = estimate_memory(
        model_config, micro_batch=training_args.per_device_train_batch_size, prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens, lora=peft_config(model_args), weight_bytes=_weight_bytes(model_args.dtype),
        beta=beta, gradient_checkpointing=bool(training_args.gradient_checkpointing),
        vllm_colocate_fraction=vllm_fraction, gpu_bytes=None if training_args.use_cpu else gpu_memory_bytes(script_args.gpu_memory_gb),
        strategy=strategy, processes=processes)
    return [f"sharding: {strategy} over {processes} process(es)"] + check_memory(estimate)


def _preflight(mode: str, check) -> None:
    """Run ``check`` (returns report lines, raises PreflightError) in the mode asked."""
    if mode == "off":
        return
    try:
        _say(check())
    except PreflightError as e:
        if mode == "error":
            raise
        _say([f"WARNING: {e}"])


# -- GRPO ----------------------------------------------------------------------------------------------
def grpo_states(script_args: Any, training_args: Any):
    """The GRPO dataset of the run, its curriculum (or None) and the (game, preset, overrides) cells it uses."""
    from datasets import concatenate_datasets, load_dataset

    from .states import (GRPO_SEED_BASE, STREAM_SPAN, Curriculum, StateSampler, StatesError, grpo_dataset,
                         parse_mix, states_from_dataset)

    sources = parse_mix(script_args.games, script_args.preset, script_args.sampling, script_args.game_overrides,
                        script_args.model_frame)
    curriculum = None
    if script_args.curriculum:
        if script_args.dataset_name:
            raise StatesError("--curriculum samples states per preset; it cannot use a states dataset (--dataset_name)")
        curriculum = Curriculum.from_grid([s.game for s in sources], script_args.curriculum_threshold,
                                          script_args.curriculum_patience, script_args.curriculum_presets)
    if script_args.dataset_name:
        if any(s.weight != 1.0 for s in sources):
            raise StatesError("mix weights apply to sampled states; a states dataset's rows are used as they are")
        parts = []
        for src in sources:
            try:
                parts.append(load_dataset(script_args.dataset_name, f"states-{src.game}",
                                          split=script_args.dataset_train_split))
            except (OSError, ValueError) as e:  # no such dataset, config or split
                raise StatesError(f"cannot load config states-{src.game} (split {script_args.dataset_train_split}) of "
                                  f"{script_args.dataset_name}: {str(e).splitlines()[0]}") from None
        source = states_from_dataset(concatenate_datasets(parts) if len(parts) > 1 else parts[0],
                                     games=[s.game for s in sources], preset=script_args.preset,
                                     sampling=script_args.sampling, model_frame=script_args.model_frame)
        dataset = grpo_dataset(source, script_args.num_states, script_args.system_prompt)
    else:
        rows = fresh_state_rows(script_args.num_states, training_args)
        if script_args.state_offset < 0 or script_args.state_offset + rows > STREAM_SPAN:
            raise StatesError(f"--state_offset + states must stay within 0..{STREAM_SPAN}")
        sampler = StateSampler(sources, seed_base=GRPO_SEED_BASE + script_args.state_offset, curriculum=curriculum)
        dataset = grpo_dataset(sampler, rows, script_args.system_prompt)
    presets = {s.game: (curriculum.levels[s.game] if curriculum else [s.preset]) for s in sources}
    cells = [(s.game, p, s.knobs) for s in sources for p in presets[s.game]]
    return dataset, curriculum, cells


def vllm_image_agreement(model_id: str, model_args: Any, training_args: Any, processor: Any,
                         cells: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """:func:`g1bench.training.dryrun.check_image_agreement` for a loaded trainer processor against the bounds of the
    model's own processor files (what TRL's vLLM engine uses)."""
    from .dryrun import _cells_frames, check_image_agreement, model_files

    trainer = grid_from_processor(processor)
    engine = model_files(model_id, model_args.model_revision, training_args.trust_remote_code).grid
    if trainer is None or engine is None:
        return [f"{model_id}: not a Qwen2-VL-family processor: vLLM's and the trainer's image sizes are not checked"]
    return check_image_agreement([(k, size) for k, size, _ in _cells_frames(cells)], trainer, engine)


def build_grpo_trainer(script_args: Any, training_args: Any, model_args: Any):
    """A ``trl.GRPOTrainer`` for the run, after the pre-flight checks."""
    from trl import GRPOTrainer

    from .rewards import get_reward_funcs
    from .states import curriculum_callback

    reward_funcs = get_reward_funcs(script_args.reward_funcs, script_args.format_weight, script_args.perception_weight)
    dataset, curriculum, cells = grpo_states(script_args, training_args)
    model_id = model_path(model_args)
    check_environment(training_args)
    processor = load_processor(model_id, model_args.model_revision, script_args.min_pixels, script_args.max_pixels,
                               training_args.trust_remote_code)
    model_config = load_config(model_id, model_args.model_revision, training_args.trust_remote_code)

    def check() -> list[str]:
        budgets = prompt_budgets(processor, cells, script_args.system_prompt)
        vllm_len = training_args.vllm_max_model_length if training_args.use_vllm else None
        lines = check_grpo_lengths(budgets, training_args.max_completion_length, context_length(model_config), vllm_len)
        if training_args.use_vllm:
            lines += vllm_image_agreement(model_id, model_args, training_args, processor, cells)
        colocate = training_args.vllm_gpu_memory_utilization if training_args.use_vllm and training_args.vllm_mode == "colocate" else 0.0
        lines += _memory(model_config, script_args, training_args, model_args, max(b.prompt_tokens for b in budgets),
                         training_args.max_completion_length, training_args.beta, colocate)
        return lines

    _preflight(script_args.preflight, check)
    training_args.model_init_kwargs = _model_init_kwargs(training_args, model_args)
    trainer = resumable(GRPOTrainer)(model=model_id, reward_funcs=reward_funcs, args=training_args,
                                     train_dataset=dataset, processing_class=processor,
                                     peft_config=peft_config(model_args))
    trainer.add_callback(metrics_callback(Path(training_args.output_dir) / METRICS_FILE))
    if curriculum is not None:
        trainer.add_callback(curriculum_callback(curriculum))
        _say([f"curriculum: {json.dumps(curriculum.describe())}"], "[g1bench] ")
    return trainer


def grpo_dry_run(script_args: Any, training_args: Any, model_args: Any):
    """``--preflight only`` for GRPO: :func:`g1bench.training.dryrun.dry_run` of the run's states, from the model's
    config files (no weights, no Hub). Returns the :class:`~g1bench.training.dryrun.DryRun`."""
    from .dryrun import dry_run, model_files, parse_sharding

    _, _, cells = grpo_states(script_args, training_args)
    if not model_args.model_name_or_path:
        raise PreflightError("--model_name_or_path is required")
    files = model_files(model_args.model_name_or_path, model_args.model_revision, training_args.trust_remote_code,
                        script_args.preflight_model)
    return dry_run(cells, files, min_pixels=script_args.min_pixels, max_pixels=script_args.max_pixels,
                   completion_tokens=training_args.max_completion_length,
                   micro_batch=training_args.per_device_train_batch_size, lora=peft_config(model_args),
                   weight_bytes=_weight_bytes(model_args.dtype), beta=training_args.beta,
                   gradient_checkpointing=bool(training_args.gradient_checkpointing),
                   vllm=training_args.vllm_mode if training_args.use_vllm else None,
                   vllm_gpu_memory_utilization=training_args.vllm_gpu_memory_utilization,
                   vllm_max_model_length=training_args.vllm_max_model_length, gpu_memory_gb=script_args.gpu_memory_gb,
                   sharding=parse_sharding(script_args.preflight_sharding), system_prompt=script_args.system_prompt)


def fresh_state_rows(num_states: int | None, training_args: Any) -> int:
    """How many start states a GRPO run reads: ``num_states`` when given, else one per prompt TRL asks for over
    ``max_steps`` (each generation round takes ``generation_batch_size / num_generations`` prompts), plus a round.

    Raises:
        StatesError: neither ``num_states`` nor a positive ``max_steps`` is set.
    """
    from .states import StatesError

    if num_states is not None:
        return num_states
    if training_args.max_steps is None or training_args.max_steps <= 0:
        raise StatesError("set --num_states, or --max_steps to sample fresh states for every step")
    rounds = math.ceil(training_args.max_steps * training_args.gradient_accumulation_steps
                       / (training_args.steps_per_generation * training_args.num_iterations)) + 1
    return rounds * (training_args.generation_batch_size // training_args.num_generations)


def run_grpo(script_args: Any, training_args: Any, model_args: Any):
    """Train, then save the model (or adapter) + processor and ``trainer_state.json`` in ``output_dir``.
    ``--preflight only``: the dry run's report instead (returned, and printed)."""
    if script_args.preflight == "only":
        report = grpo_dry_run(script_args, training_args, model_args)
        _say(report.lines)
        return report
    trainer = build_grpo_trainer(script_args, training_args, model_args)
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    _finish(trainer, training_args)
    return trainer


def _finish(trainer: Any, training_args: Any) -> None:
    import transformers
    from packaging.version import Version

    trainer.save_model(training_args.output_dir)
    trainer.save_state()
    trainer.accelerator.print(f"model saved to {training_args.output_dir}; evaluate it with: "
                              f"g1bench eval --model {training_args.output_dir} --suite paper")
    if training_args.push_to_hub:
        trainer.push_to_hub()
    if Version(transformers.__version__) >= Version("5.18.0"):
        trainer.end()


# -- SFT -----------------------------------------------------------------------------------------------
def _to_prompt_completion(example: dict[str, Any]) -> dict[str, Any]:
    messages = example["messages"]
    return {"prompt": messages[:-1], "completion": messages[-1:]}


def sft_dataset(script_args: Any):
    """The cold-start dataset as TRL wants it: ``images`` + ``messages``, or ``images`` + ``prompt`` /
    ``completion`` when training on the answer only."""
    from datasets import load_dataset

    if not script_args.dataset_name:
        raise PreflightError("--dataset_name is required: a cold-start dataset (training/build_coldstart.py)")
    try:
        ds = load_dataset(script_args.dataset_name, script_args.dataset_config, split=script_args.dataset_train_split)
    except (OSError, ValueError) as e:  # no such folder or Hub dataset (offline: a ConnectionError), config or split
        raise PreflightError(f"cannot load config {script_args.dataset_config} (split {script_args.dataset_train_split}) "
                             f"of {script_args.dataset_name}: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
                             ) from None
    missing = [c for c in ("images", "messages") if c not in ds.column_names]
    if missing:
        raise PreflightError(f"{script_args.dataset_name} has no {missing} column(s): not a cold-start dataset")
    meta = ds.select_columns([c for c in ("game", "difficulty", "overrides") if c in ds.column_names])
    if script_args.completion_only:
        ds = ds.map(_to_prompt_completion, remove_columns=["messages"])
        ds = ds.select_columns(["images", "prompt", "completion"])
    else:
        ds = ds.select_columns(["images", "messages"])
    return ds, meta


def _sft_cells(meta: Any) -> list[tuple[str, str, dict[str, Any]]]:
    cols = meta.to_dict()
    return [(g, d, json.loads(o)) for g, d, o in sorted({(g, d, o) for g, d, o in zip(cols["game"], cols["difficulty"],
                                                                                        cols["overrides"])})]


def _answer_texts(dataset: Any) -> list[str]:
    return [c[0]["content"][-1]["text"] for c in (dataset["completion"] if "completion" in dataset.column_names
                                                  else [m[-1:] for m in dataset["messages"]])]


def sft_dry_run(script_args: Any, training_args: Any, model_args: Any):
    """``--preflight only`` for SFT: the cold-start dataset's frames and longest answer against the limits, and the
    memory estimate, from the model's config files (no weights, no Hub)."""
    from .dryrun import dry_run, model_files, parse_sharding

    dataset, meta = sft_dataset(script_args)
    if not model_args.model_name_or_path:
        raise PreflightError("--model_name_or_path is required")
    files = model_files(model_args.model_name_or_path, model_args.model_revision, training_args.trust_remote_code,
                        script_args.preflight_model)
    texts = _answer_texts(dataset)
    tok = getattr(files.processor, "tokenizer", None)
    answer = max((len(x) for x in tok(texts, add_special_tokens=False)["input_ids"]) if tok is not None
                 else (len(t.encode("utf-8")) for t in texts))
    report = dry_run(_sft_cells(meta), files, min_pixels=script_args.min_pixels, max_pixels=script_args.max_pixels,
                     completion_tokens=answer, micro_batch=training_args.per_device_train_batch_size,
                     lora=peft_config(model_args), weight_bytes=_weight_bytes(model_args.dtype),
                     gradient_checkpointing=bool(training_args.gradient_checkpointing),
                     gpu_memory_gb=script_args.gpu_memory_gb, sharding=parse_sharding(script_args.preflight_sharding),
                     check_lengths=False)
    answers = {(b.game, b.difficulty): answer for b in report.budgets}
    try:
        report.lines[1:1] = check_sft_lengths(report.budgets, answers, training_args.max_length,
                                              context_length(files.config))
    except PreflightError as e:
        if report.exact_text and tok is not None:
            raise
        report.lines.insert(1, f"NOTE: with upper bounds on the text, {e}")
    return report


def build_sft_trainer(script_args: Any, training_args: Any, model_args: Any):
    """A ``trl.SFTTrainer`` for the run, after the pre-flight checks."""
    from trl import SFTTrainer

    dataset, meta = sft_dataset(script_args)
    model_id = model_path(model_args)
    check_environment(training_args)
    processor = load_processor(model_id, model_args.model_revision, script_args.min_pixels, script_args.max_pixels,
                               training_args.trust_remote_code)
    processor.tokenizer.padding_side = "right"
    model_config = load_config(model_id, model_args.model_revision, training_args.trust_remote_code)

    def check() -> list[str]:
        cols = meta.to_dict()
        answers: dict[tuple[str, str], int] = {}
        lengths = processor.tokenizer(_answer_texts(dataset), add_special_tokens=False)["input_ids"]
        for g, d, n in zip(cols["game"], cols["difficulty"], (len(x) for x in lengths)):
            answers[(g, d)] = max(answers.get((g, d), 0), n)
        budgets = prompt_budgets(processor, _sft_cells(meta), None)
        lines = check_sft_lengths(budgets, answers, training_args.max_length, context_length(model_config))
        lines += _memory(model_config, script_args, training_args, model_args, max(b.prompt_tokens for b in budgets),
                         max(answers.values()), 0.0, 0.0)
        return lines

    _preflight(script_args.preflight, check)
    training_args.model_init_kwargs = _model_init_kwargs(training_args, model_args)
    trainer = resumable(SFTTrainer)(model=model_id, args=training_args, train_dataset=dataset,
                                    processing_class=processor, peft_config=peft_config(model_args))
    trainer.add_callback(metrics_callback(Path(training_args.output_dir) / METRICS_FILE))
    return trainer


def run_sft(script_args: Any, training_args: Any, model_args: Any):
    """Train, then save like :func:`run_grpo`; ``--preflight only``: the dry run's report instead."""
    if script_args.preflight == "only":
        report = sft_dry_run(script_args, training_args, model_args)
        _say(report.lines)
        return report
    trainer = build_sft_trainer(script_args, training_args, model_args)
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    _finish(trainer, training_args)
    return trainer


# -- cold start ------------------------------------------------------------------------------------------
def run_coldstart(args: Any, model_config: Any = None):
    """Build the cold-start dataset described by ``ColdStartArguments`` (+ the teacher's ``ModelConfig``)."""
    from .coldstart import ColdStartSpec, build_coldstart, resolve_teacher
    from .states import parse_mix

    sources = parse_mix(args.games, args.preset, "paper", args.game_overrides, args.model_frame)
    overrides = {s.game: json.loads(s.overrides) for s in sources if s.overrides != "{}"}
    spec = ColdStartSpec(games=tuple(s.game for s in sources), preset=args.preset, states_per_game=args.states_per_game,
                         attempts=args.attempts, overrides=json.dumps(overrides, sort_keys=True, separators=(",", ":")),
                         system_prompt=getattr(model_config, "system_prompt", None), model_frame=sources[0].model_frame)
    teacher = resolve_teacher(args.teacher, model_config)
    try:
        batch = getattr(model_config, "batch_size", 32) if args.teacher != "oracle" else 64
        return build_coldstart(args.output_dir, spec, teacher, teacher_label=args.teacher, batch_size=batch,
                               resume=args.resume, overwrite=args.overwrite)
    finally:
        teacher.close()


__all__ = ["METRICS_FILE", "build_grpo_trainer", "build_sft_trainer", "check_environment", "grpo_dry_run", "grpo_states",
           "load_processor", "metrics_callback", "model_path", "peft_config", "run_coldstart", "run_grpo", "run_sft",
           "sft_dataset", "sft_dry_run", "vllm_image_agreement"]

"""A GPU check in one command (~8 minutes on one 80 GB H100, no network): the evaluation backends and the 1-GPU GRPO
recipe with Qwen2.5-VL-7B-Instruct's architecture, on random weights.

    python benchmarks/gpu_check.py [--out runs/benchmarks/gpu_check] [--steps 3] [--max-new-tokens 256]
    python benchmarks/gpu_check.py --dry-run      # the same code path on the CPU with a tiny config (the tests run it)

Needs the evaluation and training extras on the GPU machine (torch with CUDA, transformers, vllm, trl, peft); nothing
is downloaded. Phases, each in its own process (so each one's GPU memory is its own):

build   Qwen2.5-VL-7B-Instruct's architecture from the shipped config (g1bench/assets/model_configs/Qwen--Qwen2.5-VL-7B-Instruct:
        8.29 B parameters) with random bf16 weights drawn on the GPU, a Qwen-layout tokenizer made offline (152,064
        ids; BPE merges learnt from 4 MB of Python's own sources, no game text, so prompts come out at a generic
        BPE's token counts: the JSON gives G1's 2048 prompt's) and the shipped image processor (min_pixels 3136,
        max_pixels 12845056), saved to --work. The output rows of the two stop tokens are zeroed, so greedy decoding
        never stops early: every answer is exactly --max-new-tokens long (the JSON counts the answers that were).
eval    what ``g1bench eval`` does (load_policy with the suite, for the pre-flight, then the Runner) on the first
        --steps steps of every episode of the ``paper`` suite (40 episodes: 4 games x 10, G1's frame sizes; the
        natural-image game on the bundled tile pack, since CIFAR-10 cannot be downloaded), greedy, --max-new-tokens
        per answer, --max-pixels 1003520 (above every paper frame, so their 529-690 image tokens are unchanged, but
        vLLM's worst-case image then fits --max-model-len 4096): (a) through vLLM, (b) through transformers
        (--batch-size 20: one generate() per cohort of the runner). Figures: images/s and output tokens/s over the
        run's wall time (the model's load is timed apart), the harness's share of that time (outside the model's
        calls, from the step log's latencies), peak GPU memory (every process on the GPU, polled with nvidia-smi).
grpo    --grpo-steps optimizer steps of training/recipes/lora-1gpu/grpo.yaml through training/grpo.py (LoRA r 64,
        vLLM colocated at 0.3 of the GPU, gradient checkpointing, micro-batches of 4 answers, 5 answers per state)
        with --gradient_accumulation_steps 5 (4 states x 5 answers = 20 a step, instead of the recipe's 640) and
        answers capped at --grpo-completion-length, so that it fits the 8 minutes: step time, generation's share of
        it (TRL's own timers), peak GPU memory against the pre-flight's estimate (printed by the recipe at start).

Writes ``<out>/gpu_check.json`` (every figure, each phase's wall time, what was skipped and why) and prints a summary;
each phase's log is in ``<out>/<phase>.log``. ``--dry-run`` builds a tiny variant of the same config on the CPU and
runs the same phases; what needs a GPU (vLLM: eval (a) and the colocated generation of the GRPO steps; GPU memory)
is skipped and listed under ``skipped``.

Not yet run on a GPU (no GPU was available when it was written): the README's figures section says so.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from g1bench.training.dryrun import shipped_model_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: the shipped architecture (see its SOURCE.md)
CONFIG_DIR = shipped_model_dir("Qwen/Qwen2.5-VL-7B-Instruct")
RECIPE = ROOT / "training" / "recipes" / "lora-1gpu" / "grpo.yaml"
GRPO_SCRIPT = ROOT / "training" / "grpo.py"
#: the dry run's tiny variant of the same config: 2 text layers of 32, one 16-wide vision block, 1,024 ids
TINY_CONFIG = {
    "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
    "num_key_value_heads": 1, "max_window_layers": 2, "vocab_size": 1024,
    "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]},
    "vision_config": {"depth": 1, "hidden_size": 16, "intermediate_size": 32, "num_heads": 1, "out_hidden_size": 32,
                      "fullatt_block_indexes": [0]},
}
TINY_PREPROCESSOR = {"min_pixels": 28 * 28, "max_pixels": 112 * 112}
TINY_REGULAR_TOKENS = 900
#: how much of Python's own sources the tokenizer learns its merges from (no game text: prompts come out at a
#: generic BPE's token counts)
CORPUS_BYTES, DRY_CORPUS_BYTES = 4 << 20, 256 << 10
#: the eval phases' --max-pixels (see phase_eval)
EVAL_MAX_PIXELS = 28 * 28 * 1280
#: the time the GPU run is meant to fit
BUDGET_S = 8 * 60
GIB = 1 << 30
_PEAK = re.compile(r"estimated peak per GPU: ([0-9.]+) GiB")
_TERM = re.compile(r"\[g1bench preflight\]\s{3}([^:]+): ([0-9.]+) GiB")


# -- helpers shared by the phases -------------------------------------------------------------------
def paper_prefix(steps: int):
    """The ``paper`` suite with every episode cut to its first ``steps`` steps (same seeds, warm-ups, frames and
    prompts); the natural-image game on the bundled tile pack (CIFAR-10 needs the network)."""
    from dataclasses import replace

    from g1bench.eval.suites import Suite, get_suite

    paper = get_suite("paper")
    eps = tuple(replace(e, steps=steps, overrides={**e.overrides, "tile_source": "bundled"} if e.game == "shisensho-images"
                        else dict(e.overrides)) for e in paper.episodes)
    return Suite(f"{paper.name}-first{steps}", paper.version, eps,
                 f"The first {steps} steps of every episode of {paper.suite_id} (bundled tiles).", paper.invalid_answer)


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _torch_peak() -> dict[str, float] | None:
    """This process's peak GPU memory as torch's caching allocator saw it (None without CUDA)."""
    if not _cuda():
        return None
    import torch

    return {"allocated_gib": torch.cuda.max_memory_allocated() / GIB, "reserved_gib": torch.cuda.max_memory_reserved() / GIB}


class GpuMemory:
    """Peak memory in use on GPU 0 while a phase runs, every process on it counted (vLLM's engine processes too):
    ``nvidia-smi`` polled every 0.2 s. Without nvidia-smi it records nothing."""

    def __init__(self) -> None:
        self.available = shutil.which("nvidia-smi") is not None
        self.baseline = self.peak = self.total = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _read(self) -> tuple[int, int] | None:
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used,memory.total", "--format=csv,noheader,nounits",
                                  "-i", "0"], capture_output=True, text=True, timeout=10).stdout
            used, total = (int(x) for x in out.strip().splitlines()[0].split(","))
            return used, total
        except (OSError, ValueError, IndexError, subprocess.SubprocessError):
            return None

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            r = self._read()
            if r is not None:
                self.peak = max(self.peak or 0, r[0])

    def __enter__(self) -> "GpuMemory":
        if self.available and (r := self._read()) is not None:
            self.baseline, self.total = r
            self.peak = r[0]
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def summary(self) -> dict[str, Any] | None:
        if self.peak is None:
            return None
        mib = 1 << 20
        return {"peak_gib": self.peak * mib / GIB, "before_gib": self.baseline * mib / GIB,
                "gpu_total_gib": self.total * mib / GIB, "source": "nvidia-smi memory.used, every process on GPU 0"}


# -- the phases (each runs in a child process) ------------------------------------------------------------------
def phase_build(work: Path, dry: bool) -> dict[str, Any]:
    """Write the random-weight model folder ``work/model``."""
    from transformers import AutoConfig, AutoProcessor

    from g1bench.games.twenty48 import G1_PROMPT
    from g1bench.testing.tiny_vlm import build_vlm_from_config, python_sources

    path = work / "model"
    shutil.rmtree(path, ignore_errors=True)
    t = time.perf_counter()
    device = "cuda" if (_cuda() and not dry) else "cpu"
    build_vlm_from_config(path, CONFIG_DIR, overrides=TINY_CONFIG if dry else None,
                          preprocessor_overrides=TINY_PREPROCESSOR if dry else None,
                          regular_tokens=TINY_REGULAR_TOKENS if dry else None, corpus=python_sources(DRY_CORPUS_BYTES if dry else CORPUS_BYTES),
                          dtype="float32" if dry else "bfloat16", device=device, never_stop=True)
    seconds = time.perf_counter() - t
    config = AutoConfig.from_pretrained(path)
    text, vision = config.get_text_config(), config.vision_config
    processor = AutoProcessor.from_pretrained(path)
    from accelerate import init_empty_weights
    from transformers import AutoModelForImageTextToText

    with init_empty_weights():
        params = sum(p.numel() for p in AutoModelForImageTextToText.from_config(config).parameters())
    ip = processor.image_processor
    size = ip.size if isinstance(ip.size, dict) else vars(ip.size)
    return {"seconds": seconds, "device": device, "path": str(path), "parameters": params,
            "text": {k: getattr(text, k) for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                                   "num_key_value_heads", "intermediate_size", "vocab_size")},
            "vision": {k: getattr(vision, k) for k in ("depth", "hidden_size", "out_hidden_size", "patch_size",
                                                       "spatial_merge_size")},
            "processor": {"min_pixels": size.get("shortest_edge"), "max_pixels": size.get("longest_edge")},
            "tokenizer": {"ids": len(processor.tokenizer),
                          "g1_2048_prompt_tokens": len(processor.tokenizer(G1_PROMPT)["input_ids"])},
            "weights_dtype": "float32" if dry else "bfloat16"}


def phase_eval(work: Path, backend: str, steps: int, max_new_tokens: int, batch_size: int, enforce_eager: bool,
               max_pixels: int | None) -> dict[str, Any]:
    """One backend on the first ``steps`` steps of the paper suite, as ``g1bench eval`` runs it."""
    from g1bench.eval.runner import Runner
    from g1bench.models import ModelConfig, load_policy

    suite = paper_prefix(steps)
    # max_pixels: Qwen2-VL's default bound (1280 tokens), above every paper frame (640x840 = 690 tokens), so the
    # frames are unchanged while vLLM's worst-case image (the shipped 12.8 MP bound: 16,384 tokens) fits max_model_len
    cfg = ModelConfig(backend=backend, max_new_tokens=max_new_tokens, batch_size=batch_size, max_pixels=max_pixels,
                      max_model_len=4096 if backend == "vllm" else None, enforce_eager=enforce_eager)
    t = time.perf_counter()
    policy = load_policy(str(work / "model"), cfg, suite=suite)
    load_s = time.perf_counter() - t
    run_dir = work / f"eval-{backend}"
    shutil.rmtree(run_dir, ignore_errors=True)
    t = time.perf_counter()
    try:
        results = Runner(suite, policy, run_dir, progress=False, save_frames=False).run()
    finally:
        policy.close()
    run_s = time.perf_counter() - t
    rows = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines() if line.strip()]
    out_tokens = sum(r.get("output_tokens") or 0 for r in rows)
    in_tokens = [r["input_tokens"] for r in rows if r.get("input_tokens")]
    model_s = sum(r.get("latency_s") or 0.0 for r in rows)  # each call's time, split over its turns: calls add up
    return {
        "backend": backend, "suite": suite.suite_id, "turns": len(rows), "complete": results.get("complete"),
        "load_s": load_s, "run_s": run_s, "model_s": model_s,
        "images_per_s": len(rows) / run_s, "output_tokens_per_s": out_tokens / run_s,
        "harness_share": max(0.0, run_s - model_s) / run_s,
        "output_tokens": out_tokens, "answers_at_max_new_tokens": sum(r.get("output_tokens") == max_new_tokens for r in rows),
        "mean_prompt_tokens": (sum(in_tokens) / len(in_tokens)) if in_tokens else None,
        "preflight": policy.preflight.to_dict() if policy.preflight is not None else None,
        "torch_peak": _torch_peak(),
    }


def phase_grpo(work: Path, dry: bool, steps: int, completion_length: int) -> dict[str, Any]:
    """``steps`` optimizer steps of the lora-1gpu recipe through training/grpo.py, with TRL's timers recorded."""
    import importlib.util

    from trl.extras import profiling

    timers: list[tuple[str, int | None, float]] = []
    log_metrics = profiling.ProfilingContext._log_metrics

    def record(self, duration: float) -> None:  # TRL times generation, weight syncs and rewards with these
        timers.append((self.name, self.step, duration))
        log_metrics(self, duration)

    profiling.ProfilingContext._log_metrics = record
    out = work / "grpo"
    shutil.rmtree(out, ignore_errors=True)
    argv = ["--config", str(RECIPE), "--model_name_or_path", str(work / "model"), "--output_dir", str(out),
            "--max_steps", str(steps), "--gradient_accumulation_steps", "5", "--max_completion_length",
            str(completion_length), "--save_strategy", "no", "--report_to", "none", "--logging_steps", "1"]
    if dry:  # the CPU: transformers' generate instead of vLLM, float32, the tiny processor's small pictures
        argv += ["--use_vllm", "false", "--use_cpu", "true", "--bf16", "false", "--dtype", "float32",
                 "--min_pixels", str(TINY_PREPROCESSOR["min_pixels"]), "--max_pixels", str(TINY_PREPROCESSOR["max_pixels"])]
    spec = importlib.util.spec_from_file_location("g1bench_recipe_grpo", GRPO_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    t = time.perf_counter()
    rc = module.main(argv)
    seconds = time.perf_counter() - t
    if rc:
        raise SystemExit(f"training/grpo.py exited with {rc}")
    logs = [json.loads(line) for line in (out / "g1_metrics.jsonl").read_text().splitlines() if line.strip()]
    per_step = [d for d in logs if "step_time" in d]
    gen: dict[int, float] = {}
    for name, step, duration in timers:
        if "generate" in name or "sync_weights" in name:
            gen[step or 0] = gen.get(step or 0, 0.0) + duration
    rows = []
    for d in per_step:  # generation for optimizer step k runs while global_step is k - 1
        g = gen.get(d["step"] - 1, 0.0)
        rows.append({"step": d["step"], "step_time_s": d["step_time"], "generation_s": g,  # + LoRA weight syncs
                     "generation_share": g / d["step_time"] if d["step_time"] else None,
                     "completion_mean_length": d.get("completions/mean_length")})
    later = rows[1:] or rows
    return {"steps": rows, "seconds": seconds, "timers": sorted({n for n, _, _ in timers}),
            "mean_step_time_s_after_first": sum(r["step_time_s"] for r in later) / len(later),
            "mean_generation_share_after_first": sum(r["generation_share"] or 0 for r in later) / len(later),
            "generation": "vLLM colocated" if not dry else "transformers generate (dry run)",
            "torch_peak": _torch_peak()}


PHASES = {"build": phase_build, "eval": phase_eval, "grpo": phase_grpo}


# -- the parent: runs the phases, collects the figures ----------------------------------------------------------
def _child_env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", VLLM_NO_USAGE_STATS="1", DO_NOT_TRACK="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_phase(name: str, label: str, out: Path, work: Path, kwargs: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one phase in a child process (its log: ``out/<label>.log``); its figures, wall time and GPU memory."""
    result_file = work / f"{label}.json"
    result_file.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--work", str(work),
           "--phase-args", json.dumps(kwargs), "--phase-result", str(result_file)]
    log = out / f"{label}.log"
    print(f"[gpu_check] {label} ...", flush=True)
    t = time.perf_counter()
    with GpuMemory() as mem, open(log, "w") as f:
        try:
            rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=_child_env(), timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    wall = time.perf_counter() - t
    text = log.read_text(errors="replace")
    if rc != 0 or not result_file.is_file():
        tail = "\n".join(text.splitlines()[-15:])
        print(f"[gpu_check] {label} FAILED ({rc}) after {wall:.0f} s; log: {log}\n{tail}", flush=True)
        return {"error": f"exit {rc}", "log": str(log), "log_tail": tail, "wall_s": wall, "gpu_memory": mem.summary()}
    result = json.loads(result_file.read_text())
    result.update(wall_s=wall, gpu_memory=mem.summary(), log=str(log))
    if name == "grpo":
        m = _PEAK.search(text)
        result["preflight_estimate_gib"] = float(m.group(1)) if m else None
        result["preflight_terms_gib"] = {k.strip(): float(v) for k, v in _TERM.findall(text)}
        g = result["gpu_memory"]
        if g and result["preflight_estimate_gib"]:  # what the run added to the GPU, against what the pre-flight foresaw
            result["peak_used_over_estimate"] = (g["peak_gib"] - g["before_gib"]) / result["preflight_estimate_gib"]
    print(f"[gpu_check] {label} done in {wall:.0f} s", flush=True)
    return result


def summary_lines(report: dict[str, Any]) -> list[str]:
    lines = [f"gpu_check on {report['device']} ({'dry run, tiny config' if report['dry_run'] else 'Qwen2.5-VL-7B-Instruct architecture, random weights'}): "
             f"{report['wall_s']:.0f} s in all"]

    def mem(r: dict[str, Any]) -> str:
        g = r.get("gpu_memory")
        return f", peak GPU memory {g['peak_gib']:.1f} GiB" if g else ""

    for key, name in (("eval_vllm", "(a) eval, vLLM"), ("eval_transformers", "(b) eval, transformers")):
        r = report.get(key)
        if r is None:
            continue
        if "error" in r or "skipped" in r:
            lines.append(f"{name}: {r.get('skipped') or r.get('error')}")
            continue
        lines.append(f"{name}: {r['turns']} images in {r['run_s']:.1f} s = {r['images_per_s']:.2f} images/s, "
                     f"{r['output_tokens_per_s']:.0f} output tokens/s; harness {100 * r['harness_share']:.1f}% of the "
                     f"wall time; load {r['load_s']:.0f} s; {r['answers_at_max_new_tokens']}/{r['turns']} answers at "
                     f"{report['max_new_tokens']} tokens{mem(r)}")
    g = report.get("grpo")
    if g is not None:
        if "error" in g:
            lines.append(f"(c) GRPO: {g['error']} (see {g['log']})")
        else:
            est = g.get("preflight_estimate_gib")
            lines.append(f"(c) GRPO lora-1gpu, {len(g['steps'])} steps ({g['generation']}): "
                         f"{g['mean_step_time_s_after_first']:.1f} s/step after the first "
                         f"(first {g['steps'][0]['step_time_s']:.1f} s), generation "
                         f"{100 * g['mean_generation_share_after_first']:.0f}% of a step{mem(g)}"
                         + (f"; pre-flight estimate {est:.1f} GiB" if est is not None else ""))
    for s in report["skipped"]:
        lines.append(f"skipped: {s}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/benchmarks/gpu_check", help="folder for gpu_check.json and the phase logs")
    ap.add_argument("--work", default=None, help="scratch folder for the model (~17 GB) and the runs "
                    "(default: <out>/work; a local disk)")
    ap.add_argument("--dry-run", action="store_true", help="a tiny config on the CPU: the same phases, GPU parts skipped")
    ap.add_argument("--steps", type=int, default=None, help="steps of every paper episode in the eval phases "
                    "(default 3; dry run 1)")
    ap.add_argument("--max-new-tokens", type=int, default=None, help="tokens of every answer (default 256; dry run 8)")
    ap.add_argument("--batch-size", type=int, default=20, help="transformers backend: turns per generate() call")
    ap.add_argument("--enforce-eager", action="store_true", help="vLLM without CUDA graphs (starts faster, runs slower)")
    ap.add_argument("--grpo-steps", type=int, default=3)
    ap.add_argument("--grpo-completion-length", type=int, default=None, help="answer cap of the GRPO steps "
                    "(default 256; dry run 16)")
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--phase-args", help=argparse.SUPPRESS)
    ap.add_argument("--phase-result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.phase:  # a child
        work = Path(args.work)
        result = PHASES[args.phase](work, **json.loads(args.phase_args))
        Path(args.phase_result).write_text(json.dumps(result, indent=2, default=str))
        return 0

    dry = args.dry_run
    steps = args.steps or (1 if dry else 3)
    max_new = args.max_new_tokens or (8 if dry else 256)
    grpo_len = args.grpo_completion_length or (16 if dry else 256)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.work) if args.work else out / "work"
    work.mkdir(parents=True, exist_ok=True)
    cuda = _cuda()
    if not dry and not cuda:
        print("error: no CUDA GPU here; run with --dry-run for the CPU check", file=sys.stderr)
        return 2
    if not dry:
        try:
            import vllm  # noqa: F401
        except ImportError:
            print("error: vllm is not installed (pip install 'g1bench[vllm]'); it runs (a) and the GRPO generation",
                  file=sys.stderr)
            return 2
    device = "cpu"
    if cuda and not dry:  # nvidia-smi, not torch: a CUDA context in this process would sit in every phase's memory
        try:
            device = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader", "-i", "0"],
                                    capture_output=True, text=True, timeout=30).stdout.strip() or "cuda"
        except (OSError, subprocess.SubprocessError):
            device = "cuda"
    t0 = time.perf_counter()
    report: dict[str, Any] = {"dry_run": dry, "device": device, "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
                              "steps_per_episode": steps, "max_new_tokens": max_new, "skipped": []}
    budget = 3600 if dry else BUDGET_S * 2  # a phase that hangs is stopped; the figures say how long each took
    report["build"] = run_phase("build", "build", out, work, {"dry": dry}, budget)
    if "error" not in report["build"]:
        if dry:
            report["eval_vllm"] = {"skipped": "vLLM needs a CUDA GPU"}
            report["skipped"].append("(a) eval through vLLM: vLLM needs a CUDA GPU")
        else:
            report["eval_vllm"] = run_phase("eval", "eval_vllm", out, work, {
                "backend": "vllm", "steps": steps, "max_new_tokens": max_new, "batch_size": args.batch_size,
                "enforce_eager": args.enforce_eager, "max_pixels": EVAL_MAX_PIXELS}, budget)
        report["eval_transformers"] = run_phase("eval", "eval_transformers", out, work, {
            "backend": "transformers", "steps": steps, "max_new_tokens": max_new, "batch_size": args.batch_size,
            "enforce_eager": False, "max_pixels": None if dry else EVAL_MAX_PIXELS}, budget)
        report["grpo"] = run_phase("grpo", "grpo", out, work, {"dry": dry, "steps": args.grpo_steps,
                                                               "completion_length": grpo_len}, budget)
        if dry:
            report["skipped"].append("(c) GRPO: vLLM colocated generation (the dry run generates with transformers); "
                                     "bf16 weights (float32 on the CPU)")
    if dry:
        report["skipped"].append("peak GPU memory: no GPU")
    report["wall_s"] = time.perf_counter() - t0
    report["fits_budget"] = None if dry else report["wall_s"] <= BUDGET_S
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=str))
    for line in summary_lines(report):
        print(line)
    print(f"figures: {out / 'gpu_check.json'}")
    failed = [k for k in ("build", "eval_vllm", "eval_transformers", "grpo") if isinstance(report.get(k), dict) and "error" in report[k]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Learning, against a control: G1's recipe (a cold-start SFT on oracle answers, then GRPO with the paper's reward) on
a small model on the CPU, beside the same runs at learning rate 0, over several seeds.

    python benchmarks/grpo_learning.py [--seeds 0 1 2] [--steps 25] [--out runs/benchmarks/grpo_learning]
    python benchmarks/grpo_learning.py --tiny      # a short run of the same code path (the tests run it)

What runs, all through the recipes' own scripts (their ``main``, in this process):

1. **Student**: Qwen2.5-VL-7B-Instruct's layout cut down to ``--layers`` text layers of ``--hidden`` (one small vision
   block, the tiny processor's small pictures), random weights by transformers' own initialisation
   (``g1bench.testing.tiny_vlm.build_vlm_from_config``), and a ``--vocab``-token byte-level BPE learnt from Python's
   standard-library sources: a generic tokenizer with no game text in it. Nothing is added to it, ever.
2. **Cold start** (``training/build_coldstart.py``, teacher ``oracle``): ``--coldstart-states`` start states, each
   answered with the oracle's move, its templated ``<think>`` and the ground-truth ``<perception>``.
3. **SFT** (``training/sft.py``, recipe ``tiny-cpu/sft.yaml``): ``--sft-steps`` steps on those answers.
4. **GRPO** (``training/grpo.py``, recipe ``tiny-cpu/grpo.yaml``) with the paper's reward ``g1`` = game reward (+1
   when the answer's move succeeds, else -1, unparseable answers included) + format reward, perception weight 0,
   exactly as the real recipes (g1bench.training.rewards), and G1's GRPO: 5 answers per state at temperature 1,
   KL coefficient 0.01 without TRL's bias correction, clip 0.2, constant learning rate, fresh start states from the
   paper's sampler every step. Per seed, once at ``--lr`` (**learn**) and once at learning rate 0 (**control**: the
   same states, the same sampling seed, the cold-start model frozen; its first step equals the learn arm's). Seed s
   uses its own stretch of the state stream (``--state_offset``) and GRPO seed s; the cold start is shared.

The default game is 2048 at the ``paper`` preset (G1's prompt, answer grammar and training pictures) on a 2 x 2 board
(``--game 2048 --game-overrides '{"size": 2}'``): the smallest board, with answers of ~150 tokens. A move succeeds
when it merges tiles, which on this board is possible in 57% of the sampler's states, and any one direction
merges in ~28% of them. The SFT'd student writes the oracle's template well (token accuracy 0.99 on its training
answers) but, sampled at temperature 1, breaks the format or the answer in most of its ~150-token answers: that is
where GRPO has something to teach within minutes. (On a 2 x 2 Shisen-Sho board with two kinds the student's
answers break more often, and in development GRPO learnt the format while its game reward fell: see the README.)

Outputs in ``--out``: ``grpo_learning.json`` (settings, commands with wall and CPU times; per arm and seed the logged
game reward, success, format rate and answer length of every step; per step the mean, sample std, min and max over
seeds; the mean game reward of the first and last third of the steps per seed, and learn - control over the last
third) and ``grpo_learning.png`` (game reward and format rate per step, learn vs control: mean over seeds, a min-max
band, each seed's line). It prints that comparison, the wall time and this run's command.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from g1bench.training.dryrun import shipped_model_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ROOT / "training"
RECIPES = TRAINING / "recipes" / "tiny-cpu"
CONFIG_DIR = shipped_model_dir("Qwen/Qwen2.5-VL-7B-Instruct")
GAME = "2048"
OVERRIDES = {"size": 2}


def metric_keys(game: str) -> dict[str, str]:
    """The per-step figures read from a GRPO run's g1_metrics.jsonl: name in the JSON -> logged key."""
    return {"game_reward": f"g1/{game}/game_reward", "success": f"g1/{game}/success",
            "format_rate": f"g1/{game}/format_rate", "reward": "rewards/g1/mean",
            "answer_length": "completions/mean_length", "clipped": "completions/clipped_ratio"}

ARMS = ("learn", "control")


def build_student(path: Path, hidden: int, layers: int, vocab: int, corpus_bytes: int) -> Path:
    """The student: Qwen2.5-VL-7B-Instruct's layout (g1bench/assets/model_configs) cut down to ``layers`` text layers of
    ``hidden`` (heads of 16, half as many KV heads), one small vision block and the tiny processor's small pictures,
    with transformers' own random initialisation, and a ``vocab``-token BPE learnt from Python's sources (no game
    text), as a small real model's tokenizer would be."""
    from g1bench.testing.tiny_vlm import build_vlm_from_config, python_sources

    heads = max(1, hidden // 16)
    config = {"hidden_size": hidden, "intermediate_size": 4 * hidden, "num_hidden_layers": layers,
              "num_attention_heads": heads, "num_key_value_heads": max(1, heads // 2), "max_window_layers": layers,
              "vocab_size": vocab + 64, "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]},
              "vision_config": {"depth": 1, "hidden_size": 32, "intermediate_size": 64, "num_heads": 1,
                                "out_hidden_size": hidden, "fullatt_block_indexes": [0]}}
    return build_vlm_from_config(path, CONFIG_DIR, overrides=config, regular_tokens=vocab,
                                 preprocessor_overrides={"min_pixels": 28 * 28, "max_pixels": 112 * 112},
                                 corpus=python_sources(corpus_bytes), dtype="float32", seed=0)


def _script(name: str):
    """A recipe script of training/ as a module (its ``main(argv)`` is the command line)."""
    spec = importlib.util.spec_from_file_location(f"g1bench_recipe_{name}", TRAINING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(name: str, argv: list[str], log: list[dict[str, Any]]) -> float:
    """Run ``training/<name>.py argv`` in this process; record the command and its wall time."""
    command = "python " + " ".join(shlex.quote(a) for a in [f"training/{name}.py", *argv])
    print(f"[grpo_learning] {command}", flush=True)
    t, cpu = time.perf_counter(), cpu_seconds()
    rc = _script(name).main(argv)
    seconds = time.perf_counter() - t
    if rc:
        raise SystemExit(f"error: training/{name}.py exited with {rc}")
    log.append({"command": command, "seconds": seconds, "cpu_seconds": cpu_seconds() - cpu})
    return seconds


def cpu_seconds() -> float:
    """CPU time of this process so far (all threads): beside wall time, a figure a busy machine inflates less."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def read_metrics(run_dir: Path, game: str) -> dict[str, list[float | None]]:
    """Per-step values of :func:`metric_keys` from a GRPO run's ``g1_metrics.jsonl``."""
    keys = metric_keys(game)
    rows = [json.loads(line) for line in (run_dir / "g1_metrics.jsonl").read_text().splitlines() if line.strip()]
    steps = [d for d in rows if keys["reward"] in d]
    return {"step": [d["step"] for d in steps], **{k: [d.get(key) for d in steps] for k, key in keys.items()}}


def spread(values: list[float]) -> dict[str, float]:
    """Mean, sample standard deviation, min and max over seeds."""
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values)}


def aggregate(runs: dict[str, dict[int, dict[str, list]]], metric: str) -> dict[str, list[dict[str, float]]]:
    """Per arm, per step: the spread over seeds of ``metric``."""
    out = {}
    for arm, by_seed in runs.items():
        n = min(len(r[metric]) for r in by_seed.values())
        out[arm] = [spread([float(r[metric][i]) for r in by_seed.values()]) for i in range(n)]
    return out


def window_means(runs: dict[str, dict[int, dict[str, list]]], metric: str, lo: int, hi: int) -> dict[str, dict[int, float]]:
    """Per arm and seed: the mean of ``metric`` over steps lo..hi-1 (0-based)."""
    return {arm: {seed: statistics.fmean(float(v) for v in r[metric][lo:hi]) for seed, r in by_seed.items()}
            for arm, by_seed in runs.items()}


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"learn": "tab:blue", "control": "tab:grey"}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, metric, label in ((axes[0], "game_reward", "mean game reward (+1 success / -1)"),
                              (axes[1], "format_rate", "format rate (all six tags)")):
        for arm in ARMS:
            agg = report["per_step"][metric][arm]
            xs = list(range(1, len(agg) + 1))
            ax.plot(xs, [a["mean"] for a in agg], color=colours[arm], lw=2,
                    label=f"{arm} (lr {report['settings']['lr'] if arm == 'learn' else 0:g}): mean of {len(report['seeds'])} seeds")
            ax.fill_between(xs, [a["min"] for a in agg], [a["max"] for a in agg], color=colours[arm], alpha=0.15)
            for seed in report["seeds"]:
                ys = report["runs"][arm][str(seed)][metric]
                ax.plot(range(1, len(ys) + 1), ys, color=colours[arm], lw=0.6, alpha=0.5)
        ax.set_xlabel("GRPO step")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylim(-1.05, 1.05)
    axes[1].set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=8, loc="lower right")
    s = report["settings"]
    fig.suptitle(f"GRPO with the paper's reward after a cold-start SFT: {s['game']} {s['game_overrides']} at preset paper; "
                 f"Qwen2.5-VL {s['hidden']}x{s['layers']} from scratch, {s['states_per_step']} states x "
                 f"{s['num_generations']} answers/step (band: min-max over seeds; thin: each seed)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/benchmarks/grpo_learning")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=25, help="GRPO steps per run")
    ap.add_argument("--lr", type=float, default=3e-4, help="GRPO learning rate of the learn arm")
    ap.add_argument("--states", type=int, default=4, help="start states per GRPO step")
    ap.add_argument("--generations", type=int, default=5, help="answers per state (G1: 5)")
    ap.add_argument("--max-completion-length", type=int, default=176,
                    help="answer cap in tokens (the oracle's answers on the default board are 148-149 tokens)")
    ap.add_argument("--coldstart-states", type=int, default=256)
    ap.add_argument("--sft-steps", type=int, default=120, help="SFT steps (the loss levels off by ~120 on the default board)")
    ap.add_argument("--sft-lr", type=float, default=3e-3)
    ap.add_argument("--sft-batch", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=64, help="text width of the student (heads of 16)")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=4096, help="BPE tokens of the student's tokenizer (before the Qwen specials)")
    ap.add_argument("--game", default=GAME)
    ap.add_argument("--game-overrides", default=json.dumps(OVERRIDES), help="knob overrides of the paper preset")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--tiny", action="store_true", help="a seconds-long run of the same code path (tests)")
    args = ap.parse_args(argv)
    if args.tiny:
        args.steps, args.coldstart_states, args.sft_steps, args.sft_batch = 2, 8, 2, 2
        args.states, args.generations, args.max_completion_length, args.hidden, args.vocab = 2, 2, 16, 32, 512

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    overrides = json.dumps({args.game: json.loads(args.game_overrides)})
    commands: list[dict[str, Any]] = []
    t0, cpu0 = time.perf_counter(), cpu_seconds()

    t = time.perf_counter()
    base = build_student(out / "base", args.hidden, args.layers, args.vocab, corpus_bytes=(256 << 10) if args.tiny else (4 << 20))
    commands.append({"command": f"build_student(BASE, hidden={args.hidden}, layers={args.layers}, vocab={args.vocab})",
                     "seconds": time.perf_counter() - t})
    run_script("build_coldstart", ["--config", str(RECIPES / "coldstart.yaml"), "--output_dir", str(out / "coldstart"),
                                   "--games", args.game, "--preset", "paper", "--game_overrides", overrides,
                                   "--states_per_game", str(args.coldstart_states), "--teacher", "oracle"], commands)
    run_script("sft", ["--config", str(RECIPES / "sft.yaml"), "--model_name_or_path", str(base),
                       "--dataset_name", str(out / "coldstart"), "--output_dir", str(out / "sft"),
                       "--max_steps", str(args.sft_steps), "--learning_rate", str(args.sft_lr),
                       "--lr_scheduler_type", "cosine", "--per_device_train_batch_size", str(args.sft_batch),
                       "--logging_steps", str(max(1, args.sft_steps // 10))], commands)
    sft_logs = [json.loads(line) for line in (out / "sft" / "g1_metrics.jsonl").read_text().splitlines() if line.strip()]

    runs: dict[str, dict[int, dict[str, list]]] = {arm: {} for arm in ARMS}
    for seed in args.seeds:
        for arm in ARMS:
            run_dir = out / f"grpo-{arm}-seed{seed}"
            run_script("grpo", [
                "--config", str(RECIPES / "grpo.yaml"), "--model_name_or_path", str(out / "sft"),
                "--output_dir", str(run_dir), "--games", args.game, "--preset", "paper", "--game_overrides", overrides,
                "--reward_funcs", "g1", "--format_weight", "1", "--perception_weight", "0",
                "--max_steps", str(args.steps), "--learning_rate", str(args.lr if arm == "learn" else 0.0),
                "--lr_scheduler_type", "constant", "--use_bias_correction_kl", "false",
                "--num_generations", str(args.generations), "--temperature", "1.0",
                "--per_device_train_batch_size", str(args.states * args.generations),
                "--max_completion_length", str(args.max_completion_length),
                "--seed", str(seed), "--state_offset", str(seed * 1_000_000)], commands)
            runs[arm][seed] = read_metrics(run_dir, args.game)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0

    n = min(len(r["game_reward"]) for by_seed in runs.values() for r in by_seed.values())
    last = max(1, n // 3)
    windows = {"first": window_means(runs, "game_reward", 0, last), "last": window_means(runs, "game_reward", n - last, n)}
    gain = {seed: windows["last"]["learn"][seed] - windows["last"]["control"][seed] for seed in args.seeds}
    report = {
        "benchmark": "grpo_learning",
        "command": "python benchmarks/grpo_learning.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
        "wall_s": wall, "cpu_s": cpu,
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()},
        "settings": {"game": args.game, "preset": "paper", "game_overrides": json.loads(args.game_overrides),
                     "hidden": args.hidden, "layers": args.layers, "vocab": args.vocab, "coldstart_states": args.coldstart_states,
                     "sft_steps": args.sft_steps, "sft_lr": args.sft_lr, "sft_batch": args.sft_batch, "steps": args.steps,
                     "lr": args.lr, "states_per_step": args.states, "num_generations": args.generations,
                     "max_completion_length": args.max_completion_length, "reward": "g1 (game + format, perception weight 0)"},
        "seeds": args.seeds,
        "sft": {"first": sft_logs[0] if sft_logs else None, "last": sft_logs[-1] if sft_logs else None},
        "commands": commands,
        "runs": {arm: {str(seed): r for seed, r in by_seed.items()} for arm, by_seed in runs.items()},
        "per_step": {m: aggregate(runs, m) for m in ("game_reward", "success", "format_rate", "answer_length")},
        "game_reward_windows": {"steps": [[1, last], [n - last + 1, n]],
                                **{k: {arm: {str(s): v for s, v in d.items()} for arm, d in w.items()} for k, w in windows.items()}},
        "last_third_gain": {"per_seed": {str(s): g for s, g in gain.items()}, **spread(list(gain.values()))},
    }
    (out / "grpo_learning.json").write_text(json.dumps(report, indent=2))
    plot(report, out / "grpo_learning.png")

    print(f"\n{args.game} {args.game_overrides} at paper, student {args.hidden}x{args.layers}, SFT {args.sft_steps} steps, "
          f"GRPO {n} steps x {args.states} states x {args.generations} answers, seeds {args.seeds}")
    for name, (lo, hi) in (("first", (1, last)), ("last", (n - last + 1, n))):
        for arm in ARMS:
            vals = windows[name][arm]
            sp = spread(list(vals.values()))
            print(f"  mean game reward, steps {lo}-{hi}, {arm:<7}: {sp['mean']:+.3f} (std {sp['std']:.3f} over seeds; "
                  + ", ".join(f"seed {s}: {v:+.3f}" for s, v in vals.items()) + ")")
    g = report["last_third_gain"]
    print(f"  learn - control over the last third: {g['mean']:+.3f} (std {g['std']:.3f}; min {g['min']:+.3f}, max {g['max']:+.3f})")
    print(f"command: {report['command']}")
    print(f"wall time: {wall:.0f} s ({cpu:.0f} CPU seconds) on {os.cpu_count()} CPU core(s), {torch.get_num_threads()} "
          "torch thread(s)")
    print(f"figures: {out / 'grpo_learning.json'}, {out / 'grpo_learning.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

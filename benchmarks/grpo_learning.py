"""A learning check on the CPU: GRPO, through the recipe's own command line, raises a tiny VLM's reward.

    python benchmarks/grpo_learning.py [--steps 40] [--lr 5e-2] [--out runs/benchmarks/grpo_learning]

A tiny random-weight Qwen2-VL (g1bench.testing.tiny_vlm, built offline) is trained with
``training/grpo.py --config training/recipes/tiny-cpu/grpo.yaml`` on 2048 start states from the paper's
sampler, with the real prompts and frames. The learnable target is ``format_partial`` (the fraction of the
six protocol tags ``<perception> </perception> <think> </think> <answer> </answer>`` in the answer, a dense
form of the paper's format reward); the game reward is computed too (weight 0) so the per-game curves of
the paper are logged. The tiny model's tokenizer is byte-level, and a 12-byte tag never comes out of random
weights by chance, so the six tags are added to its vocabulary first (as words of a real tokenizer are):
the model then emits them rarely, and GRPO has something to reinforce.

Writes ``<out>/learning_curve.png`` (reward per step) and ``<out>/g1_curves.png`` (training/plot.py's
per-game panels), and prints the first and last steps' mean reward. Random weights: this checks that the
training loop learns from our rewards, not any skill at the games.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TAGS = ["<perception>", "</perception>", "<think>", "</think>", "<answer>", "</answer>"]


def build_model(path: Path) -> Path:
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from g1bench.testing.tiny_vlm import build_tiny_vlm

    build_tiny_vlm(path, "qwen2_vl", seed=0)
    processor = AutoProcessor.from_pretrained(path)
    processor.tokenizer.add_tokens(TAGS)
    model = AutoModelForImageTextToText.from_pretrained(path)
    model.resize_token_embeddings(len(processor.tokenizer))
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--lr", type=float, default=5e-2, help="a tiny random model takes large steps")
    ap.add_argument("--generations", type=int, default=8)
    ap.add_argument("--states", type=int, default=4, help="states per step")
    ap.add_argument("--out", default="runs/benchmarks/grpo_learning")
    args = ap.parse_args()
    out = Path(args.out)
    if out.exists():
        import shutil

        shutil.rmtree(out)
    model = build_model(out / "model")
    cmd = [sys.executable, str(ROOT / "training/grpo.py"), "--config", str(ROOT / "training/recipes/tiny-cpu/grpo.yaml"),
           "--model_name_or_path", str(model), "--output_dir", str(out / "run"), "--games", "2048",
           "--reward_funcs", "format_partial", "game", "--reward_weights", "1", "0", "--beta", "0",
           "--max_steps", str(args.steps), "--learning_rate", str(args.lr), "--lr_scheduler_type", "constant",
           "--num_generations", str(args.generations),
           "--per_device_train_batch_size", str(args.states * args.generations), "--max_completion_length", "24"]
    print(" ".join(cmd[1:]), flush=True)
    t = time.perf_counter()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode:
        sys.exit(proc.stderr[-3000:])
    logs = [json.loads(line) for line in (out / "run/g1_metrics.jsonl").read_text().splitlines()]
    steps = [d for d in logs if "rewards/format_partial/mean" in d]
    xs = [d["step"] for d in steps]
    ys = [d["rewards/format_partial/mean"] for d in steps]
    fr = [d.get("g1/2048/format_rate", 0.0) for d in steps]

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from g1bench.training.plots import plot_curves

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(xs, ys, marker="o", ms=3, label="format_partial (the target): share of the 6 tags present")
    ax.plot(xs, fr, marker="s", ms=3, label="paper's format reward: all 6 tags present")
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("mean reward over the step's completions")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"GRPO on a tiny random Qwen2-VL (CPU): 2048 states, {args.states} x {args.generations} answers/step, "
                 f"lr {args.lr:g}", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "learning_curve.png", dpi=110)
    plot_curves(logs, out / "g1_curves.png", "tiny model, 2048 (game reward stays -1: random weights)")

    k = min(5, len(ys) // 2)
    first, last = sum(ys[:k]) / k, sum(ys[-k:]) / k
    print(f"steps: {len(ys)} in {wall:.0f} s wall ({wall / max(1, len(ys)):.1f} s/step incl. start-up)")
    print(f"format_partial mean, first {k} steps: {first:.3f}; last {k} steps: {last:.3f}")
    print(f"paper format reward (all six tags), first {k}: {sum(fr[:k]) / k:.3f}; last {k}: {sum(fr[-k:]) / k:.3f}")
    print(f"plots: {out / 'learning_curve.png'}, {out / 'g1_curves.png'}")


if __name__ == "__main__":
    main()

"""Per-history figures of the `multiturn` suite with a tiny random-weight Qwen2-VL on the CPU (transformers backend,
built offline into a temp folder): per history (one run each), the chat's input tokens per step, the wall time per step, parse failures
and the score, and `g1bench verify` on each run.

    python benchmarks/multiturn_tiny.py [--episodes 1] [--steps 100] [--max-new-tokens 16] [--threads 2]

By default it plays the first episode (seed 0) of every (game, history) cell of `multiturn` at the suite's 100
steps: 12 episodes, 1,200 steps (`--episodes 10` plays every episode of the suite). The weights are random: the model writes
random bytes, so the scores and parse failures say nothing of skill; the tokens and times show what each past
turn costs (one more frame, prompt, answer and feedback line per turn). The tiny model's byte-level tokenizer
makes a G1 prompt about a thousand tokens, so a step at history 4 is a chat of ~5,000-8,000 tokens.
Needs `pip install 'g1bench[transformers]'`.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=1, help="episodes per (game, history) cell, from seed 0 (10 = all)")
    ap.add_argument("--steps", type=int, default=100, help="steps per episode (the suite's: 100)")
    ap.add_argument("--max-new-tokens", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--out", help="keep the run directory here (default: a temp folder)")
    args = ap.parse_args()

    import torch

    from g1bench.eval.runner import Runner
    from g1bench.eval.suites import Suite, get_suite
    from g1bench.eval.verify import verify_run
    from g1bench.models import ModelConfig, load_policy
    from g1bench.testing.tiny_vlm import build_tiny_vlm

    torch.set_num_threads(args.threads)
    multiturn = get_suite("multiturn")
    ks = sorted({e.history for e in multiturn.episodes})
    print(f"the first {args.episodes} episode(s) of each (game, history) cell of {multiturn.suite_id}, {args.steps} "
          f"steps each, one run per history (so each history's time is its own)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_vlm(Path(tmp) / "tiny-qwen2-vl")
        policy = load_policy(str(model), ModelConfig(max_new_tokens=args.max_new_tokens, batch_size=args.batch_size),
                             suite=multiturn)
        for k in ks:
            eps = tuple(dataclasses.replace(e, steps=args.steps) for e in multiturn.episodes
                        if e.index < args.episodes and e.history == k)
            suite = Suite(f"custom-multiturn-h{k}-e{args.episodes}-s{args.steps}", 1, eps,
                          invalid_answer=multiturn.invalid_answer)
            out = Path(args.out) / f"h{k}" if args.out else Path(tmp) / f"h{k}"
            t = time.perf_counter()
            res = Runner(suite, policy, out, progress=False).run()
            wall = time.perf_counter() - t
            v = verify_run(out, check_frames=False)
            steps = sum(e.steps for e in suite.episodes)
            print(f"history {k}: {len(eps)} episodes, {steps} steps in {wall:.0f} s; {v.summary()}", flush=True)
            rows.append((k, steps, wall, res))
        policy.close()
    print("\n| history | images per step | mean input tokens | s/step | parse failures | "
          "2048 score | Shisen-Sho | natural images | Swap |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k, steps, wall, res in rows:
        cells = {g["game"]: g for g in res["results"].values()}
        n = sum(c["steps"] for c in cells.values())
        mean = lambda f: sum(c[f] * c["steps"] for c in cells.values()) / n  # noqa: E731 - step-weighted
        scores = " | ".join(f"{cells[g]['mean']:.1f}" if g in cells else "-"
                            for g in ("2048", "shisensho", "shisensho-images", "swap"))
        print(f"| {k} | {k + 1} | {mean('mean_input_tokens'):,.0f} | {wall / steps:.2f} | "
              f"{100 * mean('parse_failure_rate'):.0f}% | {scores} |")


if __name__ == "__main__":
    main()

"""Reward-function throughput: scoring one GRPO batch of the paper's games (128 states x 5 answers).

    python benchmarks/reward_throughput.py [--states 128] [--generations 5] [--repeats 7]

The batch is what TRL hands the reward functions in one step: 128 start states from the paper's sampler
(32 per game: 2048, Shisen-Sho, natural images with the bundled tiles, Swap), 5 completions each, of the
kinds a model writes: the right perception and a valid move with a ~1,500-character <think>, a wrong move,
a wrong perception, a malformed answer and a truncated one. Each completion is parsed and applied to its
row's start state, restored from the row's snapshot (``g1`` reward, per-game metrics logged as in
training). Goal: well under a second per batch (under 1% of a 7B model's generation time for that batch).

Also times making the 128 dataset rows (state sampling with the paper's warm-up, rendering the frame),
the other CPU work of a GRPO step on our side. Single-threaded; the machine's other core is left alone.
"""

from __future__ import annotations

import argparse
import statistics
import time

import g1bench
from g1bench.training.rewards import get_reward_funcs
from g1bench.training.states import StateSampler, parse_mix

THINK = ("Let me look at the board row by row and find candidate moves. " * 25)[:1500]


def completions_for(row: dict) -> list[list[dict]]:
    env = g1bench.make_from_state(row["state"], render_mode=None)
    legal = env.legal_actions()
    good = env.answer_for(legal[0])
    wrong = env.answer_for(legal[-1])
    truth = row["perception"]
    texts = [
        f"<perception>\n{truth}\n</perception>\n<think>{THINK}</think>\n{good}",
        f"<perception>\n{truth}\n</perception>\n<think>{THINK}</think>\n<answer>(0, 0) (0, 0)</answer>",
        f"<perception>\n{truth[: len(truth) // 2]}\n</perception>\n<think>{THINK}</think>\n{wrong}",
        f"<think>{THINK}</think> I will answer 7",
        f"<perception>\n{truth}\n</perception>\n<think>{THINK}",
    ]
    return [[{"role": "assistant", "content": t}] for t in texts]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--states", type=int, default=128)
    ap.add_argument("--generations", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()

    sampler = StateSampler(parse_mix("2048,shisensho,shisensho-images,swap",
                                     overrides={"shisensho-images": {"tile_source": "bundled"}}))
    t = time.perf_counter()
    rows = [sampler.row(i) for i in range(args.states)]
    make_rows = time.perf_counter() - t
    completions, cols = [], {"state": [], "perception": [], "game": []}
    for r in rows:  # TRL repeats each row once per generation, consecutively
        for c in completions_for(r)[: args.generations]:
            completions.append(c)
            for k in cols:
                cols[k].append(r[k])
    (g1,) = get_reward_funcs(["g1"], 1.0, 0.0)
    logged = []
    times = []
    for _ in range(args.repeats):
        logged.clear()
        t = time.perf_counter()
        rewards = g1(None, completions, log_metric=lambda k, v: logged.append((k, v)), **cols)
        times.append(time.perf_counter() - t)
    n = len(completions)
    games = sorted(set(cols["game"]))
    print(f"batch: {args.states} states x {args.generations} completions = {n} ({', '.join(games)})")
    print(f"g1 reward + per-game metrics: median {statistics.median(times):.3f} s, best {min(times):.3f} s per batch "
          f"({statistics.median(times) / n * 1e6:.0f} us per completion, {args.repeats} repeats)")
    print(f"mean reward {sum(rewards) / n:.3f}; rewards seen {sorted(set(rewards))}; metric values logged {len(logged)}")
    print(f"making the {args.states} dataset rows (sampling + warm-up + render), cold: {make_rows:.2f} s")


if __name__ == "__main__":
    main()

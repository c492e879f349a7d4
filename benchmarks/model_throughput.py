"""Model-backend figures on the CPU with a tiny random-weight Qwen2-VL (built offline into a temp folder):
(a) steps/s of the `smoke` suite through the transformers backend with batching on (--batch-size 8) and
off (1); (b) the harness overhead with that real backend: run wall time vs the time spent inside policy calls.

    python benchmarks/model_throughput.py [--max-new-tokens 32] [--repeats 3]

Needs `pip install 'g1bench[transformers]'`. The tiny model's compute is small, so these numbers measure
the backend's per-call overhead (processor, generate loop) that batching amortises, not a real model.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from g1bench.eval.policies import Policy
from g1bench.eval.runner import Runner
from g1bench.eval.suites import get_suite


class Timed(Policy):
    """Wraps a policy and adds up the wall time of its calls."""

    def __init__(self, inner: Policy):
        self.inner, self.name, self.needs_frames = inner, inner.name, inner.needs_frames
        self.busy_s, self.calls = 0.0, 0

    def act(self, turns):
        t = time.perf_counter()
        try:
            return self.inner.act(turns)
        finally:
            self.busy_s += time.perf_counter() - t
            self.calls += 1

    def describe(self):
        return self.inner.describe()


def run_once(policy: Policy, concurrency: int) -> dict:
    suite = get_suite("smoke")
    timed = Timed(policy)
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        Runner(suite, timed, d + "/run", progress=False, concurrency=concurrency).run()
        wall = time.perf_counter() - t
    steps = sum(e.steps for e in suite.episodes)
    return {"wall_s": wall, "steps": steps, "steps_per_s": steps / wall, "policy_s": timed.busy_s, "calls": timed.calls}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5, help="runs per setting, interleaved (best and median printed)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is steadiest on a shared machine)")
    ap.add_argument("--concurrency", type=int, default=2, help="the runner's cohorts in flight (eval's default: 2)")
    args = ap.parse_args()

    import torch

    from g1bench.models import ModelConfig, load_policy
    from g1bench.testing.tiny_vlm import build_tiny_vlm

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as d:
        path = build_tiny_vlm(d + "/tiny-qwen2-vl")
        policies = {bs: load_policy(str(path), ModelConfig(max_new_tokens=args.max_new_tokens, batch_size=bs)) for bs in (1, 8)}
        for bs in (1, 8):
            run_once(policies[bs], args.concurrency)  # warm-up (first generate() calls are slow)
        print(f"tiny Qwen2-VL ({sum(p.numel() for p in policies[8].model.parameters()):,} params), CPU, {args.threads} torch "
              f"thread(s), smoke suite (32 steps, 8 episodes), max_new_tokens={args.max_new_tokens}, "
              f"concurrency {args.concurrency}, {args.repeats} interleaved runs per setting")
        runs: dict[int, list[dict]] = {1: [], 8: []}
        for _ in range(args.repeats):
            for bs in (1, 8):
                runs[bs].append(run_once(policies[bs], args.concurrency))
        best = {}
        for bs in (1, 8):
            rs = sorted(runs[bs], key=lambda r: r["wall_s"])
            best[bs], med = rs[0], rs[len(rs) // 2]
            print(f"  batch size {bs}: best {best[bs]['steps_per_s']:6.2f} steps/s, median {med['steps_per_s']:6.2f} "
                  f"(stdev {statistics.pstdev([r['steps_per_s'] for r in rs]):.2f}); {best[bs]['calls']} policy calls")
        print(f"(a) batching on (8) vs off (1): {best[8]['steps_per_s'] / best[1]['steps_per_s']:.2f}x steps/s (best runs)")
        for bs in (1, 8):
            b = best[bs]
            print(f"(b) batch size {bs}: wall {b['wall_s']:.3f} s, inside policy calls {b['policy_s']:.3f} s -> harness "
                  f"outside the model {b['wall_s'] - b['policy_s']:.3f} s = {100 * (b['wall_s'] - b['policy_s']) / b['wall_s']:.1f}% of wall")
        for p in policies.values():
            p.close()


if __name__ == "__main__":
    main()

"""Evaluation-harness figures: (a) the full `paper` suite with `random`; (b) harness overhead over a
policy that sleeps a fixed time per batch (target <= 5%); (c) peak memory vs number of episodes
(the runner keeps at most 64 episodes live, so memory must not grow past that).

    python benchmarks/harness_overhead.py [--sleep 0.05] [--skip-paper]

The natural-image game runs on the bundled tile pack (offline) in (b) and (c).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, tempfile, time
from g1bench.eval.policies import Answer, Policy, get_policy
from g1bench.eval.runner import Runner
from g1bench.eval.suites import get_suite, custom_suite, Suite, EpisodeSpec

mode, arg = sys.argv[1], sys.argv[2]

def offline(suite):
    eps = tuple(EpisodeSpec(e.game, e.difficulty, e.seed, e.steps, e.warmup,
                {"tile_source": "bundled"} if e.game == "shisensho-images" else dict(e.overrides), e.index)
                for e in suite.episodes)
    return Suite(suite.name, suite.version, eps, suite.description, suite.invalid_answer)

class Sleeper(Policy):
    name = "sleeper"
    def __init__(self, seconds):
        self.seconds, self.calls, self.busy = seconds, 0, 0.0
        self.inner = get_policy("random")
    def act(self, turns):
        t = time.perf_counter()
        self.calls += 1
        time.sleep(self.seconds)
        out = self.inner.act(turns)
        self.busy += time.perf_counter() - t
        return out

out = {}
with tempfile.TemporaryDirectory() as d:
    if mode == "paper":
        suite = get_suite("paper") if arg == "hub" else offline(get_suite("paper"))
        t = time.perf_counter()
        res = Runner(suite, get_policy("random"), d + "/run", progress=False).run()
        wall = time.perf_counter() - t
        steps = sum(e.steps for e in suite.episodes)
        out = {"wall_s": wall, "steps": steps, "steps_per_s": steps / wall,
               "scores": {k: [v["mean"], v["ci95"]] for k, v in res["results"].items()}}
    elif mode == "sleep":
        seconds, conc = float(arg.split(",")[0]), int(arg.split(",")[1])
        suite = offline(get_suite("paper"))
        pol = Sleeper(seconds)
        t = time.perf_counter()
        Runner(suite, pol, d + "/run", progress=False, concurrency=conc).run()
        wall = time.perf_counter() - t
        # overhead = wall time the policy was not busy (it waited on the harness), over its busy time
        out = {"wall_s": wall, "slept_s": pol.calls * seconds, "busy_s": pol.busy, "calls": pol.calls,
               "overhead": (wall - pol.busy) / pol.busy}
    elif mode == "memory":
        n = int(arg)
        suite = custom_suite(["2048", "shisensho", "swap"], episodes=n, steps=10)
        Runner(suite, get_policy("random"), d + "/run", progress=False).run()
        out = {"episodes": 3 * n, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
print(json.dumps(out))
"""


def child(mode: str, arg: str) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, mode, arg], capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sleep", type=float, default=0.05, help="seconds the fake model sleeps per batch")
    ap.add_argument("--skip-paper", action="store_true")
    args = ap.parse_args()
    if not args.skip_paper:
        a = child("paper", "offline")
        print(f"(a) paper suite, random policy: {a['steps']} steps in {a['wall_s']:.1f} s = {a['steps_per_s']:.0f} steps/s")
        for k, (mean, ci) in a["scores"].items():
            print(f"      {k:<26} {mean:8.1f}  95% CI [{ci[0]:.1f}, {ci[1]:.1f}]")
    for conc in (1, 2):
        b = child("sleep", f"{args.sleep},{conc}")
        print(f"(b) sleeping policy {args.sleep * 1000:.0f} ms/batch, concurrency {conc}: wall {b['wall_s']:.2f} s, "
              f"policy busy {b['busy_s']:.2f} s ({b['slept_s']:.2f} s asleep) over {b['calls']} calls "
              f"-> overhead {100 * b['overhead']:.1f}%")
    for n in (30, 120, 480):  # all above the runner's 64 live episodes
        c = child("memory", str(n))
        print(f"(c) {c['episodes']:>4} episodes: peak RSS {c['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()

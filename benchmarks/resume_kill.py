"""Step-level resume under fire: the `paper` suite with a policy that sleeps per batch, killed with SIGKILL at
random moments and resumed each time until it finishes.

Reports
  (a) model calls repeated per kill: turns asked again after a resume (goal: at most one round, i.e. the
      live episodes' answers of the call in flight), and whether the final results equal an uninterrupted
      run's;
  (b) the step log's cost: seconds spent writing + fsyncing it, as a share of wall time, and the wall time
      of an uninterrupted run against the runner of the commit before the step log (goal: <= 2%).

    python benchmarks/resume_kill.py [--kills 10] [--sleep 0.05] [--seed 0] [--baseline-commit c887d40]

The natural-image game runs on the bundled tile pack (offline).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, os, sys, time
from g1bench.eval.policies import Policy, get_policy
from g1bench.eval.runner import Runner
from g1bench.eval.suites import EpisodeSpec, Suite, get_suite

out, asked, resume, seconds = sys.argv[1], sys.argv[2], sys.argv[3] == "1", float(sys.argv[4])
paper = get_suite("paper")
suite = Suite(paper.name, paper.version, tuple(
    EpisodeSpec(e.game, e.difficulty, e.seed, e.steps, e.warmup,
                {"tile_source": "bundled"} if e.game == "shisensho-images" else dict(e.overrides), e.index)
    for e in paper.episodes), paper.description, paper.invalid_answer)

class Sleeper(Policy):
    name = "sleeper"
    needs_frames = False
    def __init__(self):
        self.inner = get_policy("random")
    def act(self, turns):
        if asked != "-":
            with open(asked, "a") as f:
                f.write(json.dumps([[t.episode, t.step] for t in turns]) + "\n")
        time.sleep(seconds)
        return self.inner.act(turns)

log_s = 0.0
try:
    from g1bench.eval.rundir import RunDir
    original = RunDir.append_steps
    def timed(self, records):
        global log_s
        t = time.perf_counter()
        try:
            return original(self, records)
        finally:
            log_s += time.perf_counter() - t
    RunDir.append_steps = timed
except ImportError:  # the runner before the step log
    pass
t = time.perf_counter()
Runner(suite, Sleeper(), out, resume=resume, progress=False).run()
print(json.dumps({"wall_s": time.perf_counter() - t, "log_s": log_s}))
"""


def child(python: str, cwd: str | None, out: Path, asked: str, resume: bool, sleep: float, script: Path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if cwd:
        env["PYTHONPATH"] = cwd
    return subprocess.Popen([python, str(script), str(out), asked, "1" if resume else "0", str(sleep)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)


def uninterrupted(script: Path, root: Path, sleep: float, cwd: str | None = None, name: str = "full") -> dict:
    p = child(sys.executable, cwd, root / name, "-", False, sleep, script)
    out, err = p.communicate()
    if p.returncode != 0:
        raise SystemExit(err)
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--sleep", type=float, default=0.05, help="seconds the policy sleeps per batch")
    ap.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    ap.add_argument("--baseline-commit", default="c887d40", help="runner before the step log ('' to skip)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        script = root / "child.py"
        script.write_text(CHILD)
        full = uninterrupted(script, root, args.sleep)
        print(f"uninterrupted: {full['wall_s']:.2f} s wall, {full['log_s']:.3f} s writing the step log "
              f"({100 * full['log_s'] / full['wall_s']:.2f}% of wall)")

        # (a) kill at random moments until the run completes
        out, asked = root / "killed", root / "asked.jsonl"
        kills, resumes = 0, False
        while True:
            p = child(sys.executable, None, out, str(asked), resumes, args.sleep, script)
            if kills < args.kills:
                time.sleep(rng.uniform(0.3, full["wall_s"] / max(1, args.kills - kills) + 0.3))
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    p.wait()
                    kills += 1
                    resumes = True
                    continue
            p.communicate()
            if p.returncode != 0:
                raise SystemExit(f"resume failed: {p.stderr.read() if p.stderr else ''}")
            break
        calls = [tuple(x) for line in asked.read_text().splitlines() if line.strip() for x in json.loads(line)]
        repeated = len(calls) - len(set(calls))
        res_full = json.loads((root / "full" / "results.json").read_text())["results"]
        res_kill = json.loads((out / "results.json").read_text())["results"]
        live = 40  # the paper suite's 40 episodes are all live at once (max_active 64): one round = 40 turns
        print(f"(a) {kills} kills: {len(calls)} turns asked for {len(set(calls))} steps; {repeated} repeated = "
              f"{repeated / max(kills, 1):.1f} turns per kill = {repeated / max(kills, 1) / live:.2f} rounds per kill "
              f"(goal <= 1); results equal to the uninterrupted run: {res_full == res_kill}")

        # (b) against the runner before the step log
        if args.baseline_commit:
            repo = Path(__file__).resolve().parent.parent
            base = root / "baseline"
            ok = subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", str(base), args.baseline_commit],
                                capture_output=True, text=True)
            if ok.returncode != 0:
                print(f"(b) skipped: no baseline checkout ({ok.stderr.strip()})")
                return
            try:
                walls = {"step log": [], "before": []}
                for i in range(3):  # interleaved, to share the machine's noise
                    walls["step log"].append(uninterrupted(script, root, args.sleep, name=f"new{i}")["wall_s"])
                    walls["before"].append(uninterrupted(script, root, args.sleep, cwd=str(base), name=f"old{i}")["wall_s"])
                new, old = min(walls["step log"]), min(walls["before"])
                print(f"(b) wall time, best of 3: step log {new:.2f} s, runner before the step log {old:.2f} s: "
                      f"{100 * (new - old) / old:+.2f}% (goal <= 2%)")
            finally:
                subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(base)], capture_output=True)


if __name__ == "__main__":
    main()

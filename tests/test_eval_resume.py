"""Step-level resume: every answered step survives a kill, no recorded answer is asked for again, and
`g1bench eval --resume -o DIR` alone finishes the run exactly as an uninterrupted one."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from g1bench.eval.results import load
from g1bench.eval.rundir import RunError, load_episodes, read_steps_file
from g1bench.eval.runner import Runner
from g1bench.eval.suites import custom_suite

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
CLI = [sys.executable, "-m", "g1bench.cli"]

# A policy that logs every (episode, step) it is asked for, durably, before answering: the log tells how
# many model calls a kill made us repeat.
SCRIPT = r"""
import json, os, sys, time
from g1bench.eval.policies import Policy, RandomPolicy
from g1bench.eval.runner import Runner
from g1bench.eval.suites import custom_suite

out, asked, resume = sys.argv[1], sys.argv[2], sys.argv[3] == "1"

class Logged(Policy):
    name = "logged"
    needs_frames = False
    def __init__(self):
        self.inner = RandomPolicy()
    def act(self, turns):
        with open(asked, "a") as f:
            f.write(json.dumps([[t.episode, t.step] for t in turns]) + "\n")
            f.flush(); os.fsync(f.fileno())
        time.sleep(0.02)
        return self.inner.act(turns)

suite = custom_suite(["2048", "swap"], episodes=4, steps=30)
Runner(suite, Logged(), out, resume=resume, progress=False, concurrency=2, max_active=8).run()
"""


def _asked(path: Path) -> list[tuple[str, int]]:
    return [tuple(x) for line in path.read_text().splitlines() for x in json.loads(line)]


def test_a_kill_mid_episode_repeats_at_most_one_round_and_resume_equals_an_uninterrupted_run(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    full, asked_full = tmp_path / "full", tmp_path / "asked_full.jsonl"
    subprocess.run([sys.executable, str(script), str(full), str(asked_full), "0"], env=ENV, check=True)
    crashed, asked = tmp_path / "crashed", tmp_path / "asked.jsonl"
    proc = subprocess.Popen([sys.executable, str(script), str(crashed), str(asked), "0"], env=ENV)
    steps = crashed / "steps.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and not (steps.exists() and steps.read_bytes().count(b"\n") >= 70):
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    logged, _ = read_steps_file(steps)
    saved = sum(len(v) for v in logged.values())
    assert 70 <= saved < 240, "the kill should land mid-episode"
    assert all(0 < len(v) < 30 for v in logged.values()), "every episode is unfinished: resume is step-level"
    with open(steps, "ab") as f:  # a torn write on top
        f.write(b'{"episode_id": "2048/paper/0", "st')
    subprocess.run([sys.executable, str(script), str(crashed), str(asked), "1"], env=ENV, check=True)

    calls = _asked(asked)
    repeated = len(calls) - len(set(calls))
    assert repeated <= 8, f"{repeated} answers asked twice: at most one round (8 live episodes) may repeat"
    assert set(calls) == set(_asked(asked_full))  # every step asked at least once
    a, b = load(full), load(crashed)
    assert b["complete"] and a["results"] == b["results"]
    strip = lambda eps: [[{k: v for k, v in s.items() if k != "latency_s"} for s in e["steps"]] for e in eps]  # noqa: E731
    assert strip(load_episodes(full)) == strip(load_episodes(crashed))


def _cli(*args, **kw):
    return subprocess.run([*CLI, *args], env=ENV, capture_output=True, text=True, **kw)


def test_sigint_says_what_is_saved_and_the_printed_command_resumes(tmp_path):
    out = tmp_path / "run dir"  # a space: the printed command must quote it
    args = ["eval", "--model", "random", "--games", "2048,swap", "--episodes", "3", "--steps", "400", "--seed", "5",
            "--concurrency", "1", "--max-active", "2", "-o", str(out), "--quiet", "--no-frames"]
    # SIGINT as at a terminal: a test run started in the background (`cmd &` in a script) hands its children SIGINT
    # ignored, and Python then installs no KeyboardInterrupt handler
    proc = subprocess.Popen([*CLI, *args], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    steps = out / "steps.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and not (steps.exists() and steps.read_bytes().count(b"\n") >= 50):
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    saved = read_steps_file(steps)[0]
    n = sum(len(v) for v in saved.values())
    assert f"{n} of 2400 steps are saved" in err and n < 2400
    command = err.strip().splitlines()[-1].split("continue with: ", 1)[1]
    assert command == f"g1bench eval --resume -o {shlex.quote(str(out))}"
    done = subprocess.run(command.replace("g1bench", shlex.join(CLI), 1), shell=True, env=ENV, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    resumed = load(out)
    assert resumed["complete"]
    ref = _cli(*[a if a != str(out) else str(tmp_path / "ref") for a in args])
    assert ref.returncode == 0, ref.stderr
    assert load(tmp_path / "ref")["results"] == resumed["results"]


def test_resume_takes_options_from_run_json_and_refuses_conflicts(tmp_path):
    out = tmp_path / "r"
    suite = custom_suite(["swap"], episodes=2, steps=4, seed=3)
    first = _cli("eval", "--model", "random", "--games", "swap", "--episodes", "2", "--steps", "4", "--seed", "3",
                 "--policy-seed", "7", "-o", str(out), "--quiet")
    assert first.returncode == 0, first.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["command"]["model"] == "random" and run["command"]["policy_seed"] == 7
    assert run["suite"]["hash"] == suite.hash()
    # cut the log back to one step per episode: a resume must redo the rest from run.json alone
    lines = (out / "steps.jsonl").read_text().splitlines()
    keep = [ln for ln in lines if json.loads(ln)["step"] == 0]
    (out / "steps.jsonl").write_text("\n".join(keep) + "\n")
    again = _cli("eval", "--resume", "-o", str(out), "--quiet")
    assert again.returncode == 0, again.stderr
    assert sum(len(v) for v in read_steps_file(out / "steps.jsonl")[0].values()) == 8
    for flags, flag in [(["--model", "oracle"], "--model"), (["--policy-seed", "0"], "--policy-seed"),
                        (["--games", "2048"], "--games"), (["--shard", "0/2"], "--shard")]:
        bad = _cli("eval", "--resume", "-o", str(out), *flags)
        assert bad.returncode == 2 and f"error: {flag}" in bad.stderr and "conflicts with this run's" in bad.stderr, flags
    ok = _cli("eval", "--resume", "-o", str(out), "--model", "random", "--concurrency", "1", "--quiet")
    assert ok.returncode == 0, ok.stderr  # the same value, or an option that does not change results, is fine
    assert _cli("eval", "--resume").stderr.strip() == "error: --resume needs --output-dir (the run to continue)"
    no_model = _cli("eval", "-o", str(tmp_path / "x"))
    assert no_model.returncode == 2 and "--model is required" in no_model.stderr
    from g1bench.eval.policies import RandomPolicy

    Runner(suite, RandomPolicy(), tmp_path / "py", progress=False).run()  # started from Python: no command recorded
    bare = _cli("eval", "--resume", "-o", str(tmp_path / "py"))
    assert bare.returncode == 2 and bare.stderr == (
        f"error: --model is required: {tmp_path / 'py'}/run.json records no command line (the run was started from "
        "Python); give the model and suite options again\n")


def test_resume_refuses_a_step_log_that_does_not_replay(tmp_path):
    suite = custom_suite(["2048"], episodes=1, steps=6, warmup=0)
    from g1bench.eval.policies import RandomPolicy

    Runner(suite, RandomPolicy(), tmp_path / "r", progress=False).run()
    log = tmp_path / "r" / "steps.jsonl"
    recs = [json.loads(ln) for ln in log.read_text().splitlines()][:3]
    recs[1]["answer"] = "<answer>" + str((recs[1]["action"] + 1) % 4) + "</answer>"  # an edited answer
    log.write_text("".join(json.dumps(r) + "\n" for r in recs))
    with pytest.raises(RunError, match=r"2048/paper/0 step 1 does not replay: action is"):
        Runner(suite, RandomPolicy(), tmp_path / "r", resume=True, progress=False).run()
    # the command line says so in one line, without a resume command that would fail the same way
    args = ["--model", "random", "--games", "2048", "--episodes", "1", "--steps", "6", "--warmup", "0", "--quiet"]
    assert _cli("eval", *args, "-o", str(tmp_path / "c")).returncode == 0
    (tmp_path / "c" / "steps.jsonl").write_text(log.read_text())
    out = _cli("eval", "--resume", "-o", str(tmp_path / "c"), "--quiet")
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1, out.stderr
    assert "step 1 does not replay" in out.stderr and "cannot resume this run" in out.stderr


def test_a_second_writer_of_a_running_run_is_refused_and_writes_nothing(tmp_path):
    from g1bench.eval.policies import RandomPolicy

    suite = custom_suite(["swap"], episodes=2, steps=3)
    out = tmp_path / "r"
    first = Runner(suite, RandomPolicy(), out, progress=False)
    first.run_dir.prepare(first.meta, resume=False)  # holds the run, as an eval in progress does
    first.run_dir.append_steps([{"episode_id": "swap/paper/0", "step": 0}])
    before = (out / "steps.jsonl").read_bytes()
    with pytest.raises(RunError, match=rf"^{out} is in use by process {os.getpid()} \(another g1bench eval"):
        Runner(suite, RandomPolicy(), out, resume=True, progress=False).run()
    with pytest.raises(RunError, match=rf"^{out} is not empty; pass --resume"):
        Runner(suite, RandomPolicy(), out, progress=False).run()
    assert (out / "steps.jsonl").read_bytes() == before and not (out / "results.json").exists()
    first.run_dir.close()
    first.run_dir.unlock()  # the first process is gone: the run can be resumed, and the lock is free again after
    (out / "steps.jsonl").write_bytes(b"")
    assert Runner(suite, RandomPolicy(), out, resume=True, progress=False).run()["complete"]
    assert Runner(suite, RandomPolicy(), out, resume=True, progress=False).run()["complete"]


def test_resume_draws_again_the_frames_a_kill_lost(tmp_path):
    """Frames are written off the stepping thread: a kill can lose the last ones of an episode whose steps are
    logged. A resume draws them again, byte for byte, even when every episode is finished."""
    from g1bench.eval.policies import RandomPolicy
    from g1bench.eval.verify import verify_run

    suite = custom_suite(["2048", "shisensho"], episodes=2, steps=4)
    out = tmp_path / "r"
    Runner(suite, RandomPolicy(), out, progress=False).run()
    frames = {p.name: p.read_bytes() for p in (out / "frames").glob("*.png")}
    lost = sorted(frames)[::3]
    for name in lost:
        (out / "frames" / name).unlink()
    assert verify_run(out).notes == [f"{len(lost)} frames named in the step log are missing from frames/ (replays and "
                                     "videos need them: `g1bench eval --resume -o RUN_DIR` draws them again)"]
    steps = (out / "steps.jsonl").read_bytes()
    assert Runner(suite, RandomPolicy(), out, resume=True, progress=False).run()["complete"]
    assert {p.name: p.read_bytes() for p in (out / "frames").glob("*.png")} == frames
    assert (out / "steps.jsonl").read_bytes() == steps
    v = verify_run(out)
    assert v.ok and v.notes == []


def test_a_resume_that_adds_nothing_leaves_the_run_unchanged_and_keeps_its_start_time(tmp_path):
    from g1bench.eval.policies import RandomPolicy

    suite = custom_suite(["swap"], episodes=2, steps=3)
    out = tmp_path / "r"
    Runner(suite, RandomPolicy(), out, progress=False).run()
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    time.sleep(1.1)  # the clock has seconds: a rewrite would show
    again = Runner(suite, RandomPolicy(), out, resume=True, progress=False).run()
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == files  # the same entry id on push
    assert again == json.loads(files["results.json"])


    class Interrupted(RandomPolicy):
        def act(self, turns):
            if turns[0].step == 1:
                raise KeyboardInterrupt
            return super().act(turns)

    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        Runner(suite, Interrupted(), cut, progress=False, concurrency=1).run()
    start = json.loads((cut / "run.json").read_text())["start_time"]
    assert not json.loads((cut / "results.json").read_text())["complete"]
    time.sleep(1.1)
    resumed = Runner(suite, RandomPolicy(), cut, resume=True, progress=False).run()
    assert resumed["complete"] and resumed == json.loads((cut / "results.json").read_text())
    assert resumed["provenance"]["start_time"] == start < resumed["provenance"]["end_time"]  # when the run began


def test_shards_merge_into_a_run_equal_to_an_unsharded_one(tmp_path):
    args = ["--model", "oracle", "--games", "2048,shisensho,swap", "--episodes", "3", "--steps", "6", "--quiet"]
    whole = _cli("eval", *args, "-o", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    for i in range(3):
        r = _cli("eval", *args, "--shard", f"{i}/3", "-o", str(tmp_path / f"s{i}"))
        assert r.returncode == 0, r.stderr
        shard = load(tmp_path / f"s{i}")
        assert shard["provenance"]["shard"] == {"index": i, "count": 3} and shard["episodes_total"] == 3
    assert _cli("verify", str(tmp_path / "s1")).returncode == 0  # a shard verifies on its own
    partial = _cli("merge", str(tmp_path / "s0"), str(tmp_path / "s2"), "-o", str(tmp_path / "partial"))
    assert "shards [1] are missing" in partial.stderr and "INCOMPLETE" in partial.stdout
    merged = _cli("merge", str(tmp_path / "s2"), str(tmp_path / "s0"), str(tmp_path / "s1"), "-o", str(tmp_path / "m"))
    assert merged.returncode == 0, merged.stderr + merged.stdout
    assert "verified:" in merged.stdout
    a, b = load(tmp_path / "whole"), load(tmp_path / "m")
    assert b["complete"] and a["results"] == b["results"] and b["provenance"]["shard"] is None
    assert [e["episode_id"] for e in load_episodes(tmp_path / "m")] == [e["episode_id"] for e in load_episodes(tmp_path / "whole")]
    twice = _cli("merge", str(tmp_path / "s0"), str(tmp_path / "s0"), "-o", str(tmp_path / "t"))
    assert twice.returncode == 2 and "are both shard 0/3" in twice.stderr
    other = _cli("eval", "--model", "random", "--games", "swap", "--episodes", "2", "--steps", "2", "--shard", "0/2",
                 "--quiet", "-o", str(tmp_path / "o"))
    assert other.returncode == 0
    mixed = _cli("merge", str(tmp_path / "s0"), str(tmp_path / "o"), "-o", str(tmp_path / "mx"))
    assert mixed.returncode == 2 and "only shards of one run can be merged" in mixed.stderr
    bad = _cli("eval", *args, "--shard", "3/3", "-o", str(tmp_path / "never"))
    assert bad.returncode == 2 and "0 <= I < N" in bad.stderr and not (tmp_path / "never").exists()


def test_a_directory_killed_while_being_created_is_taken_by_eval_and_resume(tmp_path):
    """A kill while eval creates its run directory leaves the lock, an empty frames/ and a temp file: neither
    `eval` nor `eval --resume` used to take it. Both start the run there now."""
    args = ["--model", "random", "--games", "swap", "--episodes", "1", "--steps", "2", "--quiet"]
    for i, resume in enumerate(([], ["--resume"])):
        out = tmp_path / f"wedged{i}"
        (out / "frames").mkdir(parents=True)
        (out / ".lock").write_text("12345\n")
        (out / ".run.json.abc123.tmp").write_text('{"half": ')
        done = _cli("eval", *args, *resume, "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert load(out)["complete"] and (out / "run.json").is_file()
    bare = tmp_path / "bare"
    (bare / "frames").mkdir(parents=True)
    (bare / ".lock").write_text("")
    alone = _cli("eval", "--resume", "-o", str(bare))
    assert alone.returncode == 2 and alone.stderr == (f"error: --model is required: {bare} holds no run yet (it was "
                                                      "stopped while being created); give the model and suite options "
                                                      "to start it there\n")
    (bare / "frames" / "x.png").write_bytes(b"png")  # a frame: something was run here, it is not taken
    again = _cli("eval", *args, "-o", str(bare))
    assert again.returncode == 2 and "is not empty; pass --resume" in again.stderr

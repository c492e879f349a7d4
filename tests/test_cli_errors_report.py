"""`g1bench report` / `compare`: the table first, JSON alone on stdout, GIFs on every core, and one `error:`
line (exit 2) for every bad input, after what could be shown."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def g1(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "g1bench.cli", *map(str, args)], env=ENV, capture_output=True,
                          text=True, timeout=timeout)


def one_error_line(out, code=2):
    assert out.returncode == code, (out.returncode, out.stdout[-500:], out.stderr)
    assert "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, out.stderr
    return errors[0]


@pytest.fixture(scope="module")
def made_run(tmp_path_factory):
    """A small run with frames: 2 episodes of 2048 and of swap, 6 steps each."""
    out = tmp_path_factory.mktemp("runs") / "r"
    res = g1("eval", "--model", "random", "--games", "2048,swap", "--episodes", "2", "--steps", "6", "-o", out, "--quiet")
    assert res.returncode == 0, res.stderr
    return out


@pytest.fixture
def run_dir(made_run, tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(made_run, dst)
    return dst


def test_report_prints_the_table_then_verification_plots_and_videos(run_dir):
    out = g1("report", run_dir, "--videos")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("custom-") and "policy random" in lines[0]
    order = [next(i for i, line in enumerate(lines) if line.startswith(p)) for p in ("verification:", "plots:", "videos:")]
    assert order == sorted(order) and order[0] > 3
    assert "verification: verified:" in out.stdout
    assert lines[-1] == f"videos: 4 GIFs in {run_dir / 'videos'}"
    assert sorted(p.name for p in (run_dir / "videos").iterdir()) == [
        "2048__paper__0.gif", "2048__paper__1.gif", "swap__paper__0.gif", "swap__paper__1.gif"]


def test_report_videos_of_a_run_without_frames_says_so(tmp_path):
    res = g1("eval", "--model", "random", "--games", "swap", "--episodes", "1", "--steps", "2", "--no-frames", "-o",
             tmp_path / "nf", "--quiet")
    assert res.returncode == 0, res.stderr
    out = g1("report", tmp_path / "nf", "--videos", "--no-plots")
    assert out.returncode == 0 and "videos:" not in out.stdout
    assert "note: no GIFs written: no finished episode of this run has stored frames (was it run with --no-frames?)" \
        in out.stderr.splitlines()


def test_report_json_is_only_json_on_stdout(run_dir):
    out = g1("report", run_dir, "--json", "--videos")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == json.loads((run_dir / "results.json").read_text())
    assert "plots:" in out.stderr and "videos: 4 GIFs" in out.stderr and "verification:" in out.stderr


def test_report_and_compare_take_a_results_file(run_dir):
    out = g1("report", run_dir / "results.json", "--no-plots", "--no-verify")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("custom-")
    cmp = g1("compare", run_dir / "results.json", run_dir, "--json")
    assert cmp.returncode == 0, cmp.stderr
    data = json.loads(cmp.stdout)
    assert data["a"]["verified"] is True and data["b"]["verified"] is True
    assert {g: d["mean_diff"] for g, d in data["groups"].items()} == {"2048/paper": 0.0, "swap/paper": 0.0}


def test_gifs_hold_exactly_the_stored_frames(run_dir):
    from g1bench.eval.report import write_videos
    from g1bench.eval.runner import load_episodes

    paths = write_videos(run_dir, workers=2)
    episodes = load_episodes(run_dir)
    assert [p.name for p in paths] == [e["episode_id"].replace("/", "__") + ".gif" for e in episodes]
    for path, e in zip(paths, episodes):
        ids = [s["frame"] for s in e["steps"]]
        shown = [f for i, f in enumerate(ids) if i == 0 or f != ids[i - 1]]  # a repeated frame is shown longer
        with Image.open(path) as gif:
            assert gif.n_frames == len(shown)
            total = 0
            for k, fid in enumerate(shown):
                gif.seek(k)
                total += gif.info["duration"]
                expected = np.asarray(Image.open(run_dir / "frames" / f"{fid}.png").convert("RGB"))
                assert np.array_equal(np.asarray(gif.convert("RGB")), expected), (path.name, k)
            assert total == 250 * len(ids)
    again = write_videos(run_dir, out=run_dir / "again", workers=0)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]  # workers change nothing


def test_a_read_only_run_dir_gives_the_table_then_one_error_line(run_dir, tmp_path):
    if os.geteuid() != 0:
        (run_dir).chmod(0o555)
        ro = run_dir
    else:  # root ignores permissions: a real read-only filesystem
        ro = tmp_path / "ro"
        ro.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(ro)], capture_output=True).returncode:
            pytest.skip("cannot mount a tmpfs here")
        shutil.copytree(run_dir, ro, dirs_exist_ok=True)
        subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
    try:
        out = g1("report", ro, "--no-verify")
        line = one_error_line(out)
        assert out.stdout.startswith("custom-")  # the table came first
        assert line.startswith(f"error: cannot write the plots in {ro / 'plots'}: ") and "--out-dir" in line
        out = g1("report", ro, "--no-plots", "--videos", "--no-verify")
        assert one_error_line(out).startswith(f"error: cannot write the videos in {ro / 'videos'}: ")
        elsewhere = g1("report", ro, "--videos", "--no-verify", "--out-dir", tmp_path / "out")
        assert elsewhere.returncode == 0, elsewhere.stderr
        assert len(list((tmp_path / "out" / "videos").glob("*.gif"))) == 4
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(ro)], capture_output=True)
        else:
            run_dir.chmod(0o755)


def test_a_missing_frame_fails_the_videos_after_the_table(run_dir):
    victim = next((run_dir / "frames").iterdir())
    victim.unlink()
    out = g1("report", run_dir, "--no-plots", "--videos", "--no-verify")
    line = one_error_line(out)
    assert out.stdout.startswith("custom-") and "cannot write" in line and victim.name in line
    assert not list((run_dir / "videos").glob("*.tmp"))  # no half-written GIF left behind


def test_control_characters_from_files_never_reach_the_terminal(run_dir):
    evil = "\x1b[31mEVIL\x1b]0;owned\x07\u202e\x00"
    data = json.loads((run_dir / "results.json").read_text())
    data["provenance"]["policy"]["policy"] = "random" + evil
    (run_dir / "results.json").write_text(json.dumps(data))
    for out in (g1("report", run_dir, "--no-plots", "--no-verify"), g1("compare", run_dir, run_dir, "--no-verify")):
        assert out.returncode == 0, out.stderr
        text = out.stdout + out.stderr
        assert "randomEVIL" in text
        assert not any(c in text for c in "\x1b\x07\x00\u202e")


@pytest.mark.parametrize("case", ["missing", "empty dir", "file", "fifo", "not json", "deep json", "no steps"])
def test_bad_runs_are_one_error_line(tmp_path, run_dir, case):
    target = tmp_path / "bad"
    if case == "missing":
        pass
    elif case == "empty dir":
        target.mkdir()
    elif case == "file":
        target.write_text("hello")
    elif case == "fifo":
        target.mkdir()
        os.mkfifo(target / "results.json")
    elif case == "not json":
        target.mkdir()
        (target / "results.json").write_text("{nope")
    elif case == "deep json":
        target.mkdir()
        (target / "results.json").write_text("[" * 100_000 + "]" * 100_000)
    elif case == "no steps":
        shutil.copytree(run_dir, target)
        (target / "steps.jsonl").unlink()
    for args in (["report", target], ["compare", target, run_dir]):
        out = g1(*args, timeout=60)
        one_error_line(out)
        assert str(target) in out.stderr

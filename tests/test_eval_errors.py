"""`g1bench eval` answers every bad output directory with one `error:` line (exit 2), loses nothing, and
says how to continue when a disk fills up mid-run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from g1bench.eval.rundir import read_steps_file

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}
ARGS = ["eval", "--model", "random", "--games", "swap", "--episodes", "1", "--steps", "3", "--quiet"]


def run(*args):
    return subprocess.run([sys.executable, "-m", "g1bench.cli", *args], env=ENV, capture_output=True, text=True,
                          timeout=120)


def one_error_line(out, code=2):
    assert out.returncode == code, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: "), out.stderr
    return out.stderr


def test_a_read_only_folder(read_only_dir):
    err = one_error_line(run(*ARGS, "-o", str(read_only_dir / "run")))
    assert "cannot create the run directory" in err and str(read_only_dir / "run") in err


def test_a_file_and_a_path_under_a_file(tmp_path):
    f = tmp_path / "results.txt"
    f.write_text("keep me")
    err = one_error_line(run(*ARGS, "-o", str(f)))
    assert "is a file, not a folder" in err
    err = one_error_line(run(*ARGS, "-o", str(f / "run")))
    assert "cannot create the run directory" in err and "Not a directory" in err
    assert f.read_text() == "keep me"


def test_a_name_too_long(tmp_path):
    err = one_error_line(run(*ARGS, "-o", str(tmp_path / ("x" * 300))))
    assert "File name too long" in err


def test_a_corrupt_run_json_on_resume(tmp_path):
    for content, msg in [("[]", "not a g1bench run.json"), ("{not json", "not valid JSON"),
                         ('{"suite": {}, "policy": {}}', "no run.json")]:
        d = tmp_path / f"r{len(content)}"
        d.mkdir()
        if "no run.json" in msg:
            (d / "other.json").write_text(content)
        else:
            (d / "run.json").write_text(content)
        err = one_error_line(run("eval", "--resume", "-o", str(d)))
        assert msg in err, err
        assert sorted(p.name for p in d.iterdir()) == (["other.json"] if "no run.json" in msg else ["run.json"])


def test_a_full_disk_mid_run_keeps_the_steps_and_says_how_to_continue(full_disk, tmp_path):
    out = full_disk / "run"
    args = ["eval", "--model", "random", "--games", "2048,swap", "--episodes", "2", "--steps", "400", "--quiet"]
    err = one_error_line(run(*args, "-o", str(out)))
    assert "No space left on device" in err
    saved = sum(len(v) for v in read_steps_file(out / "steps.jsonl")[0].values())
    assert saved > 0 and f"{saved} of 1600 steps are saved in {out}" in err
    assert f"continue with: g1bench eval --resume -o {out}" in err
    # move the run somewhere with room and continue it there: nothing was lost
    moved = tmp_path / "moved"
    subprocess.run(["cp", "-r", str(out), str(moved)], check=True)
    done = run("eval", "--resume", "-o", str(moved), "--quiet")
    assert done.returncode == 0, done.stderr
    assert json.loads((moved / "results.json").read_text())["complete"]
    assert run("verify", str(moved)).returncode == 0


def test_custom_suite_options_without_games_are_refused(tmp_path):
    out = run("eval", "--model", "random", "--suite", "smoke", "--episodes", "20", "--seed", "5", "-o", str(tmp_path / "r"))
    assert out.returncode == 2 and out.stderr == (
        "error: --episodes, --seed describe a custom suite: add --games to build one, or drop --episodes, --seed to "
        "run the built-in suite 'smoke' as it is\n")
    assert not (tmp_path / "r").exists()


def test_suites_write_to_a_path_under_a_file(tmp_path):
    (tmp_path / "f").write_text("keep me")
    out = run("suites", "--write", str(tmp_path / "f" / "manifests"))
    assert out.returncode == 2 and out.stdout == "" and out.stderr == (
        f"error: cannot write {tmp_path / 'f' / 'manifests' / 'paper-v3.json'}: Not a directory\n")
    assert (tmp_path / "f").read_text() == "keep me"

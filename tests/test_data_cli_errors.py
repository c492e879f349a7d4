"""`g1bench data build | from-run | push`: every failure is one `error:` line (exit 2), never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from g1bench.testing.hub_server import HubServer, hub_env

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}
BUILD = ["data", "build", None, "--configs", "manifests", "-q", "--workers", "0"]


def g1(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "g1bench.cli", *map(str, args)], env=env or ENV, capture_output=True,
                          text=True, timeout=timeout)


def one_error_line(out, code=2):
    assert out.returncode == code, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    return lines[0]


def build(out, *extra, env=None):
    args = list(BUILD)
    args[2] = out
    return g1(*args, *extra, env=env)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "ds"
    res = build(out)
    assert res.returncode == 0, res.stderr
    return out


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_push_offline_is_one_line(dataset, tmp_path):
    env = {**ENV, "HF_TOKEN": "hf_dummy", "HF_HOME": str(tmp_path / "hf")}
    line = one_error_line(g1("data", "push", dataset, "--repo", "org/x", env=env))
    assert "HF_HUB_OFFLINE is set" in line


def test_push_without_network_is_one_line(dataset, tmp_path):
    port = _closed_port()
    env = {**ENV, "HF_HUB_OFFLINE": "0", "HF_TOKEN": "hf_dummy", "HF_HOME": str(tmp_path / "hf"),
           "HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_HUB_DISABLE_XET": "1"}
    line = one_error_line(g1("data", "push", dataset, "--repo", "org/x", env=env, timeout=120))
    assert line.startswith(f"error: cannot reach the Hub at http://127.0.0.1:{port} (") and "nothing was uploaded" in line


def test_push_with_a_refused_token_is_one_line(dataset, tmp_path):
    with HubServer(tokens={"hf_good"}) as hub:
        env = hub_env(hub, tmp_path / "hf", token="hf_bad")
        line = one_error_line(g1("data", "push", dataset, "--repo", "org/x", env=env))
        assert line.startswith("error: the Hub refused the upload to org/x (HTTP 401): the token was refused")
        assert "hf_bad" not in line
        ok = g1("data", "push", dataset, "--repo", "org/x", env=hub_env(hub, tmp_path / "hf2", token="hf_good"))
        assert ok.returncode == 0, ok.stderr  # the same command with a good token goes through


def test_push_bad_paths(tmp_path):
    assert one_error_line(g1("data", "push", tmp_path / "nope", "--repo", "org/x")) == f"error: {tmp_path / 'nope'}: no such folder"
    (tmp_path / "f").write_text("x")
    assert "is a file" in one_error_line(g1("data", "push", tmp_path / "f", "--repo", "org/x"))


def test_build_into_bad_places(tmp_path, read_only_dir):
    line = one_error_line(build(read_only_dir / "out"))
    assert line.startswith(f"error: {read_only_dir / 'out'}") and "choose an output folder you can write" in line
    (tmp_path / "file").write_text("x")
    assert "a parent of this path is a file" in one_error_line(build(tmp_path / "file" / "out"))
    assert "the name is too long" in one_error_line(build(tmp_path / ("x" * 300)))


def test_build_on_a_full_disk_says_how_to_finish(full_disk):
    out = full_disk / "ds"
    res = build(out, "--configs", "perception", "--games", "swap", "--train", "40", "--test", "5")
    line = one_error_line(res)
    assert "the disk is full" in line and "--resume" in line
    assert not (out / "README.md").exists()  # never looks complete


def test_from_run_into_bad_places(tmp_path, read_only_dir):
    run = tmp_path / "run"
    made = g1("eval", "--model", "random", "--games", "swap", "--episodes", "1", "--steps", "2", "-o", run, "--quiet")
    assert made.returncode == 0, made.stderr
    assert "choose an output folder you can write" in one_error_line(g1("data", "from-run", run, read_only_dir / "o"))
    (tmp_path / "file").write_text("x")
    assert "a parent of this path is a file" in one_error_line(g1("data", "from-run", run, tmp_path / "file" / "o"))
    assert "not a g1bench run directory" in one_error_line(g1("data", "from-run", tmp_path / "nope", tmp_path / "o"))

"""The Space as uploaded (space_app/) and as run locally (`python space_app/app.py`, `g1bench space`)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPACE = ROOT / "space_app"


def front_matter(text: str) -> dict:
    import yaml

    assert text.startswith("---\n")
    return yaml.safe_load(text[4: text.index("\n---\n", 4)])


def test_readme_has_the_space_header():
    gradio = pytest.importorskip("gradio")
    meta = front_matter((SPACE / "README.md").read_text())
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and (SPACE / meta["app_file"]).is_file()
    # the Space runs the gradio line the app is tested with
    assert meta["sdk_version"].split(".")[:2] == gradio.__version__.split(".")[:2]
    assert meta["python_version"] == "3.11" and meta["license"] == "apache-2.0" and meta["title"]
    assert len(meta["short_description"]) <= 60


def test_requirements_install_g1bench_with_the_space_extra():
    from packaging.requirements import Requirement

    reqs = [Requirement(line) for line in (SPACE / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert [(r.name, sorted(r.extras)) for r in reqs] == [("g1bench", ["space"])]
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    # gradio for the app, matplotlib for the leaderboard's heatmaps
    assert sorted(Requirement(x).name for x in extras["space"]) == ["gradio", "matplotlib"]
    assert {"gradio", "gradio_client", "playwright"} <= {x.split(">")[0].split("=")[0].split("[")[0] for x in extras["test"]}


def test_app_py_is_thin():
    """app.py builds the tabs from g1bench.space and launches them: no logic of its own."""
    tree = ast.parse((SPACE / "app.py").read_text())
    defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))]
    assert defs == []
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
               {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported <= {"os", "g1bench.space.settings", "g1bench.space.ui"}


def test_space_command_is_registered():
    from g1bench.cli import build_parser

    args = build_parser().parse_args(["space", "--port", "7999", "--runs-dir", "r", "--record-dir", "h"])
    assert (args.command, args.port, args.runs_dir, args.record_dir, args.host) == ("space", 7999, "r", "h", "127.0.0.1")
    assert (args.results, args.accept_local_submissions, args.deploy, args.with_wheel) == (None, False, None, False)
    args = build_parser().parse_args(["space", "--results", "org/results", "--accept-local-submissions", "--deploy",
                                      "org/space", "--with-wheel", "--private", "--results-repo", "org/results"])
    assert (args.results, args.accept_local_submissions, args.deploy, args.with_wheel, args.private,
            args.results_repo) == ("org/results", True, "org/space", True, True, "org/results")


def test_space_command_needs_both_model_settings(tmp_path, capsys):
    pytest.importorskip("gradio")
    from g1bench.cli import main

    env = {"G1BENCH_SPACE_WORK_DIR": str(tmp_path)}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert main(["space", "--base-url", "http://127.0.0.1:9/v1"]) == 2
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    assert "needs both --base-url and --model" in capsys.readouterr().err


def _serves(cmd: list[str], port: int, env: dict, timeout: float = 90.0) -> str:
    """Start ``cmd``, wait until the app answers on ``port``, return its /config, stop it."""
    import httpx

    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"exited {proc.returncode}: {proc.stdout.read()[-2000:]}")
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/config", timeout=2)
                if r.status_code == 200:
                    return r.text
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError("the app did not answer in time")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["app.py", "g1bench space"])
def test_runs_locally_offline_on_loopback(tmp_path, how):
    pytest.importorskip("gradio")
    from g1bench.space.testing import free_port

    port = free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", G1BENCH_SPACE_WORK_DIR=str(tmp_path / "w"),
               G1BENCH_SPACE_RUNS_DIR=str(tmp_path / "runs"), GRADIO_TEMP_DIR=str(tmp_path / "g"),
               G1BENCH_SPACE_RESULTS=str(tmp_path / "results"), G1BENCH_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("GRADIO_SERVER_NAME", None)
    if how == "app.py":
        env["GRADIO_SERVER_PORT"] = str(port)
        cmd = [sys.executable, str(SPACE / "app.py")]
    else:
        cmd = [sys.executable, "-c", "import sys; from g1bench.cli import main; sys.exit(main())", "space",
               "--port", str(port)]
    config = _serves(cmd, port, env)
    assert all(f'"{e}"' in config for e in ("play-new", "tab-about", "lb-table", "lb-paper", "submit-verify",
                                            "replay-entry"))

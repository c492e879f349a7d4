"""Helpers for testing and benchmarking the Space: a real app on 127.0.0.1 (in this process or a child
process), a small real run, zips.

Used by ``tests/test_space_*.py`` and ``benchmarks/space_load.py``; nothing here runs in the Space itself.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Iterator, Mapping

from .settings import SpaceSettings

#: the Debian browser the browser tests drive (never `playwright install`: it downloads one, offline fails)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(settings: SpaceSettings, port: int | None = None) -> Iterator[tuple[object, str]]:
    """The Space on 127.0.0.1 in this process, for the duration of the ``with`` block: (demo, url)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from .ui import build_app, launch_kwargs

    demo = build_app(settings)
    port = port or free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                        **launch_kwargs(settings))
    demo.g1bench.warmup.wait(120)  # tests deal the natural-image game at once: its tiles must be there
    try:
        yield demo, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


SERVER = r"""
import os, sys
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
from g1bench.space.settings import SpaceSettings
from g1bench.space.ui import build_app, launch_kwargs
settings = SpaceSettings.from_env()
demo = build_app(settings)
demo.queue().launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), prevent_thread_lock=True, quiet=True,
                    **launch_kwargs(settings))
demo.g1bench.warmup.wait(300)
if settings.preload_leaderboard:
    demo.g1bench.leaderboard.wait(600)
print("ready", flush=True)
sys.stdin.read()   # until the parent closes our stdin
demo.close()
"""


@contextlib.contextmanager
def serve_process(env: Mapping[str, str], port: int | None = None,
                  timeout: float = 300.0) -> Iterator[tuple[subprocess.Popen, str]]:
    """The Space in a child process, configured by ``env`` (``G1BENCH_SPACE_*`` variables, and ``HF_*`` ones set
    before huggingface_hub is imported, e.g. :func:`g1bench.testing.hub_env`): (process, url). Ready means the
    tiles are loaded and, unless ``G1BENCH_SPACE_PRELOAD=0``, the leaderboard is aggregated."""
    port = port or free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(env), text=True)
    err: list[str] = []
    drain = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)  # a full pipe would block it
    drain.start()
    try:
        ready = _readline(proc, timeout)
        if ready != "ready":
            raise RuntimeError(f"the Space did not start (exit {proc.poll()}): {''.join(err)[-2000:]}")
        yield proc, f"http://127.0.0.1:{port}/"
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    out: list[str] = []
    t = threading.Thread(target=lambda: out.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return out[0].strip() if out else ""


def make_run(out: str | os.PathLike, games: tuple[str, ...] = ("2048", "shisensho"), steps: int = 6,
             policy: str = "oracle") -> Path:
    """A real (small) evaluation run made by the runner: one episode per game, frames saved."""
    from ..eval.policies import get_policy
    from ..eval.runner import evaluate
    from ..eval.suites import custom_suite

    suite = custom_suite(list(games), "paper", episodes=1, steps=steps, seed=0, warmup=0)
    evaluate(suite, get_policy(policy), out, progress=False)
    return Path(out)


def zip_folder(folder: str | os.PathLike, zip_path: str | os.PathLike, prefix: str | None = None,
               skip: tuple[str, ...] = ()) -> Path:
    """Zip ``folder`` (its files under ``prefix/``, default the folder's name), leaving out the top-level
    entries named in ``skip`` (e.g. ``("frames",)``)."""
    folder, zip_path = Path(folder), Path(zip_path)
    prefix = folder.name if prefix is None else prefix
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and p.relative_to(folder).parts[0] not in skip:
                zf.write(p, f"{prefix}/{p.relative_to(folder)}" if prefix else str(p.relative_to(folder)))
    return zip_path


__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "free_port", "serve", "serve_process", "make_run", "zip_folder", "SERVER"]

"""`g1bench report --videos` speed: the 40 GIFs of a `paper` run, on 0..N worker processes (and threads).

    python benchmarks/report_videos.py [--policies random,oracle] [--workers 0,1,2] [--threads] [--legacy]

Each policy's `paper` run is made once (``g1bench eval --model P --suite paper``, frames saved) in a temporary
folder; then ``g1bench.eval.report.write_videos`` writes its 40 GIFs with each worker count, timed by wall
clock (worker start-up included) and CPU (this process plus its workers). ``--threads`` adds the same work on
a thread pool (Pillow's GIF writer holds the GIL for most of it); ``--legacy`` times the writer g1bench had
before (every step's PNG decoded again, RGB frames handed to Pillow one by one) for a before/after figure.
Target: the 40 GIFs in under 30 s on 2 cores. A random run repeats frames (failed moves change nothing);
the oracle's changes the board every step (4,000 distinct frames), the heavier case.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def cpu_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def legacy_write_videos(run_dir: Path, out: Path, fps: int = 4) -> int:
    """The writer before issue 8 (kept here only to measure against)."""
    from PIL import Image

    from g1bench.eval.runner import load_episodes

    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for e in load_episodes(run_dir):
        ids = [s["frame"] for s in e["steps"] if s.get("frame")]
        frames = [Image.open(run_dir / "frames" / f"{fid}.png").convert("RGB") for fid in ids]
        frames[0].save(out / f"{e['episode_id'].replace('/', '__')}.gif", save_all=True, append_images=frames[1:],
                       duration=int(1000 / fps), loop=0)
        n += 1
    return n


def threaded_write_videos(run_dir: Path, out: Path, workers: int) -> int:
    from g1bench.eval.gifs import write_gif
    from g1bench.eval.report import video_jobs

    out.mkdir(parents=True, exist_ok=True)
    jobs = video_jobs(run_dir, out)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda job: write_gif(run_dir / "frames", job[0], job[1], 250), jobs))
    return len(jobs)


def timed(fn) -> tuple[int, float, float]:
    c, t = cpu_seconds(), time.perf_counter()
    n = fn()
    return n, time.perf_counter() - t, cpu_seconds() - c


def main() -> None:
    from g1bench.eval.gifs import cores
    from g1bench.eval.report import write_videos

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policies", default="random,oracle")
    ap.add_argument("--workers", default="0,1,2", help="worker counts to time (0: in this process)")
    ap.add_argument("--threads", action="store_true", help="also time a 2-thread pool")
    ap.add_argument("--legacy", action="store_true", help="also time the writer before issue 8 (minutes)")
    args = ap.parse_args()
    print(f"cores available: {cores()} (os.cpu_count() = {os.cpu_count()})")
    print(f"{'run':<8} {'writer':<22} {'GIFs':>5} {'wall s':>8} {'cpu s':>8} {'MB':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for policy in args.policies.split(","):
            run = Path(tmp) / policy
            subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--model", policy, "--suite", "paper",
                            "-o", str(run), "--quiet"], check=True, stdout=subprocess.DEVNULL)
            frames = len(list((run / "frames").iterdir()))
            print(f"{policy:<8} ({frames} distinct frames)")
            cases = [(f"{w} worker process{'es' if w != 1 else ''}" if w else "in-process",
                      lambda w=w, out=Path(tmp) / f"{policy}-w{w}": len(write_videos(run, out, workers=w)),
                      Path(tmp) / f"{policy}-w{w}") for w in (int(x) for x in args.workers.split(","))]
            if args.threads:
                cases.append(("2 threads", lambda out=Path(tmp) / f"{policy}-t": threaded_write_videos(run, out, 2),
                              Path(tmp) / f"{policy}-t"))
            if args.legacy:
                cases.append(("before issue 8", lambda out=Path(tmp) / f"{policy}-old": legacy_write_videos(run, out),
                              Path(tmp) / f"{policy}-old"))
            for name, fn, out in cases:
                n, wall, cpu = timed(fn)
                size = sum(p.stat().st_size for p in out.glob("*.gif")) / 1e6
                print(f"{'':<8} {name:<22} {n:>5} {wall:>8.1f} {cpu:>8.1f} {size:>7.1f}")
                shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()

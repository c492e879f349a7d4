"""Episode GIFs from a run's stored frames, written on every core.

Turning a frame into a GIF frame is CPU work (palette quantisation), and Pillow's GIF writer holds the GIL
for most of it, so threads do not help (measured in ``benchmarks/report_videos.py``). The work goes to
worker *processes* started as ``python -m g1bench.eval.gifs`` (not through ``multiprocessing``, which
would re-run the caller's ``__main__`` when it starts a worker: a user's script without a main guard, or a
notebook, would break). Each worker gets its share of the episodes as JSON on stdin and prints one line per
GIF written, which drives the progress bar.

Each distinct frame is decoded and quantised once per episode: exactly (the games' flat-colour frames have
far fewer than 256 colours) or, for photos, with a fast octree. Each GIF is written to a temporary file and
renamed, so an interrupted report never leaves a half-written GIF.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

from ..core.files import atomic_path, read_bytes

#: largest frame file read back (g1bench's frames are well under 1 MB)
MAX_FRAME_BYTES = 32 * 1024 * 1024


class GifError(RuntimeError):
    """A GIF could not be written (a missing or unreadable frame, a folder that cannot be written)."""


def palette_frame(rgb: Any) -> Any:
    """A PIL RGB frame as a palette image: exact when it has at most 256 colours, else a fast octree."""
    from PIL import Image

    colors = rgb.getcolors(256)
    if colors is None:
        return rgb.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    flat = [v for _, c in colors for v in c]
    pal = Image.new("P", (1, 1))
    pal.putpalette(flat + [0] * (768 - len(flat)))
    return rgb.quantize(palette=pal, dither=Image.Dither.NONE)


def write_gif(frames_dir: str | os.PathLike, path: str | os.PathLike, ids: Sequence[str], duration_ms: int) -> str:
    """Write one GIF of the frames ``ids`` (``frames_dir/<id>.png``) to ``path`` (via a temporary file)."""
    from PIL import Image

    cache: dict[str, Any] = {}
    frames, durations = [], []
    for i, fid in enumerate(ids):
        if i and fid == ids[i - 1]:  # the same frame again (a failed move): show the last one longer
            durations[-1] += duration_ms
            continue
        im = cache.get(fid)
        if im is None:
            data = read_bytes(Path(frames_dir) / f"{fid}.png", limit=MAX_FRAME_BYTES)
            with Image.open(io.BytesIO(data)) as img:
                im = cache[fid] = palette_frame(img.convert("RGB"))
        frames.append(im)
        durations.append(duration_ms)
    with atomic_path(path) as tmp:
        # optimize=False: Pillow still stores each frame cropped to what changed, but skips making the unchanged
        # pixels inside that box transparent (pure-Python pixel work): 2.3x faster, GIFs ~20-35% larger
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                       optimize=False)
    return str(path)


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _say(e: BaseException) -> str:
    text = str(e) if str(e) else type(e).__name__
    if isinstance(e, OSError) and e.strerror:
        text = f"{e.filename}: {e.strerror}" if e.filename else e.strerror
    return " ".join(text.split())[:500]


def write_gifs(frames_dir: str | os.PathLike, jobs: Sequence[tuple[str, Sequence[str]]], duration_ms: int,
               workers: int | None = None, progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Write every GIF of ``jobs`` = (path, frame ids), on ``workers`` processes (default: one per core;
    0 or 1: in this process). ``progress(done, total)`` is called before the first GIF and after each.

    Raises:
        GifError: a GIF could not be written (the first failure; the other workers are stopped).
    """
    total = len(jobs)
    if progress is not None:
        progress(0, total)
    workers = min(cores(), total) if workers is None else min(workers, total)
    if workers <= 1:
        for done, (path, ids) in enumerate(jobs, 1):
            try:
                write_gif(frames_dir, path, ids, duration_ms)
            except Exception as e:  # noqa: BLE001 - one message for any failure, naming the file
                raise GifError(f"cannot write {path}: {_say(e)}") from None
            if progress is not None:
                progress(done, total)
        return [p for p, _ in jobs]
    return _on_workers(str(frames_dir), list(jobs), duration_ms, workers, progress)


def _on_workers(frames_dir: str, jobs: list, duration_ms: int, workers: int,
                progress: Callable[[int, int], None] | None) -> list[str]:
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])  # the folder holding the g1bench package
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    procs, errors, done = [], [], [0]
    lock = threading.Lock()

    def read(proc: subprocess.Popen) -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            kind, _, rest = line.rstrip("\n").partition(" ")
            with lock:
                if kind == "ok":
                    done[0] += 1
                    if progress is not None:
                        progress(done[0], len(jobs))
                elif kind == "error":
                    errors.append(rest)

    def drain(proc: subprocess.Popen, into: list) -> None:  # read stderr as it comes: a full pipe would block
        into.extend(proc.stderr)  # type: ignore[arg-type]

    readers, stderrs = [], []
    try:
        for w in range(workers):
            share = jobs[w::workers]
            proc = subprocess.Popen([sys.executable, "-m", "g1bench.eval.gifs"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            procs.append(proc)
            stderrs.append([])
            for target, args in ((read, (proc,)), (drain, (proc, stderrs[-1]))):
                t = threading.Thread(target=target, args=args, daemon=True)
                t.start()
                readers.append(t)
            proc.stdin.write(json.dumps({"frames_dir": frames_dir, "duration_ms": duration_ms, "jobs": share}))  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        for proc, err in zip(procs, stderrs):
            proc.wait()
        for t in readers:
            t.join()
        for proc, err in zip(procs, stderrs):
            if proc.returncode != 0 and not errors:
                last = [line.strip() for line in err if line.strip()]
                errors.append(f"a GIF worker failed: {last[-1] if last else f'exit status {proc.returncode}'}")
    finally:
        for proc in procs:  # Ctrl-C or an error: stop the other workers too, and remove their half-written GIFs
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for folder in {Path(p).parent for p, _ in jobs}:
                for tmp in folder.glob(f"*.{proc.pid}.tmp"):
                    tmp.unlink(missing_ok=True)
            for f in (proc.stdout, proc.stderr):
                if f is not None:
                    f.close()
    if errors:
        raise GifError(errors[0])
    return [p for p, _ in jobs]


def _worker() -> int:
    """``python -m g1bench.eval.gifs``: write the GIFs described on stdin, one line per GIF on stdout."""
    task = json.loads(sys.stdin.read())
    for path, ids in task["jobs"]:
        try:
            write_gif(task["frames_dir"], path, ids, int(task["duration_ms"]))
        except Exception as e:  # noqa: BLE001 - reported to the parent as one line
            print(f"error cannot write {path}: {_say(e)}", flush=True)
            return 1
        print(f"ok {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_worker())


__all__ = ["GifError", "MAX_FRAME_BYTES", "cores", "palette_frame", "write_gif", "write_gifs"]

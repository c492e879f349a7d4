"""A run directory: the one writer and the one reader of an evaluation run's files.

::

    run.json        what was run: suite, policy, options, shard and the command's settings (atomic, once)
    steps.jsonl     the step log: one JSON object per answered step, appended and fsynced once per round
    frames/<id>.png every distinct frame once, named by its render inputs (written by a background thread)
    results.json    the summary (schema in :mod:`g1bench.eval.results`), written atomically at the end
    .lock           held (flock) by the one process writing the run; it names that process

The step log is the run's ground truth: every figure of ``results.json`` is recomputed from it by
``g1bench verify``, and ``--resume`` rebuilds every unfinished episode from it, so no answer a policy gave
is ever asked for again. A kill can only tear the last line, which the next resume cuts off. It holds one
record per answered (episode, step); the writer and the reader agree on how long a line may be
(:data:`MAX_LINE_BYTES`: a record's answer and backend details are bounded by :mod:`g1bench.eval.steps`),
so every log the writer writes, the reader reads.

A kill while a run directory is being created can leave a folder with no run in it yet (the lock file,
an empty ``frames/``, a temporary file): ``eval`` and ``eval --resume`` both start the run there.

Run directories of g1bench 0.1 (``episodes.jsonl``, one line per finished episode with its steps) are
still read; resuming one moves its finished episodes into a step log first.
"""

from __future__ import annotations

import errno
import json
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from ..core.files import FileFormatError, check_regular, clean_text, loads, read_json, write_atomic
from ..render.png import encode_png
from .steps import record_problem

RUN_FORMAT = "g1bench-run/2"
STEPS_FILE = "steps.jsonl"
LEGACY_EPISODES_FILE = "episodes.jsonl"
#: the longest step-log line accepted and written (a real one is a few KB; a record's answer is at most
#: steps.MAX_ANSWER_BYTES and its backend details steps.MAX_EXTRA_BYTES of JSON, so every record fits)
MAX_LINE_BYTES = 16 * 1024 * 1024
#: keys every step-log line has
STEP_KEYS = ("episode_id", "step")
#: the lock file a writing process holds, so two resumes of one run cannot both append to its step log
LOCK_FILE = ".lock"

try:
    import fcntl
except ImportError:  # not POSIX: runs are not locked
    fcntl = None


class RunError(RuntimeError):
    """The run directory cannot be used as asked (not empty, another suite, corrupt, unwritable)."""


class ReplayError(RunError):
    """A recorded step does not replay (an edited log, or other game rules): resuming again cannot help."""


def _oserror(path: Path, e: OSError, doing: str) -> RunError:
    return RunError(f"cannot {doing} {path}: {e.strerror or e}")


class RunDir:
    """The files of one run: crash-safe appends, frames written off the stepping thread, resume."""

    MAX_BACKLOG = 32

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.frames = self.path / "frames"
        self.run_json = self.path / "run.json"
        self.steps_file = self.path / STEPS_FILE
        self.results_file = self.path / "results.json"
        self._saved_frames: set[str] = set()
        self._writer: ThreadPoolExecutor | None = None
        self._backlog: deque[tuple[str, Future]] = deque()
        self._pending: dict[str, Future] = {}
        self._log = None
        self._syncer: ThreadPoolExecutor | None = None
        self._sync: Future | None = None
        self._lock = None

    # -- opening -------------------------------------------------------------------------------------
    def prepare(self, meta: dict[str, Any], resume: bool) -> dict[str, list[dict[str, Any]]]:
        """Create the directory (or reopen it with ``resume``); returns the recorded steps per episode id.

        Raises:
            RunError: the path is not a usable folder, holds another run, or cannot be written.
        """
        p = self.path
        try:
            exists, is_dir = p.exists(), p.is_dir()
        except OSError as e:  # a name too long, a path through a file, ...
            raise _oserror(p, e, "create the run directory") from None
        if exists and not is_dir:
            raise RunError(f"{p} is a file, not a folder; choose another --output-dir")
        if is_dir and _non_empty(p) and not holds_no_run(p):
            if not resume:
                raise RunError(f"{p} is not empty; pass --resume to continue that run or choose another --output-dir")
            old = read_run_json(p)
            check_same_run(old, meta, p)
            meta["start_time"] = old.get("start_time") or meta.get("start_time")  # the run began then, not now
            self._take_lock()
            try:
                try:
                    self.frames.mkdir(exist_ok=True)
                except OSError as e:
                    raise _oserror(self.frames, e, "create") from None
                self._saved_frames = {q.stem for q in self.frames.glob("*.png")}
                self._adopt_legacy()
                steps = self._read_and_trim()
                self._open_log()
            except BaseException:
                self.unlock()
                raise
            return steps
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _oserror(p, e, "create the run directory") from None
        self._take_lock()
        try:
            if _non_empty(p) and not holds_no_run(p):  # another process started a run here since the check above
                raise RunError(f"{p} is not empty; pass --resume to continue that run or choose another --output-dir")
            try:
                self.frames.mkdir(exist_ok=True)
                write_atomic(self.run_json, meta)
            except OSError as e:
                raise _oserror(p, e, "create the run directory") from None
            self._open_log()
        except BaseException:
            self.unlock()
            raise
        return {}

    def _take_lock(self) -> None:
        """Hold the run's lock file (an exclusive flock) until :meth:`unlock`; RunError naming the other
        process if one holds it. Without it, two resumes of one run would both append to its step log."""
        if fcntl is None:
            return
        path = self.path / LOCK_FILE
        try:
            f = open(path, "a+b")
        except OSError as e:
            raise _oserror(path, e, "open the lock file") from None
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                f.close()  # a filesystem without locks (ENOLCK, EOPNOTSUPP): run unlocked, as before
                return
            f.seek(0)
            holder = f.read(200).decode(errors="replace").strip()
            f.close()
            who = f"process {holder}" if holder.isdigit() else "another process"
            raise RunError(f"{self.path} is in use by {who} (another g1bench eval or --resume of this run); "
                           "wait for it to finish or stop it, then resume") from None
        try:
            f.truncate(0)
            f.write(f"{os.getpid()}\n".encode())
            f.flush()
        except OSError:
            pass  # the pid is only for the message above; the lock holds without it
        self._lock = f

    def unlock(self) -> None:
        """Release the run's lock (after the last write of this process to the run)."""
        if self._lock is not None:
            self._lock.close()  # closing the file releases the flock
            self._lock = None

    def _open_log(self) -> None:
        try:
            self._log = open(self.steps_file, "ab")
        except OSError as e:
            raise _oserror(self.steps_file, e, "open") from None

    def _read_and_trim(self) -> dict[str, list[dict[str, Any]]]:
        if not self.steps_file.exists():
            return {}
        steps, good_end = read_steps_file(self.steps_file)
        if good_end < self.steps_file.stat().st_size:  # a torn last line from a kill: cut it off
            try:
                with open(self.steps_file, "r+b") as f:
                    f.truncate(good_end)
            except OSError as e:
                raise _oserror(self.steps_file, e, "repair") from None
        return steps

    def _adopt_legacy(self) -> None:
        """A g1bench 0.1 run: write the steps of its finished episodes into a step log once."""
        legacy = self.path / LEGACY_EPISODES_FILE
        if self.steps_file.exists() or not legacy.exists():
            return
        episodes, _ = read_legacy_episodes(legacy)
        lines = [_line({"episode_id": e["episode_id"], **s}) for e in episodes for s in e["steps"]]
        try:
            write_atomic(self.steps_file, None, text=b"".join(lines).decode())
        except OSError as e:
            raise _oserror(self.steps_file, e, "write") from None

    # -- writing -------------------------------------------------------------------------------------
    def append_steps(self, records: Iterable[dict[str, Any]]) -> int:
        """Append one round's step records in one write; returns how many were written.

        The write reaches the OS before this returns, so a killed process loses none of it. The fsync that
        makes it survive a power cut runs on a background thread while the next round's answers are
        computed; the next append waits for it, so at most the latest round is not yet on the disk.
        """
        data = b"".join(_line(r) for r in records)
        if not data:
            return 0
        self._wait_sync()
        try:
            self._log.write(data)
            self._log.flush()
        except OSError as e:
            raise _oserror(self.steps_file, e, "write") from None
        if self._syncer is None:
            self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="g1bench-fsync")
        self._sync = self._syncer.submit(os.fsync, self._log.fileno())
        return data.count(b"\n")

    def _wait_sync(self) -> None:
        if self._sync is not None:
            sync, self._sync = self._sync, None
            try:
                sync.result()
            except OSError as e:
                raise _oserror(self.steps_file, e, "write") from None

    @property
    def saved_frames(self) -> frozenset[str]:
        """The ids of the frames stored (or being stored) in ``frames/``."""
        return frozenset(self._saved_frames)

    def save_frame(self, frame: np.ndarray, fid: str) -> None:
        """Store a frame once under its id (PNG, written by a background thread with bounded backlog)."""
        if fid in self._saved_frames:
            return
        self._saved_frames.add(fid)
        if self._writer is None:
            # file writes are slow on some filesystems: keep them off the stepping thread
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="g1bench-frames")
        while len(self._backlog) >= self.MAX_BACKLOG:  # backpressure keeps memory flat
            done_id, done = self._backlog.popleft()
            self._result(done)
            self._pending.pop(done_id, None)
        self._backlog.append((fid, self._writer.submit(self._write_png, frame, fid)))

    def _result(self, future: Future) -> None:
        try:
            future.result()
        except OSError as e:
            raise _oserror(self.frames, e, "write a frame in") from None

    def _write_png(self, frame: np.ndarray, fid: str) -> None:
        tmp = self.frames / f".{fid}.png.tmp"
        tmp.write_bytes(encode_png(frame))
        os.replace(tmp, self.frames / f"{fid}.png")

    def write_results(self, results: dict[str, Any]) -> dict[str, Any]:
        """Write ``results.json`` atomically and return what the file holds. A file that differs from
        ``results`` only in when and where it was written (end time, hardware) is kept as it is: a resume
        that adds nothing leaves the run byte for byte the same (so it is not a new leaderboard entry)."""
        try:
            old = read_json(self.results_file) if self.results_file.is_file() else None
        except FileFormatError:
            old = None
        if isinstance(old, dict) and _without_when(old) == _without_when(results):
            return old
        try:
            write_atomic(self.results_file, results)
        except OSError as e:
            raise _oserror(self.results_file, e, "write") from None
        return results

    def close(self) -> None:
        """Wait for pending frame writes and close the step log (raises RunError if a write failed)."""
        error = None
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
            for _, f in self._backlog:
                if f.exception() is not None and error is None:
                    error = f.exception()
            self._backlog.clear()
        if self._log is not None:
            try:
                self._wait_sync()
            finally:
                if self._syncer is not None:
                    self._syncer.shutdown(wait=True)
                    self._syncer = None
                self._log.close()
                self._log = None
        if error is not None:
            raise _oserror(self.frames, error, "write a frame in")


def _without_when(results: Mapping[str, Any]) -> dict[str, Any]:
    """``results`` without the fields that say when and where it was written."""
    prov = results.get("provenance")
    if not isinstance(prov, dict):
        return dict(results)
    return {**results, "provenance": {k: v for k, v in prov.items() if k not in ("end_time", "hardware")}}


def _non_empty(p: Path) -> bool:
    try:
        return any(q.name != LOCK_FILE for q in p.iterdir())
    except OSError as e:
        raise _oserror(p, e, "read") from None


def holds_no_run(p: Path) -> bool:
    """Whether a folder holds no run yet: nothing but the lock file, temporary files and an empty ``frames/``
    (what a kill while :meth:`RunDir.prepare` created the run leaves; ``run.json`` is its first real file)."""
    try:
        for q in p.iterdir():
            if q.name == LOCK_FILE or (q.name.startswith(".") and q.name.endswith(".tmp") and q.is_file()):
                continue
            if q.name == "frames" and q.is_dir() and not any(q.iterdir()):
                continue
            return False
    except OSError as e:
        raise _oserror(p, e, "read") from None
    return True


def _line(record: Mapping[str, Any]) -> bytes:
    line = (json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n").encode()
    if len(line) > MAX_LINE_BYTES:  # cannot happen with play_answer's bounds; never write what the reader refuses
        raise RunError(f"a step record of {len(line):,} bytes is longer than a step-log line may be "
                       f"({MAX_LINE_BYTES:,} bytes); not written")
    return line


# -- reading ------------------------------------------------------------------------------------------
def read_run_json(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The run's ``run.json`` as a dict (RunError when missing or malformed)."""
    p = Path(run_dir) / "run.json"
    if not p.exists():
        raise RunError(f"{run_dir} has no run.json: not a g1bench run directory")
    try:
        data = read_json(p)
    except FileFormatError as e:
        raise RunError(f"{e}; not a usable run directory") from None
    if not isinstance(data, dict) or not isinstance(data.get("suite"), dict) or not isinstance(data.get("policy"), dict):
        raise RunError(f"{p}: not a g1bench run.json (it needs the 'suite' and 'policy' objects)")
    for key in ("options", "command"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise RunError(f"{p}: '{key}' must be an object, got {type(data[key]).__name__}; not a usable run.json")
    shard = data.get("shard")
    if shard is not None and not (isinstance(shard, dict) and all(
            isinstance(shard.get(k), int) and not isinstance(shard.get(k), bool) for k in ("index", "count"))
            and 0 <= shard["index"] < shard["count"]):
        raise RunError(f"{p}: 'shard' must be null or {{\"index\": I, \"count\": N}} with 0 <= I < N, got {shard!r}")
    return data


def check_same_run(old: Mapping[str, Any], new: Mapping[str, Any], where: Path) -> None:
    """Refuse to resume ``old`` with settings that would make another run."""
    o, n = old.get("suite", {}), new["suite"]
    if o.get("hash") != n["hash"]:
        raise RunError(f"{where} holds suite {o.get('suite_id')} (hash {o.get('hash')}), not {n['suite_id']} "
                       f"(hash {n['hash']}); resume needs the same suite")
    if [e.to_dict() for e in run_suite(old).episodes] != n["episodes"]:  # the hash alone can be copied
        raise RunError(f"{where}/run.json: its suite's episodes differ from {n['suite_id']}'s under the same hash "
                       "(the file was edited); cannot resume this run")
    if old.get("policy") != new["policy"]:
        raise RunError(f"{where} was run with policy {old.get('policy')}, not {new['policy']}; "
                       "resume needs the same policy settings")
    if (old.get("shard") or None) != (new.get("shard") or None):
        raise RunError(f"{where} is shard {old.get('shard')}, not {new.get('shard')}; resume needs the same --shard")
    if old.get("options", {}).get("save_frames", True) != new.get("options", {}).get("save_frames", True):
        raise RunError(f"{where} was run {'with' if old['options'].get('save_frames', True) else 'without'} frames; "
                       "resume needs the same --no-frames setting")


def _iter_lines(path: Path):
    """(line number, line bytes, end offset) of every newline-terminated line, then the torn tail if any."""
    check_regular(path)
    n, offset = 0, 0
    with open(path, "rb") as f:
        while True:
            line = f.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            n += 1
            if len(line) > MAX_LINE_BYTES:
                raise RunError(f"{path}:{n}: a line longer than {MAX_LINE_BYTES:,} bytes; not a g1bench step log")
            if not line.endswith(b"\n"):
                return  # a torn last line: not returned, not counted as good
            offset += len(line)
            yield n, line, offset


def _json_lines(path: Path, good: list[int]):
    """(line number, parsed object) of every complete, non-blank line; ``good[0]`` ends as the byte length
    of the complete lines (a torn last line is not counted). A line that is not JSON, a special file or a
    read error become a :class:`RunError`."""
    try:
        for n, line, end in _iter_lines(path):
            good[0] = end
            if not line.strip():
                continue
            try:
                yield n, loads(line, where=f"{path}:{n}")
            except FileFormatError as e:
                raise RunError(f"{e}; fix or remove that line") from None
    except FileFormatError as e:
        raise RunError(str(e)) from None
    except OSError as e:
        raise _oserror(path, e, "read") from None


def read_steps_file(path: str | os.PathLike, bounds: Mapping[str, int] | None = None
                    ) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """The step records of a step log per episode id (in step order) and the byte length of its good lines.

    A torn last line (a kill mid-write) is left out. With ``bounds`` (``{episode id: its steps}``, the suite's),
    reading stops at the first record of an episode the suite lacks or past an episode's steps, so a log is
    never read further than its suite can have written.

    Raises:
        RunError: a complete line that is not a JSON object with ``episode_id`` and ``step``, a second record of
            an (episode, step), a step that skips ahead of the ones recorded for its episode, or one out of bounds.
    """
    path = Path(path)
    out: dict[str, list[dict[str, Any]]] = {}
    good = [0]
    for n, rec in _json_lines(path, good):
        if not isinstance(rec, dict) or not isinstance(rec.get("episode_id"), str) or \
                isinstance(rec.get("step"), bool) or not isinstance(rec.get("step"), int):
            raise RunError(f"{path}:{n}: a step record is a JSON object with 'episode_id' (text) and 'step' (integer)")
        eid, k = rec["episode_id"], rec["step"]
        where = f"{path}:{n}: {clean_text(eid[:80], keep_newlines=False)} step {k}"
        if bounds is not None and eid not in bounds:
            raise RunError(f"{where}: not an episode of this run's suite")
        if bounds is not None and k >= bounds[eid]:
            raise RunError(f"{where}: beyond the {bounds[eid]} steps its suite gives this episode")
        problem = record_problem(rec)
        if problem is not None:
            raise RunError(f"{where}: {problem}")
        steps = out.setdefault(eid, [])
        if k < len(steps):
            raise RunError(f"{where}: a second record of this step (a step log holds one record per answered step)")
        if k != len(steps):
            raise RunError(f"{path}:{n}: step {k} of {rec['episode_id']} follows step {len(steps) - 1}; "
                           "the step log has a gap")
        steps.append(rec)
    return out, good[0]


def read_legacy_episodes(path: str | os.PathLike) -> tuple[list[dict[str, Any]], int]:
    """The finished episodes of a g1bench 0.1 ``episodes.jsonl`` (one line per episode with its steps)."""
    path = Path(path)
    records, seen, good = [], set(), [0]
    for n, rec in _json_lines(path, good):
        if not isinstance(rec, dict):
            raise RunError(f"{path}:{n}: an episode record is a JSON object, got {type(rec).__name__}")
        missing = [k for k in ("episode_id", "game", "difficulty", "seed", "steps") if k not in rec]
        if missing or not isinstance(rec.get("steps"), list) or not all(isinstance(s, dict) for s in rec["steps"]):
            raise RunError(f"{path}:{n}: an episode record needs {missing or ['steps (a list of objects)']}")
        if rec["episode_id"] in seen:
            continue
        seen.add(rec["episode_id"])
        for i, s in enumerate(rec["steps"]):
            s.setdefault("step", i)
        records.append(rec)
    return records, good[0]


def episode_record(spec: Any, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """A finished episode as readers see it: its spec, score, games played and steps."""
    from .metrics import episode_score

    pinned = {"pinned": dict(spec.pinned)} if spec.pinned else {}  # an older suite version's knobs (paper-v2)
    return {**spec.to_dict(), **pinned, "episode_id": spec.episode_id, "score": episode_score(spec.game, steps),
            "games_played": 1 + max((int(s.get("game_index") or 0) for s in steps), default=0), "steps": steps}


def run_suite(run: Mapping[str, Any]):
    """The suite a ``run.json`` records (RunError when it is malformed)."""
    from .suites import Suite, resolve_recorded

    try:
        return resolve_recorded(Suite.from_dict(run["suite"]))
    except (KeyError, TypeError, ValueError) as e:
        raise RunError(f"run.json: the suite record is malformed ({type(e).__name__}: {e})") from None


def load_episodes(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The finished episodes of a run directory, in suite order (each with its ``steps``).

    Raises:
        RunError: not a run directory, or a corrupt step log.
    """
    run_dir = Path(run_dir)
    if run_dir.is_file():
        raise RunError(f"{run_dir} is a file; give the run directory that holds it")
    steps_file = run_dir / STEPS_FILE
    if not steps_file.exists():
        legacy = run_dir / LEGACY_EPISODES_FILE
        if legacy.exists():
            return read_legacy_episodes(legacy)[0]
        raise RunError(f"{run_dir}: no {STEPS_FILE} — not a g1bench run directory")
    suite = run_suite(read_run_json(run_dir))
    steps, _ = read_steps_file(steps_file)
    out = []
    for spec in suite.episodes:
        recorded = steps.get(spec.episode_id, [])
        if len(recorded) >= spec.steps:
            out.append(episode_record(spec, recorded[: spec.steps]))
    return out


__all__ = ["RunDir", "RunError", "ReplayError", "RUN_FORMAT", "STEPS_FILE", "LOCK_FILE", "MAX_LINE_BYTES", "holds_no_run",
           "read_run_json", "read_steps_file",
           "read_legacy_episodes", "load_episodes", "episode_record", "run_suite", "check_same_run"]

"""Verification under a budget, in a process of its own: no run or entry can hang, exhaust or crash its caller.

A run directory (``g1bench verify``, ``g1bench push``, the Space's Submit) or a store entry (``g1bench
leaderboard``) is verified by a verifier process (``python -m g1bench.leaderboard.isolation``), never by
the caller. For each job the verifier first reads only ``run.json`` and turns its suite's declared work into
a :class:`~g1bench.eval.budget.Budget` (wall time and memory, see :mod:`g1bench.eval.budget`), refusing by
arithmetic what no budget covers; it tells the caller that budget, then verifies under it:

* memory: the verifier caps its own address space at its footprint plus the budget (``RLIMIT_AS``); an
  allocation past it fails and the job is refused as over its memory budget;
* time: the caller waits for the verdict at most the budget's seconds, then kills the verifier and refuses
  the job as over its time budget (a killed verifier is replaced for the next job);
* a verifier that dies (a signal, a crash in a library) costs only the job it was on.

Each refusal names the budget and what it was derived from. :func:`verify_under_budget` verifies one run
directory in a fresh process (thread-safe: every call has its own process, so a server may verify several
submissions at once); :class:`VerifierPool` keeps a few verifier processes busy with many jobs one at a time
each (the aggregator's entries), so process start-up is paid once per process, not per entry.
"""

from __future__ import annotations

import json
import os
import queue
import selectors
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..eval.budget import DEFAULT, MAX_SECONDS, Budget
from ..eval.verify import Verification

#: how long a verifier process may take to start (imports) before it is given up
START_SECONDS = 120.0
#: environment of a verifier process: one thread per library (the budget is per process, and threads each
#: reserve address space)
_THREADS = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")}


class VerifierError(RuntimeError):
    """No verifier process could be started (the message says why); nothing about any run or entry."""


# -- what crosses the pipe --------------------------------------------------------------------------------
def verification_to_data(v: Verification) -> dict[str, Any]:
    """A :class:`Verification` as plain JSON data (everything, including the run and results read)."""
    return v.to_data()


def verification_from_data(d: dict[str, Any]) -> Verification:
    return Verification.from_data(d)


@dataclass
class JobResult:
    """What one job gave: its ``result`` (a verdict or a verification as data), the ``budget`` it ran under,
    ``seconds`` of wall time and the verifier's ``peak_rss_mb`` during it (None when it was killed)."""

    result: dict[str, Any]
    budget: Budget
    seconds: float
    peak_rss_mb: float | None = None
    over_budget: str | None = None
    #: CPU seconds the verifier spent on the job (what a machine's load does not inflate)
    cpu_seconds: float | None = None


class _Worker:
    """One verifier process and the line protocol over its pipes."""

    def __init__(self, env: dict[str, str]):
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "g1bench.leaderboard.isolation"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        except OSError as e:
            raise VerifierError(f"cannot start a verifier process ({sys.executable}): {e.strerror or e}") from None
        self.buf = b""
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)
        line = self.read(time.monotonic() + START_SECONDS)
        if line is None or line.get("ready") is not True:
            why = self.ended()
            self.kill()
            raise VerifierError(f"a verifier process did not start ({why}); try `{sys.executable} -m "
                                "g1bench.leaderboard.isolation` to see why")

    def send(self, job: dict[str, Any]) -> bool:
        try:
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def read(self, deadline: float) -> dict[str, Any] | None:
        """The next protocol line, or None at the deadline or when the process ended."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sel.select(timeout=left):
                if time.monotonic() >= deadline:
                    return None
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return None

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()
        self.close()

    def close(self) -> None:
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self.sel.close()

    def stop(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.close()

    def ended(self) -> str:
        rc = self.proc.poll()
        if rc is None:
            return "did not answer"
        return f"ended with signal {-rc}" if rc < 0 else f"ended with exit status {rc}"


def _env() -> dict[str, str]:
    import g1bench

    env = {**os.environ, **_THREADS, "PYTHONWARNINGS": "ignore"}
    root = str(Path(g1bench.__file__).resolve().parent.parent)  # the same g1bench, installed or not
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _refusal(job: dict[str, Any], reason: str, **fields: Any) -> dict[str, Any]:
    """The result of a job stopped before or during its verification: a failed verdict or verification naming
    the reason (``fields``: what is known of the run, e.g. its suite)."""
    if job["kind"] == "entry":
        from .verdict import failed_verdict

        return failed_verdict(reason)
    v = Verification(job.get("shown") or job["run_dir"], problems=[reason], **fields)
    return verification_to_data(v)


class VerifierPool:
    """A few verifier processes verifying jobs one at a time each, every job under its own budget.

    Args:
        workers: processes (each verifies one job at a time; a killed one is replaced).
        budget: a budget for every job instead of the one derived from its suite (tests, tight servers).
    """

    def __init__(self, workers: int = 1, budget: Budget | None = None):
        self.workers = max(1, int(workers))
        self.budget = budget
        self.env = _env()
        #: per job: seconds and peak memory, for the aggregator's statistics
        self.stats: list[dict[str, Any]] = []

    def run(self, jobs: list[dict[str, Any]], on_result: Callable[[int, JobResult], None] | None = None) -> list[JobResult]:
        """Results of ``jobs`` in order. A job is ``{"kind": "entry", "entry_id", "paths", "key"}`` (a store
        entry: its verdict) or ``{"kind": "run", "run_dir", "check_frames", "builtin_only"}`` (a verification)."""
        results: list[JobResult | None] = [None] * len(jobs)
        todo: queue.Queue = queue.Queue()
        for i, job in enumerate(jobs):
            todo.put(i)
        errors: list[BaseException] = []

        def serve() -> None:
            worker: _Worker | None = None
            try:
                while True:
                    try:
                        i = todo.get_nowait()
                    except queue.Empty:
                        return
                    if worker is None:
                        worker = _Worker(self.env)
                    try:
                        res, alive = self._one(worker, jobs[i])
                    except Exception as e:  # noqa: BLE001 - whatever one job does costs only that job
                        why = f"could not be checked ({type(e).__name__}: {str(e)[:200]})"
                        res, alive = JobResult(_refusal(jobs[i], why), DEFAULT, 0.0, None, why), False
                    if not alive:
                        worker.kill()
                        worker = None
                    results[i] = res
                    if on_result is not None:
                        on_result(i, res)
            except BaseException as e:  # noqa: BLE001 - reported to the caller below
                errors.append(e)
            finally:
                if worker is not None:
                    worker.stop()

        threads = [threading.Thread(target=serve, name=f"g1bench-verifier-{k}", daemon=True)
                   for k in range(min(self.workers, len(jobs)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        self.stats += [{"seconds": r.seconds, "peak_rss_mb": r.peak_rss_mb} for r in results if r is not None]
        return results  # type: ignore[return-value]

    def _one(self, worker: _Worker, job: dict[str, Any]) -> tuple[JobResult, bool]:
        """Run one job on ``worker``; returns its result and whether the worker may take another job."""
        t0 = time.monotonic()
        payload = dict(job)
        if self.budget is not None:
            payload["budget"] = self.budget.to_dict()
        if not worker.send(payload):
            return JobResult(_refusal(job, f"its verifier process {worker.ended()} before the job started"),
                             DEFAULT, 0.0), False
        first = worker.read(t0 + (self.budget or DEFAULT).seconds)
        if first is None or "budget" not in first:
            why = ("over its budget: reading its run.json took more than "
                   f"{(self.budget or DEFAULT).seconds:,.0f} s") if worker.proc.poll() is None else \
                f"its verifier process {worker.ended()} while reading its run.json"
            return JobResult(_refusal(job, why), self.budget or DEFAULT, time.monotonic() - t0, None, why), False
        try:
            budget = Budget.from_dict(first["budget"])
        except (KeyError, TypeError, ValueError):
            budget = DEFAULT
        done = worker.read(t0 + min(budget.seconds, MAX_SECONDS))
        seconds = time.monotonic() - t0
        if done is None or "result" not in done:
            if worker.proc.poll() is None:
                why = f"over its budget: verifying it took more than {budget.seconds:,.0f} s ({budget.basis}); stopped"
            else:
                why = (f"its verifier process {worker.ended()} while verifying it (a budget of "
                       f"{budget.memory_mb:,.0f} MB of memory, {budget.basis})")
            return JobResult(_refusal(job, why), budget, seconds, None, why), False
        return (JobResult(done["result"], budget, seconds, done.get("peak_rss_mb"), done.get("over_budget"),
                          done.get("cpu_s")), not done.get("restart", False))


def verify_under_budget(run_dir: str | os.PathLike, *, check_frames: bool = False, builtin_only: bool = False,
                        budget: Budget | None = None, shown: str | None = None) -> Verification:
    """Verify one run directory in a process of its own under the budget of its suite.

    Args:
        run_dir: the run directory (``run.json``, ``results.json``, ``steps.jsonl``).
        check_frames: also re-render every step to check its frame id (a larger budget: frames cost time).
        builtin_only: refuse a run of a custom suite before replaying it (what the leaderboard takes).
        budget: verify under this :class:`~g1bench.eval.budget.Budget` instead of the one derived from the suite.
        shown: the name of the run in messages (default ``run_dir``).

    Returns:
        the :class:`~g1bench.eval.verify.Verification`; a run over its budget (time or memory), or whose verifier
        process died, is a Verification that is not ok, whose first problem says so and names the budget.

    Thread-safe: every call starts its own verifier process (about a second of start-up).
    """
    job = {"kind": "run", "run_dir": os.fspath(run_dir), "check_frames": bool(check_frames),
           "builtin_only": bool(builtin_only), "shown": shown}
    res = VerifierPool(1, budget).run([job])[0]
    v = verification_from_data(res.result)
    v.run_dir = shown or os.fspath(run_dir)
    return v


# -- the verifier process -----------------------------------------------------------------------------------
def _vm_kb(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _limit_memory(extra_mb: float | None) -> None:
    """Cap this process's address space at its size now plus ``extra_mb`` (None: lift the cap)."""
    try:
        import resource
    except ImportError:  # not POSIX: no memory cap (the time budget still holds)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if extra_mb is None:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        return
    now = _vm_kb("VmSize")
    if now is None:
        return
    cap = now * 1024 + int(extra_mb * 2 ** 20)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM: the peak is per job
    except OSError:
        pass


def _plan(job: dict[str, Any]) -> tuple[Budget, dict[str, Any] | None]:
    """A job's budget from its run.json alone, and its result when it is refused without replay."""
    from ..eval.budget import budget_for, log_problem, suite_work, work_problem
    from ..eval.suites import SUITES
    from .verdict import custom_suite_reason

    if job["kind"] == "entry":
        from ..core.files import FileFormatError, loads
        from .entry import MAX_JSON_BYTES, RUN_FILE, STEPS_FILE, read_sized

        paths = job.get("paths") or {}  # an entry's files
        try:
            run = loads(read_sized(paths[RUN_FILE], MAX_JSON_BYTES), where=RUN_FILE)
            size = os.stat(paths[STEPS_FILE]).st_size
        except (KeyError, OSError, FileFormatError):
            return DEFAULT, None  # the check says what is wrong
        frames = False
    else:
        from ..eval.rundir import STEPS_FILE as LOG, RunError, read_run_json

        run_dir = Path(job["run_dir"])
        try:
            run = read_run_json(run_dir)
            size = (run_dir / LOG).stat().st_size if (run_dir / LOG).is_file() else 0
        except (RunError, OSError):
            return DEFAULT, None  # the verification says what is wrong
        frames = bool(job.get("check_frames")) and bool((run.get("options") or {}).get("save_frames", True))
    suite = run.get("suite") if isinstance(run, dict) else None
    work = suite_work(suite)
    policy = run.get("policy") if isinstance(run, dict) else None
    budget = Budget.from_dict(job["budget"]) if job.get("budget") else budget_for(work, frames=frames, policy=policy,
                                                                                  log_bytes=size)
    shown = job.get("shown") or job.get("run_dir") or job.get("entry_id")
    if work is not None and (job["kind"] == "entry" or job.get("builtin_only")) and suite.get("name") not in SUITES:
        where = "the entry" if job["kind"] == "entry" else shown
        return budget, _refusal(job, custom_suite_reason(where, work.suite_id), suite_id=work.suite_id,
                                suite_kind="custom")
    problem = work_problem(work, frames=frames, policy=policy) or log_problem(work, size, "its step log")
    if problem is None:
        return budget, None
    return budget, _refusal(job, problem if job["kind"] == "entry" else f"run.json: {problem}")


def _run_job(job: dict[str, Any]) -> dict[str, Any]:
    if job["kind"] == "entry":
        from .verdict import check_entry_paths

        return check_entry_paths(job["entry_id"], job["paths"], job.get("key"))
    if job["kind"] == "push":
        from .verdict import check_run_entry

        return check_run_entry(job)
    from ..eval.verify import verify_run

    v = verify_run(job["run_dir"], check_frames=bool(job.get("check_frames")))
    return verification_to_data(v)


def _serve() -> None:
    """The verifier process: JSON jobs on stdin, one per line; on stdout, per job, its budget then its result."""
    import warnings

    warnings.simplefilter("ignore")
    out = os.fdopen(os.dup(1), "w", buffering=1)  # the protocol's own channel: whatever a library prints goes to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import importlib

    import pyarrow

    # everything a job loads is loaded before any job runs under a memory cap (mapping a library under the cap
    # could fail as an ImportError rather than a MemoryError)
    for name in ("pyarrow.parquet", "pyarrow.fs", "numpy.ma", "ssl", "shlex", "importlib.resources", "confusables",
                 "g1bench.eval.verify", "g1bench.eval.runner", "g1bench.eval.policies", "g1bench.leaderboard.verdict",
                 "g1bench.leaderboard.entry", "g1bench.leaderboard.identity", "g1bench.leaderboard.provenance"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    try:
        from PIL import Image

        Image.init()  # its format plugins, loaded on the first image otherwise
    except ImportError:
        pass

    try:
        pyarrow.set_cpu_count(1)
        pyarrow.set_io_thread_count(1)
    except Exception:  # noqa: BLE001 - an older pyarrow: its default pools
        pass

    def send(data: dict[str, Any]) -> None:
        out.write(json.dumps(data, allow_nan=False) + "\n")

    send({"ready": True})
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        _reset_peak()
        cpu0 = time.process_time()
        restart, over = False, None
        _limit_memory(DEFAULT.memory_mb)
        try:
            budget, early = _plan(job)
        except MemoryError:
            over = f"over its budget: reading its run.json needed more than {DEFAULT.memory_mb:,.0f} MB of memory"
            budget, early, restart = DEFAULT, _refusal(job, over), True
        finally:
            _limit_memory(None)
        send({"budget": budget.to_dict()})
        if early is None:
            _limit_memory(budget.memory_mb)
            try:
                result = _run_job(job)
            except MemoryError:
                over = (f"over its budget: verifying it needed more than {budget.memory_mb:,.0f} MB of memory "
                        f"({budget.basis}); stopped")
                result, restart = None, True
            except Exception as e:  # noqa: BLE001 - one job's unexpected failure is its verdict, not the process's
                from ..core.files import clean_text

                if isinstance(e, (ImportError, OSError)) and ("map" in str(e) or "memory" in str(e).lower()):
                    # a library that cannot be mapped under the cap: the memory budget, too
                    over = (f"over its budget: verifying it needed more than {budget.memory_mb:,.0f} MB of memory "
                            f"({budget.basis}); stopped")
                    result, restart = None, True
                else:
                    result = _refusal(job, f"could not be checked ({type(e).__name__}: "
                                           f"{clean_text(e, keep_newlines=False)[:200]})")
            finally:
                _limit_memory(None)
            if result is None:
                result = _refusal(job, over)
        else:
            result = early
        send({"result": result, "peak_rss_mb": _peak(), "over_budget": over, "restart": restart,
              "cpu_s": time.process_time() - cpu0})
        if restart:  # after a failed allocation the process may hold odd state: the caller starts a new one
            return


def _peak() -> float | None:
    kb = _vm_kb("VmHWM")
    return None if kb is None else kb / 1024


if __name__ == "__main__":
    _serve()


__all__ = ["verify_under_budget", "VerifierPool", "VerifierError", "JobResult", "verification_to_data",
           "verification_from_data"]

"""Verification budgets: how much wall time and memory verifying one run may take, by arithmetic on its suite.

A run (or a leaderboard entry) says what it is: its suite record lists every episode with its step budget and
warm-up, and its step log has a size on disk. Before anything is replayed, :func:`suite_work` counts that
declared work and :func:`budget_for` turns it into a :class:`Budget`: a fixed allowance for a verifier
process, plus a bound per policy step replayed, per frame re-rendered, per warm-up move, per env built and
per byte of step log read. Each bound is tens of times what it costs on a laptop, so an honest run never
comes near its budget, while a run whose suite declares a billion steps or warm-up moves, or a step log far
larger than its steps can produce, is refused by arithmetic (:func:`work_problem`, :func:`log_problem`)
without replaying a step. :mod:`g1bench.leaderboard.isolation` then verifies each run in its own process
under its budget, so what the arithmetic cannot see (a slow replay, a parquet file that expands in memory)
is stopped at the budget, with the reason.

Nothing here builds a suite or an env: it reads plain numbers from the record, whatever the record holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

#: a verifier process: start-up, the suite's hash, reading and checking the files
BASE_SECONDS = 30.0
#: replaying one policy step (about a millisecond; the built-in baselines are asked again at each step)
STEP_SECONDS = 0.05
#: re-rendering one frame to check its id
FRAME_SECONDS = 0.05
#: one random warm-up move before an episode's first step
WARMUP_SECONDS = 0.002
#: building the env of one (game, difficulty, overrides) cell and hashing its versions
CELL_SECONDS = 1.0
#: asking the built-in oracle again for one 2048 move, per look-ahead depth (depth 3 is ~20 ms here)
ORACLE_DEPTH_SECONDS = {1: 0.0, 2: 0.0, 3: 0.5}
#: reading one byte of step log (JSON lines or parquet) and building its records
BYTE_SECONDS = 1e-7
#: memory above the verifier's own footprint, per run and per policy step
BASE_MB = 384.0
STEP_MB = 1 / 16
#: records in memory take about this many times their step log's size
MEMORY_PER_LOG_BYTE = 4
#: the most step log a suite may have per policy step, on average (answers are cut at
#: :data:`g1bench.eval.steps.MAX_ANSWER_BYTES` each; a long chain of thought is ~10-60 KB)
LOG_BYTES_PER_STEP = 128 * 1024
LOG_SLACK_BYTES = 1024 * 1024
#: the largest budget any run gets: a suite that needs more is refused without replay
MAX_SECONDS = 3600.0
MAX_MEMORY_MB = 4096.0
MAX_EPISODES = 20_000


@dataclass(frozen=True)
class Budget:
    """What verifying one run may take: ``seconds`` of wall time, ``memory_mb`` of memory above the verifier
    process's own footprint, and ``basis``: the work it was derived from (shown in refusals)."""

    seconds: float
    memory_mb: float
    basis: str = ""

    def describe(self) -> str:
        return f"{self.seconds:,.0f} s and {self.memory_mb:,.0f} MB" + (f" ({self.basis})" if self.basis else "")

    def to_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "memory_mb": self.memory_mb, "basis": self.basis}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Budget":
        return cls(float(d["seconds"]), float(d["memory_mb"]), str(d.get("basis", "")))


#: the budget of a run whose suite cannot even be read (its verification stops at the first check)
DEFAULT = Budget(BASE_SECONDS, BASE_MB, "a run whose suite cannot be read")


@dataclass(frozen=True)
class Work:
    """What a suite record declares: episodes, policy steps, warm-up moves, distinct env cells, 2048 steps."""

    suite_id: str
    episodes: int
    steps: int
    warmup: int
    cells: int
    steps_2048: int = 0


def _int(x: Any) -> int:
    return x if isinstance(x, int) and not isinstance(x, bool) and x >= 0 else 0


def suite_work(record: Any) -> Work | None:
    """The work a run.json ``suite`` record declares, or None when it is not a suite record (the verifier then
    says what is wrong with it). Counts only: linear in the record's size, nothing built."""
    if not isinstance(record, Mapping) or not isinstance(record.get("episodes"), list):
        return None
    steps = warmup = steps_2048 = 0
    cells = set()
    for e in record["episodes"]:
        if not isinstance(e, Mapping):
            return None
        n = _int(e.get("steps"))
        steps += n
        warmup += _int(e.get("warmup"))
        if e.get("game") == "2048":
            steps_2048 += n
        try:
            cells.add(json.dumps([e.get("game"), e.get("difficulty"), e.get("overrides")], sort_keys=True, default=str))
        except (TypeError, ValueError):
            return None
    name, version = record.get("name"), record.get("version")
    suite_id = f"{name}-v{version}" if isinstance(name, str) else "an unnamed suite"
    return Work(suite_id[:120], len(record["episodes"]), steps, warmup, len(cells), steps_2048)


def oracle_depth(policy: Any) -> int:
    """The look-ahead depth of a built-in oracle policy record (0 for any other policy)."""
    if isinstance(policy, Mapping) and policy.get("backend") == "builtin" and policy.get("policy") == "oracle":
        depth = policy.get("depth")
        return depth if isinstance(depth, int) and not isinstance(depth, bool) and depth > 0 else 0
    return 0


def budget_for(work: Work | None, *, frames: bool = False, policy: Any = None, log_bytes: int = 0) -> Budget:
    """The budget of verifying a run of ``work`` (re-rendering frames when ``frames``; ``policy``: its policy
    record, a deeper oracle costs more per 2048 step; ``log_bytes``: the size of its step log)."""
    if work is None:
        return DEFAULT
    depth = oracle_depth(policy)
    seconds = (BASE_SECONDS + work.steps * (STEP_SECONDS + (FRAME_SECONDS if frames else 0.0))
               + work.warmup * WARMUP_SECONDS + work.cells * CELL_SECONDS
               + work.steps_2048 * ORACLE_DEPTH_SECONDS.get(depth, 0.0)  # deeper: refused by its settings
               + max(0, log_bytes) * BYTE_SECONDS)
    memory = BASE_MB + work.steps * STEP_MB + MEMORY_PER_LOG_BYTE * max(0, log_bytes) / 2 ** 20
    basis = f"{work.suite_id}: {work.episodes:,} episodes, {work.steps:,} steps" + (", frames" if frames else "")
    return Budget(seconds, memory, basis)


def work_problem(work: Work | None, *, frames: bool = False, policy: Any = None) -> str | None:
    """Why a suite's declared work cannot be verified within the largest budget, or None."""
    if work is None:
        return None
    if work.episodes > MAX_EPISODES:
        return (f"suite {work.suite_id} declares {work.episodes:,} episodes: more than the {MAX_EPISODES:,} a run may "
                "have to be verified")
    b = budget_for(work, frames=frames, policy=policy)
    if b.seconds > MAX_SECONDS or b.memory_mb > MAX_MEMORY_MB:
        return (f"suite {work.suite_id} declares {work.steps:,} policy steps and {work.warmup:,} warm-up moves in "
                f"{work.episodes:,} episodes: verifying it needs a budget of {b.seconds:,.0f} s and {b.memory_mb:,.0f} MB, "
                f"more than the largest ({MAX_SECONDS:,.0f} s, {MAX_MEMORY_MB:,.0f} MB); refused without replaying it")
    return None


def max_log_bytes(work: Work) -> int:
    """The most step log (bytes) a run of ``work`` may have."""
    return work.steps * LOG_BYTES_PER_STEP + LOG_SLACK_BYTES


def log_problem(work: Work | None, log_bytes: int, what: str = "its step log") -> str | None:
    """Why a step log of ``log_bytes`` bytes is more than a run of ``work`` can write, or None."""
    if work is None or log_bytes <= max_log_bytes(work):
        return None
    return (f"{what} is {log_bytes / 2 ** 20:,.1f} MB: more than the {max_log_bytes(work) / 2 ** 20:,.1f} MB that "
            f"{work.steps:,} steps of {work.suite_id} may log ({LOG_BYTES_PER_STEP // 1024} KiB per step on average); "
            "refused without reading it")


__all__ = ["Budget", "Work", "DEFAULT", "suite_work", "budget_for", "work_problem", "log_problem", "max_log_bytes",
           "oracle_depth", "MAX_SECONDS", "MAX_MEMORY_MB", "MAX_EPISODES", "LOG_BYTES_PER_STEP"]

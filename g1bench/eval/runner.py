"""The evaluation runner: every active episode of every game advances together.

Per round, each *cohort* of episodes (all of them when ``concurrency=1``) gets one batched policy call
that mixes games. Policy calls run on a background thread while the main thread steps, renders and logs
the other cohort, so with ``concurrency >= 2`` a model never waits on the envs.

Run directory::

    run.json          suite, policy and options (written once, atomically)
    episodes.jsonl    one line per finished episode with all its steps (append-only, fsynced)
    frames/<h>.png    every distinct frame once, named by the hash of its pixels
    results.json      the summary (schema in g1bench.eval.results), written atomically at the end

``--resume`` keeps every finished episode, drops a torn last line left by a crash, and replays the
unfinished episodes from their start. Policies draw randomness per (episode, step), so a resumed run of
a deterministic policy equals an uninterrupted one.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import __version__
from ..core.answer import ParseError, format_ok, perception_block, perception_exact
from ..core.env import G1Env
from ..core.hashing import content_hash
from ..render.png import encode_png
from .metrics import episode_score, step_score, summarize
from .policies import Answer, Policy, Turn
from .results import SCHEMA, ResultsError, write_atomic
from .suites import EpisodeSpec, Suite, start_game


class RunError(RuntimeError):
    """The run directory cannot be used as asked (not empty, other suite, corrupt)."""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def hardware() -> dict[str, Any]:
    return {"platform": platform.platform(), "python": platform.python_version(),
            "machine": platform.machine(), "cpu_count": os.cpu_count()}


@dataclass
class _Live:
    """One episode being played."""

    spec: EpisodeSpec
    env: G1Env
    game_index: int = 0
    step: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    frame: np.ndarray | None = None
    frame_id: str | None = None
    info: dict[str, Any] | None = None
    writes: list = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.step >= self.spec.steps


class RunDir:
    """The files of one run, with crash-safe appends and resume."""

    MAX_BACKLOG = 32

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.frames = self.path / "frames"
        self.episodes_file = self.path / "episodes.jsonl"
        self._saved_frames: set[str] = set()
        self._writer: ThreadPoolExecutor | None = None
        self._backlog: deque[tuple[str, Future]] = deque()
        self._pending: dict[str, Future] = {}

    def prepare(self, meta: dict[str, Any], resume: bool) -> list[dict[str, Any]]:
        """Create or reopen the directory; returns the finished episode records on resume."""
        run_json = self.path / "run.json"
        if self.path.exists() and any(self.path.iterdir()):
            if not resume:
                raise RunError(f"{self.path} is not empty; pass --resume to continue that run or choose another --output-dir")
            if not run_json.exists():
                raise RunError(f"{self.path} has no run.json: not a g1bench run directory, refusing to resume into it")
            try:
                old = json.loads(run_json.read_text())
            except ValueError as e:
                raise RunError(f"{run_json} is corrupt ({e}); cannot resume") from None
            if old.get("suite", {}).get("hash") != meta["suite"]["hash"]:
                raise RunError(f"{self.path} holds suite {old.get('suite', {}).get('suite_id')} "
                               f"(hash {old.get('suite', {}).get('hash')}), not {meta['suite']['suite_id']} "
                               f"(hash {meta['suite']['hash']}); resume needs the same suite")
            if old.get("policy") != meta["policy"]:
                raise RunError(f"{self.path} was run with policy {old.get('policy')}, not {meta['policy']}; "
                               "resume needs the same policy settings")
            self.frames.mkdir(exist_ok=True)
            self._saved_frames = {p.stem for p in self.frames.glob("*.png")}
            return self._read_finished()
        self.path.mkdir(parents=True, exist_ok=True)
        self.frames.mkdir(exist_ok=True)
        write_atomic(run_json, meta)
        return []

    def _read_finished(self) -> list[dict[str, Any]]:
        if not self.episodes_file.exists():
            return []
        records, good_end = read_episodes_file(self.episodes_file)
        if good_end < self.episodes_file.stat().st_size:  # a torn last line from a crash: cut it off
            with open(self.episodes_file, "r+b") as f:
                f.truncate(good_end)
        return records

    def append_episode(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        with open(self.episodes_file, "ab") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def save_frame(self, frame: np.ndarray, fid: str) -> Future | None:
        """Store a frame once under its id (PNG, written by a background thread).

        Returns the write still pending for this id, if any (also when another episode asked first), so
        every episode can wait for all the frames it refers to before it is recorded.
        """
        if fid in self._saved_frames:
            pending = self._pending.get(fid)
            return pending if pending is not None and not pending.done() else None
        self._saved_frames.add(fid)
        if self._writer is None:
            # file writes are slow on some filesystems: keep them off the stepping thread
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="g1bench-frames")
        # backpressure: a bounded backlog keeps memory flat when frames come faster than they are written
        while len(self._backlog) >= self.MAX_BACKLOG:
            done_id, done = self._backlog.popleft()
            done.result()
            self._pending.pop(done_id, None)
        future = self._writer.submit(self._write_png, frame, fid)
        self._backlog.append((fid, future))
        self._pending[fid] = future
        return future

    def _write_png(self, frame: np.ndarray, fid: str) -> None:
        tmp = self.frames / f".{fid}.png.tmp"
        tmp.write_bytes(encode_png(frame))
        os.replace(tmp, self.frames / f"{fid}.png")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None


class Runner:
    """Plays a suite with a policy into a run directory.

    Args:
        suite: what to evaluate.
        policy: who plays.
        output_dir: the run directory (must be empty unless ``resume``).
        resume: continue a crashed or interrupted run in ``output_dir``.
        concurrency: number of cohorts in flight (2 overlaps env work with policy calls; 1 = one call per step).
        save_frames: store frames in the run directory (needed for replays, videos and datasets).
        progress: show a progress bar.
        max_active: at most this many episodes are live at once (memory stays flat in the suite size).
    """

    def __init__(self, suite: Suite, policy: Policy, output_dir: str | os.PathLike, resume: bool = False,
                 concurrency: int = 2, save_frames: bool = True, progress: bool = True,
                 max_active: int = 64, on_step: Callable[[int], None] | None = None):
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.suite, self.policy = suite, policy
        self.run_dir = RunDir(output_dir)
        self.resume, self.concurrency = resume, concurrency
        self.save_frames, self.progress = save_frames, progress
        if max_active < 1:
            raise ValueError("max_active must be >= 1")
        self.max_active = max_active
        self.on_step = on_step
        self.meta = {
            "g1bench_version": __version__,
            "suite": suite.to_dict(),
            "policy": policy.describe(),
            "options": {"concurrency": concurrency, "save_frames": save_frames},
            "start_time": _now(),
        }
        self.finished: list[dict[str, Any]] = []

    # -- main loop -----------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.finished = self.run_dir.prepare(self.meta, self.resume)
        done_ids = {r["episode_id"] for r in self.finished}
        todo = [e for e in self.suite.episodes if e.episode_id not in done_ids]
        bar = self._progress_bar(sum(e.steps for e in todo))
        pending = deque(todo)
        # split the live episodes evenly over the cohorts (so small suites overlap too), capped by max_active
        per_cohort = max(1, -(-min(self.max_active, len(todo)) // self.concurrency))

        def refill(cohort: list[_Live]) -> list[_Live]:
            # at most max_active episodes live at once, so memory does not grow with the suite
            while pending and len(cohort) < per_cohort:
                cohort.append(self._start(pending.popleft()))
            return cohort

        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="g1bench-policy") as pool:
                inflight: deque = deque()
                for _ in range(self.concurrency):
                    cohort = refill([])
                    if cohort:
                        inflight.append((cohort, pool.submit(self.policy.act, self._turns(cohort))))
                while inflight:
                    cohort, future = inflight.popleft()
                    answers = future.result()
                    if len(answers) != len(cohort):
                        raise RuntimeError(f"policy returned {len(answers)} answers for {len(cohort)} turns")
                    for ep, answer in zip(cohort, answers):
                        self._apply(ep, answer)
                        if bar is not None:
                            bar.update(1)
                    still = [ep for ep in cohort if not ep.done]
                    for ep in cohort:
                        if ep.done:
                            self._finish(ep)
                    if bar is not None:
                        bar.set_postfix_str(self._running_scores(), refresh=False)
                    still = refill(still)
                    if still:
                        inflight.append((still, pool.submit(self.policy.act, self._turns(still))))
        finally:
            self.run_dir.close()
            if bar is not None:
                bar.close()
            results = self.results()
            write_atomic(self.run_dir.path / "results.json", results)
        return results

    def _progress_bar(self, total: int):
        if not self.progress or total == 0:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=f"{self.suite.suite_id} · {self.policy.name}", unit="step", dynamic_ncols=True)

    def _running_scores(self) -> str:
        per: dict[str, list[float]] = {}
        for r in self.finished:
            per.setdefault(r["game"], []).append(r["score"])
        return " ".join(f"{g}={np.mean(v):.1f}" for g, v in per.items())

    # -- one episode ---------------------------------------------------------------------------------
    def _start(self, spec: EpisodeSpec) -> _Live:
        env = spec.make_env()
        ep = _Live(spec, env)
        ep.game_index = start_game(spec, env, 0)
        self._observe(ep)
        return ep

    def _observe(self, ep: _Live) -> None:
        ep.info = ep.env._info()
        if self.policy.needs_frames or self.save_frames:
            ep.frame = ep.env.render()
            ep.frame_id = ep.env.canvas.frame_id
            if self.save_frames and (w := self.run_dir.save_frame(ep.frame, ep.frame_id)) is not None:
                ep.writes.append(w)

    def _turns(self, cohort: list[_Live]) -> list[Turn]:
        return [Turn(game=ep.spec.game, frame=ep.frame if self.policy.needs_frames else None, prompt=ep.env.prompt,
                     state=ep.env.get_state(), episode=ep.spec.episode_id, step=ep.step) for ep in cohort]

    def _apply(self, ep: _Live, answer: Answer) -> None:
        env, text = ep.env, answer.text
        truth = ep.info["perception"]
        record: dict[str, Any] = {
            "step": ep.step, "game_index": ep.game_index, "state_hash": ep.info["state_hash"],
            "frame": ep.frame_id if self.save_frames else None,
            "prompt_hash": content_hash(env.prompt), "answer": text,
        }
        parsed = env.game.parse_answer(text) if isinstance(text, str) else env.game.coerce_action(text)
        failed = isinstance(parsed, ParseError)
        fallback = None
        if failed and self.suite.invalid_answer.get(ep.spec.game) == "random-move":
            # the paper's test-time rule for 2048: an unparseable answer plays a random move
            rng = np.random.default_rng([int(content_hash(ep.spec.episode_id, 8), 16), ep.step, 0xFA11])
            fallback = int(rng.integers(env.action_space.n))
        _, reward, terminated, _, info = env._step(fallback if fallback is not None else text, render=False)
        record.update(
            parse_error=parsed.reason if failed else None,
            action=info["action"], fallback_action=fallback, reward=reward, score_delta=info["score_delta"],
            valid=info["valid"], success=info["success"], reason=info["reason"], terminated=terminated,
            perception=truth, has_perception=perception_block(text) is not None,
            perception_ok=perception_exact(text, truth), format_ok=format_ok(text),
            input_tokens=answer.input_tokens, output_tokens=answer.output_tokens, latency_s=answer.latency_s,
        )
        if answer.extra:  # backend details: finish reason, retries, cost (model backends only)
            record["extra"] = answer.extra
        ep.records.append(record)
        ep.step += 1
        if self.on_step is not None:
            self.on_step(ep.step)
        if ep.done:
            return
        if terminated:
            ep.game_index = start_game(ep.spec, env, ep.game_index + 1)
        self._observe(ep)

    def _finish(self, ep: _Live) -> None:
        wait(ep.writes)  # an episode is only recorded once every frame it refers to is on disk
        for w in ep.writes:
            w.result()
        spec = ep.spec
        record = {**spec.to_dict(), "episode_id": spec.episode_id,
                  "score": episode_score(spec.game, ep.records), "games_played": ep.game_index + 1,
                  "steps": ep.records}
        self.run_dir.append_episode(record)
        self.finished.append(record)
        ep.records, ep.frame, ep.info, ep.writes = [], None, None, []
        ep.env.close()

    # -- results -------------------------------------------------------------------------------------
    def results(self) -> dict[str, Any]:
        order = self.suite.groups()
        by_id = {r["episode_id"]: r for r in self.finished}
        records = [by_id[e.episode_id] for e in self.suite.episodes if e.episode_id in by_id]
        return {
            "schema": SCHEMA,
            "complete": len(records) == len(self.suite.episodes),
            "episodes_done": len(records),
            "episodes_total": len(self.suite.episodes),
            "provenance": {
                "g1bench_version": __version__,
                "suite": {k: self.meta["suite"][k] for k in ("name", "version", "suite_id", "hash")},
                "policy": self.meta["policy"],
                "env_versions": (envs := self.suite.env_versions()),
                "image_size": {k.split("|")[0]: v["frame_size"] for k, v in envs.items()},
                "invalid_answer": dict(self.suite.invalid_answer),
                "hardware": hardware(),
                "start_time": self.meta["start_time"],
                "end_time": _now(),
            },
            "results": summarize(records, order) if records else {},
        }


def evaluate(suite: Suite, policy: Policy, output_dir: str | os.PathLike, **kwargs: Any) -> dict[str, Any]:
    """Run ``suite`` with ``policy`` into ``output_dir`` and return the results dict."""
    return Runner(suite, policy, output_dir, **kwargs).run()


EPISODE_KEYS = ("episode_id", "game", "difficulty", "seed", "steps")


def read_episodes_file(path: str | os.PathLike) -> tuple[list[dict[str, Any]], int]:
    """The episode records of an ``episodes.jsonl`` and the byte length of its complete lines.

    A torn last line (a crash mid-write) is not returned; a corrupt complete line raises
    :class:`RunError` naming it; a repeated episode id keeps its first record.
    """
    path = Path(path)
    data = path.read_bytes()
    good_end = data.rfind(b"\n") + 1
    records, seen = [], set()
    for n, line in enumerate(data[:good_end].splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise RunError(f"{path}:{n} is not valid JSON ({e}); fix or remove that line") from None
        missing = [k for k in EPISODE_KEYS if k not in rec]
        if missing or not isinstance(rec.get("steps"), list):
            raise RunError(f"{path}:{n}: an episode record needs {missing or ['steps (a list)']}")
        if rec["episode_id"] in seen:
            continue
        seen.add(rec["episode_id"])
        records.append(rec)
    return records, good_end


def load_episodes(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The finished episode records of a run directory (a torn last line is ignored)."""
    path = Path(run_dir) / "episodes.jsonl"
    if not path.exists():
        raise ResultsError(f"{run_dir}: no episodes.jsonl — not a g1bench run directory")
    return read_episodes_file(path)[0]


__all__ = ["Runner", "RunDir", "RunError", "evaluate", "load_episodes", "read_episodes_file", "step_score"]

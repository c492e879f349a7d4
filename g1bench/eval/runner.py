"""The evaluation runner: every active episode of every game advances together.

Per round, each *cohort* of episodes (all of them when ``concurrency=1``) gets one batched policy call
that mixes games. Policy calls run on a background thread while the main thread steps, renders and logs
the other cohort, so with ``concurrency >= 2`` a model never waits on the envs.

Every answered step is durable by the end of its round: the cohort's step records go to the run's step
log in one write and one fsync (see :mod:`g1bench.eval.rundir`). ``resume`` rebuilds each unfinished
episode by replaying its recorded answers (checking every state hash on the way) and goes on from its
last recorded step, so a kill costs at most the answers of the round in flight, and no recorded answer
is asked for again. Baselines draw randomness per (episode, step), so a resumed run of a deterministic
policy equals an uninterrupted one; a sampled model's recorded answers are reused as they are.

An episode whose config has ``history`` k > 0 gives the policy its last k turns with each answer (see
:mod:`g1bench.eval.history`); replaying the recorded steps on resume rebuilds that context too.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .. import __version__
from ..core.env import G1Env
from .history import History
from .metrics import step_score, summarize
from .policies import Answer, Policy, Turn
from .results import SCHEMA
from .rundir import (RUN_FORMAT, ReplayError, RunDir, RunError, episode_record, load_episodes, read_legacy_episodes,
                     read_steps_file)
from .steps import diff_step, play_answer
from .suites import EpisodeSpec, Suite, start_game


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def hardware() -> dict[str, Any]:
    return {"platform": platform.platform(), "python": platform.python_version(),
            "machine": platform.machine(), "cpu_count": os.cpu_count()}


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> ``(I, N)`` with ``0 <= I < N`` (ValueError otherwise)."""
    try:
        i, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise ValueError(f"--shard expects I/N (e.g. 0/4), got {text!r}") from None
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"--shard {text}: needs N >= 1 and 0 <= I < N")
    return i, n


def shard_episodes(suite: Suite, shard: tuple[int, int] | None) -> tuple[EpisodeSpec, ...]:
    """The episodes of one shard: every N-th episode of the suite from the I-th (so each shard mixes games)."""
    if shard is None:
        return suite.episodes
    i, n = shard
    return suite.episodes[i::n]


def shard_dict(shard: tuple[int, int] | None) -> dict[str, int] | None:
    return None if shard is None else {"index": shard[0], "count": shard[1]}


@dataclass
class _Live:
    """One episode being played."""

    spec: EpisodeSpec
    env: G1Env
    game_index: int = 0
    step: int = 0
    score: float = 0.0
    frame: np.ndarray | None = None
    frame_id: str | None = None
    #: the picture the policy is given (the frame resized to the config's model_frame; None for baselines)
    model_frame: np.ndarray | None = None
    info: dict[str, Any] | None = None
    #: the past turns the next answer is given (the config's ``history`` knob; empty at 0)
    history: History | None = None

    @property
    def done(self) -> bool:
        return self.step >= self.spec.steps


class Runner:
    """Plays a suite (or one shard of it) with a policy into a run directory.

    Args:
        suite: what to evaluate.
        policy: who plays.
        output_dir: the run directory (must be empty unless ``resume``).
        resume: continue a crashed or interrupted run in ``output_dir``.
        concurrency: number of cohorts in flight (2 overlaps env work with policy calls; 1 = one call per step).
        save_frames: store frames in the run directory (needed for replays, videos and datasets).
        progress: show a progress bar.
        max_active: at most this many episodes are live at once (memory stays flat in the suite size).
        shard: ``(I, N)`` to run only every N-th episode from the I-th (join shards with ``g1bench merge``).
        command: the settings of the command that started the run (recorded in run.json, so ``--resume``
            needs nothing else).
    """

    def __init__(self, suite: Suite, policy: Policy, output_dir: str | os.PathLike, resume: bool = False,
                 concurrency: int = 2, save_frames: bool = True, progress: bool = True,
                 max_active: int = 64, on_step: Callable[[int], None] | None = None,
                 shard: tuple[int, int] | None = None, command: dict[str, Any] | None = None):
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if max_active < 1:
            raise ValueError("max_active must be >= 1")
        self.suite, self.policy = suite, policy
        self.run_dir = RunDir(output_dir)
        self.resume, self.concurrency = resume, concurrency
        self.save_frames, self.progress = save_frames, progress
        self.max_active = max_active
        self.on_step = on_step
        self.shard = shard
        self.episodes = shard_episodes(suite, shard)
        self.meta = {
            "format": RUN_FORMAT,
            "g1bench_version": __version__,
            "suite": suite.to_dict(),
            "policy": policy.describe(),
            "shard": shard_dict(shard),
            "options": {"concurrency": concurrency, "max_active": max_active, "save_frames": save_frames},
            "command": command,
            "start_time": _now(),
        }
        #: steps in the step log (recorded before a resume + written by this run)
        self.steps_saved = 0
        self.steps_total = sum(e.steps for e in self.episodes)
        self._scores: dict[str, list[float]] = {}

    # -- main loop -----------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        recorded = self.run_dir.prepare(self.meta, self.resume)
        todo: list[tuple[EpisodeSpec, list[dict[str, Any]]]] = []
        redraw: list[tuple[EpisodeSpec, list[dict[str, Any]]]] = []
        saved = self.run_dir.saved_frames
        for spec in self.episodes:
            steps = recorded.get(spec.episode_id, [])[: spec.steps]
            self.steps_saved += len(steps)
            if len(steps) == spec.steps:
                self._scores.setdefault(spec.game, []).append(episode_record(spec, steps)["score"])
                if self.save_frames and any(s.get("frame") not in saved for s in steps if s.get("frame")):
                    # a kill lost frames still being written when the episode's last steps were logged:
                    # replaying it draws them again (unfinished episodes are replayed anyway)
                    redraw.append((spec, steps))
            else:
                todo.append((spec, steps))
        del recorded
        bar = self._progress_bar(self.steps_total - self.steps_saved)
        pending = deque(todo)
        # split the live episodes evenly over the cohorts (so small suites overlap too), capped by max_active
        per_cohort = max(1, -(-min(self.max_active, max(len(todo), 1)) // self.concurrency))

        def refill(cohort: list[_Live]) -> list[_Live]:
            # at most max_active episodes live at once, so memory does not grow with the suite
            while pending and len(cohort) < per_cohort:
                ep = self._start(*pending.popleft())
                if ep.done:
                    self._finish(ep)
                else:
                    cohort.append(ep)
            return cohort

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="g1bench-policy")
        try:
            for spec, steps in redraw:
                self._start(spec, steps).env.close()
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
                records = [self._apply(ep, answer) for ep, answer in zip(cohort, answers)]
                self.steps_saved += self.run_dir.append_steps(records)
                if bar is not None:
                    bar.update(len(records))
                for ep in cohort:
                    if ep.done:
                        self._finish(ep)
                if bar is not None:
                    bar.set_postfix_str(self._running_scores(), refresh=False)
                still = refill([ep for ep in cohort if not ep.done])
                if still:
                    inflight.append((still, pool.submit(self.policy.act, self._turns(still))))
        finally:
            # an interrupt must not wait here for a model call in flight: its answers are not logged anyway
            pool.shutdown(wait=False, cancel_futures=True)
            if bar is not None:
                bar.close()
            try:
                self.run_dir.close()
            finally:
                try:
                    results = self.run_dir.write_results(self.results())
                finally:
                    self.run_dir.unlock()
        return results

    def _progress_bar(self, total: int):
        if not self.progress or total == 0:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=f"{self.suite.suite_id} · {self.policy.name}", unit="step", dynamic_ncols=True)

    def _running_scores(self) -> str:
        return " ".join(f"{g}={np.mean(v):.1f}" for g, v in self._scores.items())

    # -- one episode ---------------------------------------------------------------------------------
    def _start(self, spec: EpisodeSpec, recorded: Sequence[dict[str, Any]] = ()) -> _Live:
        """A live episode at its first unrecorded step: the start state, then the recorded answers replayed."""
        env = spec.make_env()
        ep = _Live(spec, env, history=History(env.config.history))
        ep.game_index = start_game(spec, env, 0)
        self._observe(ep)
        for rec in recorded:
            replayed = self._apply(ep, rec)
            diffs = diff_step(rec, replayed)
            if diffs:
                field, was, now = diffs[0]
                raise ReplayError(f"{self.run_dir.steps_file}: {spec.episode_id} step {rec['step']} does not replay: "
                                  f"{field} is {was!r} in the log but {now!r} now (the log was edited, or written by "
                                  "other game rules); cannot resume this run")
        return ep

    def _observe(self, ep: _Live) -> None:
        ep.info = ep.env._key_info()
        if self.policy.needs_frames or self.save_frames:
            ep.frame = ep.env.render()
            ep.frame_id = ep.env.canvas.frame_id
            if self.save_frames:  # the run keeps the frame as drawn (replays, GIFs); the model's is derived from it
                self.run_dir.save_frame(ep.frame, ep.frame_id)
            if self.policy.needs_frames:
                ep.model_frame = ep.env.model_observation(ep.frame)

    def _turns(self, cohort: list[_Live]) -> list[Turn]:
        return [Turn(game=ep.spec.game, frame=ep.model_frame, prompt=ep.env.prompt,
                     state=ep.env.get_state(), episode=ep.spec.episode_id, step=ep.step,
                     history=ep.history.turns()) for ep in cohort]

    def _apply(self, ep: _Live, answer: Answer | dict[str, Any]) -> dict[str, Any]:
        """Play one answer (a policy's, or a recorded step being replayed); returns the step record. Either way
        the answer joins the episode's history, so a resumed episode goes on with the context it had."""
        record = play_answer(ep.env, episode_id=ep.spec.episode_id, step=ep.step, game_index=ep.game_index,
                             invalid_rule=self.suite.invalid_answer.get(ep.spec.game), before=ep.info,
                             frame_id=ep.frame_id if self.save_frames else None, answer=answer,
                             context=ep.history.fields())
        ep.history.push(record, ep.model_frame)
        ep.score += step_score(ep.spec.game, record)
        ep.step += 1
        if self.on_step is not None and not isinstance(answer, dict):
            self.on_step(ep.step)
        if not ep.done:
            if record["terminated"]:
                ep.game_index = start_game(ep.spec, ep.env, ep.game_index + 1)
            self._observe(ep)
        return record

    def _finish(self, ep: _Live) -> None:
        self._scores.setdefault(ep.spec.game, []).append(ep.score)
        ep.frame, ep.model_frame, ep.info = None, None, None
        ep.history.clear()
        ep.env.close()

    # -- results -------------------------------------------------------------------------------------
    def results(self) -> dict[str, Any]:
        """The results of what the step log holds now (complete or not)."""
        steps: dict[str, list[dict[str, Any]]] = {}
        if self.run_dir.steps_file.exists():
            steps = read_steps_file(self.run_dir.steps_file)[0]
        # count what the log really holds (an interrupt can land between a write and its bookkeeping)
        self.steps_saved = sum(min(len(steps.get(e.episode_id, ())), e.steps) for e in self.episodes)
        return build_results(self.suite, self.meta, self.episodes, steps, end_time=_now())


def build_results(suite: Suite, meta: dict[str, Any], episodes: Sequence[EpisodeSpec],
                  steps: dict[str, list[dict[str, Any]]], end_time: str | None) -> dict[str, Any]:
    """``results.json`` for the ``episodes`` of a run (a suite or one shard of it) from its step log."""
    records = [episode_record(spec, steps[spec.episode_id][: spec.steps]) for spec in episodes
               if len(steps.get(spec.episode_id, ())) >= spec.steps]
    envs = suite.env_versions()
    groups = summarize(records, suite.groups()) if records else {}
    protocol = {k.split("|")[0]: v for k, v in envs.items()}
    for key, g in groups.items():
        cfg = protocol.get(key, {}).get("config", {})
        g["answer_grammar"] = cfg.get("answer_grammar")
        g["prompt_version"] = protocol.get(key, {}).get("prompt_version")
    return {
        "schema": SCHEMA,
        "complete": len(records) == len(episodes),
        "episodes_done": len(records),
        "episodes_total": len(episodes),
        "provenance": {
            "g1bench_version": __version__,
            "suite": {k: meta["suite"][k] for k in ("name", "version", "suite_id", "hash")},
            "shard": meta.get("shard"),
            "policy": meta["policy"],
            "env_versions": envs,
            # what the model was given: the config's model_frame size, else the frame as drawn
            "image_size": {k.split("|")[0]: v["config"].get("model_frame", v["frame_size"]) for k, v in envs.items()},
            "invalid_answer": dict(suite.invalid_answer),
            "hardware": hardware(),
            "start_time": meta["start_time"],
            "end_time": end_time,
        },
        "results": groups,
    }


def evaluate(suite: Suite, policy: Policy, output_dir: str | os.PathLike, **kwargs: Any) -> dict[str, Any]:
    """Run ``suite`` with ``policy`` into ``output_dir`` and return the results dict."""
    return Runner(suite, policy, output_dir, **kwargs).run()


def read_episodes_file(path: str | os.PathLike) -> tuple[list[dict[str, Any]], int]:
    """The episodes of a g1bench 0.1 ``episodes.jsonl`` (kept for readers of old run directories)."""
    return read_legacy_episodes(path)


__all__ = ["Runner", "RunError", "evaluate", "build_results", "load_episodes", "read_episodes_file", "step_score",
           "parse_shard", "shard_episodes"]

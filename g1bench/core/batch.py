"""Many envs of several games at once: frames and prompts out, answers in, rewards out.

:class:`EnvBatch` is what the evaluation harness and RL training drive. Envs can live in this process
(``num_workers=0``) or be spread over worker processes, each owning a contiguous shard of envs, so
stepping and rendering run in parallel on several cores. Results always come back in env order.

Workers are fresh interpreters started as ``python -c "...g1bench.core.batch..."`` and connected by a socket
pair, not ``multiprocessing`` processes: ``spawn``/``forkserver`` re-run the caller's ``__main__`` in every
worker, so a plain script without an ``if __name__ == "__main__":`` guard (or with module-level work) broke,
and ``fork`` copies a process that may hold threads or CUDA. A fresh interpreter needs neither. The
multiprocessing start methods stay available (``mp_context="spawn"``, ...).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .env import G1Env, Judgement


@dataclass(frozen=True)
class EnvSpec:
    """How to build one env: game name, difficulty preset (or dict of knobs) and knob overrides."""

    game: str
    difficulty: str | Mapping[str, Any] | None = "paper"
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def build(self) -> G1Env:
        return G1Env(self.game, difficulty=self.difficulty, **dict(self.overrides))


@dataclass
class Observation:
    """What a policy needs for one env: the frame, the prompt, and the info dict (perception GT, ...).

    ``frame`` is the picture a model is given (``env.model_observation()``: resized to the config's
    ``model_frame``, e.g. G1's 640x840 for 2048's paper preset), as G1's sandboxes resized every frame before
    handing it out.
    """

    frame: np.ndarray | None
    prompt: str
    info: dict[str, Any]


@dataclass
class StepResult:
    """One env's step: reward, episode flags and info (see :class:`~g1bench.core.env.G1Env`), and the new frame
    (the model's picture, as in :class:`Observation`)."""

    frame: np.ndarray | None
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]


class _Shard:
    """A list of envs and the commands a batch sends them (run in-process or inside a worker)."""

    def __init__(self, specs: Sequence[EnvSpec], render: bool):
        self.envs = [s.build() for s in specs]
        self.render = render

    def reset(self, seeds: Sequence[int | None], states: Sequence[Any] | None = None) -> list[Observation | None]:
        out: list[Observation | None] = []
        for i, (env, seed) in enumerate(zip(self.envs, seeds)):
            state = states[i] if states is not None else None
            if seed is None and state is None:
                out.append(None)
                continue
            frame, info = env.reset(seed=seed, options={"state": state} if state is not None else None)
            out.append(Observation(env.model_observation(frame) if self.render else None, env.prompt, info))
        return out

    def step(self, actions: Sequence[Any]) -> list[StepResult | None]:
        out: list[StepResult | None] = []
        for env, action in zip(self.envs, actions):
            if action is None:
                out.append(None)
                continue
            frame, reward, term, trunc, info = env._step(action, render=self.render)
            out.append(StepResult(None if frame is None else env.model_observation(frame), reward, term, trunc, info))
        return out

    def observe(self) -> list[Observation]:
        return [Observation(env.model_observation(), env.prompt, env._info()) for env in self.envs]

    def evaluate_groups(self, groups: Sequence[Sequence[Any] | None]) -> list[list[Judgement] | None]:
        return [env.evaluate_group(g) if g is not None else None for env, g in zip(self.envs, groups)]

    def get_states(self) -> list[dict[str, Any]]:
        return [env.get_state() for env in self.envs]

    def versions(self) -> list[dict[str, Any]]:
        return [env.versions() for env in self.envs]


def _worker(conn, specs, render) -> None:
    try:
        shard = _Shard(specs, render)
        conn.send(("ok", None))
    except BaseException as e:  # report construction errors to the parent instead of dying silently
        conn.send(("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))
        return
    while True:
        try:
            cmd, args = conn.recv()
        except EOFError:
            return
        if cmd == "close":
            conn.send(("ok", None))
            return
        try:
            conn.send(("ok", getattr(shard, cmd)(*args)))
        except BaseException as e:
            conn.send(("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))


def _child_main(fd: int) -> None:
    """Entry point of a worker interpreter: serve the shard whose specs come first on the socket ``fd``."""
    from multiprocessing.connection import Connection

    conn = Connection(fd)
    try:
        specs, render = conn.recv()
    except EOFError:
        return
    _worker(conn, specs, render)


class _Child:
    """A worker interpreter (``subprocess.Popen``) with the ``multiprocessing`` process methods EnvBatch uses."""

    def __init__(self, specs: Sequence[EnvSpec], render: bool):
        from multiprocessing.connection import Connection

        parent, child = socket.socketpair()
        env = dict(os.environ)
        # the worker imports this very g1bench, wherever it was imported from
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        code = f"from g1bench.core.batch import _child_main; _child_main({child.fileno()})"
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=(child.fileno(),), env=env,
                                         stdin=subprocess.DEVNULL)
        finally:
            child.close()
        self.conn = Connection(parent.detach())
        self.conn.send((list(specs), render))

    def join(self, timeout: float | None = None) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def is_alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self) -> None:
        self.proc.kill()
        self.proc.wait()


class WorkerError(RuntimeError):
    """An env inside a worker process raised; the message carries the worker's traceback."""


class EnvBatch:
    """A batch of envs, possibly of different games and difficulties, stepped together.

    Args:
        specs: one :class:`EnvSpec` (or ``(game, difficulty)`` tuple, or game name) per env.
        num_workers: 0 runs every env in this process; N > 0 spreads them over N worker processes.
        render: return frames from ``reset``/``step`` (False skips rendering, e.g. for random warm-up).
        mp_context: how workers start: None (default) a fresh interpreter per worker, which works from any
            script, notebook or server, with or without a main guard, beside CUDA and threads; or a
            multiprocessing start method ("spawn", "forkserver": the script needs a main guard; "fork").

    Example:
        >>> batch = EnvBatch([EnvSpec("2048"), EnvSpec("shisensho", "base")])
        >>> obs = batch.reset(seeds=[0, 1])
        >>> results = batch.step(["<answer>0</answer>", "<answer>(0, 0) (0, 1)</answer>"])
    """

    def __init__(
        self,
        specs: Sequence[EnvSpec | tuple | str],
        num_workers: int = 0,
        render: bool = True,
        mp_context: str | None = None,
    ):
        self.specs = [self._spec(s) for s in specs]
        if not self.specs:
            raise ValueError("EnvBatch needs at least one env")
        if num_workers < 0:
            raise ValueError("num_workers must be >= 0")
        self.render = render
        self.num_workers = min(num_workers, len(self.specs))
        self._conns: list[Any] = []
        self._procs: list[Any] = []
        if self.num_workers == 0:
            self._shards = [_Shard(self.specs, render)]
            self._bounds = [(0, len(self.specs))]
        else:
            n = len(self.specs)
            cuts = np.linspace(0, n, self.num_workers + 1).astype(int)
            self._bounds = [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:])]
            ctx = mp.get_context(mp_context) if mp_context is not None else None
            try:
                for a, b in self._bounds:
                    if ctx is None:
                        child_proc = _Child(self.specs[a:b], render)
                        self._conns.append(child_proc.conn)
                        self._procs.append(child_proc)
                        continue
                    parent, child = ctx.Pipe()
                    p = ctx.Process(target=_worker, args=(child, self.specs[a:b], render), daemon=True)
                    p.start()
                    child.close()
                    self._conns.append(parent)
                    self._procs.append(p)
                for conn in self._conns:
                    self._receive(conn)
            except BaseException:
                self.close()
                raise

    @staticmethod
    def _spec(s: EnvSpec | tuple | str) -> EnvSpec:
        if isinstance(s, EnvSpec):
            return s
        if isinstance(s, str):
            return EnvSpec(s)
        if isinstance(s, tuple):
            return EnvSpec(*s)
        raise TypeError(f"expected an EnvSpec, (game, difficulty) tuple or game name, got {s!r}")

    def __len__(self) -> int:
        return len(self.specs)

    @property
    def envs(self) -> list[G1Env]:
        """The env objects (only when they live in this process)."""
        if self.num_workers:
            raise RuntimeError("envs live in worker processes; use the batch methods")
        return self._shards[0].envs

    # -- dispatch ------------------------------------------------------------------------------------
    def _receive(self, conn):
        try:
            status, payload = conn.recv()
        except (EOFError, ConnectionError) as e:  # the worker died (killed, or could not start)
            raise WorkerError(f"a worker process exited unexpectedly ({type(e).__name__}); its messages, if any, "
                              "are above on stderr") from None
        if status == "error":
            raise WorkerError(payload)
        return payload

    def _call(self, cmd: str, *per_env: Sequence[Any] | None) -> list[Any]:
        for seq in per_env:
            if seq is not None and len(seq) != len(self.specs):
                raise ValueError(f"{cmd}: expected {len(self.specs)} entries (one per env), got {len(seq)}")
        if not self.num_workers:
            return getattr(self._shards[0], cmd)(*per_env)
        errors = []
        sent = []
        for conn, (a, b) in zip(self._conns, self._bounds):
            try:
                conn.send((cmd, tuple(None if s is None else list(s[a:b]) for s in per_env)))
                sent.append(conn)
            except (OSError, EOFError) as e:  # a dead worker: the others still answer (pipes stay in sync)
                errors.append(f"a worker process exited unexpectedly ({type(e).__name__})")
        out: list[Any] = []
        for conn in sent:
            try:
                out.extend(self._receive(conn))
            except WorkerError as e:  # drain every worker before raising so the pipes stay in sync
                errors.append(str(e))
        if errors:
            raise WorkerError(errors[0])
        return out

    # -- public API ----------------------------------------------------------------------------------
    def reset(self, seeds: Sequence[int | None] | int, states: Sequence[Any] | None = None) -> list[Observation | None]:
        """Reset envs: ``seeds[i]`` (None with no state = leave env i alone), or ``states[i]`` snapshots.

        An int seed s resets env i with seed s + i.
        """
        if isinstance(seeds, (int, np.integer)):
            seeds = [int(seeds) + i for i in range(len(self.specs))]
        return self._call("reset", seeds, states)

    def step(self, actions: Sequence[Any]) -> list[StepResult | None]:
        """Apply ``actions[i]`` (answer text or structured action; None = skip env i) to each env."""
        return self._call("step", actions)

    def observe(self) -> list[Observation]:
        """Frame, prompt and info of every env now (renders even when ``render=False``)."""
        return self._call("observe")

    def evaluate_groups(self, groups: Sequence[Sequence[Any] | None]) -> list[list[Judgement] | None]:
        """GRPO groups: every answer of ``groups[i]`` is judged from env i's current state, which is kept."""
        return self._call("evaluate_groups", groups)

    def get_states(self) -> list[dict[str, Any]]:
        return self._call("get_states")

    def versions(self) -> list[dict[str, Any]]:
        return self._call("versions")

    def close(self) -> None:
        for conn in self._conns:
            try:
                conn.send(("close", ()))
                conn.recv()
            except (BrokenPipeError, EOFError, OSError):
                pass
        for p in self._procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
        for conn in self._conns:
            conn.close()
        self._conns, self._procs = [], []

    def __enter__(self) -> "EnvBatch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

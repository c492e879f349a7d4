"""Load on the OpenEnv server: concurrent client sessions playing through ``g1bench serve`` on 127.0.0.1.

    python benchmarks/openenv_load.py [--sessions 64] [--steps 50] [--think 0] [--idle-timeout 30]

Starts ``g1bench serve --port 0`` in a child process (the real command, a cap of ``--sessions`` sessions), then opens
``--sessions`` sessions at once with the real client (``G1EnvClient``, OpenEnv's ``EnvClient``: one WebSocket each,
all of them on one asyncio loop in this process). Session i plays game i mod 4 at the ``paper`` preset (G1's frame
sizes: every observation carries a 640x840 or 640x640 PNG) from seed i, ``--steps`` moves: a random valid move of
the board it is shown (2048: a random direction), its answer as model text. Each session replays its own moves on a
local env and checks every observation's state hash against it (and every 10th frame's pixels): any difference is
a cross-session leak (or a lost move). A game that ends is dealt again from the next seed.

Reported: errors (goal 0), leaks (goal 0), step latency p50 / p95 / max as the clients see it (goal: p95 < 50 ms on
2 cores with PNG frames), steps/s, the server's CPU time per step, and whether the sessions left open were closed
and freed by the idle timeout (the server's ``/sessions`` count back to 0). ``--think`` pauses each session between
moves (seconds: what a model's reply would take; 0 = every session steps as fast as it can, the worst case).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request

import numpy as np

GAMES = ("2048", "shisensho", "shisensho-images", "swap")
DIRECTIONS = ("up", "right", "down", "left")
OFFLINE = {"shisensho-images": {"tile_source": "bundled"}}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sessions_now(url: str) -> dict:
    with urllib.request.urlopen(url + "/sessions", timeout=10) as r:
        return json.loads(r.read())


def start_server(sessions: int, idle_timeout: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "g1bench.cli", "serve", "--port", "0", "--max-sessions",
                             str(sessions), "--idle-timeout", str(idle_timeout)],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    url = line.split()[4]
    for _ in range(300):
        try:
            sessions_now(url)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not answer")


async def play(url: str, index: int, steps: int, think: float, start: asyncio.Event, out: dict, keep_open: list):
    from g1bench.integrations.openenv import G1Action, G1EnvClient
    from g1bench.integrations.play import GameSession

    game = GAMES[index % len(GAMES)]
    rng = np.random.default_rng(index)
    latencies, errors, leaks = [], [], 0
    client = G1EnvClient(base_url=url, message_timeout_s=120)
    local = GameSession()
    seed = index
    try:
        await client.connect()
        await start.wait()
        result = await client.reset(game=game, seed=seed, overrides=OFFLINE.get(game))
        local.start(game, "paper", OFFLINE.get(game), seed=seed)
        for step in range(steps):
            if result.observation.error:
                errors.append(result.observation.error)
                break
            if result.done:
                seed += 10_000
                result = await client.reset(game=game, seed=seed, overrides=OFFLINE.get(game))
                local.start(game, "paper", OFFLINE.get(game), seed=seed)
            if think:
                await asyncio.sleep(think)
            if game == "2048":
                answer = f"<answer>{int(rng.integers(4))}</answer>"
            else:
                legal = local.env.legal_actions()
                r1, c1, r2, c2 = legal[int(rng.integers(len(legal)))]
                answer = f"<answer>({r1}, {c1}) ({r2}, {c2})</answer>"
            t0 = time.perf_counter()
            result = await client.step(G1Action(answer=answer))
            latencies.append(time.perf_counter() - t0)
            local.play(answer)
            obs = result.observation
            if obs.error:
                errors.append(obs.error)
                break
            if obs.state_hash != local.state_hash or obs.score != local.score:
                leaks += 1
            elif step % 10 == 0 and not np.array_equal(np.asarray(obs.image()), local.model_frame()):
                leaks += 1
    except Exception as e:  # noqa: BLE001 - counted and reported
        errors.append(f"{type(e).__name__}: {e}")
    out[index] = {"latencies": latencies, "errors": errors, "leaks": leaks}
    if index % 2 == 0:
        await client.close()
    else:
        keep_open.append(client)  # left open and idle: the server's idle timeout must close and free it


async def run(url: str, sessions: int, steps: int, think: float) -> tuple[dict, list, float]:
    start = asyncio.Event()
    out: dict = {}
    keep_open: list = []
    tasks = [asyncio.create_task(play(url, i, steps, think, start, out, keep_open)) for i in range(sessions)]
    await asyncio.sleep(0.5)
    t0 = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return out, keep_open, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=64)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--think", type=float, default=0.0, help="seconds each session waits between its moves")
    ap.add_argument("--idle-timeout", type=float, default=30.0,
                    help="the server's idle timeout (seconds). OpenEnv's reaper counts a session whose request is still "
                         "queued as idle, so keep it above the worst step latency")
    args = ap.parse_args()

    proc, url = start_server(args.sessions, args.idle_timeout)
    try:
        cpu0 = cpu_seconds(proc.pid)
        out, keep_open, wall = asyncio.run(run(url, args.sessions, args.steps, args.think))
        cpu = cpu_seconds(proc.pid) - cpu0
        latencies = np.array([x for o in out.values() for x in o["latencies"]]) * 1000
        errors = [e for o in out.values() for e in o["errors"]]
        leaks = sum(o["leaks"] for o in out.values())
        steps = len(latencies)
        print(f"{args.sessions} sessions x {args.steps} steps (think {args.think:g} s), {steps} steps in {wall:.1f} s "
              f"= {steps / wall:.0f} steps/s")
        print(f"errors: {len(errors)} (goal 0){'; first: ' + errors[0] if errors else ''}")
        print(f"cross-session leaks: {leaks} (goal 0)")
        if steps:
            p50, p95 = np.percentile(latencies, [50, 95])
            print(f"step latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {latencies.max():.1f} ms (goal p95 < 50 ms)")
            print(f"server CPU: {cpu:.1f} s, {1000 * cpu / steps:.1f} ms per step")
        live = sessions_now(url)["live"]
        print(f"after the run: {live} sessions live ({len(keep_open)} left open and idle)")
        t0 = time.perf_counter()
        deadline = t0 + args.idle_timeout + 30  # OpenEnv's reaper looks every max(timeout / 4, 5) s
        while sessions_now(url)["live"] and time.perf_counter() < deadline:
            time.sleep(0.25)
        live = sessions_now(url)["live"]
        print(f"idle timeout {args.idle_timeout:g} s: {len(keep_open) - live} of {len(keep_open)} idle sessions closed "
              f"and freed within {time.perf_counter() - t0:.1f} s; {live} live now")
    finally:
        proc.terminate()
        proc.wait(10)
    return 0 if not errors and not leaks and live == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Load on the Space: concurrent visitors playing, measured through the real HTTP API; and GIFs of replays.

    python benchmarks/space_load.py [--sessions 20] [--moves 30] [--think 0] [--viewers 2] [--gifs 4]

Starts the app (``g1bench.space``) in a child process on 127.0.0.1, as a Space runs it: its leaderboard
aggregated from this checkout's ``leaderboard/`` folder at start-up and the natural-image tiles loaded, both in
the background before the load starts. Then ``--sessions`` gradio_client sessions at once each deal their own
game (2048, Shisen-Sho and Swap in turn, seed = session number) and play ``--moves`` moves: 2048 with the arrow
endpoints, the tile games with two pixel clicks on a legal pair (each click is a request; the second one is
the move). Each session replays its own moves on a local env and checks, after every move, that the server's
perception text is exactly the board those moves give: any difference is a cross-session leak (or a lost
move). Meanwhile ``--viewers`` sessions browse the leaderboard (a filter or a search per request, as fast as
they can). Reported: errors (goal 0), leaks (goal 0), move latency p50 / p95 / max over all sessions (goal
p95 < 300 ms on 2 cores), and the leaderboard views' latency. ``--think`` adds a pause between a session's
moves (seconds; 0 = every session moves as fast as it can, the worst case).

Then, with the load over, ``--gifs`` episodes of the paper suite's entries (100 steps each, pushed without frames,
so Replay draws them by replaying the logged answers) are opened in Replay and made into GIFs, as a visitor does:
the time to open each episode, to make its GIF (goal < 3 s for 100 steps), and to get it again (kept: one file
per entry and episode). ``--gifs 0`` skips it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from g1bench.space.testing import serve_process

ROOT = Path(__file__).resolve().parents[1]

GAMES = ("2048", "shisensho", "swap")
DIRS = ("up", "right", "down", "left")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def session(url: str, index: int, moves: int, think: float, out: dict, barrier: threading.Barrier) -> None:
    from gradio_client import Client

    import g1bench

    game = GAMES[index % len(GAMES)]
    rng = np.random.default_rng(index)
    latencies, errors, leaks = [], [], 0
    try:
        # ssl_verify=False: plain HTTP on loopback either way, but with verification on, gradio_client builds a new
        # SSL context (loading every CA certificate) per request, ~30 ms of the client's CPU that the server
        # would then compete with on the same two cores
        client = Client(url, verbose=False, download_files=False, ssl_verify=False)
        env = g1bench.make(game, "paper")
        env.reset(seed=index)
        barrier.wait()
        res = client.predict(game, "paper", index, False, True, api_name="/play_new")
        if res[3] != env.game.perception_text():
            leaks += 1
        for m in range(moves):
            if think:
                time.sleep(think)
            if game == "2048":
                action = int(rng.integers(4))
                t0 = time.perf_counter()
                res = client.predict(True, api_name=f"/play_{DIRS[action]}")
                latencies.append(time.perf_counter() - t0)
            else:
                legal = env.legal_actions()
                if not legal:
                    break
                action = legal[int(rng.integers(len(legal)))]
                (x0, y0, _, _), (x1, y1, _, _) = env.canvas.cell_box(*action[:2]), env.canvas.cell_box(*action[2:])
                t0 = time.perf_counter()
                client.predict(True, x0 + 3, y0 + 3, api_name="/play_click")
                latencies.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                res = client.predict(True, x1 + 3, y1 + 3, api_name="/play_click")
                latencies.append(time.perf_counter() - t0)
            if str(res[2]).startswith("⚠️"):
                errors.append(res[2])
                continue
            _, _, terminated, _, _ = env.step(action)
            if res[3] != env.game.perception_text():
                leaks += 1
            if terminated:
                break
    except Exception as e:  # noqa: BLE001 - counted and reported
        errors.append(f"{type(e).__name__}: {e}")
    out[index] = {"latencies": latencies, "errors": errors, "leaks": leaks, "game": game}


def viewer(url: str, index: int, stop: threading.Event, out: dict, barrier: threading.Barrier) -> None:
    """A visitor browsing the leaderboard: suites, filters and searches until the players are done."""
    from gradio_client import Client

    rng = np.random.default_rng(1000 + index)
    asks = [("paper", "", "all", "all", "all"), ("smoke", "", "all", "all", "all"), ("paper", "rand", "all", "all", "all"),
            ("paper", "", "swap", "all", "all"), ("paper", "", "all", "all", "baseline")]
    latencies, errors = [], []
    try:
        client = Client(url, verbose=False, download_files=False, ssl_verify=False)
        barrier.wait()
        while not stop.is_set():
            suite, search, game, difficulty, model_type = asks[int(rng.integers(len(asks)))]
            t0 = time.perf_counter()
            res = client.predict(suite, search, game, difficulty, model_type, None, [], api_name="/leaderboard_view")
            latencies.append(time.perf_counter() - t0)
            if str(res[2]).startswith("⚠️"):
                errors.append(res[2])
    except Exception as e:  # noqa: BLE001 - counted and reported
        errors.append(f"{type(e).__name__}: {e}")
    out[index] = {"latencies": latencies, "errors": errors}


def cpu_of(proc) -> float:
    return cpu_seconds(proc.pid)


def gif_times(url: str, n: int) -> dict:
    """Open ``n`` episodes of the store's paper-suite entries in Replay and make each one's GIF twice, timed."""
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False, ssl_verify=False)
    _, entries, _ = client.predict(api_name="/replay_refresh")
    ids = [e for _, e in entries["choices"] if e.startswith("paper-")]
    out = {"open": [], "first": [], "again": [], "steps": [], "errors": []}
    for entry in ids:
        t0 = time.perf_counter()
        res = client.predict(entry, api_name="/replay_entry")
        opened = time.perf_counter() - t0
        episodes = [e for _, e in res[4]["choices"]]
        # one episode per game: the first of each
        seen, picks = set(), []
        for e in episodes:
            game = e.split("/", 1)[0]
            if game not in seen:
                seen.add(game)
                picks.append(e)
        for i, episode in enumerate(picks):
            if len(out["first"]) >= n:
                return out
            if i:
                t0 = time.perf_counter()
                res = client.predict(episode, api_name="/replay_episode")
                opened = time.perf_counter() - t0
            out["open"].append(opened)
            out["steps"].append(int(res[3]["maximum"]))
            for key in ("first", "again"):
                t0 = time.perf_counter()
                gif, message = client.predict(api_name="/replay_gif")
                out[key].append(time.perf_counter() - t0)
                if not str(message).startswith("GIF ready"):
                    out["errors"].append(message)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--moves", type=int, default=30)
    ap.add_argument("--think", type=float, default=0.0, help="seconds between a session's moves")
    ap.add_argument("--viewers", type=int, default=2, help="sessions browsing the leaderboard meanwhile")
    ap.add_argument("--gifs", type=int, default=4, help="paper-suite episodes made into GIFs after the load (0: none)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    scratch = tempfile.mkdtemp(prefix="space-load-")
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", GRADIO_TEMP_DIR=os.path.join(scratch, "gradio"),
               G1BENCH_SPACE_WORK_DIR=os.path.join(scratch, "work"), G1BENCH_SPACE_RUNS_DIR=os.path.join(scratch, "runs"),
               G1BENCH_SPACE_RESULTS=str(ROOT / "leaderboard"), G1BENCH_SPACE_DEMO_STORE="none",
               G1BENCH_CACHE_DIR=os.path.join(scratch, "cache"), HF_HUB_OFFLINE=os.environ.get("HF_HUB_OFFLINE", "1"))
    out: dict[int, dict] = {}
    views: dict[int, dict] = {}
    try:
        t_start = time.perf_counter()
        with serve_process(env) as (server, url):
            started = time.perf_counter() - t_start
            barrier = threading.Barrier(args.sessions + args.viewers)
            stop = threading.Event()
            threads = [threading.Thread(target=session, args=(url, i, args.moves, args.think, out, barrier))
                       for i in range(args.sessions)]
            watchers = [threading.Thread(target=viewer, args=(url, i, stop, views, barrier)) for i in range(args.viewers)]
            cpu0 = cpu_of(server)
            t0 = time.perf_counter()
            for t in threads + watchers:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            stop.set()
            for t in watchers:
                t.join()
            server_cpu = cpu_of(server) - cpu0
            gifs = gif_times(url, args.gifs) if args.gifs else None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    lat = np.array([x for r in out.values() for x in r["latencies"]]) * 1000
    errors = [e for r in out.values() for e in r["errors"]] + [e for r in views.values() for e in r["errors"]]
    leaks = sum(r["leaks"] for r in out.values())
    vlat = np.array([x for r in views.values() for x in r["latencies"]]) * 1000
    print(f"sessions {args.sessions} x moves {args.moves} (think {args.think:g} s) + {args.viewers} leaderboard "
          f"viewers on {os.cpu_count()} cores; games: {', '.join(sorted({r['game'] for r in out.values()}))}; the app "
          f"was ready (tiles loaded, leaderboard aggregated) {started:.1f} s after it was started")
    print(f"requests {len(lat) + len(vlat)} in {wall:.1f} s ({(len(lat) + len(vlat)) / wall:.0f} req/s); server CPU "
          f"{1000 * server_cpu / max(len(lat) + len(vlat), 1):.1f} ms per request ({server_cpu / wall:.2f} cores busy)")
    print(f"errors {len(errors)} (goal 0)" + (f": {errors[:3]}" if errors else ""))
    print(f"cross-session leaks {leaks} (goal 0)")
    if len(lat):
        print(f"move latency p50 {np.percentile(lat, 50):.0f} ms, p95 {np.percentile(lat, 95):.0f} ms, "
              f"max {lat.max():.0f} ms (goal p95 < 300 ms)")
    if len(vlat):
        print(f"leaderboard view latency ({len(vlat)} views) p50 {np.percentile(vlat, 50):.0f} ms, "
              f"p95 {np.percentile(vlat, 95):.0f} ms, max {vlat.max():.0f} ms")
    if gifs is not None:
        if gifs["first"]:
            first = np.array(gifs["first"])
            print(f"replay GIFs: {len(first)} episodes of {sorted(set(gifs['steps']))} steps (drawn by replaying the "
                  f"log); open p50 {np.median(gifs['open']):.2f} s; GIF made in p50 {np.median(first):.2f} s, max "
                  f"{first.max():.2f} s (goal < 3 s for 100 steps); again (kept) p50 {np.median(gifs['again']):.2f} s")
        errors += gifs["errors"]
        if gifs["errors"]:
            print(f"GIF errors {len(gifs['errors'])}: {gifs['errors'][:2]}")
    return 0 if not errors and not leaks else 1


if __name__ == "__main__":
    sys.exit(main())

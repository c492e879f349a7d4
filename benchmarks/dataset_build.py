"""Dataset build speed: perception samples/s and bytes/sample per game, and late-game state rows/s.

    python benchmarks/dataset_build.py [--rows 4000] [--workers 2] [--presets paper|all]
    python benchmarks/dataset_build.py --part late-game [--late-rows 40] [--workers 2]

Perception: each game's perception configs are built with ``g1bench.data.build_dataset`` (reset + random
valid moves, render, PNG encoding, perception text, questions, parquet writing, card) into a temporary
folder; the time is the whole call's wall clock, worker start-up included. The last line builds every game
at once. Rows are split 80/20 into train/test. Target: >= 500 samples/s on 2 cores.

Late-game states (``states-<game>`` rows with ``late-game`` sampling: a seeded deal, then the oracle plays
m moves, m uniform in 0..rows*cols/2): the 12x12 Shisen-Sho presets, each row made exactly as the builder
makes it (``g1bench.data.sampling.states_row``), rows shared out over worker processes; the time is the wall
clock of all rows, worker start-up excluded. Also prints a digest of the rows, so two versions of the code
can be checked to make identical rows. Target: >= 10 rows/s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def bench(games: list[str], presets: str | None, rows: int, workers: int) -> tuple[int, float, float]:
    from g1bench.data.build import build_dataset, make_spec

    train = rows * 4 // 5
    spec = make_spec(configs="perception", games=games, presets=presets, train=train, test=rows - train)
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        report = build_dataset(out, spec, workers=workers, log=lambda msg: None)
        dt = time.perf_counter() - t
    n = report.rows()
    return n, n / dt, report.bytes() / n


#: the 12x12 presets (the board size at which the oracle's look-ahead is costly)
LATE_GAME_PRESETS = ("more-tiles", "composition")


def _late_rows(job: tuple[str, list[int]]) -> tuple[list[tuple[int, str]], float]:
    """(moves, state hash) of the late-game rows of ``job`` = (preset, seeds), made as the builder makes them,
    and the CPU seconds they took."""
    from g1bench.data.sampling import EnvCache, states_row
    from g1bench.eval.policies import OraclePolicy

    preset, seeds = job
    cpu = time.process_time()
    env, oracle = EnvCache().get("shisensho", preset, {}), OraclePolicy()
    out = []
    for seed in seeds:
        row = states_row(env, preset, {}, "late-game", seed, oracle)
        out.append((row["moves"], row["state_hash"]))
    return out, time.process_time() - cpu


def _warm(_: int) -> int:
    import g1bench  # noqa: F401 - import the package in each worker before the clock starts

    return 0


def bench_late_game(rows: int, workers: int) -> None:
    import hashlib
    import multiprocessing as mp

    from g1bench.data.sampling import TRAIN_SEED_BASE

    print(f"late-game states, shisensho 12x12 presets, {rows} rows per preset, {workers} workers")
    print("(rows/s: wall clock; cpu rows/s: rows / the busiest worker's CPU seconds, i.e. the rate on idle cores)")
    print(f"{'preset':<14} {'rows':>5} {'rows/s':>8} {'cpu rows/s':>11} {'s/row':>7} {'moves/row':>10}  digest")
    ctx = mp.get_context("spawn")
    with ctx.Pool(max(workers, 1)) as pool:
        pool.map(_warm, range(max(workers, 1)))
        for preset in LATE_GAME_PRESETS:
            seeds = [TRAIN_SEED_BASE + i for i in range(rows)]
            jobs = [(preset, seeds[w::max(workers, 1)]) for w in range(max(workers, 1))]
            t = time.perf_counter()
            parts = pool.map(_late_rows, jobs)
            dt = time.perf_counter() - t
            done = sorted((s, m, h) for job, (part, _) in zip(jobs, parts) for s, (m, h) in zip(job[1], part))
            cpu = max(c for _, c in parts)
            digest = hashlib.sha256(repr(done).encode()).hexdigest()[:16]
            moves = sum(m for _, m, _ in done) / len(done)
            print(f"{preset:<14} {len(done):>5} {len(done) / dt:>8.1f} {len(done) / cpu:>11.1f} {dt / len(done):>7.3f} "
                  f"{moves:>10.1f}  {digest}")


def main() -> None:
    import g1bench
    from g1bench.data.build import default_presets

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["perception", "late-game", "all"], default="all")
    ap.add_argument("--rows", type=int, default=4000, help="perception rows per (game, preset)")
    ap.add_argument("--late-rows", type=int, default=40, help="late-game state rows per 12x12 preset")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--presets", choices=["paper", "all"], default="paper",
                    help="'paper': each game's paper preset (its offline equivalent for shisensho-images); "
                         "'all': every preset that builds offline")
    args = ap.parse_args()
    if args.part in ("late-game", "all"):
        bench_late_game(args.late_rows, args.workers)
    if args.part == "late-game":
        return
    offline = default_presets()
    print(f"perception build, {args.rows} rows per (game, preset), {args.workers} workers, cpu_count={os.cpu_count()}")
    print(f"{'game':<18} {'presets':<48} {'samples':>8} {'samples/s':>10} {'bytes/sample':>13}")
    all_presets = []
    for game in g1bench.list_games():
        presets = offline[game] if args.presets == "all" else (["paper"] if "paper" in offline[game] else offline[game][:1])
        all_presets += [f"{game}:{p}" for p in presets]
        n, rate, size = bench([game], ",".join(f"{game}:{p}" for p in presets), args.rows, args.workers)
        print(f"{game:<18} {','.join(presets):<48} {n:>8} {rate:>10.0f} {size:>13.0f}")
    n, rate, size = bench(g1bench.list_games(), ",".join(all_presets), args.rows, args.workers)
    print(f"{'all games':<18} {'':<48} {n:>8} {rate:>10.0f} {size:>13.0f}")


if __name__ == "__main__":
    main()

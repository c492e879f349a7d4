"""Perception-data build speed: samples/s and bytes/sample for every game, on N worker processes.

    python benchmarks/dataset_build.py [--rows 4000] [--workers 2] [--presets paper|all]

Each game's perception configs are built with ``g1bench.data.build_dataset`` (reset + random valid moves,
render, PNG encoding, perception text, questions, parquet writing, card) into a temporary folder; the time is
the whole call's wall clock, worker start-up included. The last line builds every game at once. Rows are
split 80/20 into train/test. Target: >= 500 samples/s on 2 cores.
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


def main() -> None:
    import g1bench
    from g1bench.data.build import default_presets

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=4000, help="rows per (game, preset)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--presets", choices=["paper", "all"], default="paper",
                    help="'paper': each game's paper preset (its offline equivalent for shisensho-images); "
                         "'all': every preset that builds offline")
    args = ap.parse_args()
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

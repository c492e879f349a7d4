"""Env steps per second per game, with and without rendering, at each game's paper preset (one core).

    python benchmarks/env_throughput.py [--steps 3000] [--preset paper] [--policy random|legal]

"with rendering" = ``G1Env.step`` (rules + info + a fresh frame as the observation);
"rules only" = the game's ``apply`` alone. The random policy samples the structured action space
(for tile games almost every action is invalid, as with an untrained model); the legal policy plays a
uniformly random valid move (every step changes the board and the frame).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import g1bench

OVERRIDES = {"shisensho-images": {"tile_source": "bundled"}}


def _actions(env, policy, rng):
    if policy == "legal":
        legal = env.game.legal_actions()
        return legal[int(rng.integers(len(legal)))] if legal else env.action_space.sample()
    return env.action_space.sample()


def bench(game: str, preset: str, steps: int, policy: str, render: bool) -> float:
    env = g1bench.make(game, preset, **OVERRIDES.get(game, {}))
    env.reset(seed=0)
    env.action_space.seed(0)
    rng = np.random.default_rng(0)
    done = 0
    elapsed = 0.0
    episode = 0
    while done < steps:
        action = _actions(env, policy, rng)
        t = time.perf_counter()
        if render:
            _, _, term, _, _ = env.step(action)
        else:
            term = env.game.apply(env.game.coerce_action(action), env.np_random).terminated
        elapsed += time.perf_counter() - t
        done += 1
        if term:
            episode += 1
            env.reset(seed=episode)
    return steps / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--preset", default="paper")
    ap.add_argument("--policy", choices=["random", "legal", "both"], default="both")
    args = ap.parse_args()
    policies = ["random", "legal"] if args.policy == "both" else [args.policy]
    try:
        os.sched_setaffinity(0, {0})  # one core, as the target is stated per core
    except (AttributeError, OSError):
        pass
    print(f"g1bench {g1bench.__version__}, preset {args.preset}, {args.steps} steps, one core")
    print(f"{'game':<18}{'policy':<8}{'with rendering':>16}{'rules only':>14}  frame")
    for game in g1bench.list_games():
        if args.preset not in g1bench.list_presets(game):
            print(f"{game:<18}(no preset {args.preset!r})")
            continue
        env = g1bench.make(game, args.preset, **OVERRIDES.get(game, {}))
        h, w = env.observation_space.shape[:2]
        for policy in policies:
            with_r = bench(game, args.preset, args.steps, policy, render=True)
            without = bench(game, args.preset, args.steps, policy, render=False)
            print(f"{game:<18}{policy:<8}{with_r:>13,.0f}/s{without:>12,.0f}/s  {w}x{h}")


if __name__ == "__main__":
    main()

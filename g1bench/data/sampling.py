"""How every row of every config is made: pure functions of (game, difficulty, overrides, seed, ...).

Nothing here depends on the process, the worker or the order in which rows are built, so a build is
byte-for-byte reproducible and any shard can be rebuilt alone.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import numpy as np

from ..core.env import G1Env
from ..core.hashing import canonical_json
from ..eval.policies import OraclePolicy, Turn, get_policy
from ..eval.suites import PAPER_EVAL_WARMUP, PAPER_TRAIN_WARMUP, EpisodeSpec, get_suite, start_game
from ..render.png import encode_png

#: first seed of each split; a split holds at most SPLIT_SEEDS rows per (config, preset[, sampling])
TRAIN_SEED_BASE = 1_000_000
TEST_SEED_BASE = 2_000_000
SPLIT_SEEDS = 1_000_000
SEED_BASE = {"train": TRAIN_SEED_BASE, "test": TEST_SEED_BASE}
#: first seed of the baseline episodes (disjoint from the evaluation suites' seeds 0..9)
EPISODE_SEED_BASE = 1_000_000


#: perception rows play 0..N random valid moves after the reset (None: rows*cols//2 - 1, i.e. up to one pair left)
PERCEPTION_WARMUP_MAX: dict[str, int | None] = {"2048": 60, "shisensho": None, "shisensho-images": None, "swap": 10}
#: late-game states: the oracle plays 0..N moves (None: rows*cols//2, i.e. until the board is nearly cleared)
LATE_GAME_MAX: dict[str, int | None] = {"2048": 1000, "shisensho": None, "shisensho-images": None, "swap": 100}

SAMPLINGS = ("paper", "late-game")

# generator tags: each use of a row's seed draws from its own stream
_TAG_WARMUP, _TAG_QA, _TAG_LATE = 0x9E1, 0x9A2, 0x1A7E


def overrides_for(game: str) -> dict[str, Any]:
    """Knob overrides a build adds to a preset (none: presets are used as defined)."""
    return {}


def needs_download(game: str, preset: str) -> bool:
    """Whether a preset's pictures come from outside the package (e.g. CIFAR-10 from the Hub)."""
    from ..games import get_game

    source = getattr(get_game(game).Config.from_preset(preset), "tile_source", None)
    return source is not None and source != "bundled"


def available_exactly(game: str, preset: str) -> bool:
    """Whether the preset builds as defined here (its tile source loads instead of falling back)."""
    import warnings

    from ..games import get_game

    wanted = get_game(game).Config.from_preset(preset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = G1Env(game, difficulty=preset, render_mode=None)
    return env.config == wanted


class EnvCache:
    """One env per (game, difficulty, overrides) in this process."""

    def __init__(self) -> None:
        self._envs: dict[tuple[str, str, str], G1Env] = {}

    def get(self, game: str, difficulty: str, overrides: dict[str, Any]) -> G1Env:
        key = (game, difficulty, canonical_json(overrides))
        env = self._envs.get(key)
        if env is None:
            env = G1Env(game, difficulty=difficulty, **overrides)
            self._envs[key] = env
        return env


def _limit(table: dict[str, int | None], env: G1Env, pairs: bool) -> int:
    value = table.get(env.game.name, 20)
    if value is not None:
        return value
    rows, cols = env.game.shape
    return rows * cols // 2 - (1 if pairs else 0)


def _play_without_ending(env: G1Env, action: Any) -> bool:
    """Apply ``action``; if it would end the game, undo it and return False."""
    before = env.get_state()
    if env.judge(action).outcome.terminated:
        env.set_state(before)
        return False
    return True


def _model_frame_png(env: G1Env, frame: np.ndarray) -> dict[str, Any]:
    """The ``model_frame`` cell of a row: the picture a model is given for ``frame``, as PNG."""
    return {"bytes": encode_png(env.model_observation(frame)), "path": None}


def _board_columns(env: G1Env) -> dict[str, Any]:
    game = env.game
    frame = env.render()
    return {
        "frame": {"bytes": encode_png(frame), "path": None},
        "model_frame": _model_frame_png(env, frame),
        "prompt": env.prompt,
        "perception": game.perception_text(),
        "structured_state": canonical_json(game.structured_state()),
        "state": canonical_json(env.get_state()),
        "state_hash": env.state_hash(),
        "score": int(game.score),
    }


# -- perception ------------------------------------------------------------------------------------------
def perception_row(env: G1Env, difficulty: str, overrides: dict[str, Any], seed: int) -> dict[str, Any]:
    """One perception row: ``reset(seed)``, then k uniformly random valid moves (k drawn from the seed)."""
    env.reset(seed=seed)
    rng = np.random.default_rng([seed, _TAG_WARMUP])
    k = int(rng.integers(0, _limit(PERCEPTION_WARMUP_MAX, env, pairs=True) + 1))
    played = 0
    for _ in range(k):
        legal = env.game.legal_actions()
        if not legal:
            break
        played += 1
        if env.judge(legal[int(rng.integers(len(legal)))]).outcome.terminated:
            break
    row = {"game": env.game.name, "difficulty": difficulty, "overrides": canonical_json(overrides),
           "seed": seed, "warmup": played}
    row.update(_board_columns(env))
    row["qa"] = questions(env, np.random.default_rng([seed, _TAG_QA]))
    return row


def _cell_text(value: Any) -> str:
    return "empty" if value in (None, 0, "") else str(value)


def _pair_list(actions: list) -> str:
    pairs = sorted(tuple(sorted(((a[0], a[1]), (a[2], a[3])))) for a in actions)
    return "; ".join(f"({a[0]}, {a[1]}) ({b[0]}, {b[1]})" for a, b in pairs) or "none"


_WHERE_TEXT = "Rows and columns are 0-indexed from the top-left."
_MOVES_QUESTION = {
    "2048": ("Which moves change the board? Answer with the action numbers (0 Up, 1 Right, 2 Down, 3 Left) in "
             "increasing order, separated by ', ', or 'none'."),
    "shisensho": ("Which pairs of tiles can be removed now (identical tiles joined by a path with at most two turns "
                  "through empty cells)? " + _WHERE_TEXT + " List every pair once as '(r1, c1) (r2, c2)' with the "
                  "first cell before the second in reading order, pairs in reading order, separated by '; ', or 'none'."),
    "swap": ("Which swaps of two adjacent tiles create a line of three or more identical tiles? " + _WHERE_TEXT +
             " List every swap once as '(r1, c1) (r2, c2)' with the first cell before the second in reading order, "
             "swaps in reading order, separated by '; ', or 'none'."),
}
_MOVES_QUESTION["shisensho-images"] = _MOVES_QUESTION["shisensho"]


def questions(env: G1Env, rng: np.random.Generator) -> list[dict[str, str]]:
    """Questions about the current frame with exact answers (see the card's "Question types")."""
    game = env.game
    name = game.name
    cells = game.structured_state()["cells"]
    rows, cols = len(cells), len(cells[0])
    is_2048 = name == "2048"
    out = []
    r, c = int(rng.integers(rows)), int(rng.integers(cols))
    if is_2048:
        q = f"What number is on the tile at row {r}, column {c}? {_WHERE_TEXT} Answer with the number, or 'empty'."
    else:
        q = (f"Which tile is at row {r}, column {c}? {_WHERE_TEXT} Answer with the tile's name as written in the "
             "perception format, or 'empty'.")
    out.append({"type": "cell", "question": q, "answer": _cell_text(cells[r][c])})
    filled = [v for row in cells for v in row if _cell_text(v) != "empty"]
    if filled:
        v = filled[int(rng.integers(len(filled)))]
        q = (f"How many tiles with the number {v} are on the board?" if is_2048
             else f"How many '{v}' tiles are on the board?")
        out.append({"type": "count", "question": q, "answer": str(sum(1 for x in filled if x == v))})
    if name != "swap":  # a Swap board is always full
        out.append({"type": "empty", "question": "How many cells of the board are empty?",
                    "answer": str(rows * cols - len(filled))})
    if name in _MOVES_QUESTION:
        legal = game.legal_actions()
        if is_2048:
            answer = ", ".join(str(a) for a in sorted(legal)) or "none"
        else:
            answer = _pair_list(legal)
        out.append({"type": "moves", "question": _MOVES_QUESTION[name], "answer": answer})
    return out


# -- states ----------------------------------------------------------------------------------------------
def states_row(env: G1Env, difficulty: str, overrides: dict[str, Any], sampling: str, seed: int,
               oracle: OraclePolicy) -> dict[str, Any]:
    """One start state. ``paper``: the paper's training-state sampling (seeded reset + random warm-up with
    ``PAPER_TRAIN_WARMUP`` moves, exactly :func:`g1bench.eval.suites.start_game`); ``late-game``: seeded
    reset + the oracle for m moves, m uniform in 0..``LATE_GAME_MAX`` drawn from the seed, stopping one move
    before the game would end."""
    name = env.game.name
    first_game = 0
    if sampling == "paper":
        moves = PAPER_TRAIN_WARMUP.get(name, 0)
        spec = EpisodeSpec(name, difficulty, seed=seed, steps=1, warmup=moves, overrides=overrides)
        first_game = start_game(spec, env, 0)
    elif sampling == "late-game":
        env.reset(seed=seed)
        target = int(np.random.default_rng([seed, _TAG_LATE]).integers(0, _limit(LATE_GAME_MAX, env, pairs=False) + 1))
        moves = 0
        while moves < target:
            action = env.game.parse_answer(oracle.best_answer(env.get_state()))
            if not _play_without_ending(env, action):
                break
            moves += 1
    else:
        raise ValueError(f"unknown sampling {sampling!r}; choose from {list(SAMPLINGS)}")
    row = {"game": name, "difficulty": difficulty, "overrides": canonical_json(overrides), "seed": seed,
           "sampling": sampling, "moves": moves, "first_game": first_game}
    row.update(_board_columns(env))
    row["n_legal"] = len(env.game.legal_actions())
    return row


# -- episodes --------------------------------------------------------------------------------------------
def episode_rows(env: G1Env, difficulty: str, overrides: dict[str, Any], policy_name: str, index: int,
                 steps: int) -> Iterator[dict[str, Any]]:
    """A baseline policy's episode: the evaluation protocol (start_game with the paper's evaluation warm-up,
    auto-continuing on the episode's seed stream when a game ends), one row per step."""
    name = env.game.name
    spec = EpisodeSpec(name, difficulty, seed=EPISODE_SEED_BASE + index, steps=steps,
                       warmup=PAPER_EVAL_WARMUP.get(name, 0), overrides=overrides, index=index)
    episode_id = f"{policy_name}/{spec.episode_id}"
    policy = get_policy(policy_name)
    k = start_game(spec, env, 0)
    frame = env.render()
    for t in range(steps):
        perception, state_hash = env.game.perception_text(), env.state_hash()
        turn = Turn(game=name, frame=None, prompt=env.prompt, state=env.get_state(), episode=spec.episode_id, step=t)
        answer = policy.act([turn])[0].text
        next_frame, reward, terminated, _, info = env.step(answer)
        action = info["action"]
        yield {
            "episode_id": episode_id, "policy": policy_name, "step": t, "game_index": k, "game": name,
            "difficulty": difficulty, "overrides": canonical_json(overrides), "seed": spec.seed,
            "frame": {"bytes": encode_png(frame), "path": None}, "model_frame": _model_frame_png(env, frame),
            "prompt": env.prompt, "history": 0, "answer": answer,
            "action": None if action is None else [int(v) for v in np.atleast_1d(action)],
            "parse_error": info["parse_error"], "reward": float(reward), "score_delta": int(info["score_delta"]),
            "valid": bool(info["valid"]), "success": bool(info["success"]), "terminated": bool(terminated),
            "done": bool(terminated or t == steps - 1), "perception": perception,
            "perception_ok": info.get("perception_ok"), "format_ok": info.get("format_ok"),
            "state_hash": state_hash, "output_tokens": None, "latency_s": None,
        }
        frame = next_frame
        if terminated and t < steps - 1:
            k = start_game(spec, env, k + 1)
            frame = env.render()


# -- manifests -------------------------------------------------------------------------------------------
def manifest_rows(suite_name: str) -> list[dict[str, Any]]:
    """``get_suite(name).manifest()`` as rows, with the suite's name, version and hash."""
    suite = get_suite(suite_name)
    suite_hash = suite.hash()
    rows = []
    for m in suite.manifest():
        rows.append({
            "suite": suite.name, "suite_version": suite.version, "suite_hash": suite_hash,
            "episode_id": m["episode_id"], "index": m["index"], "game": m["game"], "difficulty": m["difficulty"],
            "overrides": canonical_json(m["overrides"]), "seed": m["seed"], "steps": m["steps"],
            "warmup": m["warmup"], "first_game": m["first_game"], "start_state_hash": m["start_state_hash"],
        })
    return rows


def manifest_json(suite_name: str) -> bytes:
    """The suite (``to_dict``) and its manifest as canonical, indented JSON bytes."""
    suite = get_suite(suite_name)
    data = {"suite": suite.to_dict(), "manifest": suite.manifest()}
    return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=True) + "\n").encode()


__all__ = [
    "EPISODE_SEED_BASE", "SAMPLINGS", "SEED_BASE", "SPLIT_SEEDS", "TEST_SEED_BASE",
    "TRAIN_SEED_BASE", "EnvCache", "available_exactly", "episode_rows", "manifest_json", "manifest_rows",
    "needs_download", "overrides_for",
    "perception_row", "questions", "states_row",
]

"""Suites: versioned, named, immutable lists of episodes to evaluate, with a content hash.

An episode is (game, difficulty preset, knob overrides, seed, step budget, warm-up). Its start state is
a pure function of those: ``reset(seed)`` then ``warmup`` random moves drawn from a generator seeded by
the seed. When a game ends inside the step budget, the next game of that episode starts from the next
seed of the episode's seed stream (see :func:`stream_seed`), as the original's auto-reset did, but
deterministically.

A suite's hash covers its episodes and the versions of every rule, prompt and renderer it touches, so
a result is only ever compared with results of the identical benchmark. Changing a preset, a prompt or
the renderer changes a start-state or prompt hash in the published manifest; tests fail until the
suite's version is bumped.

A built-in suite keeps its older versions resolvable (``get_suite("paper-v2")``), so runs made with them
still verify: an older version pins the knobs added since (``EpisodeSpec.pinned``) to the values that
reproduce it exactly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Mapping

import numpy as np

from ..core.config import MAX_HISTORY, UnknownNameError
from ..core.env import G1Env
from ..tiles import quiet_fallback
from ..core.hashing import content_hash
from ..games import GAMES, get_game
from .history import episode_history, group_key

#: The paper's warm-up before the policy steps (only 2048 is warmed up at evaluation time).
PAPER_EVAL_WARMUP = {"2048": 100, "shisensho": 0, "shisensho-images": 0, "swap": 0}
#: The paper's warm-up when sampling RL training states (spec §4.1).
PAPER_TRAIN_WARMUP = {"2048": 100, "shisensho": 250, "shisensho-images": 250, "swap": 0}
#: How an unparseable answer is treated at test time: 2048 plays a random move (the paper's
#: parse_action_test_time); the tile games count it as a failed move.
PAPER_INVALID_ANSWER = {"2048": "random-move", "shisensho": "fail", "shisensho-images": "fail", "swap": "fail"}


@dataclass(frozen=True)
class EpisodeSpec:
    """One evaluation episode."""

    game: str
    difficulty: str
    seed: int
    steps: int
    warmup: int = 0
    overrides: Mapping[str, Any] = field(default_factory=dict)
    index: int = 0
    #: knobs an older suite version pins to the value that reproduces it, for knobs added after it was made
    #: (e.g. ``model_frame: native`` for ``paper-v2``). Not in :meth:`to_dict`: the suite's record and hash
    #: predate them, and such a knob at that value is left out of the config's dict too (``omit_default``).
    pinned: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def episode_id(self) -> str:
        """Unique within a suite: ``game/difficulty/index`` (``game/difficulty@hK/index`` at history K > 0)."""
        return f"{self.group}/{self.index}"

    @property
    def group(self) -> str:
        """The (game, difficulty) cell this episode is scored in; with the ``history`` knob at K > 0 the cell is
        ``game/difficulty@hK`` (:func:`g1bench.eval.history.group_key`)."""
        return group_key(self.game, self.difficulty, self.history)

    @property
    def history(self) -> int:
        """The episode's ``history`` knob (past turns in the model's context; presets leave it at 0)."""
        return episode_history({"overrides": self.env_overrides()})

    def to_dict(self) -> dict[str, Any]:
        return {"game": self.game, "difficulty": self.difficulty, "seed": self.seed, "steps": self.steps,
                "warmup": self.warmup, "overrides": dict(self.overrides), "index": self.index}

    def env_overrides(self) -> dict[str, Any]:
        """The knob overrides the episode's env is built with: the pinned knobs, then the episode's own."""
        return {**dict(self.pinned), **dict(self.overrides)}

    def make_env(self, render_mode: str | None = "rgb_array") -> G1Env:
        return G1Env(self.game, difficulty=self.difficulty, render_mode=render_mode, **self.env_overrides())


def stream_seed(seed: int, k: int) -> int:
    """The seed of the k-th game of an episode whose first game uses ``seed`` (k = 0 gives ``seed``)."""
    if k == 0:
        return seed
    return int(np.random.SeedSequence([seed, k]).generate_state(1, dtype=np.uint32)[0])


def warm_up(env: G1Env, seed: int, moves: int) -> None:
    """Play ``moves`` random moves as the paper's warm-up did, from a generator seeded by ``seed``.

    2048 draws 0-4 where 4 is the original's "Still" (nothing happens); tile games draw uniform
    coordinates on the board. Frames are not rendered.
    """
    if moves <= 0:
        return
    rng = np.random.default_rng([seed, 0x5EED])
    game = env.game
    rows, cols = game.shape
    for _ in range(moves):
        if game.name == "2048":
            a = int(rng.integers(5))
            if a == 4:
                continue
            action = a
        else:
            r1, r2 = (int(v) for v in rng.integers(0, rows, size=2))
            c1, c2 = (int(v) for v in rng.integers(0, cols, size=2))
            action = (r1, c1, r2, c2)
        if env.judge(action).outcome.terminated or game.is_over():
            break


def start_game(spec: EpisodeSpec, env: G1Env, k: int) -> int:
    """Put ``env`` at the start of game k of episode ``spec``; returns the game index actually used.

    Game 0 is a seeded reset plus the episode's warm-up. A later game (after one ended inside the step
    budget) is a fresh seeded deal with no warm-up, as the original's auto-reset gave. If a start position
    has no move left (a warm-up can end a 2048 game), the next seed of the stream is used,
    deterministically.
    """
    while True:
        seed = stream_seed(spec.seed, k)
        env._reset(seed=seed)  # no frame: the warm-up changes the board first
        if k == 0:
            warm_up(env, seed, spec.warmup)
        if not env.game.is_over():
            env._begin_episode()  # the warm-up's moves are not the episode's steps
            return k
        k += 1


@dataclass(frozen=True)
class Suite:
    """A named, versioned list of episodes.

    Attributes:
        name / version: ``paper`` v1 etc. Comparable results share name, version and hash.
        invalid_answer: per game, ``"random-move"`` or ``"fail"`` for unparseable answers.
    """

    name: str
    version: int
    episodes: tuple[EpisodeSpec, ...]
    description: str = ""
    invalid_answer: Mapping[str, str] = field(default_factory=lambda: dict(PAPER_INVALID_ANSWER))

    @property
    def suite_id(self) -> str:
        return f"{self.name}-v{self.version}"

    def games(self) -> list[str]:
        return sorted({e.game for e in self.episodes}, key=list(GAMES).index)

    def groups(self) -> list[str]:
        seen: dict[str, None] = {}
        for e in self.episodes:
            seen.setdefault(e.group, None)
        return list(seen)

    def env_versions(self) -> dict[str, Any]:
        """Rule, prompt and renderer versions of every (game, difficulty, overrides) in the suite."""
        out = {}
        for e in self.episodes:
            key = f"{e.group}|{json.dumps(dict(e.overrides), sort_keys=True)}"
            if key not in out:
                out[key] = _versions(e.game, e.difficulty, json.dumps(e.env_overrides(), sort_keys=True))
        return out

    def hash(self) -> str:
        return content_hash({
            "name": self.name, "version": self.version,
            "episodes": [e.to_dict() for e in self.episodes],
            "invalid_answer": dict(self.invalid_answer),
            "envs": self.env_versions(),
        })

    def manifest(self) -> list[dict[str, Any]]:
        """Every episode with its start-state hash (after warm-up) and first seed."""
        rows = []
        for e in self.episodes:
            env = e.make_env(render_mode=None)
            with quiet_fallback():  # bookkeeping, not play (each row records the tile source really used)
                k = start_game(e, env, 0)
            rows.append({**e.to_dict(), "episode_id": e.episode_id, "first_game": k,
                         "start_state_hash": env.state_hash(),
                         "start_frame_hash": frame_hash(env.canvas.render(env.game, copy=False)),
                         "tile_source": env.config.to_dict().get("tile_source")})
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "suite_id": self.suite_id, "hash": self.hash(),
                "description": self.description, "invalid_answer": dict(self.invalid_answer),
                "episodes": [e.to_dict() for e in self.episodes]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Suite":
        """The suite a :meth:`to_dict` record describes (ValueError naming the field when it is malformed:
        records are read back from run files anyone may have edited)."""
        if not isinstance(d, Mapping):
            raise ValueError(f"a suite record is an object, got {type(d).__name__}")
        if not isinstance(d.get("episodes"), list):
            raise ValueError("'episodes' must be a list of episode objects")
        eps = tuple(_episode_from_dict(e, i) for i, e in enumerate(d["episodes"]))
        if len({e.episode_id for e in eps}) != len(eps):
            raise ValueError("two episodes share a game, difficulty and index (episode ids must be unique)")
        name, version, invalid = d.get("name"), d.get("version"), d.get("invalid_answer", PAPER_INVALID_ANSWER)
        if not isinstance(name, str) or not _is_int(version):
            raise ValueError("'name' must be text and 'version' an integer")
        if not isinstance(invalid, Mapping) or not all(isinstance(v, str) for v in invalid.values()):
            raise ValueError("'invalid_answer' must map games to text")
        description = d.get("description", "")
        return cls(name=name, version=version, episodes=eps, description=description if isinstance(description, str) else "",
                   invalid_answer=dict(invalid))


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _episode_from_dict(e: Any, i: int) -> EpisodeSpec:
    """One episode of a suite record, with the types :class:`EpisodeSpec` needs."""
    if not isinstance(e, Mapping):
        raise ValueError(f"episodes[{i}] must be an object, got {type(e).__name__}")
    unknown = set(e) - {"game", "difficulty", "seed", "steps", "warmup", "overrides", "index"}
    if unknown:
        raise ValueError(f"episodes[{i}] has unknown fields {sorted(unknown)}")
    if not isinstance(e.get("game"), str) or not isinstance(e.get("difficulty"), str):
        raise ValueError(f"episodes[{i}]: 'game' and 'difficulty' must be text")
    for k, low in (("seed", 0), ("steps", 1), ("warmup", 0), ("index", 0)):
        if k in e and not (_is_int(e[k]) and e[k] >= low):
            raise ValueError(f"episodes[{i}].{k} must be an integer >= {low}, got {e[k]!r}")
    if "seed" not in e or "steps" not in e:
        raise ValueError(f"episodes[{i}] needs 'seed' and 'steps'")
    if not isinstance(e.get("overrides", {}), Mapping):
        raise ValueError(f"episodes[{i}].overrides must be an object")
    return EpisodeSpec(**e)


@lru_cache(maxsize=None)
def _versions(game: str, difficulty: str, overrides_json: str) -> dict[str, Any]:
    """What defines one (game, difficulty, overrides) cell: rule/prompt/renderer versions, the config really
    used, a hash of a reference frame (so any change in pixels changes the suite hash) and the knobs this
    machine had to substitute (e.g. the bundled tiles when CIFAR-10 cannot be downloaded)."""
    overrides = json.loads(overrides_json)
    env = G1Env(game, difficulty=difficulty, render_mode=None, **overrides)
    out = env.versions()
    requested = get_game(game).Config.from_preset(difficulty, **overrides).to_dict()
    out["substituted"] = {k: [requested[k], v] for k, v in out["config"].items() if requested.get(k) != v}
    with quiet_fallback():  # hashing is not playing: substituted tiles are announced when the game is played
        env.reset(seed=0)
    out["frame_hash"] = frame_hash(env.canvas.render(env.game, copy=False))
    return out


def frame_hash(frame: np.ndarray) -> str:
    """Hash of a frame's shape and pixels."""
    return content_hash([list(frame.shape), hashlib.sha256(np.ascontiguousarray(frame).tobytes()).hexdigest()])


# -- built-in suites --------------------------------------------------------------------------------
#: what ``paper-v2`` / ``smoke-v2`` pin: they were made before the model_frame knob, with native frames
_BEFORE_MODEL_FRAME = {"model_frame": "native"}


def _paper(version: int = 3) -> Suite:
    pinned = _BEFORE_MODEL_FRAME if version == 2 else {}
    eps = []
    for game in GAMES:
        for i in range(10):
            eps.append(EpisodeSpec(game, "paper", seed=i, steps=100, warmup=PAPER_EVAL_WARMUP[game], index=i,
                                   pinned=pinned))
    if version == 2:  # G1's prompts and answer grammar (the paper presets' prompt_version / answer_grammar)
        return Suite("paper", 2, tuple(eps), "The G1 protocol as of g1bench 0.2: per game 10 episodes x 100 policy "
                     "steps at the paper preset (G1's prompts and answer grammar, frames at their native size); 2048 "
                     "after 100 random warm-up moves. Superseded by paper-v3 (G1's frame sizes).")
    # v3: the model is given G1's frame sizes (the paper presets' model_frame: 2048 640x840, tile games 640x640)
    return Suite("paper", 3, tuple(eps), "The G1 protocol: per game 10 episodes x 100 policy steps at the paper "
                 "preset (G1's prompts, answer grammar and frame sizes: 2048 640x840, tile games 640x640); 2048 after "
                 "100 random warm-up moves.")


def _grid(version: int = 2) -> Suite:
    eps = []
    for game, cls in GAMES.items():
        for preset in cls.Config.presets:
            if preset == "paper":
                continue
            for i in range(5):
                eps.append(EpisodeSpec(game, preset, seed=i, steps=30, warmup=PAPER_EVAL_WARMUP[game], index=i))
    # v2: the games' v1 (configs gained the protocol knobs; these presets still use g1bench's prompts and
    # native frames)
    return Suite("grid", 2, tuple(eps), "Every game x every difficulty preset, 5 episodes x 30 steps: "
                 "charts difficulty along the perception and reasoning axes.")


def _smoke(version: int = 3) -> Suite:
    pinned = _BEFORE_MODEL_FRAME if version == 2 else {}
    eps = [EpisodeSpec(game, "paper", seed=i, steps=4, warmup=PAPER_EVAL_WARMUP[game] // 10, index=i,
                       overrides=_offline_overrides(game), pinned=pinned)
           for game in GAMES for i in range(2)]
    # v2: the paper presets with G1's prompts and answer grammar; v3: and G1's frame sizes
    return Suite("smoke", version, tuple(eps), "Tiny: 2 episodes x 4 steps per game, offline tiles; for CI and checks.")


#: the ``history`` values of the multiturn suite: G1's single step, one past turn, four past turns
MULTITURN_HISTORIES = (0, 1, 4)


def _multiturn(version: int = 1) -> Suite:
    """The paper suite's episodes (same games, presets, seeds, step budgets and warm-ups) at each history of
    :data:`MULTITURN_HISTORIES`; its history-0 episodes are the paper suite's, with the same ids."""
    eps = [EpisodeSpec(game, "paper", seed=i, steps=100, warmup=PAPER_EVAL_WARMUP[game], index=i,
                       overrides={"history": k} if k else {})
           for game in GAMES for k in MULTITURN_HISTORIES for i in range(10)]
    return Suite("multiturn", version, tuple(eps), "Memory: the paper suite (G1's prompts, answer grammar, frame "
                 "sizes and seeds; 10 episodes x 100 steps per game) played at history 0 (G1's single step), 1 and 4: "
                 "the model's chat also holds its last k turns of the current game, each with its frame, its answer "
                 "and the env's feedback line.")


def _offline_overrides(game: str) -> dict[str, Any]:
    return {"tile_source": "bundled"} if game == "shisensho-images" else {}


#: every built-in suite's versions that g1bench can still build (and so verify runs of); the last is current
SUITE_VERSIONS: dict[str, dict[int, Callable[[], Suite]]] = {
    "paper": {2: lambda: _paper(2), 3: lambda: _paper(3)},
    "grid": {2: lambda: _grid(2)},
    "smoke": {2: lambda: _smoke(2), 3: lambda: _smoke(3)},
    "multiturn": {1: lambda: _multiturn(1)},
}
#: the current version of every built-in suite
SUITES = {name: versions[max(versions)] for name, versions in SUITE_VERSIONS.items()}


def get_suite(name: str) -> Suite:
    """A built-in suite by name (``paper``, ``grid``, ``smoke``: the current version) or by id (``paper-v2``: an
    older version, kept so that runs made with it still verify)."""
    base, _, version = name.rpartition("-v")
    if base in SUITE_VERSIONS and version.isdigit():
        known = SUITE_VERSIONS[base]
        if int(version) not in known:
            raise UnknownNameError(f"unknown suite version {name!r}; {base} has versions "
                                   f"{', '.join(f'{base}-v{v}' for v in sorted(known))}")
        return known[int(version)]()
    if name not in SUITES:
        raise UnknownNameError(f"unknown suite {name!r}; suites: {sorted(SUITES)} (or build one with --games/--episodes/...)")
    return SUITES[name]()


def resolve_recorded(suite: Suite) -> Suite:
    """The suite a run file records, as this g1bench builds it: a record of a built-in suite version whose episodes
    are that version's is that built-in (with the knobs it pins); anything else is taken as recorded."""
    versions = SUITE_VERSIONS.get(suite.name, {})
    if suite.version not in versions:
        return suite
    known = versions[suite.version]()
    same = [e.to_dict() for e in known.episodes] == [e.to_dict() for e in suite.episodes]
    return known if same and dict(known.invalid_answer) == dict(suite.invalid_answer) else suite


def custom_suite(games: list[str], difficulty: str = "paper", episodes: int = 10, steps: int = 100,
                 seed: int = 0, warmup: int | None = None, history: int = 0) -> Suite:
    """A suite from command-line flags; its name records the flags and its hash identifies it. ``history`` > 0
    gives the model its last ``history`` turns (the config knob; :mod:`g1bench.eval.history`)."""
    if episodes < 1 or steps < 1:
        raise ValueError("episodes and steps must be >= 1")
    if seed < 0 or (warmup is not None and warmup < 0):
        raise ValueError("seed and warmup must be >= 0")
    if isinstance(history, bool) or not isinstance(history, int) or not 0 <= history <= MAX_HISTORY:
        raise ValueError(f"history must be an integer between 0 and {MAX_HISTORY}, got {history!r}")
    overrides = {"history": history} if history else {}
    names = list(dict.fromkeys(get_game(g).name for g in games))  # canonical names, each game once
    if not names:
        raise ValueError("a custom suite needs at least one game")
    games = names
    eps = []
    for game in games:
        name = game
        get_game(game).Config.from_preset(difficulty)  # validate early with a clear error
        w = PAPER_EVAL_WARMUP[name] if warmup is None else warmup
        eps += [EpisodeSpec(name, difficulty, seed=seed + i, steps=steps, warmup=w, index=i, overrides=overrides)
                for i in range(episodes)]
    label = f"custom-{'+'.join(games)}-{difficulty}-e{episodes}-s{steps}-seed{seed}" + ("" if warmup is None else f"-w{warmup}") \
        + (f"-h{history}" if history else "")
    return Suite(label, 1, tuple(eps), "Custom suite from command-line flags.")

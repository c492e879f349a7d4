"""GRPO training prompts: start states of the games, as a TRL dataset (conversational prompt + image).

The paper trains single decisions (a contextual bandit, spec section 4.1): each RL step samples fresh
start states (seeded reset + random warm-up: 2048 100 moves, Shisen-Sho 250, natural images 250, Swap 0),
shows each one's frame with the game's prompt, samples 5 answers and scores each from that state. Here:

* :class:`StateSampler` maps a row index to a start state: the game is drawn from a weighted mix (one game
  or several), the state is :func:`g1bench.data.sampling.states_row` (``paper`` = the paper's sampler,
  ``late-game`` = oracle play deep into a game), with seed ``GRPO_SEED_BASE + index``. Row i is therefore
  the same state in every process and every run, and has the board of the ``states-<game>`` dataset row of
  that seed.
* :func:`states_from_dataset` takes the start states of a ``states-<game>`` dataset instead.
* :func:`grpo_dataset` wraps either as a ``datasets.Dataset`` whose rows are made when TRL reads them
  (``with_transform``): columns ``prompt`` (the same chat messages the evaluation harness sends: image,
  then the game's prompt), ``image`` (the picture the model is given, ``env.model_observation()``), and
  ``game``, ``difficulty``, ``seed``, ``state`` (the snapshot the rewards restore), ``state_hash``,
  ``perception`` (and ``level``, the curriculum level, in curriculum runs).

**The model sees G1's training pictures.** G1's trainers resized every frame of every game to 640x840 (w x h,
PIL BICUBIC; spec section 4.1) before the model saw it, while its evaluation used 640x640 for the tile games.
Training states therefore carry the ``model_frame`` knob :data:`TRAIN_FRAME` (``G1_TRAIN_FRAME``) by default,
so ``env.model_observation()`` is exactly G1's training picture; ``model_frame="eval"`` keeps each preset's own
(what ``g1bench eval`` gives the model), ``"native"`` the frame as drawn, ``"WxH"`` any size. The knob is part
of the state's config, so the rewards, which restore that state, judge the same board (the state hash differs
from an evaluation state of the same board only by the knob).
* :class:`Curriculum` + :class:`CurriculumCallback`: optionally walk each game's presets along the
  perception x reasoning grid, moving to the next preset when the logged success rate passes a threshold.

**No training state uses an evaluation seed.** Training seeds start at 10**10, above every seed of the
built-in suites (their first seeds are small and their later games' seeds are 32-bit), and a state whose
reset seed still falls in :func:`eval_seeds` (a warm-up can end a game, and the next game of the stream
has a 32-bit seed) is replaced by the state of an alternate seed. ``tests/test_training_states.py``
checks this against the suites' own seed streams and start-state hashes.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..core.config import G1_TRAIN_FRAME, ConfigError, parse_frame_size
from ..core.env import G1Env
from ..core.hashing import canonical_json

#: First seed of the GRPO state stream and of the cold-start stream. Both lie above 2**32, so they never
#: equal a seed of an evaluation suite (small first seeds, 32-bit stream seeds).
GRPO_SEED_BASE = 10_000_000_000
COLDSTART_SEED_BASE = 20_000_000_000
#: Rows per stream; alternate seeds (when a reset seed is an evaluation seed) are ``seed + j * STREAM_SPAN``.
STREAM_SPAN = 1_000_000_000
MAX_ALTERNATES = 9
#: The built-in suites whose seeds training never uses.
EVAL_SUITES = ("paper", "grid", "smoke")
#: Games a suite episode may start beyond its step budget (start_game skips finished start positions).
_STREAM_MARGIN = 16
_TAG_MIX = 0x313E
SAMPLINGS = ("paper", "late-game")
#: The model frame of training states by default: G1's training size, every game (``"640x840"``).
TRAIN_FRAME = "{}x{}".format(*G1_TRAIN_FRAME)
#: ``model_frame`` values besides a size ``WxH``: each preset's own (evaluation) frame, or the frame as drawn.
FRAME_CHOICES = ("eval", "native")


class StatesError(ValueError):
    """The training states cannot be made as asked; the message says what to change."""


# -- evaluation seeds -----------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def eval_seeds(suites: tuple[str, ...] = EVAL_SUITES) -> frozenset[int]:
    """Every reset seed the built-in evaluation suites can use: each episode's first seed and the seeds of
    the later games of its stream (``stream_seed(seed, k)`` for every game k its step budget allows)."""
    from ..eval.suites import get_suite, stream_seed

    out: set[int] = set()
    for name in suites:
        for e in get_suite(name).episodes:
            out.update(stream_seed(e.seed, k) for k in range(e.steps + _STREAM_MARGIN))
    return frozenset(out)


def reset_seed(row: Mapping[str, Any]) -> int:
    """The seed ``env.reset`` got for a ``states`` row (``paper``: the stream seed of its ``first_game``)."""
    from ..eval.suites import stream_seed

    if row.get("sampling", "paper") == "paper":
        return stream_seed(int(row["seed"]), int(row.get("first_game", 0)))
    return int(row["seed"])


# -- what to sample ---------------------------------------------------------------------------------------
def frame_knobs(model_frame: Any) -> dict[str, Any]:
    """The knob overrides that make ``env.model_observation()`` the picture ``model_frame`` asks for: ``"eval"``
    (or None): none, each preset keeps its own; ``"native"``: the frame as drawn; ``"640x840"`` / ``(640, 840)``:
    that size, resized with the preset's filter (BICUBIC, as G1).

    Raises:
        StatesError: anything else.
    """
    if model_frame is None or model_frame == "eval":
        return {}
    try:
        size = parse_frame_size(model_frame)
    except ConfigError as e:
        raise StatesError(f"{e} (or 'eval': each preset's own)") from None
    return {"model_frame": size if size == "native" else list(size)}


@dataclass(frozen=True)
class StateSource:
    """One component of a training mix: a game at a preset, a sampling, its weight in the mix, and the picture
    the model is given (``model_frame``, see :func:`frame_knobs`)."""

    game: str
    preset: str = "paper"
    sampling: str = "paper"
    weight: float = 1.0
    overrides: str = "{}"  # canonical JSON of the knob overrides asked for
    model_frame: str = "eval"

    @property
    def knobs(self) -> dict[str, Any]:
        """The knobs the env is built with: the model frame's, then the overrides asked for (which win)."""
        return {**frame_knobs(self.model_frame), **json.loads(self.overrides)}


def parse_mix(games: str | Sequence[str], preset: str = "paper", sampling: str = "paper",
              overrides: str | Mapping[str, Any] | None = None, model_frame: Any = TRAIN_FRAME) -> list[StateSource]:
    """``"shisensho"``, ``"2048,swap"`` or ``"2048:1,swap:2"`` (weights) as state sources.

    Args:
        games: game names, each optionally ``:weight``.
        preset: difficulty preset of every game.
        sampling: ``paper`` or ``late-game``.
        overrides: per-game knob overrides, as a mapping or its JSON, e.g. ``{"shisensho-images":
            {"tile_source": "bundled"}}``. A game's own ``model_frame`` override wins over ``model_frame``.
        model_frame: the picture the model is given, every game (:func:`frame_knobs`): G1's training size
            (:data:`TRAIN_FRAME`, the default), ``"eval"``, ``"native"`` or ``"WxH"``.

    Raises:
        StatesError: unknown game, preset, sampling or knob; a bad weight or model frame.
    """
    from ..games import get_game, list_games

    if sampling not in SAMPLINGS:
        raise StatesError(f"unknown sampling {sampling!r}; choose from {list(SAMPLINGS)}")
    frame = frame_knobs(model_frame)  # validates it
    model_frame = "eval" if not frame else frame["model_frame"] if frame["model_frame"] == "native" \
        else "{}x{}".format(*frame["model_frame"])
    if isinstance(overrides, str):
        try:
            overrides = json.loads(overrides) if overrides.strip() else {}
        except ValueError as e:
            raise StatesError(f"game overrides are not valid JSON ({e}); example: "
                              '\'{"shisensho-images": {"tile_source": "bundled"}}\'') from None
    overrides = dict(overrides or {})
    if not all(isinstance(v, Mapping) for v in overrides.values()):
        raise StatesError("game overrides map a game to its knobs, e.g. {\"swap\": {\"labels\": true}}")
    if isinstance(games, (int, float)):  # `games: 2048` in a YAML file is a number
        games = str(games)
    items = games.split(",") if isinstance(games, str) else [str(g) for g in games]
    out: list[StateSource] = []
    for item in (s.strip() for s in items):
        if not item:
            continue
        name, _, weight_text = item.partition(":")
        try:
            game = get_game(name.strip()).name
        except KeyError:
            raise StatesError(f"unknown game {name.strip()!r}; games: {list_games()}") from None
        try:
            weight = float(weight_text) if weight_text else 1.0
        except ValueError:
            raise StatesError(f"weight of {game} must be a number, got {weight_text!r}") from None
        if not weight > 0 or not np.isfinite(weight):
            raise StatesError(f"weight of {game} must be > 0, got {weight_text}")
        knobs = dict(overrides.get(game, overrides.get(name.strip(), {})))
        try:
            get_game(game).Config.from_preset(preset, **{**frame, **knobs})
        except (ConfigError, TypeError) as e:
            raise StatesError(f"{game}: {e}") from None
        out.append(StateSource(game, preset, sampling, weight, canonical_json(knobs), model_frame))
    if not out:
        raise StatesError(f"no game given; games: {list_games()}")
    if len({s.game for s in out}) != len(out):
        raise StatesError(f"a game is listed twice in {games!r}")
    known = set(list_games())
    unknown = sorted(g for g in overrides if g not in known and g not in {s.strip().partition(":")[0] for s in items})
    if unknown:  # overrides of games outside the mix are ignored (a recipe's overrides survive --games); typos are not
        raise StatesError(f"game overrides name unknown game(s) {unknown}; games: {list_games()}")
    return out


# -- curriculum -------------------------------------------------------------------------------------------
def grid_order(game: str) -> list[str]:
    """The presets of ``game`` along its perception x reasoning grid, easiest first: base, then harder
    perception, then harder reasoning, then both (one preset per grid cell; presets whose pictures must be
    downloaded are left out when they cannot be loaded here)."""
    from ..data.sampling import available_exactly, needs_download
    from ..games import get_game

    grid = dict(get_game(game).Config.preset_grid)
    p_rank: dict[str, int] = {}
    r_rank: dict[str, int] = {}
    for p_level, r_level in grid.values():
        p_rank.setdefault(p_level, len(p_rank))
        r_rank.setdefault(r_level, len(r_rank))
    cells: dict[tuple[str, str], str] = {}
    for preset, cell in grid.items():
        if preset == "paper" and any(c == cell and p != "paper" for p, c in grid.items()):
            continue  # "paper" equals another cell's preset; name the cell by its grid name
        if needs_download(game, preset) and not available_exactly(game, preset):
            continue
        cells.setdefault(cell, preset)
    return [cells[c] for c in sorted(cells, key=lambda c: (p_rank[c[0]] + r_rank[c[1]], r_rank[c[1]]))]


class Curriculum:
    """Per game, an ordered list of presets and the current one. :meth:`observe` advances a game to its next
    preset after ``patience`` consecutive logged success rates >= ``threshold``.

    Shared by the dataset (which reads :meth:`preset` when it makes a row) and :class:`CurriculumCallback`
    (which feeds it the logged ``g1/<game>/success``). Decisions use gathered metrics, so every process
    makes the same ones; rows already fetched (one generation batch) keep the preset they were made with.
    """

    def __init__(self, levels: Mapping[str, Sequence[str]], threshold: float = 0.5, patience: int = 3):
        if not 0.0 < threshold <= 1.0:
            raise StatesError(f"curriculum threshold must be in (0, 1], got {threshold}")
        if patience < 1:
            raise StatesError(f"curriculum patience must be >= 1, got {patience}")
        self.levels = {g: list(p) for g, p in levels.items()}
        if any(not p for p in self.levels.values()):
            raise StatesError("every game of a curriculum needs at least one preset")
        self.threshold, self.patience = float(threshold), int(patience)
        self.reset()

    def reset(self) -> None:
        self.level = {g: 0 for g in self.levels}
        self._streak = {g: 0 for g in self.levels}

    @classmethod
    def from_grid(cls, games: Iterable[str], threshold: float = 0.5, patience: int = 3,
                  presets: str | None = None) -> "Curriculum":
        """Every game's :func:`grid_order`, or the same explicit comma-separated ``presets`` for each game."""
        from ..games import get_game

        levels = {}
        for game in games:
            if presets:
                wanted = [p.strip() for p in presets.split(",") if p.strip()]
                known = list(get_game(game).Config.presets)
                bad = [p for p in wanted if p not in known]
                if bad:
                    raise StatesError(f"curriculum presets {bad} are not presets of {game}; presets: {known}")
                levels[game] = wanted
            else:
                levels[game] = grid_order(game)
        return cls(levels, threshold, patience)

    def preset(self, game: str) -> str:
        return self.levels[game][self.level[game]]

    def observe(self, game: str, success_rate: float) -> bool:
        """Feed one logged success rate of ``game``; True when the game moved to its next preset."""
        if game not in self.levels or self.level[game] >= len(self.levels[game]) - 1:
            return False
        self._streak[game] = self._streak[game] + 1 if success_rate >= self.threshold else 0
        if self._streak[game] >= self.patience:
            self.level[game] += 1
            self._streak[game] = 0
            return True
        return False

    def describe(self) -> dict[str, Any]:
        return {"levels": self.levels, "threshold": self.threshold, "patience": self.patience,
                "current": {g: self.preset(g) for g in self.levels}}


def curriculum_callback(curriculum: Curriculum):
    """A ``transformers.TrainerCallback`` that feeds the curriculum the logged success rates.

    On resume it replays ``state.log_history`` (restored from the checkpoint), so the curriculum is where it
    was without any extra state file.
    """
    from transformers import TrainerCallback

    class CurriculumCallback(TrainerCallback):
        def __init__(self) -> None:
            self.curriculum = curriculum

        def _feed(self, logs: Mapping[str, Any], quiet: bool) -> None:
            for game in self.curriculum.levels:
                rate = logs.get(f"g1/{game}/success")
                if isinstance(rate, (int, float)) and self.curriculum.observe(game, float(rate)) and not quiet:
                    print(f"[g1bench curriculum] {game}: success {rate:.2f} >= {self.curriculum.threshold} for "
                          f"{self.curriculum.patience} logs; next preset {self.curriculum.preset(game)!r}",
                          file=sys.stderr)

        def on_train_begin(self, args, state, control, **kwargs):
            self.curriculum.reset()
            for logs in state.log_history:
                self._feed(logs, quiet=True)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs:
                self._feed(logs, quiet=not state.is_world_process_zero)

    return CurriculumCallback()


# -- rows -------------------------------------------------------------------------------------------------
def prompt_messages(prompt: str, system_prompt: str | None = None) -> list[dict[str, Any]]:
    """The conversational prompt of one state: exactly what the evaluation harness sends a transformers model
    (:func:`g1bench.models.messages.hf_messages`): optional system message, then the image and the prompt."""
    from ..eval.policies import Turn
    from ..models.messages import hf_messages

    # hf_messages only asks whether the turn has a frame (the image travels beside the messages)
    has_frame = np.zeros((1, 1, 3), dtype=np.uint8)
    return hf_messages(Turn(game="", frame=has_frame, prompt=prompt, state={}), system_prompt)


def env_row(env: G1Env, meta: Mapping[str, Any], system_prompt: str | None = None) -> dict[str, Any]:
    """A training row for the env's current state: prompt messages, the picture the model is given
    (``env.model_observation()``, PIL) and the reward columns."""
    from ..models.messages import to_pil

    return {
        "prompt": prompt_messages(env.prompt, system_prompt),
        "image": to_pil(env.model_observation()),
        "game": env.game.name,
        "difficulty": meta["difficulty"],
        "seed": int(meta["seed"]),
        "state": canonical_json(env.get_state()),
        "state_hash": env.state_hash(),
        "perception": env.game.perception_text(),
        **({"level": int(meta["level"])} if "level" in meta else {}),  # curriculum runs only
    }


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class StateSampler:
    """Row index -> start state, for a weighted mix of state sources.

    Args:
        sources: from :func:`parse_mix`.
        seed_base: first seed of the stream (:data:`GRPO_SEED_BASE`; the cold start uses its own).
        curriculum: optional; its current preset replaces each source's preset.
        forbidden: reset seeds never to use (default: :func:`eval_seeds`).
    """

    def __init__(self, sources: Sequence[StateSource], seed_base: int = GRPO_SEED_BASE,
                 curriculum: Curriculum | None = None, forbidden: frozenset[int] | None = None):
        if not sources:
            raise StatesError("no state source")
        self.sources = list(sources)
        self.seed_base = int(seed_base)
        self.curriculum = curriculum
        self.forbidden = eval_seeds() if forbidden is None else forbidden
        weights = np.array([s.weight for s in self.sources], dtype=float)
        self._cum = np.cumsum(weights / weights.sum())
        self._envs = None
        self._oracle = None
        self._rows = _LRU(2048)

    def __getstate__(self):  # dataloader workers rebuild their envs
        d = dict(self.__dict__)
        d.update(_envs=None, _oracle=None, _rows=_LRU(self._rows.size))
        return d

    def source(self, index: int) -> tuple[StateSource, str, int]:
        """The source of row ``index``, its preset now, and its curriculum level."""
        if len(self.sources) == 1:
            src = self.sources[0]
        else:
            u = float(np.random.default_rng([self.seed_base, int(index), _TAG_MIX]).random())
            src = self.sources[min(int(np.searchsorted(self._cum, u, side="right")), len(self.sources) - 1)]
        if self.curriculum is not None and src.game in self.curriculum.levels:
            return src, self.curriculum.preset(src.game), self.curriculum.level[src.game]
        return src, src.preset, 0

    def sample(self, index: int) -> tuple[G1Env, dict[str, Any]]:
        """Position a scratch env at row ``index``'s start state; returns (env, metadata)."""
        from ..data.sampling import EnvCache, states_row
        from ..eval.policies import OraclePolicy

        if not 0 <= index < STREAM_SPAN:
            raise StatesError(f"row index {index} is outside 0..{STREAM_SPAN - 1}")
        src, preset, level = self.source(index)
        if self._envs is None:
            self._envs = EnvCache()
        if self._oracle is None and src.sampling == "late-game":
            self._oracle = OraclePolicy()
        env = self._envs.get(src.game, preset, src.knobs)
        for alternate in range(MAX_ALTERNATES + 1):
            seed = self.seed_base + index + alternate * STREAM_SPAN
            row = states_row(env, preset, src.knobs, src.sampling, seed, self._oracle)
            if reset_seed(row) not in self.forbidden and row["n_legal"] > 0:
                meta = {k: row[k] for k in ("game", "difficulty", "seed", "sampling", "moves", "first_game")}
                if self.curriculum is not None:
                    meta["level"] = level
                return env, meta
        raise StatesError(f"row {index}: every alternate seed hit an evaluation seed")  # pragma: no cover

    def row(self, index: int, system_prompt: str | None = None) -> dict[str, Any]:
        """The training row of ``index`` (cached: TRL reads each row once per generation)."""
        key = (int(index), self.source(int(index))[1], system_prompt)
        cached = self._rows.get(key)
        if cached is None:
            env, meta = self.sample(int(index))
            cached = env_row(env, meta, system_prompt)
            self._rows.put(key, cached)
        return dict(cached)


class _DatasetStates:
    """Row index -> start state of a ``states-<game>`` dataset (the rows kept by :func:`states_from_dataset`), with
    the knobs of ``frame`` (:func:`frame_knobs`) applied to each state's config."""

    def __init__(self, states: list[str], meta: list[dict[str, Any]], frame: Mapping[str, Any] | None = None):
        self.states, self.meta, self.frame = states, meta, dict(frame or {})
        self._envs: dict[str, G1Env] = {}

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_envs"] = {}
        return d

    def row(self, index: int, system_prompt: str | None = None) -> dict[str, Any]:
        state = json.loads(self.states[index])
        key = state["game"] + canonical_json(state["config"])
        env = self._envs.get(key)
        if env is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                env = G1Env(state["game"], difficulty={**state["config"], **self.frame})
            self._envs[key] = env
        # the snapshot as taken under the frame's knobs (the config as the env writes it), so the rewards restore it
        env.reset(options={"state": {**state, "config": env.config.to_dict()}})
        return env_row(env, self.meta[index], system_prompt)


def states_from_dataset(dataset: Any, games: Sequence[str] | None = None, preset: str | None = None,
                        sampling: str | None = None, forbidden: frozenset[int] | None = None,
                        model_frame: Any = TRAIN_FRAME) -> _DatasetStates:
    """The usable start states of a ``states-<game>`` dataset (``datasets.Dataset``), filtered by game, preset
    and sampling; rows whose reset seed is an evaluation seed or that have no valid move are dropped. The model
    is given ``model_frame`` pictures (:func:`frame_knobs`; default G1's training size).

    Raises:
        StatesError: the dataset has no ``state`` column, a snapshot is for another version of a game, or no
            row is left.
    """
    from .. import make_from_state
    from ..core.env import StateError

    needed = ["state", "game", "difficulty", "seed", "sampling", "first_game", "n_legal"]
    missing = [c for c in needed if c not in dataset.column_names]
    if missing:
        raise StatesError(f"the dataset has no {missing} column(s): use a states-<game> config of a g1bench "
                          "dataset (g1bench data build --configs states)")
    forbidden = eval_seeds() if forbidden is None else forbidden
    cols = dataset.select_columns(needed).to_dict()
    states, meta = [], []
    for i in range(len(cols["state"])):
        row = {c: cols[c][i] for c in needed}
        if games is not None and row["game"] not in games:
            continue
        if (preset is not None and row["difficulty"] != preset) or (sampling is not None and row["sampling"] != sampling):
            continue
        if row["n_legal"] < 1 or reset_seed(row) in forbidden:
            continue
        states.append(row["state"])
        meta.append({"game": row["game"], "difficulty": row["difficulty"], "seed": row["seed"]})
    if not states:
        raise StatesError(f"no usable start state in the dataset for games={games}, preset={preset}, "
                          f"sampling={sampling} (check the config and split)")
    frame = frame_knobs(model_frame)
    try:  # fail now, not in the first training step, if the snapshots are for other game versions
        for game in {m["game"] for m in meta}:
            first = next(i for i, m in enumerate(meta) if m["game"] == game)
            make_from_state(states[first], render_mode=None)
    except StateError as e:
        raise StatesError(f"the dataset's states cannot be restored by this g1bench: {e}") from None
    return _DatasetStates(states, meta, frame)


class _Rows:
    """The ``with_transform`` function: a batch of row indices -> a batch of training rows."""

    def __init__(self, source: StateSampler | _DatasetStates, system_prompt: str | None):
        self.source, self.system_prompt = source, system_prompt

    def __call__(self, batch: Mapping[str, list]) -> dict[str, list]:
        rows = [self.source.row(int(i), self.system_prompt) for i in batch["index"]]
        return {k: [r[k] for r in rows] for k in rows[0]} if rows else {}


def grpo_dataset(source: StateSampler | _DatasetStates, num_rows: int | None = None,
                 system_prompt: str | None = None):
    """A ``datasets.Dataset`` of ``num_rows`` GRPO prompts, made lazily when read.

    Args:
        source: a :class:`StateSampler` (rows 0..num_rows-1 of its stream) or :func:`states_from_dataset`.
        num_rows: rows (default for a dataset source: all of them; required for a sampler).
        system_prompt: optional system message (the paper's trainer used Qwen's default one).
    """
    from datasets import Dataset

    if isinstance(source, _DatasetStates):
        n = len(source.states) if num_rows is None else min(int(num_rows), len(source.states))
    else:
        if num_rows is None or num_rows < 1:
            raise StatesError("a state sampler needs num_rows >= 1")
        if num_rows > STREAM_SPAN:
            raise StatesError(f"at most {STREAM_SPAN} rows per stream, got {num_rows}")
        n = int(num_rows)
    return Dataset.from_dict({"index": list(range(n))}).with_transform(_Rows(source, system_prompt))


__all__ = [
    "COLDSTART_SEED_BASE", "Curriculum", "EVAL_SUITES", "FRAME_CHOICES", "GRPO_SEED_BASE", "SAMPLINGS", "STREAM_SPAN",
    "StateSampler", "StateSource", "StatesError", "TRAIN_FRAME", "curriculum_callback", "env_row", "eval_seeds",
    "frame_knobs", "grid_order", "grpo_dataset", "parse_mix", "prompt_messages", "reset_seed", "states_from_dataset",
]

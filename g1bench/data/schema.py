"""The columns of every config kind: name, type and meaning, in one place.

The same table gives the parquet schema (with the ``datasets`` features stored in its metadata, so
``Image`` columns decode as PIL images), the ``dataset_info`` block of the card and the card's field
lists. Types are small strings mapped onto ``datasets`` features lazily (``datasets`` is imported only
when a schema is built, never by the CLI at start-up).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

#: a column: (name, type, description). Types: string, int64, float64, bool, image, list<int64>, qa
Column = tuple[str, str, str]

_MODEL_FRAME = ("The picture a model is given (PNG): `frame` resized to the config's `model_frame` size with its "
                "`model_resample` filter (the paper presets: G1's 640x840 for 2048, 640x640 for the tile games, "
                "BICUBIC), or `frame` itself when `model_frame` is `native` (`env.model_observation()`).")

_WHERE = (
    ("game", "string", "Game name, as accepted by `g1bench.make` (`g1bench.list_games()`)."),
    ("difficulty", "string", "Difficulty preset of the game (`g1bench.list_presets(game)`)."),
    ("overrides", "string", "JSON object of knob overrides on top of the preset (e.g. `{\"tile_source\": \"bundled\"}` "
                            "for the natural-image game); `g1bench.make(game, difficulty, **overrides)` rebuilds the env."),
)
_BOARD = (
    ("frame", "image", "The rendered frame (PNG, decodes to a PIL RGB image) as the env draws it (what people see)."),
    ("model_frame", "image", _MODEL_FRAME),
    ("prompt", "string", "The game's instruction text shown beside the frame (`env.prompt`)."),
    ("perception", "string", "Exact perception ground truth of the frame in the paper's text format "
                             "(`info[\"perception\"]`; what a model should write inside `<perception></perception>`)."),
    ("structured_state", "string", "The board as JSON (`info[\"state\"]`: rows, cols, cells, ...)."),
    ("state", "string", "Full g1bench snapshot (JSON, format `g1bench-state/1`): `g1bench.make_from_state(state)` or "
                        "`env.reset(options={\"state\": json.loads(state)})` restores the exact position, RNG included."),
    ("state_hash", "string", "`env.state_hash()` of that position (board, counters, config and RNG state)."),
    ("score", "int64", "The game score at this position (shown in the status bar)."),
)

PERCEPTION: tuple[Column, ...] = _WHERE + (
    ("seed", "int64", "Seed of `env.reset(seed=...)`; train and test seeds are disjoint ranges (see Sampling)."),
    ("warmup", "int64", "Uniformly random valid moves played after the reset (drawn from the seed; see Sampling)."),
) + _BOARD + (
    ("qa", "qa", "Extra questions about this frame with exact answers: a list of `{type, question, answer}` "
                 "(types: `cell`, `count`, `empty`, `moves`; see Question types)."),
)

STATES: tuple[Column, ...] = _WHERE + (
    ("seed", "int64", "Seed of the reset (train and test seeds are disjoint)."),
    ("sampling", "string", "`paper`: seeded reset + the paper's random warm-up; `late-game`: seeded reset + oracle play "
                           "for a random number of moves (see Sampling)."),
    ("moves", "int64", "`paper`: warm-up moves drawn (the paper's count); `late-game`: oracle moves played."),
    ("first_game", "int64", "`paper`: index k of the seed stream actually used (`eval.suites.stream_seed(seed, k)`; "
                            "k > 0 only when the warm-up ended a game). Always 0 for `late-game`."),
) + _BOARD + (
    ("n_legal", "int64", "Number of valid moves in this position."),
)

EPISODES: tuple[Column, ...] = (
    ("episode_id", "string", "Episode id, unique within the config (built: `<policy>/<game>/<difficulty>/<index>`; "
                             "from a run: the run's id)."),
    ("policy", "string", "Policy that answered (`random`, `random-legal`, `oracle`, or a run's model)."),
    ("step", "int64", "Step within the episode (0-based)."),
    ("game_index", "int64", "Which game of the episode's seed stream this step belongs to (a new game starts when one "
                            "ends inside the step budget)."),
) + _WHERE + (
    ("seed", "int64", "The episode's first seed (`EpisodeSpec.seed`)."),
    ("frame", "image", "The frame before the policy answered, as the env draws it."),
    ("model_frame", "image", _MODEL_FRAME),
    ("prompt", "string", "The prompt shown with the frame."),
    ("history", "int64", "Past turns in the model's context at this step (the `history` knob: 0 = G1's single step; "
                         "k > 0: the previous k steps of the same game, each with its model frame, answer and feedback "
                         "line, came before this frame)."),
    ("answer", "string", "The policy's raw answer text."),
    ("action", "list<int64>", "The parsed action: `[direction]` for 2048, `[r1, c1, r2, c2]` for tile games; null "
                              "when the answer did not parse."),
    ("parse_error", "string", "Why the answer did not parse (null when it did)."),
    ("reward", "float64", "The paper's game reward: +1 success, -1 otherwise."),
    ("score_delta", "int64", "Raw score gained by the action."),
    ("valid", "bool", "The action was legal and changed the state."),
    ("success", "bool", "The paper's success test for the game."),
    ("terminated", "bool", "The game was over after this step."),
    ("done", "bool", "Last step of a game: terminated, or the episode's step budget ran out."),
    ("perception", "string", "Perception ground truth of the frame."),
    ("perception_ok", "bool", "The answer's `<perception>` matched the ground truth exactly (null if not judged)."),
    ("format_ok", "bool", "The answer followed the `<perception>/<think>/<answer>` format (null if not judged)."),
    ("state_hash", "string", "`env.state_hash()` of the position the policy saw."),
    ("output_tokens", "int64", "Tokens the model generated (null for baselines)."),
    ("latency_s", "float64", "Seconds the policy took for this answer (null for baselines)."),
)

#: the built-in suites whose seed manifests the ``manifests`` config holds
PUBLISHED_SUITES = ("smoke", "paper", "grid")

MANIFESTS: tuple[Column, ...] = (
    ("suite", "string", "Suite name (`g1bench.eval.suites.get_suite`)."),
    ("suite_version", "int64", "Suite version."),
    ("suite_hash", "string", "`Suite.hash()`: covers episodes and every rule/prompt/renderer version."),
    ("episode_id", "string", "`<game>/<difficulty>/<index>`."),
    ("index", "int64", "Episode index within its (game, difficulty) group."),
    ("game", "string", "Game name."),
    ("difficulty", "string", "Difficulty preset."),
    ("overrides", "string", "JSON knob overrides."),
    ("seed", "int64", "First seed of the episode."),
    ("steps", "int64", "Policy steps of the episode."),
    ("warmup", "int64", "Random warm-up moves before the first policy step."),
    ("first_game", "int64", "Index k of the seed stream that starts the episode."),
    ("start_state_hash", "string", "`env.state_hash()` at the episode's start (after the warm-up)."),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "perception": PERCEPTION, "states": STATES, "episodes": EPISODES, "manifests": MANIFESTS,
}


def _feature(kind: str) -> Any:
    from datasets import Image, List, Value

    if kind == "image":
        return Image()
    if kind == "list<int64>":
        return List(Value("int64"))
    if kind == "qa":
        return List({"type": Value("string"), "question": Value("string"), "answer": Value("string")})
    return Value(kind)


@lru_cache(maxsize=None)
def features(kind: str) -> Any:
    """The ``datasets.Features`` of a config kind."""
    from datasets import Features

    return Features({name: _feature(t) for name, t, _ in COLUMNS[kind]})


@lru_cache(maxsize=None)
def arrow_schema(kind: str) -> Any:
    """The pyarrow schema of a config kind, with the ``datasets`` features in its metadata."""
    return features(kind).arrow_schema


def yaml_features(kind: str) -> list:
    """The ``features`` list of the card's ``dataset_info`` block."""
    return features(kind)._to_yaml_list()

"""The games as TRL environments: ``GRPOTrainer(environment_factory=...)`` (TRL >= 1.16, experimental there).

Each game is a class whose moves are tools the model calls; TRL turns their type hints and docstrings into the tool
schema, runs the calls it parses from a completion and appends each result to the conversation, so the model sees
the new frame after every move and plays on:

=====================  =====================================================  ============================
class                  tool                                                   game
=====================  =====================================================  ============================
:class:`Game2048Env`    ``move(direction)``                                    ``2048``
:class:`ShisenShoEnv`   ``select_pair(row1, col1, row2, col2)``                ``shisensho``
:class:`ShisenShoImagesEnv`  ``select_pair(row1, col1, row2, col2)``           ``shisensho-images``
:class:`SwapEnv`        ``swap(row1, col1, row2, col2)``                       ``swap``
=====================  =====================================================  ============================

Every tool returns ``[{"type": "image", "image": <the model frame>}, {"type": "text", "text": <feedback line>}]``
(:func:`g1bench.integrations.play.feedback_line`). ``reset(**row)`` restores the row's ``state`` (a snapshot, as in
``states-<game>`` datasets and :func:`tool_play_dataset`) or deals its ``seed`` (with ``warmup`` random moves);
``get_reward()`` is the sum of the game rewards of the moves made (+1 each success, -1 otherwise: the paper's GR per
move), -1 when the rollout made no move. :func:`environment_factories` maps game names to classes for a run that mixes
games (each row's ``environment`` column picks one).

The chat template must be one TRL can parse tool calls from: :func:`use_tool_chat_template` gives a Qwen-VL
processor TRL's ``qwen3_vl`` template (Qwen2-VL and Qwen2.5-VL share its special tokens; their own template has no
tools, so TRL refuses it).

Example::

    from trl import GRPOConfig, GRPOTrainer
    from g1bench.integrations.trl import environment_factories, tool_play_dataset, use_tool_chat_template

    trainer = GRPOTrainer(model=MODEL, args=GRPOConfig(max_tool_calling_iterations=8, ...),
                          train_dataset=tool_play_dataset(["2048", "swap"], num_rows=1024),
                          processing_class=use_tool_chat_template(processor),
                          environment_factory=environment_factories(["2048", "swap"]))

``training/grpo_multiturn.py`` runs it as a recipe (``training/recipes/multiturn-*``).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Sequence

from .play import GameSession, SessionError, direction_action, feedback_line, read_overrides, tool_prompt

#: get_reward() of a rollout that made no move (a single-step answer that could not be read scores the same)
NO_MOVE_REWARD = -1.0


class G1ToolEnv:
    """Base of the per-game TRL environments (its public methods other than ``reset``/``get_reward`` are tools, so
    everything else here is private).

    Args:
        difficulty: the preset of games dealt from a ``seed`` (rows with a ``state`` carry their own config).
        overrides: knob overrides of games dealt from a ``seed``.
        invalid_answer: ``None`` (a move that cannot be played: reward -1, nothing changes) or ``"random-move"``.
    """

    game: ClassVar[str]

    def __init__(self, difficulty: str = "paper", overrides: Mapping[str, Any] | None = None,
                 invalid_answer: str | None = None):
        self._difficulty = difficulty
        self._overrides = dict(overrides or {})
        self._session = GameSession(invalid_answer=invalid_answer)
        self._rewards: list[float] = []
        self._records: list[dict[str, Any]] = []

    def reset(self, **row: Any) -> str | None:
        """Start the game of a dataset row: its ``state`` (a snapshot) if it has one, else its ``seed`` (and
        ``warmup``) at the row's ``difficulty`` (or this env's), with this env's knob overrides and then the row's
        ``overrides`` (a dict or its JSON). Other columns are ignored.

        Raises:
            ValueError: the row names another game, or has neither a state nor a seed, or they are malformed.
        """
        game = row.get("game", self.game)
        if game != self.game:
            raise ValueError(f"{type(self).__name__} plays {self.game!r}, but the row is a {game!r} game")
        state = row.get("state")
        try:
            knobs = {**self._overrides, **read_overrides(row.get("overrides"))}  # the row's knobs on top of the env's
            self._session.start(self.game, row.get("difficulty") or self._difficulty, knobs,
                                seed=row.get("seed"), warmup=int(row.get("warmup") or 0),
                                state=state if state not in (None, "") else None)
        except SessionError as e:
            raise ValueError(f"{type(self).__name__}.reset: {e}") from None
        want = row.get("state_hash")
        if state not in (None, "") and want and want != self._session.state_hash:
            raise ValueError(f"{type(self).__name__}.reset: the row's state hashes to {self._session.state_hash}, "
                             f"but its state_hash column says {want}")
        self._rewards, self._records = [], []
        return None

    def get_reward(self) -> float:
        """The rollout's reward: the sum of its moves' game rewards (-1 when it made no move)."""
        return float(sum(self._rewards)) if self._rewards else NO_MOVE_REWARD

    def _play(self, action: Any) -> list[dict[str, Any]]:
        """Play one move and return the tool result: the new model frame and the feedback line."""
        if self._session.over:
            return [{"type": "text", "text": "The game is over; no move was made."}]
        record = self._session.play(action)
        self._rewards.append(float(record["reward"]))
        self._records.append(record)
        return [{"type": "image", "image": self._session.model_image()},
                {"type": "text", "text": feedback_line(record, self._session.score)}]


class Game2048Env(G1ToolEnv):
    """2048 as a TRL environment: the tool ``move(direction)``."""

    game = "2048"

    def move(self, direction: str) -> list:
        """Slide every tile of the 2048 board one way; equal tiles that collide merge, then a new tile appears.

        Args:
            direction: The way to slide the tiles. (choices: ["up", "right", "down", "left"])

        Returns:
            The new board as an image and one line saying what the move did.
        """
        return self._play(direction_action(direction))


class _PairTool(G1ToolEnv):
    def _pair(self, row1: Any, col1: Any, row2: Any, col2: Any) -> list:
        return self._play((row1, col1, row2, col2))


class ShisenShoEnv(_PairTool):
    """Shisen-Sho as a TRL environment: the tool ``select_pair(row1, col1, row2, col2)``."""

    game = "shisensho"

    def select_pair(self, row1: int, col1: int, row2: int, col2: int) -> list:
        """Remove two identical tiles that a path with at most two turns connects without crossing other tiles.

        Args:
            row1: Row of the first tile (0 is the top row).
            col1: Column of the first tile (0 is the left column).
            row2: Row of the second tile.
            col2: Column of the second tile.

        Returns:
            The new board as an image and one line saying what the move did.
        """
        return self._pair(row1, col1, row2, col2)


class ShisenShoImagesEnv(_PairTool):
    """Shisen-Sho with natural-image tiles as a TRL environment: the tool ``select_pair(row1, col1, row2, col2)``."""

    game = "shisensho-images"

    def select_pair(self, row1: int, col1: int, row2: int, col2: int) -> list:
        """Remove two tiles of the same picture class that a path with at most two turns connects without crossing
        other tiles.

        Args:
            row1: Row of the first tile (0 is the top row).
            col1: Column of the first tile (0 is the left column).
            row2: Row of the second tile.
            col2: Column of the second tile.

        Returns:
            The new board as an image and one line saying what the move did.
        """
        return self._pair(row1, col1, row2, col2)


class SwapEnv(_PairTool):
    """Swap (match-3) as a TRL environment: the tool ``swap(row1, col1, row2, col2)``."""

    game = "swap"

    def swap(self, row1: int, col1: int, row2: int, col2: int) -> list:
        """Swap two adjacent tiles; a swap that lines up three or more identical tiles clears them.

        Args:
            row1: Row of the first tile (0 is the top row).
            col1: Column of the first tile (0 is the left column).
            row2: Row of the second tile (next to the first).
            col2: Column of the second tile (next to the first).

        Returns:
            The new board as an image and one line saying what the move did.
        """
        return self._pair(row1, col1, row2, col2)


#: game name -> its TRL environment class
ENVIRONMENTS: dict[str, type[G1ToolEnv]] = {
    "2048": Game2048Env, "shisensho": ShisenShoEnv, "shisensho-images": ShisenShoImagesEnv, "swap": SwapEnv,
}


def environment_factory(game: str, difficulty: str = "paper", overrides: Mapping[str, Any] | None = None,
                        invalid_answer: str | None = None) -> Callable[[], G1ToolEnv]:
    """A zero-argument factory of ``game``'s environment (``GRPOTrainer(environment_factory=...)``)."""
    from ..games import get_game

    cls = ENVIRONMENTS[get_game(game).name]
    if difficulty == "paper" and not overrides and invalid_answer is None:
        return cls
    return functools.partial(cls, difficulty=difficulty, overrides=dict(overrides or {}), invalid_answer=invalid_answer)


def environment_factories(games: Sequence[str] | None = None, difficulty: str = "paper",
                          overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Callable[[], G1ToolEnv]]:
    """``{game: factory}`` for a run that mixes games: each row's ``environment`` column names its game.

    Args:
        games: the games (default: all four).
        difficulty: the preset of games dealt from a seed.
        overrides: per-game knob overrides, e.g. ``{"shisensho-images": {"tile_source": "bundled"}}``.
    """
    from ..games import get_game, list_games

    names = [get_game(g).name for g in (games or list_games())]
    return {g: environment_factory(g, difficulty, (overrides or {}).get(g)) for g in names}


def use_tool_chat_template(processing_class: Any, template: str = "qwen3_vl") -> Any:
    """Give a processor (or tokenizer) a chat template TRL can parse tool calls from, in place; returns it.

    ``template``: ``"qwen3_vl"`` (TRL's Qwen3-VL template: hermes-style ``<tool_call>`` JSON, images inside tool
    responses; it fits Qwen2-VL and Qwen2.5-VL, which share its special tokens) or ``"model"`` (keep the model's own,
    which TRL must recognise as tool-capable).
    """
    if template == "model":
        return processing_class
    from trl import chat_template_utils

    text = getattr(chat_template_utils, f"{template}_chat_template", None)
    if not isinstance(text, str):
        raise ValueError(f"unknown tool chat template {template!r}; use 'qwen3_vl' or 'model'")
    processing_class.chat_template = text
    tokenizer = getattr(processing_class, "tokenizer", None)
    if tokenizer is not None:
        tokenizer.chat_template = text
    return processing_class


# -- the dataset --------------------------------------------------------------------------------------------------
class _ToolRows:
    """The ``with_transform`` function: row indices -> tool-play rows of a state source."""

    def __init__(self, source: Any, system_prompt: str | None):
        self.source, self.system_prompt = source, system_prompt
        self._envs: dict[str, Any] = {}

    def __getstate__(self):
        return {**self.__dict__, "_envs": {}}

    def _position(self, index: int):
        """(env at row ``index``'s start state, its metadata) for a StateSampler or a states dataset."""
        if hasattr(self.source, "sample"):
            return self.source.sample(index)
        from ..core.env import G1Env

        state = json.loads(self.source.states[index])
        key = state["game"] + json.dumps(state["config"], sort_keys=True)
        env = self._envs.get(key)
        if env is None:
            env = self._envs[key] = G1Env(state["game"], difficulty=dict(state["config"]))
        env.reset(options={"state": state})
        return env, self.source.meta[index]

    def row(self, index: int) -> dict[str, Any]:
        from ..core.hashing import canonical_json
        from ..models.messages import to_pil
        from ..training.states import prompt_messages

        env, meta = self._position(index)
        game = env.game.name
        return {
            "prompt": prompt_messages(tool_prompt(env.prompt, game), self.system_prompt),
            "image": to_pil(env.model_observation()),
            "environment": game, "game": game, "difficulty": meta["difficulty"], "seed": int(meta["seed"]),
            "state": canonical_json(env.get_state()), "state_hash": env.state_hash(),
        }

    def __call__(self, batch: Mapping[str, list]) -> dict[str, list]:
        rows = [self.row(int(i)) for i in batch["index"]]
        return {k: [r[k] for r in rows] for k in rows[0]} if rows else {}


def tool_play_dataset(games: str | Sequence[str] | Any = "shisensho", num_rows: int | None = None, *,
                      preset: str = "paper", sampling: str = "paper", overrides: Mapping[str, Any] | str | None = None,
                      state_offset: int = 0, system_prompt: str | None = None):
    """A ``datasets.Dataset`` of start states for tool play, made lazily when read.

    Columns: ``prompt`` (the game's prompt and how to move with its tool, after the image placeholder), ``image``
    (the model frame of the start state), ``environment`` and ``game`` (the game's name: the dict factory's key),
    ``difficulty``, ``seed``, ``state`` (the snapshot ``reset`` restores) and ``state_hash``.

    Args:
        games: a mix as :func:`g1bench.training.states.parse_mix` reads it (``"2048,swap"``, ``"2048:1,swap:2"``), or
            the result of :func:`g1bench.training.states.states_from_dataset` (a ``states-<game>`` dataset's rows).
        num_rows: rows (required for sampled states; default for a states dataset: all of its rows).
        preset / sampling / overrides / state_offset: as the GRPO recipes' options (training seeds only: never an
            evaluation seed).
        system_prompt: an optional system message.
    """
    from datasets import Dataset

    from ..training.states import GRPO_SEED_BASE, STREAM_SPAN, StateSampler, StatesError, parse_mix

    if hasattr(games, "states") and hasattr(games, "meta"):  # states_from_dataset(...)
        source = games
        n = len(source.states) if num_rows is None else min(int(num_rows), len(source.states))
    else:
        if num_rows is None or num_rows < 1:
            raise StatesError("sampled start states need num_rows >= 1")
        if state_offset < 0 or state_offset + num_rows > STREAM_SPAN:
            raise StatesError(f"state_offset + num_rows must stay within 0..{STREAM_SPAN}")
        source = StateSampler(parse_mix(games, preset, sampling, overrides), seed_base=GRPO_SEED_BASE + state_offset)
        n = int(num_rows)
    return Dataset.from_dict({"index": list(range(n))}).with_transform(_ToolRows(source, system_prompt))


# -- the recipe ---------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _script_arguments():
    """The recipe's option dataclass (built once, on first use: it needs TRL)."""
    from trl import ScriptArguments

    @dataclass
    class ToolPlayArguments(ScriptArguments):
        """GRPO where the model plays whole games through the games' tools (``training/grpo_multiturn.py``)."""

        games: str = field(default="shisensho", metadata={
            "help": "game, or comma-separated games with optional weights: '2048,swap' or '2048:1,swap:2' (one TRL "
                    "environment per game, picked by each row's 'environment' column)"})
        preset: str = field(default="paper", metadata={"help": "difficulty preset of every game"})
        sampling: str = field(default="paper", metadata={
            "help": "start states: 'paper' (seeded reset + the paper's random warm-up) or 'late-game' (oracle play)",
            "choices": ["paper", "late-game"]})
        game_overrides: str | None = field(default=None, metadata={
            "help": "JSON of knob overrides per game, e.g. '{\"shisensho-images\": {\"tile_source\": \"bundled\"}}'"})
        num_states: int | None = field(default=None, metadata={
            "help": "start states (None: enough for max_steps; a states dataset: all its rows)"})
        state_offset: int = field(default=0, metadata={"help": "first row of the training-state stream"})
        system_prompt: str | None = field(default=None, metadata={"help": "system message (None: none)"})
        tool_chat_template: str = field(default="qwen3_vl", metadata={
            "help": "chat template TRL parses tool calls with: 'qwen3_vl' (TRL's; fits Qwen2-VL and Qwen2.5-VL, whose "
                    "own template has no tools) or 'model' (keep the model's own)", "choices": ["qwen3_vl", "model"]})
        min_pixels: int | None = field(default=None, metadata={
            "help": "smallest image area the processor resizes frames to (Qwen2-VL family; None: the model's own)"})
        max_pixels: int | None = field(default=None, metadata={"help": "largest image area (None: the model's own)"})

    return ToolPlayArguments


def __getattr__(name: str) -> Any:  # ToolPlayArguments needs TRL: build it when asked for
    if name == "ToolPlayArguments":
        return _script_arguments()
    raise AttributeError(name)


def build_tool_play_trainer(script_args: Any, training_args: Any, model_args: Any):
    """A ``trl.GRPOTrainer`` whose rollouts play the games through their tools (the recipe's whole setup)."""
    from pathlib import Path

    from datasets import concatenate_datasets, load_dataset
    from trl import GRPOTrainer, get_peft_config

    from ..training.preflight import PreflightError
    from ..training.states import StatesError, parse_mix, states_from_dataset
    from ..training.trainers import METRICS_FILE, _model_init_kwargs, fresh_state_rows, load_processor, metrics_callback

    sources = parse_mix(script_args.games, script_args.preset, script_args.sampling, script_args.game_overrides)
    if script_args.dataset_name:
        parts = []
        for src in sources:
            try:
                parts.append(load_dataset(script_args.dataset_name, f"states-{src.game}",
                                          split=script_args.dataset_train_split))
            except (OSError, ValueError) as e:
                raise StatesError(f"cannot load config states-{src.game} of {script_args.dataset_name}: "
                                  f"{str(e).splitlines()[0]}") from None
        states = states_from_dataset(concatenate_datasets(parts) if len(parts) > 1 else parts[0],
                                     games=[s.game for s in sources], preset=script_args.preset,
                                     sampling=script_args.sampling)
        dataset = tool_play_dataset(states, script_args.num_states, system_prompt=script_args.system_prompt)
    else:
        rows = fresh_state_rows(script_args.num_states, training_args)
        dataset = tool_play_dataset(script_args.games, rows, preset=script_args.preset,
                                    sampling=script_args.sampling, overrides=script_args.game_overrides,
                                    state_offset=script_args.state_offset, system_prompt=script_args.system_prompt)
    model_id = model_args.model_name_or_path
    if not model_id:
        raise PreflightError("--model_name_or_path is required")
    processor = load_processor(model_id, model_args.model_revision, script_args.min_pixels, script_args.max_pixels,
                               training_args.trust_remote_code)
    use_tool_chat_template(processor, script_args.tool_chat_template)
    knobs = {s.game: s.knobs for s in sources}
    factories = {s.game: environment_factory(s.game, script_args.preset, knobs[s.game]) for s in sources}
    training_args.model_init_kwargs = _model_init_kwargs(training_args, model_args)
    trainer = GRPOTrainer(model=model_id, args=training_args, train_dataset=dataset, processing_class=processor,
                          peft_config=get_peft_config(model_args), environment_factory=factories)
    trainer.add_callback(metrics_callback(Path(training_args.output_dir) / METRICS_FILE))
    return trainer


def run_tool_play(script_args: Any, training_args: Any, model_args: Any):
    """Train (``training/grpo_multiturn.py``), then save the model and its processor as the other recipes do."""
    from ..training.trainers import _finish

    trainer = build_tool_play_trainer(script_args, training_args, model_args)
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    _finish(trainer, training_args)
    return trainer


__all__ = ["ENVIRONMENTS", "G1ToolEnv", "Game2048Env", "NO_MOVE_REWARD", "ShisenShoEnv", "ShisenShoImagesEnv",
           "SwapEnv", "build_tool_play_trainer", "environment_factories", "environment_factory", "run_tool_play",
           "tool_play_dataset", "use_tool_chat_template"]

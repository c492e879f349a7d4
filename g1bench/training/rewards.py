"""Reward functions for TRL's ``GRPOTrainer``: ``f(prompts, completions, **columns) -> list[float]``.

Every row of a GRPO dataset made by :mod:`g1bench.training.states` carries the exact start state it shows
(``state``: a g1bench snapshot as JSON) and its perception ground truth (``perception``); TRL passes those
columns to each reward function, one entry per completion. The game reward restores the env from the
row's own snapshot (never from state shared between rows or steps) and judges all completions of one
state with :meth:`G1Env.evaluate_group`, so every completion of a group is scored from the identical
board, score and RNG state, independently of the others.

The terms are the paper's (``../shared/spec/g1-reference.md`` section 3), all read off one
:class:`~g1bench.core.env.Judgement`:

========================  =====================================================================
``game``                  GR: +1 if the answer's move succeeded in the env, else -1 (parse failures too)
``format``                FR: 1 if all six tags ``<perception> <think> <answer>`` (and closings) appear
``perception``            PR: 1 if the ``<perception>`` block equals the ground truth exactly
``perception_substring``  PR as G1's released trainers computed it: 1 if the ground truth appears
                          verbatim anywhere in the response (``compute_perception_reward_batch``)
``g1``                    GR + alpha*FR + beta*PR = ``Judgement.total_reward(alpha, beta)`` in one function
``g1_released``           G1's released trainers: GR + FR + w*PR_substring, w = 1 for 2048, natural images
                          and Swap, 0 for Shisen-Sho (:data:`RELEASED_PERCEPTION_WEIGHT`)
``format_partial``        the fraction of the six tags present (a dense variant of FR; not the paper's)
========================  =====================================================================

The paper's text gives ``g1`` with alpha=1, beta=0 as its main setting (beta=0.1 for its perception-reward
ablation); the code it released adds the substring perception term with weight 1 in three of its four trainers
(spec section 3; which one produced the paper's numbers is not known), hence ``g1_released`` beside it.
``["game", "format", "perception"]`` with ``reward_weights [1, 1, 0]`` is the same sum as ``g1`` with each
term logged by TRL separately. :func:`get_reward_funcs` builds them by name (open-r1 style), or imports
``package.module:function`` for a reward of your own.

The judging functions (``game``, ``g1``) also log, per game, what the paper's analysis tracks, through
TRL's ``log_metric`` hook (so they reach ``report_to`` and ``trainer_state.json``):
``g1/<game>/game_reward``, ``g1/<game>/success``, ``g1/<game>/format_rate``, ``g1/<game>/perception_acc``
and ``g1/<game>/reasoning_acc`` (success rate among completions whose perception was exactly right), and in
curriculum runs ``g1/<game>/level``.
Each completion logs one value, so TRL's average is the rate over all completions of the step, across
processes.

Nothing here imports torch or trl; scoring a 128 x 5 batch of the paper games takes well under a second
(``python benchmarks/reward_throughput.py``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..core.answer import TAGS, format_ok, perception_exact, perception_substring
from ..core.env import G1Env, Judgement, StateError
from ..core.hashing import canonical_json

RewardFunc = Callable[..., list[float]]

#: The reward terms that need the env (they judge the answer's move).
JUDGING = ("game", "g1", "g1_released")


class UnknownRewardError(ValueError):
    """A reward function name that is not in the registry (the message lists the known ones)."""


class RewardInputError(ValueError):
    """A reward function got rows it cannot score (no ``state`` column, a broken snapshot); the message says
    how to build a dataset that has what it needs."""


def completion_text(completion: Any) -> str:
    """The text of one completion as TRL passes it: a string (standard format) or a list of messages
    ``[{"role": "assistant", "content": str | [parts]}]`` (conversational format). Anything else is ''."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if not isinstance(completion, (list, tuple)):
        return ""
    out = []
    for message in completion:
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, (list, tuple)):  # content parts
            out.extend(p["text"] for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str))
    return "".join(out)


def _column(kwargs: Mapping[str, Any], name: str, n: int, who: str) -> list[Any]:
    values = kwargs.get(name)
    if values is None:
        raise RewardInputError(f"the {who!r} reward needs a {name!r} column in the training dataset (one entry per "
                               "completion); build the dataset with g1bench.training.states.grpo_dataset")
    values = list(values)
    if len(values) != n:
        raise RewardInputError(f"the {name!r} column has {len(values)} entries for {n} completions")
    return values


class GameScorer:
    """Judges answers against the start states of their rows.

    Holds one scratch env per (game, config) in this process. Before judging, the env is set from the
    row's snapshot, so no state leaks between rows, groups or steps; :meth:`G1Env.evaluate_group` then
    applies each answer of the group to that same state.
    """

    def __init__(self) -> None:
        self._envs: dict[str, G1Env] = {}

    def env_at(self, state: Mapping[str, Any]) -> G1Env:
        """A scratch env positioned at ``state`` (a parsed snapshot)."""
        try:
            key = state["game"] + canonical_json(state["config"])
        except (KeyError, TypeError):
            raise RewardInputError("a 'state' entry is not a g1bench snapshot (it needs 'game' and 'config')") from None
        env = self._envs.get(key)
        if env is None:
            try:
                env = G1Env(state["game"], difficulty=dict(state["config"]), render_mode=None)
            except (KeyError, ValueError) as e:
                raise RewardInputError(f"cannot build the env of a 'state' entry: {e}") from None
            self._envs[key] = env
        try:
            env.set_state(state)
        except StateError as e:
            raise RewardInputError(f"cannot restore a 'state' entry: {e}") from None
        if env.game.is_over():
            raise RewardInputError(f"a 'state' entry ({env.state_hash()}) has no valid move left; GRPO start states "
                                   "must be playable (g1bench.training.states never makes such rows)")
        return env

    def judge(self, states: Sequence[Any], texts: Sequence[str]) -> list[Judgement]:
        """One Judgement per (state, text): texts that share a state are judged as one GRPO group."""
        if len(states) != len(texts):
            raise RewardInputError(f"{len(states)} states for {len(texts)} completions")
        groups: dict[str, list[int]] = defaultdict(list)
        parsed: dict[str, Any] = {}
        for i, s in enumerate(states):
            key = s if isinstance(s, str) else canonical_json(s)
            if key not in parsed:
                if isinstance(s, str):
                    try:
                        parsed[key] = json.loads(s)
                    except ValueError:
                        raise RewardInputError("a 'state' entry is not valid JSON (expected a g1bench snapshot)") from None
                else:
                    parsed[key] = s
                if not isinstance(parsed[key], Mapping):
                    raise RewardInputError("a 'state' entry is not a g1bench snapshot")
            groups[key].append(i)
        out: list[Judgement | None] = [None] * len(texts)
        for key, idx in groups.items():
            env = self.env_at(parsed[key])
            for i, j in zip(idx, env.evaluate_group([texts[i] for i in idx])):
                out[i] = j
        return out  # type: ignore[return-value]


#: One scorer per process (its envs are scratch space; every call restores them from the rows).
_SCORER = GameScorer()


def judge_completions(completions: Sequence[Any], state: Sequence[Any]) -> list[Judgement]:
    """Judge TRL completions against their rows' snapshots (the ``state`` column)."""
    return _SCORER.judge(state, [completion_text(c) for c in completions])


def log_game_metrics(log_metric: Callable[[str, float], None], games: Iterable[str],
                     judgements: Sequence[Judgement], levels: Iterable[int] | None = None) -> None:
    """Log the paper's per-game curves through TRL's ``log_metric`` (one value per completion), and the
    curriculum level of each game when the rows carry one."""
    for game, j, level in zip(games, judgements, levels if levels is not None else [None] * len(judgements)):
        if level is not None:
            log_metric(f"g1/{game}/level", float(level))
        success = float(j.outcome.success)
        perceived = bool(j.perception_ok)
        log_metric(f"g1/{game}/game_reward", j.reward)
        log_metric(f"g1/{game}/success", success)
        log_metric(f"g1/{game}/format_rate", float(bool(j.format_ok)))
        log_metric(f"g1/{game}/perception_acc", float(perceived))
        if perceived:  # R_acc = P(success | perception exactly right)
            log_metric(f"g1/{game}/reasoning_acc", success)


def _games(kwargs: Mapping[str, Any], states: Sequence[Any]) -> list[str]:
    """The game of each completion: the ``game`` column, else read off the snapshots."""
    return list(kwargs.get("game") or [json.loads(s)["game"] if isinstance(s, str) else s["game"] for s in states])


def _judge_and_log(completions: Sequence[Any], kwargs: Mapping[str, Any], who: str) -> list[Judgement]:
    states = _column(kwargs, "state", len(completions), who)
    judgements = judge_completions(completions, states)
    log_metric = kwargs.get("log_metric")
    if callable(log_metric):
        log_game_metrics(log_metric, _games(kwargs, states), judgements, kwargs.get("level"))
    return judgements


#: The perception weight of each game in G1's released trainers (spec section 3: ``rl_2048.sh``,
#: ``rl_shisensho_cifar10.sh`` and ``rl_swap.sh`` add the perception reward, ``rl_shisensho.sh`` multiplies it by 0).
RELEASED_PERCEPTION_WEIGHT = {"2048": 1.0, "shisensho": 0.0, "shisensho-images": 1.0, "swap": 1.0}


# -- the reward functions -------------------------------------------------------------------------------
def game_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """GR: +1 if the completion's move succeeds from its row's start state, else -1 (needs ``state``)."""
    return [j.reward for j in _judge_and_log(completions, kwargs, "game")]


def format_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """FR: 1.0 if all six tags of the ``<perception>/<think>/<answer>`` protocol appear, else 0.0."""
    return [float(format_ok(completion_text(c))) for c in completions]


def perception_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """PR: 1.0 if the ``<perception>`` block equals the row's ``perception`` ground truth exactly, else 0.0."""
    truths = _column(kwargs, "perception", len(completions), "perception")
    return [float(isinstance(t, str) and perception_exact(completion_text(c), t)) for c, t in zip(completions, truths)]


def perception_substring_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """PR of G1's released trainers: 1.0 if the row's ``perception`` ground truth appears verbatim anywhere in the
    completion (whitespace-sensitive; inside a ``<perception>`` block or not), else 0.0."""
    truths = _column(kwargs, "perception", len(completions), "perception_substring")
    return [float(isinstance(t, str) and perception_substring(completion_text(c), t)) for c, t in zip(completions, truths)]


def g1_released_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """G1's released trainers' reward: GR + FR + w*PR_substring with the game's weight w
    (:data:`RELEASED_PERCEPTION_WEIGHT`; needs ``state`` and ``perception``)."""
    truths = _column(kwargs, "perception", len(completions), "g1_released")
    judgements = _judge_and_log(completions, kwargs, "g1_released")
    games = _games(kwargs, _column(kwargs, "state", len(completions), "g1_released"))
    return [j.total_reward(1.0, 0.0) + RELEASED_PERCEPTION_WEIGHT[game]
            * float(isinstance(truth, str) and perception_substring(completion_text(c), truth))
            for c, truth, j, game in zip(completions, truths, judgements, games)]


def format_partial_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """The fraction of the six protocol tags present (a dense variant of FR for tiny-model checks)."""
    tags = [f"<{t}>" for t in TAGS] + [f"</{t}>" for t in TAGS]
    return [sum(tag in text for tag in tags) / len(tags) for text in (completion_text(c) for c in completions)]


def make_g1_reward(format_weight: float = 1.0, perception_weight: float = 0.0) -> RewardFunc:
    """The paper's reward GR + alpha*FR + beta*PR (``Judgement.total_reward``) as one reward function.

    Args:
        format_weight: alpha (the paper: 1).
        perception_weight: beta (the paper: 0; 0.1 in its perception-reward ablation).
    """
    alpha, beta = float(format_weight), float(perception_weight)

    def g1(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        return [j.total_reward(alpha, beta) for j in _judge_and_log(completions, kwargs, "g1")]

    g1.__doc__ = f"GR + {alpha:g}*FR + {beta:g}*PR from the completion's row start state (needs 'state')."
    return g1


# -- registry ------------------------------------------------------------------------------------------
REWARDS: dict[str, RewardFunc] = {
    "game": game_reward,
    "format": format_reward,
    "perception": perception_reward,
    "perception_substring": perception_substring_reward,
    "g1_released": g1_released_reward,
    "format_partial": format_partial_reward,
}
#: Rewards built from the weights (``g1``).
REWARD_FACTORIES: dict[str, Callable[..., RewardFunc]] = {"g1": make_g1_reward}


def list_rewards() -> list[str]:
    return sorted([*REWARDS, *REWARD_FACTORIES])


def import_reward(path: str) -> RewardFunc:
    """The reward function at ``package.module:function`` (TRL's signature), imported.

    Raises:
        UnknownRewardError: the module cannot be imported or has no such callable.
    """
    import importlib

    module, _, attr = path.partition(":")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as e:
        raise UnknownRewardError(f"cannot import the reward function {path!r}: {e}") from None
    if not callable(fn):
        raise UnknownRewardError(f"{path!r} is not a function")
    return fn


def get_reward_funcs(names: str | Sequence[str], format_weight: float = 1.0,
                     perception_weight: float = 0.0) -> list[RewardFunc]:
    """Reward functions by name (:func:`list_rewards`: ``game``, ``format``, ``perception``,
    ``perception_substring``, ``g1``, ``g1_released``, ``format_partial``) or import path
    (``package.module:function``, a function with TRL's reward signature).

    ``format_weight`` / ``perception_weight`` are alpha / beta of ``g1``; the single terms are weighted by
    TRL's ``reward_weights`` instead.

    Raises:
        UnknownRewardError: an unknown or repeated name, or no name.
    """
    if isinstance(names, str):
        names = [n for n in names.replace(",", " ").split() if n]
    if not names:
        raise UnknownRewardError(f"no reward function given; choose from {list_rewards()}")
    if len(set(names)) != len(names):
        raise UnknownRewardError(f"reward functions listed twice: {list(names)}")
    out = []
    for name in names:
        if name in REWARDS:
            fn = REWARDS[name]
        elif name in REWARD_FACTORIES:
            fn = REWARD_FACTORIES[name](format_weight=format_weight, perception_weight=perception_weight)
        elif ":" in name:
            fn = import_reward(name)
            name = name.partition(":")[2]
        else:
            raise UnknownRewardError(f"unknown reward function {name!r}; choose from {list_rewards()} or give "
                                     "package.module:function")
        out.append(_named(name, fn))
    return out


def _named(name: str, fn: RewardFunc) -> RewardFunc:
    """``fn`` under its registry name (TRL logs each reward as ``rewards/<__name__>/mean``)."""

    def reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        return fn(prompts, completions, **kwargs)

    reward.__name__ = reward.__qualname__ = name
    reward.__doc__ = fn.__doc__
    return reward


__all__ = [
    "GameScorer", "RELEASED_PERCEPTION_WEIGHT", "REWARDS", "REWARD_FACTORIES", "RewardInputError", "UnknownRewardError",
    "completion_text", "format_partial_reward", "format_reward", "g1_released_reward", "game_reward", "get_reward_funcs",
    "import_reward", "judge_completions", "list_rewards", "log_game_metrics", "make_g1_reward", "perception_reward",
    "perception_substring_reward",
]

"""g1bench's suites as inspect_ai tasks (``pip install 'g1bench[inspect]'``).

One sample per episode of a suite (default ``paper``, the current version); the sample's score is the episode's
score by the paper metric (2048: merge score over the policy steps; the tile games: successful moves), and the
metrics are its mean overall and per game (``game``) and per cell (``group``), exactly the means ``g1bench eval``
reports for the same answers:

* ``g1bench/paper`` (:func:`paper`): the paper protocol. Every step the model gets a fresh context with one frame and
  the game's prompt, and answers with text read by the game's answer grammar; the suite's invalid-answer rule applies
  (2048: a random move), and a game that ends inside the step budget is followed by the next game of the episode's
  seed stream, as in ``g1bench eval``.
* ``g1bench/tool_play`` (:func:`tool_play`): multi-turn. The model sees the first frame, then plays through the game's
  tool (``move(direction)``, ``select_pair(...)``, ``swap(...)``), which returns the new frame (``ContentImage``) and
  one line of feedback; the conversation keeps every turn. A turn without a tool call is a move read from its text.

Run::

    inspect eval g1bench/paper --model openai/gpt-4o            # the paper suite, single step
    inspect eval g1bench/tool_play -T suite=smoke --model ...    # multi-turn, through the tools

Each step is played by :class:`g1bench.integrations.play.GameSession` (``g1bench eval``'s own step function), and
each sample's step records are kept in its metadata-free store under ``g1bench_steps``: the same records
``g1bench eval`` writes to its step log. Absolute imports only: inspect may load this file by its path.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, ContentImage, ContentText, execute_tools, get_model
from inspect_ai.scorer import Score, Target, grouped, mean, scorer
from inspect_ai.solver import Generate, TaskState, solver
from inspect_ai.tool import Tool, tool
from inspect_ai.util import store

from g1bench.eval.metrics import episode_score
from g1bench.eval.suites import EpisodeSpec, Suite, get_suite
from g1bench.integrations.play import GameSession, direction_action, feedback_line, tool_prompt

#: store keys of a sample: its step records, and where its episode is (a scripted model may read them)
STEPS_KEY, EPISODE_KEY, STEP_KEY = "g1bench_steps", "g1bench_episode", "g1bench_step"
NO_TOOL_CALL = "Make your move with the tool."


def _suite(suite: str | dict | Suite) -> Suite:
    """A built-in suite by name or id (``paper``, ``smoke-v3``), a suite record (``Suite.to_dict()``) or a suite."""
    if isinstance(suite, Suite):
        return suite
    if isinstance(suite, dict):
        return Suite.from_dict(suite)
    return get_suite(suite)


def episode_samples(suite: str | dict | Suite) -> MemoryDataset:
    """One sample per episode of ``suite`` (its id is the episode id; its metadata holds the episode)."""
    s = _suite(suite)
    samples = []
    for e in s.episodes:
        env = e.make_env(render_mode=None)
        samples.append(Sample(
            id=e.episode_id, input=env.prompt,
            metadata={"game": e.game, "group": e.group, "episode": e.to_dict(), "pinned": dict(e.pinned),
                      "invalid_answer": s.invalid_answer.get(e.game), "suite": s.suite_id}))
        env.close()
    return MemoryDataset(samples, name=s.suite_id)


def _spec(state: TaskState) -> EpisodeSpec:
    return EpisodeSpec(**state.metadata["episode"], pinned=state.metadata.get("pinned") or {})


def _session(state: TaskState) -> tuple[EpisodeSpec, GameSession]:
    """The sample's episode at its start, exactly as ``g1bench eval`` starts it."""
    spec = _spec(state)
    session = GameSession(invalid_answer=state.metadata.get("invalid_answer"), continue_games=True)
    session.start(spec.game, spec.difficulty, spec.env_overrides(), seed=spec.seed, warmup=spec.warmup,
                  steps=spec.steps, episode_id=spec.episode_id)
    store().set(EPISODE_KEY, spec.episode_id)
    store().set(STEPS_KEY, [])
    return spec, session


def _frame(session: GameSession) -> ContentImage:
    return ContentImage(image="data:image/png;base64," + base64.b64encode(session.model_frame_png()).decode("ascii"))


def _record(session: GameSession, answer: Any, output: Any = None, started: float | None = None) -> dict[str, Any]:
    usage = getattr(output, "usage", None)
    record = session.play(answer, input_tokens=getattr(usage, "input_tokens", None),
                          output_tokens=getattr(usage, "output_tokens", None),
                          latency_s=None if started is None else time.perf_counter() - started)
    store().set(STEPS_KEY, [*store().get(STEPS_KEY, []), record])
    store().set(STEP_KEY, session.step)
    return record


@solver
def play_single_step(system_prompt: str | None = None):
    """The paper protocol: each step a fresh context (frame + prompt), the text answer played by the game."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        spec, session = _session(state)
        model = get_model()
        while not session.over:
            store().set(STEP_KEY, session.step)
            messages: list[Any] = [ChatMessageSystem(content=system_prompt)] if system_prompt else []
            messages.append(ChatMessageUser(content=[_frame(session), ContentText(text=session.prompt)]))
            started = time.perf_counter()
            output = await model.generate(messages)
            _record(session, output.completion, output, started)
        state.output.completion = f"episode score {session.score:g}"
        return state

    return solve


def _tool_for(session: GameSession) -> Tool:
    """The game's move tool, playing on this sample's session."""

    def result(answer: Any) -> list:
        if session.over:
            return [ContentText(text="The episode is over; no move was made.")]
        record = _record(session, answer)
        return [_frame(session), ContentText(text=feedback_line(record, session.score))]

    game = session.game
    if game == "2048":
        @tool(name="move")
        def move() -> Tool:
            async def execute(direction: str) -> list:
                """Slide every tile of the 2048 board one way; equal tiles that collide merge, then a new tile appears.

                Args:
                    direction: The way to slide the tiles: "up", "right", "down" or "left".
                """
                return result(direction_action(direction))

            return execute

        return move()

    what = {"swap": ("swap", "Swap two adjacent tiles; a swap that lines up three or more identical tiles clears "
                             "them."),
            "shisensho": ("select_pair", "Remove two identical tiles that a path with at most two turns connects "
                                         "without crossing other tiles."),
            "shisensho-images": ("select_pair", "Remove two tiles of the same picture class that a path with at most "
                                                "two turns connects without crossing other tiles.")}[game]

    @tool(name=what[0])
    def pair() -> Tool:
        async def execute(row1: int, col1: int, row2: int, col2: int) -> list:
            """Play a move on two tiles.

            Args:
                row1: Row of the first tile (0 is the top row).
                col1: Column of the first tile (0 is the left column).
                row2: Row of the second tile.
                col2: Column of the second tile.
            """
            return result((row1, col1, row2, col2))

        execute.__doc__ = execute.__doc__.replace("Play a move on two tiles.", what[1])
        return execute

    return pair()


@solver
def play_with_tools(system_prompt: str | None = None):
    """Multi-turn: the first frame and the tool prompt, then the model plays through the game's tool, seeing every
    frame it is returned; one tool call (or one turn without a call, read as an answer) is one step."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        spec, session = _session(state)
        model = get_model()
        tools = [_tool_for(session)]
        state.tools = tools
        state.messages = ([ChatMessageSystem(content=system_prompt)] if system_prompt else []) + [
            ChatMessageUser(content=[_frame(session), ContentText(text=tool_prompt(session.prompt, spec.game))])]
        while not session.over:
            store().set(STEP_KEY, session.step)
            output = await model.generate(state.messages, tools=tools)
            state.messages.append(output.message)
            if output.message.tool_calls:
                executed = await execute_tools(state.messages, tools)
                state.messages.extend(executed.messages)
                continue
            record = _record(session, output.completion, output)  # no call: the turn's text is the move
            if not session.over:
                state.messages.append(ChatMessageUser(content=[
                    _frame(session), ContentText(text=f"{feedback_line(record, session.score)} {NO_TOOL_CALL}")]))
        state.output.completion = f"episode score {session.score:g}"
        return state

    return solve


@scorer(metrics=[mean(), grouped(mean(), "game", all=False), grouped(mean(), "group", all=False)])
def episode_score_scorer():
    """The episode's score by the paper metric, from its step records."""

    async def score(state: TaskState, target: Target) -> Score:
        steps = store().get(STEPS_KEY, [])
        game = state.metadata["game"]
        value = episode_score(game, steps)
        return Score(value=value, answer=f"{len(steps)} steps", explanation=f"{game}: {value:g} by the paper metric",
                     metadata={"steps": len(steps), "games_played": 1 + max((s["game_index"] for s in steps), default=0),
                               "parse_failures": sum(1 for s in steps if s["parse_error"])})

    return score


@task
def paper(suite: str | dict = "paper", system_prompt: str | None = None) -> Task:
    """A g1bench suite (default ``paper``) with the paper protocol: single steps, one frame each, text answers."""
    s = _suite(suite)
    return Task(dataset=episode_samples(s), solver=play_single_step(system_prompt), scorer=episode_score_scorer(),
                metadata={"g1bench_suite": s.suite_id, "g1bench_suite_hash": s.hash(), "protocol": "single-step"})


@task
def tool_play(suite: str | dict = "paper", system_prompt: str | None = None) -> Task:
    """A g1bench suite (default ``paper``) played multi-turn through the games' tools, which return the frames."""
    s = _suite(suite)
    return Task(dataset=episode_samples(s), solver=play_with_tools(system_prompt), scorer=episode_score_scorer(),
                metadata={"g1bench_suite": s.suite_id, "g1bench_suite_hash": s.hash(), "protocol": "tool-play"})


__all__ = ["EPISODE_KEY", "STEPS_KEY", "STEP_KEY", "episode_samples", "episode_score_scorer", "paper",
           "play_single_step", "play_with_tools", "tool_play"]

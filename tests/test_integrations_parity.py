"""One set of seeds and scripted answers, played six ways: the native env, EnvBatch (a worker process), the TRL
environment classes, the OpenEnv server (real server on 127.0.0.1, real client), ``g1bench eval`` and the inspect_ai
task (mockllm scripted with the same answers). Every way must give the same state hashes, rewards and scores."""

import re

import pytest

pytest.importorskip("openenv")
pytest.importorskip("inspect_ai")

import g1bench  # noqa: E402
from g1bench.core.batch import EnvBatch, EnvSpec  # noqa: E402
from g1bench.eval.metrics import step_score  # noqa: E402
from g1bench.eval.policies import Answer, OraclePolicy, Policy  # noqa: E402
from g1bench.eval.rundir import load_episodes  # noqa: E402
from g1bench.eval.runner import evaluate  # noqa: E402
from g1bench.eval.suites import EpisodeSpec, Suite  # noqa: E402
from g1bench.integrations.play import DIRECTIONS, TOOLS  # noqa: E402

STEPS = 6
#: (game, preset, seed): G1's paper presets (G1's grammar and frame sizes) and a g1bench preset
EPISODES = [("2048", "paper", 11), ("shisensho", "paper", 12), ("swap", "paper", 13), ("shisensho", "base", 14)]
BAD = "<answer>(9, 9) (0, 0)</answer>"  # off every board: a parse failure (the tile games' rule: a failed move)


def _answers():
    """Per episode: the oracle's moves, with an off-board answer at step 2 of the tile games."""
    oracle = OraclePolicy()
    out = {}
    for game, preset, seed in EPISODES:
        env = g1bench.make(game, preset)
        env.reset(seed=seed)
        texts = []
        for step in range(STEPS):
            text = BAD if step == 2 and game != "2048" else oracle.best_answer(env.get_state())
            texts.append(text)
            env.step(text)
        out[(game, preset, seed)] = texts
    return out


ANSWERS = _answers()


def _episode_id(game, preset, i):
    return f"{game}/{preset}/{i}"


def _trace_of_native():
    traces = {}
    for key, texts in ANSWERS.items():
        game, preset, seed = key
        env = g1bench.make(game, preset)
        _, info = env.reset(seed=seed)
        hashes, rewards, score = [info["state_hash"]], [], 0.0
        for text in texts:
            _, reward, terminated, _, info = env.step(text)
            assert not terminated
            hashes.append(info["state_hash"])
            rewards.append(reward)
            score += step_score(game, info)
        traces[key] = (hashes, rewards, score)
    return traces


def _trace_of_envbatch():
    keys = list(ANSWERS)
    with EnvBatch([EnvSpec(g, p) for g, p, _ in keys], num_workers=1) as batch:
        obs = batch.reset(seeds=[s for _, _, s in keys])
        traces = {k: ([o.info["state_hash"]], [], 0.0) for k, o in zip(keys, obs)}
        for step in range(STEPS):
            results = batch.step([ANSWERS[k][step] for k in keys])
            for k, r in zip(keys, results):
                hashes, rewards, score = traces[k]
                hashes.append(r.info["state_hash"])
                rewards.append(r.reward)
                traces[k] = (hashes, rewards, score + step_score(k[0], r.info))
    return traces


def _tool_call(game, text):
    """A scripted answer as the game's tool call: (tool name, arguments)."""
    numbers = [int(n) for n in re.findall(r"\d+", text.split("<answer>")[-1])]
    if game == "2048":
        return "move", {"direction": DIRECTIONS[numbers[0]]}
    return TOOLS[game].name, dict(zip(TOOLS[game].args, numbers))


def _trace_of_trl():
    from g1bench.integrations.trl import ENVIRONMENTS

    traces = {}
    for key, texts in ANSWERS.items():
        game, preset, seed = key
        env = ENVIRONMENTS[game](difficulty=preset)
        env.reset(game=game, seed=seed)  # a row: the env's preset, the row's seed
        hashes, rewards = [env._session.state_hash], []
        for text in texts:
            name, args = _tool_call(game, text)
            getattr(env, name)(**args)
            hashes.append(env._session.state_hash)
            rewards.append(env._records[-1]["reward"])
        assert env.get_reward() == sum(rewards)
        traces[key] = (hashes, rewards, env._session.score)
    return traces


def _trace_of_openenv():
    from g1bench.integrations.openenv import BackgroundServer, G1Action, G1EnvClient

    traces = {}
    with BackgroundServer(max_sessions=4) as url:
        for key, texts in ANSWERS.items():
            game, preset, seed = key
            with G1EnvClient(base_url=url).sync() as env:
                obs = env.reset(game=game, difficulty=preset, seed=seed).observation
                hashes, rewards = [obs.state_hash], []
                for text in texts:
                    result = env.step(G1Action(answer=text))
                    hashes.append(result.observation.state_hash)
                    rewards.append(result.reward)
                traces[key] = (hashes, rewards, result.observation.score)
    return traces


class Scripted(Policy):
    name = "scripted"
    needs_frames = False

    def __init__(self, table):
        self.table = table

    def act(self, turns):
        return [Answer(self.table[(t.episode, t.step)]) for t in turns]


def _suite():
    eps = [EpisodeSpec(g, p, seed=s, steps=STEPS, warmup=0, index=i) for i, (g, p, s) in enumerate(ANSWERS)]
    return Suite("parity", 1, tuple(eps), "the parity test's episodes")


def _table():
    return {(_episode_id(g, p, i), step): text for i, ((g, p, s), texts) in enumerate(ANSWERS.items())
            for step, text in enumerate(texts)}


def _traces_of_records(episodes):
    """(state hashes before each step, rewards, score) of step records (g1bench eval's log, inspect's store)."""
    out = {}
    for i, key in enumerate(ANSWERS):
        steps, score = episodes[_episode_id(key[0], key[1], i)]
        out[key] = ([s["state_hash"] for s in steps], [s["reward"] for s in steps], score)
    return out


def _trace_of_eval(tmp_path):
    evaluate(_suite(), Scripted(_table()), tmp_path / "run", progress=False, save_frames=False)
    return _traces_of_records({e["episode_id"]: (e["steps"], e["score"]) for e in load_episodes(tmp_path / "run")})


def _trace_of_inspect(tmp_path):
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import ModelOutput, ModelUsage, get_model
    from inspect_ai.util import store

    from g1bench.integrations.inspect import EPISODE_KEY, STEP_KEY, STEPS_KEY, paper

    table = _table()

    def reply(messages, tools, tool_choice, config):
        out = ModelOutput.from_content("mockllm/model", table[(store().get(EPISODE_KEY), store().get(STEP_KEY))])
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    log = inspect_eval(paper(_suite().to_dict()), model=get_model("mockllm/model", custom_outputs=reply),
                       display="none", log_dir=str(tmp_path / "logs"))[0]
    assert log.status == "success", log.error
    return _traces_of_records({s.id: (s.store[STEPS_KEY], s.scores["episode_score_scorer"].value) for s in log.samples})


def test_the_same_answers_give_the_same_game_everywhere(tmp_path):
    native = _trace_of_native()
    assert any(score > 0 for _, _, score in native.values()) and any(-1.0 in r for _, r, _ in native.values())
    # every answer moves its game on, except the three unreadable ones (a parse failure leaves the state as it was)
    assert len({h for hashes, _, _ in native.values() for h in hashes}) == len(ANSWERS) * (STEPS + 1) - 3
    for name, traces in (("EnvBatch", _trace_of_envbatch()), ("TRL", _trace_of_trl()),
                         ("OpenEnv", _trace_of_openenv())):
        assert traces == native, name
    # g1bench eval and inspect_ai record the state before each step: the native trace without its last state
    expected = {k: (hashes[:-1], rewards, score) for k, (hashes, rewards, score) in native.items()}
    assert _trace_of_eval(tmp_path) == expected
    assert _trace_of_inspect(tmp_path) == expected

"""The one env API, on every game: seeds, frames, snapshots, GRPO groups, gymnasium compliance."""

import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import g1bench
from g1bench.core.env import StateError
from g1bench.registration import env_ids

# the natural-image game is built on its offline tile pack in tests
OVERRIDES = {"shisensho-images": {"tile_source": "bundled"}}
GAMES = g1bench.list_games()


def make(game, difficulty="paper", **kw):
    return g1bench.make(game, difficulty, **{**OVERRIDES.get(game, {}), **kw})


def random_actions(env, n, seed=0):
    """n random structured actions from the action space (mostly invalid for tile games)."""
    env.action_space.seed(seed)
    return [env.action_space.sample() for _ in range(n)]


def legal_or_random(env, rng):
    legal = env.game.legal_actions()
    if legal and rng.random() < 0.7:
        return legal[int(rng.integers(len(legal)))]
    return env.action_space.sample()


def play(env, seed, steps=40):
    """Reset with seed and play a fixed mixed policy; return the trace of hashes and frames."""
    frame, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    rng = np.random.default_rng(seed)
    hashes, frames = [info["state_hash"]], [frame]
    for _ in range(steps):
        frame, r, term, trunc, info = env.step(legal_or_random(env, rng))
        hashes.append(info["state_hash"])
        frames.append(frame)
        if term:
            break
    return hashes, frames


@pytest.mark.parametrize("game", GAMES)
def test_same_seed_same_episode_different_seed_differs(game):
    h1, f1 = play(make(game), seed=7)
    h2, f2 = play(make(game), seed=7)
    assert h1 == h2
    assert all(np.array_equal(a, b) for a, b in zip(f1, f2))
    h3, _ = play(make(game), seed=8)
    assert h3[0] != h1[0]


@pytest.mark.parametrize("game", GAMES)
def test_observation_is_the_rendered_frame_with_patch_multiple_sides(game):
    env = make(game)
    frame, info = env.reset(seed=0)
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape[0] % 28 == 0 and frame.shape[1] % 28 == 0
    assert env.observation_space.contains(frame)
    assert np.array_equal(env.render(), frame)
    # frames are copies: mutating one must not change the env's next frame
    frame[:] = 0
    assert env.render().any()
    assert set(info) >= {"perception", "state", "score", "moves", "n_legal", "state_hash"}


CROSS_PROCESS = """
import json, sys, hashlib, numpy as np, g1bench
out = {}
for game in g1bench.list_games():
    kw = {"tile_source": "bundled"} if game == "shisensho-images" else {}
    env = g1bench.make(game, **kw)
    frame, info = env.reset(seed=11)
    env.action_space.seed(3)
    for a in [env.action_space.sample() for _ in range(5)]:
        frame, *_ , info = env.step(a)
    out[game] = [info["state_hash"], hashlib.sha256(frame.tobytes()).hexdigest()]
print(json.dumps(out))
"""


def test_seeds_reproduce_across_processes():
    runs = [
        json.loads(subprocess.run([sys.executable, "-c", CROSS_PROCESS], capture_output=True, text=True,
                                  check=True, env={"PYTHONHASHSEED": str(i), "HF_HUB_OFFLINE": "1",
                                                   "PATH": "/usr/bin:/bin"}).stdout)
        for i in (1, 2)
    ]
    assert runs[0] == runs[1]
    assert set(runs[0]) == set(GAMES)


@pytest.mark.parametrize("game", GAMES)
def test_snapshot_round_trip_restores_everything(game):
    env = make(game)
    play(env, seed=3, steps=10)
    snap = env.get_state()
    blob = env.encode_state()
    frame0, h0 = env.render(), env.state_hash()
    # the future from the snapshot is the same, including random draws (spawns, refills)
    acts = random_actions(env, 15, seed=5) + env.game.legal_actions()[:3]
    future1 = []
    for a in acts:
        if env._over:
            break
        future1.append(env.step(a)[4]["state_hash"])
    other = make(game)
    other.reset(options={"state": json.loads(blob)})
    assert other.state_hash() == h0 and np.array_equal(other.render(), frame0)
    future2 = [other.step(a)[4]["state_hash"] for a in acts[: len(future1)]]
    assert future1 == future2
    # restoring into the same env after it moved on works too, from bytes and str
    env.set_state(blob)
    assert env.state_hash() == h0 and np.array_equal(env.render(), frame0)
    env.set_state(blob.decode())
    assert env.get_state()["board"] == snap["board"]
    # make_from_state rebuilds the env from the snapshot's own config
    assert g1bench.make_from_state(blob).state_hash() == h0


def test_snapshot_errors_are_clear():
    env = make("2048")
    env.reset(seed=0)
    with pytest.raises(StateError, match="not valid JSON"):
        env.set_state("{nope")
    with pytest.raises(StateError, match="not a g1bench snapshot"):
        env.set_state({"board": []})
    snap = env.get_state()
    with pytest.raises(StateError, match="another config"):
        make("2048", "large").set_state(snap)
    bad = dict(snap, board={"board": [[1]], "score": 0, "moves": 0})
    with pytest.raises(StateError, match="malformed snapshot"):
        env.set_state(bad)
    if "shisensho" in GAMES:
        with pytest.raises(StateError, match="is for '2048'"):
            make("shisensho").set_state(snap)


@pytest.mark.parametrize("game", GAMES)
def test_group_evaluation_judges_every_answer_from_the_same_state(game):
    env = make(game)
    play(env, seed=1, steps=5)
    h0, frame0 = env.state_hash(), env.render()
    legal = env.game.legal_actions()
    answers = [env.game.format_action(a) for a in legal[:3]] + ["garbage", "<answer>(0, 0) (0, 0)</answer>"]
    results = env.evaluate_group(answers)
    assert len(results) == len(answers)
    assert env.state_hash() == h0 and np.array_equal(env.render(), frame0)  # the env is untouched
    for r, a in zip(results[:3], legal[:3]):
        assert r.outcome.valid and r.parse_error is None
    assert results[3].parse_error and results[3].reward == -1 and not results[3].format_ok
    # each answer gets the reward it would get alone (n independent rewards, not a chain)
    for answer, res in zip(answers, results):
        solo = make(game)
        solo.set_state(env.get_state())
        assert solo.judge(answer).outcome == res.outcome


@pytest.mark.parametrize("game", GAMES)
def test_every_legal_action_is_valid_and_its_answer_text_plays_it(game):
    env = make(game)
    env.reset(seed=2)
    legal = env.legal_actions()
    assert legal and len(legal) == env._info()["n_legal"]
    for action in legal[:10]:
        by_text = env.evaluate_group([env.answer_for(action)])[0]
        assert by_text.outcome.valid and by_text.parse_error is None
        assert by_text.outcome == env.evaluate_group([action])[0].outcome


def test_group_rewards_2048_are_independent():
    # the original restored only a wrapper attribute, so sample k ran on the board left by samples 1..k-1
    env = make("2048")
    env.reset(seed=0)
    env.set_state(dict(env.get_state(), board={"board": [[1, 1, 0, 0], [0] * 4, [0] * 4, [0] * 4], "score": 0, "moves": 0}))
    res = env.evaluate_group(["<answer>3</answer>"] * 5)
    assert [r.reward for r in res] == [1.0] * 5 and [r.outcome.score_delta for r in res] == [4] * 5


def test_text_answers_report_format_and_perception():
    env = make("2048")
    _, info = env.reset(seed=0)
    good = f"<perception>\n{info['perception']}\n</perception><think>x</think><answer>0</answer>"
    *_, info2 = env.step(good)
    assert info2["format_ok"] is True and info2["perception_ok"] is True and info2["parse_error"] is None
    *_, info3 = env.step("<answer>zzz</answer>")
    assert info3["format_ok"] is False and info3["perception_ok"] is False
    assert info3["parse_error"].startswith("no action number") and info3["reason"].startswith("parse error")
    *_, info4 = env.step(1)
    assert info4["format_ok"] is None and info4["perception_ok"] is None


def test_termination_and_truncation_without_hidden_reset():
    env = make("2048", max_steps=3)
    env.reset(seed=0)
    flags = [env.step(a)[2:4] for a in (0, 1, 2)]
    assert flags[-1] == (False, True)
    env = make("2048")
    env.reset(seed=0)
    env.set_state(dict(env.get_state(), board={"board": [[1, 2, 1, 2], [2, 1, 2, 1], [1, 2, 1, 2], [2, 1, 3, 3]], "score": 0, "moves": 0}))
    _, _, term, trunc, info = env.step(3)
    if term:
        with pytest.raises(RuntimeError, match="call reset"):
            env.step(0)


@pytest.mark.parametrize("game", GAMES)
@pytest.mark.parametrize("bad", [None, 3.5, [1, 2], {"a": 1}, b"<answer>1</answer>", float("nan"), list(range(100_000))])
def test_malformed_structured_actions_are_outcomes_with_short_reasons(game, bad):
    env = make(game)
    env.reset(seed=0)
    h = env.state_hash()
    _, reward, terminated, _, info = env.step(bad)
    assert reward == -1 and not terminated and info["parse_error"] and len(info["reason"]) < 320
    assert env.state_hash() == h


def test_step_before_reset_is_an_error():
    with pytest.raises(gym.error.ResetNeeded):
        make("2048").step(0)


def test_reset_rejects_unknown_options():
    with pytest.raises(ValueError, match="unknown reset option"):
        make("2048").reset(seed=0, options={"warmup": 3})


@pytest.mark.parametrize("env_id", env_ids())
def test_gymnasium_make_and_check_env(env_id):
    kwargs = {"tile_source": "bundled"} if "Images" in env_id else {}
    env = gym.make(env_id, **kwargs)
    check_env(env.unwrapped, skip_render_check=False)
    frame, info = env.reset(seed=0)
    assert env.observation_space.contains(frame)


def test_registered_ids_cover_every_game_and_preset():
    ids = env_ids()
    for game in GAMES:
        cls = g1bench.get_game(game)
        assert f"g1bench/{cls.env_name}-v{cls.version}" in ids
        for preset in cls.Config.presets:
            if preset != "paper":
                assert f"g1bench/{cls.env_name}-{preset}-v{cls.version}" in ids


@pytest.mark.parametrize("game", GAMES)
def test_every_preset_builds_and_plays(game):
    for preset in g1bench.list_presets(game):
        hashes, frames = play(make(game, preset), seed=0, steps=3)
        assert len(set(hashes)) >= 1 and frames[0].shape[0] >= 28


@pytest.mark.parametrize("game", GAMES)
@pytest.mark.parametrize("version", ["g1-paper", "g1bench-v1"])
def test_prompt_protocol(game, version):
    env = make(game, prompt_version=version)
    env.reset(seed=0)
    p = env.prompt
    for tag in ("<perception></perception>", "<think></think>", "<answer>"):
        assert tag in p
    if version == "g1bench-v1":  # G1's Swap prompt keeps its source indentation (tests/test_prompts.py)
        assert p == p.strip() and "\n " not in p and "  " not in p  # no stray indentation
    assert env.versions()["prompt_hash"] and env.versions()["prompt_version"] == version


def test_make_errors():
    with pytest.raises(KeyError, match="unknown game 'chess'"):
        g1bench.make("chess")
    with pytest.raises(g1bench.ConfigError, match="unknown difficulty"):
        g1bench.make("2048", "impossible")
    with pytest.raises(ValueError, match="max_steps"):
        g1bench.make("2048", max_steps=0)


@pytest.mark.parametrize("labels", [False, True])
def test_canvas_maps_pixels_to_cells_and_back(labels):
    env = make("shisensho", "base", labels=labels)
    env.reset(seed=0)
    canvas = env.canvas
    for r, c in [(0, 0), (2, 3), (5, 5)]:
        left, top, right, bottom = canvas.cell_box(r, c)
        assert canvas.cell_at(left, top) == (r, c) and canvas.cell_at(right - 1, bottom - 1) == (r, c)
    assert canvas.cell_at(canvas.ox - 1, canvas.oy) is None
    assert canvas.cell_at(canvas.width - 1, canvas.height - 1) is None  # the status bar
    if labels:
        assert canvas.ox > 0 and canvas.oy > 0

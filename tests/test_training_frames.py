"""The pictures training gives the model: G1's training size (every game 640x840, PIL BICUBIC; spec section 4.1) by
default in the GRPO states and the cold-start data, the documented alternatives, and rewards that still judge the
state the row carries."""

import json

import numpy as np
import pytest
from PIL import Image

import g1bench
from g1bench.core.config import G1_EVAL_FRAME, G1_TRAIN_FRAME
from g1bench.eval.policies import Answer, OraclePolicy, Policy
from g1bench.training.coldstart import ColdStartSpec, OracleTeacher, build_coldstart
from g1bench.training.rewards import get_reward_funcs
from g1bench.training.states import TRAIN_FRAME, StateSampler, StatesError, grpo_dataset, parse_mix

ALL = "2048,shisensho,shisensho-images,swap"
OFFLINE = {"shisensho-images": {"tile_source": "bundled"}}


def _g1_resize(frame):
    """G1's GameSandbox: ``Image.fromarray(frame).resize(screen_size, Image.BICUBIC)`` with its trainers' 640x840."""
    return np.asarray(Image.fromarray(frame).resize((640, 840), Image.BICUBIC))


def test_every_games_training_picture_is_g1s_640x840_bicubic_resize():
    assert TRAIN_FRAME == "640x840" and G1_TRAIN_FRAME == (640, 840)
    sampler = StateSampler(parse_mix(ALL, overrides=OFFLINE))
    ds = grpo_dataset(sampler, 12)
    seen = set()
    for row in (ds[i] for i in range(12)):
        env = g1bench.make_from_state(row["state"])
        seen.add(row["game"])
        assert row["image"].size == (640, 840)
        assert np.array_equal(np.asarray(row["image"]), _g1_resize(env.render()))  # pixel for pixel
    assert seen == set(ALL.split(","))


@pytest.mark.parametrize("game", ALL.split(","))
def test_the_model_frame_option(game):
    native = g1bench.make(game, difficulty="paper", **OFFLINE.get(game, {}))
    native.reset(seed=1)
    sizes = {}
    for choice in ("640x840", "eval", "native", "320x420", (336, 448)):
        env, _ = StateSampler(parse_mix(game, overrides=OFFLINE, model_frame=choice)).sample(0)
        sizes[str(choice)] = env.model_observation().shape[1::-1]
    assert sizes["640x840"] == (640, 840)
    assert sizes["eval"] == G1_EVAL_FRAME[game]  # what g1bench eval gives the model with the paper preset
    assert sizes["native"] == native.canvas.size
    assert sizes["320x420"] == (320, 420) and sizes["(336, 448)"] == (336, 448)
    # a game's own override wins over the run's model_frame
    own = parse_mix(game, overrides={game: {**OFFLINE.get(game, {}), "model_frame": [448, 448]}})[0]
    assert own.knobs["model_frame"] == [448, 448]


def test_bad_model_frames_are_clear_errors():
    for bad in ("big", "640", "10x10", (640,), "640x840x3"):
        with pytest.raises(StatesError, match="model_frame"):
            parse_mix("swap", model_frame=bad)


@pytest.mark.parametrize("game", ALL.split(","))
def test_rewards_judge_the_rows_state_whatever_the_picture(game):
    """The frame knob is part of the row's state, so the reward's env (restored from it, never rendered) plays the same
    board as an env of the evaluation's config: the oracle's move scores the same on both."""
    g1 = get_reward_funcs(["g1"])[0]
    train = StateSampler(parse_mix(game, overrides=OFFLINE))
    same_board = StateSampler(parse_mix(game, overrides=OFFLINE, model_frame="eval"))
    oracle = OraclePolicy()
    for i in range(3):
        row, ref = train.row(i), same_board.row(i)
        assert json.loads(row["state"])["config"]["model_frame"] == [640, 840] and row["perception"] == ref["perception"]
        answers = [oracle.best_answer(json.loads(ref["state"])), "<answer>nonsense</answer>"]
        expected = [j.total_reward() for j in g1bench.make_from_state(ref["state"]).evaluate_group(answers)]
        assert g1(None, answers, state=[row["state"]] * 2) == expected


class _LookingTeacher(Policy):
    """A teacher that looks at the picture (like a real VLM teacher) and answers with the oracle's move."""

    name = "looking"
    needs_frames = True

    def __init__(self):
        self.inner, self.frames = OracleTeacher(), []

    def act(self, turns):
        self.frames += [t.frame for t in turns]
        return self.inner.act(turns)


@pytest.mark.parametrize("model_frame, size", [("640x840", (640, 840)), ("eval", (640, 640))])
def test_the_cold_start_teacher_sees_and_stores_the_training_picture(tmp_path, monkeypatch, model_frame, size):
    from datasets import load_dataset

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    teacher = _LookingTeacher()
    spec = ColdStartSpec(games=("swap",), states_per_game=2, model_frame=model_frame)
    build_coldstart(tmp_path / "cs", spec, teacher, log=lambda m: None)
    ds = load_dataset(str(tmp_path / "cs"), split="train")
    assert [f.shape for f in teacher.frames] == [(size[1], size[0], 3)] * 2
    for row, seen in zip(ds, teacher.frames):
        assert row["images"][0].size == size and np.array_equal(np.asarray(row["images"][0].convert("RGB")), seen)
        env = g1bench.make_from_state(row["state"])
        assert np.array_equal(env.model_observation(), seen)
    card = (tmp_path / "cs" / "README.md").read_text()
    assert f"--model_frame {model_frame}" in card and f"{size[0]}x{size[1]}" in card


def test_a_teacher_answer_is_judged_on_the_state_not_the_picture(tmp_path, monkeypatch):
    """A teacher whose answers are right for the state keeps every state, whatever size the picture is."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))

    class Oracle(Policy):
        name, needs_frames = "oracle", False

        def act(self, turns):
            return [Answer(OraclePolicy().best_answer(t.state)) for t in turns]

    for frame in ("native", "320x420"):
        report = build_coldstart(tmp_path / frame, ColdStartSpec(games=("shisensho",), states_per_game=3,
                                                                 model_frame=frame), Oracle(), log=lambda m: None)
        assert report.kept == {"shisensho": 3}

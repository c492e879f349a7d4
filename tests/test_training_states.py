"""GRPO training states (g1bench.training.states): the paper's sampler, mixes, datasets, the curriculum, and the
guarantee that no training state uses a seed of the evaluation suites."""

import json

import numpy as np
import pytest

import g1bench
from g1bench.data.sampling import states_row
from g1bench.eval.suites import PAPER_TRAIN_WARMUP, get_suite, start_game, stream_seed
from g1bench.eval.policies import Turn
from g1bench.models.messages import hf_messages
from g1bench.training.states import (COLDSTART_SEED_BASE, EVAL_SUITES, GRPO_SEED_BASE, STREAM_SPAN, Curriculum,
                                     StateSampler, StatesError, eval_seeds, grid_order, grpo_dataset, parse_mix,
                                     reset_seed, states_from_dataset)

ALL = "2048,shisensho,shisensho-images,swap"
OFFLINE = {"shisensho-images": {"tile_source": "bundled"}}


# -- no evaluation seed, ever ------------------------------------------------------------------------------
def test_eval_seeds_cover_every_seed_the_suites_reset_with():
    seeds = eval_seeds()
    for name in EVAL_SUITES:
        suite = get_suite(name)
        for e in suite.episodes:
            if name != "grid":  # (the grid's 100+ start positions take long to play out; its seeds are checked below)
                k = start_game(e, e.make_env(render_mode=None), 0)
                assert stream_seed(e.seed, k) in seeds
            # and every later game the step budget allows
            assert {stream_seed(e.seed, j) for j in range(e.steps)} <= seeds


def test_training_streams_lie_above_every_32_bit_seed():
    assert max(eval_seeds()) < 2**32 <= GRPO_SEED_BASE < GRPO_SEED_BASE + 10 * STREAM_SPAN <= COLDSTART_SEED_BASE


@pytest.mark.parametrize("sampling", ["paper", "late-game"])
def test_no_training_state_is_an_evaluation_state(sampling):
    n = 48 if sampling == "paper" else 8
    # the evaluation's own frame size, so that state hashes compare boards (the training frame knob alone would
    # make every hash differ)
    sampler = StateSampler(parse_mix(ALL, sampling=sampling, overrides=OFFLINE, model_frame="eval"))
    seeds = eval_seeds()
    start_hashes = {m["start_state_hash"] for s in ("paper", "smoke") for m in get_suite(s).manifest()}
    hashes = set()
    for i in range(n):
        env, meta = sampler.sample(i)
        row = {"seed": meta["seed"], "sampling": sampling, "first_game": meta["first_game"]}
        assert meta["seed"] >= GRPO_SEED_BASE and reset_seed(row) not in seeds
        hashes.add(env.state_hash())
    assert len(hashes) == n and not hashes & start_hashes


def test_a_reset_seed_that_is_an_evaluation_seed_is_replaced():
    base = StateSampler(parse_mix("2048"))
    env, meta = base.sample(3)
    used = reset_seed({"seed": meta["seed"], "sampling": "paper", "first_game": meta["first_game"]})
    guarded = StateSampler(parse_mix("2048"), forbidden=frozenset({used}))
    env2, meta2 = guarded.sample(3)
    assert meta2["seed"] == meta["seed"] + STREAM_SPAN
    assert reset_seed({"seed": meta2["seed"], "sampling": "paper", "first_game": meta2["first_game"]}) != used
    assert guarded.sample(4)[1]["seed"] == base.sample(4)[1]["seed"]  # other rows are untouched


def test_states_datasets_drop_rows_with_evaluation_seeds():
    from datasets import Dataset

    rows = []
    for seed in (0, 5, GRPO_SEED_BASE + 1):  # 0 and 5 are seeds of the paper suite
        env = g1bench.make("swap")
        rows.append(states_row(env, "paper", {}, "paper", seed, None))
    ds = Dataset.from_list(rows)
    kept = states_from_dataset(ds)
    assert [m["seed"] for m in kept.meta] == [GRPO_SEED_BASE + 1]
    with pytest.raises(StatesError, match="no usable start state"):
        states_from_dataset(ds.select([0, 1]))
    with pytest.raises(StatesError, match="no \\['state'"):
        states_from_dataset(Dataset.from_dict({"x": [1]}))


# -- the paper's sampler -------------------------------------------------------------------------------------
def test_rows_are_the_papers_sampler_and_deterministic():
    a = StateSampler(parse_mix("shisensho"))
    b = StateSampler(parse_mix("shisensho"))
    same_frame = StateSampler(parse_mix("shisensho", model_frame="eval"))
    for i in (0, 1, 17):
        env, meta = a.sample(i)
        # the same state as the states-<game> dataset row of that seed: seeded reset + 250 random warm-up moves
        ref = g1bench.make("shisensho")
        row = states_row(ref, "paper", {}, "paper", GRPO_SEED_BASE + i, None)
        ref_state, state = json.loads(row["state"]), env.get_state()
        assert meta["moves"] == PAPER_TRAIN_WARMUP["shisensho"]
        assert {**ref_state, "config": None} == json.loads(json.dumps({**state, "config": None}))  # board, RNG, steps
        assert row["state_hash"] == same_frame.sample(i)[0].state_hash()  # the config differs only by model_frame
        assert env.config.model_frame == (640, 840) != ref.config.model_frame == (640, 640)
        assert b.row(i)["state_hash"] == a.row(i)["state_hash"]


def test_rows_hold_what_trl_and_the_rewards_need():
    sampler = StateSampler(parse_mix(ALL, overrides=OFFLINE))
    ds = grpo_dataset(sampler, 8, system_prompt="Be brief.")
    assert len(ds) == 8
    for row in (ds[i] for i in range(8)):
        env = g1bench.make_from_state(row["state"])
        assert env.state_hash() == row["state_hash"] and env.game.perception_text() == row["perception"]
        # the picture the model is given: G1's training size for every game
        assert row["image"].size == (640, 840) == env.model_frame_size
        assert np.array_equal(np.asarray(row["image"]), env.model_observation())
        # exactly the messages the evaluation harness sends a transformers model
        assert row["prompt"] == hf_messages(Turn(row["game"], env.render(), env.prompt, {}), "Be brief.")
        assert row["difficulty"] == "paper" and row["seed"] >= GRPO_SEED_BASE and "level" not in row
        assert env.legal_actions()
    # a batch read (what the dataloader does) equals single reads
    batch = ds[2:5]
    assert batch["state_hash"] == [ds[i]["state_hash"] for i in range(2, 5)]


def test_mix_weights_and_errors():
    sampler = StateSampler(parse_mix("2048:3,swap:1"))
    games = [sampler.source(i)[0].game for i in range(2000)]
    assert 0.72 < games.count("2048") / len(games) < 0.78
    assert [s.weight for s in parse_mix("2048:3,swap")] == [3.0, 1.0]
    for bad, msg in [("chess", "unknown game"), ("2048:x", "must be a number"), ("2048:0", "must be > 0"),
                     ("2048,2048", "listed twice"), ("", "no game")]:
        with pytest.raises(StatesError, match=msg):
            parse_mix(bad)
    with pytest.raises(StatesError, match="unknown sampling"):
        parse_mix("2048", sampling="random")
    with pytest.raises(StatesError, match="unknown game"):
        parse_mix("2048", overrides={"shisensho-image": {"tile_source": "bundled"}})
    with pytest.raises(StatesError, match="not valid JSON"):
        parse_mix("2048", overrides="{oops")
    with pytest.raises(StatesError, match="size must be between"):
        parse_mix("2048", overrides={"2048": {"size": 99}})
    assert parse_mix("2048", overrides=OFFLINE)[0].overrides == "{}"  # overrides of games outside the mix are ignored
    with pytest.raises(StatesError, match="num_rows"):
        grpo_dataset(sampler, 0)


def test_late_game_states_are_playable_and_deeper():
    sampler = StateSampler(parse_mix("shisensho", sampling="late-game"))
    moves = []
    for i in range(6):
        env, meta = sampler.sample(i)
        assert env.legal_actions() and meta["sampling"] == "late-game"
        moves.append(meta["moves"])
    assert max(moves) > 0


# -- the curriculum ------------------------------------------------------------------------------------------
def test_grid_order_walks_perception_then_reasoning():
    assert grid_order("2048") == ["base", "mono", "large", "composition"]
    assert grid_order("shisensho") == ["base", "more-kinds", "more-tiles", "composition"]
    assert grid_order("swap") == ["base", "more-kinds", "large", "composition"]
    assert grid_order("shisensho-images")[:1] == ["bundled"]


def test_curriculum_advances_after_patience_and_rows_follow_it():
    cur = Curriculum.from_grid(["2048"], threshold=0.5, patience=2)
    sampler = StateSampler(parse_mix("2048"), curriculum=cur)
    assert sampler.row(0)["difficulty"] == "base"
    assert not cur.observe("2048", 0.6)
    assert not cur.observe("2048", 0.4)  # a miss resets the streak
    assert not cur.observe("2048", 0.5)
    assert cur.observe("2048", 0.9) and cur.preset("2048") == "mono"
    row = sampler.row(0)
    assert row["difficulty"] == "mono" and row["level"] == 1
    assert g1bench.make_from_state(row["state"]).config.colored is False
    for _ in range(10):
        cur.observe("2048", 1.0)
    assert cur.preset("2048") == "composition"  # and it stays at the last level
    assert not cur.observe("chess", 1.0)
    with pytest.raises(StatesError, match="not presets of 2048"):
        Curriculum.from_grid(["2048"], presets="base,huge")
    with pytest.raises(StatesError, match="threshold"):
        Curriculum({"2048": ["base"]}, threshold=0)


def test_curriculum_callback_follows_the_logs_and_replays_them_on_resume():
    pytest.importorskip("transformers")
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from g1bench.training.states import curriculum_callback

    cur = Curriculum({"swap": ["base", "large"], "2048": ["base", "mono"]}, threshold=0.5, patience=1)
    cb = curriculum_callback(cur)
    state, control = TrainerState(), TrainerControl()
    args = TrainingArguments(output_dir="unused", use_cpu=True, report_to=[])
    cb.on_log(args, state, control, logs={"g1/swap/success": 0.7, "g1/2048/success": 0.1})
    assert cur.preset("swap") == "large" and cur.preset("2048") == "base"
    state.log_history = [{"g1/swap/success": 0.9, "step": 1}, {"g1/2048/success": 0.8, "step": 2}]
    cur.reset()
    cb.on_train_begin(args, state, control)
    assert cur.preset("swap") == "large" and cur.preset("2048") == "mono"


def test_seeds_json_and_stream_limits():
    with pytest.raises(StatesError, match="outside"):
        StateSampler(parse_mix("2048")).sample(STREAM_SPAN)
    assert json.loads(StateSampler(parse_mix("2048")).row(0)["state"])["game"] == "2048"


def test_grpo_states_from_a_built_states_dataset(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from g1bench.data import build_dataset, make_spec
    from g1bench.training.trainers import grpo_states

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    build_dataset(tmp_path / "data", make_spec(configs="states", games="swap,2048", presets="paper", states_train=3,
                                               states_test=1), workers=1, log=lambda m: None)
    args = SimpleNamespace(games="swap,2048", preset="paper", sampling="late-game", game_overrides=None,
                           curriculum=False, dataset_name=str(tmp_path / "data"), dataset_train_split="train",
                           num_states=None, system_prompt=None, model_frame="640x840")
    dataset, curriculum, cells = grpo_states(args, None)
    frame = {"model_frame": [640, 840]}
    assert curriculum is None and cells == [("swap", "paper", frame), ("2048", "paper", frame)]
    rows = [dataset[i] for i in range(len(dataset))]
    assert len(rows) == 6 and {r["game"] for r in rows} == {"swap", "2048"}
    from g1bench.eval.policies import OraclePolicy
    from g1bench.training.rewards import get_reward_funcs

    g1 = get_reward_funcs(["g1"])[0]
    for r in rows:
        env = g1bench.make_from_state(r["state"])
        assert r["seed"] >= 1_000_000 and env.state_hash() == r["state_hash"]
        # the dataset's state, given to the model at G1's training size, and judged from the state the row carries
        assert r["image"].size == (640, 840) and np.array_equal(np.asarray(r["image"]), env.model_observation())
        state = json.loads(r["state"])
        best = OraclePolicy().best_answer(state)
        as_built = g1bench.make_from_state({**state, "config": {k: v for k, v in state["config"].items()
                                                                 if k != "model_frame"}})
        expected = as_built.evaluate_group([best])[0].total_reward()
        assert g1(None, [best], state=[r["state"]]) == [expected] and (r["game"] != "swap" or expected == 1.0)
    args.curriculum = True
    with pytest.raises(StatesError, match="cannot use a states dataset"):
        grpo_states(args, None)
    args.curriculum = False
    for games, name, msg in [("swap:2,2048", str(tmp_path / "data"), "weights apply to sampled states"),
                             ("shisensho", str(tmp_path / "data"), "cannot load config states-shisensho"),
                             ("swap", str(tmp_path / "nowhere"), "cannot load config states-swap")]:
        args.games, args.dataset_name = games, name
        with pytest.raises(StatesError, match=msg):
            grpo_states(args, None)

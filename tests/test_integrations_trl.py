"""The games as TRL environments (g1bench.integrations.trl) and the session every integration plays through
(g1bench.integrations.play): start states, tools, rewards, the dataset, the chat template TRL needs, and a real
GRPOTrainer whose tiny VLM calls the tools in TRL's own loop (``training/grpo_multiturn.py``)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import g1bench
from g1bench.data.sampling import states_row
from g1bench.eval.suites import EpisodeSpec, start_game
from g1bench.integrations.play import (TOOLS, GameSession, SessionError, direction_action, feedback_line,
                                       tool_prompt)
from g1bench.integrations.trl import (ENVIRONMENTS, NO_MOVE_REWARD, Game2048Env, ShisenShoEnv, SwapEnv,
                                      environment_factories, environment_factory, tool_play_dataset)

ROOT = Path(__file__).resolve().parents[1]
OFFLINE = {"shisensho-images": {"tile_source": "bundled"}}


# -- the session ----------------------------------------------------------------------------------------------
def test_a_seeded_session_starts_exactly_like_an_evaluation_episode():
    spec = EpisodeSpec("2048", "paper", seed=5, steps=3, warmup=100)
    env = spec.make_env()
    start_game(spec, env, 0)
    s = GameSession()
    s.start("2048", "paper", seed=5, warmup=100)
    assert s.state_hash == env.state_hash() and s.perception == env.game.perception_text()
    assert np.array_equal(s.model_frame(), env.model_observation())
    assert s.model_frame().shape == (840, 640, 3)  # the paper preset's G1 size, not the native frame


def test_a_snapshot_start_restores_board_and_rng_exactly():
    env = g1bench.make("swap")
    env.reset(seed=9)
    env.step("<answer>(0, 0) (0, 1)</answer>")
    s = GameSession()
    s.start(state=json.dumps(env.get_state()))
    assert s.state_hash == env.state_hash()
    a = s.play((1, 1, 1, 2))
    _, reward, *_ = env.step((1, 1, 1, 2))
    assert a["reward"] == reward and s.state_hash == env.state_hash()  # the same refill draws: the RNG came along


def test_session_refusals_are_one_clear_sentence():
    s = GameSession()
    with pytest.raises(SessionError, match="call reset first"):
        s.play("<answer>0</answer>")
    for kwargs, match in [({"game": "chess", "seed": 0}, "unknown game 'chess'"),
                          ({"game": "2048", "difficulty": "impossible", "seed": 0}, "unknown difficulty 'impossible'"),
                          ({"game": "2048"}, "from a 'seed' or from a 'state'"),
                          ({"game": "2048", "seed": -1}, "seed must be an integer >= 0"),
                          ({"game": "2048", "seed": 0, "warmup": 10**9}, "warmup must be an integer in 0..10000"),
                          ({"game": "2048", "seed": 0, "overrides": "{not json"}, "overrides are not valid JSON"),
                          ({"game": "swap", "seed": 0, "overrides": {"rows": 99}}, "rows"),
                          ({"state": {"format": "nope"}}, "not a g1bench snapshot"),
                          ({"game": "swap", "state": json.dumps(_snap("2048"))},
                           "the snapshot is a '2048' game, not 'swap'")]:
        with pytest.raises(SessionError, match=match):
            s.start(**kwargs)


def _snap(game, seed=0, difficulty="paper"):
    env = g1bench.make(game, difficulty)
    env.reset(seed=seed)
    return env.get_state()


def test_a_session_ends_with_its_game_or_its_step_budget():
    s = GameSession()
    s.start("shisensho", "base", seed=0, steps=2)
    s.play((0, 0, 0, 0))
    assert not s.over
    s.play((0, 0, 0, 0))
    assert s.over and s.step == 2
    with pytest.raises(SessionError, match="the game is over"):
        s.play((0, 0, 0, 0))


def test_feedback_line_says_what_the_move_did():
    s = GameSession()
    s.start("shisensho", "base", seed=1)
    pair = s.env.legal_actions()[0]
    good = s.play(tuple(pair))
    assert feedback_line(good, s.score) == "Feedback: reward +1. The move scored 1. Score 1."
    off = s.play((9, 9, 0, 0))
    assert feedback_line(off) == ("Feedback: reward -1. Your answer could not be read: coordinate (9, 9) is outside "
                                  "the 6x6 board.")
    empty = s.play(tuple(pair))  # those tiles are gone now
    assert feedback_line(empty).startswith("Feedback: reward -1. Invalid move: ")
    # the paper's 2048 rule: an unreadable answer plays a random move, and the line says so
    paper = GameSession(invalid_answer="random-move")
    paper.start("2048", seed=0, warmup=100)
    rec = paper.play("<answer>north</answer>")
    assert rec["fallback_action"] is not None
    assert "so a random move was played instead." in feedback_line(rec)
    assert feedback_line({**good, "terminated": True}).endswith("The game is over.")


def test_2048_directions_by_name_and_anything_else_is_a_parse_failure():
    assert [direction_action(d) for d in ("up", "Right", " down ", "LEFT", 2)] == [0, 1, 2, 3, 2]
    s = GameSession()
    s.start("2048", seed=0, warmup=100)
    before = s.state_hash
    rec = s.play(direction_action("north"))
    assert rec["parse_error"] == ("2048 actions are integers 0-3, got 'north' (the directions are 'up', 'right', "
                                  "'down' and 'left')")
    assert rec["reward"] == -1.0 and rec["answer"] == "'north'" and s.state_hash == before
    json.dumps(rec)  # records stay JSON (they are step-log records)


def test_tool_prompt_adds_how_to_move_with_the_games_tool():
    for game, tool in TOOLS.items():
        env = g1bench.make(game, **OFFLINE.get(game, {}))
        text = tool_prompt(env.prompt, game)
        assert text.startswith(env.prompt.rstrip()) and f"`{tool.name}` tool" in text
    assert set(TOOLS) == set(g1bench.list_games())


# -- the TRL environments -------------------------------------------------------------------------------------
def test_tools_are_the_public_methods_with_typed_documented_signatures():
    import inspect

    from transformers.utils import get_json_schema

    for game, cls in ENVIRONMENTS.items():
        # exactly what TRL reads: public functions of the class other than reset/get_reward
        tools = [n for n, _ in inspect.getmembers(cls, predicate=inspect.isfunction)
                 if not n.startswith("_") and n not in ("reset", "get_reward")]
        assert tools == [TOOLS[game].name]
        schema = get_json_schema(getattr(cls(), tools[0]))["function"]
        assert list(schema["parameters"]["properties"]) == list(TOOLS[game].args)
        assert schema["parameters"]["required"] == list(TOOLS[game].args)
    move = get_json_schema(Game2048Env().move)["function"]["parameters"]["properties"]["direction"]
    assert move["type"] == "string" and move["enum"] == ["up", "right", "down", "left"]
    pair = get_json_schema(SwapEnv().swap)["function"]["parameters"]["properties"]
    assert all(pair[k]["type"] == "integer" for k in ("row1", "col1", "row2", "col2"))


def test_reset_deals_a_rows_seed_and_the_tools_return_frame_and_line():
    env = ShisenShoEnv()
    assert env.reset(prompt=[{"role": "user", "content": "ignored"}], game="shisensho", difficulty="base", seed=3) is None
    ref = g1bench.make("shisensho", "base")
    ref.reset(seed=3)
    assert env._session.state_hash == ref.state_hash()
    r1, c1, r2, c2 = ref.legal_actions()[0]
    out = env.select_pair(row1=r1, col1=c1, row2=r2, col2=c2)
    ref.step((r1, c1, r2, c2))
    image, text = out
    assert image["type"] == "image" and text["type"] == "text"
    assert np.array_equal(np.asarray(image["image"]), ref.model_observation())  # the model's picture of the new board
    assert text["text"] == "Feedback: reward +1. The move scored 1. Score 1."
    env.select_pair(row1=r1, col1=c1, row2=r2, col2=c2)  # the same (now empty) pair: invalid
    assert env.get_reward() == 0.0  # +1 - 1


def test_reset_restores_a_states_row_snapshot_and_checks_its_hash():
    from g1bench.data.sampling import EnvCache
    from g1bench.eval.policies import OraclePolicy

    row = states_row(EnvCache().get("2048", "paper", {}), "paper", {}, "paper", 1_000_123, OraclePolicy())
    env = Game2048Env()
    env.reset(**row)  # a states-2048 dataset row as it is stored (state as JSON, overrides as JSON, ...)
    assert env._session.state_hash == row["state_hash"]
    out = env.move(direction="left")
    assert out[0]["image"].size == (640, 840)
    with pytest.raises(ValueError, match="hashes to .* but its state_hash column says"):
        env.reset(**{**row, "state_hash": "0" * 16})
    with pytest.raises(ValueError, match="plays '2048', but the row is a 'swap' game"):
        env.reset(game="swap", seed=0)
    with pytest.raises(ValueError, match="neither was given"):
        env.reset(game="2048")


def test_get_reward_sums_the_moves_and_a_rollout_without_a_move_scores_minus_one():
    env = Game2048Env()
    env.reset(seed=0, warmup=100)
    assert env.get_reward() == NO_MOVE_REWARD == -1.0
    rewards = [env.move(direction=d) and env._records[-1]["reward"] for d in ("up", "left", "sideways")]
    assert env.get_reward() == sum(rewards) and rewards[-1] == -1.0
    assert "the directions are 'up', 'right', 'down' and 'left'" in env._records[-1]["parse_error"]
    env.reset(seed=1)
    assert env.get_reward() == -1.0  # a reset starts a new rollout


def test_a_finished_game_takes_no_more_moves():
    env = ShisenShoEnv()
    snap = _snap("shisensho", difficulty="base")
    env.reset(state=json.dumps(snap))
    env._session.over = True  # as after the last pair
    assert env.select_pair(0, 0, 0, 1) == [{"type": "text", "text": "The game is over; no move was made."}]
    assert env.get_reward() == -1.0


def test_factories_for_one_game_and_for_a_mix():
    assert environment_factory("2048") is Game2048Env
    f = environment_factory("shisensho", "base", {"labels": True})
    e = f()
    e.reset(seed=0)
    assert type(e) is ShisenShoEnv and e._session.env.config.labels and e._session.env.config.rows == 6
    mix = environment_factories(["swap", "shisensho-images"], overrides=OFFLINE)
    assert list(mix) == ["swap", "shisensho-images"]
    img = mix["shisensho-images"]()
    img.reset(seed=0, overrides="{}")  # a row's own (empty) overrides keep the env's
    assert img._session.env.config.tile_source == "bundled"
    img.reset(seed=0, overrides='{"labels": true}')
    assert img._session.env.config.tile_source == "bundled" and img._session.env.config.labels
    assert set(environment_factories()) == set(g1bench.list_games())


def test_tool_play_dataset_rows_are_training_states_with_the_model_frame():
    from g1bench.training.states import GRPO_SEED_BASE, eval_seeds

    ds = tool_play_dataset("2048,shisensho-images", 6, overrides=OFFLINE)
    seen = set()
    for row in ds:
        game = row["environment"]
        seen.add(game)
        assert row["game"] == game and row["seed"] >= GRPO_SEED_BASE and row["seed"] not in eval_seeds()
        user = row["prompt"][-1]
        assert user["role"] == "user" and user["content"][0] == {"type": "image"}
        assert user["content"][1]["text"].endswith("keep playing until the game is over.")
        restored = g1bench.make_from_state(row["state"])
        assert restored.state_hash() == row["state_hash"]
        assert np.array_equal(np.asarray(row["image"]), restored.model_observation())
        env = ENVIRONMENTS[game](overrides=OFFLINE.get(game))
        env.reset(**{k: v for k, v in row.items() if k != "environment"})  # what TRL passes in a dict-factory run
        assert env._session.state_hash == row["state_hash"]
    assert seen == {"2048", "shisensho-images"}


def test_the_chat_template_trl_needs_for_tools(tiny_qwen2_vl):
    pytest.importorskip("trl")
    from transformers import AutoProcessor
    from trl.chat_template_utils import supports_tool_calling

    from g1bench.integrations.trl import use_tool_chat_template

    processor = AutoProcessor.from_pretrained(tiny_qwen2_vl)
    assert not supports_tool_calling(processor)  # the Qwen2-VL / Qwen2.5-VL template has no tools: TRL refuses it
    use_tool_chat_template(processor)
    assert supports_tool_calling(processor)
    text = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "play"}]}],
        tools=[Game2048Env().move], add_generation_prompt=True, tokenize=False)
    assert '"name": "move"' in text and '"enum": ["up", "right", "down", "left"]' in text
    with pytest.raises(ValueError, match="unknown tool chat template"):
        use_tool_chat_template(processor, "llama9")


@pytest.mark.parametrize("path", sorted((ROOT / "training" / "recipes").glob("*/grpo_multiturn.yaml")),
                         ids=lambda p: p.parent.name)
def test_multiturn_recipes_parse_and_keep_the_papers_settings_where_they_apply(path):
    pytest.importorskip("trl")
    from trl import GRPOConfig, ModelConfig, TrlParser

    from g1bench.integrations.trl import ToolPlayArguments

    gpu = [] if "tiny" in path.parent.name else ["--use_cpu", "true", "--bf16", "false"]  # the YAML keys are checked
    script, args, model = TrlParser((ToolPlayArguments, GRPOConfig, ModelConfig)).parse_args_and_config(
        ["--config", str(path), *gpu])
    header = path.read_text().splitlines()[:4]
    assert any(f"training/grpo_multiturn.py --config training/recipes/{path.parent.name}/grpo_multiturn.yaml" in line
               for line in header)
    assert script.tool_chat_template == "qwen3_vl" and args.max_tool_calling_iterations >= 2
    if not path.parent.name.startswith("multiturn-tiny"):
        assert model.model_name_or_path == "Qwen/Qwen2.5-VL-7B-Instruct"
        assert (args.learning_rate, args.beta, args.epsilon, args.num_generations, args.temperature) == (1e-6, 0.01, 0.2, 5, 1.0)
        assert args.per_device_train_batch_size * args.gradient_accumulation_steps * 8 == 128 * 5  # 128 states x 5
        assert (args.max_steps, args.loss_type, script.sampling) == (400, "bnpo", "paper")
        assert (script.min_pixels, script.max_pixels) == (262144, 4194304)


# -- a real GRPOTrainer ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_recipe_trains_with_a_model_that_calls_the_tools_in_trls_loop(tiny_qwen2_vl, tmp_path):
    """The multi-turn recipe end to end: TRL parses the model's tool calls, runs select_pair on the row's restored
    state, feeds the frame back, and logs each environment's get_reward(). The tiny model's weights are random, so
    its reply is scripted through generate()'s sequence bias: the same tool call every turn."""
    pytest.importorskip("trl")
    from transformers import AutoProcessor

    from g1bench.testing.tiny_vlm import scripted_reply_bias

    games = ("shisensho", "shisensho-images")
    # the recipe's rows (--num_states 3: one generation batch of 3 prompts x 2 rollouts uses each row once; rows 0-1
    # are natural-image games, row 2 a Shisen-Sho game, so both environments of the dict factory play)
    rows = list(tool_play_dataset(",".join(games), 3, overrides=OFFLINE))
    assert {r["game"] for r in rows} == set(games)
    r1, c1, r2, c2 = g1bench.make_from_state(rows[0]["state"]).legal_actions()[0]  # row 0's first pair is legal
    call = ('<tool_call>\n{"name": "select_pair", "arguments": '
            f'{{"row1": {r1}, "col1": {c1}, "row2": {r2}, "col2": {c2}}}}}\n</tool_call>')
    bias = scripted_reply_bias(AutoProcessor.from_pretrained(tiny_qwen2_vl).tokenizer, call)
    out = tmp_path / "out"
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "PATH": os.path.dirname(sys.executable) + ":/usr/bin",
           "TRL_EXPERIMENTAL_SILENCE": "1", "OMP_NUM_THREADS": "2", "HOME": os.environ.get("HOME", "/tmp")}
    res = subprocess.run([sys.executable, ROOT / "training" / "grpo_multiturn.py", "--config",
                          ROOT / "training" / "recipes" / "multiturn-tiny-cpu" / "grpo_multiturn.yaml",
                          "--model_name_or_path", tiny_qwen2_vl, "--output_dir", out, "--games", ",".join(games),
                          "--max_steps", "1", "--num_states", "3", "--per_device_train_batch_size", "6", "--num_generations", "2",
                          "--max_completion_length", "400", "--generation_kwargs", json.dumps({"sequence_bias": bias})],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-4000:]
    log = json.loads((out / "g1_metrics.jsonl").read_text().splitlines()[0])
    assert log["tools/call_frequency"] == 2.0 and log["tools/failure_frequency"] == 0.0  # two moves per rollout
    # what each rollout's environment must have scored: the row's state, the same pair twice
    expected = {}
    for row in rows:
        s = GameSession()
        s.start(state=row["state"])
        total = sum(s.play((r1, c1, r2, c2))["reward"] for _ in range(2))
        expected.setdefault(row["game"], []).append(total)
    assert max(expected["shisensho"] + expected["shisensho-images"]) == 0.0  # row 0: a match, then an empty pair
    for game, cls in (("shisensho", "ShisenShoEnv"), ("shisensho-images", "ShisenShoImagesEnv")):
        assert log[f"rewards/{cls}/mean"] == pytest.approx(float(np.mean(expected[game])))
    assert (out / "model.safetensors").is_file() and (out / "chat_template.jinja").is_file()

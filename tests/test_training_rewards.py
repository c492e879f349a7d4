"""Reward functions for GRPO (g1bench.training.rewards): TRL's signature, exact values, group independence,
malformed and hostile completions."""

import json
import time

import pytest

import g1bench
from g1bench.core.hashing import canonical_json
from g1bench.training.rewards import (RELEASED_PERCEPTION_WEIGHT, RewardInputError, UnknownRewardError,
                                      completion_text, format_partial_reward, format_reward, g1_released_reward,
                                      game_reward, get_reward_funcs, list_rewards, make_g1_reward, perception_reward,
                                      perception_substring_reward)
from g1bench.training.states import StateSampler, parse_mix


def _state(game, seed=10_000_000_000 + 7, **over):
    env = g1bench.make(game, **over)
    env.reset(seed=seed)
    return env


def _chat(text):
    return [{"role": "assistant", "content": text}]


def _cols(env, n):
    state = canonical_json(env.get_state())
    return {"state": [state] * n, "perception": [env.game.perception_text()] * n, "game": [env.game.name] * n}


def _good(env, action, perception=None):
    p = env.game.perception_text() if perception is None else perception
    return f"<perception>\n{p}\n</perception>\n<think>because</think>\n{env.answer_for(action)}"


@pytest.mark.parametrize("game", ["shisensho", "swap", "2048"])
def test_every_completion_of_a_group_is_scored_from_the_same_state(game):
    env = _state(game)
    legal = env.legal_actions()
    a = legal[0]
    # the same successful move three times: if the env carried state between completions, the pair would already be
    # gone (Shisen-Sho), the swap undone, or the 2048 board changed, and later copies could fail
    comps = [_chat(_good(env, a)), _chat(_good(env, a)), _chat("<answer>nonsense</answer>"), _chat(_good(env, a))]
    before = env.state_hash()
    expect = env.evaluate_group([_good(env, a)])[0].reward
    assert expect == 1.0 or game == "2048"  # a 2048 move can be legal without merging
    rewards = game_reward(None, comps, **_cols(env, 4))
    assert rewards == [expect, expect, -1.0, expect]
    assert env.state_hash() == before


def test_rows_of_different_states_interleaved_score_as_separately():
    sampler = StateSampler(parse_mix("shisensho,swap"))
    rows = [sampler.row(i) for i in range(4)]
    comps, cols = [], {"state": [], "perception": [], "game": []}
    for r in rows:
        env = g1bench.make_from_state(r["state"])
        for a in env.legal_actions()[:2] + [(0, 0, 0, 0)]:
            comps.append(_chat(_good(env, a) if a != (0, 0, 0, 0) else "<answer>(0, 0) (0, 0)</answer>"))
            for k in cols:
                cols[k].append(r[k])
    together = game_reward(None, comps, **cols)
    order = list(range(len(comps)))[::-1]  # reversed and so interleaved differently
    shuffled = game_reward(None, [comps[i] for i in order], **{k: [v[i] for i in order] for k, v in cols.items()})
    assert [shuffled[order.index(i)] for i in range(len(comps))] == together
    assert together == [1.0, 1.0, -1.0] * 4


def test_exact_values_and_weights():
    env = _state("shisensho")
    a = env.legal_actions()[0]
    comps = [_chat(_good(env, a)),                                  # GR +1, FR 1, PR 1
             _chat(_good(env, a, perception="wrong")),              # GR +1, FR 1, PR 0
             _chat(env.answer_for(a)),                              # GR +1, FR 0, PR 0
             _chat("<perception>x</perception><think>y</think><answer>(9, 9) (9, 9)</answer>")]  # GR -1, FR 1
    cols = _cols(env, 4)
    assert game_reward(None, comps, **cols) == [1.0, 1.0, 1.0, -1.0]
    assert format_reward(None, comps, **cols) == [1.0, 1.0, 0.0, 1.0]
    assert perception_reward(None, comps, **cols) == [1.0, 0.0, 0.0, 0.0]
    assert make_g1_reward()(None, comps, **cols) == [2.0, 2.0, 1.0, 0.0]
    assert make_g1_reward(1.0, 0.1)(None, comps, **cols) == [2.1, 2.0, 1.0, 0.0]
    assert make_g1_reward(0.0, 0.0)(None, comps, **cols) == [1.0, 1.0, 1.0, -1.0]
    # the combined reward is Judgement.total_reward, term for term
    judged = env.evaluate_group([completion_text(c) for c in comps])
    assert make_g1_reward(0.5, 0.25)(None, comps, **cols) == [j.total_reward(0.5, 0.25) for j in judged]


def test_perception_is_an_exact_match_of_the_block():
    env = _state("swap")
    truth = env.game.perception_text()
    a = env.legal_actions()[0]
    one_cell_off = truth.replace("Red", "Blue", 1) if "Red" in truth else truth.replace("Green", "Blue", 1)
    texts = [
        f"<perception>{truth}</perception>",                 # exact
        f"<perception>\n\n {truth} \n</perception>",        # outer spaces and newlines only
        f"<perception>{one_cell_off}</perception>",          # one cell wrong
        f"<perception>{truth} extra</perception>",           # extra text
        f"{truth}<perception>nothing</perception>",          # the truth outside the block
        truth,                                               # no block at all
        f"<perception>{truth.replace(' | ', '|')}</perception>",  # separators changed
    ]
    comps = [_chat(t + env.answer_for(a)) for t in texts]
    assert perception_reward(None, comps, **_cols(env, len(texts))) == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]


def test_malformed_and_hostile_completions_score_the_minimum_without_raising():
    env = _state("shisensho")
    hostile = [
        None, 123, 4.5, {"content": None}, [], [None], [{"role": "assistant"}],
        [{"role": "assistant", "content": [{"type": "image"}, {"text": 5}]}],   # parts without text
        "", "\x00\x01\x02", "<answer>" * 100_000, "<answer>" + "9" * 10_000 + "</answer>",
        "<answer>(0, 0) (0, 1)" * 50_000, "<perception>" * 50_000 + "</perception>",
        "<answer>(-1, 0) (0, 0)</answer>", "<answer>(0,0)(0,1)(0,2)</answer>", "<answer>١ ٢</answer>",
        "</answer><answer>", "<ANSWER>(0, 0) (0, 1)</ANSWER>", "'; DROP TABLE states; --", "\uffff\u202e",
        json.dumps({"answer": [0, 0, 0, 1]}), "<think>" + "x" * 1_000_000 + "</think>",
    ]
    comps = [h if not isinstance(h, str) else _chat(h) for h in hostile]
    cols = _cols(env, len(comps))
    t = time.perf_counter()
    assert game_reward(None, comps, **cols) == [-1.0] * len(comps)
    assert format_reward(None, comps, **cols) == [0.0] * len(comps)
    assert perception_reward(None, comps, **cols) == [0.0] * len(comps)
    assert make_g1_reward(1.0, 0.1)(None, comps, **cols) == [-1.0] * len(comps)
    assert all(0.0 <= r <= 1.0 for r in format_partial_reward(None, comps, **cols))
    assert time.perf_counter() - t < 10  # linear-time parsing on megabyte inputs (a generous bound for loaded CI)


def test_completion_text_reads_every_trl_format():
    assert completion_text("plain") == "plain"
    assert completion_text(_chat("x")) == "x"
    assert completion_text([{"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]) == "ab"
    assert completion_text({"role": "assistant", "content": "y"}) == "y"
    assert completion_text(None) == completion_text(7) == completion_text([{"content": 3}]) == ""


def test_rows_without_a_usable_state_raise_a_clear_error():
    env = _state("2048")
    comps = [_chat("<answer>0</answer>")]
    with pytest.raises(RewardInputError, match="needs a 'state' column"):
        game_reward(None, comps, perception=["x"])
    with pytest.raises(RewardInputError, match="not valid JSON"):
        game_reward(None, comps, state=["{not json"])
    with pytest.raises(RewardInputError, match="not a g1bench snapshot"):
        game_reward(None, comps, state=['{"x": 1}'])
    with pytest.raises(RewardInputError, match="1 entries for 2 completions"):
        game_reward(None, comps * 2, state=[canonical_json(env.get_state())])
    with pytest.raises(RewardInputError, match="perception"):
        perception_reward(None, comps)
    # a finished board (no valid move) is not a training state
    over = g1bench.make("shisensho", difficulty="base")
    over.reset(seed=1)
    done = None
    for action in iter(lambda: over.game.legal_actions(), []):
        over.judge(action[0])
        if over.game.is_over():
            done = canonical_json(over.get_state())
            break
    assert done is not None
    with pytest.raises(RewardInputError, match="no valid move"):
        game_reward(None, comps, state=[done])


def test_state_dicts_work_as_well_as_json():
    env = _state("swap")
    a = env.legal_actions()[0]
    assert game_reward(None, [_chat(_good(env, a))], state=[env.get_state()]) == [1.0]


def test_registry_names_and_errors():
    assert list_rewards() == ["format", "format_partial", "g1", "g1_released", "game", "perception",
                              "perception_substring"]
    funcs = get_reward_funcs(["g1", "game", "format", "perception", "format_partial"], 1.0, 0.1)
    assert [f.__name__ for f in funcs] == ["g1", "game", "format", "perception", "format_partial"]
    assert [f.__name__ for f in get_reward_funcs("game, format")] == ["game", "format"]
    with pytest.raises(ValueError, match="unknown reward function 'gmae'"):
        get_reward_funcs(["gmae"])
    with pytest.raises(ValueError, match="twice"):
        get_reward_funcs(["game", "game"])
    with pytest.raises(ValueError, match="no reward function"):
        get_reward_funcs([])
    env = _state("shisensho")
    a = env.legal_actions()[0]
    g1 = get_reward_funcs(["g1"], 1.0, 0.1)[0]
    assert g1(None, [_chat(_good(env, a))], **_cols(env, 1)) == [2.1]


def test_a_reward_of_your_own_by_import_path(tmp_path, monkeypatch):
    (tmp_path / "my_rewards.py").write_text("def length(prompts, completions, **kw):\n"
                                            "    return [float(len(str(c))) for c in completions]\nNOT_A_FUNCTION = 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    fn = get_reward_funcs(["g1", "my_rewards:length"])[1]
    assert fn.__name__ == "length" and fn(None, ["abc", "hello"]) == [3.0, 5.0]
    for bad, msg in (("my_rewards:missing", "has no attribute 'missing'"), ("no_such_module:f", "No module named"),
                     ("my_rewards:NOT_A_FUNCTION", "not a function")):
        with pytest.raises(UnknownRewardError, match=msg):
            get_reward_funcs([bad])


@pytest.mark.parametrize("game", ["2048", "shisensho", "shisensho-images", "swap"])
def test_the_released_trainers_reward(game):
    """G1's released trainers: GR + FR + w*PR, PR = the exact ground truth anywhere in the response (a substring
    test, whitespace-sensitive), w = 1 for 2048, natural images and Swap, 0 for Shisen-Sho (spec section 3)."""
    env = _state(game, **({"tile_source": "bundled"} if game == "shisensho-images" else {}))
    truth = env.game.perception_text()
    move = next(m for m in (env.answer_for(x) for x in env.legal_actions()) if env.evaluate_group([m])[0].outcome.success)
    a = env.game.parse_answer(move)
    texts = [
        _good(env, a),                                                     # GR +1, FR 1, truth in the block
        f"<perception>x</perception><think>{truth}</think>{move}",        # the truth elsewhere counts for G1
        f"<perception>{truth[:-1]}x</perception><think>t</think>{move}",  # last character changed
        f"<perception>\n{truth}\n</perception>\n<think>t</think>\n<answer>(9, 9) (9, 9)</answer>"
        if game != "2048" else f"<perception>\n{truth}\n</perception>\n<think>t</think>\n<answer>9</answer>",
    ]
    w = RELEASED_PERCEPTION_WEIGHT[game]
    assert w == (0.0 if game == "shisensho" else 1.0)
    cols = _cols(env, len(texts))
    comps = [_chat(t) for t in texts]
    assert perception_substring_reward(None, comps, **cols) == [1.0, 1.0, 0.0, 1.0]
    assert perception_reward(None, comps, **cols) == [1.0, 0.0, 0.0, 1.0]  # g1bench's exact-block check differs
    gr = game_reward(None, comps, **cols)
    assert gr[:3] == [1.0, 1.0, 1.0] and gr[3] == -1.0
    assert g1_released_reward(None, comps, **cols) == [2.0 + w, 2.0 + w, 2.0, 0.0 + w]
    assert get_reward_funcs(["g1_released"])[0](None, comps, **cols) == g1_released_reward(None, comps, **cols)


def test_per_game_metrics_are_logged_per_completion():
    sampler = StateSampler(parse_mix("2048,shisensho"))
    rows = [sampler.row(i) for i in range(6)]
    comps, cols = [], {"state": [], "perception": [], "game": []}
    for r in rows:
        env = g1bench.make_from_state(r["state"])
        good = next(a for a in env.legal_actions() if env.evaluate_group([a])[0].outcome.success)
        for text in (_good(env, good), _good(env, good, perception="wrong"), "<answer>junk</answer>"):
            comps.append(_chat(text))
            for k in cols:
                cols[k].append(r[k])
    logged = []
    get_reward_funcs(["game"])[0](None, comps, log_metric=lambda k, v: logged.append((k, v)), **cols)
    by_key = {}
    for k, v in logged:
        by_key.setdefault(k, []).append(v)
    for game in {r["game"] for r in rows}:
        n = 3 * sum(r["game"] == game for r in rows)
        assert len(by_key[f"g1/{game}/game_reward"]) == n
        assert by_key[f"g1/{game}/success"].count(1.0) == 2 * n // 3
        assert by_key[f"g1/{game}/format_rate"].count(1.0) == 2 * n // 3
        assert by_key[f"g1/{game}/perception_acc"].count(1.0) == n // 3
        # reasoning accuracy is logged only where perception was right, and those all succeeded
        assert by_key[f"g1/{game}/reasoning_acc"] == [1.0] * (n // 3)
    # non-judging rewards log nothing
    logged.clear()
    format_reward(None, comps, log_metric=lambda k, v: logged.append(k), **cols)
    assert logged == []


def test_curriculum_rows_log_their_level():
    env = _state("swap")
    logged = []
    cols = dict(_cols(env, 2), level=[2, 2])
    game_reward(None, [_chat("x"), _chat("y")], log_metric=lambda k, v: logged.append((k, v)), **cols)
    assert logged.count(("g1/swap/level", 2.0)) == 2

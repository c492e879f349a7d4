"""The G1 cold-start builder (g1bench.training.coldstart): teachers, the success filter, the perception-enhanced
answers, TRL's SFT format, the card, resume."""

import json
import re

import numpy as np
import pytest

import g1bench
from g1bench.data.errors import DataError
from g1bench.eval.policies import Answer, Policy
from g1bench.training.coldstart import (ColdStartSpec, OracleTeacher, build_coldstart, compose_answer, teacher_think,
                                        templated_think)
from g1bench.training.states import COLDSTART_SEED_BASE, StateSampler, eval_seeds, parse_mix

OFFLINE = '{"shisensho-images":{"tile_source":"bundled"}}'


@pytest.fixture()
def hf_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    return tmp_path


def _load(folder, config=None):
    from datasets import load_dataset

    return load_dataset(str(folder), config, split="train")


def test_oracle_cold_start_is_perception_enhanced_and_every_answer_succeeds(tmp_path, hf_home):
    spec = ColdStartSpec(games=("2048", "shisensho", "shisensho-images", "swap"), states_per_game=6, overrides=OFFLINE)
    report = build_coldstart(tmp_path / "cs", spec, log=lambda m: None)
    ds = _load(tmp_path / "cs")
    assert len(ds) == sum(report.kept.values()) and report.asked == {g: 6 for g in spec.games}
    assert report.kept["shisensho"] == report.kept["swap"] == 6  # the oracle always has a successful move there
    for row in ds:
        env = g1bench.make_from_state(row["state"])
        assert env.state_hash() == row["state_hash"]
        assert row["seed"] >= COLDSTART_SEED_BASE and row["seed"] not in eval_seeds()
        user, assistant = row["messages"]
        assert user["role"] == "user" and [p["type"] for p in user["content"]] == ["image", "text"]
        assert user["content"][1]["text"] == env.prompt
        # the picture the model will be trained on: G1's training size, exactly the env's model observation
        assert row["images"][0].size == (640, 840) and json.loads(row["overrides"])["model_frame"] == [640, 840]
        assert np.array_equal(np.asarray(row["images"][0].convert("RGB")), env.model_observation())
        text = assistant["content"][0]["text"]
        judged = env.evaluate_group([text])[0]
        assert judged.outcome.success and judged.format_ok and judged.perception_ok
        assert text.startswith(f"<perception>\n{env.game.perception_text()}\n</perception>\n<think>\n")
        assert json.loads(row["teacher"])["policy"] == "oracle-teacher"
    # one config per game and "all"
    assert len(_load(tmp_path / "cs", "coldstart-swap")) == 6
    card = (tmp_path / "cs" / "README.md").read_text()
    assert "config_name: coldstart-2048" in card and "default: true" in card and "&id" not in card
    assert re.search(r"\| swap \| 6 \| 6 \| 100\.0% \|", card)
    assert (tmp_path / "cs" / "LICENSES" / "tilepack-LICENSE.txt").is_file()


def test_the_build_is_deterministic_and_resumable(tmp_path, hf_home):
    spec = ColdStartSpec(games=("swap",), states_per_game=3)
    build_coldstart(tmp_path / "a", spec, log=lambda m: None)
    build_coldstart(tmp_path / "b", spec, log=lambda m: None)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.parquet"))
    assert files and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert (tmp_path / "a" / "README.md").read_text() == (tmp_path / "b" / "README.md").read_text()
    messages = []
    again = build_coldstart(tmp_path / "a", spec, resume=True, log=messages.append)
    assert again.kept == {"swap": 3} and "nothing to do" in messages[-1]
    with pytest.raises(DataError, match="not empty"):
        build_coldstart(tmp_path / "a", spec, log=lambda m: None)
    with pytest.raises(DataError, match="must be >= 1"):
        build_coldstart(tmp_path / "c", ColdStartSpec(games=("swap",), states_per_game=0))


class Scripted(Policy):
    """A teacher that answers from the state: on its first try the oracle's move (with a wrong perception and a
    think) for every other state and a losing move for the rest, on its second try the oracle's move; records
    what it was shown."""

    name = "scripted"

    def __init__(self):
        self.oracle = OracleTeacher()
        self.seen = []

    def act(self, turns):
        out = []
        for i, t in enumerate(turns):
            self.seen.append(t)
            good = self.oracle.oracle.best_answer(t.state)
            if t.step == 1 or i % 2 == 0:  # attempt 0: every other state; attempt 1: all
                # a quoted answer block in the think that neither grammar accepts (g1: first acceptable; lenient: last)
                out.append(Answer(f"<perception>I see tiles</perception><think>the format is <answer>move</answer>, "
                                  f"this pair looks right</think>{good}"))
            else:
                out.append(Answer("<think>guess</think><answer>(0, 0) (0, 0)</answer>"))
        return out


def test_only_successful_answers_are_kept_with_the_truth_written_in(tmp_path, hf_home):
    teacher = Scripted()
    spec = ColdStartSpec(games=("shisensho",), states_per_game=6, attempts=2)
    report = build_coldstart(tmp_path / "cs", spec, teacher=teacher, teacher_label="scripted", log=lambda m: None)
    # 6 states: odd calls succeed; the failed ones are asked once more (attempt 1) and succeed then
    assert report.kept == {"shisensho": 6}
    ds = _load(tmp_path / "cs")
    assert sorted(ds["attempt"]) == [0, 0, 0, 1, 1, 1]
    assert all(t.frame is not None and t.frame.ndim == 3 for t in teacher.seen)  # a model teacher sees the frame
    for row in ds:
        env = g1bench.make_from_state(row["state"])
        text = row["messages"][1]["content"][0]["text"]
        assert "I see tiles" in row["teacher_answer"] and "I see tiles" not in text
        assert text.count("<answer>") == 1  # the answer quoted inside the teacher's think is defused
        assert "the format is move, this pair looks right" in text
        assert env.evaluate_group([text])[0].perception_ok


def test_a_teacher_that_never_succeeds_is_reported_and_empty_games_get_no_config(tmp_path, hf_home):
    class Bad(Policy):
        def act(self, turns):
            junk = ["", None, "<answer>(9, 9) (9, 9)</answer>", "\x00" * 10, "<answer>(0, 0) (0, 0)</answer>"]
            return [Answer(junk[i % len(junk)]) for i in range(len(turns))]

    with pytest.raises(DataError, match="no answer of the teacher succeeded"):
        build_coldstart(tmp_path / "cs", ColdStartSpec(games=("swap",), states_per_game=5), teacher=Bad(),
                        log=lambda m: None)

    class OnlySwap(Policy):  # the oracle's move on Swap, junk on Shisen-Sho
        def __init__(self):
            self.oracle = OracleTeacher()

        def act(self, turns):
            return [self.oracle.act([t])[0] if t.game == "swap" else Answer("junk") for t in turns]

    report = build_coldstart(tmp_path / "cs2", ColdStartSpec(games=("shisensho", "swap"), states_per_game=3),
                             teacher=OnlySwap(), log=lambda m: None)
    assert report.kept == {"shisensho": 0, "swap": 3}
    assert len(_load(tmp_path / "cs2")) == 3
    card = (tmp_path / "cs2" / "README.md").read_text()
    assert "config_name: coldstart-shisensho" not in card and "| shisensho | 3 | 0 | 0.0% |" in card


def test_a_teacher_behind_an_openai_compatible_server(tmp_path, hf_home):
    from g1bench.models import ModelConfig, load_policy
    from g1bench.testing.fake_openai import FakeOpenAIServer

    # the server answers "1" (Right) to everything: kept exactly where Right merges tiles
    with FakeOpenAIServer(reply=lambda body: "<think>Right merges.</think><answer>1</answer>") as srv:
        teacher = load_policy("fake-model", ModelConfig(base_url=srv.base_url, max_concurrency=2))
        report = build_coldstart(tmp_path / "cs", ColdStartSpec(games=("2048",), states_per_game=8), teacher=teacher,
                                 teacher_label="fake-model", log=lambda m: None)
        requests = srv.chat_requests()
    assert len(requests) == 8
    parts = requests[0]["json"]["messages"][-1]["content"]
    assert parts[0]["type"] == "image_url" and parts[0]["image_url"]["url"].startswith("data:image/png;base64,")
    ds = _load(tmp_path / "cs")
    for row in ds:
        assert g1bench.make_from_state(row["state"]).evaluate_group([1])[0].outcome.success
    sampler = StateSampler(parse_mix("2048"), seed_base=COLDSTART_SEED_BASE)
    expected = sum(sampler.sample(i)[0].evaluate_group([1])[0].outcome.success for i in range(8))
    assert 0 < expected < 8
    assert report.kept == {"2048": expected} and len(ds) == expected
    assert all("Right merges." in r["messages"][1]["content"][0]["text"] for r in ds)


def test_answer_helpers():
    assert teacher_think("<perception>p</perception><think> a <think>b</think>") == "b"  # the last block
    assert teacher_think("no tags, just words <answer>1</answer>") == "no tags, just words"
    assert compose_answer("P", "T", "<answer>1</answer>") == "<perception>\nP\n</perception>\n<think>\nT\n</think>\n<answer>1</answer>"
    env = g1bench.make("2048")
    env.reset(seed=3)
    think = templated_think(env, 0)
    assert "Up (0)" in think and "Left (3)" in think
    env = g1bench.make("shisensho")
    env.reset(seed=3)
    a = env.legal_actions()[0]
    cells = env.game.structured_state()["cells"]
    assert f"both {cells[a[0]][a[1]]}" in templated_think(env, a)

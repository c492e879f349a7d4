"""Multi-turn play: the history knob, the frozen feedback line, the context each answer is given (runner,
resume, verify), the multiturn suite and its results groups. No model needed (see test_multiturn_models.py)."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

import g1bench
from g1bench.core.config import ConfigError
from g1bench.core.feedback import FEEDBACK_HASH, FEEDBACK_TEMPLATES, FEEDBACK_VERSION, feedback_line, longest_line
from g1bench.core.env import G1Env
from g1bench.eval.history import History, context_hash, group_key, split_group
from g1bench.eval.policies import Answer, OraclePolicy, Policy, RandomLegalPolicy, RandomPolicy, _EnvCache
from g1bench.eval.results import ResultsError, validate
from g1bench.eval.rundir import read_steps_file
from g1bench.eval.runner import Runner, load_episodes
from g1bench.eval.suites import (MULTITURN_HISTORIES, SUITE_VERSIONS, EpisodeSpec, Suite, custom_suite, get_suite)
from g1bench.eval.verify import verify_run
from g1bench.games import GAMES

ENV = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}


# -- the knob ------------------------------------------------------------------------------------------------
def test_history_is_a_protocol_knob_left_out_at_its_default():
    env = G1Env("2048", "paper")
    assert "history" not in env.config.to_dict() and env.config.history == 0
    assert not {"history", "feedback_version", "feedback_hash"} & set(env.versions())  # old suite hashes hold
    deep = G1Env("swap", "paper", history=4)
    assert deep.config.to_dict()["history"] == 4
    v = deep.versions()
    assert (v["history"], v["feedback_version"], v["feedback_hash"]) == (4, FEEDBACK_VERSION, FEEDBACK_HASH)
    field = {f.name: f for f in type(env.config).knobs()}["history"]
    assert field.metadata["axis"] == "protocol" and field.metadata["omit_default"]
    for bad in (-1, 17, True, "2"):
        with pytest.raises(ConfigError, match="history"):
            G1Env("2048", history=bad)
    # no preset sets it: a suite's history lives in its episodes' overrides (and so in their group keys)
    assert all("history" not in p for cls in GAMES.values() for p in cls.Config.presets.values())


# -- the feedback line ---------------------------------------------------------------------------------------
def test_the_feedback_wording_is_frozen():
    """A failure here means the wording changed: keep the old text, add a new FEEDBACK_VERSION, bump the suites
    that use history (multiturn)."""
    assert FEEDBACK_VERSION == "g1bench-feedback-v1"
    assert FEEDBACK_HASH == "c4edbbf37e71056c"
    assert FEEDBACK_TEMPLATES["line"] == "Feedback: reward {reward}. {detail}"


def test_feedback_lines_say_the_reward_and_what_the_answer_did():
    env = g1bench.make("2048", "base")
    env.reset(seed=0)

    def play(board, answer):
        env.game.board = [row[:] for row in board]  # exponents: 1 is a 2-tile, 2 a 4-tile
        return env.step(answer)[4]

    info = play([[1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 2]], "<answer>3</answer>")  # left merges
    assert info["score_delta"] == 4 and feedback_line(info) == "Feedback: reward +1. The move scored 4."
    bottom = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [1, 2, 1, 2]]
    assert feedback_line(play(bottom, "<answer>0</answer>")) == \
        "Feedback: reward -1. The move was played but scored nothing."
    assert feedback_line(play(bottom, "<answer>2</answer>")) == \
        "Feedback: reward -1. Invalid move: moving Down does not change the board."
    assert feedback_line(play(bottom, "left")) == \
        "Feedback: reward -1. Your answer could not be read: no <answer>…</answer> block."
    # the 2048 test-time rule: an unreadable answer plays a random move (a step record names it)
    record = {"reward": 1.0, "parse_error": "no <answer>…</answer> block", "fallback_action": 2, "valid": True,
              "success": True, "score_delta": 4}
    assert feedback_line(record) == ("Feedback: reward +1. Your answer could not be read (no <answer>…</answer> "
                                     "block), so a random move was played instead. The move scored 4.")
    tiles = g1bench.make("shisensho", "base")
    tiles.reset(seed=1)
    info = tiles.step("<answer>(0, 0) (0, 0)</answer>")[4]
    assert feedback_line(info) == "Feedback: reward -1. Invalid move: same cell."
    # a quoted answer is flattened to one line and cut (model text never breaks the chat's layout)
    line = feedback_line({"reward": -1, "parse_error": "got 'a\n\nb'" + "x" * 500, "valid": False})
    assert "\n" not in line and line.startswith("Feedback: reward -1. Your answer could not be read: got 'a b'xx")
    assert line.endswith("....") and len(line) < 260
    assert len(longest_line()) > len(line)


def test_a_history_keeps_the_last_k_turns_of_the_current_game():
    rec = lambda i, **kw: {"state_hash": f"s{i}", "answer": f"a{i}", "reward": -1.0, "parse_error": "x",  # noqa: E731
                           "valid": False, **kw}
    h = History(2)
    assert h.fields() == {"history": 0, "context_hash": context_hash([])}
    for i in range(3):
        h.push(rec(i), frame=np.full((2, 2, 3), i, np.uint8))
    assert [(p.answer, int(p.frame[0, 0, 0])) for p in h.turns()] == [("a1", 1), ("a2", 2)]
    line = "Feedback: reward -1. Your answer could not be read: x."
    assert h.fields() == {"history": 2, "context_hash": context_hash([("s1", "a1", line), ("s2", "a2", line)])}
    h.push(rec(3, terminated=True))  # the game ended: the next one starts with no past
    assert len(h) == 0 and h.turns() == ()
    assert History(0).fields() == {} and History(0).push(rec(0)) is None and len(History(0)) == 0
    h.push({"state_hash": "s", "answer": 2, "reward": 1.0, "valid": True, "success": True, "score_delta": 4})
    assert h.turns()[0].answer == "2"  # a structured action is shown as its JSON


# -- the context of each answer in the runner -----------------------------------------------------------------
class Scripted(Policy):
    """Records every turn it is given; answers a legal move, an invalid one or garbage by (episode, step)."""

    name = "scripted"
    needs_frames = True

    def __init__(self, fail_after=None):
        self.turns, self.calls, self.fail_after = {}, 0, fail_after
        self.cache = _EnvCache()

    def act(self, turns):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("killed")
        out = []
        for t in turns:
            self.turns[(t.episode, t.step)] = t
            env = self.cache.env_at(t.state)
            kind = t.step % 4
            if kind == 1:
                out.append(Answer("no idea"))
            elif kind == 2 and t.game != "2048":
                out.append(Answer("<answer>(0, 0) (0, 0)</answer>"))
            else:
                out.append(Answer(OraclePolicy().best_answer(t.state)))
        return out


def _suite(k, steps=9, games=("2048", "shisensho")):
    eps = [EpisodeSpec(g, "base", seed=i, steps=steps, index=i, overrides={"history": k} if k else {})
           for g in games for i in range(2)]
    return Suite(f"custom-mt{k}", 1, tuple(eps))


def _records(run):
    """Every recorded step (finished episodes or not) by (episode, step)."""
    steps, _ = read_steps_file(run / "steps.jsonl")
    return {(e, s["step"]): s for e, recs in steps.items() for s in recs}


def test_each_answer_is_given_its_last_k_turns_and_the_log_records_them(tmp_path):
    policy = Scripted()
    Runner(_suite(3), policy, tmp_path / "run", progress=False).run()
    records = _records(tmp_path / "run")
    assert len(records) == 36
    for (episode, step), turn in policy.turns.items():
        rec = records[(episode, step)]
        n = min(step, 3)
        assert len(turn.history) == n == rec["history"]
        past = [records[(episode, step - n + j)] for j in range(n)]
        for got, was in zip(turn.history, past):
            assert got.answer == was["answer"] and got.feedback == feedback_line(was)
            assert np.array_equal(got.frame, policy.turns[(episode, was["step"])].frame)  # the model frame it saw
        assert rec["context_hash"] == context_hash([(p["state_hash"], p["answer"], feedback_line(p)) for p in past])
    assert {records[("2048/base@h3/0", s)]["history"] for s in range(9)} == {0, 1, 2, 3}
    feedback = {t.feedback for turn in policy.turns.values() for t in turn.history}
    assert any("could not be read" in f for f in feedback) and any("Invalid move" in f for f in feedback)
    assert any("scored" in f for f in feedback)
    assert verify_run(tmp_path / "run").ok


def test_history_0_is_g1s_single_step_and_its_log_is_unchanged(tmp_path):
    policy = Scripted()
    Runner(_suite(0), policy, tmp_path / "run", progress=False).run()
    assert all(t.history == () for t in policy.turns.values())
    for rec in _records(tmp_path / "run").values():
        assert "history" not in rec and "context_hash" not in rec


class Oracle(Scripted):
    def act(self, turns):
        for t in turns:
            self.turns[(t.episode, t.step)] = t
        return [Answer(OraclePolicy().best_answer(t.state)) for t in turns]


def test_a_game_that_ends_starts_the_next_with_an_empty_history(tmp_path):
    eps = (EpisodeSpec("shisensho", "base", seed=0, steps=30, overrides={"history": 2, "rows": 4, "cols": 4, "n_kinds": 4}),)
    policy = Oracle()
    Runner(Suite("custom-end", 1, eps), policy, tmp_path / "run", progress=False).run()
    steps = load_episodes(tmp_path / "run")[0]["steps"]
    ends = [s["step"] for s in steps if s["terminated"]]
    assert ends and ends[0] + 2 < 30
    first = ends[0] + 1
    assert steps[first]["game_index"] == steps[first - 1]["game_index"] + 1
    assert steps[first - 1]["history"] == 2  # the ending step itself was given its context
    assert steps[first]["history"] == 0 and policy.turns[(eps[0].episode_id, first)].history == ()
    assert steps[first + 1]["history"] == 1
    assert verify_run(tmp_path / "run").ok


def test_resume_rebuilds_the_history_of_an_unfinished_episode(tmp_path):
    whole = Scripted()
    Runner(_suite(2), whole, tmp_path / "whole", progress=False).run()
    with pytest.raises(RuntimeError, match="killed"):
        Runner(_suite(2), Scripted(fail_after=4), tmp_path / "cut", progress=False, concurrency=1).run()
    done = _records(tmp_path / "cut")
    assert 0 < len(done) < 36
    again = Scripted()
    Runner(_suite(2), again, tmp_path / "cut", resume=True, progress=False).run()
    assert set(again.turns).isdisjoint(done)  # no recorded answer is asked for again
    resumed_mid = [key for key in again.turns if key[1] > 0]
    assert resumed_mid
    for key in again.turns:  # the context after the resume is the uninterrupted run's, frames included
        a, b = again.turns[key].history, whole.turns[key].history
        assert [(p.answer, p.feedback) for p in a] == [(p.answer, p.feedback) for p in b]
        assert all(np.array_equal(p.frame, q.frame) for p, q in zip(a, b))
    assert _records(tmp_path / "cut") == _records(tmp_path / "whole")
    assert verify_run(tmp_path / "cut").ok


def _edit(run, episode, step, change):
    path = run / "steps.jsonl"
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    for rec in lines:
        if rec["episode_id"] == episode and rec["step"] == step:
            change(rec)
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))


def test_verify_recomputes_the_context_of_every_answer(tmp_path):
    run = tmp_path / "run"
    Runner(_suite(2), Scripted(), run, progress=False).run()
    assert verify_run(run, check_frames=False).ok
    _edit(run, "2048/base@h2/0", 3, lambda r: r.update(context_hash="0" * 16))
    v = verify_run(run, check_frames=False)
    assert not v.ok and "2048/base@h2/0 step 3: context_hash is '0000000000000000' in the log" in v.problems[0]
    _edit(run, "2048/base@h2/0", 3, lambda r: r.update(context_hash=None) or r.pop("context_hash"))
    v = verify_run(run, check_frames=False)
    assert not v.ok and "context_hash is None in the log" in v.problems[0]
    _edit(run, "2048/base@h2/0", 3, lambda r: r.update(history="2"))
    v = verify_run(run, check_frames=False)
    assert not v.ok and "step 3: history is '2' in the log, 2 on replay" in v.problems[0]


# -- results groups ----------------------------------------------------------------------------------------
def test_group_keys_name_the_history(tmp_path):
    assert group_key("2048", "paper") == "2048/paper" and group_key("2048", "paper", 4) == "2048/paper@h4"
    assert split_group("swap/paper@h1") == ("swap/paper", 1) and split_group("swap/paper") == ("swap/paper", 0)
    res = Runner(custom_suite(["swap"], episodes=2, steps=3, history=1), RandomPolicy(), tmp_path / "r",
                 progress=False).run()
    g = res["results"]["swap/paper@h1"]
    assert g["history"] == 1 and g["difficulty"] == "paper"
    validate(res)
    bad = json.loads(json.dumps(res))
    bad["results"]["swap/paper"] = bad["results"].pop("swap/paper@h1")
    with pytest.raises(ResultsError, match=r"group key must be .* = 'swap/paper@h1'"):
        validate(bad)
    bad["results"]["swap/paper"]["history"] = 17
    with pytest.raises(ResultsError, match="history"):
        validate(bad)
    with pytest.raises(ValueError, match="history must be an integer between 0 and 16"):
        custom_suite(["swap"], history=17)


# -- the multiturn suite ---------------------------------------------------------------------------------------
def test_the_multiturn_suite_is_the_paper_suite_at_three_histories():
    suite, paper = get_suite("multiturn"), get_suite("paper")
    assert suite.suite_id == "multiturn-v1" and 1 in SUITE_VERSIONS["multiturn"]
    assert MULTITURN_HISTORIES == (0, 1, 4) and len(suite.episodes) == 3 * len(paper.episodes) == 120
    by_k = {k: [e for e in suite.episodes if e.history == k] for k in MULTITURN_HISTORIES}
    # history 0 is the paper suite itself: same episodes, same ids, same cells
    assert [e.to_dict() for e in by_k[0]] == [e.to_dict() for e in paper.episodes]
    assert [e.episode_id for e in by_k[0]] == [e.episode_id for e in paper.episodes]
    for k in (1, 4):  # the same seeds, budgets and warm-ups with k past turns
        assert [dataclasses.replace(e, overrides={}).to_dict() for e in by_k[k]] == [e.to_dict() for e in paper.episodes]
        assert all(e.overrides == {"history": k} and e.episode_id.startswith(f"{e.game}/paper@h{k}/") for e in by_k[k])
    assert suite.groups() == [group_key(g, "paper", k) for g in GAMES for k in MULTITURN_HISTORIES]
    assert suite.invalid_answer == paper.invalid_answer
    envs = suite.env_versions()
    assert envs["swap/paper@h4|{\"history\": 4}"]["feedback_hash"] == FEEDBACK_HASH
    assert {k: v for k, v in envs.items() if "@h" not in k} == paper.env_versions()


def test_baselines_have_no_memory_so_every_history_scores_alike(tmp_path):
    """Random, random-legal and oracle answer from the state alone: at history 0, 1 and 4 they play the same
    moves, so the leaderboard's anchors are the same in every history cell."""
    suite = get_suite("multiturn")
    eps = tuple(dataclasses.replace(e, steps=6) for e in suite.episodes if e.index == 0)
    short = Suite("custom-multiturn-short", 1, eps, invalid_answer=suite.invalid_answer)
    for policy in (RandomPolicy(), RandomLegalPolicy(), OraclePolicy()):
        out = tmp_path / policy.name
        res = Runner(short, policy, out, progress=False, save_frames=False).run()
        for game in GAMES:
            means = {k: res["results"][group_key(game, "paper", k)]["mean"] for k in MULTITURN_HISTORIES}
            assert len(set(means.values())) == 1, (policy.name, game, means)
        answers = {}
        for e in load_episodes(out):
            answers.setdefault(e["game"], set()).add(tuple(s["answer"] for s in e["steps"]))
        assert all(len(a) == 1 for a in answers.values())
        assert verify_run(out).ok


def test_eval_runs_the_multiturn_suite_from_the_cli(tmp_path):
    out = tmp_path / "run"
    res = subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--model", "random", "--suite", "multiturn",
                          "--shard", "10/40", "--no-frames", "-o", str(out), "--quiet"], env=ENV, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "multiturn-v1" in res.stdout and "2048/paper@h1" in res.stdout
    results = json.loads((out / "results.json").read_text())
    assert set(results["results"]) == {"2048/paper@h1", "shisensho/paper@h4", "swap/paper"}
    steps = {e["episode_id"]: e["steps"] for e in load_episodes(out)}
    assert [s["history"] for s in steps["shisensho/paper@h4/0"][:6]] == [0, 1, 2, 3, 4, 4]
    h1 = steps["2048/paper@h1/0"]
    assert [s["history"] for s in h1] == [0] + [0 if before["terminated"] else 1 for before in h1[:-1]]
    assert not any("history" in s for s in steps["swap/paper/0"])
    check = subprocess.run([sys.executable, "-m", "g1bench.cli", "verify", str(out)], env=ENV, capture_output=True,
                           text=True, timeout=300)
    assert check.returncode == 0 and "verified: multiturn-v1" in check.stdout


def test_verifying_a_paper_v2_run_first_does_not_change_how_history_0_episodes_replay(tmp_path):
    """paper-v2 pins model_frame 'native' on the same (game, preset, overrides) as the multiturn suite's history-0
    episodes: the verifier's cache of replay envs must not hand one's env to the other."""
    runs = {}
    for name, args in (("v2", ["--suite", "paper-v2"]), ("mt", ["--suite", "multiturn", "--shard", "0/40"])):
        runs[name] = tmp_path / name
        res = subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--model", "random", *args, "--no-frames",
                              "-o", str(runs[name]), "--quiet"], env=ENV, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
    first = verify_run(runs["v2"], check_frames=False)
    second = verify_run(runs["mt"], check_frames=False)  # same process, after paper-v2's envs were cached
    assert first.ok and second.ok, (first.problems, second.problems)

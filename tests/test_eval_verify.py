"""`g1bench verify`: results are checked for meaning, against their suite, and recomputed from the step log;
every doctored figure or step is refused naming the field and both values."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from g1bench.eval.policies import OraclePolicy, RandomPolicy
from g1bench.eval.results import ResultsError, json_schema, load
from g1bench.eval.runner import Runner
from g1bench.eval.suites import custom_suite, get_suite
from g1bench.eval.verify import verify_run

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("verify") / "good"
    suite = custom_suite(["2048", "swap", "shisensho"], episodes=2, steps=8)
    Runner(suite, OraclePolicy(), out, progress=False).run()
    return out


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit_json(path: Path, fn) -> None:
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def edit_step(path: Path, index: int, fn) -> None:
    lines = path.read_text().splitlines()
    rec = json.loads(lines[index])
    fn(rec)
    lines[index] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")


def test_an_untouched_run_verifies(good_run):
    v = verify_run(good_run)
    assert v.ok and v.complete and v.problems == [] and v.suite_kind == "custom"
    assert v.steps_replayed == 6 * 8
    assert v.summary().startswith("verified: custom-2048+swap+shisensho")


def _g(key):
    return lambda d: d["results"][key]


RESULT_EDITS = [
    # (what the issue lists, edit, the field the refusal must name)
    ("a mean outside its CI", lambda d: d["results"]["swap/paper"].update(mean=d["results"]["swap/paper"]["ci95"][1] + 1),
     "results['swap/paper'].mean"),
    ("a negative std", lambda d: d["results"]["swap/paper"].update(std=-0.5), "results['swap/paper'].std"),
    ("a rate above 1", lambda d: d["results"]["2048/paper"].update(parse_failure_rate=1.2),
     "results['2048/paper'].parse_failure_rate"),
    ("negative steps", lambda d: d["results"]["2048/paper"].update(steps=-1), "results['2048/paper'].steps"),
    ("negative latency", lambda d: d["results"]["2048/paper"].update(mean_latency_s=-3.0),
     "results['2048/paper'].mean_latency_s"),
    ("games_played < n", lambda d: d["results"]["2048/paper"].update(games_played=1), "games_played"),
    ("a group whose game differs from its key", lambda d: d["results"]["swap/paper"].update(game="shisensho"),
     "the group key must be 'game/difficulty'"),
    ("an unknown game", lambda d: d["results"].update({"chess/paper": {**d["results"].pop("swap/paper"), "game": "chess"}}),
     "unknown game 'chess'"),
    ("a 2048 mean of 1e12", lambda d: d["results"]["2048/paper"].update(mean=1e12, ci95=[0, 2e12], std=1.0),
     "more than an episode of this group can score"),
    ("an edited figure", lambda d: d["results"]["shisensho/paper"].update(
        success_rate=round(d["results"]["shisensho/paper"]["success_rate"] / 2, 6)),
     "results['shisensho/paper'].success_rate: recorded"),
    ("an edited count", lambda d: d["results"]["swap/paper"].update(games_played=d["results"]["swap/paper"]["n"] + 1),
     "results['swap/paper'].games_played: recorded"),
    ("a perception count without accuracy", lambda d: d["results"]["swap/paper"].update(perception_answered=1),
     "perception_accuracy: must be null exactly when"),
    ("a 400-digit mean", lambda d: d["results"]["2048/paper"].update(mean=10 ** 400, ci95=[0, 10 ** 401]),
     "results['2048/paper'].mean: input should be less than or equal to 9223372036854775807"),
    ("a 400-digit count", lambda d: d["results"]["swap/paper"].update(steps=10 ** 400),
     "results['swap/paper'].steps: input should be less than or equal to 9223372036854775807"),
    ("a tampered suite hash", lambda d: d["provenance"]["suite"].update(hash="0" * 16), "provenance.suite"),
    ("a policy that is not the run's", lambda d: d["provenance"]["policy"].update(policy="gpt-9"), "provenance.policy"),
]


@pytest.mark.parametrize("what,edit,field", RESULT_EDITS, ids=[c[0] for c in RESULT_EDITS])
def test_doctored_results_are_refused_naming_the_field(good_run, tmp_path, what, edit, field):
    run = copy_run(good_run, tmp_path / "run")
    edit_json(run / "results.json", edit)
    v = verify_run(run)
    assert not v.ok, what
    assert field in v.problems[0], (what, v.problems)


STEP_EDITS = [
    ("an edited answer", 3, lambda r: r.update(answer="<answer>(0, 0) (0, 1)</answer>"), "action is"),
    ("an edited reward", 10, lambda r: r.update(reward=-r["reward"]), "reward is"),
    ("an edited state hash", 9, lambda r: r.update(state_hash="feedfacefeedface"), "state_hash is 'feedfacefeedface' in the log"),
    ("an edited frame id", 2, lambda r: r.update(frame="0" * 20), "frame is"),
    ("negative tokens", 5, lambda r: r.update(output_tokens=-5), "output_tokens must be a non-negative integer"),
]


@pytest.mark.parametrize("what,index,edit,field", STEP_EDITS, ids=[c[0] for c in STEP_EDITS])
def test_a_doctored_step_log_is_refused(good_run, tmp_path, what, index, edit, field):
    run = copy_run(good_run, tmp_path / "run")
    edit_step(run / "steps.jsonl", index, edit)
    v = verify_run(run)
    assert not v.ok and field in v.problems[0], (what, v.problems)


def test_steps_added_beyond_the_suite_are_refused(good_run, tmp_path):
    run = copy_run(good_run, tmp_path / "run")
    lines = (run / "steps.jsonl").read_text().splitlines()
    last = json.loads(lines[-1])
    extra = [json.dumps({**last, "step": last["step"] + k}) for k in (1, 2)]
    (run / "steps.jsonl").write_text("\n".join(lines + extra) + "\n")
    v = verify_run(run)  # the reader stops at the first step past the suite's budget: no further line is read
    assert not v.ok and v.problems == [f"{run / 'steps.jsonl'}:{len(lines) + 1}: {last['episode_id']} step 8: beyond "
                                       "the 8 steps its suite gives this episode"]


TYPE_EDITS = [
    ("game_index", "x", "game_index must be an integer >= 0, got 'x'"),
    ("score_delta", None, "score_delta must be a number, got None"),
    ("latency_s", 10 ** 400, "latency_s must be a non-negative number or null (at most 86,400 seconds per step), got "
                              f"{str(10 ** 400)[:57]}..."),
    ("valid", 1, "valid must be true or false, got 1"),
    ("extra", {"cost_usd": "free"}, "extra must be an object (with a non-negative cost_usd or none; at most 65,536 bytes "
                                    "of JSON and $1,000 per step), got {'cost_usd': 'free'}"),
    ("input_tokens", 10 ** 400, "input_tokens must be a non-negative integer or null (at most 10,000,000 per step), got "
                                f"{str(10 ** 400)[:57]}..."),
    ("output_tokens", 10 ** 30, "output_tokens must be a non-negative integer or null (at most 10,000,000 per step), "
                                f"got {10 ** 30}"),
    ("answer", {"move": 1}, "answer must be text of at most 262,144 bytes of JSON (longer answers are stored cut), an "
                            "integer, a list of at most 64 integers, or null, got {'move': 1}"),
]


@pytest.mark.parametrize("key,value,msg", TYPE_EDITS, ids=[c[0] for c in TYPE_EDITS])
def test_a_step_field_of_the_wrong_type_gets_one_error_line_everywhere(good_run, tmp_path, key, value, msg):
    """A hand-edited type in a finished episode's step: every reader refuses it naming the line, none crashes."""
    run = copy_run(good_run, tmp_path / "run")
    edit_step(run / "steps.jsonl", 0, lambda r: r.update({key: value}))
    where = f"{run / 'steps.jsonl'}:1: 2048/paper/0 step 0: {msg}"
    assert verify_run(run).problems == [where]
    again = ["--model", "oracle", "--games", "2048,swap,shisensho", "--episodes", "2", "--steps", "8", "--quiet"]
    for cmd in (["eval", "--resume", "-o", str(run), *again], ["data", "from-run", str(run), str(tmp_path / "ds")]):
        out = subprocess.run([sys.executable, "-m", "g1bench.cli", *cmd], env=ENV, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 2 and out.stderr.splitlines() == [f"error: {where}"], (cmd, out.stderr)


RUN_EDITS = [
    ("options is a list", lambda d: d.update(options=[]), "run.json: 'options' must be an object, got list"),
    ("command is text", lambda d: d.update(command="x"), "run.json: 'command' must be an object, got str"),
    ("episodes is text", lambda d: d["suite"].update(episodes="x"), "'episodes' must be a list of episode objects"),
    ("an episode is a number", lambda d: d["suite"]["episodes"].__setitem__(0, 5), "episodes[0] must be an object, got int"),
    ("steps is text", lambda d: d["suite"]["episodes"][0].update(steps="8"), "episodes[0].steps must be an integer >= 1"),
    ("a shard past its count", lambda d: d.update(shard={"index": 5, "count": 2}), "'shard' must be null or"),
]


@pytest.mark.parametrize("what,edit,msg", RUN_EDITS, ids=[c[0] for c in RUN_EDITS])
def test_a_malformed_run_json_gets_one_error_line(good_run, tmp_path, what, edit, msg):
    run = copy_run(good_run, tmp_path / "run")
    edit_json(run / "run.json", edit)
    steps = (run / "steps.jsonl").read_bytes()
    v = verify_run(run)
    assert not v.ok and msg in v.problems[0], (what, v.problems)
    again = ["--model", "oracle", "--games", "2048,swap,shisensho", "--episodes", "2", "--steps", "8", "--quiet"]
    for cmd in (["verify", str(run)], ["report", str(run), "--no-plots"], ["eval", "--resume", "-o", str(run), *again]):
        out = subprocess.run([sys.executable, "-m", "g1bench.cli", *cmd], env=ENV, capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == {"verify": 1, "report": 0, "eval": 2}[cmd[0]], (what, cmd, out.stderr)
        assert "Traceback" not in out.stderr and msg in out.stdout + out.stderr, (what, cmd, out.stdout, out.stderr)
    assert (run / "steps.jsonl").read_bytes() == steps


def test_a_player_posing_as_a_baseline_is_refused(tmp_path):
    """The leaderboard normalises between the random and oracle baselines: a consistent run whose record names
    a baseline must hold that baseline's answers."""

    class Impostor(RandomPolicy):  # plays random with seed 1, claims seed 0
        def describe(self):
            return {"policy": "random", "backend": "builtin", "seed": 0}

    class Tuned(OraclePolicy):  # an oracle with settings the built-in one does not have
        def describe(self):
            return {**super().describe(), "tuned": True}

    suite = custom_suite(["2048", "swap"], episodes=2, steps=6)
    Runner(suite, Impostor(seed=1), tmp_path / "fake", progress=False).run()
    v = verify_run(tmp_path / "fake")
    assert not v.ok and len(v.problems) == 4  # one per episode
    assert v.problems[0].startswith("steps.jsonl: 2048/paper/0 step ") and \
        "in the log, but the built-in baseline 'random' answers '<answer> " in v.problems[0]
    Runner(suite, Tuned(), tmp_path / "tuned", progress=False).run()
    v = verify_run(tmp_path / "tuned")
    assert not v.ok and v.problems == ["run.json policy: names the built-in baseline 'oracle' with settings it does not "
                                       "have: {'policy': 'oracle', 'backend': 'builtin', 'depth': 2, 'tuned': True}"]
    for policy in (RandomPolicy(seed=1), OraclePolicy(depth=1)):  # the real ones, whatever their settings
        Runner(suite, policy, tmp_path / policy.name, progress=False).run()
        assert verify_run(tmp_path / policy.name).ok


def test_an_edited_answer_with_matching_results_is_still_caught(good_run, tmp_path):
    """Edit a step's answer *and* every figure it moves: the replay still disagrees with the log."""
    run = copy_run(good_run, tmp_path / "run")
    lines = (run / "steps.jsonl").read_text().splitlines()
    i = next(k for k, ln in enumerate(lines) if json.loads(ln)["episode_id"].startswith("swap") and json.loads(ln)["success"])
    edit_step(run / "steps.jsonl", i, lambda r: r.update(answer="<answer>(0, 0) (7, 7)</answer>"))
    v = verify_run(run)
    assert not v.ok and ("parse_error is None in the log" in v.problems[0] or "action is" in v.problems[0])


def test_a_paper_run_with_seven_episodes_and_unknown_suites_are_refused(tmp_path):
    paper = get_suite("paper")
    seven = type(paper)(paper.name, paper.version, paper.episodes[:7], paper.description, paper.invalid_answer)
    Runner(seven, RandomPolicy(), tmp_path / "seven", progress=False, save_frames=False).run()
    v = verify_run(tmp_path / "seven")
    assert not v.ok and f"is not the built-in {paper.suite_id}" in v.problems[0]
    # the same seven episodes relabelled as a full run of the real suite: the counts give it away
    edit_json(tmp_path / "seven" / "run.json", lambda d: d["suite"].update(hash=paper.hash(), episodes=paper.to_dict()["episodes"]))
    edit_json(tmp_path / "seven" / "results.json", lambda d: d["provenance"]["suite"].update(hash=paper.hash()))
    v = verify_run(tmp_path / "seven")
    assert not v.ok and "episodes_total: 7, but paper" in v.problems[0] and "has 40 episodes" in v.problems[0]

    suite = custom_suite(["swap"], episodes=1, steps=2)
    mine = type(suite)("my-benchmark", 1, suite.episodes)
    Runner(mine, RandomPolicy(), tmp_path / "mine", progress=False).run()
    v = verify_run(tmp_path / "mine")
    assert not v.ok and "unknown suite 'my-benchmark-v1'" in v.problems[0]


def test_an_incomplete_run_verifies_as_incomplete(good_run, tmp_path):
    run = copy_run(good_run, tmp_path / "run")
    lines = (run / "steps.jsonl").read_text().splitlines()
    (run / "steps.jsonl").write_text("\n".join(lines[:-3]) + "\n")
    v = verify_run(run)
    assert not v.ok and "results.json complete: recorded True, the step log gives False" in v.problems
    suite = custom_suite(["2048", "swap", "shisensho"], episodes=2, steps=8)
    Runner(suite, OraclePolicy(), run, resume=True, progress=False).run()  # finish it
    assert verify_run(run).ok


HOSTILE = [
    ("deeply nested JSON", lambda p: p.write_text("[" * 100_000 + "]" * 100_000), "nested deeper than"),
    ("a FIFO", lambda p: os.mkfifo(p), "not a regular file"),
    ("a link to /dev/zero", lambda p: p.symlink_to("/dev/zero"), "not a regular file"),
    ("a folder", lambda p: p.mkdir(), "is a folder"),
    ("NaN", lambda p: p.write_text('{"schema": "g1bench-results/2", "x": NaN}'), "not valid JSON"),
    ("an array", lambda p: p.write_text("[]"), "expected a JSON object"),
]


@pytest.mark.parametrize("what,make,msg", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_results_files_get_one_error_line(good_run, tmp_path, what, make, msg):
    run = copy_run(good_run, tmp_path / "run")
    (run / "results.json").unlink()
    make(run / "results.json")
    with pytest.raises(ResultsError, match=msg):
        load(run)
    for cmd in (["verify", str(run)], ["report", str(run), "--no-plots"]):
        out = subprocess.run([sys.executable, "-m", "g1bench.cli", *cmd], env=ENV, capture_output=True, text=True,
                             timeout=60)
        assert out.returncode in (1, 2) and msg in out.stdout + out.stderr and "Traceback" not in out.stderr, (what, cmd)


def test_verify_cli_and_json(good_run, tmp_path):
    ok = subprocess.run([sys.executable, "-m", "g1bench.cli", "verify", str(good_run), "--json"], env=ENV,
                        capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    run = copy_run(good_run, tmp_path / "run")
    edit_json(run / "results.json", lambda d: d["results"]["swap/paper"].update(format_rate=0.5))
    bad = subprocess.run([sys.executable, "-m", "g1bench.cli", "verify", str(run)], env=ENV, capture_output=True, text=True)
    assert bad.returncode == 1
    assert bad.stdout.startswith("NOT verified: results.json results['swap/paper'].format_rate: recorded 0.5, recomputed 0.0")
    none = subprocess.run([sys.executable, "-m", "g1bench.cli", "verify", str(tmp_path / "nothing")], env=ENV,
                          capture_output=True, text=True)
    assert none.returncode == 1 and "is not a run directory" in none.stdout


def test_the_published_json_schema_is_current():
    published = Path(__file__).parent.parent / "g1bench" / "eval" / "results.schema.json"
    assert json.loads(published.read_text()) == json_schema(), "regenerate: python -m g1bench.eval.results"


def test_the_json_schema_accepts_a_real_results_file(good_run):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads((good_run / "results.json").read_text()), json_schema())


# -- bounded step records: the writer and the reader agree --------------------------------------------------
def test_a_huge_answer_is_stored_cut_judged_a_parse_error_and_the_run_verifies_and_resumes(tmp_path):
    """A model that answers a few MB of NULs or newlines (6x and 2x their size as JSON): the record holds the
    answer cut to MAX_ANSWER_BYTES of JSON with its real length, the step is a parse error saying so, and the
    run finishes, verifies and resumes (before, the line was longer than the reader accepts: a wedged run)."""
    from g1bench.eval.policies import Answer, Policy
    from g1bench.eval.rundir import MAX_LINE_BYTES, read_steps_file
    from g1bench.eval.steps import MAX_ANSWER_BYTES, too_long

    class Flood(Policy):
        name, needs_frames = "flood", False

        def act(self, turns):
            return [Answer("\x00" * 3_000_000 if t.step % 2 == 0 else "\n" * 9_000_000, latency_s=0.1) for t in turns]

    suite = custom_suite(["2048", "swap"], episodes=1, steps=3, warmup=0)
    out = tmp_path / "flood"
    Runner(suite, Flood(), out, progress=False, save_frames=False).run()
    lines = (out / "steps.jsonl").read_bytes().splitlines()
    assert len(lines) == 6 and max(len(x) for x in lines) < MAX_ANSWER_BYTES + 8192 < MAX_LINE_BYTES
    recs = [json.loads(x) for x in lines]
    for r in recs:
        n = 3_000_000 if r["step"] % 2 == 0 else 9_000_000
        assert r["answer_chars"] == n and len(json.dumps(r["answer"])) <= MAX_ANSWER_BYTES
        assert r["parse_error"] == too_long(n) and list(r)[-1] == "answer_chars"
    assert [r["valid"] for r in recs if r["episode_id"].startswith("swap")] == [False] * 3
    assert verify_run(out).ok
    (out / "steps.jsonl").write_bytes(b"\n".join(lines[:4]) + b"\n")  # as after a kill: resume finishes it
    Runner(suite, Flood(), out, resume=True, progress=False, save_frames=False).run()
    assert sum(len(v) for v in read_steps_file(out / "steps.jsonl")[0].values()) == 6 and verify_run(out).ok
    # a record whose answer is longer than a record holds (edited by hand) is refused naming the step
    edit_step(out / "steps.jsonl", 0, lambda r: (r.pop("answer_chars"), r.update(answer="x" * (MAX_ANSWER_BYTES + 1))))
    assert "step 0: answer must be text of at most 262,144 bytes of JSON" in verify_run(out).problems[0]


def test_oversized_backend_details_keep_only_the_cost():
    from g1bench.eval.steps import MAX_EXTRA_BYTES, fit_extra

    assert fit_extra({"cost_usd": 0.5, "finish": "stop"}) == {"cost_usd": 0.5, "finish": "stop"}
    big = fit_extra({"cost_usd": 0.5, "log": "y" * (MAX_EXTRA_BYTES + 1)})
    assert big == {"dropped": "backend details larger than 65,536 bytes of JSON", "cost_usd": 0.5}


def test_a_second_record_of_a_step_is_refused_even_when_it_agrees(good_run, tmp_path):
    """One record per answered (episode, step): a conflicting duplicate used to verify (the first won)."""
    run = copy_run(good_run, tmp_path / "run")
    lines = (run / "steps.jsonl").read_text().splitlines()
    for dup in (lines[0], json.dumps({**json.loads(lines[0]), "answer": "<answer> 3 </answer>"})):
        (run / "steps.jsonl").write_text("\n".join([lines[0], dup] + lines[1:]) + "\n")
        assert verify_run(run).problems == [f"{run / 'steps.jsonl'}:2: 2048/paper/0 step 0: a second record of this "
                                            "step (a step log holds one record per answered step)"]


BAD_BASELINES = [
    ({"policy": "oracle", "backend": "builtin", "depth": "2"}, "takes depth as an integer from 1 to 3, got '2'"),
    ({"policy": "oracle", "backend": "builtin", "depth": None}, "takes depth as an integer from 1 to 3, got None"),
    ({"policy": "oracle", "backend": "builtin", "depth": 6}, "takes depth as an integer from 1 to 3, got 6"),
    ({"policy": "random", "backend": "builtin", "seed": "x"}, "takes seed as an integer from 0 to 2**63-1, got 'x'"),
    ({"policy": "random", "backend": "builtin", "seed": -1}, "takes seed as an integer from 0 to 2**63-1, got -1"),
]


@pytest.mark.parametrize("policy,msg", BAD_BASELINES, ids=[f"{p['policy']}-{list(p)[-1]}={p[list(p)[-1]]!r}"
                                                          for p, _ in BAD_BASELINES])
def test_bad_baseline_settings_get_one_error_line_before_any_replay(tmp_path, policy, msg):
    """An oracle of depth 6 used to hang verify (and the leaderboard); depth "2" or seed "x" ended in a traceback."""
    suite = custom_suite(["2048"], episodes=1, steps=2)
    run = tmp_path / "run"
    Runner(suite, RandomPolicy(), run, progress=False, save_frames=False).run()
    for name in ("run.json", "results.json"):
        edit_json(run / name, lambda d: (d if name == "run.json" else d["provenance"]).update(policy=policy))
    assert verify_run(run).problems == [f"run.json policy: the built-in baseline {policy['policy']!r} {msg}"]
    out = subprocess.run([sys.executable, "-m", "g1bench.cli", "verify", str(run)], env=ENV, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr and msg in out.stdout, out.stderr
    settings = {k: v for k, v in policy.items() if k not in ("policy", "backend")}
    with pytest.raises(ValueError) as e:  # the classes refuse the same settings
        (OraclePolicy if policy["policy"] == "oracle" else RandomPolicy)(**settings)
    assert str(e.value) == f"the built-in baseline {policy['policy']!r} {msg}"


def test_a_suite_declaring_more_work_than_any_budget_is_refused_by_arithmetic(good_run, tmp_path):
    """A custom suite whose record declares a billion warm-up moves or steps used to hang verify; now it is
    refused from the record's numbers, before an env is built or a step replayed."""
    import time

    for field, value in (("warmup", 10 ** 9), ("steps", 10 ** 9)):
        run = copy_run(good_run, tmp_path / field)
        edit_json(run / "run.json", lambda d: d["suite"]["episodes"][0].update({field: value}))
        t = time.perf_counter()
        v = verify_run(run)
        assert time.perf_counter() - t < 5
        assert len(v.problems) == 1 and v.problems[0].startswith("run.json: suite custom-2048+swap+shisensho-paper-e2-s8-seed0-v1 "
                                                                  "declares "), v.problems
        assert "more than the largest (3,600 s, 4,096 MB); refused without replaying it" in v.problems[0]


def test_a_step_log_larger_than_its_suite_can_write_is_refused_without_reading_it(good_run, tmp_path):
    from g1bench.eval.budget import max_log_bytes, suite_work

    run = copy_run(good_run, tmp_path / "run")
    limit = max_log_bytes(suite_work(json.loads((run / "run.json").read_text())["suite"]))
    with open(run / "steps.jsonl", "ab") as f:
        f.truncate(limit + 1)  # sparse: a huge file that costs no disk
    v = verify_run(run)
    assert v.problems[0].startswith(f"steps.jsonl is {(limit + 1) / 2 ** 20:,.1f} MB: more than the ")
    assert v.problems[0].endswith("(128 KiB per step on average); refused without reading it")

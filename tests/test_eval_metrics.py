"""Every reported metric on hand-made step logs with known answers, and the results schema."""

import copy

import pytest

from g1bench.eval.metrics import bootstrap_ci, episode_score, paired_difference, summarize, summarize_group
from g1bench.eval.results import SCHEMA, ResultsError, load, validate, write_atomic


def step(success=False, valid=None, parse_error=None, score_delta=0, perception_ok=False, has_perception=False,
         format_ok=False, output_tokens=None, latency_s=None, game_index=0):
    return {"success": success, "valid": success if valid is None else valid, "parse_error": parse_error,
            "score_delta": score_delta, "perception_ok": perception_ok, "has_perception": has_perception,
            "format_ok": format_ok, "output_tokens": output_tokens, "latency_s": latency_s, "game_index": game_index}


def episode(game, idx, steps):
    return {"episode_id": f"{game}/paper/{idx}", "game": game, "difficulty": "paper", "index": idx,
            "score": episode_score(game, steps), "steps": steps}


def test_paper_metric_per_game():
    assert episode_score("2048", [step(True, score_delta=4), step(False, valid=True), step(True, score_delta=16)]) == 20
    # tile games count successful moves, whatever the score delta
    assert episode_score("swap", [step(True, score_delta=12), step(False), step(True, score_delta=6)]) == 2
    assert episode_score("shisensho", [step(True, score_delta=1)] * 3) == 3


def test_rates_on_a_known_log():
    steps = [
        step(parse_error="no <answer> block"),                                       # parse failure
        step(valid=False),                                                           # parsed but invalid
        step(valid=False, has_perception=True, perception_ok=False, format_ok=True),
        step(True, has_perception=True, perception_ok=True, format_ok=True, output_tokens=10, latency_s=0.5),
        step(False, valid=True, has_perception=True, perception_ok=True, output_tokens=30, latency_s=1.5),
    ]
    g = summarize_group([episode("swap", 0, steps)])
    assert g["steps"] == 5 and g["n"] == 1 and g["mean"] == 1.0
    assert g["parse_failure_rate"] == pytest.approx(1 / 5)
    assert g["invalid_action_rate"] == pytest.approx(2 / 4)  # among parsed answers
    assert g["success_rate"] == pytest.approx(1 / 5)
    assert g["format_rate"] == pytest.approx(2 / 5)
    assert g["perception_answered"] == 3
    assert g["perception_accuracy"] == pytest.approx(2 / 3)  # among answers with a <perception> block
    assert g["reasoning_accuracy"] == pytest.approx(1 / 2)   # success given correct perception
    assert g["mean_output_tokens"] == 20 and g["mean_latency_s"] == 1.0


def test_a_random_fallback_move_is_not_reasoning_success():
    s = step(True, score_delta=4, has_perception=True, perception_ok=True, parse_error="no <answer> block")
    s["fallback_action"] = 2
    g = summarize_group([episode("2048", 0, [s])])
    assert g["mean"] == 4 and g["success_rate"] == 1.0  # the paper metric counts the fallback move
    assert g["reasoning_accuracy"] == 0.0


def test_mean_std_and_ci_over_episodes():
    eps = [episode("shisensho", i, [step(True)] * k) for i, k in enumerate([1, 2, 3, 4])]
    g = summarize_group(eps)
    assert g["mean"] == 2.5 and g["std"] == pytest.approx(1.2909944, rel=1e-6) and g["n"] == 4
    lo, hi = g["ci95"]
    assert 1.0 <= lo <= 2.5 <= hi <= 4.0
    assert bootstrap_ci([1, 2, 3, 4]) == bootstrap_ci([1, 2, 3, 4])  # seeded
    assert bootstrap_ci([5.0]) == (5.0, 5.0)


def test_summaries_are_grouped_and_ordered():
    eps = [episode("swap", 0, [step(True)]), episode("2048", 0, [step(True, score_delta=8)])]
    out = summarize(eps, order=["2048/paper", "swap/paper"])
    assert list(out) == ["2048/paper", "swap/paper"] and out["2048/paper"]["mean"] == 8


def test_paired_difference_uses_shared_ids_only():
    d = paired_difference({"a": 1, "b": 2, "c": 3}, {"a": 2, "b": 4, "x": 100})
    assert d["n"] == 2 and d["mean_diff"] == 1.5 and d["a_mean"] == 1.5 and d["b_mean"] == 3.0
    assert paired_difference({"a": 1}, {"b": 1})["n"] == 0


def valid_results():
    return {
        "schema": SCHEMA, "complete": True, "episodes_done": 1, "episodes_total": 1,
        "provenance": {"g1bench_version": "0.1.0", "suite": {"name": "smoke", "version": 1, "suite_id": "smoke-v1", "hash": "ab"},
                       "policy": {"policy": "random"}, "env_versions": {}, "image_size": {}, "invalid_answer": {},
                       "hardware": {}, "start_time": "t", "end_time": "t"},
        "results": {"swap/paper": summarize_group([episode("swap", 0, [step(True)])])},
    }


def test_results_schema_accepts_valid_and_names_the_bad_field(tmp_path):
    validate(valid_results())
    cases = [
        (lambda d: d.update(schema="other/9"), "results.schema"),
        (lambda d: d.update(schema="g1bench-results/1"), "written by g1bench 0.1"),
        (lambda d: d["provenance"].pop("suite"), "results.provenance: missing field 'suite'"),
        (lambda d: d["results"]["swap/paper"].update(mean="high"), "results.results['swap/paper'].mean: expected a number, got str"),
        (lambda d: d["results"]["swap/paper"].update(ci95=[3, 1]), "ci95: low 3 is above high 1"),
        (lambda d: d["results"]["swap/paper"].update(ci95=[1]), "ci95: list should have at least 2 items"),
        (lambda d: d["results"]["swap/paper"].update(n=True), "n: expected an integer, got a boolean"),
        (lambda d: d.update(complete="yes"), "results.complete: expected true or false, got str"),
        (lambda d: d["results"]["swap/paper"].update(mean=float("inf")), "numbers must be finite"),
        (lambda d: d["results"]["swap/paper"].update(ci95=[float("nan"), 1.0]), "ci95[0]: is nan"),
        (lambda d: d["results"].update(nogroup=d["results"]["swap/paper"]), "the group key must be 'game/difficulty'"),
        (lambda d: d["results"].update({"swap/impossible": {**d["results"].pop("swap/paper"), "difficulty": "impossible"}}),
         "swap has no preset 'impossible'"),
        (lambda d: d["results"]["swap/paper"].update(invented=1), "invented: unknown field"),
        (lambda d: d["results"]["swap/paper"].update(std=-1.0), "std: input should be greater than or equal to 0"),
        (lambda d: d["results"]["swap/paper"].update(success_rate=1.5), "success_rate: input should be less than or equal to 1"),
        (lambda d: d["results"]["swap/paper"].update(mean=0.5), "0.5 lies outside its own 95% CI"),
        (lambda d: d["results"]["swap/paper"].update(mean=3.0, ci95=[3.0, 3.0]), "3.0 successful moves per episode is more than"),
        (lambda d: d["results"]["swap/paper"].update(games_played=0), "games_played: 0 is below the 1 episodes"),
        (lambda d: d["provenance"].update(shard={"index": 2, "count": 2}), "index 2 is not below count 2"),
        (lambda d: d.update(episodes_done=999), "not within 0..episodes_total"),
        (lambda d: d.update(complete=False), "but 1 of 1 episodes are done"),
        (lambda d: d.update(episodes_done=0, complete=False, episodes_total=1), "the groups hold 1 episodes"),
    ]
    for mutate, msg in cases:
        d = copy.deepcopy(valid_results())
        mutate(d)
        with pytest.raises(ResultsError, match=msg.replace("[", r"\[").replace("(", r"\(")):
            validate(d)
    with pytest.raises(ResultsError, match="expected a JSON object"):
        validate([1])
    bad = tmp_path / "results.json"
    bad.write_text("{ not json")
    with pytest.raises(ResultsError, match="not valid JSON"):
        load(tmp_path)
    bad.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ResultsError, match="not UTF-8"):
        load(bad)
    with pytest.raises(ResultsError, match="no such results file"):
        load(tmp_path / "missing.json")
    write_atomic(bad, valid_results())
    assert load(bad)["results"]["swap/paper"]["mean"] == 1.0
    assert not list(tmp_path.glob("*.tmp"))

"""The runner end to end: suites, resume after kill -9, baselines, the CLI on `smoke`."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from g1bench.eval.policies import Answer, OraclePolicy, Policy, RandomPolicy
from g1bench.eval.results import load
from g1bench.eval.runner import RunError, Runner, load_episodes
from g1bench.eval.suites import SUITE_VERSIONS, SUITES, custom_suite, get_suite, stream_seed

MANIFESTS = Path(__file__).parent.parent / "g1bench" / "eval" / "manifests"
ENV = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}


@pytest.mark.parametrize("name", [f"{n}-v{v}" for n, vs in sorted(SUITE_VERSIONS.items()) for v in sorted(vs)])
def test_suite_hash_and_manifest_are_pinned(name):
    """If a rule, preset, renderer or prompt change moves a start state or prompt hash, bump the suite version.
    Older versions (paper-v2) keep their published hash and start states: their runs still verify."""
    suite = get_suite(name)
    pinned = json.loads((MANIFESTS / f"{suite.suite_id}.json").read_text())
    now = suite.manifest()
    used = {r["tile_source"] for r in now} - {None}
    if used != {r.get("tile_source") for r in pinned["episodes"]} - {None}:
        pytest.skip(f"this machine loads other tiles ({used}) than the pinned manifest was made with")
    assert suite.hash() == pinned["hash"], f"{suite.suite_id} changed: bump its version and regenerate its manifest"
    key = lambda rows: {r["episode_id"]: (r["start_state_hash"], r["start_frame_hash"]) for r in rows}  # noqa: E731
    assert key(now) == key(pinned["episodes"])


def test_renderer_changes_move_the_suite_hash(monkeypatch):
    from g1bench.eval import suites
    from g1bench.render import shapes

    before = get_suite("smoke").hash()
    suites._versions.cache_clear()
    monkeypatch.setitem(shapes.COLORS, "Red", (1, 0, 0))
    from g1bench.render import canvas

    canvas._SPRITES.clear()
    try:
        assert get_suite("smoke").hash() != before
    finally:
        suites._versions.cache_clear()
        canvas._SPRITES.clear()


def test_suites_are_well_formed():
    paper = get_suite("paper")
    assert len(paper.episodes) == 40 and {e.steps for e in paper.episodes} == {100}
    assert {e.game: e.warmup for e in paper.episodes} == {"2048": 100, "shisensho": 0, "shisensho-images": 0, "swap": 0}
    assert len({e.episode_id for e in paper.episodes}) == 40
    assert paper.invalid_answer["2048"] == "random-move" and paper.invalid_answer["swap"] == "fail"
    a, b = custom_suite(["2048"], episodes=2, steps=5), custom_suite(["2048"], episodes=2, steps=6)
    assert a.hash() != b.hash() and a.name != b.name
    assert stream_seed(7, 0) == 7 and stream_seed(7, 1) != stream_seed(7, 2)
    with pytest.raises(KeyError, match="unknown suite"):
        get_suite("nope")


def scores(results):
    return {k: (v["mean"], v["n"], v["parse_failure_rate"], v["invalid_action_rate"]) for k, v in results["results"].items()}


def test_a_g1bench_0_1_run_directory_is_read_and_resumed(tmp_path):
    """Runs written before the step log (episodes.jsonl, one line per finished episode) still load and resume."""
    suite = custom_suite(["2048", "swap"], episodes=2, steps=5)
    full = Runner(suite, RandomPolicy(), tmp_path / "full", progress=False).run()
    old = tmp_path / "old"
    old.mkdir()
    run = json.loads((tmp_path / "full" / "run.json").read_text())
    (old / "run.json").write_text(json.dumps(run))
    finished = load_episodes(tmp_path / "full")[:3]  # three episodes finished, one lost in the crash
    (old / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in finished))
    assert [e["episode_id"] for e in load_episodes(old)] == [e["episode_id"] for e in finished]
    resumed = Runner(suite, RandomPolicy(), old, resume=True, progress=False).run()
    assert resumed["complete"] and resumed["results"] == full["results"]


def test_run_dir_guards(tmp_path):
    suite = custom_suite(["2048"], episodes=1, steps=2)
    Runner(suite, RandomPolicy(), tmp_path / "r", progress=False).run()
    with pytest.raises(RunError, match="not empty; pass --resume"):
        Runner(suite, RandomPolicy(), tmp_path / "r", progress=False).run()
    with pytest.raises(RunError, match="resume needs the same suite"):
        Runner(custom_suite(["2048"], episodes=1, steps=3), RandomPolicy(), tmp_path / "r", resume=True, progress=False).run()
    with pytest.raises(RunError, match="resume needs the same policy"):
        Runner(suite, RandomPolicy(seed=5), tmp_path / "r", resume=True, progress=False).run()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("mine")
    with pytest.raises(RunError, match="no run.json"):
        Runner(suite, RandomPolicy(), tmp_path / "other", resume=True, progress=False).run()
    assert (tmp_path / "other" / "x.txt").read_text() == "mine"


class Scripted(Policy):
    """Answers from a fixed script, to test counting."""

    name = "scripted"
    needs_frames = True

    def __init__(self, texts):
        self.texts = texts
        self.seen_frames = []

    def act(self, turns):
        self.seen_frames += [t.frame is not None for t in turns]
        return [Answer(self.texts[t.step % len(self.texts)], output_tokens=3, latency_s=0.25) for t in turns]


def test_parse_failures_invalid_moves_and_the_2048_random_move_rule(tmp_path):
    suite = custom_suite(["2048", "swap"], episodes=1, steps=4, warmup=0)
    policy = Scripted(["garbage", "<answer>(0, 0) (5, 5)</answer>", "<answer>(0, 0) (0, 0)</answer>", "<answer>0</answer>"])
    res = Runner(suite, policy, tmp_path / "r", progress=False).run()
    assert all(policy.seen_frames)
    swap = res["results"]["swap/paper"]
    assert swap["parse_failure_rate"] == 0.5  # "garbage" and "<answer>0</answer>" do not parse for Swap
    assert swap["invalid_action_rate"] == 1.0 and swap["mean"] == 0
    assert swap["mean_output_tokens"] == 3 and swap["mean_latency_s"] == 0.25
    eps = {e["game"]: e for e in load_episodes(tmp_path / "r")}
    s2048 = eps["2048"]["steps"]
    # 2048 takes the first integer of the answer (the paper's regex), so only "garbage" fails to parse,
    # and that step plays a recorded random move (the paper's test-time rule)
    assert [s["parse_error"] is not None for s in s2048] == [True, False, False, False]
    assert s2048[0]["fallback_action"] in range(4) and s2048[0]["action"] == s2048[0]["fallback_action"]
    assert [s["fallback_action"] for s in s2048[1:]] == [None, None, None] and s2048[3]["action"] == 0
    assert res["results"]["2048/paper"]["parse_failure_rate"] == 0.25
    frames = {s["frame"] for e in eps.values() for s in e["steps"]}
    assert all((tmp_path / "r" / "frames" / f"{f}.png").exists() for f in frames)


def test_oracle_beats_random_on_every_game(tmp_path):
    suite = custom_suite(["2048", "shisensho", "shisensho-images", "swap"], episodes=3, steps=15)
    suite = type(suite)(suite.name, suite.version, tuple(
        type(e)(e.game, e.difficulty, e.seed, e.steps, e.warmup,
                {"tile_source": "bundled"} if e.game == "shisensho-images" else {}, e.index) for e in suite.episodes))
    rnd = Runner(suite, RandomPolicy(), tmp_path / "random", progress=False, save_frames=False).run()
    ora = Runner(suite, OraclePolicy(), tmp_path / "oracle", progress=False, save_frames=False).run()
    for group in rnd["results"]:
        assert ora["results"][group]["mean"] > rnd["results"][group]["mean"], group
        assert ora["results"][group]["invalid_action_rate"] == 0.0, group


def test_cli_eval_report_compare_on_smoke(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    out = subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--model", "random", "--suite", "smoke",
                          "-o", str(a), "--save-videos"], env=ENV, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "smoke-v3" in out.stdout and "paper Random" in out.stdout and "2048/paper" in out.stdout
    assert list((a / "videos").glob("*.gif"))
    subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--model", "oracle", "--suite", "smoke", "-o", str(b),
                    "--quiet"], env=ENV, check=True, capture_output=True)
    rep = subprocess.run([sys.executable, "-m", "g1bench.cli", "report", str(a)], env=ENV, capture_output=True, text=True)
    assert rep.returncode == 0 and "smoke-v3" in rep.stdout
    assert sorted(p.name for p in (a / "plots").glob("*.png")) == sorted(
        f"{g}__paper.png" for g in ("2048", "shisensho", "shisensho-images", "swap"))
    assert "701" not in rep.stdout  # the paper's numbers sit beside the paper suite only
    cmp = subprocess.run([sys.executable, "-m", "g1bench.cli", "compare", str(a), str(b), "--json"], env=ENV,
                         capture_output=True, text=True)
    assert cmp.returncode == 0, cmp.stderr
    groups = json.loads(cmp.stdout)["groups"]
    assert all(g["n"] == 2 for g in groups.values())
    (a / "results.json").write_text('{"schema": "g1bench-results/2"}')
    bad = subprocess.run([sys.executable, "-m", "g1bench.cli", "report", str(a)], env=ENV, capture_output=True, text=True)
    assert bad.returncode == 2 and "missing field 'complete'" in bad.stderr
    unknown = subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--model", "random", "--suite", "huge"],
                             env=ENV, capture_output=True, text=True)
    assert unknown.returncode == 2 and "unknown suite 'huge'" in unknown.stderr
    for flags, msg in [(["--concurrency", "0"], "must be >= 1"), (["--games", "2048", "--seed", "-1"], "must be >= 0"),
                       (["--games", "chess"], "unknown game 'chess'")]:
        out = subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--model", "random", *flags, "-o",
                              str(tmp_path / "never")], env=ENV, capture_output=True, text=True)
        assert out.returncode == 2 and msg in out.stderr and "Traceback" not in out.stderr, flags
        assert not (tmp_path / "never").exists()


def test_custom_suites_name_each_game_once():
    a = custom_suite(["2048", "2048", "Swap"], episodes=1, steps=2)
    b = custom_suite(["2048", "swap"], episodes=1, steps=2)
    assert a.hash() == b.hash() and len(a.episodes) == 2


def test_report_plots_one_png_per_group(tmp_path):
    from g1bench.eval.report import plot_curves

    Runner(custom_suite(["2048", "swap"], episodes=2, steps=5), RandomPolicy(), tmp_path / "r", progress=False).run()
    paths = plot_curves(tmp_path / "r")
    assert sorted(p.name for p in paths) == ["2048__paper.png", "swap__paper.png"]
    from PIL import Image

    assert all(Image.open(p).size[0] > 100 for p in paths)


def test_no_episode_starts_on_a_finished_board():
    # 100 random warm-up moves end about 8% of 2048 games; those episodes must move to the next seed
    from g1bench.eval.suites import start_game, warm_up

    suite = custom_suite(["2048"], episodes=40, steps=100)
    moved = 0
    for spec in suite.episodes:
        env = spec.make_env(render_mode=None)
        k = start_game(spec, env, 0)
        assert env.legal_actions(), spec.episode_id
        if k:
            moved += 1
            dead = spec.make_env(render_mode=None)
            dead.reset(seed=spec.seed)
            warm_up(dead, spec.seed, spec.warmup)
            assert dead.game.is_over()  # the first seed's warm-up really did end the game
    assert moved >= 1


def test_set_state_failure_leaves_the_env_unchanged():
    import g1bench
    from g1bench.core.env import StateError

    env = g1bench.make("2048")
    env.reset(seed=0)
    h = env.state_hash()
    bad = env.get_state()
    bad["board"]["board"] = [[1, 1, 1, 1]] * 4
    bad["rng"] = {"bit_generator": "MT19937", "state": {}}
    with pytest.raises(StateError, match="malformed snapshot"):
        env.set_state(bad)
    assert env.state_hash() == h
    bad = env.get_state()
    bad["board"]["board"] = [[1, 1, 1, 1]] * 4
    del bad["board"]["score"]
    with pytest.raises(StateError, match="malformed snapshot"):
        env.set_state(bad)
    assert env.state_hash() == h

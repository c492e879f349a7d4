"""The transformers backend end to end with tiny random-weight Qwen2-VL / Qwen2.5-VL models built offline.

Random weights write random bytes: these tests check plumbing (prompts, images, batching, token counts,
provenance, the step log) and the parsing of garbage, never skill.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("torchvision")
pytest.importorskip("transformers")

from g1bench.core.answer import ParseError  # noqa: E402
from g1bench.eval.policies import Turn  # noqa: E402
from g1bench.eval.runner import Runner, load_episodes  # noqa: E402
from g1bench.eval.suites import custom_suite, get_suite, start_game  # noqa: E402
from g1bench.models import ModelConfig, ModelError, load_policy  # noqa: E402

ENV = {"HF_HUB_OFFLINE": "1", "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "PYTHONUNBUFFERED": "1",
       "TOKENIZERS_PARALLELISM": "false", "HOME": os.environ.get("HOME", "/tmp")}


def start_turn(spec, step=0):
    """The turn a policy sees at the start of an episode of a suite (the model frame, as the runner gives it)."""
    env = spec.make_env()
    start_game(spec, env, 0)
    return Turn(game=spec.game, frame=env.model_observation(), prompt=env.prompt, state={}, episode=spec.episode_id, step=step)


@pytest.fixture(scope="module")
def qwen2(tiny_qwen2_vl):
    policy = load_policy(str(tiny_qwen2_vl), ModelConfig(max_new_tokens=12, batch_size=8))
    yield policy
    policy.close()


def test_smoke_suite_end_to_end_through_the_cli(tiny_qwen2_vl, tmp_path, qwen2):
    out = tmp_path / "run"
    res = subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--model", str(tiny_qwen2_vl), "--suite", "smoke",
                          "-o", str(out), "--max-new-tokens", "12", "--batch-size", "8", "--quiet"],
                         env=ENV, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "smoke-v3" in res.stdout and "2048/paper" in res.stdout
    episodes = load_episodes(out)
    suite = get_suite("smoke")
    assert sorted(e["episode_id"] for e in episodes) == sorted(e.episode_id for e in suite.episodes)
    for ep in episodes:
        assert len(ep["steps"]) == 4
        for s in ep["steps"]:
            assert isinstance(s["answer"], str)  # the model's raw text, garbage included
            assert 1 <= s["output_tokens"] <= 12 and s["input_tokens"] > 100 and s["latency_s"] > 0
            assert s["extra"]["finish_reason"] in ("stop", "length")
            assert s["frame"] is not None and (out / "frames" / f"{s['frame']}.png").exists()
    # parse outcomes are the game's verdict on that raw text
    specs = {e.episode_id: e for e in suite.episodes}
    for ep in episodes:
        env = specs[ep["episode_id"]].make_env(render_mode=None)
        for s in ep["steps"]:
            parsed = env.game.parse_answer(s["answer"])
            assert (s["parse_error"] is not None) == isinstance(parsed, ParseError)
            if isinstance(parsed, ParseError):
                assert s["parse_error"] == parsed.reason
    # the logged text is what the model writes for that frame and prompt (greedy; batched in the run, alone here)
    for ep in episodes[:4]:
        turn = start_turn(specs[ep["episode_id"]])
        assert qwen2.act([turn])[0].text == ep["steps"][0]["answer"]
    results = json.loads((out / "results.json").read_text())
    policy = results["provenance"]["policy"]
    assert results["complete"] and policy["backend"] == "transformers" and policy["policy"] == str(tiny_qwen2_vl)
    assert policy["model"]["source"] == "local" and len(policy["model"]["config_hash"]) == 16
    assert policy["backend_versions"]["transformers"] and policy["backend_versions"]["torch"]
    assert policy["sampling"] == {"max_new_tokens": 12, "temperature": 0.0, "top_p": 1.0, "seed": 0}
    assert policy["dtype"] == "float32" and policy["device"] == "cpu" and policy["system_prompt_sha256"] is None
    assert all(g["parse_failure_rate"] > 0.5 for g in results["results"].values())  # random bytes rarely parse


def test_batched_generation_equals_one_by_one(qwen2, tiny_qwen2_vl):
    """Left padding is right: a mixed-game batch gives what each turn gives alone, in the callers' order."""
    turns = [start_turn(e) for e in get_suite("smoke").episodes[::2]]  # 4 games, 4 prompt lengths
    batched = qwen2.act(turns)
    alone = [qwen2.act([t])[0] for t in turns]
    assert [a.text for a in batched] == [a.text for a in alone]
    assert [a.input_tokens for a in batched] == [a.input_tokens for a in alone]
    assert [a.output_tokens for a in batched] == [a.output_tokens for a in alone]
    assert len({a.input_tokens for a in batched}) > 1  # really different lengths (padding was needed)
    assert len({a.latency_s for a in batched}) == 1  # batch time shared out
    # image bounds reach the processor: 1 visual token instead of up to 16
    small = load_policy(str(tiny_qwen2_vl), ModelConfig(max_new_tokens=2, max_pixels=28 * 28 * 4))
    assert small.act(turns[:1])[0].input_tokens < batched[0].input_tokens
    assert small.describe()["image"]["max_pixels"] == 3136 and small.describe()["image"]["processor_size"]["longest_edge"] == 3136
    small.close()


def test_qwen25_vl_sampling_is_seeded_and_system_prompt_recorded(tiny_qwen25_vl, tmp_path):
    suite = custom_suite(["2048", "swap"], episodes=2, steps=2)
    cfg = dict(max_new_tokens=8, temperature=1.0, top_p=0.9, sampling_seed=11, system_prompt="You play games.")
    runs = []
    for name in ("a", "b"):
        policy = load_policy(str(tiny_qwen25_vl), ModelConfig(**cfg))
        res = Runner(suite, policy, tmp_path / name, progress=False).run()
        policy.close()
        runs.append([s["answer"] for e in sorted(load_episodes(tmp_path / name), key=lambda e: e["episode_id"])
                     for s in e["steps"]])
        d = res["provenance"]["policy"]
        assert d["sampling"] == {"max_new_tokens": 8, "temperature": 1.0, "top_p": 0.9, "seed": 11}
        assert d["system_prompt_sha256"] and "You play games." not in json.dumps(d)
    assert runs[0] == runs[1]  # same seed, same samples
    other = load_policy(str(tiny_qwen25_vl), ModelConfig(**{**cfg, "sampling_seed": 12}))
    Runner(suite, other, tmp_path / "c", progress=False).run()
    other.close()
    third = [s["answer"] for e in sorted(load_episodes(tmp_path / "c"), key=lambda e: e["episode_id"]) for s in e["steps"]]
    assert third != runs[0]


def test_clear_errors_for_models_that_cannot_play(tiny_qwen2_vl, tmp_path):
    no_template = tmp_path / "no-template"
    shutil.copytree(tiny_qwen2_vl, no_template)
    (no_template / "chat_template.jinja").unlink()
    with pytest.raises(ModelError, match="has no chat template"):
        load_policy(str(no_template))
    text_only = tmp_path / "text-only"
    text_only.mkdir()
    (text_only / "config.json").write_text(json.dumps({"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"],
                                                       "hidden_size": 32, "num_attention_heads": 2,
                                                       "num_hidden_layers": 1, "intermediate_size": 64, "vocab_size": 300}))
    with pytest.raises(ModelError, match="not an image-text-to-text model"):
        load_policy(str(text_only))
    custom = tmp_path / "custom-code"
    custom.mkdir()
    (custom / "config.json").write_text(json.dumps({"model_type": "g1bench_custom_xyz",
                                                    "auto_map": {"AutoConfig": "configuration_xyz.XyzConfig"}}))
    with pytest.raises(ModelError, match="--trust-remote-code"):
        load_policy(str(custom))
    res = subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--model", str(no_template), "--suite", "smoke",
                          "-o", str(tmp_path / "r"), "--backend", "transformers", "--quiet"],
                         env=ENV, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "has no chat template" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "r").exists()


def test_hub_model_revision_is_resolved_and_recorded(tiny_qwen2_vl, tmp_path):
    """A Hub id through a Hub-protocol server on 127.0.0.1: the commit is resolved and recorded, and those
    weights are the ones loaded."""
    hub_server = pytest.importorskip("g1bench.testing.hub_server")
    with hub_server.HubServer() as hub:
        env = {**hub_server.hub_env(hub, tmp_path / "hf_home"), "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
        upload = ("import sys; from huggingface_hub import HfApi; api = HfApi(); "
                  "api.create_repo('org/tiny-vlm'); api.upload_folder(folder_path=sys.argv[1], repo_id='org/tiny-vlm')")
        subprocess.run([sys.executable, "-c", upload, str(tiny_qwen2_vl)], env=env, check=True, capture_output=True, timeout=120)
        commit = hub.head("model", "org/tiny-vlm").oid
        out = tmp_path / "run"
        res = subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--model", "org/tiny-vlm", "--revision", "main",
                              "--games", "2048", "--episodes", "1", "--steps", "1", "--max-new-tokens", "4",
                              "-o", str(out), "--quiet"], env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        model = json.loads((out / "results.json").read_text())["provenance"]["policy"]["model"]
        assert model["source"] == "hub" and model["revision"] == "main" and model["commit"] == commit
        assert "note" not in model

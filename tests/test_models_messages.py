"""Model backends without a model: request construction (vLLM, OpenAI, transformers), options, resolution.

Nothing here needs torch, transformers or vllm.
"""

import argparse
import base64
import io
import json
import sys

import numpy as np
import pytest
from PIL import Image

import g1bench
from g1bench.eval.policies import Turn
from g1bench.models import ModelConfig, ModelError, MissingExtraError, choose_backend, load_policy, resolve_model
from g1bench.models import messages as M
from g1bench.models.base import config_hash
from g1bench.models.config import add_arguments
from g1bench.models.openai_backend import normalize_base_url, public_url, read_api_key, retry_delay


@pytest.fixture(scope="module")
def turns():
    out = []
    for i, game in enumerate(["2048", "swap", "shisensho"]):
        env = g1bench.make(game)
        frame, _ = env.reset(seed=i)
        out.append(Turn(game=game, frame=frame, prompt=env.prompt, state={}, episode=f"{game}/paper/{i}", step=3))
    return out


def decode_data_url(url):
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


def test_openai_messages_are_system_then_image_then_the_game_prompt(turns):
    t = turns[0]
    msgs = M.openai_messages(t, "Be terse.")
    assert msgs[0] == {"role": "system", "content": "Be terse."}
    user = msgs[1]
    assert user["role"] == "user" and [p["type"] for p in user["content"]] == ["image_url", "text"]
    assert user["content"][1]["text"] == t.prompt  # the game's versioned prompt, verbatim
    assert np.array_equal(decode_data_url(user["content"][0]["image_url"]["url"]), t.frame)  # lossless PNG
    assert [m["role"] for m in M.openai_messages(t)] == ["user"]  # no system message unless asked
    pil = M.openai_messages(t, image="pil")[0]["content"][0]
    assert pil["type"] == "image_pil" and np.array_equal(np.asarray(pil["image_pil"]), t.frame)
    no_frame = Turn(game="2048", frame=None, prompt="p", state={})
    assert M.openai_messages(no_frame)[0]["content"] == [{"type": "text", "text": "p"}]
    with pytest.raises(ValueError):
        M.openai_messages(t, image="jpeg")


def test_hf_messages_use_placeholders_and_images_in_order(turns):
    msgs = M.hf_messages(turns[1], "sys")
    assert msgs[0] == {"role": "system", "content": [{"type": "text", "text": "sys"}]}
    assert msgs[1]["content"] == [{"type": "image"}, {"type": "text", "text": turns[1].prompt}]
    images = M.hf_images(turns)
    assert [im.size for im in images] == [(t.frame.shape[1], t.frame.shape[0]) for t in turns]
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        M.to_pil(np.zeros((4, 4), dtype=np.uint8))


def test_openai_request_body(turns):
    cfg = ModelConfig(max_new_tokens=77, temperature=0.7, top_p=0.9, sampling_seed=5, system_prompt="S")
    body = M.openai_request("gpt-x", turns[0], cfg)
    assert body["model"] == "gpt-x" and body["max_tokens"] == 77 and body["temperature"] == 0.7
    assert body["top_p"] == 0.9 and body["stream"] is False
    assert body["seed"] == M.turn_seed(5, turns[0]) and 0 <= body["seed"] < 2**31
    assert body["messages"][0]["content"] == "S"
    json.dumps(body)  # JSON-ready


def test_seeds_depend_on_episode_and_step_only(turns):
    t = turns[0]
    moved = Turn(game=t.game, frame=None, prompt="other", state={"x": 1}, episode=t.episode, step=t.step)
    assert M.turn_seed(1, t) == M.turn_seed(1, moved)
    assert M.turn_seed(1, t) != M.turn_seed(2, t)
    later = Turn(game=t.game, frame=None, prompt="", state={}, episode=t.episode, step=t.step + 1)
    assert M.turn_seed(1, t) != M.turn_seed(1, later)
    assert M.call_seed(0, turns) == M.call_seed(0, list(turns)) != M.call_seed(0, turns[:2])


def test_vllm_engine_and_sampling_kwargs(turns):
    cfg = ModelConfig(tensor_parallel_size=2, data_parallel_size=4, min_pixels=3136, max_pixels=1003520,
                      dtype="bfloat16", sampling_seed=3)
    kw = M.vllm_llm_kwargs("Qwen/Qwen2.5-VL-7B-Instruct", cfg, revision="a" * 40)
    assert kw == {"model": "Qwen/Qwen2.5-VL-7B-Instruct", "dtype": "bfloat16", "trust_remote_code": False,
                  "tensor_parallel_size": 2, "data_parallel_size": 4, "limit_mm_per_prompt": {"image": 1},
                  "mm_processor_kwargs": {"min_pixels": 3136, "max_pixels": 1003520}, "seed": 3, "revision": "a" * 40,
                  "gpu_memory_utilization": 0.9}
    plain = M.vllm_llm_kwargs("m", ModelConfig())
    assert "data_parallel_size" not in plain and "mm_processor_kwargs" not in plain and "revision" not in plain
    assert "max_model_len" not in plain and "enforce_eager" not in plain  # vLLM's own defaults
    sized = M.vllm_llm_kwargs("m", ModelConfig(max_model_len=8192, gpu_memory_utilization=0.6, enforce_eager=True,
                                                 trust_remote_code=True))
    assert (sized["max_model_len"], sized["gpu_memory_utilization"], sized["enforce_eager"], sized["trust_remote_code"],
            sized["limit_mm_per_prompt"]) == (8192, 0.6, True, True, {"image": 1})
    greedy = M.vllm_sampling_kwargs(ModelConfig(max_new_tokens=64), turns[0])
    assert greedy == {"max_tokens": 64, "temperature": 0.0, "n": 1}
    sampled = M.vllm_sampling_kwargs(ModelConfig(temperature=1.0, top_p=0.95, sampling_seed=9), turns[1])
    assert sampled == {"max_tokens": 1024, "temperature": 1.0, "n": 1, "top_p": 0.95, "seed": M.turn_seed(9, turns[1])}


def test_vllm_conversations_one_per_turn_in_order(turns):
    convs = M.vllm_conversations(turns, "sys")
    assert len(convs) == len(turns)
    for conv, t in zip(convs, turns):
        assert conv[0] == {"role": "system", "content": "sys"}
        image, text = conv[1]["content"]
        assert image["type"] == "image_pil" and text["text"] == t.prompt
        assert np.array_equal(np.asarray(image["image_pil"]), t.frame)
    urls = M.vllm_conversations(turns[:1], image="data_url")
    assert urls[0][0]["content"][0]["type"] == "image_url"
    from g1bench.models.vllm_backend import answer_from_output, image_part_kind

    assert image_part_kind("0.8.5") == "data_url" and image_part_kind("0.11.0rc1") == "pil"
    assert image_part_kind("garbage") == "data_url"

    class Completion:
        text, token_ids, finish_reason = "<answer>1</answer>", [5, 6, 7], "stop"

    class Output:
        prompt_token_ids, outputs = list(range(40)), [Completion()]

    a = answer_from_output(Output(), 0.5)
    assert (a.text, a.input_tokens, a.output_tokens, a.latency_s, a.extra) == ("<answer>1</answer>", 40, 3, 0.5, {"finish_reason": "stop"})


def test_parse_openai_response_and_cost():
    data = {"choices": [{"finish_reason": "length", "message": {"role": "assistant", "content": "hi"}}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 20}}
    assert M.parse_openai_response(data) == {"text": "hi", "input_tokens": 1000, "output_tokens": 20, "finish_reason": "length"}
    refused = M.parse_openai_response({"choices": [{"message": {"content": None, "refusal": "no"}}]})
    assert refused["text"] == "" and refused["refusal"] == "no" and refused["input_tokens"] is None
    parts = M.parse_openai_response({"choices": [{"message": {"content": [{"type": "text", "text": "a"}, {"text": "b"}]}}]})
    assert parts["text"] == "ab"
    with pytest.raises(ValueError, match="no choices"):
        M.parse_openai_response({"error": "x"})
    assert M.cost_usd(1_000_000, 500_000, 2.5, 10.0) == pytest.approx(7.5)
    assert M.cost_usd(1000, 10, None, None) is None and M.cost_usd(None, 10, 1.0, 1.0) is None
    assert M.cost_usd(2_000_000, None, 1.0, None) == pytest.approx(2.0)


def test_every_option_is_a_cli_flag_and_validated():
    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args(["--backend", "openai", "--revision", "v1", "--base-url", "http://h/v1", "--api-key-env", "K",
                         "--price-in", "2.5", "--price-out", "10", "--system-prompt", "S", "--max-new-tokens", "12",
                         "--temperature", "0.5", "--top-p", "0.8", "--sampling-seed", "4", "--min-pixels", "784",
                         "--max-pixels", "3136", "--tensor-parallel-size", "2", "--data-parallel-size", "3",
                         "--dtype", "bfloat16", "--trust-remote-code", "--batch-size", "4", "--max-concurrency", "16",
                         "--timeout", "30", "--retries", "2", "--retry-backoff", "0.1"])
    cfg = ModelConfig.from_args(args)
    assert (cfg.backend, cfg.revision, cfg.base_url, cfg.api_key_env, cfg.price_in, cfg.price_out) == \
        ("openai", "v1", "http://h/v1", "K", 2.5, 10.0)
    assert (cfg.system_prompt, cfg.max_new_tokens, cfg.temperature, cfg.top_p, cfg.sampling_seed) == ("S", 12, 0.5, 0.8, 4)
    assert (cfg.min_pixels, cfg.max_pixels, cfg.tensor_parallel_size, cfg.data_parallel_size, cfg.dtype) == \
        (784, 3136, 2, 3, "bfloat16")
    assert (cfg.trust_remote_code, cfg.batch_size, cfg.max_concurrency, cfg.timeout, cfg.retries, cfg.retry_backoff) == \
        (True, 4, 16, 30.0, 2, 0.1)
    assert ModelConfig.from_args(p.parse_args([])) == ModelConfig()
    for bad, match in [(dict(top_p=0), "--top-p"), (dict(temperature=-1), "--temperature"), (dict(batch_size=0), "--batch-size"),
                       (dict(min_pixels=5000, max_pixels=100), "--min-pixels"), (dict(dtype="int8"), "--dtype"),
                       (dict(backend="tgi"), "--backend"), (dict(price_in=-1.0), "--price-in")]:
        with pytest.raises(ModelError, match=match):
            ModelConfig(**bad).validate()


def test_eval_parser_has_the_model_flags_and_keeps_the_suite_seed():
    from g1bench.cli import build_parser

    args = build_parser().parse_args(["eval", "--model", "m", "--seed", "7", "--sampling-seed", "3", "--backend", "transformers"])
    assert args.seed == 7 and args.sampling_seed == 3 and args.backend == "transformers"


def test_auto_backend_choice(monkeypatch):
    assert choose_backend(ModelConfig(base_url="http://x/v1")) == "openai"
    assert choose_backend(ModelConfig(backend="vllm")) == "vllm"
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real(name, *a))
    assert choose_backend(ModelConfig()) == "transformers"  # no vLLM: transformers
    import g1bench.models.transformers_backend as tb

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "vllm" else real(name, *a))
    monkeypatch.setattr(tb, "cuda_available", lambda: False)
    assert choose_backend(ModelConfig()) == "transformers"  # vLLM but no GPU: transformers
    monkeypatch.setattr(tb, "cuda_available", lambda: True)
    assert choose_backend(ModelConfig()) == "vllm"


def test_missing_extras_name_the_extra(monkeypatch, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` raise ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'g1bench\[vllm\]'"):
        load_policy(str(tmp_path), ModelConfig(backend="vllm"))
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'g1bench\[transformers\]'"):
        load_policy(str(tmp_path), ModelConfig(backend="transformers"))


def test_resolve_local_folder_and_bad_names(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    with pytest.raises(ModelError, match="no config.json"):
        resolve_model(str(folder))
    (folder / "config.json").write_text('{"model_type": "qwen2_vl"}')
    src = resolve_model(str(folder))
    assert src.source == "local" and src.path == str(folder) and src.config_hash == config_hash(folder)
    assert src.load_id == str(folder) and src.load_revision is None and src.commit is None
    (folder / "chat_template.jinja").write_text("{{ x }}")
    assert config_hash(folder) != src.config_hash  # the chat template is part of the hash
    with pytest.raises(ModelError, match="--revision 'v2' applies to Hub models"):
        resolve_model(str(folder), "v2")
    with pytest.raises(ModelError, match="no such folder"):
        resolve_model(str(tmp_path / "missing"))
    with pytest.raises(ModelError, match="no such folder"):
        resolve_model("./relative/missing")
    snap = tmp_path / "hub" / "models--Org--Tiny" / "snapshots" / ("c" * 40)
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")
    s = resolve_model(str(snap))
    assert s.commit == "c" * 40 and "Org/Tiny" in s.note


def test_resolve_hub_id_offline_falls_back_to_cache(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    refs = tmp_path / "models--Org--Tiny" / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_text("d" * 40)
    import huggingface_hub

    def offline(self, *a, **k):
        raise ConnectionError("no network")

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", offline)
    src = resolve_model("Org/Tiny")
    assert src.source == "hub" and src.revision == "main" and src.commit == "d" * 40
    assert "Hub not reachable" in src.note and "local Hub cache" in src.note and src.load_revision == "d" * 40
    with pytest.raises(ModelError, match="not in the local Hub cache"):
        resolve_model("Org/Missing")
    (tmp_path / "models--Org--Other" / "snapshots").mkdir(parents=True)  # cached by commit only, no refs
    other = resolve_model("Org/Other", "v1.0")
    assert other.commit is None and other.revision == "v1.0" and "revision asked for" in other.note
    pinned = resolve_model("Org/Missing", "e" * 40)
    assert pinned.commit == "e" * 40

    class Info:
        sha = "f" * 40

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", lambda self, repo, revision=None, **k: Info())
    online = resolve_model("Org/Tiny", "main")
    assert online.commit == "f" * 40 and online.note is None and online.to_dict()["revision"] == "main"


def test_openai_url_and_key_helpers(monkeypatch):
    assert normalize_base_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/v1"
    assert normalize_base_url("https://api.openai.com/v1/") == "https://api.openai.com/v1"
    for bad in ["not-a-url", "ftp://host/v1", "http:///v1", "127.0.0.1:8000"]:
        with pytest.raises(ModelError, match="not an http"):
            normalize_base_url(bad)
    assert public_url("https://user:pw@host:8443/v1?key=abc#x") == "https://host:8443/v1"
    monkeypatch.delenv("G1_NOPE", raising=False)
    with pytest.raises(ModelError, match="variable G1_NOPE is not set"):
        read_api_key("G1_NOPE")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert read_api_key(None) is None  # the default variable is optional (local servers need no key)
    monkeypatch.setenv("G1_NOPE", "sk-1")
    assert read_api_key("G1_NOPE") == "sk-1"
    import random

    rng = random.Random(0)
    assert 1.0 <= retry_delay(0, 1.0, rng=rng) <= 1.25 and 4.0 <= retry_delay(2, 1.0, rng=rng) <= 5.0
    assert retry_delay(0, 1.0, "3") == 3.0 and retry_delay(0, 1.0, "9999") == 60.0
    assert retry_delay(10, 1.0, rng=rng) == 60.0

"""The OpenAI-compatible backend: retries and timeouts against a server that fails on purpose, the API key
never saved, errors that say what to do, and a real `transformers serve` with a tiny model end to end."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from g1bench.eval.policies import Turn
from g1bench.eval.runner import load_episodes
from g1bench.models import ModelConfig, ModelError, load_policy
from g1bench.models.openai_backend import APIError, OpenAIClient
from g1bench.testing.fake_openai import FakeOpenAIServer

ENV = {"HF_HUB_OFFLINE": "1", "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "PYTHONUNBUFFERED": "1",
       "HOME": os.environ.get("HOME", "/tmp")}
BODY = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


def game_reply(body):
    """A legal-looking answer for whichever game the prompt is from."""
    prompt = body["messages"][-1]["content"][-1]["text"]
    return "<answer>1</answer>" if "2048" in prompt else "<answer>(0, 0) (0, 1)</answer>"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eval_cli(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--quiet", *args], env=env or ENV,
                          capture_output=True, text=True, timeout=timeout)


# -- retries and timeouts ---------------------------------------------------------------------------
def test_retries_429_500_and_a_slow_reply_then_answers():
    with FakeOpenAIServer(script=[429, 500, ("slow", 1.5)]) as srv:
        client = OpenAIClient(srv.base_url, timeout=0.4, retries=3, backoff=0.01)
        t = time.perf_counter()
        data, attempts = client.request("POST", "/chat/completions", BODY)
        assert attempts == 4 and data["choices"][0]["message"]["content"] == "<answer>0</answer>"
        assert len(srv.chat_requests()) == 4
        assert time.perf_counter() - t < 1.4  # the slow reply was abandoned at the timeout, not waited for


def test_retry_after_is_honoured_and_retries_run_out():
    with FakeOpenAIServer(script=[429], retry_after="0.3") as srv:
        t = time.perf_counter()
        _, attempts = OpenAIClient(srv.base_url, retries=2, backoff=0.0).request("POST", "/chat/completions", BODY)
        assert attempts == 2 and time.perf_counter() - t >= 0.3
    with FakeOpenAIServer(script=[500, 503, 502]) as srv:
        with pytest.raises(APIError, match=r"failed after 3 attempts; last: HTTP 502: scripted failure 502"):
            OpenAIClient(srv.base_url, retries=2, backoff=0.01).request("POST", "/chat/completions", BODY)
    with FakeOpenAIServer(script=[("slow", 1.0)] * 2) as srv:
        with pytest.raises(APIError, match=r"no reply within 0.2 s"):
            OpenAIClient(srv.base_url, timeout=0.2, retries=1, backoff=0.01).request("POST", "/chat/completions", BODY)


def test_client_errors_are_not_retried():
    with FakeOpenAIServer(script=[400]) as srv:
        with pytest.raises(APIError, match=r"HTTP 400: scripted failure 400") as e:
            OpenAIClient(srv.base_url, retries=5, backoff=0.01).request("POST", "/chat/completions", BODY)
        assert e.value.status == 400 and len(srv.chat_requests()) == 1
    port = free_port()  # nothing listens there
    with pytest.raises(APIError, match="cannot connect"):
        OpenAIClient(f"http://127.0.0.1:{port}/v1", retries=1, backoff=0.01).request("POST", "/chat/completions", BODY)


def test_concurrency_is_bounded_and_answers_keep_their_order():
    def reply(body):
        return body["messages"][-1]["content"][-1]["text"]  # echo the prompt

    with FakeOpenAIServer(reply=reply, delay=0.1) as srv:
        policy = load_policy("fake-model", ModelConfig(backend="openai", base_url=srv.base_url, max_concurrency=3,
                                                       price_in=1.0, price_out=2.0))
        turns = [Turn(game="2048", frame=None, prompt=f"p{i}", state={}, episode=f"e{i}") for i in range(9)]
        answers = policy.act(turns)
        policy.close()
        assert [a.text for a in answers] == [f"p{i}" for i in range(9)]
        assert srv.max_in_flight == 3
        a = answers[0]
        assert a.input_tokens > 0 and a.output_tokens >= 1 and a.latency_s >= 0.1
        assert a.extra["cost_usd"] == pytest.approx((a.input_tokens * 1.0 + a.output_tokens * 2.0) / 1e6)


# -- the key, prices and provenance through the CLI ---------------------------------------------------
def test_key_is_sent_but_never_printed_or_saved(tmp_path):
    key = f"sk-g1bench-secret-{uuid.uuid4().hex}"
    env = {**ENV, "G1_TEST_KEY": key}
    with FakeOpenAIServer(reply=game_reply, script=[429]) as srv:
        base_url, out = srv.base_url, tmp_path / "run"
        res = eval_cli("--model", "gpt-fake", "--backend", "openai", "--base-url", srv.base_url, "--api-key-env",
                       "G1_TEST_KEY", "--suite", "smoke", "-o", str(out), "--price-in", "2.5", "--price-out", "10",
                       "--retry-backoff", "0.01", "--system-prompt", "Play well.", env=env)
        assert res.returncode == 0, res.stderr[-3000:]
        assert all(r["headers"].get("Authorization") == f"Bearer {key}" for r in srv.requests)
        first = srv.chat_requests()[0]["json"]
        assert first["messages"][0] == {"role": "system", "content": "Play well."}
        assert first["messages"][1]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
    for path in [p for p in out.rglob("*") if p.is_file()]:
        assert key.encode() not in path.read_bytes(), path
    assert key not in res.stdout and key not in res.stderr
    episodes = load_episodes(out)
    steps = [s for e in episodes for s in e["steps"]]
    assert len(steps) == 32 and all(s["parse_error"] is None for s in steps)  # the server's answers parse
    assert all(s["extra"]["cost_usd"] > 0 and s["input_tokens"] > 0 for s in steps)
    assert sum("attempts" in s["extra"] for s in steps) == 1  # the one 429, retried
    policy = json.loads((out / "results.json").read_text())["provenance"]["policy"]
    assert policy["backend"] == "openai" and policy["api_key_env"] == "G1_TEST_KEY"
    assert policy["price_per_1m_tokens"] == {"input": 2.5, "output": 10.0}
    assert policy["base_url"] == base_url and policy["model"]["source"] == "server"
    # a server that echoes the key in an error: the message is redacted
    with FakeOpenAIServer(script=[401], echo_auth=True) as srv:
        res = eval_cli("--model", "gpt-fake", "--base-url", srv.base_url, "--api-key-env", "G1_TEST_KEY",
                       "--suite", "smoke", "-o", str(tmp_path / "run401"), env=env)
        assert res.returncode == 1 and "HTTP 401" in res.stderr and "check the API key" in res.stderr
        assert key not in res.stderr and key not in res.stdout and "Bearer ***" in res.stderr
    for path in [p for p in (tmp_path / "run401").rglob("*") if p.is_file()]:
        assert key.encode() not in path.read_bytes(), path


def test_clear_errors_for_bad_url_unreachable_server_and_missing_key(tmp_path):
    res = eval_cli("--model", "m", "--backend", "openai", "--base-url", "not-a-url", "--suite", "smoke", "-o", str(tmp_path / "a"))
    assert res.returncode == 2 and "is not an http(s) URL" in res.stderr and "Traceback" not in res.stderr
    res = eval_cli("--model", "m", "--base-url", f"http://127.0.0.1:{free_port()}/v1", "--suite", "smoke", "-o", str(tmp_path / "b"))
    assert res.returncode == 2 and "cannot reach the OpenAI-compatible server" in res.stderr
    res = eval_cli("--model", "m", "--backend", "openai", "--suite", "smoke", "-o", str(tmp_path / "c"))
    assert res.returncode == 2 and "needs --base-url" in res.stderr
    with FakeOpenAIServer() as srv:
        res = eval_cli("--model", "m", "--base-url", srv.base_url, "--api-key-env", "G1_UNSET_KEY", "--suite", "smoke",
                       "-o", str(tmp_path / "d"))
        assert res.returncode == 2 and "G1_UNSET_KEY is not set" in res.stderr
        res = eval_cli("--model", "m", "--base-url", srv.base_url, "--backend", "vllm", "--suite", "smoke", "-o", str(tmp_path / "e"))
        assert res.returncode == 2 and "--base-url is for the openai backend" in res.stderr
    assert not any((tmp_path / d).exists() for d in "abcde")
    client = OpenAIClient("http://127.0.0.1:1/v1", api_key="k")
    client._once = lambda *a, **k: (401, {}, b'{"error": {"message": "bad key"}}')
    with pytest.raises(ModelError, match="rejected the API key"):
        client.probe()


# -- a real server: transformers serve with the tiny model -------------------------------------------
@pytest.fixture
def transformers_serve(tiny_qwen2_vl, tmp_path):
    exe = Path(sys.executable).parent / "transformers"
    if not exe.exists():
        pytest.skip("the transformers CLI (transformers[serving]) is not installed")
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    port = free_port()
    home = tmp_path / "hf_home"
    (home / "hub").mkdir(parents=True)
    env = {**ENV, "HF_HOME": str(home), "TOKENIZERS_PARALLELISM": "false"}
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--device", "cpu",
                             str(tiny_qwen2_vl)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"transformers serve exited: {(tmp_path / 'serve.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("transformers serve did not become healthy in 120 s")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_smoke_suite_against_a_real_transformers_serve(transformers_serve, tiny_qwen2_vl, tmp_path):
    out = tmp_path / "run"
    res = eval_cli("--model", str(tiny_qwen2_vl), "--backend", "openai", "--base-url", transformers_serve + "/v1",
                   "--suite", "smoke", "-o", str(out), "--max-new-tokens", "8", "--max-concurrency", "4",
                   "--timeout", "60", "--retries", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    steps = [s for e in load_episodes(out) for s in e["steps"]]
    assert len(steps) == 32
    assert all(isinstance(s["answer"], str) for s in steps)  # the model's raw text
    assert all(1 <= s["output_tokens"] <= 8 and s["input_tokens"] > 100 for s in steps)  # usage from the server
    assert all(s["latency_s"] > 0 and s["extra"]["finish_reason"] in ("stop", "length") for s in steps)
    assert any(s["parse_error"] for s in steps)
    policy = json.loads((out / "results.json").read_text())["provenance"]["policy"]
    assert policy["model"]["source"] == "server" and len(policy["model"]["config_hash"]) == 16
    assert policy["base_url"] == transformers_serve + "/v1"


@pytest.mark.slow
def test_a_real_transformers_serve_takes_the_multi_turn_chat(transformers_serve, tiny_qwen2_vl, tmp_path):
    """History 2 (g1bench.eval.history): three images, two past answers and their feedback lines in one request."""
    out = tmp_path / "run"
    res = eval_cli("--model", str(tiny_qwen2_vl), "--backend", "openai", "--base-url", transformers_serve + "/v1",
                   "--games", "2048", "--episodes", "1", "--steps", "3", "--history", "2", "-o", str(out),
                   "--max-new-tokens", "8", "--timeout", "60", "--retries", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    steps = load_episodes(out)[0]["steps"]
    assert [s["history"] for s in steps] == [0, 1, 2]
    # the server counted the past frames and turns: each step's prompt is longer than the last
    assert steps[0]["input_tokens"] < steps[1]["input_tokens"] < steps[2]["input_tokens"]
    assert json.loads((out / "results.json").read_text())["results"]["2048/paper@h2"]["history"] == 2
    from g1bench.eval.verify import verify_run

    assert verify_run(out).ok

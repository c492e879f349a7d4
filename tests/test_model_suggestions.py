"""A Hub id that does not exist gets the closest existing ids, from the Hub's own search (local Hub server)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from g1bench.testing.hub_server import HubServer, hub_env

MODELS = ["Qwen/Qwen2.5-VL-7B-Instruct", "Qwen/Qwen2.5-VL-3B-Instruct", "Qwen/Qwen2-VL-7B-Instruct",
          "someone/Qwen2.5-VL-7B-Instruct-GGUF", "other/unrelated-model"]


@pytest.fixture(scope="module")
def hub():
    with HubServer(orgs=("Qwen",)) as hub:
        for m in MODELS:
            hub.add_repo("model", m, {"config.json": json.dumps({"model_type": "qwen2_5_vl"}).encode()})
        hub.add_repo("model", "Qwen/Qwen2.5-VL-7B-Secret", private=True)
        yield hub


def _python(hub, tmp_path, code):
    out = subprocess.run([sys.executable, "-c", code], env=hub_env(hub, tmp_path / "hf"), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_search_route_answers_like_the_hub(hub, tmp_path):
    got = _python(hub, tmp_path, "from huggingface_hub import HfApi; api = HfApi()\n"
                  "print([m.id for m in api.list_models(search='qwen2.5-vl-7b')])\n"
                  "print([m.id for m in api.list_models(search='VL', author='Qwen', limit=2)])")
    first, second = got.splitlines()
    assert eval(first) == ["Qwen/Qwen2.5-VL-7B-Instruct", "someone/Qwen2.5-VL-7B-Instruct-GGUF"]  # private: hidden
    assert eval(second) == ["Qwen/Qwen2-VL-7B-Instruct", "Qwen/Qwen2.5-VL-3B-Instruct"]


@pytest.mark.parametrize("asked", ["Qwen/Qwen2.5-VL-7B", "Qwen/Qwen2.5-VL-7B-Instrcut", "qwen/qwen2.5-vl-7b-instruct"])
def test_a_missing_id_names_the_closest_ones(hub, tmp_path, asked):
    out = subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--model", asked, "--backend", "transformers",
                          "--suite", "smoke", "-o", str(tmp_path / "run")],
                         env=hub_env(hub, tmp_path / "hf"), capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    line = out.stderr.strip().splitlines()[0]
    assert line.startswith(f"error: model {asked!r} was not found on the Hub (nor as a local folder); "
                           "did you mean Qwen/Qwen2.5-VL-7B-Instruct")
    assert "Traceback" not in out.stderr and "Secret" not in out.stderr


def test_no_suggestions_offline():
    from g1bench.models.base import close_matches

    class Down:
        def list_models(self, **kw):
            raise ConnectionError("no network")

    assert close_matches("Qwen/Qwen2.5-VL-7B", api=Down()) == []

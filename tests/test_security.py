"""Code shipped with a model never runs without --trust-remote-code; a key given as --api-key-env is never shown."""

import json
import os
import subprocess
import sys

import pytest

from g1bench.models import ModelConfig, ModelError
from g1bench.models.openai_backend import read_api_key

EVIL = '''
from pathlib import Path
Path({marker!r}).write_text("the model folder's code ran")
from transformers import PretrainedConfig, PreTrainedModel


class EvilConfig(PretrainedConfig):
    model_type = "g1bench-evil"


class EvilModel(PreTrainedModel):
    config_class = EvilConfig
'''


def _evil_model(tmp_path):
    folder, marker = tmp_path / "evil-model", tmp_path / "MARKER"
    folder.mkdir()
    (folder / "evil.py").write_text(EVIL.format(marker=str(marker)))
    (folder / "config.json").write_text(json.dumps({
        "model_type": "g1bench-evil", "architectures": ["EvilModel"],
        "auto_map": {"AutoConfig": "evil.EvilConfig", "AutoModelForImageTextToText": "evil.EvilModel"}}))
    return folder, marker


def _eval(tmp_path, *args, stdin=""):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules"),
           "TRANSFORMERS_VERBOSITY": "error"}
    return subprocess.run([sys.executable, "-m", "g1bench.cli", "eval", "--suite", "smoke", "-o", str(tmp_path / "run"), *args],
                          input=stdin, capture_output=True, text=True, env=env, timeout=300)


def test_model_code_does_not_run_even_when_y_is_typed(tmp_path):
    pytest.importorskip("transformers")
    folder, marker = _evil_model(tmp_path)
    out = _eval(tmp_path, "--model", str(folder), "--backend", "transformers", stdin="y\ny\ny\n")
    assert not marker.exists(), "the model folder's code ran without --trust-remote-code"
    assert out.returncode == 2, out.stderr
    assert "Do you wish to run the custom code" not in out.stdout + out.stderr  # never asked
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "ships its own code: rerun with --trust-remote-code" in last
    assert "Traceback" not in out.stderr


def test_trust_remote_code_flag_is_what_lets_it_run(tmp_path):
    """The control: the same folder's code does run when the user opts in (so the test above can fail)."""
    pytest.importorskip("transformers")
    folder, marker = _evil_model(tmp_path)
    out = _eval(tmp_path, "--model", str(folder), "--backend", "transformers", "--trust-remote-code")
    assert marker.exists(), out.stderr
    assert out.returncode != 0  # the folder is no real model


@pytest.mark.parametrize("value", ["sk-proj-Xy12AbCdEfGh34", "hf_AbCdEfGhIjKlMnOpQrStUv", "Bearer abc.def"])
def test_a_key_passed_as_api_key_env_is_refused_and_never_shown(tmp_path, value):
    out = _eval(tmp_path, "--model", "gpt-4o", "--base-url", "http://127.0.0.1:9/v1", "--api-key-env", value)
    assert out.returncode == 2
    assert value not in out.stdout + out.stderr
    assert value.split("_")[-1] not in out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --api-key-env")
    assert not (tmp_path / "run").exists() or value not in "".join(
        p.read_text(errors="replace") for p in (tmp_path / "run").rglob("*") if p.is_file())


def test_api_key_env_names(monkeypatch):
    for bad in ["sk-123", "my key", "1ABC", "", "A" * 200]:
        with pytest.raises(ModelError, match="takes the NAME of the environment variable") as e:
            ModelConfig(api_key_env=bad).validate()
        assert bad not in str(e.value) or bad == ""
        with pytest.raises(ModelError, match="takes the NAME"):
            read_api_key(bad)
    monkeypatch.delenv("G1_UNSET_KEY_VAR", raising=False)
    with pytest.raises(ModelError, match="variable G1_UNSET_KEY_VAR is not set"):  # a conventional name is repeated
        read_api_key("G1_UNSET_KEY_VAR")
    monkeypatch.delenv("hf_secretlooking", raising=False)
    with pytest.raises(ModelError) as e:  # a lower-case "name" may be a key: not repeated
        read_api_key("hf_secretlooking")
    assert "secretlooking" not in str(e.value) and "not shown" in str(e.value)
    monkeypatch.setenv("MY_KEY", "sk-xyz")
    assert read_api_key("MY_KEY") == "sk-xyz" and ModelConfig(api_key_env="MY_KEY").validate()

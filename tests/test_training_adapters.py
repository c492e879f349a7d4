"""PEFT adapter folders as models (g1bench.models.adapters): what `g1bench eval --model ./outputs/<lora run>`
resolves to, and the errors for broken adapters. Loading and merging for real: tests/test_training_e2e.py."""

import json

import pytest

from g1bench.models import ModelError, resolve_model
from g1bench.models.adapters import adapter_for, adapter_hash, is_adapter_folder, read_adapter_config


def _adapter(folder, base, **extra):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": base, "peft_type": "LORA", **extra}))
    (folder / "adapter_model.safetensors").write_bytes(b"not read here")
    return folder


def _model(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text('{"model_type": "qwen2_vl"}')
    return folder


def test_an_adapter_folder_resolves_to_itself_with_its_base_named(tmp_path):
    base = _model(tmp_path / "base")
    run = _adapter(tmp_path / "runs" / "lora", str(base))
    (run / "preprocessor_config.json").write_text("{}")
    src = resolve_model(str(run))
    assert src.source == "local" and src.path == str(run) and src.config_hash == adapter_hash(run)
    assert src.note == f"PEFT LORA adapter over base model {base}"
    adapter = adapter_for(src)
    assert adapter.base.path == str(base) and adapter.base.source == "local"
    assert adapter.processor_id == str(run)  # the processor the run saved (its image bounds) wins
    (run / "preprocessor_config.json").unlink()
    assert adapter.processor_id == str(base)
    assert adapter.describe()["base_model"]["path"] == str(base)
    # the hash follows the adapter's config, not its weights
    before = adapter_hash(run)
    (run / "adapter_model.safetensors").write_bytes(b"other weights")
    assert adapter_hash(run) == before
    _adapter(run, str(base), r=16)
    assert adapter_hash(run) != before


def test_a_full_model_folder_is_not_an_adapter(tmp_path):
    both = _adapter(_model(tmp_path / "m"), "whatever")  # e.g. a merged model that kept its adapter config
    assert not is_adapter_folder(both)
    src = resolve_model(str(both))
    assert adapter_for(src) is None and src.note is None


def test_a_relative_base_path_is_found_from_the_adapter_folder(tmp_path, monkeypatch):
    _model(tmp_path / "models" / "tiny")
    run = _adapter(tmp_path / "outputs", "./models/tiny")  # trained from tmp_path with a relative path
    monkeypatch.chdir(run)  # evaluated from elsewhere
    adapter = adapter_for(resolve_model(str(run)))
    assert adapter.base.path == str(tmp_path / "models" / "tiny")


def test_broken_adapters_are_clear_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "adapter_config.json").write_text("{not json")
    with pytest.raises(ModelError, match="not a readable JSON adapter config"):
        resolve_model(str(bad))
    (bad / "adapter_config.json").write_text('{"peft_type": "LORA"}')
    with pytest.raises(ModelError, match="names no base model"):
        read_adapter_config(bad)
    gone = _adapter(tmp_path / "gone", str(tmp_path / "deleted-base"))
    with pytest.raises(ModelError, match="its base model cannot be found"):
        adapter_for(resolve_model(str(gone)))
    nested = _adapter(tmp_path / "nested", str(_adapter(tmp_path / "inner", "x")))
    with pytest.raises(ModelError, match="itself an adapter"):
        adapter_for(resolve_model(str(nested)))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="no config.json"):
        resolve_model(str(empty))


def test_vllm_is_not_asked_to_load_an_adapter_folder(tmp_path):
    from g1bench.models import ModelConfig, ModelError, load_policy

    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    run = _adapter(tmp_path / "lora", str(base))
    with pytest.raises(ModelError, match="vLLM loads full models; merge it first"):
        load_policy(str(run), ModelConfig(backend="vllm"))


def test_model_modules_import_each_other_without_a_circle():
    """base.py resolves adapter folders and adapters.py resolves their base models: both read the folder format from
    adapter_files.py, and neither imports the other's importer (every import counted, function-level ones too)."""
    import ast
    from pathlib import Path

    import g1bench.models

    pkg = Path(g1bench.models.__file__).parent
    names = {p.stem for p in pkg.glob("*.py")}
    graph = {}
    for path in pkg.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        graph[path.stem] = deps & names
    assert "adapters" not in graph["base"] and "base" in graph["adapters"]

    def reaches(start, goal, seen=()):
        return any(d == goal or (d not in seen and reaches(d, goal, (*seen, d))) for d in graph[start])

    circles = sorted(m for m in graph if reaches(m, m))
    assert circles == [], f"import circles through {circles}"

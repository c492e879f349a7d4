"""`g1bench data push` against a Hub-protocol server, then `load_dataset("org/name", config)` with a fresh cache.

The real clients run in subprocesses (HF_ENDPOINT and friends must be set before huggingface_hub is imported).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from g1bench.data.build import build_dataset, make_spec
from g1bench.testing import HubServer, hub_env

TOKEN = "hf_secret_token_never_printed_123"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("push") / "ds"
    spec = make_spec(configs="perception,states", games="2048,swap", presets="paper", train=3, test=2,
                     states_train=1, states_test=1)
    build_dataset(out, spec, workers=0, log=lambda m: None)
    return out


@pytest.fixture
def hub():
    with HubServer() as server:
        yield server


def cli(hub, home, *args, token=TOKEN):
    return subprocess.run([sys.executable, "-m", "g1bench.cli", "data", *args], capture_output=True, text=True,
                          env=hub_env(hub, home, token=token), timeout=180)


LOAD = r'''
import json, sys, warnings
warnings.simplefilter("ignore")
import datasets, g1bench
repo = sys.argv[1]
out = {"configs": sorted(datasets.get_dataset_config_names(repo))}
ds = datasets.load_dataset(repo, "perception-2048-paper")
out["rows"] = {k: len(v) for k, v in ds.items()}
out["hashes"] = list(ds["train"]["state_hash"])
out["frame"] = list(ds["train"][0]["frame"].size)
states = datasets.load_dataset(repo, "states-swap", split="test")
out["restored"] = all(g1bench.make_from_state(r["state"]).state_hash() == r["state_hash"] for r in states)
stream = datasets.load_dataset(repo, "perception-swap-paper", split="test", streaming=True)
out["streamed"] = [r["state_hash"] for r in stream]
print(json.dumps(out))
'''


def test_push_then_load_from_the_hub(hub, folder, tmp_path):
    import datasets

    res = cli(hub, tmp_path / "home", "push", str(folder), "--repo", "org/g1-data")
    assert res.returncode == 0, res.stderr
    assert TOKEN not in res.stdout + res.stderr
    assert "pushed" in res.stdout
    head = hub.head("dataset", "org/g1-data")
    assert head.title.startswith("g1bench ") and "upload dataset" in head.title
    assert hub.repo("dataset", "org/g1-data").private is False
    remote = sorted(head.files)
    local = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert remote == sorted(local + [".gitattributes"])

    # a fresh cache: everything comes from the server
    load = subprocess.run([sys.executable, "-c", LOAD, "org/g1-data"], capture_output=True, text=True,
                          env=hub_env(hub, tmp_path / "fresh_home"), timeout=180)
    assert load.returncode == 0, load.stderr
    got = json.loads(load.stdout)
    local_ds = datasets.load_dataset(str(folder), "perception-2048-paper", cache_dir=str(tmp_path / "local_cache"))
    assert got["configs"] == sorted(["perception-2048-paper", "perception-swap-paper", "states-2048", "states-swap"])
    assert got["rows"] == {"train": 3, "test": 2} and got["hashes"] == list(local_ds["train"]["state_hash"])
    assert got["restored"] and len(got["streamed"]) == 2 and got["frame"][0] > 0
    assert any(p.endswith(".parquet") and m == "GET" for m, p in hub.requests)

    # pushing identical content again is harmless and makes no commit
    commits = hub.commit_count("dataset", "org/g1-data")
    again = cli(hub, tmp_path / "home", "push", str(folder), "--repo", "org/g1-data")
    assert again.returncode == 0, again.stderr
    assert "unchanged" in again.stdout and hub.commit_count("dataset", "org/g1-data") == commits


def test_push_mirrors_a_rebuilt_folder_to_a_branch(hub, tmp_path):
    out = tmp_path / "ds"
    build_dataset(out, make_spec(configs="perception", games="swap", presets="paper", train=2, test=1), workers=0,
                  log=lambda m: None)
    assert cli(hub, tmp_path / "h", "push", str(out), "--repo", "org/d", "--private").returncode == 0
    assert hub.repo("dataset", "org/d").private is True
    build_dataset(out, make_spec(configs="perception", games="2048", presets="paper", train=2, test=1), workers=0,
                  overwrite=True, log=lambda m: None)
    res = cli(hub, tmp_path / "h", "push", str(out), "--repo", "org/d", "--revision", "dev", "--message", "v2 data")
    assert res.returncode == 0, res.stderr
    dev, main = hub.head("dataset", "org/d", "dev"), hub.head("dataset", "org/d", "main")
    assert dev.title == "v2 data"
    assert any(p.startswith("perception-2048-paper/") for p in dev.files)
    assert not any(p.startswith("perception-swap-paper/") for p in dev.files)  # stale data files are removed
    assert any(p.startswith("perception-swap-paper/") for p in main.files)


def test_push_without_a_token_fails_before_any_upload(hub, folder, tmp_path):
    res = cli(hub, tmp_path / "empty_home", "push", str(folder), "--repo", "org/x", token="")
    assert res.returncode == 2 and "no Hugging Face token" in res.stderr and "HF_TOKEN" in res.stderr
    assert hub.requests == [] and hub.repos == {}


def test_push_refuses_unfinished_or_foreign_folders(hub, tmp_path):
    (tmp_path / "stuff").mkdir()
    res = cli(hub, tmp_path / "h", "push", str(tmp_path / "stuff"), "--repo", "org/x")
    assert res.returncode == 2 and "not a finished g1bench dataset folder" in res.stderr
    res = cli(hub, tmp_path / "h", "push", str(tmp_path / "stuff"), "--repo", "bad-name")
    assert res.returncode == 2
    assert hub.requests == []

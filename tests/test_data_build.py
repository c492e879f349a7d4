"""`g1bench data build`: the folder loads with `datasets` offline, rows are exact, builds are reproducible."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import g1bench
from g1bench.data.build import build_dataset, make_spec, sha256_file
from g1bench.data.errors import DataError
from g1bench.data.sampling import SPLIT_SEEDS, TEST_SEED_BASE, TRAIN_SEED_BASE
from g1bench.eval.suites import get_suite, start_game, EpisodeSpec, PAPER_EVAL_WARMUP

PRESETS = "2048:paper,shisensho:paper,shisensho-images:bundled,swap:paper"
SPEC = dict(configs=None, games=None, presets=PRESETS, train=6, test=4, states_train=2, states_test=1,
            episodes=1, steps=4)


@pytest.fixture(scope="module")
def hf_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("hf_home")
    old = os.environ.get("HF_HOME")
    os.environ["HF_HOME"] = str(home)  # load_dataset copies into HF_HOME's cache
    yield home
    if old is None:
        os.environ.pop("HF_HOME", None)
    else:
        os.environ["HF_HOME"] = old


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data") / "ds"
    build_dataset(out, make_spec(**SPEC), workers=2, log=lambda m: None)
    return out


def _load(folder, config, **kw):
    import tempfile

    import datasets

    # a fresh cache every time: datasets reads HF_HOME once at import, and pytest reuses tmp paths across
    # sessions, so the default cache could hand back an older build of the "same" folder
    kw.setdefault("cache_dir", tempfile.mkdtemp(prefix="g1bench-ds-cache-"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return datasets.load_dataset(str(folder), config, **kw)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


EXPECTED_CONFIGS = {
    "perception-2048-paper", "perception-shisensho-paper", "perception-shisensho-images-bundled", "perception-swap-paper",
    "states-2048", "states-shisensho", "states-shisensho-images", "states-swap",
    "episodes-2048", "episodes-shisensho", "episodes-shisensho-images", "episodes-swap", "manifests",
}


def test_every_config_loads_offline_with_its_splits(built, hf_home):
    import datasets
    from PIL import Image

    assert set(datasets.get_dataset_config_names(str(built))) == EXPECTED_CONFIGS
    for config in sorted(EXPECTED_CONFIGS):
        ds = _load(built, config)
        if config.startswith("perception-"):
            assert {k: len(v) for k, v in ds.items()} == {"train": 6, "test": 4}
        elif config.startswith("states-"):
            n = 2 * 1  # presets x samplings
            assert {k: len(v) for k, v in ds.items()} == {"train": 2 * n, "test": 1 * n}
        elif config.startswith("episodes-"):
            assert {k: len(v) for k, v in ds.items()} == {"train": 3 * 4}  # 3 policies x 1 episode x 4 steps
        else:
            assert {k: len(v) for k, v in ds.items()} == {s: len(get_suite(s).episodes) for s in ("smoke", "paper", "grid")}
        first = next(iter(ds.values()))
        if "frame" in first.column_names:
            img = first[0]["frame"]
            assert isinstance(img, Image.Image) and img.mode == "RGB"


def test_streaming_works(built, hf_home):
    from PIL import Image

    rows = list(_load(built, "perception-swap-paper", split="test", streaming=True))
    assert len(rows) == 4 and isinstance(rows[0]["frame"], Image.Image)
    eager = _load(built, "perception-swap-paper", split="test")
    assert [r["state_hash"] for r in rows] == list(eager["state_hash"])


def test_states_restore_the_exact_position_and_frame(built, hf_home):
    samplings = set()
    for game in g1bench.list_games():
        for row in _load(built, f"states-{game}", split="train"):
            samplings.add(row["sampling"])
            env = g1bench.make_from_state(row["state"])
            assert env.state_hash() == row["state_hash"]
            assert np.array_equal(env.render(), np.asarray(row["frame"])), (game, row["sampling"], row["seed"])
            assert env.prompt == row["prompt"] and env.game.perception_text() == row["perception"]
            assert row["n_legal"] == len(env.game.legal_actions()) > 0  # a start state always has a move
            # the same through reset(options=...) on a plainly built env
            other = g1bench.make(game, row["difficulty"], **json.loads(row["overrides"]))
            frame, info = other.reset(options={"state": json.loads(row["state"])})
            assert info["state_hash"] == row["state_hash"] and np.array_equal(frame, np.asarray(row["frame"]))
    assert samplings == {"paper", "late-game"}


def test_paper_sampling_is_the_eval_start_game(built, hf_home):
    from g1bench.eval.suites import PAPER_TRAIN_WARMUP

    for row in _load(built, "states-shisensho", split="test"):
        if row["sampling"] != "paper":
            continue
        assert row["moves"] == PAPER_TRAIN_WARMUP["shisensho"]
        env = g1bench.make("shisensho", row["difficulty"])
        spec = EpisodeSpec("shisensho", row["difficulty"], seed=row["seed"], steps=1, warmup=row["moves"])
        assert start_game(spec, env, 0) == row["first_game"]
        assert env.state_hash() == row["state_hash"]


def test_perception_rows_are_exact_and_splits_use_disjoint_seeds(built, hf_home):
    for game, preset in (p.split(":") for p in PRESETS.split(",")):
        ds = _load(built, f"perception-{game}-{preset}")
        train, test = set(ds["train"]["seed"]), set(ds["test"]["seed"])
        assert not train & test
        assert all(TRAIN_SEED_BASE <= s < TRAIN_SEED_BASE + SPLIT_SEEDS for s in train)
        assert all(TEST_SEED_BASE <= s < TEST_SEED_BASE + SPLIT_SEEDS for s in test)
        for row in ds["train"]:
            env = g1bench.make_from_state(row["state"])
            assert np.array_equal(env.render(), np.asarray(row["frame"]))
            assert env.game.perception_text() == row["perception"]
            assert json.loads(row["structured_state"]) == env.game.structured_state()
            assert (row["game"], row["difficulty"]) == (game, preset)
            _check_questions(env, row["qa"])


def _check_questions(env, qa):
    cells = env.game.structured_state()["cells"]
    names = [("empty" if v in (None, 0) else str(v)) for row in cells for v in row]
    types = [q["type"] for q in qa]
    assert types[0] == "cell" and "moves" in types
    for q in qa:
        if q["type"] == "cell":
            r, c = (int(x) for x in re.search(r"row (\d+), column (\d+)", q["question"]).groups())
            assert q["answer"] == names[r * len(cells[0]) + c]
        elif q["type"] == "count":
            what = re.search(r"number (\d+) are|'(.+)' tiles", q["question"])
            kind = what.group(1) or what.group(2)
            assert int(q["answer"]) == names.count(kind) > 0
        elif q["type"] == "empty":
            assert int(q["answer"]) == names.count("empty")
        elif q["type"] == "moves":
            legal = env.game.legal_actions()
            if env.game.name == "2048":
                assert q["answer"] == (", ".join(map(str, sorted(legal))) or "none")
            else:
                pairs = re.findall(r"\((\d+), (\d+)\) \((\d+), (\d+)\)", q["answer"])
                got = {tuple(map(int, p)) for p in pairs}
                want = {tuple(a) for a in legal} | {(a[2], a[3], a[0], a[1]) for a in legal}
                assert got and got <= want and len(got) == len(legal)


def test_episodes_replay_exactly(built, hf_home):
    ds = _load(built, "episodes-swap", split="train")
    by_episode: dict[str, list] = {}
    for row in ds:
        by_episode.setdefault(row["episode_id"], []).append(row)
    assert {e.split("/")[0] for e in by_episode} == {"random", "random-legal", "oracle"}
    for eid, rows in by_episode.items():
        assert [r["step"] for r in rows] == list(range(4)) and rows[-1]["done"]
        r0 = rows[0]
        env = g1bench.make(r0["game"], r0["difficulty"])
        spec = EpisodeSpec(r0["game"], r0["difficulty"], seed=r0["seed"], steps=4,
                           warmup=PAPER_EVAL_WARMUP[r0["game"]], index=int(eid.rsplit("/", 1)[1]))
        start_game(spec, env, 0)
        for r in rows:  # feeding the recorded answers back gives the recorded states and rewards
            assert env.state_hash() == r["state_hash"]
            assert np.array_equal(env.render(), np.asarray(r["frame"]))
            _, reward, terminated, _, info = env.step(r["answer"])
            assert reward == r["reward"] and terminated == r["terminated"]
            assert info["action"] == r["action"] or [info["action"]] == r["action"]
        if eid.startswith("random-legal") or eid.startswith("oracle"):
            assert all(r["valid"] for r in rows)


def test_manifests_are_the_suites_manifests(built, hf_home):
    ds = _load(built, "manifests", split="smoke")
    suite = get_suite("smoke")
    assert [(r["episode_id"], r["start_state_hash"]) for r in ds] == \
        [(m["episode_id"], m["start_state_hash"]) for m in suite.manifest()]
    assert set(ds["suite_hash"]) == {suite.hash()}
    data = json.loads((built / "manifests" / "smoke.json").read_text())
    assert data["suite"]["hash"] == suite.hash() and len(data["manifest"]) == len(suite.episodes)


def test_card_documents_the_build(built):
    card = (built / "README.md").read_text()
    assert card.startswith("---\n") and "configs:" in card and "dataset_info:" in card
    assert f"g1bench {g1bench.__version__}" in card
    assert "g1bench data build OUT --configs perception,states,episodes,manifests" in card
    assert "arXiv:2505.13426" in card and "Chen, Liang" in card and "Apache License 2.0" in card
    assert "Noto Emoji" in card and (built / "LICENSES" / "tilepack-LICENSE.txt").read_bytes() == \
        (Path(g1bench.__file__).parent / "assets" / "tilepack" / "LICENSE").read_bytes()
    env = g1bench.make("swap", "paper")
    assert env.versions()["prompt_hash"] in card and env.versions()["renderer_version"] in card
    assert get_suite("paper").hash() in card
    for p in built.rglob("*"):
        if p.is_file() and p.name != "README.md":
            assert sha256_file(p) in card, p  # every file listed with its SHA-256
    assert not (built / ".g1bench-build").exists()


def test_rebuild_is_byte_identical_and_independent_of_workers(built, tmp_path):
    again = tmp_path / "again"
    build_dataset(again, make_spec(**SPEC), workers=0, log=lambda m: None)
    a, b = _files(built), _files(again)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []


def test_parquet_files_carry_no_timestamps(built):
    import pyarrow.parquet as pq

    meta = pq.read_metadata(next(built.glob("perception-2048-paper/*.parquet")))
    assert "parquet-cpp-arrow" in meta.created_by
    keys = set((meta.metadata or {}).keys())
    assert keys <= {b"huggingface", b"ARROW:schema"}


# -- bad input -------------------------------------------------------------------------------------------
def test_bad_options_are_clear_errors():
    with pytest.raises(DataError, match="unknown game 'chess'"):
        make_spec(games="chess")
    with pytest.raises(DataError, match=r"unknown preset 'huge' for 2048; presets: \['paper'"):
        make_spec(games="2048", presets="2048:huge")
    with pytest.raises(DataError, match="unknown preset 'giant': no selected game has it"):
        make_spec(presets="giant")
    with pytest.raises(DataError, match="unknown config kind"):
        make_spec(configs="pictures")
    with pytest.raises(DataError, match="unknown policy"):
        make_spec(policies="genius")
    with pytest.raises(DataError, match="--train must be a non-negative integer"):
        make_spec(train=-1)
    with pytest.raises(DataError, match="no preset selected for \\['shisensho-images'\\]"):
        make_spec(games="2048,shisensho-images", presets="mono")


def test_presets_that_download_are_not_built_by_default():
    spec = make_spec(games="shisensho-images")
    assert dict(spec.presets)["shisensho-images"] == ("bundled", "bundled-more-tiles")
    with pytest.raises(DataError, match="downloads its pictures"):
        make_spec(games="shisensho-images", presets="more-tiles")


def test_output_folder_rules(tmp_path):
    spec = make_spec(configs="perception", games="2048", presets="paper", train=2, test=1)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty"):
        build_dataset(foreign, spec, workers=0, log=lambda m: None)
    with pytest.raises(DataError, match="refusing to delete"):
        build_dataset(foreign, spec, workers=0, overwrite=True, log=lambda m: None)
    with pytest.raises(DataError, match="holds no interrupted build"):
        build_dataset(foreign, spec, workers=0, resume=True, log=lambda m: None)
    assert (foreign / "notes.txt").read_text() == "mine"
    with pytest.raises(DataError, match="exclude each other"):
        build_dataset(foreign, spec, workers=0, resume=True, overwrite=True, log=lambda m: None)

    out = tmp_path / "ds"
    build_dataset(out, spec, workers=0, log=lambda m: None)
    first = _files(out)
    with pytest.raises(DataError, match="not empty"):
        build_dataset(out, spec, workers=0, log=lambda m: None)
    assert build_dataset(out, spec, workers=0, resume=True, log=lambda m: None).state == "complete"
    other = make_spec(configs="perception", games="2048", presets="paper", train=3, test=1)
    with pytest.raises(DataError, match="holds no interrupted build"):
        build_dataset(out, other, workers=0, resume=True, log=lambda m: None)
    build_dataset(out, other, workers=0, overwrite=True, log=lambda m: None)
    assert _files(out) != first and "train: 3" in (out / "README.md").read_text()


def _cli(*args, **kw):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "g1bench.cli", *args], capture_output=True, text=True, env=env, **kw)


def test_cli_reports_bad_input_with_exit_code_2(tmp_path):
    out = _cli("data", "build", str(tmp_path / "x"), "--games", "chess")
    assert out.returncode == 2 and "error: unknown game 'chess'" in out.stderr and "Traceback" not in out.stderr
    out = _cli("data", "build", str(tmp_path / "x"), "--games", "swap", "--presets", "swap:tiny")
    assert out.returncode == 2 and "unknown preset 'tiny' for swap" in out.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a").write_text("x")
    out = _cli("data", "build", str(tmp_path / "full"), "--games", "swap", "--presets", "paper")
    assert out.returncode == 2 and "is not empty" in out.stderr


KILL_ARGS = ["--configs", "perception", "--games", "2048,swap", "--presets", "paper", "--train", "600", "--test", "100",
             "--workers", "0"]


def test_kill_9_never_leaves_a_complete_looking_folder_and_resume_finishes_it(tmp_path, hf_home):
    import datasets
    import signal
    import time

    out = tmp_path / "ds"
    proc = subprocess.Popen([sys.executable, "-m", "g1bench.cli", "data", "build", str(out), *KILL_ARGS, "-q"],
                            env={**os.environ, "HF_HUB_OFFLINE": "1"}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stage = out / ".g1bench-build"
    deadline = time.time() + 60
    while time.time() < deadline and not list(stage.rglob("*.parquet")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    staged = list(stage.rglob("*.parquet"))
    assert staged, "the build finished no file before being killed"
    assert not (out / "README.md").exists()
    with pytest.raises(Exception):  # a half-written build is never a loadable dataset
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            datasets.load_dataset(str(out), "perception-2048-paper")
    staged[0].write_bytes(staged[0].read_bytes()[:100])  # and a file torn by a crash is redone
    again = _cli("data", "build", str(out), *KILL_ARGS)
    assert again.returncode == 2 and "--resume" in again.stderr
    done = _cli("data", "build", str(out), *KILL_ARGS, "--resume")
    assert done.returncode == 0, done.stderr
    assert "resuming:" in done.stderr
    clean = tmp_path / "clean"
    assert _cli("data", "build", str(clean), *KILL_ARGS).returncode == 0
    assert _files(out) == _files(clean)

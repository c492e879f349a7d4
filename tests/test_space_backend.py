"""The Space's backend (g1bench.space), without a server: play, watch, replay, recording, validation."""

from __future__ import annotations

import json
import os
import re
import stat
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import g1bench
from g1bench.eval.policies import OraclePolicy, Turn
from g1bench.space import SpaceError
from g1bench.space.frames import HIGHLIGHT_RGB, FrameStore
from g1bench.space.play import PlayBackend, parse_direction
from g1bench.space.replay import ReplayBackend, ReplaySession, check_zip, extract_zip
from g1bench.space.sessions import MAX_SEED, SessionLine, check_play_session, check_seed
from g1bench.space.settings import SpaceSettings
from g1bench.space.testing import make_run, zip_folder
from g1bench.space.text import esc
from g1bench.space.watch import WatchBackend, WatchSession, check_endpoint_address
from g1bench.testing.fake_openai import FakeOpenAIServer


@pytest.fixture
def settings(tmp_path):
    return SpaceSettings(runs_dir=tmp_path / "runs", record_dir=tmp_path / "human", work_dir=tmp_path / "work",
                         allow_private_endpoints=True, max_upload_mb=2, max_unzipped_mb=4, max_zip_files=50)


@pytest.fixture
def play(settings):
    return PlayBackend(settings, FrameStore(settings.scratch("frames")))


def env_at(game, preset, seed):
    env = g1bench.make(game, preset)
    env.reset(seed=seed)
    return env


def png_pixels(path):
    return np.asarray(Image.open(path).convert("RGB"))


# -- settings and validation ------------------------------------------------------------------------
def test_settings_from_env(tmp_path):
    s = SpaceSettings.from_env({"G1BENCH_SPACE_RUNS_DIR": "r", "G1BENCH_SPACE_MAX_UPLOAD_MB": "7",
                                "G1BENCH_SPACE_BASE_URL": "http://x/v1", "G1BENCH_SPACE_MODEL": "m",
                                "G1BENCH_SPACE_ALLOW_PRIVATE_ENDPOINTS": "yes"}, work_dir=tmp_path)
    assert (s.runs_dir, s.max_upload_mb, s.has_space_model, s.allow_private_endpoints, s.record_dir) == \
        (Path("r"), 7, True, True, None)
    assert SpaceSettings.from_env({}, work_dir=tmp_path).allow_private_endpoints is False
    assert SpaceSettings(work_dir=str(tmp_path), runs_dir="r").scratch("x") == tmp_path / "x"
    with pytest.raises(ValueError, match="G1BENCH_SPACE_MAX_UPLOAD_MB='lots' is not a number"):
        SpaceSettings.from_env({"G1BENCH_SPACE_MAX_UPLOAD_MB": "lots"}, work_dir=tmp_path)


@pytest.mark.parametrize("value,expected", [(0, 0), (7.0, 7), ("42", 42), (MAX_SEED, MAX_SEED)])
def test_seed_accepted(value, expected):
    assert check_seed(value) == expected


@pytest.mark.parametrize("value", [-1, MAX_SEED + 1, 10**30, 1e300, float("nan"), float("inf"), 2.5, "abc", None,
                                   True, "9" * 400])
def test_seed_refused(value):
    with pytest.raises(SpaceError, match="the seed must be a whole number from 0 to 4294967295"):
        check_seed(value)


def test_esc_neutralises_markdown():
    assert esc("[x](http://evil) ![i](u) <b>*a*</b> $$x$$") == r"\[x\](http://evil) \!\[i\](u) \<b\>\*a\*\</b\> \$\$x\$\$"
    assert esc("# title\nline") == r"\# title line"
    assert esc("a" * 500, limit=10) == "aaaaaaaaa…"


# -- Play: 2048 -----------------------------------------------------------------------------------------
def test_2048_moves_match_the_env_and_undo_restores(play):
    s, v = play.new_game("2048", "paper", 11)
    ref = env_at("2048", "paper", 11)
    assert v.perception == ref.game.perception_text() and v.is_2048
    assert np.array_equal(png_pixels(v.frame), ref.render())
    snapshots = [s.snapshot]
    for d, a in (("up", 0), ("left", 3), ("down", 2), ("right", 1), ("up", 0)):
        s, v = play.move(s, d)
        _, reward, *_ = ref.step(a)
        assert s.snapshot == ref.get_state() and v.perception == ref.game.perception_text()
        assert s.last_reward == reward
        snapshots.append(s.snapshot)
    assert np.array_equal(png_pixels(v.frame), ref.render())
    assert s.moves == 5
    for back in range(1, 4):
        s, v = play.undo(s)
        assert s.snapshot == snapshots[-1 - back] and s.moves == 5 - back
    assert v.message == "Undid the last move."
    # the live env handed between sessions stays at the snapshot (a fresh rebuild gives the same frame)
    s, v = play.move(s, "up")
    assert np.array_equal(png_pixels(v.frame), s.env().render())


def test_events_of_one_visitor_apply_in_turn(play):
    """Two events that start from the same (stale) state: the second applies after the first, not instead."""
    s, _ = play.new_game("2048", "paper", 12)
    ref = env_at("2048", "paper", 12)
    a, b = ref.legal_actions()[0], ref.legal_actions()[-1]
    names = ("up", "right", "down", "left")
    first, _ = play.move(s, names[a])
    second, v = play.move(s, names[b])          # gradio handed this event the state before the first move
    ref.step(a)
    ref.step(b)
    assert second.moves == 2 and second.snapshot == ref.get_state() and v.perception == ref.game.perception_text()
    # threads: 20 moves sent at once from one state all land, in some order, none lost
    import threading

    results = []
    threads = [threading.Thread(target=lambda: results.append(play.move(s, "up")[0].moves)) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(3, 23))


def test_restart_deals_the_same_board(play):
    s, _ = play.new_game("swap", "paper", 5)
    first = s.snapshot
    env = s.env()
    a = env.legal_actions()[0]
    (x0, y0, _, _), (x1, y1, _, _) = env.canvas.cell_box(*a[:2]), env.canvas.cell_box(*a[2:])
    s, _ = play.click(s, x0 + 1, y0 + 1)
    s, _ = play.click(s, x1 + 1, y1 + 1)
    assert s.snapshot != first
    s, v = play.restart(s)
    assert s.snapshot == first and s.moves == 0 and s.seed == 5
    assert v.message.startswith("New game: Swap (match-3), preset paper, seed 5.")


def test_directions_and_wrong_input(play):
    assert [parse_direction(x) for x in ("UP", "right", 2, "3")] == [0, 1, 2, 3]
    for bad in ("sideways", 4, -1, True, None):
        with pytest.raises(SpaceError, match="unknown direction"):
            parse_direction(bad)
    s, _ = play.new_game("2048", "paper", 0)
    with pytest.raises(SpaceError, match="2048 is played with the arrow buttons"):
        play.click(s, 10, 10)
    t, _ = play.new_game("shisensho", "paper", 0)
    with pytest.raises(SpaceError, match="played by clicking two tiles"):
        play.move(t, "up")
    with pytest.raises(SpaceError, match="nothing to undo"):
        play.undo(t)


@pytest.mark.parametrize("game,preset,seed,message", [
    ("chess", "paper", 0, "unknown game 'chess'"),
    ("2048", "impossible", 0, "unknown preset 'impossible' for 2048"),
    ("2048", "paper", -3, "the seed must be a whole number"),
    ("2048", "paper", 2**80, "the seed must be a whole number"),
    (None, "paper", 0, "unknown game None"),
])
def test_new_game_refuses_bad_input(play, game, preset, seed, message):
    with pytest.raises(SpaceError, match=message):
        play.new_game(game, preset, seed)


@pytest.mark.parametrize("forged,message", [
    (None, "no game in progress: press New game"),
    ({"game": "2048"}, "this session's state is not valid"),
    ("2048", "this session's state is not valid"),
])
def test_forged_sessions_are_refused(play, forged, message):
    for action in (lambda: play.move(forged, "up"), lambda: play.undo(forged), lambda: play.restart(forged),
                   lambda: play.click(forged, 1, 1)):
        with pytest.raises(SpaceError, match=message):
            action()


def test_corrupt_snapshot_is_refused_and_wrong_game_too(play):
    s, _ = play.new_game("2048", "paper", 1)
    bad = s.replace(snapshot={**s.snapshot, "board": "garbage"}, line=SessionLine())
    with pytest.raises(SpaceError, match="this session's saved game cannot be restored"):
        play.move(bad, "up")
    other, _ = play.new_game("swap", "paper", 1)
    mixed = s.replace(snapshot=other.snapshot, line=SessionLine())
    with pytest.raises(SpaceError, match="saved game is not valid"):
        play.move(mixed, "up")
    stale = s.replace(format="g1bench-space-play/0", line=SessionLine())
    with pytest.raises(SpaceError, match="older version"):
        check_play_session(stale)
    # the good session still works: a refused event changed nothing
    s2, _ = play.move(s, "up")
    assert s2.moves == 1 and s.moves == 0


# -- Play: tile games -----------------------------------------------------------------------------------
@pytest.mark.parametrize("game", ["shisensho", "shisensho-images", "swap"])
def test_two_clicks_play_a_pair_like_the_env(play, game):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the natural-image game substitutes the bundled tiles offline
        s, _ = play.new_game(game, "paper", 3)
        ref = g1bench.make_from_state(s.snapshot)
    action = ref.legal_actions()[0]
    box1, box2 = ref.canvas.cell_box(*action[:2]), ref.canvas.cell_box(*action[2:])
    s, v = play.click(s, box1[0] + 2, box1[3] - 2)
    assert s.selected == action[:2] and v.message.startswith(f"Selected {action[:2]}")
    frame = png_pixels(v.frame)
    x0, y0, x1, y1 = box1
    assert tuple(frame[y0, x0]) == HIGHLIGHT_RGB and tuple(frame[y1 - 1, x1 - 1]) == HIGHLIGHT_RGB
    changed = np.argwhere((frame != ref.render()).any(axis=2))   # the highlight, and nothing outside the tile
    assert len(changed) and changed[:, 0].min() >= y0 and changed[:, 0].max() < y1
    assert changed[:, 1].min() >= x0 and changed[:, 1].max() < x1
    s, v = play.click(s, (box2[0] + box2[2]) / 2, (box2[1] + box2[3]) / 2)
    _, reward, *_ = ref.step(action)
    assert reward == 1.0 and s.last_reward == 1.0 and s.selected is None
    assert s.snapshot == ref.get_state()
    assert np.array_equal(png_pixels(v.frame), ref.render())
    done = {"swap": "made a line"}.get(game, "pair removed")
    assert v.message.startswith(f"{action[:2]} with {action[2:]}: {done}")


def test_refused_pair_and_click_rules(play):
    s, _ = play.new_game("shisensho", "paper", 0)
    env = s.env()
    cells = [(r, c) for r in range(6) for c in range(6)]
    legal = {frozenset([(a[0], a[1]), (a[2], a[3])]) for a in env.legal_actions()}
    kinds = env.game.cell_keys()
    bad = next((p, q) for p in cells for q in cells
               if p < q and kinds[p] != kinds[q] and frozenset([p, q]) not in legal)
    b1, b2 = env.canvas.cell_box(*bad[0]), env.canvas.cell_box(*bad[1])
    s, _ = play.click(s, b1[0] + 5, b1[1] + 5)
    before = s.snapshot
    s, v = play.click(s, b2[0] + 5, b2[1] + 5)
    assert v.message.startswith(f"{bad[0]} with {bad[1]}: refused (tiles differ") and v.message.endswith("Reward -1.")
    assert s.last_reward == -1.0 and s.snapshot["board"] == before["board"]
    # same tile twice deselects; clicks off the board are refused with a message
    s, _ = play.click(s, b1[0] + 5, b1[1] + 5)
    s, v = play.click(s, b1[0] + 5, b1[1] + 5)
    assert s.selected is None and v.message == f"Deselected {bad[0]}."
    w, h = env.canvas.size
    for x, y in ((w - 1, h - 1), (-5, 10), (10, 10**7), (float("nan"), 3)):
        with pytest.raises(SpaceError):
            play.click(s, x, y)
    with pytest.raises(SpaceError, match="that click is outside the board"):
        play.click(s, 10, h - 2)   # the status bar
    with pytest.raises(SpaceError, match="coordinate must be a number"):
        play.click(s, "10", 10)


def test_empty_cell_and_game_over(play):
    s, _ = play.new_game("shisensho", "paper", 0)
    env = s.env()
    # play the oracle to the end of the game
    oracle = OraclePolicy()
    while not s.over:
        a = env.game.parse_answer(oracle.best_answer(s.snapshot))
        b1, b2 = env.canvas.cell_box(*a[:2]), env.canvas.cell_box(*a[2:])
        s, _ = play.click(s, b1[0] + 3, b1[1] + 3)
        s, v = play.click(s, b2[0] + 3, b2[1] + 3)
        env = s.env()
    assert "Game over: score" in v.message and v.status.startswith("### Game over")
    with pytest.raises(SpaceError, match="the game is over"):
        play.click(s, 3, 3)
    s, _ = play.undo(s)
    assert not s.over
    empty = next((r, c) for r in range(6) for c in range(6) if env.game.cell_keys()[r, c] == 0)
    box = env.canvas.cell_box(*empty)
    with pytest.raises(SpaceError, match=re.escape(f"cell {empty} is empty: click on a tile")):
        play.click(s, box[0] + 3, box[1] + 3)


# -- recording ------------------------------------------------------------------------------------------
def test_recorded_games_form_an_episodes_dataset(play, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    s, _ = play.new_game("2048", "paper", 4, record=True)
    ref = env_at("2048", "paper", 4)
    frames = []
    for d, a in (("up", 0), ("left", 3), ("down", 2)):
        frames.append(ref.render())
        s, _ = play.move(s, d)
        ref.step(a)
    s, _ = play.undo(s)            # undone moves are left out; the game is marked human-undo
    s, v = play.new_game("swap", "paper", 1, record=True, previous=s)
    assert v.message.startswith("Your game was recorded, thank you.")
    s2, _ = play.new_game("2048", "paper", 9, record=True)
    s2, _ = play.move(s2, "up")
    play.new_game("2048", "paper", 9, record=False, previous=s2)
    from datasets import load_dataset

    ds = load_dataset(str(settings.record_dir), "episodes-2048", split="train")
    assert ds.num_rows == 3
    first = [r for r in ds if r["seed"] == 4]
    assert [r["answer"] for r in first] == ["<answer>0</answer>", "<answer>3</answer>"]
    assert [r["action"] for r in first] == [[0], [3]] and all(r["policy"] == "human-undo" for r in first)
    assert np.array_equal(np.asarray(first[0]["frame"]), frames[0]) and np.array_equal(np.asarray(first[1]["frame"]), frames[1])
    assert first[-1]["done"] and first[0]["prompt"] == ref.prompt and first[0]["latency_s"] >= 0
    other = [r for r in ds if r["seed"] == 9]
    assert [r["policy"] for r in other] == ["human"] and other[0]["episode_id"].startswith("human/2048/paper/")
    card = (settings.record_dir / "README.md").read_text()
    assert "config_name: episodes-2048" in card and "2 game(s)" in card


def test_recording_opt_in_rules(play, tmp_path):
    s, _ = play.new_game("2048", "paper", 0)
    s, _ = play.move(s, "up")
    s, msg = play.set_record(s, True)
    assert s.record and not s.recording and msg.startswith("Recording is on from your next game")
    s, _ = play.move(s, "left")
    assert s.recorded == []
    s, _ = play.restart(s)
    assert s.recording
    s, _ = play.move(s, "left")
    s, msg = play.set_record(s, False)
    assert s.recorded == [] and msg == "Recording is off: this game will not be saved."
    no_rec = PlayBackend(SpaceSettings(work_dir=tmp_path / "w2"), play.frames)
    with pytest.raises(SpaceError, match="recording is not enabled on this Space"):
        no_rec.new_game("2048", "paper", 0, record=True)
    with pytest.raises(SpaceError, match="recording is not enabled on this Space"):
        no_rec.set_record(None, True)


# -- Watch ----------------------------------------------------------------------------------------------
def test_watch_oracle_plays_the_oracle_moves(settings):
    wb = WatchBackend(settings, FrameStore(settings.scratch("frames")))
    s, v = wb.start("shisensho", "paper", 2, "oracle")
    ref = env_at("shisensho", "paper", 2)
    oracle = OraclePolicy()
    for step in range(1, 6):
        answer = oracle.act([Turn("shisensho", None, ref.prompt, ref.get_state(), "w", step)])[0].text
        _, reward, *_ = ref.step(answer)
        s, v = wb.step(s)
        assert s.snapshot == ref.get_state() and v.answer == answer
        assert v.log[0][:3] == [step, answer[len("<answer>"):-len("</answer>")], f"{reward:+.0f}"]
    assert np.array_equal(png_pixels(v.frame), ref.render())
    assert "**Step** 5 / 100" in v.status and len(v.log) == 5


def test_watch_visitor_endpoint_key_stays_secret(settings):
    wb = WatchBackend(settings, FrameStore(settings.scratch("frames")))
    key = "sk-visitor-secret-123"
    reply = "<perception>board</perception><think>slide up</think><answer>0</answer>"
    with FakeOpenAIServer(reply=lambda body: reply, echo_auth=True) as srv:
        s, v = wb.start("2048", "paper", 0, "own-endpoint", srv.base_url, "fake-model", key)
        s, v = wb.step(s)
        assert (v.perception, v.think, v.answer) == ("board", "slide up", reply)
        assert srv.chat_requests()[-1]["headers"]["Authorization"] == f"Bearer {key}"
        assert key not in repr(s) and key not in repr(s.endpoint)
        assert key not in json.dumps([v.status, v.action, v.log, v.answer])
    with FakeOpenAIServer(script=[401], echo_auth=True) as srv:
        s, _ = wb.start("2048", "paper", 0, "own-endpoint", srv.base_url, "fake-model", key)
        with pytest.raises(SpaceError) as e:
            wb.step(s)
        assert "HTTP 401" in str(e.value) and key not in str(e.value) and "***" in str(e.value)


def test_watch_sends_the_model_the_presets_model_frame(tmp_path, monkeypatch):
    """A model watched in the Space gets what `g1bench eval` gives it: G1's 640 x 840 frame on 2048's paper preset,
    byte for byte the env's model observation (people still see the native frame)."""
    import base64
    import io

    with FakeOpenAIServer() as srv:
        monkeypatch.setenv("MY_SPACE_SECRET", "sk-space")
        st = SpaceSettings(work_dir=tmp_path, model_base_url=srv.base_url, model_name="served",
                           model_api_key_env="MY_SPACE_SECRET")
        wb = WatchBackend(st, FrameStore(st.scratch("frames")))
        s, v = wb.start("2048", "paper", 4, "space-model")
        ref = g1bench.make("2048", "paper")
        ref.reset(seed=4)
        s, v = wb.step(s)
        content = srv.chat_requests()[-1]["json"]["messages"][-1]["content"]
        url = next(part["image_url"]["url"] for part in content if part["type"] == "image_url")
        sent = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
    assert sent.shape == (840, 640, 3) and np.array_equal(sent, ref.model_observation())
    assert png_pixels(v.frame).shape[:2] == ref.render().shape[:2] != (840, 640)


def test_watch_never_sends_the_space_key_to_a_visitor_endpoint(settings, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-space-own-key")
    monkeypatch.setenv("G1BENCH_SPACE_API_KEY", "sk-space-own-key")
    wb = WatchBackend(settings, FrameStore(settings.scratch("frames")))
    with FakeOpenAIServer() as srv:
        s, _ = wb.start("2048", "paper", 0, "own-endpoint", srv.base_url, "fake-model", "")
        wb.step(s)
        assert all("Authorization" not in r["headers"] for r in srv.requests)


def test_watch_space_model_reads_its_secret(tmp_path, monkeypatch):
    with FakeOpenAIServer() as srv:
        monkeypatch.setenv("MY_SPACE_SECRET", "sk-space")
        st = SpaceSettings(work_dir=tmp_path, model_base_url=srv.base_url, model_name="served",
                           model_api_key_env="MY_SPACE_SECRET")
        wb = WatchBackend(st, FrameStore(st.scratch("frames")))
        s, v = wb.start("2048", "paper", 0, "space-model")
        s, v = wb.step(s)
        req = srv.chat_requests()[-1]
        assert req["headers"]["Authorization"] == "Bearer sk-space" and req["json"]["model"] == "served"
    no_model = WatchBackend(SpaceSettings(work_dir=tmp_path / "b"), wb.frames)
    with pytest.raises(SpaceError, match="this Space has no model endpoint configured"):
        no_model.start("2048", "paper", 0, "space-model")


@pytest.mark.parametrize("url,message", [
    ("http://127.0.0.1:9/v1", "is a local or private address"),
    ("http://10.1.2.3/v1", "is a local or private address"),
    ("http://169.254.169.254/latest", "is a local or private address"),
    ("http://[::1]:8000/v1", "is a local or private address"),
    ("ftp://example.com", r"must be an http\(s\) URL"),
    ("http://user:pw@example.com/v1", "put the key in the key box"),
    ("", "give your endpoint's base URL"),
])
def test_watch_refuses_bad_endpoints(tmp_path, url, message):
    wb = WatchBackend(SpaceSettings(work_dir=tmp_path), FrameStore(tmp_path / "f"))
    with pytest.raises(SpaceError, match=message):
        wb.start("2048", "paper", 0, "own-endpoint", url, "m", "k")


def test_watch_input_validation(settings):
    wb = WatchBackend(settings, FrameStore(settings.scratch("frames")))
    with pytest.raises(SpaceError, match="unknown player 'magic'"):
        wb.start("2048", "paper", 0, "magic")
    with pytest.raises(SpaceError, match="nothing to watch yet"):
        wb.step(None)
    with pytest.raises(SpaceError, match="the API key must be one line"):
        wb.start("2048", "paper", 0, "own-endpoint", "http://127.0.0.1:9/v1", "m", "two\nlines")
    s, _ = wb.start("2048", "paper", 0, "random")
    forged = WatchSession(**{**s.__dict__, "player": "evil"})
    with pytest.raises(SpaceError, match="player is not valid"):
        wb.step(forged)
    check_endpoint_address("http://127.0.0.1/v1", allow_private=True)  # allowed locally


# -- Replay ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("runs") / "oracle-small")


def test_replay_steps_through_a_run(settings, small_run):
    import shutil

    from g1bench.eval.runner import load_episodes

    shutil.copytree(small_run, settings.runs_dir / "oracle-small")
    rb = ReplayBackend(settings, FrameStore(settings.scratch("frames")))
    assert rb.list_runs() == ["oracle-small"]
    s, v = rb.open_run("oracle-small")
    episodes = load_episodes(small_run)
    assert [c[1] for c in v.episode_choices] == [e["episode_id"] for e in episodes]
    ep = episodes[1]
    s, v = rb.select_episode(s, ep["episode_id"])
    for i in (0, 3, len(ep["steps"]) - 1):
        s, v = rb.goto(s, i)
        step = ep["steps"][i]
        assert v.answer == step["answer"] and v.index == i
        assert (small_run / "frames" / f"{step['frame']}.png").read_bytes() == Path(v.frame).read_bytes()
    s, v = rb.goto(s, 999)
    assert v.index == len(ep["steps"]) - 1
    s, v = rb.shift(s, -1)
    assert v.index == len(ep["steps"]) - 2
    gif = Image.open(rb.gif(s))
    assert gif.n_frames == len(ep["steps"])
    gif.seek(2)
    first_frame = (small_run / "frames" / f"{ep['steps'][2]['frame']}.png")
    assert gif.convert("RGB").size == Image.open(first_frame).size
    with pytest.raises(SpaceError, match="no run called '../etc'"):
        rb.open_run("../etc")
    with pytest.raises(SpaceError, match="this run has no episode"):
        rb.select_episode(s, "nope")
    with pytest.raises(SpaceError, match="no run open"):
        rb.goto(None, 1)
    gone = ReplaySession(**{**s.__dict__, "run_path": str(settings.work_dir / "missing")})
    with pytest.raises(SpaceError, match="this run is no longer available"):
        rb.shift(gone, 1)


def test_a_gif_is_one_episode_made_once_in_the_worker(settings, small_run, monkeypatch):
    """Only the episode asked for is encoded, once: asking again (or at the same time) gets the same file."""
    import shutil
    import threading

    import g1bench.eval.gifs as gifs
    from g1bench.eval.runner import load_episodes

    shutil.copytree(small_run, settings.runs_dir / "oracle-small")
    rb = ReplayBackend(settings, FrameStore(settings.scratch("frames")))
    calls, gate = [], threading.Event()
    real = gifs.write_gif

    def counted(frames_dir, path, ids, duration_ms):
        calls.append((threading.current_thread().name, list(ids)))
        gate.wait(10)
        return real(frames_dir, path, ids, duration_ms)

    monkeypatch.setattr(gifs, "write_gif", counted)
    s, _ = rb.open_run("oracle-small")
    ep = load_episodes(small_run)[0]
    out: list[str] = []
    asks = [threading.Thread(target=lambda: out.append(rb.gif(s))) for _ in range(3)]
    for t in asks:
        t.start()
    threading.Event().wait(0.3)
    gate.set()
    for t in asks:
        t.join(30)
    assert len(out) == 3 and len(set(out)) == 1 and len(calls) == 1   # three visitors, one encoding
    assert calls[0][0].startswith("g1bench-gif") and calls[0][1] == [x["frame"] for x in ep["steps"]]
    before = os.stat(out[0]).st_mtime_ns
    assert rb.gif(s) == out[0] and os.stat(out[0]).st_mtime_ns == before and len(calls) == 1   # kept, not made again
    s2, _ = rb.select_episode(s, load_episodes(small_run)[1]["episode_id"])
    assert rb.gif(s2) != out[0] and len(calls) == 2   # another episode: its own GIF


def test_paths_of_the_server_are_hidden_from_visitors(tmp_path):
    from g1bench.space.text import PathScrubber

    store = tmp_path / "my_store"
    scrub = PathScrubber([(store, "[results store]"), (tmp_path, "[Space files]"), ("/", "[root]")])
    assert scrub(f"cannot read {store}/entries/x/run.json: denied") == "cannot read [results store]: denied"
    assert scrub(f"in {tmp_path}/work/submissions/abc/zip/run") == "in [Space files]"
    assert scrub(f"see file://{store}/entries/x") == "see [a file on the server]"
    assert scrub(esc(f"{store}/entries")) == "[results store]"   # as it reads inside escaped Markdown
    assert scrub("a/b and /etc/passwd stay: they are not the Space's") == "a/b and /etc/passwd stay: they are not the Space's"
    assert scrub(f"{store}x is in the Space's folder") == "[Space files] is in the Space's folder"
    only = PathScrubber([(store, "[results store]")])
    assert only(f"{store}x is another folder") == f"{store}x is another folder"
    settings = SpaceSettings(results_store=str(store), runs_dir=tmp_path / "runs", work_dir=tmp_path / "w")
    labels = dict((str(p), label) for p, label in settings.private_folders())
    assert labels[str(store)] == "[results store]" and labels[str(tmp_path / "runs")] == "[runs folder]"
    assert str(Path.home()) in labels and labels[str(Path.home())] == "[home]"


def test_the_about_tab_cites_links_and_names_the_suites_of_this_g1bench(tmp_path):
    from g1bench.eval.suites import get_suite
    from g1bench.space.about import G1_BIBTEX, about_text, rule_line

    settings = SpaceSettings(work_dir=tmp_path, datasets_repo="org/g1bench-data")
    text = about_text(settings, "org/g1bench-results", "https://hub.example")
    assert f"## The paper protocol (suite `{get_suite('paper').suite_id}`)" in text
    assert G1_BIBTEX in text and "@software{g1bench," in text and f"version = {{{g1bench.__version__}}}" in text
    assert "[org/g1bench-results](https://hub.example/datasets/org/g1bench-results)" in text
    assert "[org/g1bench-data](https://hub.example/datasets/org/g1bench-data)" in text
    assert "[https://github.com/g1bench/g1bench](https://github.com/g1bench/g1bench)" in text
    assert "g1bench push runs/qwen --repo org/g1bench-results" in text
    assert "Results dataset**: this Space keeps its results in a folder of its own" in about_text(
        SpaceSettings(work_dir=tmp_path), None)
    assert {g: rule_line(g).split("**")[1] for g in g1bench.list_games()} == {
        "2048": "2048", "shisensho": "Shisen-Sho", "shisensho-images": "Shisen-Sho (natural images)",
        "swap": "Swap (match-3)"}


def test_replay_upload_opens_and_cleans_up(settings, small_run, tmp_path):
    rb = ReplayBackend(settings, FrameStore(settings.scratch("frames")))
    z = zip_folder(small_run, tmp_path / "run.zip")
    s, v = rb.open_upload(str(z))
    assert v.info.startswith("**upload: run.zip**") and Path(s.upload_dir).is_dir()
    s2, _ = rb.open_upload(str(zip_folder(small_run, tmp_path / "flat.zip", prefix="")), previous=s)
    assert not Path(s.upload_dir).exists() and Path(s2.upload_dir).is_dir()
    gif = Path(rb.gif(s2))
    assert gif.is_file()
    rb.discard(s2)
    assert not Path(s2.upload_dir).exists() and not gif.exists()


def _zip(path, entries, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            info.compress_type = compression
            zf.writestr(info, data)
    return path


@pytest.mark.parametrize("entries,message", [
    ([("../evil.json", b"{}", 0o100644)], "a path that leaves its folder"),
    ([("run/../../evil.json", b"{}", 0o100644)], "a path that leaves its folder"),
    ([("/etc/evil.json", b"{}", 0o100644)], "an absolute path"),
    ([("C:/evil.json", b"{}", 0o100644)], "an absolute path"),
    ([("run/frames", b"/etc", stat.S_IFLNK | 0o777)], "holds a link"),
    ([("run/fifo", b"", stat.S_IFIFO | 0o644)], "a special file"),
    ([("a.json", b"{}", 0o100644), ("A.json", b"{}", 0o100644)], "the same path twice"),
    ([("bomb.json", b"0" * (3 * 1024 * 1024), 0o100644)], "compressed more than 200x"),
    ([(f"f{i}.json", b"{}", 0o100644) for i in range(60)], "holds 60 entries; the limit is 50"),
    ([(f"big{i}.json", os.urandom(1024 * 1024), 0o100644) for i in range(5)], "the zip is"),
])
def test_malicious_zips_are_refused(settings, tmp_path, entries, message):
    z = _zip(tmp_path / "bad.zip", entries, zipfile.ZIP_STORED if "big0.json" in entries[0][0] else zipfile.ZIP_DEFLATED)
    with pytest.raises(SpaceError, match=message):
        check_zip(z, settings)
    dest = tmp_path / "out"
    with pytest.raises(SpaceError):
        extract_zip(z, dest, settings)
    assert not dest.exists() and not (tmp_path / "evil.json").exists()


def test_unpacked_size_limit_and_non_zips(settings, tmp_path):
    # 3 entries of 1.6 MB over a 4-letter alphabet (~4x compression each): a 1.3 MB zip that unpacks to 4.8 MB
    data = np.random.default_rng(0).choice(np.frombuffer(b"ACGT", np.uint8), 1_600_000).tobytes()
    z = _zip(tmp_path / "wide.zip", [(f"x{i}.json", data, 0o100644) for i in range(3)])
    assert z.stat().st_size < settings.max_upload_bytes
    with pytest.raises(SpaceError, match="unpacks to more than 4 MB"):
        check_zip(z, settings)
    (tmp_path / "not.zip").write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(SpaceError, match="not a zip file"):
        check_zip(tmp_path / "not.zip", settings)
    huge = tmp_path / "huge.zip"
    with open(huge, "wb") as f:  # a sparse 1 GB file: refused on its size before it is read
        f.truncate(1024**3)
    with pytest.raises(SpaceError, match="the zip is 1024.0 MB; the limit is 2 MB"):
        check_zip(huge, settings)


def test_zip_lying_about_its_sizes_is_stopped(settings, tmp_path):
    z = _zip(tmp_path / "lie.zip", [("run/a.json", b"x" * 4096, 0o100644)], zipfile.ZIP_STORED)
    raw = bytearray(z.read_bytes())
    # shrink the declared size in the central directory: the copy stops at the declared size and the
    # entry's checksum no longer matches
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24: cd + 28] = (16).to_bytes(4, "little")
    z.write_bytes(bytes(raw))
    with pytest.raises(SpaceError):
        extract_zip(z, tmp_path / "out", settings)
    assert not (tmp_path / "out").exists()


def test_zip_with_only_junk_or_forged_frame_ids(settings, small_run, tmp_path):
    rb = ReplayBackend(settings, FrameStore(settings.scratch("frames")))
    junk = _zip(tmp_path / "junk.zip", [("x/readme.txt", b"hello", 0o100644), ("x/run.exe", b"MZ", 0o100755)])
    with pytest.raises(SpaceError, match="holds no g1bench run folder"):
        rb.open_upload(str(junk))
    # a run whose step log points a frame outside frames/
    import shutil

    forged = tmp_path / "forged"
    shutil.copytree(small_run, forged)
    log = next(p for p in forged.iterdir() if p.suffix == ".jsonl")
    lines = log.read_text().splitlines()
    rec = json.loads(lines[0])
    rec["frame"] = "../../../../etc/passwd"
    lines[0] = json.dumps(rec)
    log.write_text("\n".join(lines) + "\n")
    with pytest.raises(SpaceError, match="names a frame that is not a plain id"):
        rb.open_upload(str(zip_folder(forged, tmp_path / "forged.zip")))
    assert list(settings.scratch("uploads").iterdir()) == []   # nothing left behind

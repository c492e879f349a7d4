"""Every event handler of the Space through its HTTP API (gradio_client), against the app on 127.0.0.1.

The app is started by the test (``demo.queue().launch(server_name="127.0.0.1", ...)``) with temporary
folders and a copy of a small results store of real runs (tests/test_space_leaderboard.py); visitors are
separate ``gradio_client.Client`` sessions. The Hub-backed store and deploy: tests/test_space_hub.py.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

import g1bench  # noqa: E402
from g1bench.eval.policies import OraclePolicy, Turn  # noqa: E402
from g1bench.eval.runner import load_episodes  # noqa: E402
from g1bench.space.board import fmt, read_table  # noqa: E402
from g1bench.space.settings import SpaceSettings  # noqa: E402
from g1bench.space.testing import make_run, serve, zip_folder  # noqa: E402
from g1bench.testing.fake_openai import FakeOpenAIServer  # noqa: E402

from test_space_leaderboard import shared_cache, store_copy, template_store  # noqa: E402

ERR = "⚠️ "


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    root = tmp_path_factory.mktemp("space")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADIO_TEMP_DIR", str(root / "gradio"))
        mp.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        mp.setenv("G1BENCH_CACHE_DIR", str(shared_cache()))
        make_run(root / "runs" / "oracle-small")
        settings = SpaceSettings(runs_dir=root / "runs", record_dir=root / "human", work_dir=root / "work",
                                 allow_private_endpoints=True, max_upload_mb=1, max_unzipped_mb=8, max_zip_files=500,
                                 visitor_step_limit_s=2.0,
                                 results_store=str(store_copy(root / "store")), demo_store=None,
                                 accept_local_submissions=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with serve(settings) as (demo, url):
                yield {"url": url, "settings": settings, "root": root, "demo": demo}


@pytest.fixture
def client(space, tmp_path):
    return gradio_client.Client(space["url"], verbose=False, download_files=str(tmp_path / "dl"), ssl_verify=False)


def pixels(path):
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def env_at(game, preset, seed):
    env = g1bench.make(game, preset)
    env.reset(seed=seed)
    return env


# Play outputs as the client sees them: frame, status, message, perception, prompt, the game's rule, the model's
# frame and its note (the state and the arrows' row are not data)
FRAME, STATUS, MESSAGE, PERCEPTION, PROMPT, RULE, MODEL_FRAME, MODEL_NOTE = range(8)


# -- Play -------------------------------------------------------------------------------------------------
def test_play_2048_buttons_undo_restart(client):
    ref = env_at("2048", "paper", 21)
    out = client.predict("2048", "paper", 21, False, True, api_name="/play_new")
    assert out[PERCEPTION] == ref.game.perception_text() and out[PROMPT] == ref.prompt
    assert np.array_equal(pixels(out[FRAME]), ref.render())
    states = [ref.get_state()]
    for name, action in (("up", 0), ("right", 1), ("down", 2), ("left", 3)):
        out = client.predict(True, api_name=f"/play_{name}")
        ref.step(action)
        states.append(ref.get_state())
        assert out[PERCEPTION] == ref.game.perception_text()
        assert out[MESSAGE].startswith(name.capitalize() + ":")
    assert np.array_equal(pixels(out[FRAME]), ref.render())
    assert "**Moves** 4" in out[STATUS]
    out = client.predict(True, api_name="/play_undo")
    assert out[MESSAGE] == "Undid the last move." and "**Moves** 3" in out[STATUS]
    assert out[PERCEPTION] == g1bench.make_from_state(states[3]).game.perception_text()
    out = client.predict(True, api_name="/play_restart")
    assert out[PERCEPTION] == env_at("2048", "paper", 21).game.perception_text() and "**Moves** 0" in out[STATUS]
    # hidden model view: perception and prompt are not sent
    out = client.predict(False, api_name="/play_up")
    assert out[PERCEPTION] == out[PROMPT] == {"__type__": "update"}


def test_play_tile_clicks_pair_and_refusal(client):
    ref = env_at("shisensho", "paper", 4)
    client.predict("shisensho", "paper", 4, False, True, api_name="/play_new")
    a = ref.legal_actions()[0]
    b1, b2 = ref.canvas.cell_box(*a[:2]), ref.canvas.cell_box(*a[2:])
    out = client.predict(True, b1[0] + 4, b1[1] + 4, api_name="/play_click")
    assert out[MESSAGE].startswith(f"Selected {a[:2]}")
    out = client.predict(True, b2[0] + 4, b2[1] + 4, api_name="/play_click")
    ref.step(a)
    assert out[MESSAGE].startswith(f"{a[:2]} with {a[2:]}: pair removed") and out[PERCEPTION] == ref.game.perception_text()
    # a pair that does not match is refused and changes nothing
    kinds = ref.game.cell_keys()
    p, q = next(((r1, c1), (r2, c2)) for r1 in range(6) for c1 in range(6) for r2 in range(6) for c2 in range(6)
                if kinds[r1, c1] and kinds[r2, c2] and kinds[r1, c1] != kinds[r2, c2])
    for cell in (p, q):
        box = ref.canvas.cell_box(*cell)
        out = client.predict(True, box[0] + 4, box[1] + 4, api_name="/play_click")
    assert "refused (tiles differ" in out[MESSAGE] and out[PERCEPTION] == ref.game.perception_text()
    # outside the board: a message, nothing else changes
    w, h = ref.canvas.size
    out = client.predict(True, w + 50, 3, api_name="/play_click")
    assert out[MESSAGE] == ERR + "that click is outside the board: click on a tile"
    assert out[FRAME] == out[STATUS] == {"__type__": "update"}


def _raw_event(url: str, session: str, api_name: str, data: list, event_data=None, ok: bool = True):
    """One event through gradio's queue protocol by hand (gradio_client cannot send a select event's data,
    nor a forged file reference)."""
    import httpx

    cfg = httpx.get(url + "config").json()
    dep = next(d for d in cfg["dependencies"] if d.get("api_name") == api_name)
    body = {"data": data, "fn_index": dep["id"], "session_hash": session, "event_data": event_data,
            "trigger_id": dep["targets"][0][0]}
    httpx.post(url + "gradio_api/queue/join", json=body).raise_for_status()
    with httpx.stream("GET", url + "gradio_api/queue/data", params={"session_hash": session}, timeout=30) as r:
        for line in r.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    assert msg["success"] is ok, msg
                    return msg["output"].get("data")
    raise AssertionError("no reply")


def test_play_select_event_maps_pixels_to_cells(space):
    """The browser sends image clicks as a select event with pixel coordinates in the frame."""
    url, session = space["url"], uuid.uuid4().hex
    ref = env_at("swap", "paper", 8)
    _raw_event(url, session, "play_new", ["swap", "paper", 8, False, True, None])
    a = ref.legal_actions()[0]
    b1, b2 = ref.canvas.cell_box(*a[:2]), ref.canvas.cell_box(*a[2:])
    out = _raw_event(url, session, "play_select", [None, True], {"index": [b1[0] + 10, b1[1] + 10], "value": None})
    assert out[3].startswith(f"Selected {a[:2]}")
    out = _raw_event(url, session, "play_select", [None, True], {"index": [b2[2] - 3, b2[3] - 3], "value": None})
    ref.step(a)
    assert out[3].startswith(f"{a[:2]} with {a[2:]}: made a line") and out[4] == ref.game.perception_text()
    out = _raw_event(url, session, "play_select", [None, True], {"index": "nonsense", "value": None})
    assert out[3] == ERR + "click on a tile of the board"


@pytest.mark.parametrize("args,message", [
    (("chess", "paper", 0), "unknown game 'chess'"),
    (("2048", "nightmare", 0), "unknown preset 'nightmare' for 2048"),
    (("2048", "paper", 10**20), "the seed must be a whole number from 0 to 4294967295"),
    (("2048", "paper", -1), "the seed must be a whole number from 0 to 4294967295"),
])
def test_play_new_refuses_bad_input(client, args, message):
    out = client.predict(*args, False, True, api_name="/play_new")
    assert out[MESSAGE].startswith(ERR) and message in out[MESSAGE]


def test_play_without_a_game_and_side_controls(client, space):
    out = client.predict(True, api_name="/play_up")
    assert out[MESSAGE] == ERR + "no game in progress: press New game"
    out = client.predict(True, api_name="/play_undo")
    assert out[MESSAGE] == ERR + "no game in progress: press New game"
    seed = client.predict(api_name="/play_random_seed")
    assert isinstance(seed, (int, float)) and 0 <= seed <= 2**32 - 1
    client.predict("2048", "paper", 3, False, False, api_name="/play_new")
    shown = client.predict(True, api_name="/play_show_model")
    ref = env_at("2048", "paper", 3)
    assert shown[:2] == (ref.game.perception_text(), ref.prompt)
    # the frame a model gets: G1's 640 x 840 resize of the native frame, with its size and image tokens
    assert np.array_equal(pixels(shown[2]), ref.model_observation()) and pixels(shown[2]).shape == (840, 640, 3)
    w, h = ref.canvas.size
    assert shown[3] == (f"The frame a model gets: 640 x 840 px, resized from {w} x {h} (bicubic); 690 image tokens "
                        "for Qwen2.5-VL (14 px patches, 2 x 2 merge).")
    out = client.predict(True, api_name="/play_up")   # while shown, every move sends the model's frame along
    ref.step(0)
    assert out[PERCEPTION] == ref.game.perception_text() and np.array_equal(pixels(out[MODEL_FRAME]),
                                                                            ref.model_observation())


def test_opening_the_page_and_choosing_a_game_or_preset_deal_it(client):
    """Play never shows an empty board or a board of another game than the one chosen."""
    out = client.predict("2048", "paper", 9, False, False, api_name="/play_open")   # what the page load does
    ref = env_at("2048", "paper", 9)
    assert np.array_equal(pixels(out[FRAME]), ref.render()) and out[RULE].startswith("**2048**: Slide every tile")
    assert out[MESSAGE].startswith("New game: 2048, preset paper, seed 9.")
    again = client.predict("2048", "paper", 9, False, False, api_name="/play_open")   # a game is there: kept
    assert again == tuple({"__type__": "update"} for _ in range(8))
    # choosing a game deals it at its paper preset, and the preset list follows
    out = client.predict("swap", 9, False, True, api_name="/play_game_changed")
    ref = env_at("swap", "paper", 9)
    assert np.array_equal(pixels(out[FRAME]), ref.render()) and out[PERCEPTION] == ref.game.perception_text()
    assert out[RULE].startswith("**Swap (match-3)**: Swap two neighbouring tiles")
    assert out[-1]["choices"] == [[p, p] for p in g1bench.list_presets("swap")] and out[-1]["value"] == "paper"
    # choosing a preset deals it
    out = client.predict("swap", "more-kinds", 9, False, True, api_name="/play_preset_changed")
    assert out[PERCEPTION] == env_at("swap", "more-kinds", 9).game.perception_text()
    assert out[MESSAGE].startswith("New game: Swap (match-3), preset more-kinds, seed 9.")
    assert client.predict("tetris", 9, False, True, api_name="/play_game_changed")[MESSAGE] == ERR + "unknown game 'tetris'"
    # a dropdown dismissed without a choice changes nothing
    assert client.predict(None, 9, False, True, api_name="/play_game_changed") == tuple(
        {"__type__": "update"} for _ in range(9))


def test_play_recording_through_the_api(client, space):
    assert client.predict(True, api_name="/play_record")[0] == "Recording is on: your games will be saved from the next New game."
    client.predict("2048", "paper", 77, True, True, api_name="/play_new")
    for name in ("up", "left", "down"):
        client.predict(True, api_name=f"/play_{name}")
    out = client.predict(True, api_name="/play_restart")
    assert out[MESSAGE].startswith("Your game was recorded, thank you.")
    files = list((space["settings"].record_dir / "episodes-2048").glob("*.parquet"))
    import pyarrow.parquet as pq

    rows = [r for f in files for r in pq.read_table(f).to_pylist() if r["seed"] == 77]
    assert [r["answer"] for r in rows] == ["<answer>0</answer>", "<answer>3</answer>", "<answer>2</answer>"]


def test_sessions_do_not_leak(space, tmp_path):
    """Two visitors moving in turns on different seeds: each board is exactly what its own moves give."""
    url = space["url"]
    clients = [gradio_client.Client(url, verbose=False, download_files=False, ssl_verify=False) for _ in range(3)]
    refs = [env_at("2048", "paper", 100 + i) for i in range(3)]
    for i, c in enumerate(clients):
        c.predict("2048", "paper", 100 + i, False, True, api_name="/play_new")
    rng = np.random.default_rng(0)
    errors = []

    def play(i):
        for _ in range(6):
            a = int(rng.integers(4)) if i == 0 else (i + _) % 4
            out = clients[i].predict(True, api_name=f"/play_{('up', 'right', 'down', 'left')[a]}")
            refs[i].step(a)
            if out[PERCEPTION] != refs[i].game.perception_text():
                errors.append(i)

    threads = [threading.Thread(target=play, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# -- Watch ------------------------------------------------------------------------------------------------
# outputs: frame, status, perception, think, answer, action, log, message, timer
W_FRAME, W_STATUS, W_PERC, W_THINK, W_ANSWER, W_ACTION, W_LOG, W_MSG, W_TIMER = range(9)


def test_watch_oracle_step_tick_play_stop(client):
    out = client.predict("2048", "paper", 5, "oracle", "", "", "", api_name="/watch_start")
    assert out[W_MSG] == "Ready: press **Step** or **Play**." and "**Step** 0 / 100" in out[W_STATUS]
    ref, oracle = env_at("2048", "paper", 5), OraclePolicy()
    for step in range(3):
        answer = oracle.act([Turn("2048", None, ref.prompt, ref.get_state(), "w", step)])[0].text
        ref.step(answer)
        out = client.predict(api_name="/watch_step" if step < 2 else "/watch_tick")
        assert out[W_ANSWER] == answer and out[W_LOG]["data"][0][0] == step + 1
    assert np.array_equal(pixels(out[W_FRAME]), ref.render())
    timer, message = client.predict(0.5, api_name="/watch_play")
    assert timer == {"active": True, "value": 0.5, "__type__": "update"} and message == "Playing: one step every 0.5 s."
    with pytest.raises(gradio_client.exceptions.AppError, match="Value 99 is greater than maximum value 5.0"):
        client.predict(99, api_name="/watch_play")     # the slider's own bounds check answers
    timer, message = client.predict(api_name="/watch_stop")
    assert timer == {"active": False, "__type__": "update"}
    assert message == "Stopped at step 3: press **Step** or **Play** to go on, or **Start** for a new game."
    out = client.predict(api_name="/watch_tick")   # a tick already on its way after Stop plays nothing
    assert out[W_MSG] == ERR + "Stopped at step 3." and out[W_TIMER] == {"active": False, "__type__": "update"}
    client.predict(0.5, api_name="/watch_play")   # Play goes on from there
    assert "**Step** 4 / 100" in client.predict(api_name="/watch_tick")[W_STATUS]
    assert client.predict("swap", api_name="/watch_game_changed")[0]["choices"][0] == ["paper", "paper"]
    assert client.predict("own-endpoint", api_name="/watch_player_changed") == ()


def test_watch_errors_stop_the_timer(client):
    out = client.predict(api_name="/watch_step")
    assert out[W_MSG] == ERR + "nothing to watch yet: choose a player and press Start"
    assert out[W_TIMER] == {"active": False, "__type__": "update"}
    assert client.predict(1.0, api_name="/watch_play")[1] == ERR + "press Start first"
    out = client.predict("2048", "paper", 0, "own-endpoint", "file:///etc/passwd", "m", "", api_name="/watch_start")
    assert out[W_MSG] == ERR + "the endpoint must be an http(s) URL with a host, e.g. https://api.example.com/v1"


def test_watch_visitor_endpoint_through_the_api(client):
    key = "sk-api-test-secret"
    with FakeOpenAIServer(reply=lambda body: "<perception>p</perception><think>t</think><answer>2</answer>",
                          echo_auth=True) as srv:
        out = client.predict("2048", "paper", 1, "own-endpoint", srv.base_url, "fake-model", key, api_name="/watch_start")
        assert key not in json.dumps(out)
        out = client.predict(api_name="/watch_step")
        assert (out[W_PERC], out[W_THINK]) == ("p", "t") and "action **2 (Down)**" in out[W_ACTION]
        assert srv.chat_requests()[-1]["headers"]["Authorization"] == f"Bearer {key}"
        assert key not in json.dumps(out)
    with FakeOpenAIServer(script=[401, 401], echo_auth=True) as srv:
        client.predict("2048", "paper", 1, "own-endpoint", srv.base_url, "fake-model", key, api_name="/watch_start")
        out = client.predict(api_name="/watch_step")
        assert out[W_MSG].startswith(ERR + "the model's endpoint failed") and key not in json.dumps(out)


def test_a_slow_endpoint_meets_the_step_limit_and_stop(space):
    """A visitor's endpoint gets visitor_step_limit_s per step (said on the page); Stop ends a step at once."""
    import time

    limit = space["settings"].visitor_step_limit_s
    url = space["url"]
    c = gradio_client.Client(url, verbose=False, download_files=False, ssl_verify=False)
    with FakeOpenAIServer(script=[("slow", limit + 5)]) as srv:   # one slow answer
        c.predict("2048", "paper", 1, "own-endpoint", srv.base_url, "fake-model", "", api_name="/watch_start")
        t0 = time.perf_counter()
        out = c.predict(api_name="/watch_step")
        took = time.perf_counter() - t0
        assert out[W_MSG] == ERR + (f"your endpoint did not answer within {limit:g} s, this Space's limit per step; "
                                    "the step was not played (press Step to try again)")
        assert limit <= took < limit + 3 and "**Step** 0 / 100" not in str(out[W_STATUS])   # nothing else changed
    with FakeOpenAIServer(delay=30) as srv:
        c.predict("2048", "paper", 1, "own-endpoint", srv.base_url, "fake-model", "", api_name="/watch_start")
        job = c.submit(api_name="/watch_step")
        time.sleep(1.5)   # the step is waiting for the endpoint
        t0 = time.perf_counter()
        assert c.predict(api_name="/watch_stop")[1].startswith("Stopped at step 0")
        out = job.result(timeout=10)
        assert time.perf_counter() - t0 < 3 and out[W_MSG] == ERR + "Stopped at step 0: that step was not played."


# -- Replay -----------------------------------------------------------------------------------------------
# outputs: frame, info, answer, step slider, episode dropdown, message
R_FRAME, R_INFO, R_ANSWER, R_STEP, R_EPISODE, R_MSG = range(6)


def test_replay_open_navigate_gif(client, space):
    run = space["root"] / "runs" / "oracle-small"
    episodes = load_episodes(run)
    space["demo"].g1bench.leaderboard.wait(120)
    choices, entries, message = client.predict(api_name="/replay_refresh")
    assert choices["choices"] == [["oracle-small", "oracle-small"]]
    n = len(entries["choices"])
    assert n >= 8 and message == f"{n} verified entries on the leaderboard, 1 run of this Space."
    out = client.predict("oracle-small", api_name="/replay_open")
    first = episodes[0]["steps"][0]
    assert out[R_ANSWER] == first["answer"] and out[R_STEP]["maximum"] == len(episodes[0]["steps"])
    assert open(out[R_FRAME], "rb").read() == (run / "frames" / f"{first['frame']}.png").read_bytes()
    ep = episodes[1]
    out = client.predict(ep["episode_id"], api_name="/replay_episode")
    assert out[R_EPISODE]["value"] == ep["episode_id"] and out[R_ANSWER] == ep["steps"][0]["answer"]
    out = client.predict(4, api_name="/replay_goto")
    # the slider asked for step 4 and shows it already: its value is not sent back (a key pressed meanwhile stays)
    assert out[R_ANSWER] == ep["steps"][3]["answer"] and out[R_STEP] == {"__type__": "update"}
    out = client.predict(api_name="/replay_next")
    assert out[R_ANSWER] == ep["steps"][4]["answer"]
    out = client.predict(api_name="/replay_prev")
    assert out[R_ANSWER] == ep["steps"][3]["answer"]
    gif, message = client.predict(api_name="/replay_gif")
    from PIL import Image

    assert Image.open(gif["value"] if isinstance(gif, dict) else gif).n_frames == len(ep["steps"])
    assert message == "GIF ready: download it below the button."
    out = client.predict("../../etc", api_name="/replay_open")
    assert out[R_MSG].startswith(ERR + "no run called ")


def test_replay_uploads(client, space, tmp_path):
    run = space["root"] / "runs" / "oracle-small"
    good = zip_folder(run, tmp_path / "mine.zip")
    out = client.predict(gradio_client.handle_file(str(good)), api_name="/replay_upload")
    assert out[R_MSG] == "Upload checked and opened." and out[R_INFO].startswith("**upload: mine.zip**")
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../escape.json", "{}")
    out = client.predict(gradio_client.handle_file(str(evil)), api_name="/replay_upload")
    assert out[R_MSG].startswith(ERR + "the zip has a path that leaves its folder")
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("run/frames")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc")
    out = client.predict(gradio_client.handle_file(str(link)), api_name="/replay_upload")
    assert out[R_MSG].startswith(ERR + "the zip holds a link")
    # over the upload limit (1 MB here): gradio refuses it before the handler runs, and the app goes on
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("run/blob.json", os.urandom(2 * 1024 * 1024))
    with pytest.raises(Exception, match="(?i)size|large|exceed|413"):
        client.predict(gradio_client.handle_file(str(big)), api_name="/replay_upload")
    out = client.predict(api_name="/replay_next")   # the earlier upload is still open
    assert not out[R_MSG].startswith(ERR)
    assert not (space["root"] / "escape.json").exists()


def test_upload_cannot_name_a_server_file(space):
    """A forged upload that names a file on the server is refused by gradio before any handler runs."""
    forged = {"path": "/etc/hosts", "orig_name": "run.zip", "meta": {"_type": "gradio.FileData"}}
    assert _raw_event(space["url"], uuid.uuid4().hex, "replay_upload", [forged, None], ok=False) is None


# -- Leaderboard ------------------------------------------------------------------------------------------
# outputs: table (HTML), paper table (an update: HTML and visibility), status, notes, skipped, heatmap choice, heatmap,
# perception plot, plots note, suite, game, difficulty, model type, help, timer (the plots' column is not data)
(L_TABLE, L_PAPER, L_STATUS, L_NOTES, L_SKIPPED, L_PICK, L_HEAT, L_PERC, L_PNOTE, L_SUITE, L_GAME, L_DIFF, L_TYPE,
 L_HELP, L_TIMER) = range(15)


def lb(client, api="/leaderboard_view", suite="paper", search="", game="all", difficulty="all", model_type="all",
       heatmap=None, columns=()):
    return client.predict(suite, search, game, difficulty, model_type, heatmap, list(columns), api_name=api)


def unchanged(output) -> bool:
    """Whether an output came back as "no change" (an HTML output's carries an empty props update)."""
    return isinstance(output, dict) and output.get("__type__") == "update" and "value" not in output


def table(out, which=L_TABLE):
    return read_table(out[which]["value"] if isinstance(out[which], dict) else out[which])


def models(out, which=L_TABLE):
    return [r["model"]["text"] for r in table(out, which)["rows"]]


def test_leaderboard_view_filters_search_and_plots(client, space):
    from g1bench.leaderboard import aggregate
    from g1bench.leaderboard.paper import PAPER_ROWS

    snap = space["demo"].g1bench.leaderboard.wait(120)
    board = aggregate(space["settings"].results_store, log=lambda line: None)
    out = lb(client, "/leaderboard_open")   # what the page shows when it opens
    assert out == lb(client)
    assert out[L_TIMER] == {"active": False, "__type__": "update"} and out[L_SUITE]["value"] == "paper-v3"
    base = [r for r in board.table("paper") if r["kind"] == "baseline"]
    t = table(out)
    assert t["columns"] == ["rank", "model", "overall", "game:2048", "game:shisensho", "game:shisensho-images",
                            "game:swap"]
    assert [(r["rank"]["text"], r["model"]["text"], r["overall"]["text"]) for r in t["rows"]] == [
        ("baseline", r["model"], fmt(r["overall"])) for r in base]
    assert out[L_PAPER]["visible"] is True and models(out, L_PAPER) == [p["model"] for p in PAPER_ROWS]
    assert {r["kind"] for r in table(out, L_PAPER)["rows"]} == {"reported in the paper"}
    assert all(r["overall"]["text"].startswith("≈ ") for r in table(out, L_PAPER)["rows"])
    # another suite: its filters start from "all"; then game, difficulty, model type, search and columns
    out = lb(client, "/leaderboard_suite", suite="smoke-v3", game="swap")
    assert out[L_GAME]["value"] == "all" and "game:2048" in table(out)["columns"] and out[L_PAPER]["visible"] is False
    assert models(out)[:2] == ["acme/vlm-7b", "acme/vlm-2b"]
    out = lb(client, "/leaderboard_filter_game", suite="smoke-v3", game="swap")
    assert table(out)["columns"] == ["rank", "model", "overall", "game:swap"]
    out = lb(client, "/leaderboard_filter_difficulty", suite="grid-v2", difficulty="mono")
    assert table(out)["columns"] == ["rank", "model", "overall", "game:2048"]
    out = lb(client, "/leaderboard_filter_type", suite="smoke-v3", model_type="baseline")
    assert sorted(models(out)) == ["oracle", "random"]
    out = lb(client, "/leaderboard_search", suite="smoke-v3", search="2B")
    assert models(out) == ["acme/vlm-2b"] and table(out)["count"] == 1
    out = lb(client, "/leaderboard_columns", suite="smoke-v3", columns=["date", "p_acc"])
    assert table(out)["columns"][-2:] == ["p_acc", "date"]
    out = lb(client, search="x" * 300)
    assert out[L_STATUS] == ERR + "the search is longer than 200 characters" and unchanged(out[L_TABLE])
    # the grid suite's plots: a heatmap per run, the perception plot
    out = lb(client, suite="grid-v2")
    picks = out[L_PICK]["choices"]
    assert {e for _, e in picks} == {m["entry_id"] for m in snap.heatmaps} and out[L_PICK]["value"] == picks[0][1]
    assert picks[0][0].startswith("acme/vlm-7b · ") and picks[1][0].startswith("random (baseline) · ")  # measured first
    png = {m["entry_id"]: m["png"] for m in snap.heatmaps}
    assert open(out[L_HEAT], "rb").read() == open(png[picks[0][1]], "rb").read()
    assert open(out[L_PERC], "rb").read() == open(snap.perception_png, "rb").read()
    other = picks[1][1]
    heat, status = client.predict(other, api_name="/leaderboard_heatmap")
    assert open(heat, "rb").read() == open(png[other], "rb").read() and status == {"__type__": "update"}
    assert client.predict("../../etc/passwd", api_name="/leaderboard_heatmap")[0] is None


def test_leaderboard_refresh_and_poll(client, space):
    service = space["demo"].g1bench.leaderboard
    service.wait(120)
    out = lb(client, "/leaderboard_refresh", suite="smoke-v3")
    assert out[L_TIMER]["active"] == ("refreshing" in out[L_STATUS])
    for _ in range(120):   # the browser's timer polls once a second; here as fast as the answers come
        out = lb(client, "/leaderboard_poll", suite="smoke-v3")
        if out[L_TIMER] == {"active": False, "__type__": "update"}:
            break
        assert unchanged(out[L_TABLE]) and "refreshing" in out[L_STATUS]
    assert not service.loading() and out[L_SUITE]["value"] == "smoke-v3" and "acme/vlm-7b" in models(out)
    assert f"aggregated at" in out[L_STATUS] and "refreshing" not in out[L_STATUS]


# -- Submit -----------------------------------------------------------------------------------------------
# outputs: message, where, the visitor's submissions, poll timer, upload box, Hub name box (the ids are state)
S_MSG, S_WHERE, S_QUEUE, S_TIMER, S_UPLOAD, S_HUB = range(6)


def submitted(client, file=None, hub="", timeout=120):
    """Submit, then poll as the page does until every submission of this visitor is final: the last status."""
    import time

    out = client.predict(gradio_client.handle_file(str(file)) if file else None, hub, api_name="/submit_run")
    if out[S_MSG].startswith(ERR):
        return out[S_MSG]
    assert out[S_TIMER] == {"active": True, "__type__": "update"} and out[S_UPLOAD] is None and out[S_HUB] == ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue, timer = client.predict(api_name="/submit_poll")
        if timer == {"active": False, "__type__": "update"}:
            return queue
        time.sleep(0.2)
    raise AssertionError("the submission did not finish")


def test_submit_through_the_api(client, space):
    t = template_store()
    where = client.predict(api_name="/submit_where")   # (and the button's label, which is not data)
    assert where.startswith("Verified runs are added to this Space's results store, this Space's results folder")
    queue = submitted(client, t["tampered_zip"])
    assert "✗ **tampered-model.zip** · refused\n\n**Refused**: tampered-model does not verify: results.json " \
           "results\\['2048/paper'\\]" in queue
    queue = submitted(client, t["new_zip"])
    assert "✓ **new-model.zip** · on the board\n\n**On the board**: entry `smoke-v3/acme-vlm-13b--" in queue
    assert "acme/vlm-13b" in models(lb(client, suite="smoke-v3"))
    queue = submitted(client, t["new_zip"])   # the same run again: which entry it is
    assert "= **new-model.zip** · already on the board\n\n**Already on the board**: this run is entry" in queue
    assert client.predict(None, "", api_name="/submit_run")[S_MSG] == \
        ERR + "upload a run folder as a .zip, or name a Hub dataset repo that holds a run"
    assert client.predict(None, "not a repo", api_name="/submit_run")[S_MSG].startswith(
        ERR + "'not a repo' is not a Hub dataset name")


# -- Replay of a store entry ----------------------------------------------------------------------------------
def test_replay_a_store_entry_through_the_api(client, space):
    t = template_store()
    space["demo"].g1bench.leaderboard.wait(120)
    runs, entries, message = client.predict(api_name="/replay_tab_opened")   # what opening the tab shows
    assert (runs, entries, message) == client.predict(api_name="/replay_refresh")
    entry = t["entries"]["smoke-good"]
    assert entry in [e for _, e in entries["choices"]]
    out = client.predict(entry, api_name="/replay_entry")
    ep = load_episodes(t["runs"] / "smoke-good")[0]
    assert out[R_ANSWER] == ep["steps"][0]["answer"] and out[R_INFO].startswith("**entry: acme/vlm-7b · smoke-v3 · ")
    stored = t["runs"] / "smoke-good" / "frames" / f"{ep['steps'][0]['frame']}.png"
    assert open(out[R_FRAME], "rb").read() == stored.read_bytes()
    out = client.predict("smoke-v3/nope--0000000000000000", api_name="/replay_entry")
    assert out[R_MSG].startswith(ERR + "no verified entry 'smoke-v3/nope--0000000000000000' in the results store")


def test_every_endpoint_is_covered(tmp_path):
    """The tests call every named endpoint (a new handler needs a test here or in tests/test_space_hub.py)."""
    from g1bench.space.ui import build_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo = build_app(SpaceSettings(runs_dir=None, work_dir=tmp_path, results_store=str(tmp_path / "empty"),
                                       demo_store=None, preload_leaderboard=False, warm_tiles=False))
    names = {d.api_name for d in demo.fns.values() if d.api_name and d.api_visibility == "public"}
    source = Path(__file__).read_text() + (Path(__file__).parent / "test_space_hub.py").read_text()
    missing = sorted(n for n in names if f'"/{n}"' not in source and f'"{n}"' not in source
                     and not (n.startswith("play_") and n[5:] in ("up", "right", "down", "left")))
    assert missing == [] and len(names) == 46

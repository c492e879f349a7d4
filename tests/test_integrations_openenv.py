"""The OpenEnv server (``g1bench serve``) and client, for real on 127.0.0.1: every game and preset, frames, perception,
snapshots, the session cap, the idle timeout, bounded inputs, ``openenv validate`` (the running server and the
``g1bench_env/`` folder it deploys from)."""

import base64
import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("openenv")

import g1bench  # noqa: E402
from g1bench.integrations.openenv import BackgroundServer, G1Action, G1EnvClient  # noqa: E402
from g1bench.integrations.openenv.environment import MAX_ANSWER_CHARS  # noqa: E402
from g1bench.integrations.play import GameSession  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server():
    srv = BackgroundServer(max_sessions=6, idle_timeout_s=None)
    with srv as url:
        yield srv, url


def _client(url):
    return G1EnvClient(base_url=url).sync()


def _get(url, path):
    import urllib.request

    with urllib.request.urlopen(url + path, timeout=10) as r:
        return json.loads(r.read())


def _post(url, path, body: bytes):
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url + path, data=body, headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_a_game_through_the_real_client_matches_the_env(server):
    _, url = server
    ref = g1bench.make("shisensho", "base")
    ref.reset(seed=3)
    with _client(url) as env:
        first = env.reset(game="shisensho", difficulty="base", seed=3, perception=True)
        obs = first.observation
        assert obs.error is None and obs.game == "shisensho" and obs.seed == 3 and obs.step == 0
        assert obs.state_hash == ref.state_hash() and obs.perception == ref.game.perception_text()
        assert obs.prompt == ref.prompt
        assert np.array_equal(np.asarray(obs.image()), ref.model_observation())  # PNG: lossless
        assert obs.frame_size == list(ref.model_frame_size)
        r1, c1, r2, c2 = ref.legal_actions()[0]
        result = env.step(G1Action(answer=f"<answer>({r1}, {c1}) ({r2}, {c2})</answer>"))
        ref.step((r1, c1, r2, c2))
        assert result.reward == 1.0 and not result.done
        assert result.observation.feedback == "Feedback: reward +1. The move scored 1. Score 1."
        assert result.observation.state_hash == ref.state_hash() and result.observation.score == 1.0
        state = env.state()
        assert state.step_count == 1 and state.game == "shisensho" and state.state_hash == ref.state_hash()
        assert g1bench.make_from_state(state.snapshot).state_hash() == ref.state_hash()
        snapshot = state.snapshot
    with _client(url) as other:  # another session resumes from the snapshot, exactly
        resumed = other.reset(state=snapshot)
        assert resumed.observation.state_hash == ref.state_hash() and resumed.observation.seed is None
        r1, c1, r2, c2 = ref.legal_actions()[0]
        after = other.step(G1Action(answer=f"<answer>({r1}, {c1}) ({r2}, {c2})</answer>"))
        ref.step((r1, c1, r2, c2))
        assert after.observation.state_hash == ref.state_hash()


def test_a_move_that_changes_nothing_reuses_the_frame(monkeypatch):
    from g1bench.integrations.openenv import G1Environment

    drawn = []
    original = GameSession.model_frame
    monkeypatch.setattr(GameSession, "model_frame", lambda self: drawn.append(self.state_hash) or original(self))
    env = G1Environment()
    first = env.reset(game="swap", seed=0)
    unread = env.step(G1Action(answer="no move"))
    assert unread.parse_error and unread.frame_png == first.frame_png and len(drawn) == 1
    moved = env.step(G1Action(answer="<answer>(0, 0) (0, 1)</answer>"))
    assert len(drawn) == (2 if moved.state_hash != first.state_hash else 1)
    ref = g1bench.make("swap")
    ref.reset(seed=0)
    ref.step("<answer>(0, 0) (0, 1)</answer>")
    assert np.array_equal(np.asarray(moved.image()), ref.model_observation())


def test_a_session_that_ends_normally_logs_no_error(server, caplog):
    _, url = server
    with caplog.at_level("ERROR"):
        with _client(url) as env:
            env.reset(game="swap", seed=0)
        time.sleep(0.5)  # the server's side of the close
    assert not [r for r in caplog.records if r.levelname == "ERROR"], [r.getMessage() for r in caplog.records]


def test_every_game_and_preset_is_served_with_the_model_frame(server):
    _, url = server
    with _client(url) as env:
        for game in g1bench.list_games():
            for preset in g1bench.list_presets(game):
                ref = g1bench.make(game, preset)  # offline: the image game's CIFAR presets fall back to the bundled tiles
                ref.reset(seed=0)
                obs = env.reset(game=game, difficulty=preset, seed=0).observation
                assert obs.error is None, (game, preset, obs.error)
                assert obs.state_hash == ref.state_hash() and obs.frame_size == list(ref.model_frame_size)
                assert obs.perception is None  # only on request
    assert g1bench.make("2048").model_frame_size == (640, 840)  # so the paper preset's frame above was G1's size


def test_the_paper_protocol_options_warmup_budget_and_random_move_rule(server):
    _, url = server
    with _client(url) as env:
        s = GameSession(invalid_answer="random-move")
        s.start("2048", "paper", seed=4, warmup=100, steps=2, episode_id="e")
        obs = env.reset(game="2048", seed=4, warmup=100, steps=2, invalid_answer="random-move", episode_id="e")
        assert obs.observation.state_hash == s.state_hash
        a = env.step(G1Action(answer="no answer at all"))
        rec = s.play("no answer at all")
        assert a.observation.parse_error == rec["parse_error"] and "a random move was played" in a.observation.feedback
        assert a.observation.state_hash == s.state_hash  # the same fallback move (seeded by episode and step)
        b = env.step(G1Action(answer="<answer>0</answer>"))
        assert b.done  # the step budget
        assert env.step(G1Action(answer="<answer>0</answer>")).observation.error == \
            "the game is over: start a new one (reset)"


def test_a_session_is_one_game_unless_it_has_a_step_budget(server):
    _, url = server
    tiny = {"rows": 2, "cols": 2, "n_kinds": 1}  # two pairs: two moves clear the board
    with _client(url) as env:
        env.reset(game="shisensho", difficulty="base", overrides=tiny, seed=0)
        env.step(G1Action(answer="<answer>(0, 0) (0, 1)</answer>"))
        end = env.step(G1Action(answer="<answer>(1, 0) (1, 1)</answer>"))
        assert end.reward == 1.0 and end.done and end.observation.feedback.endswith("The game is over.")
        assert env.step(G1Action(answer="<answer>(0, 0) (0, 1)</answer>")).observation.error == \
            "the game is over: start a new one (reset)"
        # with a budget: an evaluation episode, the next game of the seed stream follows (as g1bench eval plays)
        ref = GameSession(continue_games=True)
        ref.start("shisensho", "base", tiny, seed=0, steps=3)
        env.reset(game="shisensho", difficulty="base", overrides=tiny, seed=0, steps=3)
        for answer in ("<answer>(0, 0) (0, 1)</answer>", "<answer>(1, 0) (1, 1)</answer>"):
            result = env.step(G1Action(answer=answer))
            ref.play(answer)
        assert not result.done and result.observation.game_index == ref.game_index == 1
        assert result.observation.state_hash == ref.state_hash and result.observation.score == 2.0
        assert env.step(G1Action(answer="<answer>(0, 0) (0, 1)</answer>")).done  # the budget


def test_bad_requests_are_observations_that_say_why(server):
    _, url = server
    with _client(url) as env:
        assert env.step(G1Action(answer="<answer>1</answer>")).observation.error == \
            "no game started yet: call reset first"
        cases = [({"game": "chess"}, "unknown game 'chess'"),
                 ({"game": "2048", "difficulty": "impossible"}, "unknown difficulty 'impossible'"),
                 ({"game": "swap", "overrides": {"rows": 1000}}, "rows"),
                 ({"game": "2048", "colour": "red"}, "unknown reset argument(s) ['colour']"),
                 ({"game": "shisensho-images", "overrides": {"tile_source": "/etc"}}, "tile_source '/etc' is not served"),
                 ({"state": {"format": "g1bench-state/1", "game": "shisensho-images",
                             "config": {"tile_source": "/root"}}}, "tile_source '/root' is not served"),
                 ({"state": "not a snapshot"}, "state must be a snapshot object"),
                 ({"game": "2048", "seed": 0, "warmup": 10**9}, "warmup must be an integer in 0..10000"),
                 ({"game": 7}, "game must be a game's name"),
                 ({"game": "2048", "seed": 0, "perception": "yes"}, "perception must be true or false"),
                 ({"game": "2048", "seed": 0, "invalid_answer": "cheat"}, "invalid_answer must be")]
        for kwargs, why in cases:
            obs = env.reset(**kwargs).observation
            assert obs.error is not None and why in obs.error, (kwargs, obs.error)
        # an answer that cannot be read is a move (reward -1), whatever it is
        env.reset(game="shisensho", difficulty="base", seed=0)
        long = env.step(G1Action(answer="(" * (MAX_ANSWER_CHARS + 1)))
        assert long.reward == -1.0 and f"the server reads at most {MAX_ANSWER_CHARS}" in long.observation.parse_error
    from websockets.sync.client import connect

    with connect(url.replace("http", "ws") + "/ws", max_size=None) as ws:  # what a client that is not ours may send
        ws.send(json.dumps({"type": "reset", "data": {"game": "swap", "seed": 1}}))
        assert json.loads(ws.recv())["type"] == "observation"
        for data in ({"answer": 5}, {"answer": None}, {}, {"answer": ["(0, 0)"], "extra": {"x": 1}}):
            ws.send(json.dumps({"type": "step", "data": data}))
            reply = json.loads(ws.recv())
            assert reply["type"] == "observation" and reply["data"]["reward"] == -1.0, reply
            assert reply["data"]["observation"]["parse_error"]
        ws.send(json.dumps({"type": "step", "data": {"answer": "x" * (2 << 20)}}))  # over the message limit
        with pytest.raises(Exception):
            ws.recv()  # the server closes such a socket
    assert _get(url, "/health") == {"status": "healthy"}


def test_http_requests_never_fail_with_a_server_error(server):
    _, url = server
    status, body = _post(url, "/reset", json.dumps({"game": "2048", "seed": 1}).encode())
    assert status == 200 and body["observation"]["state_hash"] == g1bench.make("2048").reset(seed=1)[1]["state_hash"]
    assert _post(url, "/step", b'{"action": {"answer": "<answer>1</answer>"}}')[1]["observation"]["error"] == \
        "no game started yet: call reset first"  # plain HTTP is stateless: sessions live on /ws
    for body in (b'{"game": "chess"}', b'{"seed": "x"}', b"not json", b'{"action": 3}', b"[]"):
        for path in ("/reset", "/step"):
            status, _ = _post(url, path, body)
            assert status < 500, (path, body, status)
    # a body over the limit: refused (413) before it is read, whether its length is announced or streamed
    host, port = url.removeprefix("http://").split(":")
    announced = b"POST /step HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3000000\r\n\r\n"
    chunk = b"x" * 65536
    streamed = [b"POST /step HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"]
    streamed += [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 17  # 1.06 MiB, never finished
    for parts in ([announced], streamed):
        import socket

        with socket.create_connection((host, int(port)), timeout=30) as sock:
            for part in parts:
                sock.sendall(part)
            head = b""
            while b"bytes)" not in head:
                got = sock.recv(65536)
                if not got:
                    break
                head += got
        assert head.startswith(b"HTTP/1.1 413"), head[:200]
        assert b"request body too large (the limit is 1048576 bytes)" in head
    schema = _get(url, "/schema")
    assert schema["action"]["properties"]["answer"]["type"] == "string"
    assert "frame_png" in schema["observation"]["properties"]
    assert _get(url, "/metadata")["name"] == "g1bench"


def test_concurrent_sessions_do_not_leak_into_each_other(server):
    _, url = server
    games = [("2048", 0), ("shisensho", 1), ("swap", 2), ("2048", 3), ("shisensho-images", 4), ("swap", 5)]
    errors = []

    def play(game, seed):
        try:
            ref = GameSession()
            ref.start(game, "paper", seed=seed)
            with _client(url) as env:
                env.reset(game=game, seed=seed)
                rng = np.random.default_rng(seed)
                for _ in range(8):
                    answer = (f"<answer>{int(rng.integers(4))}</answer>" if game == "2048" else
                              "<answer>({}, {}) ({}, {})</answer>".format(*rng.integers(0, 6, size=4)))
                    got = env.step(G1Action(answer=answer))
                    want = ref.play(answer)
                    assert got.observation.state_hash == ref.state_hash and got.reward == want["reward"]
                    if got.done:
                        break
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(f"{game}/{seed}: {e!r}")

    threads = [threading.Thread(target=play, args=g) for g in games]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors


def test_the_session_cap_refuses_the_next_session_until_one_closes():
    with BackgroundServer(max_sessions=2, idle_timeout_s=None) as url:
        a, b = _client(url), _client(url)
        a.reset(game="2048", seed=0)
        b.reset(game="2048", seed=1)
        from websockets.sync.client import connect

        with connect(url.replace("http", "ws") + "/ws") as ws:  # the third session is refused at once
            refusal = json.loads(ws.recv(timeout=10))
        assert refusal["type"] == "error" and refusal["data"]["code"] == "CAPACITY_REACHED"
        assert refusal["data"]["max_sessions"] == 2
        a.close()
        deadline = time.monotonic() + 10
        while _get(url, "/sessions")["live"] > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        c = _client(url)
        assert c.reset(game="2048", seed=2).observation.error is None
        b.close()
        c.close()


def test_idle_sessions_are_closed_and_their_memory_freed():
    srv = BackgroundServer(max_sessions=4, idle_timeout_s=1.0)
    with srv as url:
        env = _client(url)
        env.reset(game="swap", seed=0)
        assert _get(url, "/sessions")["live"] == 1
        deadline = time.monotonic() + 20  # OpenEnv's reaper looks every max(timeout / 4, 5) seconds
        while _get(url, "/sessions")["live"] and time.monotonic() < deadline:
            time.sleep(0.25)
        assert _get(url, "/sessions") == {"live": 0, "created": srv.counter.created, "max_sessions": 4,
                                          "idle_timeout_s": 1.0}
        late = env.step(G1Action(answer="<answer>(0, 0) (0, 1)</answer>"))
        assert late.observation.error == "this session was closed (idle too long?): open a new one"
        env.close()


@pytest.mark.slow
def test_g1bench_serve_runs_and_passes_openenv_validate(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "g1bench.cli", "serve", "--port", "0", "--max-sessions", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("g1bench serve: listening on http://127.0.0.1:"), line + proc.stderr.read()
        url = line.split()[4]
        assert "at most 3, closed after 300 s idle" in line
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(url, "/health")
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        res = subprocess.run(["openenv", "validate", "--url", url], capture_output=True, text=True, timeout=60,
                             env={**env, "PATH": os.path.dirname(sys.executable) + os.pathsep + env["PATH"]})
        report = json.loads(res.stdout)
        assert res.returncode == 0 and report["passed"], report
        assert report["mode"] == "simulation" and report["summary"]["failed_criteria"] == []
        # the same address again: a clear one-line error
        port = url.rsplit(":", 1)[1]
        busy = subprocess.run([sys.executable, "-m", "g1bench.cli", "serve", "--port", port], capture_output=True,
                              text=True, timeout=60, env=env)
        assert busy.returncode == 2 and busy.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}")
        assert "Traceback" not in busy.stderr
    finally:
        proc.terminate()
        proc.wait(10)
    bad = subprocess.run([sys.executable, "-m", "g1bench.cli", "serve", "--port", "70000"], capture_output=True,
                         text=True, env=env)
    assert bad.returncode == 2 and "must be a port number 0-65535" in bad.stderr


def test_the_deploy_folder_passes_openenv_validate_and_serves_the_same_app():
    folder = ROOT / "g1bench_env"
    res = subprocess.run(["openenv", "validate", str(folder), "--json", "--verbose"], capture_output=True, text=True,
                         env={**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]})
    report = json.loads(res.stdout)
    assert res.returncode == 0 and report["passed"] and report["issues"] == [], report
    assert report["deployment_modes"] == {"docker": True, "openenv_serve": True, "uv_run": True, "python_module": True}
    # server/app.py (uvicorn server.app:app) is g1bench's app
    import importlib.util

    spec = importlib.util.spec_from_file_location("g1bench_env_app", folder / "server" / "app.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    paths = {r.path for r in mod.app.routes}
    assert {"/reset", "/step", "/state", "/ws", "/sessions", "/schema"} <= paths
    # one port everywhere: openenv.yaml, the Space card, the container
    import yaml

    port = yaml.safe_load((folder / "openenv.yaml").read_text())["port"]
    card = yaml.safe_load((folder / "README.md").read_text().split("---")[1])
    docker = (folder / "Dockerfile").read_text()
    assert card["app_port"] == port == 8000 and card["sdk"] == "docker" and "openenv" in card["tags"]
    assert f"EXPOSE {port}" in docker and f"--port {port}" in docker and "g1bench serve --host 0.0.0.0" in docker

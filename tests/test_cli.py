"""The command line, run as a user would (a real subprocess) and in-process for play."""

import subprocess
import sys

import numpy as np
from PIL import Image

import g1bench
from g1bench.cli import build_parser, cmd_play


def run(*args):
    return subprocess.run([sys.executable, "-m", "g1bench.cli", *args], capture_output=True, text=True,
                          env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})


def test_games_lists_every_game_preset_and_knob():
    out = run("games")
    assert out.returncode == 0
    for game in g1bench.list_games():
        assert game in out.stdout
        for preset in g1bench.list_presets(game):
            assert preset in out.stdout
    assert "[reasoning]" in out.stdout and "[perception]" in out.stdout


def test_render_writes_the_reset_frame(tmp_path):
    path = tmp_path / "f.png"
    out = run("render", "2048", "--seed", "4", "-o", str(path), "--labels")
    assert out.returncode == 0, out.stderr
    frame, _ = g1bench.make("2048", labels=True).reset(seed=4)
    assert np.array_equal(np.asarray(Image.open(path)), frame)


def test_bad_input_is_a_clear_error():
    out = run("render", "chess")
    assert out.returncode == 2 and "unknown game 'chess'" in out.stderr
    out = run("render", "2048", "--set", "size=99")
    assert out.returncode == 2 and "size must be between 2 and 8" in out.stderr
    out = run("render", "2048", "--set", "size")
    assert out.returncode != 0 and "key=value" in out.stderr


def test_play_session(capsys):
    args = build_parser().parse_args(["play", "2048", "--seed", "0"])
    inputs = iter(["legal", "0", "9", "<answer>1</answer>", "quit"])
    assert cmd_play(args, input_fn=lambda _: next(inputs)) == 0
    text = capsys.readouterr().out
    assert "parse error: action 9 is out of range 0-3" in text
    assert "reward +1" in text or "reward -1" in text
    assert "total reward" in text


def test_play_ends_on_eof(capsys):
    args = build_parser().parse_args(["play", "2048"])

    def eof(_):
        raise EOFError

    assert cmd_play(args, input_fn=eof) == 0

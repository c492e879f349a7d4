"""2048 rules on hand-built boards (cells hold exponents: 1 = tile 2, 2 = tile 4, ...)."""

import numpy as np
import pytest

from g1bench.core.config import ConfigError
from g1bench.games.twenty48 import Config2048, TwentyFortyEight, move_board, slide_line

UP, RIGHT, DOWN, LEFT = range(4)


def game_with(board, score=0):
    g = TwentyFortyEight(Config2048())
    g.set_state({"board": board, "score": score, "moves": 0})
    return g


@pytest.mark.parametrize(
    "line, out, score",
    [
        ([1, 1, 1, 1], [2, 2, 0, 0], 8),  # 2 2 2 2 -> 4 4
        ([1, 1, 2, 0], [2, 2, 0, 0], 4),  # 2 2 4 _ -> 4 4 (the new 4 does not merge again)
        ([1, 1, 1, 0], [2, 1, 0, 0], 4),  # 2 2 2 -> 4 2: the pair nearest the wall merges first
        ([0, 0, 0, 1], [1, 0, 0, 0], 0),
        ([1, 2, 1, 2], [1, 2, 1, 2], 0),
        ([2, 0, 2, 1], [3, 1, 0, 0], 8),  # gaps close before merging
        ([10, 10, 0, 0], [11, 0, 0, 0], 2048),
    ],
)
def test_slide_line(line, out, score):
    assert slide_line(line) == (out, score)


def test_merge_score_is_exact_python_int_for_big_tiles():
    # the original computed 2 ** (uint8 + 1) and wrapped to 0 under numpy 2
    new, score = slide_line([7, 7, 0, 0])
    assert (new, score) == ([8, 0, 0, 0], 256)
    assert slide_line([16, 16])[1] == 2**17


def test_directions():
    b = [[1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]]
    assert move_board(b, LEFT)[0][0] == [2, 0, 0, 0]
    assert move_board(b, RIGHT)[0][0] == [0, 0, 0, 2]
    up, s = move_board(b, UP)
    assert [row[0] for row in up] == [2, 0, 0, 0] and up[0][3] == 1 and s == 4
    down, _ = move_board(b, DOWN)
    assert [row[0] for row in down] == [0, 0, 0, 2] and down[3][3] == 1


def test_merge_spawns_one_tile_and_scores():
    g = game_with([[1, 1, 0, 0], [0] * 4, [0] * 4, [0] * 4])
    out = g.apply(LEFT, np.random.default_rng(0))
    assert out.valid and out.success and out.score_delta == 4 and out.reward == 1
    flat = [v for row in g.board for v in row]
    assert g.board[0][0] == 2 and sum(1 for v in flat if v) == 2 and g.score == 4 and g.moves == 1


def test_move_without_merge_is_valid_but_unsuccessful():
    g = game_with([[0, 1, 0, 0], [0] * 4, [0] * 4, [0] * 4])
    out = g.apply(LEFT, np.random.default_rng(0))
    assert out.valid and not out.success and out.score_delta == 0 and out.reward == -1


def test_noop_move_is_illegal_and_spawns_nothing():
    board = [[1, 2, 0, 0], [0] * 4, [0] * 4, [0] * 4]
    g = game_with(board)
    rng = np.random.default_rng(0)
    before = rng.bit_generator.state
    out = g.apply(LEFT, rng)
    assert not out.valid and not out.success and out.reason == "moving Left does not change the board"
    assert g.board == board and g.moves == 0
    assert rng.bit_generator.state == before  # no random draw for an illegal move
    assert sorted(g.legal_actions()) == [RIGHT, DOWN]


def test_game_over_only_when_no_move_changes_the_board():
    full = [[1, 2, 1, 2], [2, 1, 2, 1], [1, 2, 1, 2], [2, 1, 2, 1]]
    assert game_with(full).is_over() and game_with(full).legal_actions() == []
    mergeable = [row[:] for row in full]
    mergeable[3][3] = 2  # equal to its left neighbour
    assert not game_with(mergeable).is_over()


def test_last_move_reports_termination():
    # one merge left; after it and its spawn the board is locked only if the spawn cannot merge
    board = [[1, 2, 1, 2], [2, 1, 2, 1], [1, 2, 1, 2], [3, 4, 3, 3]]
    g = game_with(board)
    out = g.apply(LEFT, np.random.default_rng(1))
    assert out.valid and out.success and out.score_delta == 16
    assert out.terminated == (g.legal_actions() == [])


def test_spawn_distribution():
    rng = np.random.default_rng(123)
    fours = 0
    n = 4000
    for _ in range(n):
        g = TwentyFortyEight(Config2048())
        g.deal(rng)
        vals = [v for row in g.board for v in row if v]
        assert len(vals) == 2
        fours += sum(v == 2 for v in vals)
    assert 0.08 < fours / (2 * n) < 0.12


def test_perception_text_matches_paper_format():
    g = game_with([[3, 2, 2, 1], [1, 0, 0, 0], [0] * 4, [0, 0, 0, 11]])
    assert g.perception_text() == (
        " 8 | 4 | 4 | 2 \n 2 | - | - | - \n - | - | - | - \n - | - | - | 2048 "
    )
    assert g.structured_state()["cells"][3][3] == 2048


def test_parse_and_coerce():
    g = game_with([[1, 0, 0, 0]] + [[0] * 4] * 3)
    assert g.parse_answer("<think>x</think><answer> 2 </answer>") == 2
    assert not g.parse_answer("<answer>4</answer>")
    assert "out of range" in g.parse_answer("<answer>4</answer>").reason
    assert not g.coerce_action(True) and not g.coerce_action("1") and not g.coerce_action(7)
    assert g.coerce_action(np.int64(3)) == 3 and g.coerce_action(np.array(1)) == 1
    assert g.format_action(1) == "<answer>1</answer>"


def test_config_validation():
    with pytest.raises(ConfigError, match="size must be between 2 and 8"):
        Config2048(size=1)
    with pytest.raises(ConfigError, match="must be an integer"):
        Config2048(size="4")
    with pytest.raises(ConfigError, match="colored must be true or false"):
        Config2048(colored="yes")
    with pytest.raises(ConfigError, match="unknown difficulty 'hard'"):
        Config2048.from_preset("hard")
    with pytest.raises(ConfigError, match=r"no knob\(s\) \['sise'\]"):
        Config2048.from_preset("paper", sise=4)
    with pytest.raises(ConfigError, match="cell_px must be between 16 and 256"):
        Config2048(cell_px=8)

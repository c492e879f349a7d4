"""Swap (match-3): rules on hand-built boards, scoring, cascades, reshuffles, views, snapshots, configs."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from g1bench.core.answer import ParseError
from g1bench.core.config import ConfigError
from g1bench.games.swap import ConfigSwap, Swap, has_line, valid_swaps

A, B, C = 9, 10, 11  # "Yellow circle", "Yellow square", "Yellow triangle": never in the background


# -- helpers -----------------------------------------------------------------------------------------


def background() -> list[list[int]]:
    """An 8x8 board of kinds 0..8 with no line and no valid move: equal kinds are never within reach."""
    return [[(4 * r + c) % 9 for c in range(8)] for r in range(8)]


def put(board: list[list[int]], cells: dict[tuple[int, int], int]) -> list[list[int]]:
    for (r, c), k in cells.items():
        board[r][c] = k
    return board


#: a move that stays valid after the tested one: (7,0),(7,1) = C and (6,2) = C; swap (6,2)-(7,2)
SPARE = {(7, 0): C, (7, 1): C, (6, 2): C}


def paper_game(board: list[list[int]] | None = None, **counters) -> Swap:
    game = Swap(ConfigSwap.from_preset("paper"))
    if board is not None:
        game.set_state(state_for(game, board, **counters))
    return game


def state_for(game: Swap, board, score=0, moves=0, shuffles=0) -> dict:
    return {"board": [list(r) for r in board], "kinds": game.config.palette[: game.config.kinds_in_play],
            "score": score, "moves": moves, "shuffles": shuffles}


class ScriptedRng:
    """A generator whose refills (``integers``) come from a script; everything else from a real generator."""

    def __init__(self, values, seed=0):
        self.values = list(values)
        self.calls: list[tuple] = []
        self._rng = np.random.default_rng(seed)

    def integers(self, low, high=None, size=None):
        self.calls.append((low, high, size))
        n = 1 if size is None else size
        if len(self.values) < n:
            raise AssertionError("the script ran out of refill values")
        out, self.values = self.values[:n], self.values[n:]
        assert all(low <= v < high for v in out)
        return np.array(out) if size is not None else out[0]

    def __getattr__(self, name):
        return getattr(self._rng, name)


def ref_lines(b: list[list[int]]) -> set[tuple[int, int]]:
    """Cells in runs of >= 3 equal values, by a plain scan."""
    rows, cols = len(b), len(b[0])
    cells = set()
    for r in range(rows):
        for c in range(cols):
            if c + 2 < cols and b[r][c] == b[r][c + 1] == b[r][c + 2]:
                cells |= {(r, c), (r, c + 1), (r, c + 2)}
            if r + 2 < rows and b[r][c] == b[r + 1][c] == b[r + 2][c]:
                cells |= {(r, c), (r + 1, c), (r + 2, c)}
    return cells


def ref_resolve(b: list[list[int]], n_kinds: int, rng) -> int:
    """The rules' resolution loop, written out plainly (same random draws as the game)."""
    rows, cols = len(b), len(b[0])
    gained = 0
    while True:
        cells = ref_lines(b)
        if not cells:
            return gained
        gained += len(cells) * (len(cells) - 1)
        empty = []
        for c in range(cols):
            kept = [b[r][c] for r in range(rows) if (r, c) not in cells]
            column = [None] * (rows - len(kept)) + kept
            for r in range(rows):
                b[r][c] = column[r]
        for r in range(rows):
            for c in range(cols):
                if b[r][c] is None:
                    empty.append((r, c))
        draws = rng.integers(0, n_kinds, size=len(empty))
        for (r, c), v in zip(empty, draws.tolist()):
            b[r][c] = v


def ref_valid(b: list[list[int]], r1: int, c1: int, r2: int, c2: int) -> bool:
    if abs(r1 - r2) + abs(c1 - c2) != 1:
        return False
    x = [row[:] for row in b]
    x[r1][c1], x[r2][c2] = x[r2][c2], x[r1][c1]
    return bool(ref_lines(x))


def brute_legal(b: list[list[int]]) -> list[tuple[int, int, int, int]]:
    rows, cols = len(b), len(b[0])
    out = []
    for r1 in range(rows):
        for c1 in range(cols):
            for r2 in range(rows):
                for c2 in range(cols):
                    if (r1, c1) < (r2, c2) and ref_valid(b, r1, c1, r2, c2):
                        out.append((r1, c1, r2, c2))
    return out


def scored_move(board, action, refills):
    """Apply ``action`` with scripted refills; check it against the plain reference. Returns (game, outcome)."""
    game = paper_game(board)
    rng = ScriptedRng(refills)
    expected = [row[:] for row in board]
    r1, c1, r2, c2 = action
    expected[r1][c1], expected[r2][c2] = expected[r2][c2], expected[r1][c1]
    gained = ref_resolve(expected, 12, ScriptedRng(refills))
    out = game.apply(action, rng)
    assert out.valid and out.success and not out.terminated and out.reason is None
    assert out.score_delta == gained
    assert game.score == gained and game.moves == 1 and game.shuffles == 0
    assert game.board.tolist() == expected
    assert all(call[:2] == (0, 12) for call in rng.calls)
    return game, out


# -- the fixtures themselves ---------------------------------------------------------------------------


def test_background_has_no_line_and_no_move():
    b = np.array(background())
    assert not has_line(b) and valid_swaps(b) == [] and brute_legal(background()) == []
    assert valid_swaps(np.array(put(background(), SPARE))) == [(6, 2, 7, 2)]


# -- lines and scores ------------------------------------------------------------------------------------


def test_horizontal_line_of_three():
    board = put(background(), {(2, 4): A, (2, 5): A, (3, 6): A, **SPARE})
    game, out = scored_move(board, (2, 6, 3, 6), [0, 1, 2])
    assert out.score_delta == 6
    # the three cells of row 2 were removed: columns 4-6 fell one row, refills sit in row 0 left to right
    bg = background()
    assert [game.board[0, c] for c in (4, 5, 6)] == [0, 1, 2]
    assert [game.board[r, c] for r in (1, 2) for c in (4, 5, 6)] == [bg[r - 1][c] for r in (1, 2) for c in (4, 5, 6)]
    assert game.board[3, 6] == bg[2][6]  # the tile swapped down stays below
    assert game.board[4:].tolist() == [row for row in board[4:]]


def test_reversed_coordinates_are_the_same_swap():
    board = put(background(), {(2, 4): A, (2, 5): A, (3, 6): A, **SPARE})
    _, out = scored_move(board, (3, 6, 2, 6), [0, 1, 2])
    assert out.score_delta == 6


def test_vertical_line_of_three_and_refill_order():
    board = put(background(), {(2, 5): A, (3, 5): A, (4, 4): A, **SPARE})
    game, out = scored_move(board, (4, 4, 4, 5), [3, 7, 1])
    assert out.score_delta == 6
    bg = background()
    # column 5 lost rows 2-4: rows 0-1 fell to rows 3-4, refills fill rows 0, 1, 2 top to bottom
    assert game.board[:5, 5].tolist() == [3, 7, 1, bg[0][5], bg[1][5]]
    assert game.board[4, 4] == bg[4][5]


def test_line_of_four_scores_12():
    board = put(background(), {(2, 3): A, (2, 4): A, (2, 6): A, (3, 5): A, **SPARE})
    _, out = scored_move(board, (2, 5, 3, 5), [0, 1, 2, 3])
    assert out.score_delta == 12


def test_line_of_five_scores_20():
    board = put(background(), {(2, 2): A, (2, 3): A, (2, 5): A, (2, 6): A, (3, 4): A, **SPARE})
    _, out = scored_move(board, (2, 4, 3, 4), [0, 1, 2, 3, 4])
    assert out.score_delta == 20


@pytest.mark.parametrize("shape_cells", [
    # T: row 2 cols 3-5 and column 4 rows 0-2 share (2, 4)
    {(2, 3): A, (2, 5): A, (0, 4): A, (1, 4): A, (3, 4): A},
    # L: row 2 cols 2-4 and column 4 rows 0-2 share the corner (2, 4)
    {(2, 2): A, (2, 3): A, (0, 4): A, (1, 4): A, (3, 4): A},
])
def test_l_and_t_shapes_count_the_shared_cell_once(shape_cells):
    board = put(background(), {**shape_cells, **SPARE})
    game, out = scored_move(board, (2, 4, 3, 4), [0, 1, 2, 3, 4])
    assert out.score_delta == 5 * 4  # 5 distinct cells, not 3 + 3


def test_two_simultaneous_lines_score_as_one_set():
    # A moves up into row 2 (cols 2-4), B moves down into row 3 (cols 4-6): 6 cells at once -> 6*5
    board = put(background(), {(2, 2): A, (2, 3): A, (3, 4): A, (2, 4): B, (3, 5): B, (3, 6): B, **SPARE})
    _, out = scored_move(board, (2, 4, 3, 4), [0, 1, 2, 3, 4, 5])
    assert out.score_delta == 30


def test_cascade_scores_a_second_round_after_gravity():
    # Row 5 becomes B B A A A after the swap; the A's go, (4,2)=B falls to (5,2): B B B -> second round.
    board = put(background(), {(5, 0): B, (5, 1): B, (5, 2): A, (5, 3): A, (6, 4): A, (4, 2): B,
                               (7, 5): C, (7, 6): C, (6, 7): C})
    refills = [0, 1, 2, 3, 4, 5]
    game, out = scored_move(board, (5, 4, 6, 4), refills)
    assert out.score_delta == 6 + 6  # two rounds of 3 (not 30: the lines were not simultaneous)
    bg = background()
    expected = [row[:] for row in board]
    expected[6][4] = board[5][4]  # swapped down, stays
    # round 1: (5,2..4) removed, columns 2-4 fall; refills 0,1,2 at row 0
    for c, v in zip((2, 3, 4), (0, 1, 2)):
        col = [board[r][c] for r in range(5)]
        for r in range(1, 6):
            expected[r][c] = col[r - 1]
        expected[0][c] = v
    # round 2: (5,0), (5,1), (5,2) removed (B, B and the fallen B); columns 0-2 fall; refills 3,4,5
    after1 = [row[:] for row in expected]
    for c, v in zip((0, 1, 2), (3, 4, 5)):
        for r in range(1, 6):
            expected[r][c] = after1[r - 1][c]
        expected[0][c] = v
    assert game.board.tolist() == expected
    assert game.board[6:].tolist()[1] == bg[7][:5] + [C, C, bg[7][7]]


def test_resolution_matches_the_plain_reference_on_random_play():
    rng = np.random.default_rng(7)
    for preset in ("paper", "more-kinds", "large"):
        game = Swap(ConfigSwap.from_preset(preset))
        game.deal(rng)
        for _ in range(150):
            legal = game.legal_actions()
            action = legal[int(rng.integers(len(legal)))]
            before = game.board.tolist()
            shuffles, score = game.shuffles, game.score
            twin = np.random.Generator(np.random.PCG64())
            twin.bit_generator.state = rng.bit_generator.state
            expected = [row[:] for row in before]
            r1, c1, r2, c2 = action
            expected[r1][c1], expected[r2][c2] = expected[r2][c2], expected[r1][c1]
            gained = ref_resolve(expected, len(game.kinds), twin)
            out = game.apply(action, rng)
            assert out.valid and out.score_delta == gained and game.score == score + gained
            if game.shuffles == shuffles:
                assert game.board.tolist() == expected
                assert brute_legal(expected)
            else:  # no move was left: the reshuffle kept the tiles (or dealt new ones) and scored nothing
                assert not brute_legal(expected)
            assert not has_line(game.board) and game.legal_actions()


# -- invalid actions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("action, reason", [
    ((2, 4, 2, 6), "not adjacent"),
    ((0, 0, 5, 5), "not adjacent"),
    ((2, 5, 3, 6), "not adjacent"),  # diagonal
    ((1, 1, 1, 1), "same cell"),
    ((0, 0, 0, 1), "swap makes no line of 3"),
    ((2, 4, 2, 5), "swap makes no line of 3"),  # two identical tiles
])
def test_invalid_actions_change_nothing(action, reason):
    board = put(background(), {(2, 4): A, (2, 5): A, (3, 6): A})
    game = paper_game(board, score=5, moves=2, shuffles=1)
    rng = np.random.default_rng(0)
    state, raw, rng_state = json.dumps(game.get_state()), game.board.tobytes(), rng.bit_generator.state
    out = game.apply(action, rng)
    assert (out.valid, out.success, out.score_delta, out.terminated, out.reason) == (False, False, 0, False, reason)
    assert out.reward == -1.0
    assert json.dumps(game.get_state()) == state and game.board.tobytes() == raw
    assert rng.bit_generator.state == rng_state


# -- reshuffles ------------------------------------------------------------------------------------------


def test_reshuffle_when_the_move_leaves_no_move():
    board = put(background(), {(2, 4): A, (2, 5): A, (3, 6): A})  # the only valid move
    refills = [0, 3, 5]
    after = [row[:] for row in board]
    after[2][6], after[3][6] = after[3][6], after[2][6]
    assert ref_resolve(after, 12, ScriptedRng(refills)) == 6
    assert brute_legal(after) == []  # precondition: nothing left to play
    game = paper_game(board, score=10, moves=3)
    out = game.apply((2, 6, 3, 6), ScriptedRng(refills, seed=1))
    assert out.valid and out.score_delta == 6  # the reshuffle scores nothing
    assert game.score == 16 and game.moves == 4 and game.shuffles == 1
    assert not has_line(game.board) and game.legal_actions()
    assert sorted(game.board.ravel().tolist()) == sorted(v for row in after for v in row)  # same tiles


def test_reshuffle_helper_keeps_the_tiles():
    game = paper_game()
    game.board = np.array(background(), dtype=np.int8)
    game._reshuffle(np.random.default_rng(3))
    assert game.shuffles == 1 and game.score == 0
    assert not has_line(game.board) and game.legal_actions() == brute_legal(game.board.tolist())
    assert sorted(game.board.ravel().tolist()) == sorted(v for row in background() for v in row)


def test_reshuffle_deals_new_tiles_when_no_permutation_works():
    game = Swap(ConfigSwap(rows=3, cols=3))
    game.deal(np.random.default_rng(0))
    game.board = np.arange(9, dtype=np.int8).reshape(3, 3)  # 9 different kinds: no arrangement has a move
    game._reshuffle(np.random.default_rng(1))
    assert game.shuffles == 1 and not has_line(game.board) and game.legal_actions()


def test_planted_move_when_random_deals_fail(monkeypatch):
    import g1bench.games.swap as swap_module

    monkeypatch.setattr(swap_module, "DEAL_ATTEMPTS", 1)
    game = Swap(ConfigSwap(rows=3, cols=3, colors=["Red", "Green", "Blue", "Yellow", "Magenta", "Cyan"],
                           shapes=["circle", "square", "triangle", "diamond", "cross", "star"]))
    rng = np.random.default_rng(0)
    for _ in range(50):
        game.deal(rng)
        assert not has_line(game.board) and game.legal_actions() == brute_legal(game.board.tolist())


# -- dealing and legal moves ----------------------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(ConfigSwap.presets))
def test_deal_has_no_line_and_a_move(preset):
    game = Swap(ConfigSwap.from_preset(preset))
    cfg = game.config
    seen_kinds = set()
    for seed in range(200):
        game.deal(np.random.default_rng(seed))
        assert game.board.shape == (cfg.rows, cfg.cols)
        assert not ref_lines(game.board.tolist())
        assert len(game.legal_actions()) >= 1
        assert (game.score, game.moves, game.shuffles) == (0, 0, 0)
        assert len(set(game.kinds.tolist())) == cfg.kinds_in_play
        seen_kinds.add(tuple(game.kinds.tolist()))
    if cfg.kinds_in_play < len(cfg.palette):
        assert len(seen_kinds) > 1  # kinds are sampled per deal
    # same seed, same board
    a, b = Swap(cfg), Swap(cfg)
    a.deal(np.random.default_rng(11))
    b.deal(np.random.default_rng(11))
    assert a.get_state() == b.get_state()


def test_legal_actions_equal_brute_force_on_random_boards():
    rng = np.random.default_rng(1)
    checked = 0
    while checked < 250:
        rows, cols = (int(x) for x in rng.integers(3, 10, size=2))
        k = int(rng.integers(3, 7))
        b = rng.integers(0, k, size=(rows, cols))
        if ref_lines(b.tolist()):
            continue
        game = Swap(ConfigSwap(rows=rows, cols=cols))
        game.board = b.astype(np.int8)
        legal = game.legal_actions()
        assert legal == brute_legal(b.tolist())
        assert game.legal_actions() == legal  # cached, same answer
        # apply's validity agrees (on random 4-tuples, mostly illegal)
        for _ in range(20):
            act = tuple(int(x) for x in rng.integers(0, [rows, cols, rows, cols]))
            g2 = Swap(game.config)
            g2.board = b.astype(np.int8)
            assert g2.apply(act, np.random.default_rng(0)).valid == ref_valid(b.tolist(), *act)
        checked += 1


def test_legal_actions_follow_direct_board_edits():
    game = paper_game(put(background(), {(2, 4): A, (2, 5): A, (3, 6): A}))
    assert game.legal_actions() == [(2, 6, 3, 6)]
    game.board[3, 6] = 0
    assert game.legal_actions() == []


def test_never_terminates():
    game = paper_game()
    rng = np.random.default_rng(5)
    game.deal(rng)
    for _ in range(300):
        legal = game.legal_actions()
        out = game.apply(legal[0], rng)
        assert out.valid and not out.terminated and not game.is_over()


# -- actions and answers -------------------------------------------------------------------------------


def test_coerce_action():
    game = paper_game()
    assert game.coerce_action((1, 2, 1, 3)) == (1, 2, 1, 3)
    assert game.coerce_action([0, 0, 1, 0]) == (0, 0, 1, 0)
    assert game.coerce_action(np.array([7, 7, 6, 7])) == (7, 7, 6, 7)
    assert game.coerce_action((np.int64(1), 2, 3, 4)) == (1, 2, 3, 4)
    assert isinstance(game.coerce_action(np.array([7, 7, 6, 7])[0]), ParseError)
    for bad in [(1, 2, 3), (1, 2, 3, 4, 5), (1, 2, 3, 8), (-1, 0, 0, 0), (True, 0, 0, 1), (0.0, 1, 0, 0),
                "0 0 0 1", 5, None, np.array([1.0, 2.0, 3.0, 4.0]), np.zeros((2, 2), dtype=int)]:
        assert isinstance(game.coerce_action(bad), ParseError), bad


def test_answers_round_trip():
    game = paper_game()
    text = game.format_action((2, 3, 2, 4))
    assert text == "<answer>(2, 3) (2, 4)</answer>"
    assert game.parse_answer("<think>x</think>" + text) == (2, 3, 2, 4)
    assert isinstance(game.parse_answer("<answer>(2, 3) (2, 8)</answer>"), ParseError)
    assert isinstance(game.parse_answer("<answer>7</answer>"), ParseError)
    assert isinstance(game.parse_answer("no answer"), ParseError)
    space = game.action_space()
    assert list(space.nvec) == [8, 8, 8, 8]


# -- views -----------------------------------------------------------------------------------------------


def test_perception_text_format():
    game = paper_game(put(background(), {(2, 4): A, (2, 5): A, (3, 6): A}))
    lines = game.perception_text().split("\n")
    assert len(lines) == 8
    assert lines[0] == ("Red circle | Red square | Red triangle | Green circle | Green square | Green triangle | "
                        "Blue circle | Blue square")
    assert lines[2].split(" | ")[4:6] == ["Yellow circle", "Yellow circle"]
    assert all(len(line.split(" | ")) == 8 for line in lines)
    assert all(cell == cell.strip() for line in lines for cell in line.split(" | "))
    state = game.structured_state()
    assert state["rows"] == state["cols"] == 8
    assert [" | ".join(row) for row in state["cells"]] == lines
    assert state["kinds"] == game.config.palette and state["shuffles"] == 0
    json.dumps(state)


def test_perception_text_with_sampled_kinds_and_spaced_names():
    cfg = ConfigSwap(colors=["Dark green", "Steel blue", "Red"], shapes=["circle", "star"], n_kinds=3)
    game = Swap(cfg)
    game.deal(np.random.default_rng(2))
    names = [cfg.palette[k] for k in game.kinds.tolist()]
    expected = "\n".join(" | ".join(names[v] for v in row) for row in game.board.tolist())
    assert game.perception_text() == expected
    assert set(game.perception_text().replace("\n", " | ").split(" | ")) <= set(names)


def test_status_and_prompt():
    game = paper_game(put(background(), {(2, 4): A, (2, 5): A, (3, 6): A}), score=12, moves=3)
    assert game.status_text() == "Score: 12   Moves: 3"
    prompt = Swap(ConfigSwap.from_preset("base")).prompt()  # g1bench's (the paper preset's is G1's: test_prompts)
    assert prompt.startswith("You are playing a Match-3 Game")
    assert "color (Red, Green, Blue, Yellow) and shape (circle, square, triangle)" in prompt
    assert "8 rows and 8 columns" in prompt and "0-indexed" in prompt
    assert prompt.endswith("<answer>(row1, col1) (row2, col2)</answer>.")
    assert "<perception></perception>" in prompt and "<think></think>" in prompt
    assert not any(line.startswith((" ", "\t")) for line in prompt.split("\n"))
    wide = Swap(ConfigSwap.from_preset("composition")).prompt()
    assert "10 rows and 10 columns" in wide and "Magenta" in wide and "star" in wide


def test_rendering_hooks():
    game = paper_game(put(background(), {(2, 4): A, (2, 5): A, (3, 6): A}))
    keys = game.cell_keys()
    assert keys.shape == (8, 8) and keys[2, 4] == A + 1 and keys.min() >= 1
    sprite = game.draw_sprite(int(keys[0, 0]), 70)
    assert sprite.shape == (70, 70, 3) and sprite.dtype == np.uint8
    assert (sprite == (255, 0, 0)).all(axis=2).any()  # the Red circle is red
    # sampled kinds: a key is the palette id, so it always draws the same picture
    cfg = ConfigSwap.from_preset("more-kinds")
    g = Swap(cfg)
    g.deal(np.random.default_rng(4))
    k = int(g.cell_keys()[0, 0])
    colour, shape = cfg.palette[k - 1].split(" ")
    assert g.perception_text().split(" | ")[0] == f"{colour} {shape}"


# -- snapshots -------------------------------------------------------------------------------------------


def test_state_round_trip():
    game = Swap(ConfigSwap.from_preset("more-kinds"))
    rng = np.random.default_rng(3)
    game.deal(rng)
    for _ in range(10):
        game.apply(game.legal_actions()[0], rng)
    state = json.loads(json.dumps(game.get_state()))
    other = Swap(game.config)
    other.set_state(state)
    assert other.get_state() == game.get_state()
    assert other.perception_text() == game.perception_text()
    assert other.legal_actions() == game.legal_actions()
    assert (other.cell_keys() == game.cell_keys()).all()


def _mutate(state, **changes):
    s = json.loads(json.dumps(state))
    s.update(changes)
    return s


def test_set_state_rejects_malformed_input():
    game = paper_game(put(background(), {(2, 4): A, (2, 5): A, (3, 6): A}))
    good = game.get_state()
    line = put(background(), {(2, 4): A, (2, 5): A, (2, 6): A})
    bad_states = [
        ([], "must be a dict"),
        ({k: v for k, v in good.items() if k != "kinds"}, "missing"),
        (_mutate(good, board=good["board"][:7]), "8 lists of 8"),
        (_mutate(good, board=[row[:7] for row in good["board"]]), "8 lists of 8"),
        (_mutate(good, board=[[12] * 8] * 8), "integers 0..11"),
        (_mutate(good, board=[[True] * 8] * 8), "integers 0..11"),
        (_mutate(good, kinds=good["kinds"][:11]), "list of 12"),
        (_mutate(good, kinds=good["kinds"][:11] + ["Purple circle"]), "outside the palette"),
        (_mutate(good, kinds=good["kinds"][:11] + ["Red circle"]), "duplicates"),
        (_mutate(good, score=-1), "'score'"),
        (_mutate(good, moves="3"), "'moves'"),
        (_mutate(good, board=line), "already holds a line"),
        (_mutate(good, board=background()), "no valid swap"),
    ]
    for state, message in bad_states:
        with pytest.raises(ValueError, match=message):
            game.set_state(state)
        assert game.get_state() == good  # nothing was half-applied


# -- configs ---------------------------------------------------------------------------------------------


def test_presets():
    assert set(ConfigSwap.preset_grid) == set(ConfigSwap.presets)
    paper = ConfigSwap.from_preset("paper")
    assert (paper.rows, paper.cols, paper.kinds_in_play) == (8, 8, 12)
    assert paper.colors == ("Red", "Green", "Blue", "Yellow") and paper.shapes == ("circle", "square", "triangle")
    assert Swap(paper).cell_px == 70
    assert paper.model_frame == (640, 640) and paper.model_resample == "bicubic"  # G1's eval frame for Swap
    assert ConfigSwap.from_preset("base") == dataclasses.replace(paper, prompt_version="g1bench-v1", answer_grammar="lenient",
                                                                 model_frame="native")
    more = ConfigSwap.from_preset("more-kinds")
    assert (more.rows, more.kinds_in_play, len(more.palette)) == (8, 12, 36)
    large = ConfigSwap.from_preset("large")
    assert (large.rows, large.cols, large.kinds_in_play) == (10, 10, 16)
    comp = ConfigSwap.from_preset("composition")
    assert (comp.rows, comp.kinds_in_play, len(comp.palette)) == (10, 16, 36)
    for name in ConfigSwap.presets:
        cfg = ConfigSwap.from_preset(name)
        assert Swap(cfg).cell_px * cfg.cols == 560  # every preset keeps the paper's 560 px board width


@pytest.mark.parametrize("overrides, message", [
    ({"rows": 2}, "rows must be between 3 and 12"),
    ({"cols": 13}, "cols must be between 3 and 12"),
    ({"rows": 8.0}, "rows must be an integer"),
    ({"n_kinds": 2}, "n_kinds must be 0"),
    ({"n_kinds": 13}, "palette size 4x3=12"),
    ({"n_kinds": True}, "n_kinds must be an integer"),
    ({"colors": ["Red", "Mauve"]}, "unknown \\['Mauve'\\]"),
    ({"shapes": ["circle", "circle"]}, "duplicates"),
    ({"shapes": []}, "at least 1"),
    ({"colors": ["Red"], "shapes": ["circle", "square"]}, "at least 3"),
    ({"cell_px": 8}, "cell_px"),
    ({"size": 8}, "no knob"),
])
def test_config_validation(overrides, message):
    with pytest.raises(ConfigError, match=message):
        ConfigSwap.from_preset("paper", **overrides)


def test_game_needs_its_config():
    from g1bench.games.twenty48 import Config2048

    with pytest.raises(TypeError):
        Swap(Config2048())


# -- through the env -------------------------------------------------------------------------------------


def test_env_integration():
    from g1bench.core.env import G1Env

    env = G1Env("swap", difficulty="paper", max_steps=5)
    frame, info = env.reset(seed=0)
    assert frame.shape == env.observation_space.shape and frame.shape[0] % 28 == 0 and frame.shape[1] % 28 == 0
    assert info["perception"] == env.game.perception_text() and info["n_legal"] >= 1
    frame2, _ = G1Env("swap", difficulty="paper").reset(seed=0)
    assert (frame == frame2).all()
    legal = env.game.legal_actions()[0]
    answer = "<perception>" + info["perception"] + "</perception><think>t</think>" + env.game.format_action(legal)
    wrong = "<perception>x</perception><think>t</think><answer>(0, 0) (0, 0)</answer>"
    snap = env.get_state()
    group = env.evaluate_group([answer, wrong, "garbage"])
    assert [j.reward for j in group] == [1.0, -1.0, -1.0]
    assert group[0].perception_ok and group[0].format_ok and group[0].outcome.score_delta >= 6
    assert group[1].outcome.reason == "same cell" and group[2].parse_error
    assert env.get_state() == snap
    _, reward, terminated, truncated, info = env.step(answer)
    assert reward == 1.0 and not terminated and info["score_delta"] >= 6
    restored = G1Env("swap", difficulty="paper")
    restored.set_state(json.dumps(env.get_state()))
    assert (restored.render() == env.render()).all()
    for _ in range(4):
        _, reward, terminated, truncated, _ = env.step((0, 0, 0, 0))
    assert reward == -1.0 and truncated and not terminated

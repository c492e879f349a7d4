"""Shisen-Sho: the path rule on hand-built boards, the fast all-pairs test against a slow reference search,
deals, actions, views, snapshots, configs and the env."""

from __future__ import annotations

import json
from collections import deque

import numpy as np
import pytest

from g1bench.core.answer import ParseError
from g1bench.core.config import ConfigError
from g1bench.core.env import G1Env
from g1bench.games.shisensho import (
    PAPER_COLORS,
    PAPER_SHAPES,
    ConfigShisenSho,
    ShisenSho,
    connectable_pairs,
)
from g1bench.render.shapes import COLORS, shape_tile

RNG = np.random.default_rng(0)
#: letters of hand-built boards -> kind names of the paper palette
NAMES = {"A": "Red circle", "B": "Green square", "C": "Blue triangle", "D": "Yellow diamond", "X": "Cyan star"}


# -- helpers -----------------------------------------------------------------------------------------


def game_from(rows: list[str], score: int = 0, moves: int = 0) -> ShisenSho:
    """A game set to a hand-built board: one string per row, '.' = empty, letters = kinds (see NAMES)."""
    R, C = len(rows), len(rows[0])
    n = R * C
    n_kinds = next(k for k in range(1, n + 1) if n % k == 0 and (n // k) % 2 == 0)
    g = ShisenSho(ConfigShisenSho(rows=R, cols=C, n_kinds=n_kinds, colors=PAPER_COLORS, shapes=PAPER_SHAPES))
    letters = sorted({ch for row in rows for ch in row if ch != "."})
    g.set_state({
        "kinds": [NAMES[ch] for ch in letters],
        "board": [[-1 if ch == "." else letters.index(ch) for ch in row] for row in rows],
        "score": score, "moves": moves,
    })
    return g


def reference_reachable(grid: np.ndarray, a: tuple[int, int]) -> set[tuple[int, int]]:
    """Slow and obviously correct: the tiles a path with at most 2 turns from tile ``a`` can reach.

    BFS over (cell, direction, turns) on the board padded with an empty one-cell ring; a path stops at
    the first tile it enters. Kinds are ignored.
    """
    R, C = grid.shape
    occ = np.zeros((R + 2, C + 2), dtype=bool)
    occ[1:-1, 1:-1] = grid >= 0
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    start = (a[0] + 1, a[1] + 1)
    queue = deque((start, d, 0) for d in range(4))
    seen = set(queue)
    reached = set()
    while queue:
        (r, c), d, turns = queue.popleft()
        nr, nc = r + steps[d][0], c + steps[d][1]
        if not (0 <= nr < R + 2 and 0 <= nc < C + 2):
            continue
        if occ[nr, nc]:
            if (nr, nc) != start:
                reached.add((nr - 1, nc - 1))
            continue
        for nd in range(4):
            state = ((nr, nc), nd, turns + (nd != d))
            if state[2] <= 2 and state not in seen:
                seen.add(state)
                queue.append(state)
    return reached


def reference_connected(grid: np.ndarray, a: tuple[int, int], b: tuple[int, int]) -> bool:
    return tuple(b) in reference_reachable(grid, a)


def reference_legal(grid: np.ndarray) -> list[tuple[int, int, int, int]]:
    R, C = grid.shape
    out = []
    for r in range(R):
        for c in range(C):
            if grid[r, c] >= 0:
                out += [(r, c, *b) for b in reference_reachable(grid, (r, c)) if b > (r, c) and grid[b] == grid[r, c]]
    return sorted(out)


def legal(g: ShisenSho, r1, c1, r2, c2) -> bool:
    pair = (r1, c1, r2, c2) if (r1, c1) < (r2, c2) else (r2, c2, r1, c1)
    in_list = pair in g.legal_actions()
    assert in_list == reference_connected(g._grid, (r1, c1), (r2, c2)) or g._grid[r1, c1] != g._grid[r2, c2]
    return in_list


def assert_rejected(g: ShisenSho, action, reason: str) -> None:
    before = g.get_state()
    out = g.apply(action, RNG)
    assert (out.valid, out.success, out.score_delta, out.terminated) == (False, False, 0, False)
    assert out.reason == reason
    assert out.reward == -1.0
    assert g.get_state() == before


def assert_matched(g: ShisenSho, action) -> None:
    score, remaining = g.score, g.remaining
    r1, c1, r2, c2 = action
    out = g.apply(action, RNG)
    assert out.valid and out.success and out.score_delta == 1 and out.reason is None
    assert g.score == score + 1 and g.remaining == remaining - 2
    assert g.structured_state()["cells"][r1][c1] is None and g.structured_state()["cells"][r2][c2] is None


# -- the path rule on hand-built boards -----------------------------------------------------------------


def test_adjacent_tiles_match_horizontally_and_vertically():
    g = game_from(["XXXX", "XAAX", "XXXX"])
    assert legal(g, 1, 1, 1, 2)
    assert_matched(g, (1, 1, 1, 2))
    g = game_from(["XXX", "XAX", "XAX", "XXX"])
    assert legal(g, 1, 1, 2, 1)
    assert_matched(g, (2, 1, 1, 1))  # either order


def test_straight_line_with_a_gap_and_blocked():
    assert legal(game_from(["XXXXXX", "XA.AXX", "XXXXXX"]), 1, 1, 1, 3)
    assert legal(game_from(["XXX", "XAX", "X.X", "X.X", "XAX", "XXX"]), 1, 1, 4, 1)
    g = game_from(["XXXXXX", "XABAXX", "XXXXXX"])
    assert not legal(g, 1, 1, 1, 3)
    assert_rejected(g, (1, 1, 1, 3), "no path with at most 2 turns")


def test_one_turn():
    g = game_from(["XXXX", "XA.X", "XXAX", "XXXX"])
    assert legal(g, 1, 1, 2, 2)
    assert_matched(g, (1, 1, 2, 2))
    g = game_from(["XXXX", "XABX", "XXAX", "XXXX"])  # the corner is taken
    assert_rejected(g, (1, 1, 2, 2), "no path with at most 2 turns")


def test_two_turns_z_and_u_shapes():
    z = game_from(["XXXXXX", "XA.XXX", "XX.XXX", "XX.AXX", "XXXXXX"])
    assert legal(z, 1, 1, 3, 3)
    u = game_from(["XXXXX", "X...X", "XABAX", "XXXXX"])
    assert legal(u, 2, 1, 2, 3)
    assert_matched(u, (2, 3, 2, 1))


def test_three_turns_are_not_allowed():
    g = game_from(["XXXXXX", "XA.XXX", "XX..XX", "XXX.AX", "XXXXXX"])  # a staircase needs 4 turns
    assert not legal(g, 1, 1, 3, 4)
    assert_rejected(g, (1, 1, 3, 4), "no path with at most 2 turns")
    # opposite corners of a full board: around the outside is 3 turns
    g = game_from(["ABCD", "BCDA"])
    assert not legal(g, 0, 0, 1, 3)


@pytest.mark.parametrize(
    "rows, pair",
    [
        (["AXXA", "XXXX"], (0, 0, 0, 3)),  # top row: up into the ring, across, down
        (["XXXX", "AXXA"], (1, 0, 1, 3)),  # bottom row
        (["AX", "XX", "XX", "AX"], (0, 0, 3, 0)),  # left column
        (["XA", "XX", "XX", "XA"], (0, 1, 3, 1)),  # right column
        (["XXXA", "XXXX", "XXXA"], (0, 3, 2, 3)),  # right column, the top one in a corner
    ],
)
def test_paths_around_the_border(rows, pair):
    g = game_from(rows)
    assert legal(g, *pair)
    assert_matched(g, pair)


def test_the_ring_goes_around_a_blocker_but_interior_tiles_cannot_reach_it():
    # (0,0) and (2,0) on the left edge with B between: left into the ring, down, right
    g = game_from(["AXXX", "BXXX", "AXXX"])
    assert legal(g, 0, 0, 2, 0)
    g = game_from(["XXXXXX", "XAXAXX", "XXXXXX"])  # interior tiles cannot reach the ring
    assert_rejected(g, (1, 1, 1, 3), "no path with at most 2 turns")


def test_same_cell_empty_cell_and_different_kinds():
    g = game_from(["AB..", "BA..", "....", "...."])
    assert_rejected(g, (0, 0, 0, 0), "same cell")
    assert_rejected(g, (0, 0, 2, 2), "cell (2, 2) is empty")
    assert_rejected(g, (3, 3, 0, 0), "cell (3, 3) is empty")
    assert_rejected(g, (0, 0, 0, 1), "tiles differ: Red circle vs Green square")
    assert_rejected(g, (0, 1, 0, 0), "tiles differ: Red circle vs Green square")


def test_reasons_name_the_first_empty_cell_in_canonical_order():
    g = game_from(["A...", "....", "...A", "...."])
    assert_rejected(g, (3, 3, 1, 1), "cell (1, 1) is empty")
    assert_rejected(g, (1, 1, 0, 0), "cell (1, 1) is empty")


def test_actions_are_unordered_and_legal_actions_are_canonical():
    g = game_from(["AA..", "B..B", "....", "CC.."])
    acts = g.legal_actions()
    assert acts == sorted(acts) and len(set(acts)) == len(acts)
    assert all((r1, c1) < (r2, c2) for r1, c1, r2, c2 in acts)
    assert acts == [(0, 0, 0, 1), (1, 0, 1, 3), (3, 0, 3, 1)]
    assert_matched(g, (1, 3, 1, 0))
    assert g.legal_actions() == [(0, 0, 0, 1), (3, 0, 3, 1)]


# -- the fast all-pairs test against the reference search ------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_legal_actions_equal_the_reference_on_random_boards(seed):
    rng = np.random.default_rng(seed)
    sizes = [(2, 2), (2, 5), (3, 4), (4, 4), (5, 6), (6, 6), (7, 4), (8, 8), (9, 12), (12, 12), (16, 3), (16, 16)]
    n = 0
    for rows, cols in sizes:
        for density in (0.15, 0.4, 0.7, 0.9, 1.0):
            for _ in range(3):
                grid = rng.integers(0, int(rng.integers(1, 6)), size=(rows, cols))
                grid[rng.random((rows, cols)) >= density] = -1
                assert connectable_pairs(grid) == reference_legal(grid), (rows, cols, density, grid.tolist())
                n += 1
    assert n == 180  # x 4 seeds = 720 boards


@pytest.mark.parametrize("preset", ["paper", "composition", "more-tiles"])
def test_legal_actions_follow_the_reference_through_whole_games(preset):
    """The occupancy is updated incrementally as pairs go: check every position of random games."""
    cfg = ConfigShisenSho.from_preset(preset)
    rng = np.random.default_rng(1)
    for _ in range(2 if preset == "paper" else 1):
        g = ShisenSho(cfg)
        g.deal(rng)
        while True:
            acts = g.legal_actions()
            assert acts == reference_legal(g._grid)
            assert g.is_over() == (not acts)
            if not acts:
                break
            out = g.apply(acts[int(rng.integers(len(acts)))], rng)
            assert out.success and out.terminated == (not reference_legal(g._grid))


# -- deals ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", list(ConfigShisenSho.presets))
def test_a_deal_places_every_kind_exactly_copies_times(preset):
    cfg = ConfigShisenSho.from_preset(preset)
    for seed in range(5):
        g = ShisenSho(cfg)
        g.deal(np.random.default_rng(seed))
        cells = [c for row in g.structured_state()["cells"] for c in row]
        assert None not in cells
        counts = {k: cells.count(k) for k in set(cells)}
        assert len(counts) == cfg.kinds_count
        assert set(counts.values()) == {cfg.copies}
        palette = {f"{c} {s}" for c in cfg.colors for s in cfg.shapes}
        assert set(counts) <= palette
        assert sorted(counts) == sorted(g.structured_state()["kinds"])
        assert g.legal_actions() and g.score == 0 and g.moves == 0


def test_deal_is_deterministic_per_seed_and_differs_between_seeds():
    cfg = ConfigShisenSho.from_preset("paper")
    boards = []
    for seed in (5, 5, 6):
        g = ShisenSho(cfg)
        g.deal(np.random.default_rng(seed))
        boards.append(g.get_state())
    assert boards[0] == boards[1] and boards[0] != boards[2]


class CountingRng:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.permutations = 0

    def choice(self, *a, **k):
        return self.rng.choice(*a, **k)

    def permutation(self, *a, **k):
        self.permutations += 1
        return self.rng.permutation(*a, **k)


def test_a_deal_without_a_connectable_pair_is_redealt():
    # 2x2 with two kinds: the two diagonal layouts (AB/BA, BA/AB) have no connectable pair
    cfg = ConfigShisenSho(rows=2, cols=2, n_kinds=2)
    redealt = 0
    for seed in range(40):
        rng = CountingRng(seed)
        g = ShisenSho(cfg)
        g.deal(rng)
        assert g.legal_actions()
        redealt += rng.permutations > 1
    assert redealt > 0


def test_cleared_board_and_stuck_board_end_the_game():
    g = game_from(["AA", ".."])
    out = g.apply((0, 0, 0, 1), RNG)
    assert out.success and out.terminated and g.is_over() and g.remaining == 0
    assert g.perception_text() == " - | - \n - | - "
    # after the C pair goes, A and B block each other (every route needs 3 turns)
    g = game_from(["CCAB", "..BA"])
    assert reference_legal(g._grid) == g.legal_actions() == [(0, 0, 0, 1)]
    out = g.apply((0, 0, 0, 1), RNG)
    assert out.success and out.terminated and g.remaining == 4 and g.legal_actions() == []
    assert game_from(["AB", "BA"]).is_over()


def test_big_coordinates_are_not_aliased():
    # the original encoded actions in base 6: (0,7)(1,2) became (1,1)(1,2); (11,11)(10,11) became row 13
    rows = [["."] * 12 for _ in range(12)]
    tiles = {(0, 7): "A", (1, 2): "A", (1, 1): "B", (2, 1): "B", (10, 11): "C", (11, 11): "C"}
    for (r, c), ch in tiles.items():
        rows[r][c] = ch
    rows = ["".join(row) for row in rows]
    g = game_from(rows)
    assert g.parse_answer("<answer>(0, 7) (1, 2)</answer>") == (0, 7, 1, 2)
    assert g.parse_answer("<answer>(11, 11) (10, 11)</answer>") == (11, 11, 10, 11)
    assert_matched(g, g.parse_answer("<answer>(0, 7) (1, 2)</answer>"))
    cells = g.structured_state()["cells"]
    assert cells[1][1] == "Green square" and cells[2][1] == "Green square"
    assert_matched(g, g.coerce_action((11, 11, 10, 11)))
    assert g.legal_actions() == [(1, 1, 2, 1)]


# -- actions ------------------------------------------------------------------------------------------------


def test_coerce_action():
    g = ShisenSho(ConfigShisenSho.from_preset("composition"))
    assert g.coerce_action((0, 7, 11, 11)) == (0, 7, 11, 11)
    assert g.coerce_action([1, 2, 3, 4]) == (1, 2, 3, 4)
    assert g.coerce_action(np.array([1, 2, 3, 4])) == (1, 2, 3, 4)
    assert g.coerce_action((np.int64(1), 2, np.int32(3), 4)) == (1, 2, 3, 4)
    assert all(type(v) is int for v in g.coerce_action(np.array([1, 2, 3, 4], dtype=np.int16)))
    for bad in [(1, 2, 3), (1, 2, 3, 4, 5), (True, 0, 0, 1), (0.0, 1, 2, 3), "0 0 1 1", 5, None,
                np.array([1.0, 2, 3, 4]), np.zeros((2, 2), dtype=int), (0, 12, 0, 0), (-1, 0, 0, 0)]:
        assert isinstance(g.coerce_action(bad), ParseError), bad
    assert "outside the 12x12 board" in str(g.coerce_action((0, 12, 0, 0)))
    space = g.action_space()
    assert list(space.nvec) == [12, 12, 12, 12]
    space.seed(0)
    assert all(not isinstance(g.coerce_action(space.sample()), ParseError) for _ in range(20))


def test_format_and_parse_answers():
    g = ShisenSho(ConfigShisenSho.from_preset("paper"))
    assert g.format_action((0, 1, 2, 3)) == "<answer>(0, 1) (2, 3)</answer>"
    assert g.parse_answer(g.format_action((5, 4, 3, 2))) == (5, 4, 3, 2)
    assert isinstance(g.parse_answer("<answer>(6, 0) (0, 0)</answer>"), ParseError)
    assert isinstance(g.parse_answer("no answer"), ParseError)


# -- views ----------------------------------------------------------------------------------------------------


def test_perception_text_structured_state_and_status():
    g = game_from(["AB", ".A"], score=3, moves=3)
    assert g.perception_text() == " Red circle | Green square \n - | Red circle "
    s = g.structured_state()
    assert s["rows"] == 2 and s["cols"] == 2
    assert s["cells"] == [["Red circle", "Green square"], [None, "Red circle"]]
    assert s["kinds"] == ["Red circle", "Green square"] and s["remaining"] == 3
    s["cells"][0][0] = "mutated"
    assert g.structured_state()["cells"][0][0] == "Red circle"
    assert g.status_text() == "Score: 3   Remaining: 3"
    json.dumps(s)


def test_perception_text_matches_the_paper_format_on_a_dealt_board():
    g = ShisenSho(ConfigShisenSho.from_preset("paper"))
    g.deal(np.random.default_rng(0))
    lines = g.perception_text().split("\n")
    assert len(lines) == 6
    for line, row in zip(lines, g.structured_state()["cells"]):
        assert line == "|".join(f" {c} " for c in row)


def test_prompt_lists_the_configured_palette_and_board_size():
    g = ShisenSho(ConfigShisenSho.from_preset("base"))
    p = g.prompt()
    assert p.startswith("You are playing a 'Shisen-sho' puzzle game.\n")
    assert "- Colors: Red, Green, Blue\n- Shapes: circle, square, triangle\n" in p
    assert "Yellow" not in p and "etc." not in p
    assert "The board has 6 rows and 6 columns." in p
    assert p.endswith("final action in <answer>(row1, col1) (row2, col2)</answer>.")
    assert "0-indexed" in p
    assert all(line == line.strip() for line in p.split("\n"))
    assert "  " not in p
    p12 = ShisenSho(ConfigShisenSho.from_preset("composition")).prompt()
    assert "12 rows and 12 columns" in p12 and "Magenta, Cyan" in p12 and "cross, star" in p12


# -- snapshots --------------------------------------------------------------------------------------------------


def test_state_round_trip_through_json():
    g = ShisenSho(ConfigShisenSho.from_preset("paper"))
    rng = np.random.default_rng(3)
    g.deal(rng)
    for _ in range(4):
        g.apply(g.legal_actions()[0], rng)
    state = json.loads(json.dumps(g.get_state()))
    h = ShisenSho(ConfigShisenSho.from_preset("paper"))
    h.set_state(state)
    assert h.get_state() == g.get_state()
    assert h.perception_text() == g.perception_text()
    assert h.legal_actions() == g.legal_actions()
    assert np.array_equal(h.cell_keys(), g.cell_keys())
    assert (h.score, h.moves) == (4, 4)
    assert set(state) == {"kinds", "board", "score", "moves"}


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda s: s.pop("board"), "missing"),
        (lambda s: s.update(board=s["board"][:5]), "6 lists of 6"),
        (lambda s: s["board"][0].append(0), "6 lists of 6"),
        (lambda s: s["board"][0].__setitem__(0, 9), "index into kinds"),
        (lambda s: s["board"][0].__setitem__(0, -2), "index into kinds"),
        (lambda s: s["board"][0].__setitem__(0, True), "index into kinds"),
        (lambda s: s["board"][0].__setitem__(0, 1.0), "index into kinds"),
        (lambda s: s.update(kinds=s["kinds"][:-1] + ["Purple blob"]), "cannot deal"),
        (lambda s: s.update(kinds=s["kinds"][:-1] + [s["kinds"][0]]), "duplicates"),
        (lambda s: s.update(kinds="Red circle"), "list of kind names"),
        (lambda s: s.update(score=-1), "score"),
        (lambda s: s.update(moves="3"), "moves"),
    ],
)
def test_malformed_states_are_rejected(mutate, message):
    g = ShisenSho(ConfigShisenSho.from_preset("paper"))
    g.deal(np.random.default_rng(0))
    state = g.get_state()
    mutate(state)
    with pytest.raises(ValueError, match=message):
        g.set_state(state)
    with pytest.raises(ValueError):
        g.set_state(["not", "a", "dict"])


# -- rendering ------------------------------------------------------------------------------------------------


def test_cell_keys_name_the_palette_entry_in_every_deal():
    cfg = ConfigShisenSho.from_preset("more-kinds")
    g = ShisenSho(cfg)
    for seed in range(3):
        g.deal(np.random.default_rng(seed))
        keys = g.cell_keys()
        cells = g.structured_state()["cells"]
        for r in range(6):
            for c in range(6):
                color, shape = cfg.palette[keys[r, c] - 1]
                assert cells[r][c] == f"{color} {shape}"
    g.apply(g.legal_actions()[0], RNG)
    assert (g.cell_keys() == 0).sum() == 2
    assert np.array_equal(g.draw_sprite(1, 40), shape_tile("circle", COLORS["Red"], 40))
    assert g.draw_sprite(0, 40).min() >= 200  # blank


def test_cell_size_defaults_to_a_board_of_about_672_px():
    assert ShisenSho(ConfigShisenSho(rows=6, cols=6)).cell_px == 84
    assert ShisenSho(ConfigShisenSho(rows=12, cols=12, n_kinds=9)).cell_px == 56
    assert ShisenSho(ConfigShisenSho(rows=16, cols=16, n_kinds=8)).cell_px == 42
    assert ShisenSho(ConfigShisenSho(rows=6, cols=6, cell_px=30)).cell_px == 30


# -- configs ------------------------------------------------------------------------------------------------------


def test_presets_and_grid():
    P = ConfigShisenSho.presets
    assert set(P) == {"base", "more-kinds", "more-tiles", "composition", "paper"}
    assert set(ConfigShisenSho.preset_grid) == set(P)
    # the paper board is the "more-kinds" board, spoken to in G1's protocol (G1's prompt, grammar and frame size)
    assert P["paper"] == {**P["more-kinds"], "prompt_version": "g1-paper", "answer_grammar": "g1",
                          "model_frame": (640, 640), "model_resample": "bicubic"}
    comp = ConfigShisenSho.from_preset("composition")
    assert (comp.rows, comp.cols, comp.kinds_count, comp.copies) == (12, 12, 36, 4)
    tiles = ConfigShisenSho.from_preset("more-tiles")
    assert (tiles.rows, tiles.kinds_count, tiles.copies, tiles.colors) == (12, 9, 16, ("Red", "Green", "Blue"))
    base = ConfigShisenSho.from_preset("base")
    assert (base.rows, base.kinds_count, base.copies) == (6, 9, 4)
    assert ConfigShisenSho.from_preset(None) == ConfigShisenSho.from_preset("paper")
    assert ConfigShisenSho(rows=6, cols=6, n_kinds=0).kinds_count == 9


@pytest.mark.parametrize(
    "knobs, message",
    [
        ({"rows": 1}, "rows must be between 2 and 16"),
        ({"cols": 17}, "cols must be between 2 and 16"),
        ({"rows": 3, "cols": 3}, "must be even"),
        ({"rows": 6.0}, "must be an integer"),
        ({"n_kinds": 5}, "valid n_kinds"),  # 36 / 5
        ({"n_kinds": 4}, "even number of copies"),  # 9 copies each
        ({"rows": 2, "cols": 5, "n_kinds": 0}, r"auto = 2"),  # 10 cells / 2 = 5 copies
        ({"n_kinds": 9, "colors": ("Red", "Green"), "shapes": ("circle", "square")}, "only 4 are available"),
        ({"colors": ("Red", "Mauve", "Blue")}, "unknown"),
        ({"shapes": ("circle", "blob", "square")}, "unknown"),
        ({"colors": ("Red", "Red", "Blue")}, "duplicates"),
        ({"colors": "Red"}, "list of names"),
        ({"n_kinds": -1}, "n_kinds"),
    ],
)
def test_config_validation(knobs, message):
    with pytest.raises(ConfigError, match=message):
        ConfigShisenSho(**knobs)


# -- the env ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", list(ConfigShisenSho.presets))
def test_env_presets_build_and_play(preset):
    env = G1Env("shisensho", difficulty=preset)
    frame, info = env.reset(seed=0)
    assert frame.shape[0] % 28 == 0 and frame.shape[1] % 28 == 0
    assert 500 <= max(frame.shape[:2]) <= 728
    assert info["n_legal"] == len(env.game.legal_actions()) > 0
    action = env.game.legal_actions()[0]
    frame2, reward, term, trunc, info = env.step(env.game.format_action(action))
    assert reward == 1.0 and info["success"] and info["score"] == 1
    assert not np.array_equal(frame, frame2)
    frame3, reward, term, trunc, info = env.step(action)
    assert reward == -1.0 and not info["valid"] and info["reason"] == f"cell ({action[0]}, {action[1]}) is empty"
    assert np.array_equal(frame2, frame3)


def test_env_frames_are_reproducible_and_labels_work():
    a = G1Env("shisensho", difficulty="composition", labels=True).reset(seed=11)[0]
    b = G1Env("shisensho", difficulty="composition", labels=True).reset(seed=11)[0]
    assert np.array_equal(a, b)
    plain = G1Env("shisensho", difficulty="composition").reset(seed=11)[0]
    assert a.shape != plain.shape


def test_env_group_evaluation_restores_the_board():
    env = G1Env("shisensho", difficulty="paper")
    env.reset(seed=2)
    h = env.state_hash()
    good = env.game.format_action(env.game.legal_actions()[0])
    results = env.evaluate_group([good, good, "<answer>(0, 0) (0, 0)</answer>", "junk"])
    assert [j.reward for j in results] == [1.0, 1.0, -1.0, -1.0]
    assert results[2].outcome.reason == "same cell" and results[3].parse_error
    assert env.state_hash() == h

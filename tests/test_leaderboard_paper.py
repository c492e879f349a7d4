"""The paper's reported rows scored against a suite's baselines (g1bench.leaderboard.paper.approximate_overall)."""

from __future__ import annotations

import pytest

from g1bench.leaderboard.paper import APPROXIMATE_REASON, PAPER_ROWS, approximate_overall

GAME_OF = {"2048/paper": "2048", "shisensho/paper": "shisensho", "shisensho-images/paper": "shisensho-images",
           "swap/paper": "swap"}
ANCHORS = {"2048/paper": [742.0, 1630.0], "shisensho/paper": [0.3, 100.0], "shisensho-images/paper": [0.4, 100.0],
           "swap/paper": [1.0, 100.0]}


def test_a_paper_row_is_normalised_like_a_measured_row():
    g1 = next(r for r in PAPER_ROWS if r["model"] == "G1-7B")["scores"]
    out = approximate_overall(g1, ANCHORS, GAME_OF)
    games = {"2048": 100 * (1070 - 742) / (1630 - 742), "shisensho": 100 * (17.5 - 0.3) / (100 - 0.3),
             "shisensho-images": 100 * (14.1 - 0.4) / (100 - 0.4), "swap": 100 * (78 - 1) / (100 - 1)}
    assert out["games"] == pytest.approx(games)
    assert out["overall"] == pytest.approx(sum(games.values()) / 4)
    assert out["approximate"] is True and out["reason"] == APPROXIMATE_REASON
    assert APPROXIMATE_REASON.startswith("approximate: the paper's figures are means of its own runs")


def test_below_random_is_negative_and_not_clipped():
    random_row = next(r for r in PAPER_ROWS if r["model"] == "Random")["scores"]   # 2048: 701 < g1bench's 742
    out = approximate_overall(random_row, ANCHORS, GAME_OF)
    assert out["games"]["2048"] == pytest.approx(100 * (701 - 742) / (1630 - 742)) and out["games"]["2048"] < 0


def test_cells_of_a_game_take_its_one_figure_and_games_weigh_the_same():
    game_of = {"2048/a": "2048", "2048/b": "2048", "swap/paper": "swap"}
    anchors = {"2048/a": (0, 100), "2048/b": (50, 150), "swap/paper": (0, 10)}
    out = approximate_overall({"2048": 100, "swap": 5}, anchors, game_of)
    assert out["games"] == pytest.approx({"2048": (100 + 50) / 2, "swap": 50})
    assert out["overall"] == pytest.approx((75 + 50) / 2)


def test_no_baselines_or_a_missing_game_give_no_score_and_say_why():
    out = approximate_overall({"2048": 1070}, {}, {})
    assert out["overall"] is None and out["reason"] == ("no overall score: this suite has no random and oracle "
                                                        "baseline runs to normalise with")
    out = approximate_overall({"2048": 1070}, ANCHORS, GAME_OF)
    assert out["overall"] is None
    assert out["reason"] == "no overall score: the paper reports no figure for shisensho, shisensho-images, swap"

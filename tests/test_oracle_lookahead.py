"""The oracle's one-pass look-ahead equals playing every move: same counts, same picks, same rows."""

import numpy as np
import pytest

import g1bench
from g1bench.eval.policies import OraclePolicy


def _play_each(env, legal):
    """The slow reference: play each legal move on a copy of the state and count the moves left."""
    snap = env.get_state()
    out = []
    for action in legal:
        env.set_state(snap)
        env.game.apply(action, env.np_random)
        out.append(len(env.game.legal_actions()))
    env.set_state(snap)
    return out


@pytest.mark.parametrize("game,preset,seeds", [
    ("shisensho", "more-tiles", (0, 1)),
    ("shisensho", "composition", (2,)),
    ("shisensho", "paper", (3, 4, 5)),
    ("shisensho-images", "bundled-more-tiles", (6,)),
])
def test_counts_after_equal_playing_every_move(game, preset, seeds):
    env = g1bench.make(game, difficulty=preset).unwrapped
    rng = np.random.default_rng(0)
    checked = 0
    for seed in seeds:
        env.reset(seed=seed)
        while legal := env.game.legal_actions():
            assert env.game.legal_counts_after(legal) == _play_each(env, legal)
            checked += len(legal)
            env.game.apply(legal[int(rng.integers(len(legal)))], env.np_random)  # random play: varied boards
    assert checked > 100


def test_counts_after_takes_either_cell_order_and_refuses_illegal_moves():
    env = g1bench.make("shisensho", difficulty="paper").unwrapped
    env.reset(seed=0)
    legal = env.game.legal_actions()
    flipped = [(r2, c2, r1, c1) for r1, c1, r2, c2 in legal]
    assert env.game.legal_counts_after(flipped) == env.game.legal_counts_after(legal)
    assert env.game.legal_counts_after([]) == []
    with pytest.raises(ValueError, match="legal actions only"):
        env.game.legal_counts_after([(0, 0, 0, 0)])


def test_oracle_picks_the_first_move_that_leaves_the_most_moves_open():
    oracle = OraclePolicy()
    env = g1bench.make("shisensho", difficulty="more-tiles").unwrapped
    env.reset(seed=7)
    for _ in range(12):
        state = env.get_state()
        legal = env.game.legal_actions()
        counts = _play_each(env, legal)
        expected = legal[counts.index(max(counts))]
        assert oracle.best_answer(state) == env.game.format_action(expected)
        env.game.apply(expected, env.np_random)

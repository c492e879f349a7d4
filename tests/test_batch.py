"""EnvBatch: several games at once, in-process and in worker processes, with identical results."""

import numpy as np
import pytest

import g1bench
from g1bench.core.batch import EnvBatch, EnvSpec, WorkerError


def specs():
    out = []
    for game in g1bench.list_games():
        kw = {"tile_source": "bundled"} if game == "shisensho-images" else {}
        out += [EnvSpec(game, "paper", kw), EnvSpec(game, "paper", kw)]
    return out


def drive(batch, steps=6):
    obs = batch.reset(seeds=100)
    trace = [[o.info["state_hash"] for o in obs]]
    rng = np.random.default_rng(0)
    for _ in range(steps):
        actions = []
        for o in obs:
            legal_n = o.info["n_legal"]
            actions.append(None if legal_n == 0 else _answer(o, rng))
        results = batch.step(actions)
        trace.append([r.info["state_hash"] if r else None for r in results])
        obs = [g1bench.core.batch.Observation(r.frame, "", r.info) if r else o for r, o in zip(results, obs)]
    return trace, results


def _answer(o, rng):
    cells = o.info["state"]["cells"]
    rows, cols = len(cells), len(cells[0])
    if rows == 4 and isinstance(cells[0][0], int):
        return f"<answer>{int(rng.integers(4))}</answer>"
    r1, c1, r2, c2 = (int(x) for x in rng.integers(0, min(rows, cols), size=4))
    return f"<answer>({r1}, {c1}) ({r2}, {c2})</answer>"


def test_multi_game_batch_in_process_equals_workers():
    with EnvBatch(specs()) as local:
        t_local, res_local = drive(local)
        states_local = local.get_states()
    with EnvBatch(specs(), num_workers=2) as workers:
        t_workers, res_workers = drive(workers)
        states_workers = workers.get_states()
    assert t_local == t_workers
    assert states_local == states_workers
    for a, b in zip(res_local, res_workers):
        assert np.array_equal(a.frame, b.frame) and a.reward == b.reward


def test_int_seed_offsets_and_none_skips():
    with EnvBatch([EnvSpec("2048"), EnvSpec("2048")]) as batch:
        obs = batch.reset(seeds=5)
        single = g1bench.make("2048")
        assert obs[1].info["state_hash"] == single.reset(seed=6)[1]["state_hash"]
        res = batch.step([None, 0])
        assert res[0] is None and res[1] is not None
        obs2 = batch.reset(seeds=[None, 6])
        assert obs2[0] is None and obs2[1].info["state_hash"] == obs[1].info["state_hash"]


def test_groups_and_state_resets():
    with EnvBatch([EnvSpec("2048")], num_workers=1) as batch:
        batch.reset(seeds=[0])
        state = batch.get_states()[0]
        groups = batch.evaluate_groups([["<answer>0</answer>", "<answer>1</answer>", "bad"]])
        assert [j.parse_error is None for j in groups[0]] == [True, True, False]
        assert batch.get_states()[0] == state
        obs = batch.reset(seeds=[None], states=[state])
        assert obs[0].info["state_hash"] == g1bench.make_from_state(state).state_hash()


def test_render_false_skips_frames_but_observe_renders():
    with EnvBatch([EnvSpec("2048")], render=False) as batch:
        obs = batch.reset(seeds=[0])
        assert obs[0].frame is None
        assert batch.step([0])[0].frame is None
        assert batch.observe()[0].frame.shape[2] == 3


def test_errors():
    with pytest.raises(ValueError, match="at least one env"):
        EnvBatch([])
    with EnvBatch([EnvSpec("2048")]) as batch:
        with pytest.raises(ValueError, match="expected 1 entries"):
            batch.step([0, 1])
    with pytest.raises(WorkerError, match="unknown difficulty"):
        EnvBatch([EnvSpec("2048", "nope")], num_workers=1)
    with EnvBatch([EnvSpec("2048")], num_workers=1) as batch:
        with pytest.raises(WorkerError, match="call reset"):
            batch.step([0])
        batch.reset(seeds=[0])  # the worker survived the error
        assert batch.step([0])[0] is not None


def test_frames_are_the_pictures_a_model_is_given():
    """The paper presets' frames come out at G1's sizes (as G1's sandboxes resized them); other presets as drawn."""
    with EnvBatch([EnvSpec("2048"), EnvSpec("swap"), EnvSpec("shisensho", "base")], num_workers=1) as batch:
        obs = batch.reset(seeds=0)
        assert [o.frame.shape for o in obs] == [(840, 640, 3), (640, 640, 3), (560, 504, 3)]
        stepped = batch.step(["<answer>0</answer>", "<answer>(0, 0) (0, 1)</answer>", "<answer>(0, 0) (0, 1)</answer>"])
        assert [r.frame.shape for r in stepped] == [(840, 640, 3), (640, 640, 3), (560, 504, 3)]
        env = g1bench.make("2048")
        env.reset(seed=0)
        assert np.array_equal(obs[0].frame, env.model_observation())
        assert batch.observe()[1].frame.shape == (640, 640, 3)

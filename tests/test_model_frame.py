"""What a model is given: the ``model_frame`` protocol knob (G1 resized every frame before its model saw it)."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import g1bench
from g1bench.core.config import G1_EVAL_FRAME, G1_TRAIN_FRAME, ConfigError, parse_frame_size
from g1bench.eval.policies import FunctionPolicy, Policy, RandomPolicy
from g1bench.eval.runner import Runner
from g1bench.eval.suites import get_suite
from g1bench.eval.verify import verify_run
from g1bench.render.model_frame import to_model_frame

GAMES = ("2048", "shisensho", "shisensho-images", "swap")


def _make(game, difficulty="paper", **kw):
    if game == "shisensho-images":
        kw.setdefault("tile_source", "bundled")
    return g1bench.make(game, difficulty, **kw)


def test_g1_sizes_are_the_papers():
    # spec sections 2, 4.1, 6: eval 2048 640x840 and the tile games 640x640; training 640x840 for every game
    assert G1_EVAL_FRAME == {"2048": (640, 840), "shisensho": (640, 640), "shisensho-images": (640, 640), "swap": (640, 640)}
    assert G1_TRAIN_FRAME == (640, 840)


@pytest.mark.parametrize("game", GAMES)
def test_paper_presets_give_the_model_g1s_frame_resized_with_bicubic(game):
    env = _make(game)
    frame, _ = env.reset(seed=3)
    model = env.model_observation()
    w, h = G1_EVAL_FRAME[game]
    assert env.config.model_frame == (w, h) and env.config.model_resample == "bicubic"
    assert model.shape == (h, w, 3) and model.dtype == np.uint8 and env.model_frame_size == (w, h)
    # exactly G1's GameSandbox.get_image_prompt_batch: PIL resize to screen_size with BICUBIC
    want = np.asarray(Image.fromarray(frame).resize((w, h), Image.BICUBIC))
    assert np.array_equal(model, want)
    # people keep the native frame: the observation is unchanged
    assert frame.shape[:2] != (h, w) and env.observation_space.shape == frame.shape


@pytest.mark.parametrize("game", GAMES)
def test_other_presets_give_the_model_the_frame_as_drawn(game):
    preset = "bundled" if game == "shisensho-images" else "base"
    env = _make(game, preset)
    frame, _ = env.reset(seed=0)
    assert env.config.model_frame == "native" and "model_frame" not in env.config.to_dict()
    assert env.model_observation(frame) is frame and env.model_frame_size == (frame.shape[1], frame.shape[0])


def test_the_knob_accepts_sizes_in_every_spelling_and_refuses_nonsense():
    assert parse_frame_size("640x840") == parse_frame_size([640, 840]) == parse_frame_size((640, 840)) == (640, 840)
    env = g1bench.make("2048", "base", model_frame="320X420", model_resample="lanczos")
    frame, _ = env.reset(seed=0)
    assert env.config.to_dict()["model_frame"] == [320, 420] and env.config.to_dict()["model_resample"] == "lanczos"
    assert np.array_equal(env.model_observation(), np.asarray(Image.fromarray(frame).resize((320, 420), Image.LANCZOS)))
    for bad, why in ((["640"], "must be 'native' or a size"), ("big", "must be 'native' or a size"),
                     ((10, 840), "between 28 and 4096"), ((640.0, 840), "must be 'native' or a size"),
                     ((True, 840), "must be 'native' or a size")):
        with pytest.raises(ConfigError, match=why):
            g1bench.make("2048", "base", model_frame=bad)
    with pytest.raises(ConfigError, match="model_resample must be one of"):
        g1bench.make("2048", "base", model_frame=[64, 64], model_resample="cubic")
    with pytest.raises(ConfigError, match="applies only with a model_frame size"):
        g1bench.make("2048", "base", model_resample="lanczos")


def test_a_snapshot_round_trips_the_model_frame():
    env = _make("swap")
    env.reset(seed=1)
    again = g1bench.make_from_state(json.loads(json.dumps(env.get_state())))
    assert again.config.model_frame == (640, 640) and np.array_equal(again.model_observation(), env.model_observation())


@pytest.mark.parametrize("game", GAMES)
def test_qwen25_vl_image_tokens_of_every_paper_frame_are_g1s(game):
    """The Qwen2.5-VL processor's own rule on the frames the paper suite sends: 640x840 -> a 46x60 patch grid
    -> 690 image tokens after the 2x2 merge (spec section 4.1); 640x640 -> 46x46 -> 529 tokens. Both with
    Qwen2.5-VL-7B-Instruct's own processor bounds (3136..12845056 px) and G1's training bounds (262144..4194304)."""
    processors = pytest.importorskip("transformers.models.qwen2_vl.image_processing_qwen2_vl")
    env = _make(game)
    env.reset(seed=0)
    image = Image.fromarray(env.model_observation())
    want = {(640, 840): ([1, 60, 46], 690), (640, 640): ([1, 46, 46], 529)}[G1_EVAL_FRAME[game]]
    for lo, hi in ((3136, 12845056), (262144, 4194304)):
        proc = processors.Qwen2VLImageProcessor(min_pixels=lo, max_pixels=hi, patch_size=14, merge_size=2,
                                                temporal_patch_size=2)
        grid = proc(images=[image], return_tensors="np")["image_grid_thw"][0].tolist()
        assert (grid, int(np.prod(grid)) // 4) == want


class _Shapes(Policy):
    """Records the size of every picture it is given (a model's view), answers like the random baseline."""

    name = "shapes"

    def __init__(self):
        self.seen, self.random = set(), RandomPolicy()

    def act(self, turns):
        self.seen |= {(t.game, t.frame.shape) for t in turns}
        return self.random.act(turns)


def test_the_harness_gives_models_the_model_frame_and_records_its_size(tmp_path):
    suite = get_suite("smoke")
    policy = _Shapes()
    results = Runner(suite, policy, tmp_path / "run", progress=False).run()
    assert policy.seen == {(g, (G1_EVAL_FRAME[g][1], G1_EVAL_FRAME[g][0], 3)) for g in GAMES}
    assert results["provenance"]["image_size"] == {f"{g}/paper": list(G1_EVAL_FRAME[g]) for g in GAMES}
    # the run directory keeps the frames as drawn (replays, GIFs)
    saved = {Image.open(p).size for p in (tmp_path / "run" / "frames").glob("*.png")}
    assert (448, 504) in saved and (640, 840) not in saved


def test_an_older_suite_version_still_resolves_runs_and_verifies(tmp_path):
    """paper-v2 / smoke-v2 were made before the knob, with native frames: they keep their published hash, a
    policy is given the native frame there, and their runs verify."""
    old = get_suite("smoke-v2")
    published = json.loads((Path(g1bench.__file__).parent / "eval" / "manifests" / "smoke-v2.json").read_text())
    assert old.suite_id == "smoke-v2" and old.hash() == published["hash"]
    policy = _Shapes()
    results = Runner(old, policy, tmp_path / "old", progress=False).run()
    assert (("2048", (504, 448, 3)) in policy.seen) and results["provenance"]["image_size"]["2048/paper"] == [448, 504]
    v = verify_run(tmp_path / "old")
    assert v.ok and v.suite_id == "smoke-v2" and v.suite_kind == "built-in", v.problems
    with pytest.raises(KeyError, match="smoke has versions smoke-v2, smoke-v3"):
        get_suite("smoke-v9")


def test_preflight_counts_the_model_frame():
    from g1bench.models import preflight as pf

    sizes = {key: size for key, size, *_ in pf.suite_frames(get_suite("paper"))}
    assert sizes == {f"{g}/paper": G1_EVAL_FRAME[g] for g in GAMES}
    grid = pf.VisionGrid(min_pixels=3136, max_pixels=12845056)
    assert pf.image_tokens(640, 840, grid) == 690 and pf.image_tokens(640, 640, grid) == 529


def test_a_function_policy_sees_the_model_frame(tmp_path):
    seen = []

    def fn(frames, prompts):
        seen.extend(f.shape for f in frames)
        return ["<answer>0</answer>"] * len(frames)

    Runner(get_suite("smoke"), FunctionPolicy(fn), tmp_path / "fn", progress=False).run()
    assert (840, 640, 3) in seen and (640, 640, 3) in seen and (504, 448, 3) not in seen


def test_dataset_rows_hold_the_model_frame_beside_the_frame():
    from g1bench.data.sampling import perception_row

    env = _make("2048")
    row = perception_row(env, "paper", {}, seed=0)
    frame = Image.open(io.BytesIO(row["frame"]["bytes"]))
    model = Image.open(io.BytesIO(row["model_frame"]["bytes"]))
    assert frame.size == (448, 504) and model.size == (640, 840)
    assert np.array_equal(np.asarray(model), to_model_frame(np.asarray(frame.convert("RGB")), env.config))

"""Multi-turn play through the model backends: the chat every backend sends (k + 1 images, the past answers, the
feedback lines), the pre-flight's count, and end to end with a tiny random-weight VLM on the CPU (transformers),
the fake OpenAI-compatible server, and a real `transformers serve`."""

import base64
import dataclasses
import io

import numpy as np
import pytest
from PIL import Image

import g1bench
from g1bench.core.feedback import feedback_line, longest_line
from g1bench.eval.history import History, context_hash
from g1bench.eval.policies import PastTurn, Turn
from g1bench.eval.rundir import read_steps_file
from g1bench.eval.runner import Runner, load_episodes
from g1bench.eval.suites import Suite, custom_suite, get_suite, start_game
from g1bench.eval.verify import verify_run
from g1bench.models import ModelConfig, ModelError, load_policy
from g1bench.models import messages as M
from g1bench.models import preflight as pf
from g1bench.testing.fake_openai import FakeOpenAIServer


@pytest.fixture(scope="module")
def turn():
    """A 2048 turn with two past turns (distinct frames, answers and feedback lines)."""
    env = g1bench.make("2048", "paper")
    frames = []
    for seed in range(3):
        env.reset(seed=seed)
        frames.append(env.model_observation())
    past = (PastTurn(frames[0], "<answer>1</answer>", "Feedback: reward -1. The move was played but scored nothing."),
            PastTurn(frames[1], "up", "Feedback: reward -1. Your answer could not be read: no <answer>…</answer> block."))
    return Turn(game="2048", frame=frames[2], prompt=env.prompt, state={}, episode="2048/paper@h2/0", step=5,
                history=past)


def decode(url):
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


def test_openai_messages_hold_the_past_turns_then_this_one(turn):
    msgs = M.openai_messages(turn, "Be terse.")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user", "assistant", "user"]
    p0, p1 = turn.history
    assert [p["type"] for p in msgs[1]["content"]] == ["image_url", "text"]
    assert msgs[1]["content"][1]["text"] == turn.prompt
    assert msgs[2] == {"role": "assistant", "content": p0.answer}
    assert msgs[3]["content"][0] == {"type": "text", "text": p0.feedback}  # the feedback opens the next message
    assert [p["type"] for p in msgs[3]["content"]] == ["text", "image_url", "text"]
    assert msgs[4] == {"role": "assistant", "content": p1.answer}
    assert msgs[5]["content"][0]["text"] == p1.feedback and msgs[5]["content"][2]["text"] == turn.prompt
    images = [decode(p["image_url"]["url"]) for m in msgs for p in (m["content"] if m["role"] == "user" else [])
              if p["type"] == "image_url"]
    assert len(images) == 3  # k + 1
    assert all(np.array_equal(a, b) for a, b in zip(images, [p0.frame, p1.frame, turn.frame]))
    pil = M.openai_messages(turn, image="pil")
    assert [p["type"] for p in pil[2]["content"]] == ["text", "image_pil", "text"]
    single = dataclasses.replace(turn, history=())
    assert M.openai_messages(single) == M.openai_messages(Turn("2048", turn.frame, turn.prompt, {}))  # k = 0: G1's step
    assert len(M.openai_messages(single)) == 1


def test_hf_messages_and_images_follow_the_same_chat(turn):
    msgs = M.hf_messages(turn)
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant", "user"]
    assert msgs[0]["content"] == [{"type": "image"}, {"type": "text", "text": turn.prompt}]
    assert msgs[1]["content"] == [{"type": "text", "text": turn.history[0].answer}]
    assert msgs[2]["content"] == [{"type": "text", "text": turn.history[0].feedback}, {"type": "image"},
                                  {"type": "text", "text": turn.prompt}]
    other = dataclasses.replace(turn, history=turn.history[:1], frame=turn.history[1].frame)
    images = M.hf_images([turn, other])  # every frame of every chat, in placeholder order
    want = [turn.history[0].frame, turn.history[1].frame, turn.frame, turn.history[0].frame, turn.history[1].frame]
    assert len(images) == 5 and all(np.array_equal(np.asarray(a), b) for a, b in zip(images, want))
    assert [len(M.turn_frames(t)) for t in (turn, other)] == [3, 2]
    convs = M.vllm_conversations([turn, other])
    assert [sum(p["type"] == "image_pil" for m in c if m["role"] == "user" for p in m["content"]) for c in convs] == [3, 2]


def test_vllm_engine_takes_k_plus_one_images_and_seeds_ignore_the_history_tag(turn):
    assert M.vllm_llm_kwargs("m", ModelConfig(), images=5)["limit_mm_per_prompt"] == {"image": 5}
    # a model's histories of one seed are sampled from common random numbers (paired comparison)
    h0 = dataclasses.replace(turn, episode="2048/paper/0", history=())
    assert M.turn_seed(3, turn) == M.turn_seed(3, h0) and M.call_seed(3, [turn]) == M.call_seed(3, [h0])
    assert M.turn_seed(3, turn) != M.turn_seed(3, dataclasses.replace(h0, episode="2048/paper/1"))


def test_preflight_counts_k_plus_one_frames_and_refuses_what_does_not_fit():
    frames = [("2048/paper", (640, 840), 300), ("2048/paper@h4", (640, 840), 1900, 4)]
    grid = pf.VisionGrid(max_pixels=1003520)
    plan = pf.plan(frames, grid, 256, None)
    per = pf.image_tokens(640, 840, grid)
    single, deep = plan.costs
    assert (single.frames, deep.frames) == (1, 5)
    assert deep.prompt_tokens == 1900 + 5 * per and plan.needed == 1900 + 5 * per + 5 * 256
    assert plan.to_dict()["2048/paper@h4"]["frames"] == 5 and "frames" not in plan.to_dict()["2048/paper"]
    assert "x 5 frames (history 4)" in plan.summary() and "each of up to 4 past answers" in plan.summary()
    with pytest.raises(ModelError) as e:
        pf.plan(frames, grid, 256, plan.needed - 1).check()
    msg = str(e.value)
    assert msg.startswith(f"--max-model-len {plan.needed - 1} cannot hold a step of 2048/paper@h4: with history 4")
    assert f"5 frames of {per} tokens" in msg and f"lower --max-new-tokens to 255 or less" in msg


def test_preflight_counts_equal_what_the_processor_builds(tiny_qwen2_vl):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_qwen2_vl)
    grid = pf.grid_from_processor(processor)
    suite = custom_suite(["swap"], episodes=1, steps=1, history=3)
    plan = pf.preflight_suite(suite, processor, grid, 64, None)
    (key, (w, h), prompt, k), = pf.suite_frames(suite)
    assert (key, k, plan.costs[0].frames) == ("swap/paper@h3", 3, 4)
    frame = np.zeros((h, w, 3), dtype=np.uint8)
    turn = Turn("swap", frame, prompt, {}, history=tuple(PastTurn(frame, "", longest_line()) for _ in range(3)))
    text = processor.apply_chat_template(M.hf_messages(turn), add_generation_prompt=True, tokenize=False)
    ids = processor(text=[text], images=M.hf_images([turn]), return_tensors="np")["input_ids"][0]
    assert plan.costs[0].prompt_tokens == len(ids)  # exactly what the model is sent, 4 frames included
    assert plan.needed == len(ids) + 4 * 64


def test_the_vllm_engine_is_started_for_the_suites_frames_and_gets_one_chat_per_turn(tiny_qwen2_vl, monkeypatch,
                                                                                  turn):
    """vLLM is not installed here: a stand-in engine records its kwargs and the conversations it is given."""
    from g1bench.models import vllm_backend
    from g1bench.models.base import resolve_model

    chats = []

    class Engine:
        def __init__(self, **kw):
            self.kw = kw

        def chat(self, conversations, params, use_tqdm=False):
            chats.extend(conversations)

            class Out:
                prompt_token_ids, outputs = [0] * 10, [type("C", (), {"text": "<answer>1</answer>", "token_ids": [1],
                                                                      "finish_reason": "stop"})()]
            return [Out() for _ in conversations]

    class FakeVLLM:
        __version__ = "0.10.0"
        LLM = Engine
        SamplingParams = dict

    monkeypatch.setattr(vllm_backend, "_import", lambda: FakeVLLM)
    source = resolve_model(str(tiny_qwen2_vl))
    cfg = ModelConfig(backend="vllm", max_new_tokens=16, max_model_len=32768)
    policy = vllm_backend.VLLMPolicy(str(tiny_qwen2_vl), cfg, source, suite=get_suite("multiturn"))
    assert policy.llm.kw["limit_mm_per_prompt"] == {"image": 5}  # 1 + the suite's largest history
    assert policy.act([turn])[0].text == "<answer>1</answer>"
    assert [m["role"] for m in chats[0]] == ["user", "assistant", "user", "assistant", "user"]
    single = vllm_backend.VLLMPolicy(str(tiny_qwen2_vl), cfg, source)  # no suite: one image per prompt
    assert single.llm.kw["limit_mm_per_prompt"] == {"image": 1}
    with pytest.raises(ModelError, match="carries 3 frames .* started for 1 per prompt"):
        single.act([turn])


# -- end to end with a tiny random-weight VLM ------------------------------------------------------------------
def _replayed_turn(spec, steps, t, frames=True):
    """The turn a policy was given at step ``t`` of an episode, rebuilt from its step log."""
    env = spec.make_env()
    start_game(spec, env, 0)
    history = History(env.config.history)
    for rec in steps[:t]:
        frame = env.model_observation()
        env._apply(rec["answer"] if rec["fallback_action"] is None else rec["fallback_action"])  # 2048's rule
        history.push(rec, frame if frames else None)
    return Turn(spec.game, env.model_observation(), env.prompt, env.get_state(), spec.episode_id, t,
                history=history.turns())


@pytest.mark.slow
def test_the_tiny_vlm_plays_with_memory_through_transformers(tiny_qwen2_vl, tmp_path):
    """The multiturn suite's own episodes (shortened to 3 steps) on the CPU: the model's chat grows with the
    history, the log records its context, verify replays it, and the logged answers are what the model writes
    when given exactly that context."""
    multiturn = get_suite("multiturn")
    eps = tuple(dataclasses.replace(e, steps=3) for e in multiturn.episodes if e.index == 0 and e.game in ("2048", "swap"))
    suite = Suite("custom-multiturn-tiny", 1, eps, invalid_answer=multiturn.invalid_answer)
    policy = load_policy(str(tiny_qwen2_vl), ModelConfig(max_new_tokens=8, batch_size=8), suite=suite)
    try:
        assert policy.describe()["preflight"]["swap/paper@h4"]["frames"] == 5
        res = Runner(suite, policy, tmp_path / "run", progress=False).run()
        assert set(res["results"]) == {s.group for s in eps} and res["complete"]
        steps = {e["episode_id"]: e["steps"] for e in load_episodes(tmp_path / "run")}
        for game in ("2048", "swap"):
            h0, h1, h4 = (steps[f"{game}/paper{tag}/0"] for tag in ("", "@h1", "@h4"))
            assert all("history" not in s for s in h0)
            assert [s["history"] for s in h4] == [0, 1, 2] and [s["history"] for s in h1] == [0, 1, 1]
            # the same chat at step 0 whatever the history; more context (an image, answers, feedback) after
            assert h0[0]["input_tokens"] == h1[0]["input_tokens"] == h4[0]["input_tokens"]
            assert h4[2]["input_tokens"] > h1[2]["input_tokens"] > h0[2]["input_tokens"]
        specs = {e.episode_id: e for e in eps}
        for eid in ("2048/paper@h4/0", "swap/paper@h1/0"):
            turn = _replayed_turn(specs[eid], steps[eid], 2)
            assert context_hash((s["state_hash"], s["answer"], p.feedback) for s, p in
                                zip(steps[eid][2 - len(turn.history):2], turn.history)) == steps[eid][2]["context_hash"]
            assert policy.act([turn])[0].text == steps[eid][2]["answer"]  # greedy: the logged answer had this context
        v = verify_run(tmp_path / "run")
        assert v.ok, v.problems
    finally:
        policy.close()


def test_the_openai_backend_sends_the_history_as_one_chat(tmp_path):
    seen = []

    def reply(body):
        seen.append(body)
        text = body["messages"][-1]["content"][-1]["text"]
        return "<answer>1</answer>" if "2048" in text else "<answer>(0, 0) (0, 1)</answer>"

    suite = custom_suite(["2048", "swap"], episodes=1, steps=4, history=2)
    with FakeOpenAIServer(reply=reply) as srv:
        policy = load_policy("fake-model", ModelConfig(backend="openai", base_url=srv.base_url, max_new_tokens=8))
        Runner(suite, policy, tmp_path / "run", progress=False).run()
        policy.close()
    steps, _ = read_steps_file(tmp_path / "run" / "steps.jsonl")
    for game in ("2048", "swap"):
        # one episode per game: its requests come in step order
        bodies = [b for b in seen if ("2048" in b["messages"][-1]["content"][-1]["text"]) == (game == "2048")]
        log = steps[f"{game}/paper@h2/0"]
        assert len(bodies) == 4 and [s["history"] for s in log] == [0, 1, 2, 2]
        current = []
        for t, body in enumerate(bodies):
            user = [m for m in body["messages"] if m["role"] == "user"]
            assistant = [m["content"] for m in body["messages"] if m["role"] == "assistant"]
            images = [decode(p["image_url"]["url"]) for m in user for p in m["content"] if p["type"] == "image_url"]
            past = log[max(0, t - 2):t]
            assert len(images) == len(user) == len(past) + 1  # k + 1 images in one request
            assert assistant == [s["answer"] for s in past]
            assert [m["content"][0]["text"] for m in user[1:]] == [feedback_line(s) for s in past]
            current.append(images[-1])
            # each past frame is the very picture the model was sent at that step
            assert all(np.array_equal(a, current[t - len(past) + j]) for j, a in enumerate(images[:-1]))
    assert verify_run(tmp_path / "run").ok

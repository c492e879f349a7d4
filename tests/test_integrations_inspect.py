"""The suites as inspect_ai tasks (g1bench.integrations.inspect), run for real with inspect's mockllm scripted to
give the answers a ``g1bench eval`` run gave: the same episode scores, group means and step records, in the paper
protocol (single steps) and in the multi-turn tool variant."""

import base64
import io
import re

import numpy as np
import pytest

pytest.importorskip("inspect_ai")

from inspect_ai import eval as inspect_eval  # noqa: E402
from inspect_ai.model import ContentImage, ContentText, ModelOutput, ModelUsage, get_model  # noqa: E402
from inspect_ai.util import store  # noqa: E402

from g1bench.eval.policies import Answer, OraclePolicy, Policy  # noqa: E402
from g1bench.eval.rundir import load_episodes  # noqa: E402
from g1bench.eval.runner import evaluate  # noqa: E402
from g1bench.eval.steps import DETERMINISTIC_FIELDS  # noqa: E402
from g1bench.eval.suites import get_suite  # noqa: E402
from g1bench.integrations.inspect import EPISODE_KEY, STEP_KEY, STEPS_KEY, paper, tool_play  # noqa: E402
from g1bench.integrations.play import DIRECTIONS, TOOLS  # noqa: E402

SUITE = "smoke"  # the paper presets and protocol (G1's grammar, 2048's random-move rule), 2 episodes x 4 steps a game
UNREADABLE = "I would rather not say."


class Scripted(Policy):
    """Answers from a table (episode id, step) -> text."""

    name = "scripted"
    needs_frames = False

    def __init__(self, table):
        self.table = table

    def act(self, turns):
        return [Answer(self.table[(t.episode, t.step)]) for t in turns]


@pytest.fixture(scope="module")
def eval_run(tmp_path_factory):
    """A table of answers (the oracle's, with every episode's step 1 made unreadable), and the g1bench eval run of it."""
    tmp = tmp_path_factory.mktemp("inspect")
    suite = get_suite(SUITE)
    evaluate(suite, OraclePolicy(), tmp / "oracle", progress=False, save_frames=False)
    table = {(e["episode_id"], s["step"]): s["answer"] for e in load_episodes(tmp / "oracle") for s in e["steps"]}
    table.update({(ep, 1): UNREADABLE for ep, _ in list(table)})
    results = evaluate(suite, Scripted(table), tmp / "scripted", progress=False, save_frames=False)
    episodes = {e["episode_id"]: e for e in load_episodes(tmp / "scripted")}
    return table, results, episodes, tmp


def _usage(output):
    output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)  # (mockllm would count with tiktoken)
    return output


def _text_model(table):
    def reply(messages, tools, tool_choice, config):
        return _usage(ModelOutput.from_content("mockllm/model", table[(store().get(EPISODE_KEY), store().get(STEP_KEY))]))

    return get_model("mockllm/model", custom_outputs=reply)


def _tool_model(table, seen):
    """The same answers as tool calls (an unreadable one stays text: a turn without a call)."""

    def reply(messages, tools, tool_choice, config):
        seen.append(messages)
        episode = store().get(EPISODE_KEY)
        text = table[(episode, store().get(STEP_KEY))]
        game = episode.split("/")[0]
        numbers = [int(n) for n in re.findall(r"\d+", text)]
        if text == UNREADABLE:
            return _usage(ModelOutput.from_content("mockllm/model", text))
        if game == "2048":
            return _usage(ModelOutput.for_tool_call("mockllm/model", "move", {"direction": DIRECTIONS[numbers[0]]}))
        args = dict(zip(TOOLS[game].args, numbers))
        return _usage(ModelOutput.for_tool_call("mockllm/model", TOOLS[game].name, args))

    return get_model("mockllm/model", custom_outputs=reply)


def _check_same_as_eval(log, results, episodes):
    assert log.status == "success", log.error
    assert len(log.samples) == len(episodes)
    for sample in log.samples:
        ep = episodes[sample.id]
        assert sample.scores["episode_score_scorer"].value == ep["score"]
        mine = sample.store[STEPS_KEY]
        assert len(mine) == len(ep["steps"])
        for a, b in zip(mine, ep["steps"]):
            assert {k: a.get(k) for k in DETERMINISTIC_FIELDS if k != "frame"} == \
                   {k: b.get(k) for k in DETERMINISTIC_FIELDS if k != "frame"}
    metrics = {k: v.value for k, v in log.results.scores[0].metrics.items()}
    for group, summary in results["results"].items():
        assert metrics[group] == pytest.approx(summary["mean"])
        assert metrics[summary["game"]] == pytest.approx(summary["mean"])
    assert metrics["mean"] == pytest.approx(np.mean([e["score"] for e in episodes.values()]))


def test_the_paper_protocol_scores_equal_g1bench_evals(eval_run):
    table, results, episodes, tmp = eval_run
    assert any(e["score"] > 0 for e in episodes.values())  # the oracle's moves score: the comparison is not of zeros
    assert any(s.get("fallback_action") is not None for e in episodes.values() for s in e["steps"])  # 2048's rule ran
    log = inspect_eval(paper(SUITE), model=_text_model(table), display="none", log_dir=str(tmp / "logs"))[0]
    _check_same_as_eval(log, results, episodes)
    assert log.eval.metadata["g1bench_suite"] == get_suite(SUITE).suite_id


def test_the_tool_variant_plays_through_tools_that_return_the_frame(eval_run):
    table, results, episodes, tmp = eval_run
    seen = []
    log = inspect_eval(tool_play(SUITE), model=_tool_model(table, seen), display="none", log_dir=str(tmp / "logs"))[0]
    _check_same_as_eval(log, results, episodes)
    sample = next(s for s in log.samples if s.id.startswith("shisensho/"))
    tool_results = [m for m in sample.messages if m.role == "tool"]
    assert len(tool_results) == 3  # 4 steps, one of them a turn without a call
    for m in tool_results:
        image, line = m.content
        assert isinstance(image, ContentImage) and isinstance(line, ContentText)
        assert re.fullmatch(r"Feedback: .*\. Score -?\d+\.( The game is over\.)?", line.text), line.text
        url = image.image
        url = sample.attachments.get(url.removeprefix("attachment://"), url)  # the log keeps images as attachments
        assert url.startswith("data:image/png;base64,")
        from PIL import Image

        assert Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size == (640, 640)  # G1's frame size
    nudge = [m for m in sample.messages if m.role == "user"][1]  # after the turn without a tool call
    assert nudge.content[-1].text.endswith("Make your move with the tool.")
    # multi-turn: the model's last call saw every earlier frame of its episode
    last = [msgs for msgs in seen if msgs[0].content[1].text.startswith(sample.input.rstrip()[:40])][-1]
    assert sum(isinstance(c, ContentImage) for m in last for c in (m.content if isinstance(m.content, list) else [])) == 4


NAMED = """
import json, sys
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model

answers = json.loads(sys.argv[1])

def reply(messages, tools, tool_choice, config):
    out = ModelOutput.from_content("mockllm/model", answers.pop(0))
    out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return out

log = inspect_eval(sys.argv[2], task_args={"suite": "smoke"}, sample_id="swap/paper/0", display="none",
                   model=get_model("mockllm/model", custom_outputs=reply), log_dir=sys.argv[3])[0]
print(json.dumps({"status": log.status, "score": log.samples[0].scores["episode_score_scorer"].value}))
"""


@pytest.mark.slow
def test_the_tasks_are_found_by_name_and_by_file(eval_run):
    """``inspect eval g1bench/paper`` (the package's inspect_ai entry point) outside a checkout; inside one, a checkout's
    g1bench.egg-info hides the installed package from inspect's registry, and the file path works."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    table, _, episodes, tmp = eval_run
    answers = [table[("swap/paper/0", i)] for i in range(4)]
    (tmp / "named.py").write_text(NAMED)
    root = Path(__file__).resolve().parents[1]
    for spec, cwd in (("g1bench/paper", tmp), (f"{root}/g1bench/integrations/inspect.py@paper", root)):
        res = subprocess.run([sys.executable, str(tmp / "named.py"), json.dumps(answers), spec, str(tmp / "logs")], cwd=cwd,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        out = json.loads(res.stdout.strip().splitlines()[-1])
        assert out == {"status": "success", "score": episodes["swap/paper/0"]["score"]}

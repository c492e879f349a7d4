"""Every shell and Python example of README.md runs, in README order, in one scratch folder, offline.

So the README cannot drift from the code. How the examples are read:

* fenced blocks tagged ``bash``/``sh``/``shell``/``console`` or ``python``/``py`` are examples; a block right
  after ``<!-- no-test: REASON -->`` (blank lines allowed between) is skipped, with that reason, e.g. one
  that needs a GPU, the Hub or an API key. New README sections: mark such blocks, everything else must run;
* shell lines are run with bash (``set -e``), ``\\`` continuations joined; commands that set up a machine
  (``python3 -m venv``, activating it, ``pip install``) are left out of ``&&`` chains (the test runs in the
  project's own environment; the set-up is measured by hand, see the closing note of issue 8);
* for speed some commands run smaller, with the same code path (:data:`SHRINK`); ``g1bench data push``
  goes to a local Hub-protocol server (:mod:`g1bench.testing.hub_server`), never the real Hub;
* Python blocks run as plain scripts (no main guard) in the same folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHELL = {"bash", "sh", "shell", "console"}
PYTHON = {"python", "py"}
OPEN = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")
NO_TEST = re.compile(r"<!--\s*no-test:\s*(?P<reason>\S.*?)\s*-->")

#: set-up commands left out of a chain, and why
SETUP = [
    (re.compile(r"^python3? -m venv\b"), "creates a virtual environment"),
    (re.compile(r"^(\.|source)\s+\S*activate$"), "activates that environment"),
    (re.compile(r"^pip install\b"), "installs from PyPI (needs the network; this test runs in the installed project)"),
]
#: the same commands, smaller: (pattern, replacement, why)
SHRINK = [
    (re.compile(r"--suite (paper|grid|multiturn)\b"), "--suite smoke",
     "the paper, grid and multiturn suites take minutes of CPU with the oracle; smoke runs the same code on 8 "
     "episodes (the README's custom --history suite runs multi-turn play as it is)"),
    (re.compile(r"--train \d+ --test \d+"), "--train 6 --test 2 --states-train 2 --states-test 1 --episodes 1 --steps 3",
     "a dataset of a few rows per config: the same build"),
]
#: per-command (and per-Python-block) environment: (pattern, VAR=value prefix, why). The README's placeholder
#: organisation ``ORG`` lives on the local Hub server, so whatever names it may go online (to 127.0.0.1 only).
ENV_FOR = [
    (re.compile(r"^g1bench data push\b|\bORG/"), "HF_HUB_OFFLINE=0", "ORG/... repos are on the local Hub server"),
]


@dataclass
class Block:
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"README.md:{self.line}:{self.lang}"


def read_blocks(text: str) -> list[Block]:
    """The README's fenced code blocks with a language, and the no-test reason before each, if any."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        m = OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        start, indent, lang = i, m["indent"], m["lang"].lower()
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1  # the closing fence
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        marker = NO_TEST.search(lines[j]) if j >= 0 else None
        if lang:
            out.append(Block(start + 1, lang, "\n".join(body), marker["reason"] if marker else None))
    return out


def shell_commands(code: str) -> tuple[list[str], list[str]]:
    """(commands to run, notes on what was changed or left out) of a shell block."""
    logical, buf = [], ""
    for raw in code.splitlines():
        if raw.rstrip().endswith("\\"):
            buf += raw.rstrip()[:-1] + " "
            continue
        logical.append(buf + raw)
        buf = ""
    if buf:
        logical.append(buf)
    commands, notes = [], []
    for line in logical:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        kept = []
        for part in (p.strip() for p in line.split("&&")):
            why = next((w for pat, w in SETUP if pat.search(part)), None)
            if why:
                notes.append(f"left out `{part}`: {why}")
                continue
            for pat, repl, why in SHRINK:
                if pat.search(part):
                    part = pat.sub(repl, part)
                    notes.append(f"ran smaller ({why}): `{part}`")
            for pat, prefix, why in ENV_FOR:
                if pat.search(part):
                    part = f"{prefix} {part}"
            kept.append(part)
        if kept:
            commands.append(" && ".join(kept))
    return commands, notes


BLOCKS = read_blocks(README.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """The scratch folder every example runs in (in order), its environment, and a local Hub server."""
    from g1bench.testing.hub_server import HubServer, hub_env

    work = tmp_path_factory.mktemp("readme")
    with HubServer(orgs=("ORG",)) as hub:
        env = hub_env(hub, work / ".hf_home")
        env.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
                    "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
                    "MPLBACKEND": "Agg"})
        yield work, env, hub


def test_the_readme_has_runnable_examples_and_reasons_for_the_rest():
    langs = {b.lang for b in BLOCKS}
    assert {"bash", "python"} <= langs
    assert all(b.lang in SHELL | PYTHON | {"text", "json", "yaml", "toml"} for b in BLOCKS), langs
    assert all(b.skip is None or len(b.skip) > 10 for b in BLOCKS)  # a reason, not a placeholder
    assert sum(b.skip is None for b in BLOCKS if b.lang in SHELL | PYTHON) >= 6


def test_quickstart_installs_only_the_main_job_and_tests_install_their_extra():
    quick = README.read_text(encoding="utf-8").split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    first, second = [b for b in read_blocks(quick) if b.lang in SHELL][:2]
    assert first.code.strip() == "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && g1bench eval --model random"
    assert second.code.strip() == 'pip install -e ".[test]" && python -m pytest -q'
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci[-1] == second.code.strip(), "CI must end with the README's test command, exactly"


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang in SHELL | PYTHON], ids=lambda b: b.id)
def test_example(block, sandbox):
    if block.skip:
        pytest.skip(f"marked no-test in the README: {block.skip}")
    work, env, hub = sandbox
    if block.lang in PYTHON:
        script = work / f"example_{block.line}.py"
        script.write_text(block.code + "\n")
        block_env = dict(env)
        for pat, prefix, _ in ENV_FOR:
            if pat.search(block.code):
                key, _, value = prefix.partition("=")
                block_env[key] = value
        out = subprocess.run([sys.executable, script.name], cwd=work, env=block_env, capture_output=True, text=True,
                             timeout=600, stdin=subprocess.DEVNULL)
        assert out.returncode == 0, f"{block.id} failed:\n{block.code}\n--- stderr:\n{out.stderr[-3000:]}"
        return
    commands, notes = shell_commands(block.code)
    print("\n".join(notes))
    for cmd in commands:
        out = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", cmd], cwd=work, env=env, capture_output=True,
                             text=True, timeout=600, stdin=subprocess.DEVNULL)
        assert out.returncode == 0, (f"{block.id}: `{cmd}` exited {out.returncode} (mark a block that cannot run "
                                     f"offline with <!-- no-test: reason -->)\n--- stdout:\n{out.stdout[-2000:]}\n"
                                     f"--- stderr:\n{out.stderr[-3000:]}")
        assert "Traceback" not in out.stderr, f"{block.id}: `{cmd}` printed a traceback:\n{out.stderr[-3000:]}"
        if "g1bench data push" in cmd:
            assert hub.commit_count("dataset", "ORG/g1bench-data") >= 2  # the upload really landed

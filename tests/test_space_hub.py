"""The Space on a Hub results store, and `g1bench space --deploy`, against the Hub-protocol server on 127.0.0.1
(g1bench.testing.hub_server) with the real huggingface_hub client.

The Space runs in a child process (HF_ENDPOINT and friends are read when huggingface_hub is imported) holding
a write token: its leaderboard reads the Hub store, Submit adds a zip and a run named by its Hub repo as new
entries (one commit each) and refuses a tampered run without writing, Replay fetches entries (stored frames
are downloaded, missing ones drawn). The deploy uploads space_app/ with a wheel of this checkout, which pip
then downloads from the Space repo through the pinned requirement.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from g1bench.eval.runner import load_episodes  # noqa: E402
from g1bench.space.board import read_table  # noqa: E402
from g1bench.space.testing import serve_process  # noqa: E402
from g1bench.space.text import esc  # noqa: E402
from g1bench.testing import HubServer, hub_env  # noqa: E402

from test_leaderboard import FakeVLM, make_run  # noqa: E402
from test_space_leaderboard import shared_cache, template_store  # noqa: E402

TOKEN = "hf_space_write_secret_77"
REPO = "org/g1bench-results"
ROOT = Path(__file__).resolve().parents[1]
ERR = "⚠️ "
# Leaderboard outputs (see tests/test_space_api.py), Submit outputs and Replay outputs
L_TABLE, L_STATUS, L_TIMER = 0, 2, 14
S_MSG = 0
R_FRAME, R_INFO, R_ANSWER, R_STEP, R_EPISODE, R_MSG = range(6)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    t = template_store()
    root = tmp_path_factory.mktemp("hub-runs")
    with HubServer(orgs=("org", "acme"), tokens=[TOKEN]) as server:
        server.add_repo("dataset", REPO, {p.relative_to(t["store"]).as_posix(): p.read_bytes()
                                          for p in sorted(t["store"].rglob("*")) if p.is_file()})
        # a run folder published in a dataset repo: what "name a Hub entry" submits
        run = make_run(root / "vlm-hub", "smoke", FakeVLM("acme/vlm-hub", skill=0.6, seed=5))
        server.add_repo("dataset", "acme/my-runs", {f"runs/vlm-hub/{f}": (run / f).read_bytes()
                                                    for f in ("run.json", "results.json", "steps.jsonl")})
        yield {"server": server, "hub_run": run}


def space_env(hub: HubServer, root: Path, token: str = TOKEN) -> dict[str, str]:
    env = hub_env(hub, root / "hf_home", token=token)
    env.update(HF_DATASETS_OFFLINE="1", G1BENCH_CACHE_DIR=str(shared_cache()), GRADIO_TEMP_DIR=str(root / "gradio"),
               GRADIO_ANALYTICS_ENABLED="False", PYTHONWARNINGS="ignore", G1BENCH_SPACE_RESULTS=REPO,
               G1BENCH_SPACE_DEMO_STORE="none", G1BENCH_SPACE_WORK_DIR=str(root / "work"),
               G1BENCH_SPACE_RUNS_DIR=str(root / "runs"))
    return env


@pytest.fixture(scope="module")
def space(hub, tmp_path_factory):
    root = tmp_path_factory.mktemp("hub-space")
    with serve_process(space_env(hub["server"], root)) as (proc, url):
        yield {"url": url, "root": root}


@pytest.fixture
def client(space, tmp_path):
    return gradio_client.Client(space["url"], verbose=False, download_files=str(tmp_path / "dl"), ssl_verify=False)


def lb(client, api="/leaderboard_view", suite="smoke-v3"):
    return client.predict(suite, "", "all", "all", "all", None, ["entry"], api_name=api)


def table_rows(out):
    return read_table(out[L_TABLE])["rows"]


def submitted(client, file=None, hub=""):
    """Submit, then poll as the page does until the submission is final: the visitor's submissions (Markdown)."""
    import time

    out = client.predict(gradio_client.handle_file(str(file)) if file else None, hub, api_name="/submit_run")
    if out[S_MSG].startswith(ERR):
        return out[S_MSG]
    for _ in range(600):
        queue, timer = client.predict(api_name="/submit_poll")
        if timer == {"active": False, "__type__": "update"}:
            newest = re.split(r"\n\n(?=(?:…|✓|=|✗|!) \*\*)", queue)[1]   # after the heading, newest first
            return newest.split("\n\n", 1)[1]   # its message
        time.sleep(0.2)
    raise AssertionError("the submission did not finish")


def refreshed(client, suite="smoke-v3"):
    """The table after an aggregation that started now has finished (Refresh, then poll as the browser does)."""
    out = lb(client, "/leaderboard_refresh", suite)
    for _ in range(300):
        if out[L_TIMER] == {"active": False, "__type__": "update"}:
            return out
        out = lb(client, "/leaderboard_poll", suite)
    raise AssertionError("the aggregation did not finish")


def entries_of(server, prefix="entries/smoke-v3/"):
    return sorted({p.split("/")[2] for p in server.head("dataset", REPO).files if p.startswith(prefix)})


def test_the_leaderboard_reads_the_hub_store(client, hub):
    server = hub["server"]
    out = lb(client)
    rows = table_rows(out)
    assert [r["model"]["text"] for r in rows][:2] == ["acme/vlm-7b", "acme/vlm-2b"]
    head = server.head("dataset", REPO).oid
    # each entry links to its folder in the results repo
    assert all(r["entry"]["href"].startswith(f"{server.url}/datasets/{REPO}/tree/{head}/entries/smoke-v3/") for r in rows)
    assert out[L_STATUS].startswith(f"8 verified runs in 3 suites of [{REPO}]({server.url}/datasets/{REPO}) · ")
    assert TOKEN not in json.dumps(out)


def test_submissions_are_verified_and_committed(client, hub):
    from g1bench.leaderboard.entry import entry_from_run_dir

    server, t = hub["server"], template_store()
    commits = server.commit_count("dataset", REPO)
    message = submitted(client, t["tampered_zip"])
    assert message.startswith("**Refused**: tampered-model does not verify: ")
    where = client.predict(api_name="/submit_where")
    assert where.startswith(f"Verified runs are added to this Space's results store, [{REPO}]({server.url}/datasets/{REPO})")
    assert server.commit_count("dataset", REPO) == commits
    # a zip: one commit with the entry's files, byte for byte what `g1bench push` writes; done once on the board
    message = submitted(client, t["new_zip"])
    assert message.startswith("**On the board**: entry [") and TOKEN not in message
    assert f"]({server.url}/datasets/{REPO}/tree/" in message   # a link to the entry in the results repo
    assert server.commit_count("dataset", REPO) == commits + 1
    entry = entry_from_run_dir(t["new"])
    for path, data in entry.paths().items():
        assert server.file_bytes("dataset", REPO, path) == data
    # a run named by its Hub repo (read without the Space's token)
    message = submitted(client, None, "acme/my-runs/runs/vlm-hub")
    assert message.startswith("**On the board**") and server.commit_count("dataset", REPO) == commits + 2
    assert entry_from_run_dir(hub["hub_run"]).entry_id.split("/")[1] in entries_of(server)
    # an entry of a store, named by its folder: the same bytes, nothing written
    folder = f"{REPO}/entries/{entry.entry_id}"
    message = submitted(client, None, folder)
    assert message.startswith("**Already on the board**: this run is entry [") and \
        server.commit_count("dataset", REPO) == commits + 2
    for name, said in (("acme/my-runs/runs/nothing", "acme/my-runs/runs/nothing does not exist"),
                       ("acme/missing-repo", "no public dataset repo acme/missing-repo on the Hub"),
                       ("acme/my-runs@nobranch", "acme/my-runs has no revision 'nobranch'"),
                       ("acme/my-runs/runs", "acme/my-runs/runs holds no g1bench run: it needs run.json, results.json "
                                             "and steps.jsonl (a run folder) or a results-store entry's files")):
        assert submitted(client, None, name) == ERR + esc(said, 600)
    assert server.commit_count("dataset", REPO) == commits + 2
    # both new runs on the leaderboard after a refresh
    models = [r["model"]["text"] for r in table_rows(refreshed(client))]
    assert {"acme/vlm-13b", "acme/vlm-hub"} <= set(models)


def test_replay_fetches_hub_entries(client, hub):
    t = template_store()
    _, entries, message = client.predict(api_name="/replay_refresh")
    ids = [e for _, e in entries["choices"]]
    assert t["entries"]["smoke-good"] in ids and t["entries"]["grid-random"] in ids
    out = client.predict(t["entries"]["smoke-good"], api_name="/replay_entry")
    ep = load_episodes(t["runs"] / "smoke-good")[0]
    first = ep["steps"][0]
    assert out[R_ANSWER] == first["answer"]
    assert open(out[R_FRAME], "rb").read() == (t["runs"] / "smoke-good" / "frames" / f"{first['frame']}.png").read_bytes()
    out = client.predict(t["entries"]["grid-random"], api_name="/replay_entry")
    ep = load_episodes(t["runs"] / "grid-random")[0]
    assert out[R_ANSWER] == ep["steps"][0]["answer"] and "frame drawn by replaying" in out[R_INFO]
    assert np.array_equal(np.asarray(Image.open(out[R_FRAME]).convert("RGB")),
                          np.asarray(Image.open(t["runs"] / "grid-random" / "frames" / f"{ep['steps'][0]['frame']}.png")
                                     .convert("RGB")))


# -- deploy -------------------------------------------------------------------------------------------------
def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import sys; from g1bench.cli import main; sys.exit(main())", *args],
                          capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)


def test_deploy_uploads_the_space_with_a_wheel(hub, tmp_path):
    import g1bench

    server = hub["server"]
    env = hub_env(server, tmp_path / "hf_home", token=TOKEN)
    env["PYTHONWARNINGS"] = "ignore"
    res = cli(env, "space", "--deploy", "org/g1bench-space", "--with-wheel", "--results-repo", REPO)
    assert res.returncode == 0, res.stderr[-2000:]
    assert TOKEN not in res.stdout + res.stderr
    wheel = f"g1bench-{g1bench.__version__}-py3-none-any.whl"
    files = server.head("space", "org/g1bench-space").files
    assert {"README.md", "app.py", "requirements.txt", f"wheels/{wheel}"} <= set(files)
    for name in ("README.md", "app.py"):
        assert server.file_bytes("space", "org/g1bench-space", name) == (ROOT / "space_app" / name).read_bytes()
    data = server.file_bytes("space", "org/g1bench-space", f"wheels/{wheel}")
    url = f"{server.url}/spaces/org/g1bench-space/resolve/main/wheels/{wheel}"
    req = f"g1bench[space] @ {url}#sha256={hashlib.sha256(data).hexdigest()}"
    reqs = server.file_bytes("space", "org/g1bench-space", "requirements.txt").decode()
    assert [x for x in reqs.splitlines() if x.strip() and not x.startswith("#")] == [req]
    assert f"requirements.txt: {req}" in res.stdout
    assert server.repo("space", "org/g1bench-space").variables["G1BENCH_SPACE_RESULTS"]["value"] == REPO
    # the requirement resolves: pip downloads exactly that wheel from the Space repo (hash checked)
    dl = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-index", "--disable-pip-version-check",
                         "-d", str(tmp_path / "dl"), req], capture_output=True, text=True, timeout=300)
    assert dl.returncode == 0, dl.stderr[-2000:]
    assert (tmp_path / "dl" / wheel).read_bytes() == data
    # deploying again without the wheel: the PyPI requirement is back and the old wheel is gone, one commit
    commits = server.commit_count("space", "org/g1bench-space")
    res = cli(env, "space", "--deploy", "org/g1bench-space")
    assert res.returncode == 0, res.stderr[-2000:]
    files = server.head("space", "org/g1bench-space").files
    assert not any(f.startswith("wheels/") for f in files)
    assert server.commit_count("space", "org/g1bench-space") == commits + 1
    assert server.file_bytes("space", "org/g1bench-space", "requirements.txt") == \
        (ROOT / "space_app" / "requirements.txt").read_bytes()
    # without a token: one line, nothing created
    res = cli(hub_env(server, tmp_path / "hf_home2", token=""), "space", "--deploy", "org/other-space")
    assert res.returncode == 2 and res.stderr.strip().splitlines()[-1] == \
        "error: no Hugging Face token: set HF_TOKEN or run `hf auth login` (a token that may create Spaces)"
    res = cli(env, "space", "--deploy", "org/secret-space", "--private", "--with-wheel")
    assert res.returncode == 2 and res.stderr.strip().splitlines()[-1] == \
        ("error: org/secret-space is private: its build could not download the wheel from it (the requirement is a "
         "plain URL); deploy --with-wheel to a public Space")
    assert not any(f.startswith("wheels/") for f in server.head("space", "org/secret-space").files)
    res = cli(env, "space", "--deploy", "not a repo")
    assert res.returncode == 2 and "error: --deploy needs a Space id ORG/NAME, got 'not a repo'" in res.stderr

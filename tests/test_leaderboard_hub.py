"""The leaderboard on a Hub dataset repo: the real huggingface_hub / datasets clients against the Hub-protocol
server on 127.0.0.1 (g1bench.testing.hub_server), in subprocesses (HF_ENDPOINT is read at import).

Push runs, re-push one (no commit), refuse doctored / incomplete / sharded / unknown-suite runs with their
reasons, skip corrupt entries placed directly in the repo, aggregate (incrementally: nothing new = one
request), load the `results` and `steps` configs, and open the model-card PR with `.eval_results/g1bench.yaml`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from g1bench.eval.policies import RandomPolicy
from g1bench.testing import HubServer, hub_env

from test_leaderboard import GAMES, expected_overall, make_run, pooled_rates, smoke_runs  # noqa: F401 (fixture)

TOKEN = "hf_leaderboard_secret_token_42"
REPO = "org/g1bench-results"

# several CLI calls in one process (each `g1bench` start costs about a second): [{"rc", "out", "err"}]
DRIVER = r'''
import contextlib, io, json, sys
from g1bench.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        try:
            rc = main(argv)
        except SystemExit as x:
            rc = x.code
    out.append({"rc": rc, "out": o.getvalue(), "err": e.getvalue()})
print(json.dumps(out))
'''


def client_env(hub: HubServer, home: Path, cache: Path) -> dict[str, str]:
    env = hub_env(hub, home, token=TOKEN)
    # this machine has no CIFAR-10 (the runs were made with the bundled tiles): the Hub server must not be asked
    env.update(HF_DATASETS_OFFLINE="1", G1BENCH_CACHE_DIR=str(cache), PYTHONWARNINGS="ignore")
    return env


def cli(env: dict[str, str], *calls: list[str]) -> list[dict]:
    res = subprocess.run([sys.executable, "-c", DRIVER, json.dumps([list(map(str, c)) for c in calls])],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    for r in out:
        assert TOKEN not in r["out"] + r["err"]
    return out


def python(env: dict[str, str], code: str, *args: str) -> dict:
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def error_lines(r: dict) -> list[str]:
    return [line for line in r["err"].splitlines() if line.startswith("error:")]


class HubModel(RandomPolicy):
    """Random answers with a model backend's token counts and latencies, described as a Hub model at ``commit``
    (so `--model-pr` finds its repo, and the leaderboard can look the commit up)."""

    def __init__(self, commit: str, name: str = "acme/vlm-7b"):
        super().__init__(seed=7)  # not the random baseline's answers (seed 0): that would be a copy of it
        self.commit, self.name = commit, name

    def act(self, turns):
        out = super().act(turns)
        for a in out:
            a.input_tokens, a.output_tokens, a.latency_s = 1000, len(a.text) // 4, 0.5
        return out

    def describe(self):
        return {"policy": self.name, "backend": "vllm",
                "model": {"model": self.name, "source": "hub", "revision": "main", "commit": self.commit}}


@pytest.fixture(scope="module")
def hub():
    with HubServer(orgs=("org", "acme")) as server:
        yield server


@pytest.fixture(scope="module")
def pushed(hub, smoke_runs, tmp_path_factory):
    """The smoke runs pushed to the Hub store once: {name: entry id}, plus the client environment."""
    root = tmp_path_factory.mktemp("lb-hub")
    env = client_env(hub, root / "home", root / "cache")
    names = ("random", "oracle", "good", "weak")
    out = cli(env, *[["push", smoke_runs[n], "--repo", REPO] + (["--frames"] if n == "good" else []) for n in names])
    for n, r in zip(names, out):
        assert r["rc"] == 0 and r["out"].startswith("pushed: smoke-v3/"), (n, r)
    ids = {n: r["out"].split()[1] for n, r in zip(names, out)}
    return {"env": env, "ids": ids, "root": root}


def test_push_refuses_bad_runs_and_repushing_makes_no_commit(hub, pushed, smoke_runs):
    head = hub.head("dataset", REPO)
    assert hub.commit_count("dataset", REPO) == 1 + 4  # the repo's first commit, then one per run
    for eid in pushed["ids"].values():
        assert {f"entries/{eid}/{n}" for n in ("run.json", "results.json", "steps.parquet", "results.parquet")} <= set(head.files)
    assert {"README.md", "eval.yaml", "suites/paper-v3/episodes.parquet", "suites/paper-v3/swap.parquet"} <= set(head.files)
    frames = [p for p in head.files if p.startswith("frames/")]
    assert len(frames) == len(list((smoke_runs["good"] / "frames").glob("*.png")))
    assert head.files["entries/" + pushed["ids"]["good"] + "/steps.parquet"].lfs

    calls = [["push", smoke_runs["random"], "--repo", REPO], ["push", smoke_runs["good"], "--repo", REPO, "--frames"]]
    bad = ("figure", "answer", "incomplete", "shard", "mystery")
    calls += [["push", smoke_runs[n], "--repo", REPO] for n in bad]
    calls += [["push", smoke_runs["random"], "--repo", REPO, "--model-pr"]]
    out = cli(pushed["env"], *calls)
    assert out[0]["rc"] == 0 and out[0]["out"].startswith("unchanged (already in the store): " + pushed["ids"]["random"])
    assert out[1]["rc"] == 0 and "frames added: 0" in out[1]["out"] and out[1]["out"].startswith("unchanged")
    expected = {
        "figure": f"error: {smoke_runs['figure']} does not verify: {smoke_runs['figure_reason']}",
        "answer": f"error: {smoke_runs['answer']} does not verify: {smoke_runs['answer_reason']}",
        "incomplete": f"error: {smoke_runs['incomplete']} is incomplete (",
        "shard": f"error: {smoke_runs['shard']} is shard 0/2 of smoke-v3: join the shards with `g1bench merge`",
        "mystery": f"error: {smoke_runs['mystery']} uses the suite mystery-v3, which is not a built-in one: the "
                   "leaderboard takes the built-in suites only",
    }
    for name, r in zip(bad, out[2:7]):
        lines = error_lines(r)
        assert r["rc"] == 2 and len(lines) == 1 and lines[0].startswith(expected[name]), (name, r)
        assert r["out"] == ""
    assert out[7]["rc"] == 2 and "the Hub benchmark's tasks are the paper suite's; this run is smoke-v3" in out[7]["err"]
    assert out[7]["out"] == ""  # refused before anything was written
    assert hub.commit_count("dataset", REPO) == 1 + 4  # nothing refused was written, nothing repeated
    assert hub.repos.get(("model", "acme/vlm-7b")) is None


UPLOAD_CORRUPT = r'''
import json, shutil, sys, tempfile
from pathlib import Path
from huggingface_hub import HfApi, hf_hub_download
repo, good = sys.argv[1], sys.argv[2]
api = HfApi()
tmp = Path(tempfile.mkdtemp())
for name in ("run.json", "results.json", "steps.parquet", "results.parquet"):
    p = hf_hub_download(repo, f"entries/{good}/{name}", repo_type="dataset")
    for bad in ("0" * 16, "1" * 16):
        d = tmp / "entries" / "smoke-v3" / f"acme-vlm-7b--{bad}"
        d.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, d / name)
r = json.loads((tmp / "entries/smoke-v3/acme-vlm-7b--1111111111111111/results.json").read_text())
r["results"]["2048/paper"]["parse_failure_rate"] = 0.75
(tmp / "entries/smoke-v3/acme-vlm-7b--1111111111111111/results.json").write_text(json.dumps(r))
(tmp / "entries/smoke-v3/acme-vlm-7b--0000000000000000/steps.parquet").write_bytes(b"not parquet")
(tmp / "entries/smoke-v3/lonely--2222222222222222").mkdir(parents=True)
(tmp / "entries/smoke-v3/lonely--2222222222222222/run.json").write_text("{}")
c = api.upload_folder(repo_id=repo, repo_type="dataset", folder_path=str(tmp), commit_message="corrupt entries")
print(json.dumps({"commit": c.oid}))
'''


def test_aggregate_from_the_hub_reverifies_skips_corrupt_entries_and_is_incremental(hub, pushed, smoke_runs, tmp_path):
    env = pushed["env"]
    python(env, UPLOAD_CORRUPT, REPO, pushed["ids"]["good"])
    fresh = dict(env, G1BENCH_CACHE_DIR=str(tmp_path / "fresh-cache"))  # no cached verdicts: every entry is replayed
    hub.requests.clear()
    out = cli(fresh, ["leaderboard", "--repo", REPO, "--suite", "smoke", "--format", "json", "-o", tmp_path / "lb.json"])[0]
    assert out["rc"] == 0, out
    data = json.loads((tmp_path / "lb.json").read_text())
    skipped = {s["entry_id"]: s["reason"] for s in data["skipped"]}
    assert "not a readable parquet file" in skipped["smoke-v3/acme-vlm-7b--0000000000000000"]
    assert ("does not verify: results.json results['2048/paper'].parse_failure_rate: recorded 0.75"
            in skipped["smoke-v3/acme-vlm-7b--1111111111111111"])
    assert skipped["smoke-v3/lonely--2222222222222222"] == "missing results.json, steps.parquet, results.parquet"
    notes = [line for line in out["err"].splitlines() if line.startswith("note: skipped ")]
    assert len(notes) == 3

    rows = {r["entry_id"]: r for r in data["rows"]}
    res = {k: json.loads((smoke_runs[k] / "results.json").read_text()) for k in pushed["ids"]}
    groups = [f"{g}/paper" for g in GAMES]
    head = hub.head("dataset", REPO).oid
    for name, eid in pushed["ids"].items():
        row = rows[eid]
        for g in GAMES:
            cell = res[name]["results"][f"{g}/paper"]
            assert (row[g], row[f"{g}_ci95_low"], row[f"{g}_ci95_high"]) == (cell["mean"], *cell["ci95"])
        assert row["overall"] == pytest.approx(expected_overall(res[name], res["random"], res["oracle"], groups), abs=1e-9)
        for k, v in pooled_rates(smoke_runs[name]).items():
            assert row[k] == (pytest.approx(v) if v is not None else None)
        assert row["entry_url"] == f"{hub.url}/datasets/{REPO}/tree/{head}/entries/{eid}"
    assert [r["kind"] for r in data["rows"]] == ["measured", "measured", "baseline", "baseline"]
    # the Hub is reached: the two models' repos do not exist there, so they are shown unresolved and not ranked
    for name in ("good", "weak"):
        assert (rows[pushed["ids"][name]]["model_check"], rows[pushed["ids"][name]]["rank_label"]) == \
            ("model not resolved", "")
    asked = {p for _, p in hub.requests if "/resolve/" in p}  # HEAD, then GET unless the blob is cached
    assert len(asked) == 4 * 4 + 2 * 4  # every entry file once (the lonely entry is incomplete: not fetched)

    # nothing new: one request (the branch head), nothing replayed
    hub.requests.clear()
    out = cli(fresh, ["leaderboard", "--repo", REPO, "--suite", "smoke", "--format", "json"])[0]
    assert out["rc"] == 0 and json.loads(out["out"])["rows"] == data["rows"]
    assert hub.requests == [("GET", f"/api/datasets/{REPO}/refs")]

    # a new run: only its files are downloaded
    run = make_run(tmp_path / "again", "smoke", RandomPolicy(seed=5), save_frames=False)
    assert cli(env, ["push", run, "--repo", REPO])[0]["rc"] == 0
    hub.requests.clear()
    out = cli(fresh, ["leaderboard", "--repo", REPO, "--suite", "smoke", "--format", "csv"])[0]
    assert out["rc"] == 0
    fetched = {p.split("/entries/")[1].rsplit("/", 1)[0] for m, p in hub.requests if "/resolve/" in p}
    assert len(fetched) == 1 and fetched.pop().startswith("smoke-v3/random--")
    assert len(out["out"].splitlines()) == 1 + 5  # header + 2 models + 3 baselines (the new random run is one)


FETCH = r'''
import json, sys
from g1bench.eval.verify import verify_run
from g1bench.leaderboard import open_store
store = open_store(sys.argv[1])
out = store.fetch_entry(sys.argv[2], sys.argv[3])
v = verify_run(out)
print(json.dumps({"ok": v.ok, "complete": v.complete, "frames": sorted(p.name for p in (out / "frames").iterdir())}))
'''


def test_an_entry_comes_back_from_the_hub_as_a_run_that_verifies(hub, pushed, smoke_runs, tmp_path):
    got = python(pushed["env"], FETCH, REPO, pushed["ids"]["good"], str(tmp_path / "run"))
    assert got["ok"] and got["complete"]
    assert got["frames"] == sorted(p.name for p in (smoke_runs["good"] / "frames").iterdir())


LOAD = r'''
import json, sys, warnings
warnings.simplefilter("ignore")
import datasets
repo = sys.argv[1]
out = {"configs": sorted(datasets.get_dataset_config_names(repo))}
r = datasets.load_dataset(repo, "results", split="train")
out["results"] = sorted({(x["entry_id"], x["group"]) for x in r})
out["means"] = {f"{x['entry_id']}|{x['group']}": x["mean"] for x in r}
s = datasets.load_dataset(repo, "steps", split="train")
out["steps"] = len(s)
out["answers"] = sorted({x["entry_id"] for x in s})
print(json.dumps(out))
'''


def test_load_dataset_from_the_hub_gives_results_and_steps(hub, smoke_runs, tmp_path):
    # its own repo: a corrupt parquet file placed in a repo (as in the test above) breaks `load_dataset` of
    # that config for everyone; the leaderboard skips such an entry, the datasets library cannot
    repo = "org/g1bench-load"
    env = client_env(hub, tmp_path / "home", tmp_path / "cache")
    out = cli(env, *[["push", smoke_runs[n], "--repo", repo] for n in ("random", "good")])
    ids = {n: r["out"].split()[1] for n, r in zip(("random", "good"), out)}
    got = python(hub_env(hub, tmp_path / "fresh_home", token=TOKEN), LOAD, repo)
    assert got["configs"] == sorted(["results", "steps", "paper", "paper-2048", "paper-shisensho",
                                     "paper-shisensho-images", "paper-swap"])
    assert got["results"] == sorted([eid, f"{g}/paper"] for eid in ids.values() for g in GAMES)
    for name, eid in ids.items():
        res = json.loads((smoke_runs[name] / "results.json").read_text())
        for g, cell in res["results"].items():
            assert got["means"][f"{eid}|{g}"] == cell["mean"]
    assert got["steps"] == 2 * 32 and got["answers"] == sorted(ids.values())


def variant(run: Path, dest: Path, edit) -> Path:
    """A copy of a run whose policy record (run.json and results.json alike) is edited."""
    import shutil

    shutil.copytree(run, dest)
    for name in ("run.json", "results.json"):
        data = json.loads((dest / name).read_text())
        edit(data["policy"] if name == "run.json" else data["provenance"]["policy"])
        (dest / name).write_text(json.dumps(data))
    return dest


def test_model_pr_adds_eval_results_to_the_model_repo(hub, pushed, tmp_path):
    from g1bench.leaderboard.evalresults import EVAL_RESULTS_PATH, benchmark_yaml, load_yaml, validate_eval_results

    env = pushed["env"]
    python(env, "from huggingface_hub import HfApi; HfApi().create_repo('acme/vlm-7b'); "
                "HfApi().upload_file(path_or_fileobj=b'{}', path_in_repo='config.json', repo_id='acme/vlm-7b'); "
                "print('{}')")
    commit = hub.head("model", "acme/vlm-7b").oid
    run = make_run(tmp_path / "paper-model", "paper", HubModel(commit), save_frames=False)
    # refused before anything is written: another model repo; a commit the Hub does not have; a displayed name
    # that is not the Hub model the run loaded
    before = hub.commit_count("dataset", REPO)
    unknown = variant(run, tmp_path / "unknown-commit", lambda p: p["model"].update(commit="ab" * 20))
    forged = variant(run, tmp_path / "forged-name", lambda p: p.update(policy="famous/model-70b"))
    out = cli(env, ["push", run, "--repo", REPO, "--model-pr", "--model-repo", "acme/other"],
              ["push", unknown, "--repo", REPO, "--model-pr"], ["push", forged, "--repo", REPO, "--model-pr"],
              ["push", forged, "--repo", REPO])
    assert [r["rc"] for r in out] == [2, 2, 2, 2] and all(r["out"] == "" for r in out)
    assert error_lines(out[0]) == ["error: --model-pr opens a pull request only on the model repo the run names "
                                   "(acme/vlm-7b), not on 'acme/other'"]
    assert error_lines(out[1]) == [f"error: --model-pr: model not resolved: acme/vlm-7b at commit {'ab' * 20} is not on "
                                   f"{hub.url} (model not resolved)"]
    assert error_lines(out[2]) == ["error: --model-pr: this run's model 'famous/model-70b' is not a Hub model it names "
                                   "as its displayed name; a pull request goes only to that model's repo"]
    assert error_lines(out[3]) == [f"error: {forged}: its displayed name 'famous/model-70b' is not its Hub model "
                                   "'acme/vlm-7b'"]
    assert hub.commit_count("dataset", REPO) == before and not hub.repo("model", "acme/vlm-7b").pulls
    out = cli(env, ["push", run, "--repo", REPO, "--model-pr"])[0]
    assert out["rc"] == 0, out
    pr_line = out["out"].splitlines()[-1]
    assert pr_line == (f"opened a pull request on acme/vlm-7b: {hub.url}/acme/vlm-7b/discussions/1 "
                       f"(adds {EVAL_RESULTS_PATH}: a community result, verified by replay)")
    model = hub.repo("model", "acme/vlm-7b")
    assert EVAL_RESULTS_PATH not in hub.head("model", "acme/vlm-7b").files  # main is untouched: it is a PR
    text = hub.file_bytes("model", "acme/vlm-7b", EVAL_RESULTS_PATH, revision="refs/pr/1").decode()
    entries = validate_eval_results(load_yaml(text, EVAL_RESULTS_PATH), benchmark={REPO: benchmark_yaml()})
    res = json.loads((run / "results.json").read_text())
    head = hub.head("dataset", REPO).oid
    eid = out["out"].split()[1]
    # overall too: the paper suite's baselines are computed here (the store has none)
    assert [e["dataset"]["task_id"] for e in entries] == ["overall", *GAMES]
    assert -20 < entries[0]["value"] < 20  # random answers: about the random baseline's 0
    for e, game in zip(entries[1:], GAMES):
        assert e["dataset"] == {"id": REPO, "task_id": game, "revision": head}
        assert e["value"] == round(res["results"][f"{game}/paper"]["mean"], 4)
        assert e["date"] == res["provenance"]["end_time"][:10]
        assert e["source"] == {"url": f"{hub.url}/datasets/{REPO}/tree/{head}/entries/{eid}",
                               "name": "g1bench community result (verified by replay)"}
        assert e["notes"].startswith("community result verified by replay: ") and eid in e["notes"]
        assert "paper-v3" in e["notes"]
    assert text.startswith("# g1bench community results") and "Not published by the model's authors" in text
    assert model.pulls[1]["title"] == "Add g1bench community results (verified by replay)"
    assert model.pulls[1]["status"] == "open"
    # on the leaderboard, its model's id and commit were looked up on the Hub: it is ranked
    board = cli(env, ["leaderboard", "--repo", REPO, "--suite", "paper", "--format", "json"])[0]
    row = next(r for r in json.loads(board["out"])["rows"] if r["entry_id"] == eid)
    assert row["model_check"] == "Hub model and commit checked" and row["rank_label"] == "1", row
    details = python(env, "import json, sys\nfrom huggingface_hub import HfApi\n"
                          "d = HfApi().get_discussion_details('acme/vlm-7b', 1)\n"
                          "print(json.dumps({'pr': d.is_pull_request, 'status': d.status, 'target': d.target_branch, "
                          "'n': len(list(HfApi().get_repo_discussions('acme/vlm-7b')))}))")
    assert details == {"pr": True, "status": "open", "target": "refs/heads/main", "n": 1}

"""The Hub-protocol test server, driven by the real huggingface_hub client in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from g1bench.testing import HubServer, hub_env


@pytest.fixture
def hub():
    with HubServer() as server:
        yield server


def run_client(hub, tmp_path, code: str, token: str = "hf_dummy_test_token") -> subprocess.CompletedProcess:
    env = hub_env(hub, tmp_path / "hf_home", token=token)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


CLIENT = r'''
import json, sys
from huggingface_hub import HfApi, HfFileSystem, hf_hub_download, snapshot_download
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError
folder = sys.argv[1]
api = HfApi()
out = {"whoami": api.whoami()["name"]}
api.create_repo("org/ds", repo_type="dataset", private=True)
try:
    api.create_repo("org/ds", repo_type="dataset")
except Exception as e:
    out["again"] = type(e).__name__
api.create_repo("org/ds", repo_type="dataset", exist_ok=True)
c1 = api.upload_folder(repo_id="org/ds", folder_path=folder, repo_type="dataset", commit_message="first")
c2 = api.upload_folder(repo_id="org/ds", folder_path=folder, repo_type="dataset", commit_message="same again")
out["noop"] = c1.oid == c2.oid
info = api.dataset_info("org/ds", files_metadata=True)
out["private"] = info.private
out["siblings"] = sorted((s.rfilename, s.lfs is not None) for s in info.siblings)
out["files"] = api.list_repo_files("org/ds", repo_type="dataset")
out["tree"] = sorted((e.path, type(e).__name__) for e in api.list_repo_tree("org/ds", repo_type="dataset", recursive=True))
out["paths"] = sorted(type(e).__name__ for e in api.get_paths_info("org/ds", ["data", "README.md"], repo_type="dataset"))
p = hf_hub_download("org/ds", "data/blob.parquet", repo_type="dataset")
out["download_ok"] = open(p, "rb").read() == open(folder + "/data/blob.parquet", "rb").read()
out["snapshot"] = sorted(__import__("os").listdir(snapshot_download("org/ds", repo_type="dataset")))
with HfFileSystem().open("datasets/org/ds/data/blob.parquet", "rb") as f:
    f.seek(1000)
    out["range_ok"] = f.read(100) == open(folder + "/data/blob.parquet", "rb").read()[1000:1100]
api.create_branch("org/ds", branch="dev", repo_type="dataset")
api.upload_file(path_or_fileobj=b"v2", path_in_repo="notes.txt", repo_id="org/ds", repo_type="dataset", revision="dev",
                commit_message="on dev")
out["dev_files"] = api.list_repo_files("org/ds", repo_type="dataset", revision="dev")
out["main_files"] = api.list_repo_files("org/ds", repo_type="dataset")
out["commits"] = [c.title for c in api.list_repo_commits("org/ds", repo_type="dataset")]
out["refs"] = sorted(b.name for b in api.list_repo_refs("org/ds", repo_type="dataset").branches)
api.delete_file("notes.txt", "org/ds", repo_type="dataset", revision="dev")
for call, err in ((lambda: hf_hub_download("org/ds", "nope.txt", repo_type="dataset"), "missing_file"),
                  (lambda: hf_hub_download("org/ds", "README.md", repo_type="dataset", revision="nobranch"), "missing_rev"),
                  (lambda: api.dataset_info("org/nothing"), "missing_repo")):
    try:
        call()
    except Exception as e:
        out[err] = type(e).__name__
api.delete_repo("org/ds", repo_type="dataset")
out["deleted"] = not api.repo_exists("org/ds", repo_type="dataset")
print(json.dumps(out))
'''


def test_real_client_round_trip(hub, tmp_path):
    folder = tmp_path / "folder"
    (folder / "data").mkdir(parents=True)
    (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n# test\n")
    (folder / "data" / "blob.parquet").write_bytes(bytes(range(256)) * 40)
    (folder / "data" / "meta.json").write_text('{"a": 1}')
    res = run_client(hub, tmp_path, CLIENT.replace("sys.argv[1]", repr(str(folder))))
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["whoami"] == "g1bench-tester" and out["again"] == "HfHubHTTPError"
    assert out["noop"] and out["private"] is True
    assert ["data/blob.parquet", True] in out["siblings"] and ["README.md", False] in out["siblings"]
    assert out["files"] == [".gitattributes", "README.md", "data/blob.parquet", "data/meta.json"]
    assert ["data", "RepoFolder"] in out["tree"] and out["paths"] == ["RepoFile", "RepoFolder"]
    assert out["download_ok"] and out["range_ok"]
    assert out["snapshot"] == [".gitattributes", "README.md", "data"]
    assert "notes.txt" in out["dev_files"] and "notes.txt" not in out["main_files"]
    assert out["commits"] == ["first", "initial commit"] and out["refs"] == ["dev", "main"]
    assert out["missing_file"] == "RemoteEntryNotFoundError" and out["missing_rev"] == "RevisionNotFoundError"
    assert out["missing_repo"] == "RepositoryNotFoundError" and out["deleted"]


def test_requests_need_a_token(hub, tmp_path):
    res = run_client(hub, tmp_path, "from huggingface_hub import HfApi; HfApi().create_repo('org/x', repo_type='dataset')",
                     token="")
    assert res.returncode != 0 and "401" in res.stderr
    req = urllib.request.Request(hub.url + "/api/whoami-v2")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 401


def test_restricted_tokens_and_yaml_validation(tmp_path):
    with HubServer(tokens={"good"}) as hub:
        def post(path, body, token):
            req = urllib.request.Request(hub.url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        assert post("/api/repos/create", {"name": "m", "type": "model"}, "bad")[0] == 401
        assert post("/api/repos/create", {"name": "m", "type": "model"}, "good")[0] == 200
        assert post("/api/repos/create", {"name": "m", "type": "model"}, "good")[0] == 409
        assert post("/api/repos/create", {"name": "m", "organization": "other", "type": "model"}, "good")[0] == 403
        assert post("/api/validate-yaml", {"content": "---\na: [1\n---\n"}, "good")[0] == 400
        assert post("/api/validate-yaml", {"content": "---\na: 1\n---\n"}, "good") == (200, {"errors": [], "warnings": []})
        assert hub.commit_count("model", "g1bench-tester/m") == 1

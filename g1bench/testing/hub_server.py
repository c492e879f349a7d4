"""A small Hugging Face Hub-protocol server on 127.0.0.1, for testing pushes and downloads offline.

It serves the routes the real ``huggingface_hub`` and ``datasets`` clients use (see
``shared/spec/offline-stack.md``) and keeps repos in a temporary folder: content-addressed blobs on disk,
commits, branches and file trees in memory. It is a test double of the Hub's *protocol*, not of its
policies: any non-empty token is accepted (or only ``tokens`` if given), every file over
``lfs_threshold`` bytes or with a binary-looking name goes through git-LFS, and there is no Xet.

Clients must be configured before ``huggingface_hub`` is imported, so run them in a subprocess with
:func:`hub_env`::

    with HubServer() as hub:
        env = hub_env(hub, tmp_path / "hf_home")
        subprocess.run([sys.executable, "-c", "..."], env=env, check=True)
        assert hub.file_bytes("datasets", "org/name", "README.md")

Routes: ``GET /api/whoami-v2``; ``POST /api/repos/create`` (409 if it exists); ``DELETE /api/repos/delete``;
``POST /api/validate-yaml``; ``GET /api/{models|datasets|spaces}/{repo}[/revision/{rev}]``;
``GET .../tree/{rev}[/{path}]?recursive=``; ``POST .../paths-info/{rev}``; ``POST .../preupload/{rev}``;
``POST .../commit/{rev}`` (NDJSON: header, file (base64), lfsFile, deletedFile, deletedFolder);
``GET /api/{models|datasets|spaces}?search=&author=&limit=`` (public repos whose id contains ``search``, case
insensitive; ``HfApi().list_models``); ``GET .../refs``; ``GET .../commits/{rev}``; ``POST|DELETE .../branch/{name}``; pull requests (``create_pr=1`` on a
commit opens ``refs/pr/N``; ``GET .../discussions[/{num}]``);
``POST /{[datasets/|spaces/]repo}.git/info/lfs/objects/batch`` and ``PUT`` to the href it returns;
``GET|HEAD /{[datasets/|spaces/]repo}/resolve/{rev}/{path}`` (with ``ETag``, ``X-Repo-Commit``, ranges);
``GET|POST /api/spaces/{repo}/variables`` (a Space's variables: ``add_space_variable``, ``get_space_variables``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qs, unquote, urlsplit

REPO_TYPES = ("model", "dataset", "space")
_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_LFS_SUFFIXES = (".parquet", ".arrow", ".png", ".jpg", ".jpeg", ".bin", ".safetensors", ".pt", ".pth", ".zip",
                 ".gz", ".tar", ".npz", ".npy", ".h5", ".onnx", ".msgpack", ".ckpt", ".pkl", ".zst", ".mp4", ".wav")
_EPOCH = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)


def git_blob_oid(data: bytes) -> str:
    """The git object id of a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass
class FileEntry:
    """A file of a commit: its content's sha256 and size, whether it is stored through LFS, and its git blob id."""

    sha256: str
    size: int
    lfs: bool
    blob_oid: str  # git blob id of the content ("" for LFS files, whose git blob is the pointer)

    def git_oid(self) -> str:
        """What the Hub calls the file's ``oid``/``blobId``: the git blob id (of the pointer for LFS files)."""
        return git_blob_oid(lfs_pointer(self.sha256, self.size)) if self.lfs else self.blob_oid

    def etag(self) -> str:
        return self.sha256 if self.lfs else self.blob_oid


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    message: str
    files: dict[str, FileEntry]
    date: str


@dataclass
class Repo:
    type: str
    id: str
    private: bool
    created: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    #: pull requests by number: {"num", "title", "description", "status", "createdAt", "author", "base", "ref"}
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: a Space's variables: {key: {"value", "description", "updatedAt"}}
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit | None:
        pr = re.fullmatch(r"refs/pr/(\d+)", rev)
        if pr:  # a pull request's head (what `revision="refs/pr/N"` reads)
            p = self.pulls.get(int(pr.group(1)))
            return self.commits.get(p["ref"]) if p else None
        rev = rev.removeprefix("refs/heads/")
        oid = self.branches.get(rev) or self.tags.get(rev.removeprefix("refs/tags/"))
        if oid is None and re.fullmatch(r"[0-9a-f]{7,40}", rev):
            matches = [c for c in self.commits if c.startswith(rev)]
            oid = matches[0] if len(matches) == 1 else None
        return self.commits.get(oid) if oid else None

    def history(self, head: Commit) -> list[Commit]:
        out, c = [], head
        while c is not None:
            out.append(c)
            c = self.commits.get(c.parent) if c.parent else None
        return out


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class HubServer:
    """A threaded Hub-protocol server on 127.0.0.1 with a random free port.

    Args:
        root: folder for the blobs (default: a temporary folder removed on :meth:`stop`).
        user: the name ``whoami`` returns (its namespace, and every org in ``orgs``, may create repos).
        orgs: organisations the user belongs to.
        tokens: accepted tokens (None: any non-empty bearer token).
        lfs_threshold: files at least this large go through LFS whatever their name.

    Attributes:
        url: ``http://127.0.0.1:PORT`` (the value for ``HF_ENDPOINT``).
        requests: ``(method, path)`` of every request served, for assertions.
    """

    def __init__(self, root: str | os.PathLike | None = None, user: str = "g1bench-tester",
                 orgs: Iterable[str] = ("org",), tokens: Iterable[str] | None = None, lfs_threshold: int = 10_000_000):
        self._own_root = root is None
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="g1bench-hub-"))
        (self.root / "objects").mkdir(parents=True, exist_ok=True)
        self.user, self.orgs = user, tuple(orgs)
        self.tokens = None if tokens is None else set(tokens)
        self.lfs_threshold = lfs_threshold
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.RLock()
        self._counter = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> "HubServer":
        server = self

        class Handler(_Handler):
            hub = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="hub-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "HubServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "call start() first"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- inspection helpers for tests ------------------------------------------------------------------
    def repo(self, repo_type: str, repo_id: str) -> Repo:
        return self.repos[(_singular(repo_type), repo_id)]

    def head(self, repo_type: str, repo_id: str, revision: str = "main") -> Commit:
        commit = self.repo(repo_type, repo_id).resolve(revision)
        assert commit is not None, f"no revision {revision!r}"
        return commit

    def commit_count(self, repo_type: str, repo_id: str, revision: str = "main") -> int:
        r = self.repo(repo_type, repo_id)
        return len(r.history(self.head(repo_type, repo_id, revision)))

    def add_repo(self, repo_type: str, repo_id: str, files: Mapping[str, bytes] | None = None,
                 private: bool = False) -> Repo:
        """Create a repo with one commit holding ``files`` directly (tests: a Hub that already has models)."""
        t = _singular(repo_type)
        with self.lock:
            repo = Repo(t, repo_id, private, self._now())
            entries = {p: self._entry(p, data) for p, data in (files or {}).items()}
            first = self._new_commit(repo, None, "initial commit", "", entries)
            repo.branches["main"] = first.oid
            self.repos[(t, repo_id)] = repo
        return repo

    def file_bytes(self, repo_type: str, repo_id: str, path: str, revision: str = "main") -> bytes:
        return self._blob(self.head(repo_type, repo_id, revision).files[path].sha256).read_bytes()

    # -- storage ---------------------------------------------------------------------------------------
    def _blob(self, sha256: str) -> Path:
        return self.root / "objects" / sha256

    def _store(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self._blob(sha)
        if not path.exists():
            tmp = path.with_suffix(f".tmp{threading.get_ident()}")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return sha

    def _now(self) -> str:
        self._counter += 1
        return (_EPOCH + _dt.timedelta(seconds=self._counter)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _new_commit(self, repo: Repo, parent: Commit | None, title: str, message: str,
                    files: dict[str, FileEntry]) -> Commit:
        body = json.dumps([repo.type, repo.id, parent.oid if parent else None, title, message, self._counter,
                           sorted((p, f.sha256, f.lfs) for p, f in files.items())])
        oid = hashlib.sha1(body.encode()).hexdigest()
        commit = Commit(oid, parent.oid if parent else None, title, message, files, self._now())
        repo.commits[oid] = commit
        return commit

    def _is_lfs(self, path: str, size: int, sample: bytes | None = None) -> bool:
        if size >= self.lfs_threshold or path.lower().endswith(_LFS_SUFFIXES):
            return True
        return sample is not None and b"\0" in sample

    def _entry(self, path: str, data: bytes, lfs: bool | None = None) -> FileEntry:
        if lfs is None:
            lfs = self._is_lfs(path, len(data), data[:512])
        return FileEntry(self._store(data), len(data), lfs, git_blob_oid(data))


def _singular(repo_type: str) -> str:
    t = repo_type.rstrip("s") if repo_type.endswith("s") else repo_type
    if t not in REPO_TYPES:
        raise HubError(400, f"invalid repo type {repo_type!r}")
    return t


def _tree_oid(path: str, files: Mapping[str, FileEntry]) -> str:
    inside = sorted((p, f.sha256) for p, f in files.items() if p.startswith(path + "/"))
    return hashlib.sha1(json.dumps([path, inside]).encode()).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    protocol_version = "HTTP/1.1"
    server_version = "g1bench-hub/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing --------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json",
              headers: Mapping[str, str] | None = None, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers=headers)

    def _error(self, e: HubError, head: bool = False) -> None:
        headers = {"X-Error-Message": e.message}
        if e.code:
            headers["X-Error-Code"] = e.code
        self._send(e.status, json.dumps({"error": e.message}).encode(), headers=headers, head=head)

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[7:].strip() if auth.startswith("Bearer ") and auth[7:].strip() else None

    def _require_token(self) -> str:
        token = self._token()
        if token is None or (self.hub.tokens is not None and token not in self.hub.tokens):
            raise HubError(401, "Invalid credentials in Authorization header", "Unauthorized")
        return token

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        segments = [unquote(s) for s in url.path.split("/")[1:]]
        query = parse_qs(url.query)
        with self.hub.lock:
            self.hub.requests.append((method, url.path))
        head = method == "HEAD"
        try:
            self._route(method, segments, query)
        except HubError as e:
            self._error(e, head=head)
        except Exception as e:  # a bug in the server: say so rather than hang the client
            self._error(HubError(500, f"{type(e).__name__}: {e}"), head=head)

    do_GET = lambda self: self._dispatch("GET")  # noqa: E731
    do_HEAD = lambda self: self._dispatch("HEAD")  # noqa: E731
    do_POST = lambda self: self._dispatch("POST")  # noqa: E731
    do_PUT = lambda self: self._dispatch("PUT")  # noqa: E731
    do_DELETE = lambda self: self._dispatch("DELETE")  # noqa: E731

    # -- routing ---------------------------------------------------------------------------------------
    def _route(self, method: str, s: list[str], query: dict[str, list[str]]) -> None:
        if s[:1] == ["api"]:
            return self._api(method, s[1:], query)
        if s[:1] == ["lfs-upload"] and method == "PUT" and len(s) == 2:
            return self._lfs_put(s[1])
        repo_type = "model"
        if s[:1] in (["datasets"], ["spaces"]):
            repo_type, s = _singular(s[0]), s[1:]
        if len(s) >= 5 and s[1].endswith(".git") and s[2:5] == ["info", "lfs", "objects"] and method == "POST":
            return self._lfs_batch(repo_type, f"{s[0]}/{s[1][:-4]}")
        if len(s) >= 4 and s[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(repo_type, f"{s[0]}/{s[1]}", s[3], "/".join(s[4:]), head=method == "HEAD")
        raise HubError(404, f"no route for {method} {self.path}")

    def _api(self, method: str, s: list[str], query: dict[str, list[str]]) -> None:
        if s == ["whoami-v2"] and method == "GET":
            self._require_token()
            return self._json(200, {
                "type": "user", "id": "0" * 24, "name": self.hub.user, "fullname": self.hub.user,
                "email": None, "emailVerified": False, "canPay": False, "isPro": False, "periodEnd": None,
                "orgs": [{"type": "org", "name": o, "fullname": o, "roleInOrg": "admin"} for o in self.hub.orgs],
                "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": "write"}},
            })
        if s == ["repos", "create"] and method == "POST":
            return self._create_repo(json.loads(self._body() or b"{}"))
        if s == ["repos", "delete"] and method == "DELETE":
            return self._delete_repo(json.loads(self._body() or b"{}"))
        if s == ["validate-yaml"] and method == "POST":
            return self._validate_yaml(json.loads(self._body() or b"{}"))
        if len(s) == 1 and s[0] in ("models", "datasets", "spaces") and method == "GET":
            return self._search(_singular(s[0]), query)
        if len(s) >= 3 and s[0] in ("models", "datasets", "spaces"):
            repo_type, repo_id, rest = _singular(s[0]), f"{s[1]}/{s[2]}", s[3:]
            if not rest and method == "GET":
                return self._info(repo_type, repo_id, "main")
            if rest[:1] == ["revision"] and len(rest) >= 2 and method == "GET":
                return self._info(repo_type, repo_id, "/".join(rest[1:]))
            if rest[:1] == ["tree"] and len(rest) >= 2 and method == "GET":
                recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
                return self._tree(repo_type, repo_id, rest[1], "/".join(rest[2:]), recursive)
            if rest[:1] == ["paths-info"] and len(rest) == 2 and method == "POST":
                return self._paths_info(repo_type, repo_id, rest[1])
            if rest[:1] == ["preupload"] and len(rest) == 2 and method == "POST":
                return self._preupload(repo_type, repo_id, rest[1])
            if rest[:1] == ["commit"] and len(rest) == 2 and method == "POST":
                return self._commit(repo_type, repo_id, rest[1], query)
            if rest == ["refs"] and method == "GET":
                return self._refs(repo_type, repo_id)
            if rest[:1] == ["commits"] and len(rest) == 2 and method == "GET":
                return self._commits(repo_type, repo_id, rest[1])
            if rest[:1] == ["discussions"] and len(rest) <= 2 and method == "GET":
                return self._discussions(repo_type, repo_id, rest[1] if len(rest) == 2 else None)
            if rest == ["variables"] and repo_type == "space" and method in ("GET", "POST"):
                return self._variables(repo_type, repo_id, method)
            if rest[:1] == ["branch"] and len(rest) == 2 and method in ("POST", "DELETE"):
                return self._branch(repo_type, repo_id, rest[1], method)
        raise HubError(404, f"no route for {method} /api/{'/'.join(s)}")

    # -- repos -----------------------------------------------------------------------------------------
    def _get_repo(self, repo_type: str, repo_id: str) -> Repo:
        repo = self.hub.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and self._token() is None):
            raise HubError(404, f"Repository Not Found for {repo_type} {repo_id}", "RepoNotFound")
        return repo

    def _get_commit(self, repo: Repo, rev: str) -> Commit:
        commit = repo.resolve(rev)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        return commit

    def _create_repo(self, payload: dict[str, Any]) -> None:
        self._require_token()
        name, org = payload.get("name"), payload.get("organization")
        repo_type = _singular(payload.get("type") or "model")
        if not name or not re.fullmatch(r"[\w.-]+", name):
            raise HubError(400, f"invalid repo name {name!r}")
        namespace = org or self.hub.user
        if namespace != self.hub.user and namespace not in self.hub.orgs:
            raise HubError(403, f"You don't have the rights to create a repo under {namespace!r}")
        repo_id = f"{namespace}/{name}"
        url = f"{self.hub.url}/{_PREFIX[repo_type]}{repo_id}"
        with self.hub.lock:
            if (repo_type, repo_id) in self.hub.repos:
                return self._json(409, {"error": "You already created this repo", "url": url},
                                  headers={"X-Error-Message": "You already created this repo"})
            private = payload.get("visibility", "public") in ("private", "protected") or bool(payload.get("private"))
            repo = Repo(repo_type, repo_id, private, self.hub._now())
            files = {}
            if repo_type != "space":
                files[".gitattributes"] = self.hub._entry(".gitattributes", _GITATTRIBUTES, lfs=False)
            first = self.hub._new_commit(repo, None, "initial commit", "", files)
            repo.branches["main"] = first.oid
            self.hub.repos[(repo_type, repo_id)] = repo
        self._json(200, {"url": url, "name": repo_id, "id": hashlib.sha1(repo_id.encode()).hexdigest()[:24]})

    def _search(self, repo_type: str, query: dict[str, list[str]]) -> None:
        """What ``list_models(search=..., author=..., limit=...)`` reads: public repos, sorted by id (one page)."""
        search = query.get("search", [""])[0].lower()
        author = query.get("author", [None])[0]
        limit = int(query.get("limit", ["1000"])[0])
        with self.hub.lock:
            found = sorted(r for (t, r), repo in self.hub.repos.items()
                           if t == repo_type and not repo.private and search in r.lower()
                           and (author is None or r.split("/")[0] == author))
        out = []
        for repo_id in found[:limit]:
            repo = self.hub.repos[(repo_type, repo_id)]
            item = {"_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id, "private": False,
                    "likes": 0, "downloads": 0, "tags": [], "createdAt": repo.created}
            if repo_type == "model":
                item["modelId"] = repo_id
            out.append(item)
        self._json(200, out)

    def _delete_repo(self, payload: dict[str, Any]) -> None:
        self._require_token()
        repo_type = _singular(payload.get("type") or "model")
        repo_id = f"{payload.get('organization') or self.hub.user}/{payload.get('name')}"
        with self.hub.lock:
            if self.hub.repos.pop((repo_type, repo_id), None) is None:
                raise HubError(404, f"Repository Not Found for {repo_type} {repo_id}", "RepoNotFound")
        self._json(200, {})

    def _validate_yaml(self, payload: dict[str, Any]) -> None:
        content = payload.get("content", "")
        errors = []
        if content.startswith("---"):
            end = content.find("\n---", 3)
            if end < 0:
                errors.append({"message": "YAML front matter is not closed by '---'"})
            else:
                import yaml

                try:
                    data = yaml.safe_load(content[3:end])
                    if data is not None and not isinstance(data, dict):
                        errors.append({"message": "YAML front matter must be a mapping"})
                except yaml.YAMLError as e:
                    errors.append({"message": f"invalid YAML: {e}"})
        if errors:
            return self._json(400, {"errors": errors, "warnings": []})
        self._json(200, {"errors": [], "warnings": []})

    def _info(self, repo_type: str, repo_id: str, rev: str) -> None:
        repo = self._get_repo(repo_type, repo_id)
        commit = self._get_commit(repo, rev)
        siblings = []
        for path, f in sorted(commit.files.items()):
            sib: dict[str, Any] = {"rfilename": path, "size": f.size, "blobId": f.git_oid()}
            if f.lfs:
                sib["lfs"] = {"sha256": f.sha256, "size": f.size, "pointerSize": len(lfs_pointer(f.sha256, f.size))}
            siblings.append(sib)
        card = None
        if "README.md" in commit.files:
            card = _front_matter(self.hub._blob(commit.files["README.md"].sha256).read_text(errors="replace"))
        namespace = repo_id.split("/")[0]
        self._json(200, {
            "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id, "author": namespace,
            "sha": commit.oid, "lastModified": commit.date, "createdAt": repo.created, "private": repo.private,
            "gated": False, "disabled": False, "downloads": 0, "likes": 0, "tags": [], "cardData": card,
            "siblings": siblings, "usedStorage": sum(f.size for f in commit.files.values()),
        })

    def _file_json(self, path: str, f: FileEntry) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "file", "oid": f.git_oid(), "size": f.size, "path": path}
        if f.lfs:
            out["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": len(lfs_pointer(f.sha256, f.size))}
        return out

    def _dir_json(self, path: str, files: Mapping[str, FileEntry]) -> dict[str, Any]:
        return {"type": "directory", "oid": _tree_oid(path, files), "size": 0, "path": path}

    def _tree(self, repo_type: str, repo_id: str, rev: str, path: str, recursive: bool) -> None:
        repo = self._get_repo(repo_type, repo_id)
        files = self._get_commit(repo, rev).files
        path = path.strip("/")
        prefix = f"{path}/" if path else ""
        if path and path in files:
            raise HubError(400, f"{path} is a file, not a folder")
        below = {p: f for p, f in files.items() if p.startswith(prefix)}
        if path and not below:
            raise HubError(404, f"{path} does not exist on {rev}", "EntryNotFound")
        out, dirs = [], set()
        for p in sorted(below):
            parts = p[len(prefix):].split("/")
            for i in range(1, len(parts)):
                d = prefix + "/".join(parts[:i])
                if d not in dirs and (recursive or i == 1):
                    dirs.add(d)
                    out.append(self._dir_json(d, files))
            if recursive or len(parts) == 1:
                out.append(self._file_json(p, below[p]))
        self._json(200, out)

    def _paths_info(self, repo_type: str, repo_id: str, rev: str) -> None:
        repo = self._get_repo(repo_type, repo_id)
        files = self._get_commit(repo, rev).files
        body = self._body()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            payload = json.loads(body or b"{}")
            paths, expand = payload.get("paths", []), bool(payload.get("expand"))
        else:
            form = parse_qs(body.decode())
            paths, expand = form.get("paths", []), form.get("expand", ["False"])[0].lower() in ("1", "true")
        head = self._get_commit(repo, rev)
        out = []
        for p in paths:
            p = p.strip("/")
            if p in files:
                info = self._file_json(p, files[p])
                if expand:  # the last commit that changed the file, as the Hub's expanded listing gives
                    last = self._last_commit(repo, head, p)
                    info["lastCommit"] = {"id": last.oid, "title": last.title, "date": last.date}
                out.append(info)
            elif any(q.startswith(p + "/") for q in files) or p == "":
                out.append(self._dir_json(p, files))
        self._json(200, out)

    @staticmethod
    def _last_commit(repo: Repo, head: Commit, path: str) -> Commit:
        """The most recent commit in ``head``'s history that added or changed ``path``."""
        last = head
        for c in repo.history(head)[1:]:
            if c.files.get(path) != head.files.get(path):
                break
            last = c
        return last

    def _refs(self, repo_type: str, repo_id: str) -> None:
        repo = self._get_repo(repo_type, repo_id)
        self._json(200, {
            "branches": [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": o} for b, o in sorted(repo.branches.items())],
            "tags": [{"name": t, "ref": f"refs/tags/{t}", "targetCommit": o} for t, o in sorted(repo.tags.items())],
            "converts": [],
        })

    def _commits(self, repo_type: str, repo_id: str, rev: str) -> None:
        repo = self._get_repo(repo_type, repo_id)
        history = repo.history(self._get_commit(repo, rev))
        self._json(200, [{"id": c.oid, "title": c.title, "message": c.message, "date": c.date,
                          "authors": [{"user": self.hub.user, "avatar": None}]} for c in history])

    def _variables(self, repo_type: str, repo_id: str, method: str) -> None:
        self._require_token()
        repo = self._get_repo(repo_type, repo_id)
        if method == "POST":
            payload = json.loads(self._body() or b"{}")
            key = payload.get("key")
            if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise HubError(400, f"invalid variable name {key!r}")
            with self.hub.lock:
                repo.variables[key] = {"value": str(payload.get("value", "")), "description": payload.get("description"),
                                       "updatedAt": self.hub._now()}
        self._json(200, repo.variables)

    def _branch(self, repo_type: str, repo_id: str, branch: str, method: str) -> None:
        self._require_token()
        repo = self._get_repo(repo_type, repo_id)
        with self.hub.lock:
            if method == "DELETE":
                if repo.branches.pop(branch, None) is None:
                    raise HubError(404, f"no branch {branch}", "RevisionNotFound")
                return self._json(200, {})
            payload = json.loads(self._body() or b"{}")
            if branch in repo.branches:
                raise HubError(409, f"Reference refs/heads/{branch} already exists")
            start = self._get_commit(repo, payload.get("startingPoint") or "main")
            repo.branches[branch] = start.oid
        self._json(200, {})

    # -- uploads ---------------------------------------------------------------------------------------
    def _preupload(self, repo_type: str, repo_id: str, rev: str) -> None:
        self._require_token()
        repo = self._get_repo(repo_type, repo_id)
        commit = repo.resolve(rev)
        existing = commit.files if commit is not None else {}
        out = []
        for f in json.loads(self._body() or b"{}").get("files", []):
            sample = base64.b64decode(f.get("sample", ""))
            lfs = self.hub._is_lfs(f["path"], int(f.get("size", 0)), sample)
            old = existing.get(f["path"])
            oid = None
            if old is not None:
                oid = old.sha256 if lfs else old.blob_oid
            out.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid})
        self._json(200, {"files": out, "commitOid": commit.oid if commit else None})

    def _lfs_batch(self, repo_type: str, repo_id: str) -> None:
        self._require_token()
        self._get_repo(repo_type, repo_id)
        payload = json.loads(self._body() or b"{}")
        objects = []
        for obj in payload.get("objects", []):
            oid, size = obj["oid"], int(obj["size"])
            entry: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
            if payload.get("operation", "upload") == "upload":
                blob = self.hub._blob(oid)
                if not blob.exists():
                    entry["actions"] = {"upload": {"href": f"{self.hub.url}/lfs-upload/{oid}", "header": {}}}
            else:
                entry["actions"] = {"download": {"href": f"{self.hub.url}/lfs-download/{oid}", "header": {}}}
            objects.append(entry)
        self._send(200, json.dumps({"transfer": "basic", "objects": objects}).encode(),
                   content_type="application/vnd.git-lfs+json")

    def _lfs_put(self, oid: str) -> None:
        data = self._body()
        if hashlib.sha256(data).hexdigest() != oid:
            raise HubError(400, "uploaded content does not match its sha256 oid")
        self.hub._store(data)
        self._send(200)

    def _commit(self, repo_type: str, repo_id: str, rev: str, query: dict[str, list[str]]) -> None:
        self._require_token()
        repo = self._get_repo(repo_type, repo_id)
        create_pr = query.get("create_pr", ["0"])[0] in ("1", "true")
        lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "the first NDJSON line must be the commit header")
        header = lines[0]["value"]
        branch = rev.removeprefix("refs/heads/")
        pr = re.fullmatch(r"refs/pr/(\d+)", rev)
        with self.hub.lock:
            if pr:  # another commit on an open pull request
                pull = repo.pulls.get(int(pr.group(1)))
                if pull is None:
                    raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
                parent = repo.commits[pull["ref"]]
            elif branch not in repo.branches:
                raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
            else:
                parent = repo.commits[repo.branches[branch]]
            if header.get("parentCommit") and header["parentCommit"] != parent.oid:
                raise HubError(412, "A commit has happened since. Please refresh and try again.")
            files = dict(parent.files)
            for line in lines[1:]:
                key, value = line.get("key"), line.get("value", {})
                path = value.get("path", "").strip("/")
                if key == "file":
                    if value.get("encoding", "base64") != "base64":
                        raise HubError(400, f"unsupported encoding {value.get('encoding')!r}")
                    files[path] = self.hub._entry(path, base64.b64decode(value["content"]), lfs=False)
                elif key == "lfsFile":
                    blob = self.hub._blob(value["oid"])
                    if not blob.exists():
                        raise HubError(400, f"LFS object {value['oid']} of {path} was never uploaded")
                    files[path] = FileEntry(value["oid"], int(value["size"]), True, "")
                elif key == "deletedFile":
                    if files.pop(path, None) is None:
                        raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                elif key == "deletedFolder":
                    gone = [p for p in files if p.startswith(path + "/")]
                    for p in gone:
                        del files[p]
                else:
                    raise HubError(400, f"unsupported commit operation {key!r}")
            commit = self.hub._new_commit(repo, parent, header.get("summary") or "update",
                                          header.get("description") or "", files)
            pr_url = None
            if create_pr:  # the commit goes to a new refs/pr/N; the branch does not move
                num = max(repo.pulls, default=0) + 1
                repo.pulls[num] = {"num": num, "title": header.get("summary") or "update",
                                   "description": header.get("description") or "", "status": "open",
                                   "createdAt": commit.date, "author": self.hub.user, "base": f"refs/heads/{branch}",
                                   "ref": commit.oid}
                pr_url = f"{self.hub.url}/{_PREFIX[repo_type]}{repo_id}/discussions/{num}"
            elif pr:
                repo.pulls[int(pr.group(1))]["ref"] = commit.oid
            else:
                repo.branches[branch] = commit.oid
        self._json(200, {"success": True, "commitOid": commit.oid, "pullRequestUrl": pr_url,
                         "commitUrl": f"{self.hub.url}/{_PREFIX[repo_type]}{repo_id}/commit/{commit.oid}"})

    def _discussions(self, repo_type: str, repo_id: str, num: str | None) -> None:
        repo = self._get_repo(repo_type, repo_id)

        def view(p: dict[str, Any]) -> dict[str, Any]:
            return {"num": p["num"], "title": p["title"], "status": p["status"], "createdAt": p["createdAt"],
                    "author": {"name": p["author"]}, "repo": {"name": repo_id, "type": repo_type},
                    "isPullRequest": True, "pinned": False, "numComments": 1, "topReactions": []}

        if num is None:
            pulls = [view(p) for _, p in sorted(repo.pulls.items(), reverse=True)]
            return self._json(200, {"discussions": pulls, "count": len(pulls), "start": 0, "numClosedDiscussions": 0})
        p = repo.pulls.get(int(num)) if num.isdigit() else None
        if p is None:
            raise HubError(404, f"Discussion {num} not found", "DiscussionNotFound")
        self._json(200, {**view(p), "events": [], "changes": {"base": p["base"]}, "filesWithConflicts": [],
                         "diff": None})

    # -- downloads -------------------------------------------------------------------------------------
    def _resolve(self, repo_type: str, repo_id: str, rev: str, path: str, head: bool) -> None:
        repo = self._get_repo(repo_type, repo_id)
        commit = self._get_commit(repo, rev)
        f = commit.files.get(path)
        if f is None:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
        data = self.hub._blob(f.sha256).read_bytes()
        headers = {"ETag": f'"{f.etag()}"', "X-Repo-Commit": commit.oid, "Accept-Ranges": "bytes"}
        if f.lfs:
            headers["X-Linked-Etag"] = f'"{f.sha256}"'
            headers["X-Linked-Size"] = str(f.size)
        status = 200
        rng = self.headers.get("Range")
        if rng and not head:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if m:
                start = int(m.group(1)) if m.group(1) else max(0, len(data) - int(m.group(2) or 0))
                end = int(m.group(2)) if m.group(1) and m.group(2) else len(data) - 1
                end = min(end, len(data) - 1)
                if start >= len(data):
                    return self._send(416, headers={"Content-Range": f"bytes */{len(data)}"})
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                data, status = data[start:end + 1], 206
        self._send(status, data, content_type="application/octet-stream", headers=headers, head=head)


_GITATTRIBUTES = b"".join(f"*{s} filter=lfs diff=lfs merge=lfs -text\n".encode() for s in _LFS_SUFFIXES)


def _front_matter(text: str) -> dict[str, Any] | None:
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    if end < 0:
        return None
    import yaml

    try:
        data = yaml.safe_load(text[3:end])
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def hub_env(hub: HubServer, hf_home: str | os.PathLike, token: str = "hf_dummy_test_token",
            base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables for a client subprocess talking to ``hub`` (set before importing huggingface_hub).

    ``base`` defaults to ``os.environ`` without any HF_* variable; pass ``token=""`` for a client with no token.
    """
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    env.update({
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(hf_home),
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0",
    })
    if token:
        env["HF_TOKEN"] = token
    return env

"""Results stores: where leaderboard entries live. One interface, two places.

* :class:`LocalStore`: a folder (the built-in default, so everything works offline). Default folder:
  ``$G1BENCH_RESULTS_DIR``, else ``$XDG_DATA_HOME/g1bench/results`` (``~/.local/share/g1bench/results``).
* :class:`HubStore`: a Hugging Face dataset repo (``ORG/NAME``; default ``$G1BENCH_RESULTS_REPO``). The token
  comes from the usual ``huggingface_hub`` places (``HF_TOKEN``, ``hf auth login``) and is never printed.

Both have the same layout (see :mod:`g1bench.leaderboard.entry`) plus the store's card (``README.md``
with ``configs``, so ``load_dataset(REPO_OR_FOLDER, "results")`` gives one row per (run, game,
difficulty) and ``load_dataset(..., "steps")`` the step logs), ``eval.yaml`` (the Hub benchmark
declaration) and the paper suite's episodes under ``suites/`` (what each benchmark task evaluates on). A
local store folder can be uploaded as is to become a Hub store.

Reading a Hub store is incremental: :meth:`HubStore.sync` asks for the branch's head commit (one request);
when it moved since the last sync, one tree listing says which entries are new or changed and only
those are downloaded (into the Hugging Face cache, by commit). Sizes come before bytes: a file the listing
shows larger than an entry file may be is not downloaded, and its entry is skipped with the reason. Its state
lives in the g1bench cache (``$G1BENCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/g1bench``, ``~/.cache/g1bench``).

Stores hold entries; they neither judge them nor know how runs become entries:
:func:`g1bench.leaderboard.push.push_run` verifies a run before it :meth:`Store.put` s it, and
:func:`g1bench.leaderboard.aggregation.aggregate` verifies every entry again when it reads the store. A store
knows the order its entries came in (:meth:`Store.push_order`), which decides which of several copies of
one run is the row.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..core.files import FILE_MODE, FileFormatError, read_json, write_atomic
from .entry import (ENTRIES_DIR, ENTRY_FILES, ENTRY_ID, RUN_FILE, EntryError, EntryFiles, file_limit, frame_path,
                    read_entry_dir, read_entry_files, read_sized, write_run_dir)
from .identity import is_repo_id

ENV_REPO = "G1BENCH_RESULTS_REPO"
ENV_DIR = "G1BENCH_RESULTS_DIR"
ENV_CACHE = "G1BENCH_CACHE_DIR"
#: the largest frame file downloaded (a frame is a few KB of PNG)
MAX_FRAME_BYTES = 8 * 1024 * 1024
#: the mode a new folder gets under the process umask (FILE_MODE plus search where readable)
DIR_MODE = FILE_MODE | ((FILE_MODE & 0o444) >> 2)


class StoreError(RuntimeError):
    """A store cannot be opened, read or written (the message says which and what to do)."""


def default_local_dir() -> Path:
    """The built-in local store: ``$G1BENCH_RESULTS_DIR``, else ``$XDG_DATA_HOME/g1bench/results``."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "g1bench" / "results"


def cache_dir() -> Path:
    """g1bench's cache: ``$G1BENCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/g1bench``, else ``~/.cache/g1bench``."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "g1bench"


@dataclass
class EntryRef:
    """One entry of a store, as listed (nothing read yet).

    Attributes:
        entry_id: ``<suite_id>/<model-slug>--<hash>`` (as the folder is named; checked on verification).
        files: ``{file name: local path}`` of the entry's files present here (a Hub store's after sync).
        problem: why the entry cannot even be read (a malformed name, a missing file), else None.
    """

    entry_id: str
    files: dict[str, Path] = field(default_factory=dict)
    problem: str | None = None

    def content_key(self, digests: "DigestCache | None" = None) -> str:
        """SHA-256 over the entry id and its files' bytes: what a cached verdict is keyed by.

        The same key as :func:`g1bench.leaderboard.entry.content_key` of the files' bytes. With ``digests``, a file
        whose size, times and inode are unchanged is not read again (as git's index)."""
        h = hashlib.sha256(self.entry_id.encode())
        for name in ENTRY_FILES:
            if name not in self.files:
                raise EntryError(f"{self.entry_id}: missing {name}")
            limit = file_limit(name)
            try:
                digest = digests.digest(self.files[name], limit) if digests is not None else \
                    hashlib.sha256(read_sized(self.files[name], limit)).digest()
            except FileFormatError as e:
                raise EntryError(f"{self.entry_id}: {e}") from None
            h.update(name.encode() + b"\0" + digest)
        return h.hexdigest()

    def read(self) -> dict[str, bytes]:
        """The bytes of the entry's files."""
        if self.problem:
            raise EntryError(f"{self.entry_id}: {self.problem}")
        return read_entry_dir(self.entry_id, _common_parent(self.files, self.entry_id))


def _common_parent(files: dict[str, Path], entry_id: str) -> Path:
    parents = {p.parent for p in files.values()}
    if len(parents) != 1:
        raise EntryError(f"{entry_id}: its files are not in one folder")
    return parents.pop()


class DigestCache:
    """SHA-256 digests of files keyed by path and stat (size, mtime, ctime, inode, device), in one JSON file:
    a second aggregation reads no unchanged file. ctime cannot be set back by a user, so an edited file is
    always hashed again."""

    def __init__(self, path: str | os.PathLike | None):
        self.path = Path(path) if path is not None else None
        self.data: dict[str, list] = {}
        self.dirty = False
        if self.path is not None and self.path.is_file():
            try:
                data = read_json(self.path, limit=1 << 30)
                self.data = data if isinstance(data, dict) else {}
            except FileFormatError:
                self.data = {}

    def digest(self, path: Path, limit: int) -> bytes:
        p = os.path.abspath(path)
        try:
            st = os.stat(p)
        except OSError:
            st = None
        if st is not None:
            sig = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
            hit = self.data.get(p)
            if isinstance(hit, list) and len(hit) == 6 and hit[:5] == sig:
                return bytes.fromhex(hit[5])
        d = hashlib.sha256(read_sized(path, limit)).digest()  # raises FileFormatError for a bad file
        if st is not None:
            self.data[p] = [*sig, d.hex()]
            self.dirty = True
        return d

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, None, text=json.dumps(self.data, separators=(",", ":")))
        self.dirty = False


@dataclass
class PutResult:
    """What adding an entry did: ``changed`` is False when the store already held it identically."""

    entry_id: str
    changed: bool
    url: str
    commit: str | None = None
    frames_added: int = 0


class Store:
    """A results store (see the module docstring). Subclasses: :class:`LocalStore`, :class:`HubStore`."""

    kind = "store"

    def describe(self) -> str:
        """The store as a user would name it (a folder path or ``hf://datasets/ORG/NAME``)."""
        raise NotImplementedError

    def entries(self) -> list[EntryRef]:
        """Every entry folder of the store (a Hub store syncs first)."""
        raise NotImplementedError

    def get(self, entry_id: str) -> EntryRef:
        """One entry (StoreError when the store has no such entry)."""
        for ref in self.entries():
            if ref.entry_id == entry_id:
                return ref
        raise StoreError(f"{self.describe()} has no entry {entry_id!r}")

    def has_entry(self, entry: EntryFiles) -> bool:
        """Whether the store already holds this entry's files byte for byte."""
        raise NotImplementedError

    def put(self, entry: EntryFiles, frames: bool = False, message: str | None = None) -> PutResult:
        """Write an entry (and its frames when ``frames``); writes nothing when it is already there."""
        raise NotImplementedError

    def entry_url(self, entry_id: str) -> str:
        """Where a person can see the entry's files."""
        raise NotImplementedError

    def frame_file(self, frame_id: str) -> Path | None:
        """A local path of a stored frame (downloaded if needed), or None when the store lacks it."""
        raise NotImplementedError

    def push_order(self, entry_ids: Iterable[str]) -> dict[str, Any]:
        """When each of these entries came into the store, as values that sort in that order (entries whose
        time cannot be known are left out). Of several entries with the same answers, the first is the row."""
        raise NotImplementedError

    def fetch_entry(self, entry_id: str, dest: str | os.PathLike | None = None, frames: bool = True) -> Path:
        """Write an entry as a run directory (``run.json``, ``results.json``, ``steps.jsonl``, ``frames/``) and
        return its path, so it can be verified (``g1bench verify``), reported or replayed.

        Args:
            entry_id: the entry.
            dest: the run directory to write (default: a folder under the g1bench cache).
            frames: copy the frames the store holds for this entry.
        """
        ref = self.get(entry_id)
        data = read_entry_files(entry_id, ref.read())
        if dest is None:
            dest = cache_dir() / "entries" / entry_id.replace("/", "__")
        out = write_run_dir(data, dest)
        if frames:
            wanted = {r["frame"] for recs in data.steps.values() for r in recs if isinstance(r.get("frame"), str)}
            for fid, src in self.frame_files(sorted(f for f in wanted if re.fullmatch(r"[0-9a-f]{8,64}", f))).items():
                shutil.copyfile(src, out / "frames" / f"{fid}.png")
        return out

    def frame_files(self, frame_ids: list[str]) -> dict[str, Path]:
        """Local paths of the stored frames among ``frame_ids`` (the others are not in the store)."""
        out = {}
        for fid in frame_ids:
            p = self.frame_file(fid)
            if p is not None:
                out[fid] = p
        return out

    def card_files(self) -> dict[str, bytes]:
        """The files every store has besides its entries (card, eval.yaml, suite episodes)."""
        from .card import store_files

        return store_files(getattr(self, "repo_id", None) or self.describe())


# -- a local folder ------------------------------------------------------------------------------------
class LocalStore(Store):
    """A results store in a local folder (created on the first write)."""

    kind = "local"

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root).expanduser() if root is not None else default_local_dir()
        if self.root.exists() and not self.root.is_dir():  # else a mistyped path reads as an empty leaderboard
            raise StoreError(f"{self.root} is a file, not a results store folder")

    def describe(self) -> str:
        return str(self.root)

    def entries(self) -> list[EntryRef]:
        base = self.root / ENTRIES_DIR
        if not base.is_dir():
            return []
        refs = []
        for suite_dir in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for folder in sorted(p for p in suite_dir.iterdir() if not p.name.startswith(".")):
                entry_id = f"{suite_dir.name}/{folder.name}"
                if not folder.is_dir():
                    refs.append(EntryRef(entry_id, problem="not a folder"))
                    continue
                files = {name: folder / name for name in ENTRY_FILES if (folder / name).exists()}
                problem = None
                if not ENTRY_ID.fullmatch(entry_id):
                    problem = "its folder name is not an entry id (<suite_id>/<model>--<16 hex digits>)"
                elif len(files) < len(ENTRY_FILES):
                    problem = f"missing {', '.join(n for n in ENTRY_FILES if n not in files)}"
                refs.append(EntryRef(entry_id, files, problem))
        return refs

    def get(self, entry_id: str) -> EntryRef:
        if not ENTRY_ID.fullmatch(entry_id or ""):
            raise StoreError(f"not an entry id: {entry_id!r}")
        folder = self.root / ENTRIES_DIR / entry_id
        if not folder.is_dir():
            raise StoreError(f"{self.describe()} has no entry {entry_id!r}")
        files = {name: folder / name for name in ENTRY_FILES if (folder / name).exists()}
        missing = [n for n in ENTRY_FILES if n not in files]
        return EntryRef(entry_id, files, f"missing {', '.join(missing)}" if missing else None)

    def has_entry(self, entry: EntryFiles) -> bool:
        folder = self.root / entry.folder
        try:
            return all((folder / n).is_file() and (folder / n).read_bytes() == b for n, b in entry.files.items())
        except OSError:
            return False

    def put(self, entry: EntryFiles, frames: bool = False, message: str | None = None) -> PutResult:
        card = self.card_files()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            for path, data in card.items():  # the card, eval.yaml and suites: only when missing
                target = self.root / path
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    _write_bytes(target, data)
            changed = not self.has_entry(entry)
            if changed:
                folder = self.root / entry.folder
                folder.parent.mkdir(parents=True, exist_ok=True)
                # write beside it, then swap in whole: a reader never sees half an entry
                tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
                os.chmod(tmp, DIR_MODE)  # mkdtemp makes 0700: an entry gets the folder mode any other would
                for name, data in entry.files.items():
                    _write_bytes(tmp / name, data)
                if folder.exists():
                    shutil.rmtree(folder)
                os.replace(tmp, folder)
            added = 0
            if frames:
                for fid, src in entry.frames.items():
                    target = self.root / frame_path(fid)
                    if not target.exists():
                        target.parent.mkdir(parents=True, exist_ok=True)
                        _write_bytes(target, src.read_bytes())
                        added += 1
        except OSError as e:
            raise StoreError(f"cannot write to the results store {self.root}: {e.strerror or e}") from None
        return PutResult(entry.entry_id, changed or added > 0, self.entry_url(entry.entry_id), None, added)

    def entry_url(self, entry_id: str) -> str:
        return (self.root / ENTRIES_DIR / entry_id).resolve().as_uri()

    def push_order(self, entry_ids: Iterable[str]) -> dict[str, Any]:
        """When each entry was written here (its run.json's modification time, in nanoseconds)."""
        out = {}
        for eid in entry_ids:
            try:
                out[eid] = os.stat(self.root / ENTRIES_DIR / eid / RUN_FILE).st_mtime_ns
            except OSError:
                pass
        return out

    def frame_file(self, frame_id: str) -> Path | None:
        p = self.root / frame_path(frame_id)
        return p if p.is_file() else None


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, path)


# -- a Hub dataset repo --------------------------------------------------------------------------------
class HubStore(Store):
    """A results store in a Hugging Face dataset repo.

    Args:
        repo_id: ``ORG/NAME`` (a dataset repo; created on the first push).
        revision: the branch to read and write (default ``main``).
        token: a Hub token (default: ``HF_TOKEN`` or the saved login). Never printed.
        endpoint: the Hub's URL (default: ``HF_ENDPOINT`` or huggingface.co).
        state_dir: where the incremental-sync state lives (default: the g1bench cache).
    """

    kind = "hub"

    def __init__(self, repo_id: str, revision: str = "main", token: str | None = None, endpoint: str | None = None,
                 state_dir: str | os.PathLike | None = None):
        if not is_repo_id(repo_id):
            raise StoreError(f"--repo must look like ORG/NAME, got {repo_id!r}")
        from huggingface_hub import HfApi

        self.repo_id, self.revision, self._token = repo_id, revision, token
        self.api = HfApi(token=token, endpoint=endpoint)
        self.endpoint = self.api.endpoint.rstrip("/")
        self.state_dir = Path(state_dir) if state_dir is not None else \
            cache_dir() / "hub" / f"{self.endpoint_slug()}" / f"{repo_id.replace('/', '--')}@{revision}"
        self._refs: list[EntryRef] | None = None
        self.commit: str | None = None
        #: what the last sync did: {"commit", "unchanged", "downloaded", "entries", "requests"}
        self.last_sync: dict[str, Any] = {}

    def endpoint_slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9.]+", "_", self.endpoint.split("://", 1)[-1])[:80]

    def describe(self) -> str:
        return f"hf://datasets/{self.repo_id}" + ("" if self.revision == "main" else f"@{self.revision}")

    def _errors(self):
        from huggingface_hub.errors import HfHubHTTPError

        return (HfHubHTTPError, OSError)

    def _fail(self, doing: str, e: Exception) -> StoreError:
        from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

        if isinstance(e, RepositoryNotFoundError):
            return StoreError(f"{self.describe()}: no such dataset repo (or no access to it); push a run to create it")
        if isinstance(e, RevisionNotFoundError):
            return StoreError(f"{self.describe()}: no branch {self.revision!r}")
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        return StoreError(f"cannot {doing} {self.describe()}: {msg}")

    def head(self) -> str:
        """The commit the store's branch points to now (one request)."""
        if re.fullmatch(r"[0-9a-f]{40}", self.revision):
            return self.revision
        try:
            refs = self.api.list_repo_refs(self.repo_id, repo_type="dataset")
        except self._errors() as e:
            raise self._fail("read", e) from None
        for b in refs.branches:
            if b.name == self.revision:
                return b.target_commit
        raise StoreError(f"{self.describe()}: no branch {self.revision!r}")

    # -- reading: incremental sync ---------------------------------------------------------------------
    def sync(self) -> list[EntryRef]:
        """Bring the local copy of the store up to date and list its entries.

        One request when nothing changed (the head commit); otherwise one tree listing plus downloads of
        the new or changed entries only (in parallel, into the Hugging Face cache).
        """
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError

        head = self.head()
        state_file = self.state_dir / "state.json"
        state: dict[str, Any] = {}
        if state_file.is_file():
            try:
                state = read_json(state_file)
            except FileFormatError:
                state = {}
        if not isinstance(state, dict) or state.get("format") != 1:
            state = {}
        known: dict[str, Any] = state.get("entries", {}) if isinstance(state.get("entries"), dict) else {}
        if state.get("commit") == head and all(_present(e) for e in known.values()):
            self.commit = head
            self._refs = [_ref_from_state(eid, e) for eid, e in sorted(known.items())]
            self.last_sync = {"commit": head, "unchanged": True, "downloaded": 0, "entries": len(self._refs)}
            return self._refs
        try:
            listing = list(self.api.list_repo_tree(self.repo_id, path_in_repo=ENTRIES_DIR, recursive=True,
                                                   revision=head, repo_type="dataset"))
        except EntryNotFoundError:  # no entries/ folder yet
            listing = []
        except self._errors() as e:
            raise self._fail("list", e) from None
        folders: dict[str, dict[str, str]] = {}
        sizes: dict[str, dict[str, int]] = {}
        for item in listing:
            path = getattr(item, "path", "")
            if not hasattr(item, "blob_id"):
                continue  # a folder
            parts = path.split("/")
            if len(parts) != 4 or parts[0] != ENTRIES_DIR:
                continue
            oid = item.lfs.sha256 if getattr(item, "lfs", None) else item.blob_id
            folders.setdefault(f"{parts[1]}/{parts[2]}", {})[parts[3]] = oid
            size = item.lfs.size if getattr(item, "lfs", None) else getattr(item, "size", None)
            sizes.setdefault(f"{parts[1]}/{parts[2]}", {})[parts[3]] = size if isinstance(size, int) else -1
        new_state: dict[str, Any] = {}
        todo: list[tuple[str, str]] = []
        for entry_id, oids in sorted(folders.items()):
            listing_key = hashlib.sha256(json.dumps(sorted(oids.items())).encode()).hexdigest()
            old = known.get(entry_id)
            if isinstance(old, dict) and old.get("listing") == listing_key and _present(old):
                new_state[entry_id] = old
                continue
            new_state[entry_id] = {"listing": listing_key, "files": {}, "problem": None}
            if not ENTRY_ID.fullmatch(entry_id):
                new_state[entry_id]["problem"] = "its folder name is not an entry id (<suite_id>/<model>--<16 hex digits>)"
                continue
            missing = [n for n in ENTRY_FILES if n not in oids]
            if missing:
                new_state[entry_id]["problem"] = f"missing {', '.join(missing)}"
                continue
            big = [(n, sizes[entry_id][n]) for n in ENTRY_FILES
                   if not 0 <= sizes.get(entry_id, {}).get(n, -1) <= file_limit(n)]
            if big:  # sizes before bytes: the listing says it, nothing is downloaded
                name, size = big[0]
                new_state[entry_id]["problem"] = (
                    f"{name} is {size:,} bytes in the Hub listing, more than the {file_limit(name):,} bytes an entry's "
                    f"{name} may have; not downloaded" if size >= 0 else f"{name} has no size in the Hub listing")
                continue
            todo += [(entry_id, name) for name in ENTRY_FILES]

        def download(job: tuple[str, str]) -> tuple[str, str, str]:
            entry_id, name = job
            p = hf_hub_download(self.repo_id, f"{ENTRIES_DIR}/{entry_id}/{name}", repo_type="dataset", revision=head,
                                token=self._token, endpoint=self.endpoint)
            return entry_id, name, p

        if todo:
            try:
                with ThreadPoolExecutor(max_workers=8, thread_name_prefix="g1bench-hub") as pool:
                    for entry_id, name, p in pool.map(download, todo):
                        new_state[entry_id]["files"][name] = p
            except self._errors() as e:
                raise self._fail("download entries from", e) from None
        self.state_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(state_file, {"format": 1, "repo": self.repo_id, "revision": self.revision, "commit": head,
                                  "entries": new_state})
        self.commit = head
        self._refs = [_ref_from_state(eid, e) for eid, e in sorted(new_state.items())]
        self.last_sync = {"commit": head, "unchanged": False, "downloaded": len({e for e, _ in todo}),
                          "entries": len(self._refs)}
        return self._refs

    def entries(self) -> list[EntryRef]:
        return self.sync()

    def get(self, entry_id: str) -> EntryRef:
        for ref in self._refs if self._refs is not None else self.sync():
            if ref.entry_id == entry_id:
                return ref
        raise StoreError(f"{self.describe()} has no entry {entry_id!r}")

    def push_order(self, entry_ids: Iterable[str]) -> dict[str, Any]:
        """When each entry came in: the date of the last commit that wrote its run.json (an entry's files never
        change: its id is their hash), from one paths-info request per 500 entries."""
        ids = list(entry_ids)
        state = self.state_dir / "order.json"
        try:
            known = read_json(state) if state.is_file() else {}
        except FileFormatError:
            known = {}
        known = known if isinstance(known, dict) else {}
        out: dict[str, Any] = {e: known[e] for e in ids if isinstance(known.get(e), str)}
        todo = [e for e in ids if e not in out]
        if not todo:
            return out
        rev = self.commit or self.head()
        try:
            for i in range(0, len(todo), 500):
                paths = [f"{ENTRIES_DIR}/{eid}/{RUN_FILE}" for eid in todo[i:i + 500]]
                for item in self.api.get_paths_info(self.repo_id, paths, repo_type="dataset", revision=rev, expand=True):
                    commit = getattr(item, "last_commit", None)
                    if commit is not None and getattr(commit, "date", None) is not None:
                        out[item.path.split("/", 1)[1].rsplit("/", 1)[0]] = commit.date.isoformat()
        except self._errors() as e:
            raise self._fail("read", e) from None
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            write_atomic(state, {**known, **out})
        except OSError:
            pass  # asked again next time
        return out

    def entry_url(self, entry_id: str, commit: str | None = None) -> str:
        """A permanent link: at ``commit``, else at the commit last synced, else at the branch."""
        rev = commit or self.commit or self.revision
        return f"{self.endpoint}/datasets/{self.repo_id}/tree/{rev}/{ENTRIES_DIR}/{entry_id}"

    def frame_file(self, frame_id: str) -> Path | None:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError

        try:
            return Path(hf_hub_download(self.repo_id, frame_path(frame_id), repo_type="dataset",
                                        revision=self.commit or self.revision, token=self._token, endpoint=self.endpoint))
        except EntryNotFoundError:
            return None
        except self._errors() as e:
            raise self._fail("download a frame from", e) from None

    def frame_files(self, frame_ids: list[str]) -> dict[str, Path]:
        """Downloads only the frames the repo has (one listing request per 500 frames, then the files)."""
        from huggingface_hub import hf_hub_download

        rev = self.commit or self.head()
        sizes: dict[str, int] = {}
        try:
            have = self._existing([frame_path(f) for f in frame_ids], rev, sizes)
            return {f: Path(hf_hub_download(self.repo_id, frame_path(f), repo_type="dataset", revision=rev,
                                            token=self._token, endpoint=self.endpoint))
                    for f in frame_ids if frame_path(f) in have and sizes.get(frame_path(f), 0) <= MAX_FRAME_BYTES}
        except self._errors() as e:
            raise self._fail("download frames from", e) from None

    # -- writing ---------------------------------------------------------------------------------------
    def _existing(self, paths: Iterable[str], revision: str, sizes: dict[str, int] | None = None) -> dict[str, str]:
        """``{path: oid}`` of those paths the repo has at ``revision`` (git blob id, or sha256 for LFS); their
        sizes go to ``sizes`` when given."""
        paths = list(paths)
        out: dict[str, str] = {}
        for i in range(0, len(paths), 500):
            for item in self.api.get_paths_info(self.repo_id, paths[i:i + 500], repo_type="dataset", revision=revision):
                if hasattr(item, "blob_id"):
                    out[item.path] = item.lfs.sha256 if getattr(item, "lfs", None) else item.blob_id
                    if sizes is not None:
                        sizes[item.path] = item.lfs.size if getattr(item, "lfs", None) else int(item.size or 0)
        return out

    def has_entry(self, entry: EntryFiles) -> bool:
        try:
            head = self.head()
            have = self._existing(entry.paths(), head)
        except StoreError:
            return False
        except self._errors():
            return False
        return all(have.get(p) in (_git_oid(b), hashlib.sha256(b).hexdigest()) for p, b in entry.paths().items())

    def put(self, entry: EntryFiles, frames: bool = False, message: str | None = None) -> PutResult:
        from huggingface_hub import CommitOperationAdd
        from huggingface_hub.errors import HfHubHTTPError

        files = dict(entry.paths())
        card = self.card_files()
        try:
            self.api.create_repo(self.repo_id, repo_type="dataset", exist_ok=True)
            before = self.head()
            frame_paths = {frame_path(fid): src for fid, src in entry.frames.items()} if frames else {}
            have = self._existing([*files, *card, *frame_paths], before)
            ops = []
            for path, data in files.items():
                if have.get(path) not in (_git_oid(data), hashlib.sha256(data).hexdigest()):
                    ops.append(CommitOperationAdd(path_in_repo=path, path_or_fileobj=data))
            for path, data in card.items():
                if path not in have:  # the card, eval.yaml and suites are written once; their owners edit them
                    ops.append(CommitOperationAdd(path_in_repo=path, path_or_fileobj=data))
            added = 0
            for path, src in frame_paths.items():
                if path not in have:
                    ops.append(CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(src)))
                    added += 1
            if not ops:
                return PutResult(entry.entry_id, False, self.entry_url(entry.entry_id, before), before, 0)
            info = self.api.create_commit(
                self.repo_id, ops, repo_type="dataset", revision=self.revision, parent_commit=before,
                commit_message=message or f"g1bench: add entry {entry.entry_id}",
                commit_description=f"Verified g1bench run ({entry.entry_id}), pushed with `g1bench push`.")
        except HfHubHTTPError as e:
            raise self._fail("write to", e) from None
        except OSError as e:
            raise self._fail("write to", e) from None
        self._refs = None
        return PutResult(entry.entry_id, info.oid != before, self.entry_url(entry.entry_id, info.oid), info.oid, added)


def _git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _present(e: Any) -> bool:
    if not isinstance(e, dict) or not isinstance(e.get("files"), dict):
        return False
    if e.get("problem"):
        return True
    return all(isinstance(p, str) and os.path.isfile(p) for p in e["files"].values())


def _ref_from_state(entry_id: str, e: dict[str, Any]) -> EntryRef:
    return EntryRef(entry_id, {k: Path(v) for k, v in e.get("files", {}).items()}, e.get("problem"))


# -- opening a store by name ---------------------------------------------------------------------------
def open_store(spec: "str | os.PathLike | Store | None" = None, **kwargs: Any) -> Store:
    """A store from what a user typed.

    * None: ``$G1BENCH_RESULTS_REPO`` when set (a Hub store), else the built-in local store
      (:func:`default_local_dir`).
    * ``hf://datasets/ORG/NAME``, ``hf:ORG/NAME`` or ``ORG/NAME`` (when no such local folder exists): a Hub store
      (``@BRANCH`` may follow).
    * anything else (a path; ``local:PATH`` / ``file:PATH`` to be explicit): a local store.

    Keyword arguments go to the store class (``token``, ``endpoint``, ``revision`` for a Hub store).
    """
    if isinstance(spec, Store):
        return spec
    if spec is None:
        repo = os.environ.get(ENV_REPO)
        return open_store(repo, **kwargs) if repo else LocalStore(None)
    text = os.fspath(spec)
    for prefix in ("local:", "file://", "file:"):
        if text.startswith(prefix):
            return LocalStore(text[len(prefix):])
    hub = None
    for prefix in ("hf://datasets/", "hf:"):
        if text.startswith(prefix):
            hub = text[len(prefix):]
    if hub is None and is_repo_id(text.split("@", 1)[0]) and not Path(text).expanduser().exists() \
            and not text.startswith((".", "~")):
        hub = text
    if hub is not None:
        repo, _, branch = hub.partition("@")
        if branch:
            kwargs.setdefault("revision", branch)
        return HubStore(repo, **kwargs)
    return LocalStore(text)


__all__ = ["Store", "LocalStore", "HubStore", "EntryRef", "DigestCache", "PutResult", "StoreError", "open_store", "MAX_FRAME_BYTES",
           "default_local_dir", "cache_dir", "ENV_REPO", "ENV_DIR", "ENV_CACHE"]

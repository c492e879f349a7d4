"""The Submit tab's backend: a queue of submissions, each verified on its own and added to the results store, or
answered with the command that adds it.

A run arrives as a zip (checked and unpacked at once by :func:`g1bench.space.replay.extract_zip`: size, entry count,
paths, links, zip bombs; only data files are unpacked) or as a Hub dataset repo (or a folder of one) that
holds a run folder (``run.json``, ``results.json``, ``steps.jsonl``) or a results-store entry (``run.json``,
``results.json``, ``steps.parquet``, ``results.parquet``); only those files are downloaded, within the
upload limit, without the Space's token. Nothing is executed: the run is only read and replayed.

:class:`SubmissionQueue` takes submissions from any number of visitors: each becomes a :class:`Submission` with
a status the visitor's page polls (queued, fetching, verifying, writing, waiting for the leaderboard, then on
the board / refused / verified / already on the board / failed) until it is final. ``SpaceSettings.submit_workers``
submissions are verified at once, each by :func:`verify_submission`, the one place Submit verifies a run (in a
verifier process, under its suite's budget); a slow one holds one worker and nobody else. Writes to the store go one at
a time (a Hub commit each).

Then, where the Space may write its results store (a Hub store with the operator's write token, or a local
store the operator opened to submissions, see :meth:`LeaderboardService.write_policy`), a verified run goes
through :func:`g1bench.leaderboard.push.store_entry` and the leaderboard is aggregated again; the
submission is done when the new table has it. Otherwise the visitor gets the command that adds it from their own
machine: ``g1bench push RUN_DIR --repo <this Space's results repo>`` (never a path of this machine). A run
already on the board says which entry it is.
"""

from __future__ import annotations

import itertools
import logging
import re
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import SpaceError
from .leaderboard import LeaderboardService
from .replay import extract_zip
from .settings import SpaceSettings
from .text import esc
from .warmup import TileWarmup

log = logging.getLogger("g1bench.space")

RUN_FILES = ("run.json", "results.json", "steps.jsonl")
ENTRY_FILES = ("run.json", "results.json", "steps.parquet", "results.parquet")
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
_HUB = re.compile(rf"^(?:hf://datasets/|datasets/)?(?P<repo>{_NAME}/{_NAME})(?:@(?P<rev>[A-Za-z0-9._-]{{1,100}}))?"
                  r"(?:/(?P<path>[A-Za-z0-9._=+,@-][A-Za-z0-9._=+,@/-]{0,400}))?/?$")
_URL = re.compile(rf"^https?://[^/\s]+/datasets/(?P<repo>{_NAME}/{_NAME})(?:/tree/(?P<rev>[A-Za-z0-9._-]{{1,100}})"
                  r"(?:/(?P<path>[A-Za-z0-9._=+,@/-]{1,400}))?)?/?$")
#: a run folder's name as it may appear in the shown command (anything else becomes RUN_DIR)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")

#: the states of a submission; the final ones end the page's polling
QUEUED, FETCHING, VERIFYING, WRITING, WAITING = "queued", "fetching", "verifying", "writing", "waiting"
ON_BOARD, ALREADY, VERIFIED, REFUSED, FAILED = "on the board", "already on the board", "verified", "refused", "failed"
FINAL = (ON_BOARD, ALREADY, VERIFIED, REFUSED, FAILED)
#: submissions remembered (the oldest finished ones are forgotten first)
MAX_REMEMBERED = 2000
#: submissions one visitor may have waiting at once
MAX_PENDING_PER_VISITOR = 5
#: a mark per state (plain text symbols: every font has them, unlike emoji)
_MARKS = {QUEUED: "…", FETCHING: "…", VERIFYING: "…", WRITING: "…", WAITING: "…", ON_BOARD: "✓", ALREADY: "=",
          VERIFIED: "✓", REFUSED: "✗", FAILED: "!"}


def verify_submission(run_dir: Path, work: Path):
    """Verify one submitted run and build its entry: the one place Submit verifies (every submission goes through
    here, under its suite's budget, in a verifier process). ``work``: a private folder for the snapshot and the
    entry. Returns ``(entry, verification, verdict)`` as :func:`g1bench.leaderboard.push.prepare_entry` does.

    Raises:
        PushRefused: the leaderboard does not take the run (the message says why).
    """
    from ..leaderboard.push import prepare_entry

    return prepare_entry(run_dir, work)


@dataclass
class Submission:
    """One submission and where it stands (a copy is what a visitor's page sees; the queue keeps the original).

    Attributes:
        id: an unguessable id (only the visitor who submitted holds it). label: what was submitted, as the
            visitor named it (a zip's file name, a Hub name). state: one of the states above. message: Markdown,
            the latest news (never a path of this machine). entry_id / entry_url / suite_id: the run's entry once
            known. created: when it was submitted (``time.time()``).
    """

    id: str
    label: str
    state: str = QUEUED
    message: str = ""
    entry_id: str | None = None
    entry_url: str | None = None
    suite_id: str | None = None
    created: float = field(default_factory=time.time)
    generation: int = 0  # the leaderboard aggregations started when it was written

    @property
    def final(self) -> bool:
        return self.state in FINAL


def parse_hub_name(value: Any) -> tuple[str, str | None, str]:
    """(repo id, revision or None, path in the repo) of a named Hub run: ``ORG/NAME[@REV][/PATH]``,
    ``hf://datasets/ORG/NAME[/PATH]`` or a dataset URL ``https://HOST/datasets/ORG/NAME[/tree/REV/PATH]``."""
    if not isinstance(value, str) or not value.strip():
        raise SpaceError("name a Hub dataset repo holding the run, e.g. ORG/NAME or ORG/NAME/runs/my-model")
    text = value.strip()
    if len(text) > 600:
        raise SpaceError("that Hub name is too long")
    m = _HUB.match(text) or _URL.match(text)
    if not m:
        raise SpaceError(f"{text[:80]!r} is not a Hub dataset name: use ORG/NAME, ORG/NAME/path/to/run or "
                         "hf://datasets/ORG/NAME/path")
    path = (m["path"] or "").strip("/")
    if any(p in ("", ".", "..") for p in path.split("/")) and path:
        raise SpaceError("the path inside the repo may not contain '.' or '..' parts")
    return m["repo"], m["rev"], path


class SubmitBackend:
    """Submit-tab actions: checks what a visitor submits and hands it to the queue (holds only the app's services).

    Args:
        settings, leaderboard, warmup: the app's services.
    """

    def __init__(self, settings: SpaceSettings, leaderboard: LeaderboardService, warmup: TileWarmup | None = None):
        self.settings = settings
        self.leaderboard = leaderboard
        self.warmup = warmup
        self.scrub = leaderboard.scrub
        self.queue = SubmissionQueue(self, settings.submit_workers)

    # -- what a visitor sees before submitting --------------------------------------------------------
    def can_write(self) -> tuple[bool, str, Any]:
        """(whether submissions are added to the results store, why not, the store)."""
        store = self.leaderboard.open_store()
        can, why = self.leaderboard.write_policy(store)
        return can, why, store

    def results_repo(self, store: Any = None) -> str | None:
        """The results store's Hub repo id (None for a local store)."""
        if store is None:
            try:
                store = self.leaderboard.open_store()
            except Exception:  # noqa: BLE001 - an unreadable store is said elsewhere
                return None
        repo = getattr(store, "repo_id", None)
        return repo if isinstance(repo, str) else None

    def describe(self) -> str:
        """One paragraph: where verified runs go and whether this Space adds them itself."""
        from .leaderboard import public_store

        try:
            can, why, store = self.can_write()
        except Exception as e:  # noqa: BLE001 - a misconfigured store is shown, not raised
            return f"⚠️ This Space's results store cannot be opened: {esc(self.scrub(str(e)), 300)}"
        where = public_store(store)[0]
        if can:
            return (f"Verified runs are added to this Space's results store, {where}, and appear on the leaderboard "
                    "once it is aggregated again (this page follows each submission until then).")
        return (f"This Space verifies runs but does not add them to its results store ({where}): "
                f"{esc(self.scrub(why), 300)}. After verifying, it shows the command that adds your run from your "
                "own machine.")

    def button_label(self) -> str:
        try:
            return "Verify and submit" if self.can_write()[0] else "Verify"
        except Exception:  # noqa: BLE001
            return "Verify"

    # -- submissions -----------------------------------------------------------------------------------
    def submit(self, file: Any = None, hub_name: Any = None, mine: list[str] | None = None) -> Submission:
        """Check an uploaded zip (``file``) or a named Hub run (``hub_name``) and queue it; returns the submission
        (``mine``: the ids this visitor already has, to limit how many wait at once)."""
        has_file = file is not None and file != ""
        has_name = isinstance(hub_name, str) and hub_name.strip() != ""
        if hub_name is not None and not isinstance(hub_name, str):
            raise SpaceError("the Hub name must be text")
        if has_file and has_name:
            raise SpaceError("give either a zip or a Hub name, not both")
        if not has_file and not has_name:
            raise SpaceError("upload a run folder as a .zip, or name a Hub dataset repo that holds a run")
        pending = [s for s in self.queue.status(mine or []) if not s.final]
        if len(pending) >= MAX_PENDING_PER_VISITOR:
            raise SpaceError(f"you have {len(pending)} submissions in progress; wait for one to finish")
        if self.warmup is not None:
            self.warmup.check_idle("verifying a run")
        sid = uuid.uuid4().hex
        work = self.settings.scratch("submissions") / sid
        if has_file:
            try:
                run_dir = self._unzip(file, work)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
            name = run_dir.name if run_dir != work / "zip" else "RUN_DIR"  # the zipped folder's own name
            label = _upload_name(file)
            return self.queue.add(Submission(sid, label), work, lambda: (run_dir, name, None))
        repo, rev, path = parse_hub_name(hub_name)
        label = hub_name.strip()[:200]

        def fetch() -> tuple[Path, str, tuple[str, str | None, str]]:
            run_dir = self._download(repo, rev, path, work)
            return run_dir, (path.rsplit("/", 1)[-1] if path else repo.split("/")[1]), (repo, rev, path)

        return self.queue.add(Submission(sid, label), work, fetch, fetching=True)

    def _unzip(self, file: Any, work: Path) -> Path:
        path = getattr(file, "path", None) or getattr(file, "name", None) or file
        if not isinstance(path, (str, Path)) or not str(path):
            raise SpaceError("upload a run folder as a .zip")
        dest = work / "zip"
        work.mkdir(parents=True, exist_ok=True)
        extract_zip(path, dest, self.settings)
        runs = [p for p in [dest, *sorted(dest.rglob("*"))] if p.is_dir() and len(p.relative_to(dest).parts) <= 3
                and all((p / f).is_file() for f in RUN_FILES)]
        if not runs:
            raise SpaceError("the zip holds no run folder: zip the folder `g1bench eval -o` wrote (with its run.json, "
                             "results.json and steps.jsonl)")
        if len(runs) > 1:
            raise SpaceError(f"the zip holds {len(runs)} run folders; submit one run at a time")
        return runs[0]

    def _download(self, repo: str, rev: str | None, path: str, work: Path) -> Path:
        """The run's files from a Hub dataset repo (no token: only what anyone may read), as a run folder."""
        from huggingface_hub import HfApi, hf_hub_download
        from huggingface_hub.errors import (EntryNotFoundError, HfHubHTTPError, RepositoryNotFoundError,
                                            RevisionNotFoundError)

        api = HfApi(token=False)
        where = f"{repo}" + (f"@{rev}" if rev else "") + (f"/{path}" if path else "")
        try:
            listing = {getattr(f, "path", "").rsplit("/", 1)[-1]: f for f in
                       api.list_repo_tree(repo, path_in_repo=path or None, repo_type="dataset", revision=rev)
                       if hasattr(f, "size")}
            if all(n in listing for n in RUN_FILES):
                names = RUN_FILES
            elif all(n in listing for n in ENTRY_FILES):
                names = ENTRY_FILES
            else:
                raise SpaceError(f"{where} holds no g1bench run: it needs run.json, results.json and steps.jsonl "
                                 "(a run folder) or a results-store entry's files")
            total = sum(int(listing[n].size or 0) for n in names)
            if total > self.settings.max_upload_bytes:
                raise SpaceError(f"the run's files are {total / 1024 / 1024:.1f} MB; the limit is "
                                 f"{self.settings.max_upload_mb} MB")
            got = {}
            for n in names:
                got[n] = Path(hf_hub_download(repo, f"{path}/{n}" if path else n, repo_type="dataset", revision=rev,
                                              token=False, local_dir=work / "hub"))
        except SpaceError:
            raise
        except RepositoryNotFoundError:
            raise SpaceError(f"no public dataset repo {repo} on the Hub") from None
        except RevisionNotFoundError:
            raise SpaceError(f"{repo} has no revision {rev!r}") from None
        except EntryNotFoundError:
            raise SpaceError(f"{where} does not exist") from None
        except (HfHubHTTPError, OSError, ValueError) as e:
            why = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            raise SpaceError(f"{where} could not be downloaded: {self.scrub(why)}") from None
        if names == RUN_FILES:
            return got["run.json"].parent
        # a results-store entry: back to a run folder (the store's own reader and writer)
        from ..leaderboard.entry import EntryError, read_entry_files, write_run_dir

        try:
            data = read_entry_files(where, {n: got[n].read_bytes() for n in names})
            return write_run_dir(data, work / "run")
        except (EntryError, OSError) as e:
            raise SpaceError(f"{where} is not a readable results-store entry: {self.scrub(str(e))[:300]}") from None

    # -- one submission, in a worker -------------------------------------------------------------------
    def process(self, sub: Submission, run_dir: Path, name: str, fetch: tuple[str, str | None, str] | None) -> None:
        """Verify ``run_dir`` and add it (or say how to); updates ``sub`` through the queue as it goes."""
        with tempfile.TemporaryDirectory(prefix="g1bench-verify-") as work:  # mode 0700: the snapshot and entry
            self._process(sub, run_dir, name, fetch, Path(work))

    def _process(self, sub: Submission, run_dir: Path, name: str, fetch: tuple[str, str | None, str] | None,
                 work: Path) -> None:
        from ..leaderboard.push import PushRefused, store_entry
        from ..leaderboard.store import StoreError

        def clean(message: str) -> str:  # the Space's scratch path means nothing to the visitor, nor may they see it
            return self.scrub(str(message).replace(str(run_dir), name))

        q = self.queue
        try:
            can, why, store = self.can_write()
        except Exception as e:  # noqa: BLE001
            return q.update(sub, FAILED, f"this Space's results store cannot be opened: {esc(clean(str(e)), 300)}")
        q.update(sub, VERIFYING, "verifying: replaying its step log through the games…")
        try:
            entry, v, verdict = verify_submission(run_dir, work)
        except PushRefused as e:
            return q.update(sub, REFUSED, f"**Refused**: {esc(clean(str(e)), 700)}")
        sub_entry = {"entry_id": entry.entry_id, "suite_id": v.suite_id}
        where = self.on_board(entry.entry_id)
        if where is not None:
            return q.update(sub, ALREADY, f"**Already on the board**: this run is entry {where}; nothing was written.",
                            **sub_entry, entry_url=self._entry_url(store, entry.entry_id))
        if not can:
            return q.update(sub, VERIFIED, self._command(v, name, why, store, fetch, clean), **sub_entry)
        q.update(sub, WRITING, f"verified ({esc(clean(v.summary()), 300)}); adding it to the results store…",
                 **sub_entry)
        try:
            with q.write_lock:
                res = store_entry(entry, v, verdict, store)
                generation = self.leaderboard.generation()
        except PushRefused as e:
            return q.update(sub, REFUSED, f"**Refused**: {esc(clean(str(e)), 700)}")
        except StoreError as e:
            log.warning("submission could not be written to the results store: %s", clean(str(e)))
            return q.update(sub, FAILED, f"The run verifies, but the results store could not be written: "
                                         f"{esc(clean(str(e)), 400)}")
        url = res.url if str(res.url).startswith(("https://", "http://")) else None
        if not res.changed:
            return q.update(sub, ALREADY, f"**Already in the results store** as entry {self._entry_text(res.entry_id, url)}"
                                          "; nothing was written.", entry_url=url)
        self.leaderboard.refresh()
        q.update(sub, WAITING, f"**Accepted**: {esc(clean(res.summary), 300)}. Added as entry "
                               f"{self._entry_text(res.entry_id, url)}; the leaderboard is being aggregated again and "
                               "will show it in a moment.", entry_url=url, generation=generation)

    def on_board(self, entry_id: str) -> str | None:
        """Where the current leaderboard shows an entry (Markdown: its rank and suite, a link on a Hub store)."""
        snap = self.leaderboard.snapshot()
        if snap is None or entry_id not in snap.summaries:
            return None
        row = next((r for r in snap.lb.rows if r.get("entry_id") == entry_id), {})
        url = row.get("entry_url") if str(row.get("entry_url", "")).startswith(("https://", "http://")) else None
        rank = row.get("rank_label") or row.get("kind") or ""
        return (self._entry_text(entry_id, url) + f" of `{esc(row.get('suite_id') or '')}`"
                + (f" (rank {esc(rank)})" if rank and row.get("kind") == "measured" else
                   (f" ({esc(rank)})" if rank else "")))

    @staticmethod
    def _entry_text(entry_id: str, url: str | None) -> str:
        short = esc(entry_id.rsplit("--", 1)[-1] if "--" in entry_id else entry_id, 200)
        return f"[{short}]({url})" if url else f"`{esc(entry_id, 200)}`"

    @staticmethod
    def _entry_url(store: Any, entry_id: str) -> str | None:
        try:
            url = store.entry_url(entry_id)
        except Exception:  # noqa: BLE001
            return None
        return url if str(url).startswith(("https://", "http://")) else None

    def _command(self, v: Any, name: str, why: str, store: Any, fetch: tuple[str, str | None, str] | None,
                 clean) -> str:
        """The Markdown that tells a visitor how to add a verified run from their own machine."""
        shown = name if _SAFE_NAME.match(name or "") else "RUN_DIR"
        repo = self.results_repo(store)
        lines = []
        if fetch is not None:
            frepo, rev, path = fetch
            include = f" --include '{path}/*'" if path else ""
            revision = f" --revision {rev}" if rev else ""
            lines.append(f"hf download {frepo} --repo-type dataset{revision}{include} --local-dir {shown}")
            shown = f"{shown}/{path}" if path else shown
        lines.append(f"g1bench push {shown} --repo {repo or 'ORG/NAME'}")
        if repo:
            where = f"Add it to this leaderboard's results repo, {esc(repo)}, from your machine (with a token that may write it):"
        else:
            where = ("This Space's results are in a folder of its own, which visitors do not write to: publish the run "
                     "to a results repo of yours (a Hub dataset, `ORG/NAME`) from your machine:")
        return (f"**Verified**: {esc(clean(v.summary()), 300)}. {esc(self.scrub(why), 300)[:1].upper()}"
                f"{esc(self.scrub(why), 300)[1:]}.\n\n{where}\n\n```bash\n" + "\n".join(lines) + "\n```")

    def follow(self, sub: Submission) -> None:
        """A written submission is done once the leaderboard shows it (or left it out, with the reason)."""
        if sub.state != WAITING or sub.entry_id is None:
            return
        snap = self.leaderboard.snapshot()
        if snap is None:
            return
        where = self.on_board(sub.entry_id)
        if where is not None:
            self.queue.update(sub, ON_BOARD, f"**On the board**: entry {where}.")
            return
        skipped = next((s for s in snap.lb.skipped if s["entry_id"] == sub.entry_id), None)
        if skipped is not None and snap.generation > sub.generation:
            self.queue.update(sub, FAILED, f"The leaderboard left this entry out: {esc(self.scrub(skipped['reason']), 400)}")


def _upload_name(file: Any) -> str:
    """The name a visitor gave their upload (gradio keeps it as the file's own name)."""
    path = getattr(file, "orig_name", None) or getattr(file, "path", None) or getattr(file, "name", None) or file
    return Path(str(path)).name[:120] or "upload.zip"


class SubmissionQueue:
    """Submissions of every visitor, processed by ``workers`` threads (see the module docstring).

    Args:
        backend: the :class:`SubmitBackend` whose :meth:`~SubmitBackend.process` runs each submission.
        workers: submissions processed at once.
    """

    def __init__(self, backend: SubmitBackend, workers: int = 2):
        self.backend = backend
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="g1bench-submit")
        self._lock = threading.Lock()
        self.write_lock = threading.Lock()
        self._subs: dict[str, Submission] = {}
        self._order = itertools.count()
        self._seq: dict[str, int] = {}

    def add(self, sub: Submission, work: Path, prepare, fetching: bool = False) -> Submission:
        """Queue ``sub``: ``prepare()`` (in the worker) returns (run folder, its name, the Hub source or None);
        ``work`` is removed when it is done."""
        with self._lock:
            self._subs[sub.id] = sub
            self._seq[sub.id] = next(self._order)
            self._forget_old()
        n = self.ahead(sub.id)
        sub.message = f"queued: {n} earlier submission(s) must finish first" if n else "queued: starting"
        self._pool.submit(self._run, sub, work, prepare, fetching)
        return self.copy(sub.id)

    def _run(self, sub: Submission, work: Path, prepare, fetching: bool) -> None:
        try:
            if fetching:
                self.update(sub, FETCHING, "downloading the run's files from the Hub…")
            run_dir, name, fetch = prepare()
            self.backend.process(sub, run_dir, name, fetch)
        except SpaceError as e:
            self.update(sub, REFUSED, f"⚠️ {esc(self.backend.scrub(str(e)), 600)}")
        except Exception as e:  # noqa: BLE001 - a visitor never sees a traceback; the operator's log has it
            log.exception("submission %s failed", sub.id)
            self.update(sub, FAILED, "⚠️ something went wrong on our side while checking this run (it was logged); "
                                     f"try again ({type(e).__name__})")
        finally:
            shutil.rmtree(work, ignore_errors=True)
            if not sub.final and sub.state != WAITING:  # never left hanging
                self.update(sub, FAILED, "⚠️ this submission stopped without a result; try again")

    def update(self, sub: Submission, state: str, message: str, **fields: Any) -> None:
        with self._lock:
            sub.state, sub.message = state, message
            for k, v in fields.items():
                setattr(sub, k, v)

    def ahead(self, sid: str) -> int:
        """How many earlier submissions must finish before ``sid`` starts (0: it starts, or has started)."""
        with self._lock:
            mine = self._seq.get(sid, 0)
            earlier = sum(1 for s in self._subs.values()
                          if s.state in (QUEUED, FETCHING, VERIFYING, WRITING) and self._seq[s.id] < mine)
        return max(0, earlier - self.workers + 1)

    def copy(self, sid: str) -> Submission:
        with self._lock:
            return replace(self._subs[sid])

    def status(self, ids: list[str]) -> list[Submission]:
        """Copies of the submissions ``ids`` (unknown ids are skipped), written ones brought up to date with the
        leaderboard."""
        out = []
        for sid in ids:
            with self._lock:
                sub = self._subs.get(sid) if isinstance(sid, str) else None
            if sub is None:
                continue
            self.backend.follow(sub)
            if sub.state == QUEUED:
                n = self.ahead(sid)
                self.update(sub, QUEUED, f"queued: {n} earlier submission(s) must finish first" if n else
                            "queued: starting")
            out.append(self.copy(sid))
        return out

    def wait(self, sid: str, timeout: float = 120.0) -> Submission:
        """Block until a submission is final (tests, scripts); returns it."""
        deadline = time.monotonic() + timeout
        while True:
            sub = self.status([sid])[0]
            if sub.final or time.monotonic() > deadline:
                return sub
            time.sleep(0.1)

    def _forget_old(self) -> None:
        if len(self._subs) <= MAX_REMEMBERED:
            return
        for sid in sorted(self._subs, key=lambda k: self._seq[k]):
            if len(self._subs) <= MAX_REMEMBERED:
                break
            if self._subs[sid].final:
                del self._subs[sid], self._seq[sid]


def render_status(subs: list[Submission]) -> str:
    """The visitor's submissions as Markdown, newest first."""
    if not subs:
        return ""
    out = ["#### Your submissions"]
    for s in sorted(subs, key=lambda x: -x.created):
        out.append(f"{_MARKS.get(s.state, '')} **{esc(s.label, 120)}** · {s.state}\n\n{s.message}")
    return "\n\n".join(out)


__all__ = ["SubmitBackend", "SubmissionQueue", "Submission", "verify_submission", "render_status", "parse_hub_name",
           "RUN_FILES", "ENTRY_FILES", "FINAL", "QUEUED", "FETCHING", "VERIFYING", "WRITING", "WAITING", "ON_BOARD",
           "ALREADY", "VERIFIED", "REFUSED", "FAILED"]

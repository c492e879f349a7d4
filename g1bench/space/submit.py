"""The Submit tab's backend: verify a visitor's run and add it to the results store, or say how to.

A run arrives as a zip (checked and unpacked by :func:`g1bench.space.replay.extract_zip`: size, entry count,
paths, links, zip bombs; only data files are unpacked) or as a Hub dataset repo (or a folder of one) that
holds a run folder (``run.json``, ``results.json``, ``steps.jsonl``) or a results-store entry (``run.json``,
``results.json``, ``steps.parquet``, ``results.parquet``); only those files are downloaded, within the
upload limit, without the Space's token. Nothing is executed: the run is only read and replayed.

Then, where the Space may write its results store (a Hub store with the operator's write token, or a local
store the operator opened to submissions, see :meth:`LeaderboardService.write_policy`), the run goes through
:meth:`g1bench.leaderboard.store.Store.add_run`, which verifies it first and refuses it with the exact reason
(it does not verify, is incomplete, is a shard, or its suite is not a built-in suite); the leaderboard is
then aggregated again in the background. Otherwise the run is verified with the same check
(:func:`g1bench.leaderboard.push.check_run`) and the visitor gets the exact ``g1bench push`` command.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from dataclasses import dataclass
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


@dataclass
class SubmitResult:
    """What Submit did: ``accepted`` (written or already there), ``verified``, the Markdown to show, the entry."""

    accepted: bool
    verified: bool
    message: str
    entry_id: str | None = None


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
    """Submit-tab actions (holds only the app's services)."""

    def __init__(self, settings: SpaceSettings, leaderboard: LeaderboardService, warmup: TileWarmup | None = None):
        self.settings = settings
        self.leaderboard = leaderboard
        self.warmup = warmup

    # -- what a visitor sees before submitting --------------------------------------------------------
    def describe(self) -> str:
        """One paragraph: where runs go and whether this Space writes them."""
        try:
            store = self.leaderboard.open_store()
        except Exception as e:  # noqa: BLE001 - a misconfigured store is shown, not raised
            return f"⚠️ This Space's results store cannot be opened: {esc(e, 300)}"
        can, why = self.leaderboard.write_policy(store)
        where = esc(store.describe(), 200)
        if can:
            return f"Verified runs are added to this Space's results store, {where}."
        return (f"This Space verifies runs but does not add them to its results store ({where}): {esc(why, 300)}. "
                "After verifying, it shows the `g1bench push` command to run on your machine.")

    # -- submissions -----------------------------------------------------------------------------------
    def submit(self, file: Any = None, hub_name: Any = None) -> SubmitResult:
        """Verify an uploaded zip (``file``) or a named Hub run (``hub_name``) and add it where allowed."""
        has_file = file is not None and file != ""
        has_name = isinstance(hub_name, str) and hub_name.strip() != ""
        if hub_name is not None and not isinstance(hub_name, str):
            raise SpaceError("the Hub name must be text")
        if has_file and has_name:
            raise SpaceError("give either a zip or a Hub name, not both")
        if not has_file and not has_name:
            raise SpaceError("upload a run folder as a .zip, or name a Hub dataset repo that holds a run")
        if self.warmup is not None:
            self.warmup.check_idle("verifying a run")
        work = self.settings.scratch("submissions") / uuid.uuid4().hex
        try:
            if has_file:
                run_dir, fetch = self._unzip(file, work), None
                name = run_dir.name if run_dir != work / "zip" else "RUN_DIR"  # the zipped folder's own name
            else:
                repo, rev, path = parse_hub_name(hub_name)
                run_dir = self._download(repo, rev, path, work)
                name = (path.rsplit("/", 1)[-1] if path else repo.split("/")[1])
                fetch = (repo, rev, path)
            return self._verify_and_add(run_dir, name, fetch)
        finally:
            shutil.rmtree(work, ignore_errors=True)

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
            raise SpaceError(f"{where} could not be downloaded: {why}") from None
        if names == RUN_FILES:
            return got["run.json"].parent
        # a results-store entry: back to a run folder (the store's own reader and writer)
        from ..leaderboard.entry import EntryError, read_entry_files, write_run_dir

        try:
            data = read_entry_files(where, {n: got[n].read_bytes() for n in names})
            return write_run_dir(data, work / "run")
        except (EntryError, OSError) as e:
            raise SpaceError(f"{where} is not a readable results-store entry: {str(e)[:300]}") from None

    def _verify_and_add(self, run_dir: Path, name: str, fetch: tuple[str, str | None, str] | None) -> SubmitResult:
        from ..leaderboard.push import PushRefused, check_run
        from ..leaderboard.store import StoreError

        def clean(message: str) -> str:  # the Space's scratch path means nothing to the visitor
            return message.replace(str(run_dir), name)

        try:
            store = self.leaderboard.open_store()
        except Exception as e:  # noqa: BLE001
            raise SpaceError(f"this Space's results store cannot be opened: {str(e)[:200]}") from None
        can, why = self.leaderboard.write_policy(store)
        try:
            if can:
                res = store.add_run(run_dir)
            else:
                v = check_run(run_dir)
        except PushRefused as e:
            return SubmitResult(False, False, f"**Refused**: {esc(clean(str(e)), 700)}")
        except StoreError as e:
            log.warning("submission could not be written to %s: %s", store.describe(), e)
            return SubmitResult(False, True, f"⚠️ The run verifies, but the results store could not be written: "
                                              f"{esc(clean(str(e)), 400)}")
        if can:
            self.leaderboard.refresh()
            where = esc(res.store, 200)
            if res.changed:
                text = (f"**Accepted**: {esc(res.summary, 300)}. Added to {where} as entry {esc(res.entry_id, 200)} "
                        f"({esc(res.url, 400)}). The leaderboard is being aggregated again: it shows the run in a "
                        "moment (press ↻ Refresh on the Leaderboard tab).")
            else:
                text = (f"**Already there**: {esc(res.summary, 300)}. {where} already holds this run as entry "
                        f"{esc(res.entry_id, 200)}; nothing was written.")
            return SubmitResult(True, True, text, res.entry_id)
        shown = name if _SAFE_NAME.match(name or "") else "RUN_DIR"
        target = getattr(store, "repo_id", None) or store.describe()
        target = target if re.fullmatch(r"[A-Za-z0-9._/@:~+-]{1,300}", target) else "ORG/NAME"
        lines = []
        if fetch is not None:
            repo, rev, path = fetch
            include = f" --include '{path}/*'" if path else ""
            revision = f" --revision {rev}" if rev else ""
            lines.append(f"hf download {repo} --repo-type dataset{revision}{include} --local-dir {shown}")
            shown = f"{shown}/{path}" if path else shown
        lines.append(f"g1bench push {shown} --repo {target}")
        text = (f"**Verified**: {esc(clean(v.summary()), 300)}.\n\n{esc(why, 300)[:1].upper()}{esc(why, 300)[1:]}. "
                "Add it to the leaderboard from your machine (with a token that may write the results repo):\n\n"
                "```bash\n" + "\n".join(lines) + "\n```")
        return SubmitResult(False, True, text)


__all__ = ["SubmitBackend", "SubmitResult", "parse_hub_name", "RUN_FILES", "ENTRY_FILES"]

"""``g1bench data push``: upload a dataset folder to the Hugging Face Hub."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import __version__
from .build import CARD, STAGE, card_build_id
from .errors import DataError


def _token(token: str | None) -> str:
    if token:
        return token
    from huggingface_hub import get_token

    found = get_token()  # HF_TOKEN, then the token file written by `hf auth login`
    if not found:
        raise DataError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (a token with write access)")
    return found


def _first_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _is_transport_error(e: BaseException) -> bool:
    """No answer from the Hub (DNS, refused, reset, timeout), whichever HTTP stack huggingface_hub uses."""
    for cls in type(e).__mro__:
        if cls.__module__.split(".")[0] in ("httpx", "httpx2", "httpcore", "requests", "urllib3") and \
                cls.__name__ in ("TransportError", "RequestError", "ConnectionError", "Timeout", "TimeoutException",
                                 "NetworkError", "ProtocolError", "ConnectError", "HTTPError"):
            return True
    return isinstance(e, (ConnectionError, TimeoutError))


def upload_error(e: BaseException, repo_id: str, endpoint: str, folder: Path) -> str:
    """The one-line message for a failed push (never a traceback): offline mode, no network, the Hub's refusal
    (with what to check), or a local file that cannot be read."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if isinstance(e, OfflineModeIsEnabled):
        return ("HF_HUB_OFFLINE is set, so nothing can be uploaded: run the push where the Hub can be reached, "
                "with HF_HUB_OFFLINE unset (the folder can be copied there as is)")
    if isinstance(e, HfHubHTTPError):
        status = getattr(getattr(e, "response", None), "status_code", None)
        hint = {401: "the token was refused: check HF_TOKEN or `hf auth login`",
                403: f"the token may not write to {repo_id} (a write token, and membership of its organisation)",
                404: f"no repo {repo_id} (or no access to it)"}.get(status, "")
        return f"the Hub refused the upload to {repo_id} (HTTP {status}): " + (hint or _first_line(e))
    if _is_transport_error(e):
        return (f"cannot reach the Hub at {endpoint} ({type(e).__name__}: {_first_line(e)}); nothing was uploaded. "
                "Check the network (or HF_ENDPOINT), then push again; offline, copy the folder to a machine that "
                "can reach the Hub and push from there")
    if isinstance(e, OSError) and e.filename:
        return f"cannot read {e.filename}: {e.strerror or _first_line(e)} (is {folder} complete and readable?)"
    return f"the upload to {repo_id} failed: {type(e).__name__}: {_first_line(e)}"


def push_folder(folder: str | os.PathLike, repo_id: str, private: bool = False, revision: str | None = None,
                message: str | None = None, token: str | None = None) -> dict[str, Any]:
    """Upload a finished dataset folder to the dataset repo ``repo_id`` (created if missing).

    The repo then mirrors the folder's data: its parquet files are uploaded and remote parquet files that
    the folder no longer has are deleted in the same commit. Unchanged files are not uploaded again, and
    pushing identical content makes no commit at all.

    Args:
        folder: a complete folder from ``g1bench data build`` or ``g1bench data from-run``.
        repo_id: ``ORG/NAME``.
        private: create the repo private (an existing repo keeps its visibility).
        revision: branch to commit to (created from main if missing); default main.
        message: commit message (default names the g1bench version and the build id).
        token: a Hub token (default: ``HF_TOKEN`` or the saved login). Never printed.

    Returns:
        ``{"url", "commit", "changed"}``.

    Raises:
        DataError: the folder is not a complete dataset, or there is no token.
    """
    folder = Path(folder)
    if not folder.exists():
        raise DataError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise DataError(f"{folder} is a file; give the dataset folder (made by `g1bench data build` or `data from-run`)")
    if not (folder / CARD).is_file():
        raise DataError(f"{folder} has no {CARD}: not a finished g1bench dataset folder "
                        "(build it with `g1bench data build`, or finish an interrupted build with --resume)")
    if (folder / STAGE).exists():
        raise DataError(f"{folder} holds an unfinished build ({STAGE}/); finish it with "
                        "`g1bench data build ... --resume` before pushing")
    if "/" not in repo_id or repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise DataError(f"--repo must look like ORG/NAME, got {repo_id!r}")
    token = _token(token)

    from huggingface_hub import HfApi, constants

    api = HfApi(token=token)
    build = card_build_id(folder)
    summary = message or f"g1bench {__version__}: upload dataset" + (f" (build {build})" if build else "")
    description = (f"Uploaded with `g1bench data push` (g1bench {__version__}). The dataset card (README.md) lists "
                   "the exact command, versions and SHA-256 of every file.")
    try:
        repo = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        if revision and revision != "main":
            api.create_branch(repo_id, branch=revision, repo_type="dataset", exist_ok=True)
        before = api.repo_info(repo_id, repo_type="dataset", revision=revision).sha
        info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), repo_type="dataset", revision=revision,
                                 commit_message=summary, commit_description=description,
                                 ignore_patterns=[f"{STAGE}/**", "**/*.part"], delete_patterns=["*.parquet"])
    except Exception as e:  # noqa: BLE001 - every failure of the upload becomes one line that says what to do
        raise DataError(upload_error(e, repo_id, constants.ENDPOINT, folder)) from None
    commit = info.oid
    return {"url": str(repo), "commit": commit, "changed": commit != before}

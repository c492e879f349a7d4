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
    if not (folder / CARD).is_file():
        raise DataError(f"{folder} has no {CARD}: not a finished g1bench dataset folder "
                        "(build it with `g1bench data build`, or finish an interrupted build with --resume)")
    if (folder / STAGE).exists():
        raise DataError(f"{folder} holds an unfinished build ({STAGE}/); finish it with "
                        "`g1bench data build ... --resume` before pushing")
    if "/" not in repo_id or repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise DataError(f"--repo must look like ORG/NAME, got {repo_id!r}")
    token = _token(token)

    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

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
    except HfHubHTTPError as e:
        raise DataError(f"the Hub refused the upload to {repo_id}: {e}") from None
    commit = info.oid
    return {"url": str(repo), "commit": commit, "changed": commit != before}

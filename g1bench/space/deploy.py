"""``g1bench space --deploy ORG/NAME``: upload ``space_app/`` to a Hugging Face Space repo.

The Space runs ``space_app/app.py`` and installs what ``space_app/requirements.txt`` names: g1bench from PyPI.
To run code that is not released yet, ``--with-wheel`` builds a wheel of this g1bench checkout, uploads it
into the Space repo (``wheels/``) in the same commit, and rewrites the uploaded ``requirements.txt`` to
install exactly that file: ``g1bench[space] @ <the wheel's resolve URL on the Space>#sha256=<its hash>``.
(The Space's build installs the requirements before it copies the repo's files, so it fetches the wheel over
HTTP from the Space repo itself; the hash makes pip refuse any other file. The Space must be public for its
build to download it.) Wheels of earlier deploys are removed from the repo in the same commit.

The wheel is built from a copy of the checkout's ``pyproject.toml``, ``README.md`` and ``g1bench/`` in a
temporary folder, with the installed setuptools (``pip wheel --no-build-isolation --no-deps``): nothing is
written into the checkout and nothing is downloaded. The Hub token comes from ``HF_TOKEN`` or
``hf auth login`` and is never printed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

WHEELS_DIR = "wheels"
#: files of space_app/ that are never uploaded
_SKIP = re.compile(r"(^|/)(__pycache__|\.[^/]*)(/|$)|\.pyc$")
_REQUIREMENT = re.compile(r"^\s*g1bench(\[[^\]]*\])?\s*([<>=!~@ ].*)?$")


class DeployError(RuntimeError):
    """The Space could not be deployed (the message says why and what to do)."""


@dataclass
class DeployResult:
    """What a deploy did: the Space's URL, the commit, the files uploaded and the wheel (if any)."""

    repo_id: str
    url: str
    commit: str | None
    files: list[str]
    wheel: str | None = None
    requirement: str | None = None


def checkout_root() -> Path:
    """The folder that holds the ``g1bench`` package (a source checkout has ``space_app/`` and ``pyproject.toml``)."""
    import g1bench

    return Path(g1bench.__file__).resolve().parent.parent


def space_files(space_dir: str | os.PathLike) -> dict[str, Path]:
    """``{path in the Space repo: local file}`` of a Space folder (no caches, no dot files)."""
    root = Path(space_dir)
    if not (root / "app.py").is_file() or not (root / "README.md").is_file():
        raise DeployError(f"{root} is not a Space folder (it needs app.py and README.md): give --space-dir")
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not p.is_symlink() and not _SKIP.search(rel):
            out[rel] = p
    return out


def build_wheel(source: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """A wheel of the g1bench checkout at ``source``, built offline in a temporary copy; returns its path."""
    source, out_dir = Path(source), Path(out_dir)
    for need in ("pyproject.toml", "g1bench"):
        if not (source / need).exists():
            raise DeployError(f"{source} is not a g1bench checkout (no {need}); --with-wheel builds from a checkout")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="g1bench-wheel-") as tmp:
        copy = Path(tmp) / "src"
        copy.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (source / name).is_file():
                shutil.copy2(source / name, copy / name)
        shutil.copytree(source / "g1bench", copy / "g1bench",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        built = Path(tmp) / "dist"
        res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                              "--disable-pip-version-check", "--quiet", "--wheel-dir", str(built), str(copy)],
                             capture_output=True, text=True, env={**os.environ, "PIP_NO_INPUT": "1"})
        wheels = sorted(built.glob("g1bench-*.whl")) if built.is_dir() else []
        if res.returncode != 0 or len(wheels) != 1:
            tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
            raise DeployError("building the wheel failed (pip wheel; needs setuptools>=68 installed): "
                              + " | ".join(tail)[:500])
        target = out_dir / wheels[0].name
        shutil.copyfile(wheels[0], target)
    return target


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pin_requirements(text: str, requirement: str) -> str:
    """``requirements.txt`` with its g1bench line replaced by ``requirement`` (added when it has none)."""
    lines, done = [], False
    for line in text.splitlines():
        if not line.lstrip().startswith("#") and _REQUIREMENT.match(line):
            if not done:
                lines.append(requirement)
                done = True
            continue
        lines.append(line)
    if not done:
        lines.append(requirement)
    return "\n".join(lines) + "\n"


def deploy(repo_id: str, *, space_dir: str | os.PathLike | None = None, with_wheel: bool = False,
           private: bool | None = None, results_repo: str | None = None, token: str | None = None,
           endpoint: str | None = None, source: str | os.PathLike | None = None,
           log: Callable[[str], None] | None = None) -> DeployResult:
    """Create (or update) the Space ``repo_id`` with the files of ``space_dir`` (default: the checkout's
    ``space_app/``) in one commit.

    Args:
        with_wheel: build a wheel of the checkout (``source``, default the one this g1bench runs from), upload it
            and point ``requirements.txt`` at it.
        private: make a new Space private (an existing one keeps its visibility).
        results_repo: set the Space variable ``G1BENCH_SPACE_RESULTS`` (the results store the Space shows).
        token, endpoint: for the Hub client (default ``HF_TOKEN`` / the saved login, ``HF_ENDPOINT``).

    Raises:
        DeployError: bad arguments, no token, a failed build or a refusal of the Hub (one line each).
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError

    from ..leaderboard.identity import is_repo_id

    say = log or (lambda line: print(line, file=sys.stderr))
    if not is_repo_id(repo_id):
        raise DeployError(f"--deploy needs a Space id ORG/NAME, got {repo_id!r}")
    if results_repo is not None and not is_repo_id(results_repo):
        raise DeployError(f"--results-repo must look like ORG/NAME, got {results_repo!r}")
    root = checkout_root()
    files = space_files(space_dir if space_dir is not None else root / "space_app")
    api = HfApi(token=token, endpoint=endpoint)
    if not (token or get_token()):
        raise DeployError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (a token that may create Spaces)")
    base = api.endpoint.rstrip("/")
    uploads: dict[str, bytes | str] = {path: str(p) for path, p in files.items()}
    wheel_name = requirement = None
    with tempfile.TemporaryDirectory(prefix="g1bench-deploy-") as tmp:
        if with_wheel:
            wheel = build_wheel(source if source is not None else root, tmp)
            wheel_name = wheel.name
            url = f"{base}/spaces/{repo_id}/resolve/main/{WHEELS_DIR}/{wheel.name}"
            requirement = f"g1bench[space] @ {url}#sha256={sha256_of(wheel)}"
            reqs = files["requirements.txt"].read_text() if "requirements.txt" in files else ""
            uploads["requirements.txt"] = pin_requirements(reqs, requirement).encode()
            uploads[f"{WHEELS_DIR}/{wheel.name}"] = str(wheel)
            say(f"built {wheel.name}; requirements.txt installs it from the Space repo")
        try:
            api.create_repo(repo_id, repo_type="space", space_sdk="gradio", exist_ok=True, private=private)
            if with_wheel and api.repo_info(repo_id, repo_type="space").private:
                raise DeployError(f"{repo_id} is private: its build could not download the wheel from it (the "
                                  "requirement is a plain URL); deploy --with-wheel to a public Space")
            old = [f for f in api.list_repo_files(repo_id, repo_type="space") if f.startswith(f"{WHEELS_DIR}/")]
            ops: list = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=v) for p, v in uploads.items()]
            ops += [CommitOperationDelete(path_in_repo=f) for f in old if f not in uploads]
            info = api.create_commit(repo_id, ops, repo_type="space",
                                     commit_message="g1bench space --deploy" + (f" ({wheel_name})" if wheel_name else ""))
            if results_repo:
                api.add_space_variable(repo_id, "G1BENCH_SPACE_RESULTS", results_repo,
                                       description="the g1bench results store the leaderboard shows")
        except HfHubHTTPError as e:
            raise DeployError(f"the Hub refused the deploy of {repo_id}: {str(e).splitlines()[0][:300]}") from None
        except OSError as e:
            raise DeployError(f"cannot reach the Hub ({base}): {e}") from None
    say(f"deployed {len(uploads)} files to {base}/spaces/{repo_id} (commit {info.oid[:12]})")
    return DeployResult(repo_id, f"{base}/spaces/{repo_id}", info.oid, sorted(uploads), wheel_name, requirement)


__all__ = ["deploy", "build_wheel", "pin_requirements", "space_files", "checkout_root", "DeployError", "DeployResult",
           "WHEELS_DIR"]

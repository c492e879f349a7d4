"""What every model backend shares: where the model comes from (revision, commit) and its provenance."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..eval.policies import Policy
from .adapter_files import adapter_hash, adapter_note, is_adapter_folder
from .config import ModelConfig, ModelError
from .messages import system_prompt_hash

#: Small files of a model folder that decide how it behaves (weights are not hashed: too large).
CONFIG_FILES = ("config.json", "generation_config.json", "preprocessor_config.json", "processor_config.json",
                "tokenizer_config.json", "chat_template.jinja", "chat_template.json", "video_preprocessor_config.json")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SNAPSHOT = re.compile(r"models--(?P<org>[^/]+?)--(?P<name>[^/]+)/snapshots/(?P<sha>[0-9a-f]{40})/?$")


def package_version(name: str) -> str | None:
    """The installed version of a distribution, without importing it (None when absent)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def config_hash(folder: str | os.PathLike) -> str | None:
    """SHA-256 (first 16 hex) over the names and bytes of a model folder's config files (see CONFIG_FILES)."""
    h, found = hashlib.sha256(), False
    for name in CONFIG_FILES:
        p = Path(folder) / name
        if p.is_file():
            found = True
            h.update(name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16] if found else None


@dataclass
class ModelSource:
    """Where a model's files come from, as recorded in provenance.

    ``load_id`` / ``load_revision`` are what the backend passes to ``from_pretrained`` / ``LLM``: the
    resolved commit when there is one, so the weights loaded are exactly the ones recorded.
    """

    model: str
    source: str  # "local" | "hub" | "server"
    revision: str | None = None
    commit: str | None = None
    path: str | None = None
    config_hash: str | None = None
    note: str | None = None

    @property
    def load_id(self) -> str:
        return self.path if self.source == "local" and self.path else self.model

    @property
    def load_revision(self) -> str | None:
        if self.source != "hub":
            return None
        return self.commit or self.revision

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _hub_cache_dir(repo_id: str) -> Path | None:
    try:
        from huggingface_hub import constants

        return Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}"
    except Exception:  # noqa: BLE001
        return None


def _hub_cache_commit(repo_id: str, revision: str) -> str | None:
    """The commit a revision points to in the local Hub cache (``refs/<revision>``), if cached."""
    if _COMMIT.match(revision):
        return revision
    cache = _hub_cache_dir(repo_id)
    try:
        ref = cache / "refs" / revision if cache is not None else None
        sha = ref.read_text().strip() if ref is not None and ref.is_file() else ""
    except OSError:  # a cache we cannot read is a cache miss
        return None
    return sha if _COMMIT.match(sha) else None


def close_matches(model: str, n: int = 3, api: Any = None) -> list[str]:
    """Existing Hub model ids closest to ``model`` (a mistyped or shortened id: ``Qwen/Qwen2.5-VL-7B`` ->
    ``Qwen/Qwen2.5-VL-7B-Instruct``): the Hub's search for the name (shortened at ``-`` until something is
    found, at most 3 requests), ranked with difflib. [] when the Hub cannot be asked."""
    import difflib

    try:
        from huggingface_hub import HfApi

        api = api or HfApi()
        org, _, name = model.rpartition("/")
        words = name.split("-")
        found: list[str] = []
        for k in range(len(words), max(0, len(words) - 3), -1):
            term = "-".join(words[:k])
            if not term:
                break
            found = [m.id for m in api.list_models(search=term, limit=200)]
            if found:
                break
    except Exception:  # noqa: BLE001 - suggestions are a courtesy: offline, no suggestions
        return []
    lower = {f.lower(): f for f in found if f != model}
    ranked = difflib.get_close_matches(model.lower(), list(lower), n=n, cutoff=0.6)
    # the same organisation first (a finetune of the name elsewhere is a worse guess)
    ranked.sort(key=lambda m: (m.split("/")[0] != org.lower(), -difflib.SequenceMatcher(None, model.lower(), m).ratio()))
    return [lower[m] for m in ranked]


def resolve_model(model: str, revision: str | None = None, *, local_only: bool = False) -> ModelSource:
    """Resolve ``--model`` / ``--revision`` to a :class:`ModelSource`.

    A local folder records its absolute path and a hash of its config files (and the commit, when the
    folder is a Hub cache snapshot). A Hub id records the commit ``revision`` resolves to, asked of the
    Hub (``model_info(revision).sha``); when the Hub cannot be reached, the local cache's ref is used,
    else the revision asked for is recorded with a note.

    Raises:
        ModelError: a path that does not exist, ``--revision`` with a local folder, a name that is
            neither, or a repository / revision the Hub says does not exist.
    """
    expanded = os.path.expanduser(model)
    if os.path.isdir(expanded):
        if revision is not None:
            raise ModelError(f"--revision {revision!r} applies to Hub models; {model!r} is a local folder "
                             "(check out the revision you want there instead)")
        path = os.path.abspath(expanded)
        if is_adapter_folder(path):  # a PEFT adapter folder (a LoRA run's output) names its base model
            return ModelSource(model, "local", path=path, config_hash=adapter_hash(path), note=adapter_note(path))
        src = ModelSource(model, "local", path=path, config_hash=config_hash(path))
        if m := _SNAPSHOT.search(path.replace(os.sep, "/")):
            src.commit, src.note = m["sha"], f"Hub cache snapshot of {m['org']}/{m['name']}"
        if src.config_hash is None:
            raise ModelError(f"{model!r} is a folder but holds no config.json: not a model folder")
        return src
    looks_like_path = model.startswith((".", "/", "~")) or model.count("/") > 1 or os.sep in model.replace("/", "")
    if looks_like_path or not _HUB_ID.match(model):
        raise ModelError(f"model {model!r}: no such folder, and not a Hub id (org/name)")
    if local_only:
        return ModelSource(model, "hub", revision=revision)
    asked = revision or "main"
    src = ModelSource(model, "hub", revision=asked)
    try:
        from huggingface_hub import HfApi
        from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError
    except ImportError:  # pragma: no cover - huggingface_hub is a core dependency
        src.note = "huggingface_hub is not installed: recorded the revision asked for"
        return src
    try:
        sha = HfApi().model_info(model, revision=asked).sha
        src.commit = sha if sha else None
    except RevisionNotFoundError:
        raise ModelError(f"model {model!r} has no revision {asked!r} on the Hub") from None
    except RepositoryNotFoundError:
        near = close_matches(model)
        hint = f"did you mean {' or '.join(near)}? " if near else ""
        raise ModelError(f"model {model!r} was not found on the Hub (nor as a local folder); {hint}if it is gated "
                         "or private, log in (HF_TOKEN)") from None
    except Exception as e:  # noqa: BLE001 - offline, no network, Hub down: fall back to the cache
        src.commit = _hub_cache_commit(model, asked)
        why = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        cache = _hub_cache_dir(model)
        if src.commit is None and cache is not None and not cache.exists():
            raise ModelError(f"model {model!r}: the Hub cannot be reached ({why}) and the model is not in the local "
                             f"Hub cache ({cache.parent}); check the name, the network, or pass a local folder") from None
        src.note = (f"Hub not reachable ({why}); "
                    + ("commit read from the local Hub cache" if src.commit else "recorded the revision asked for"))
    return src


class ModelPolicy(Policy):
    """A policy backed by a model. Subclasses set ``backend`` and implement ``act``.

    :meth:`describe` is the run's provenance: model id, revision and resolved commit, backend and
    package versions, sampling parameters, image bounds, dtype and the system prompt's hash. It never
    holds a secret.
    """

    backend = "model"
    needs_frames = True

    def __init__(self, model: str, cfg: ModelConfig, source: ModelSource):
        self.model_id, self.cfg, self.source = model, cfg, source
        self.name = os.path.basename(model.rstrip("/\\")) or model
        self.dtype: str | None = cfg.dtype
        self.preflight = None  # a backend's pre-flight of the suite (g1bench.models.preflight), when it ran one

    def backend_versions(self) -> dict[str, str | None]:
        return {}

    def describe_backend(self) -> dict[str, Any]:
        """Backend-specific provenance (added to :meth:`describe`)."""
        return {}

    def image_bounds(self) -> dict[str, Any]:
        """Image area bounds: the flags' values (None = the model's own defaults)."""
        return {"min_pixels": self.cfg.min_pixels, "max_pixels": self.cfg.max_pixels}

    def describe(self) -> dict[str, Any]:
        cfg = self.cfg
        return {
            "policy": self.model_id,
            "backend": self.backend,
            "backend_versions": self.backend_versions(),
            "model": self.source.to_dict(),
            "sampling": cfg.sampling(),
            "image": self.image_bounds(),
            "dtype": self.dtype,
            "system_prompt_sha256": system_prompt_hash(cfg.system_prompt),
            **({"preflight": self.preflight.to_dict()} if self.preflight is not None else {}),
            **self.describe_backend(),
        }

    def seed(self, seed: int) -> None:
        self.cfg.sampling_seed = int(seed)


__all__ = ["ModelPolicy", "ModelSource", "resolve_model", "close_matches", "config_hash", "package_version",
           "CONFIG_FILES"]

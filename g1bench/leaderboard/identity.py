"""Who played a run, as the leaderboard shows it: name, type (open weights / API / baseline), revision, and
what was checked of it.

Everything is derived from the policy's provenance in ``results.json`` (``policy.describe()``), never from
anything else a submitter could set, and every text is cleaned of control characters. What the record claims
is checked where it can be (:mod:`g1bench.leaderboard.provenance`); :func:`model_check` says in words what
was checked, for the table's type column: a baseline's answers are asked again at every step, a Hub
model's id and commit are looked up on the Hub (:func:`resolve_models`), the rest is as reported.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Mapping
from urllib.parse import urlsplit

from ..core.files import clean_text

OPEN_WEIGHTS, API, BASELINE, UNKNOWN, CUSTOM = "open weights", "API", "baseline", "unknown", "custom policy"
#: what was checked of a model (the table's type column says it after the type)
CHECKED_REPLAY = "answers asked again at every step"
CHECKED_HUB = "Hub model and commit checked"
NOT_RESOLVED = "model not resolved"
HUB_NOT_REACHED = "Hub not reached: model not checked"
SELF_REPORTED = "as reported"
#: the longest model name shown (longer names are cut)
MAX_NAME = 120
#: the policies the overall score is normalised between (``g1bench eval --model random|oracle``, defaults)
ANCHORS = {"random": {"policy": "random", "backend": "builtin", "seed": 0},
           "oracle": {"policy": "oracle", "backend": "builtin", "depth": 2}}
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


def text(value: Any, limit: int = MAX_NAME) -> str:
    """Plain one-line text for display: control characters and ANSI escapes removed, length capped."""
    s = clean_text("" if value is None else value, keep_newlines=False).strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


def model_name(policy: Mapping[str, Any]) -> str:
    """The model's display name: the policy name (a baseline, a Hub id, a served model's name)."""
    return text(policy.get("policy") if isinstance(policy, Mapping) else None) or "unknown"


def model_revision(policy: Mapping[str, Any]) -> str | None:
    """The resolved Hub commit (else the requested revision, else a local folder's config hash)."""
    model = policy.get("model") if isinstance(policy, Mapping) else None
    if not isinstance(model, Mapping):
        return None
    for key in ("commit", "revision", "config_hash"):
        if isinstance(model.get(key), str) and model[key]:
            return text(model[key], 64)
    return None


def _private_host(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host in ("localhost",) or host.endswith((".local", ".internal", ".localhost")):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local


def model_type(policy: Mapping[str, Any]) -> str:
    """``baseline`` (g1bench's built-in baselines), ``custom policy`` (another policy of the built-in backend, e.g.
    a Python function), ``open weights`` (weights loaded here: transformers, vLLM, or an OpenAI-compatible server
    on a loopback/private address, i.e. one the evaluator runs), ``API`` (an OpenAI-compatible server
    elsewhere), else ``unknown``."""
    from ..eval.policies import BASELINES

    if not isinstance(policy, Mapping):
        return UNKNOWN
    backend = policy.get("backend")
    if backend == "builtin":
        return BASELINE if policy.get("policy") in BASELINES else CUSTOM
    if backend in ("transformers", "vllm"):
        return OPEN_WEIGHTS
    if backend == "openai":
        url = policy.get("base_url")
        return OPEN_WEIGHTS if isinstance(url, str) and _private_host(url) else API
    return UNKNOWN


def anchor_of(policy: Mapping[str, Any]) -> str | None:
    """``"random"`` / ``"oracle"`` when the policy is exactly a normalisation anchor, else None."""
    for name, want in ANCHORS.items():
        if dict(policy) == want:
            return name
    return None


def hub_model(policy: Mapping[str, Any]) -> dict[str, str] | None:
    """``{"repo", "commit"}`` of a run's model when it came from the Hub (what :func:`resolve_models` looks up)."""
    repo = model_repo(policy)
    model = policy.get("model") if isinstance(policy, Mapping) else None
    if repo is None or not isinstance(model, Mapping) or not isinstance(model.get("commit"), str):
        return None
    return {"repo": repo, "commit": model["commit"]}


def model_check(policy: Mapping[str, Any]) -> str:
    """What can be checked of a run's model before the Hub is asked (:func:`resolve_models` refines Hub models)."""
    kind = model_type(policy)
    if kind == BASELINE:
        return CHECKED_REPLAY
    if hub_model(policy) is not None:
        return HUB_NOT_REACHED
    return SELF_REPORTED


def resolve_models(models: list[dict[str, str]], *, endpoint: str | None = None, token: str | bool | None = None,
                   cache: "dict[str, Any] | None" = None, timeout: float = 10.0) -> dict[str, str]:
    """Look up Hub models: ``{"repo@commit": CHECKED_HUB | NOT_RESOLVED | HUB_NOT_REACHED}``.

    A model resolves when its repo exists and has that commit. Offline (``HF_HUB_OFFLINE``) or when the Hub does
    not answer, nothing is looked up (``HUB_NOT_REACHED``). ``cache`` (a dict kept by the caller) remembers
    answers: a commit that exists stays so; one that does not is asked again after a day.
    """
    import os
    import time
    from concurrent.futures import ThreadPoolExecutor

    keys = sorted({f"{m['repo']}@{m['commit']}" for m in models})
    out = {k: HUB_NOT_REACHED for k in keys}
    if not keys or os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return out
    cache = cache if cache is not None else {}
    now = time.time()
    todo = []
    for k in keys:
        hit = cache.get(k)
        if isinstance(hit, list) and len(hit) == 2 and hit[0] in (CHECKED_HUB, NOT_RESOLVED) and \
                (hit[0] == CHECKED_HUB or now - float(hit[1]) < 86_400):
            out[k] = hit[0]
        else:
            todo.append(k)
    if not todo:
        return out
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

    api = HfApi(endpoint=endpoint, token=token)

    def ask(key: str) -> str | None:
        repo, commit = key.rsplit("@", 1)
        try:
            info = api.model_info(repo, revision=commit, timeout=timeout)
        except (RepositoryNotFoundError, RevisionNotFoundError):
            return NOT_RESOLVED
        except (HfHubHTTPError, OSError, ValueError):
            return None  # the Hub did not answer: nothing checked
        return CHECKED_HUB if getattr(info, "sha", None) == commit else NOT_RESOLVED

    with ThreadPoolExecutor(max_workers=min(8, len(todo)), thread_name_prefix="g1bench-resolve") as pool:
        for k, got in zip(todo, pool.map(ask, todo)):
            if got is not None:
                out[k] = got
                cache[k] = [got, now]
    return out


def model_repo(policy: Mapping[str, Any]) -> str | None:
    """The Hub model repo a run's model came from (for ``--model-pr``), when it came from the Hub."""
    model = policy.get("model") if isinstance(policy, Mapping) else None
    if isinstance(model, Mapping) and model.get("source") == "hub" and isinstance(model.get("model"), str) \
            and _HUB_ID.fullmatch(model["model"]):
        return model["model"]
    return None


def is_repo_id(value: str) -> bool:
    """Whether ``value`` looks like a Hub repo id ``ORG/NAME``."""
    return bool(_HUB_ID.fullmatch(value or ""))


#: what a leaderboard row is: a measured run, one of g1bench's baselines, or a copy of another entry's answers
MEASURED, BASELINE_KIND, COPY_KIND = "measured", "baseline", "copy"


def row_kind(summary: dict[str, Any]) -> str:
    """An entry summary's row kind before copies are found: a baseline or a measured run."""
    return BASELINE_KIND if summary.get("model_type") == BASELINE else MEASURED


_MD = str.maketrans({**{c: f"\\{c}" for c in "\\`*_{}[]()#+!|~"}, "&": "&amp;", "<": "&lt;", ">": "&gt;"})


def md_escape(value: Any, limit: int = 400) -> str:
    """Text safe inside a Markdown table cell: no markup, links or HTML (``& < >`` become entities)."""
    return text(value, limit).translate(_MD)


__all__ = ["OPEN_WEIGHTS", "API", "BASELINE", "UNKNOWN", "CUSTOM", "ANCHORS", "CHECKED_REPLAY", "CHECKED_HUB",
           "NOT_RESOLVED", "HUB_NOT_REACHED", "SELF_REPORTED", "text", "model_name", "model_revision", "model_type",
           "model_check", "hub_model", "resolve_models", "anchor_of", "model_repo", "is_repo_id", "MEASURED", "BASELINE_KIND",
           "COPY_KIND", "row_kind", "md_escape"]

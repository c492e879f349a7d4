"""Who played a run, as the leaderboard shows it: name, type (open weights / API / baseline), revision.

Everything is derived from the policy's provenance in ``results.json`` (``policy.describe()``), never from
anything else a submitter could set, and every text is cleaned of control characters.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Mapping
from urllib.parse import urlsplit

from ..core.files import clean_text

OPEN_WEIGHTS, API, BASELINE, UNKNOWN = "open weights", "API", "baseline", "unknown"
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
    """``baseline`` (g1bench's built-in policies), ``open weights`` (weights loaded here: transformers, vLLM,
    or an OpenAI-compatible server on a loopback/private address, i.e. one the evaluator runs), ``API`` (an
    OpenAI-compatible server elsewhere), else ``unknown``."""
    if not isinstance(policy, Mapping):
        return UNKNOWN
    backend = policy.get("backend")
    if backend == "builtin":
        return BASELINE
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


__all__ = ["OPEN_WEIGHTS", "API", "BASELINE", "UNKNOWN", "ANCHORS", "text", "model_name", "model_revision",
           "model_type", "anchor_of", "model_repo", "is_repo_id"]

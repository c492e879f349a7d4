"""What an entry says about who ran it and when, checked before the leaderboard shows it.

A run's provenance (``results.json`` ``provenance`` and ``run.json``) is written by whoever pushes it. Replay
proves its figures, not its names or dates, so they are checked here, each refusal one line:

* **model name** (the policy record's ``policy``): text, in Unicode NFKC form, without control, format
  (zero-width, bidirectional) or private-use characters, at most :data:`MAX_NAME` characters;
* **reserved names**: the built-in baselines' names (``random``, ``random-legal``, ``oracle``) and anything
  that looks like one (:func:`skeleton`: compatibility forms, case, accents, invisible characters and
  separators folded, then Unicode's confusable characters, e.g. a Cyrillic ``о``) belong to the built-in
  backend, whose answers verification asks again (:mod:`g1bench.eval.verify`);
* **dates**: ``start_time`` / ``end_time`` are ISO 8601 with a time zone, not in the future, not before the
  suite's release, and the run ends after it starts;
* **model backends** (``transformers``, ``vllm``, ``openai``) record per step the input and output token counts
  and a latency above zero (a real model call is never free and never instant), and a Hub model names its
  repo as the displayed name and the 40-hex commit its weights were loaded at (not all zeros).

Numbers in step records (tokens, latency, cost) are bounded where they are read
(:data:`g1bench.eval.steps.RECORD_CHECKS`).
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from typing import Any, Iterable, Mapping

#: the longest model name an entry may have
MAX_NAME = 120
#: the backends that run a model (their runs must carry per-step token counts and latencies)
MODEL_BACKENDS = ("transformers", "vllm", "openai")
#: no run of g1bench predates the G1 paper (a suite without a release date is checked against it)
G1_PAPER_DATE = _dt.date(2025, 5, 19)
#: clock skew allowed for a date "in the future"
SKEW = _dt.timedelta(days=1)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
#: invisible separators folded away by the skeleton (whitespace and the usual word joiners)
_SEPARATORS = re.compile(r"[\s_\-.·•‧]+")


def _shown(value: Any, limit: int = 60) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def name_problem(name: Any) -> str | None:
    """Why ``name`` cannot be a model name on the leaderboard, or None."""
    if not isinstance(name, str):
        return f"its model name must be text, got {type(name).__name__}"
    if not name.strip():
        return "its model name is empty"
    if len(name) > MAX_NAME:
        return f"its model name is {len(name):,} characters long (at most {MAX_NAME})"
    for ch in name:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"):
            kind = {"Cc": "a control", "Cf": "an invisible or direction-changing", "Co": "a private-use",
                    "Cs": "a surrogate", "Cn": "an unassigned", "Zl": "a line-separator", "Zp": "a paragraph-separator"}
            return f"its model name has {kind[cat]} character (U+{ord(ch):04X})"
    if unicodedata.normalize("NFKC", name) != name:
        return f"its model name {_shown(name)} is not in Unicode NFKC form (it has compatibility characters)"
    return None


def skeleton(text: str) -> str:
    """``text`` folded for comparing names by how they look: compatibility forms (full-width letters), case,
    accents, invisible characters and separators removed."""
    s = unicodedata.normalize("NFKD", text)
    s = "".join(ch for ch in s if unicodedata.category(ch) not in ("Mn", "Me", "Cf", "Cc"))
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", s).casefold())


def reserved_name(name: str, names: Iterable[str]) -> str | None:
    """The reserved name (of ``names``) that ``name`` is or looks like, else None."""
    from confusables import is_confusable

    mine = skeleton(name)
    for reserved in names:
        theirs = skeleton(reserved)
        if mine == theirs or is_confusable(mine, theirs):
            return reserved
    return None


def reserved_problem(policy: Mapping[str, Any]) -> str | None:
    """Why an entry's policy takes a built-in baseline's name (or a lookalike) without being that baseline."""
    from ..eval.policies import BASELINES

    name = policy.get("policy")
    if not isinstance(name, str):
        return None
    if policy.get("backend") == "builtin" and name in BASELINES:
        return None  # the baseline itself: verification asked it again at every step
    hit = reserved_name(name, BASELINES)
    if hit is None:
        return None
    what = "is" if name == hit else "looks like"
    return (f"its model name {_shown(name)} {what} the name of g1bench's built-in baseline {hit!r}, which only the "
            "built-in backend may use")


def parse_time(value: Any) -> _dt.datetime | None:
    """An ISO 8601 date-time with a time zone, as an aware datetime (None when it is not one)."""
    if not isinstance(value, str) or not _ISO.fullmatch(value):
        return None
    text = value.replace("Z", "+00:00").replace(" ", "T", 1)
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    try:
        return _dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def suite_release(suite_name: str) -> _dt.date:
    """When a built-in suite was released (``Suite.released`` where a suite declares it, else the G1 paper's
    date: no g1bench run is older)."""
    from ..eval.suites import SUITES, get_suite

    released = getattr(get_suite(suite_name), "released", None) if suite_name in SUITES else None
    if isinstance(released, str):
        try:
            released = _dt.date.fromisoformat(released)
        except ValueError:
            released = None
    return released if isinstance(released, _dt.date) else G1_PAPER_DATE


def date_problem(run: Mapping[str, Any], results: Mapping[str, Any], suite_name: str,
                 now: _dt.datetime | None = None) -> str | None:
    """Why an entry's dates are not believable, or None."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    released = suite_release(suite_name)
    prov = results.get("provenance", {})
    times = {}
    for where, value in (("run.json start_time", run.get("start_time")),
                         ("results.json provenance.start_time", prov.get("start_time")),
                         ("results.json provenance.end_time", prov.get("end_time"))):
        if value is None and where.endswith("end_time"):
            continue
        t = parse_time(value)
        if t is None:
            return f"{where} must be an ISO 8601 date and time with a time zone, got {_shown(value)}"
        if t > now + SKEW:
            return f"{where} {value} is in the future"
        if t.date() < released:
            return f"{where} {value} is before the suite {suite_name!r} was released ({released.isoformat()})"
        times[where] = t
    start, end = times.get("results.json provenance.start_time"), times.get("results.json provenance.end_time")
    if start is not None and end is not None and end < start:
        return f"results.json provenance.end_time {prov.get('end_time')} is before its start_time {prov.get('start_time')}"
    return None


def backend_problem(policy: Mapping[str, Any], steps: Mapping[str, list[dict[str, Any]]]) -> str | None:
    """Why a model backend's run lacks what every real model call records, or None."""
    backend = policy.get("backend")
    if not isinstance(backend, str):
        return f"its policy record names no backend (got {_shown(backend)})"
    if backend not in MODEL_BACKENDS:
        return None
    model = policy.get("model")
    if backend in ("transformers", "vllm") or (isinstance(model, Mapping) and model.get("source") == "hub"):
        if not isinstance(model, Mapping):
            return f"a {backend} run must record its model (policy.model), got {_shown(model)}"
        if model.get("source") == "hub":
            if not isinstance(model.get("model"), str) or not _HUB_ID.fullmatch(model["model"]):
                return f"policy.model.model must be the Hub model id ORG/NAME, got {_shown(model.get('model'))}"
            if model["model"] != policy.get("policy"):
                return (f"its displayed name {_shown(policy.get('policy'))} is not its Hub model "
                        f"{_shown(model['model'])}")
            commit = model.get("commit")
            if not isinstance(commit, str) or not _COMMIT.fullmatch(commit) or set(commit) == {"0"}:
                return (f"policy.model.commit must be the 40-hex commit its weights were loaded at, got "
                        f"{_shown(commit)}")
    for eid, recs in steps.items():
        for rec in recs:
            for key in ("input_tokens", "output_tokens"):
                if not isinstance(rec.get(key), int) or isinstance(rec.get(key), bool):
                    return (f"{eid} step {rec.get('step')} records no {key}: a {backend} run records token counts "
                            "at every step")
            latency = rec.get("latency_s")
            if isinstance(latency, bool) or not isinstance(latency, (int, float)) or not latency > 0:
                return (f"{eid} step {rec.get('step')} records a latency of {_shown(latency)}: a {backend} run records "
                        "the time of every model call (above zero)")
    return None


def provenance_problem(run: Mapping[str, Any], results: Mapping[str, Any], steps: Mapping[str, list[dict[str, Any]]],
                       suite_name: str) -> str | None:
    """The first thing wrong with an entry's provenance (module docstring), or None."""
    policy = results.get("provenance", {}).get("policy", {})
    if not isinstance(policy, Mapping):
        return "its policy record is not an object"
    return (reserved_problem(policy) or name_problem(policy.get("policy")) or date_problem(run, results, suite_name)
            or backend_problem(policy, steps))


__all__ = ["MAX_NAME", "MODEL_BACKENDS", "G1_PAPER_DATE", "name_problem", "skeleton", "reserved_name", "reserved_problem",
           "parse_time", "suite_release", "date_problem", "backend_problem", "provenance_problem"]

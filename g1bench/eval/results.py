"""The results file: one schema, one validator, atomic writes.

``results.json`` (schema ``g1bench-results/1``)::

    {
      "schema": "g1bench-results/1",
      "complete": true, "episodes_done": 40, "episodes_total": 40,
      "provenance": {
        "g1bench_version": "0.1.0",
        "suite": {"name": "paper", "version": 1, "suite_id": "paper-v1", "hash": "…"},
        "policy": {"policy": "random", "backend": "builtin", …model id, revision, sampling…},
        "env_versions": {…rules/prompt/renderer versions per game and difficulty…},
        "image_size": {"2048/paper": [448, 504], …},
        "invalid_answer": {"2048": "random-move", …},
        "hardware": {"platform": …, "python": …, "cpu_count": …},
        "start_time": "…", "end_time": "…"
      },
      "results": {"2048/paper": {"mean": …, "std": …, "ci95": [lo, hi], "n": …, "parse_failure_rate": …, …}}
    }
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

SCHEMA = "g1bench-results/1"


class ResultsError(ValueError):
    """A results file is missing, unreadable or does not follow the schema; the message says where."""


_NUM = (int, float)
_GROUP_FIELDS: dict[str, tuple] = {
    "game": (str,), "difficulty": (str,), "metric": (str,), "n": (int,), "mean": _NUM, "std": _NUM,
    "ci95": (list,), "steps": (int,), "success_rate": _NUM + (type(None),),
    "parse_failure_rate": _NUM + (type(None),), "invalid_action_rate": _NUM + (type(None),),
    "format_rate": _NUM + (type(None),), "perception_answered": (int,),
    "perception_accuracy": _NUM + (type(None),), "reasoning_accuracy": _NUM + (type(None),),
    "mean_output_tokens": _NUM + (type(None),), "mean_latency_s": _NUM + (type(None),),
    "games_played": (int,),
}
_PROVENANCE_FIELDS: dict[str, tuple] = {
    "g1bench_version": (str,), "suite": (dict,), "policy": (dict,), "env_versions": (dict,),
    "image_size": (dict,), "invalid_answer": (dict,), "hardware": (dict,), "start_time": (str,),
    "end_time": (str, type(None)),
}


def _need(d: dict, key: str, types: tuple, where: str) -> Any:
    if key not in d:
        raise ResultsError(f"{where}: missing field {key!r}")
    value = d[key]
    if isinstance(value, bool) and bool not in types:
        raise ResultsError(f"{where}.{key}: expected {' or '.join(t.__name__ for t in types)}, got a boolean")
    if not isinstance(value, types):
        raise ResultsError(f"{where}.{key}: expected {' or '.join(t.__name__ for t in types)}, got {type(value).__name__}")
    return value


def validate(data: Any) -> dict[str, Any]:
    """Check ``data`` against the schema; return it, or raise :class:`ResultsError` naming the bad field."""
    if not isinstance(data, dict):
        raise ResultsError(f"results: expected a JSON object, got {type(data).__name__}")
    schema = data.get("schema")
    if schema != SCHEMA:
        raise ResultsError(f"results.schema: expected {SCHEMA!r}, got {schema!r} (written by another g1bench version?)")
    _need(data, "complete", (bool,), "results")
    _need(data, "episodes_done", (int,), "results")
    _need(data, "episodes_total", (int,), "results")
    prov = _need(data, "provenance", (dict,), "results")
    for key, types in _PROVENANCE_FIELDS.items():
        _need(prov, key, types, "results.provenance")
    suite = prov["suite"]
    for key, types in {"name": (str,), "version": (int,), "suite_id": (str,), "hash": (str,)}.items():
        _need(suite, key, types, "results.provenance.suite")
    _need(prov["policy"], "policy", (str,), "results.provenance.policy")
    groups = _need(data, "results", (dict,), "results")
    for name, group in groups.items():
        where = f"results.results[{name!r}]"
        if not isinstance(group, dict):
            raise ResultsError(f"{where}: expected an object")
        if not isinstance(name, str) or name.count("/") < 1:
            raise ResultsError(f"{where}: group names are 'game/difficulty'")
        for key, types in _GROUP_FIELDS.items():
            value = _need(group, key, types, where)
            if isinstance(value, float) and not math.isfinite(value):
                raise ResultsError(f"{where}.{key}: is {value} (numbers must be finite)")
        ci = group["ci95"]
        if (len(ci) != 2 or not all(isinstance(v, _NUM) and not isinstance(v, bool) and math.isfinite(v) for v in ci)
                or ci[0] > ci[1]):
            raise ResultsError(f"{where}.ci95: expected [low, high] finite with low <= high, got {ci!r}")
        if group["n"] < 1:
            raise ResultsError(f"{where}.n: must be >= 1")
    done, total = data["episodes_done"], data["episodes_total"]
    if not 0 <= done <= total:
        raise ResultsError(f"results.episodes_done: {done} is not within 0..episodes_total ({total})")
    if data["complete"] != (done == total):
        raise ResultsError(f"results.complete: is {data['complete']} but {done} of {total} episodes are done")
    if sum(g["n"] for g in groups.values()) != done:
        raise ResultsError(f"results.results: the groups hold {sum(g['n'] for g in groups.values())} episodes, "
                           f"episodes_done says {done}")
    return data


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a results file (or the ``results.json`` inside a run directory)."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ResultsError(f"{p}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except FileNotFoundError:
        raise ResultsError(f"{p}: no such results file") from None
    except OSError as e:
        raise ResultsError(f"{p}: cannot read: {e}") from None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ResultsError(f"{p}: not valid JSON ({e})") from None
    try:
        return validate(data)
    except ResultsError as e:
        raise ResultsError(f"{p}: {e}") from None


def write_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write JSON to ``path`` via a temp file + rename, so a crash never leaves a half-written file."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=p.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise

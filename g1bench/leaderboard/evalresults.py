"""Hub-native eval results: the benchmark's ``eval.yaml`` and a model's ``.eval_results/g1bench.yaml``.

The formats follow the Hub's "Evaluation Results" documentation (huggingface.co/docs/hub/eval-results, a
work-in-progress Hub feature, read in 2026):

* A **benchmark** is a dataset repo with an ``eval.yaml`` at its root, validated by the Hub at push time:
  ``name``, ``description``, ``evaluation_framework`` and ``tasks``, a list of ``{id, config, split}`` (one
  task per leaderboard the benchmark shows). g1bench declares one task per game of the ``paper`` suite plus
  an ``overall`` task; each task's config holds the episodes it evaluates (the suite's seeds and start-state
  hashes). The Hub lists only allow-listed benchmarks whose ``evaluation_framework`` it knows (the list is
  ``EVALUATION_FRAMEWORKS`` in huggingface.js ``packages/tasks/src/eval.ts``); ``g1bench`` must be added
  there before the Hub shows this benchmark's leaderboard.
* A **score** lives in the model's repo under ``.eval_results/`` as a YAML list of entries::

      - dataset:
          id: ORG/NAME          # required: the benchmark dataset
          task_id: "2048"       # required: a task id of its eval.yaml
          revision: <commit>    # optional: the dataset commit
        value: 742.3            # required: the metric value
        date: "2026-01-15"      # optional: ISO-8601 date or datetime
        source:                 # optional: attribution; url required when given
          url: https://...
          name: ...
          user: ...
        notes: "..."            # optional: setup details
        verifyToken: ...        # optional: only for runs on HF's own jobs (g1bench never writes it)

  Anyone may open a pull request adding such a file to a model repo; while open it shows as
  community-provided. ``g1bench push --model-pr`` opens one (``create_pr=True``).

:func:`validate_benchmark` and :func:`validate_eval_results` check both formats (the schema below is
derived from that documentation); tests validate every file g1bench writes with them.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any, Mapping

from .paper import PAPER_GAMES

#: the evaluation framework named in eval.yaml
FRAMEWORK = "g1bench"
#: the file a model PR adds
EVAL_RESULTS_PATH = ".eval_results/g1bench.yaml"
#: the suite the benchmark's tasks are defined on
BENCHMARK_SUITE = "paper"
OVERALL_TASK = "overall"
SPLIT = "test"

_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")
_ENTRY_KEYS = {"dataset", "value", "verifyToken", "date", "source", "notes"}
_DATASET_KEYS = {"id", "task_id", "revision"}
_SOURCE_KEYS = {"url", "name", "user"}


class EvalYamlError(ValueError):
    """A benchmark eval.yaml or a model's eval results file does not follow the Hub's format."""


def task_config(task_id: str) -> str:
    """The dataset config a benchmark task evaluates on (``paper`` for overall, ``paper-<game>`` per game)."""
    return BENCHMARK_SUITE if task_id == OVERALL_TASK else f"{BENCHMARK_SUITE}-{task_id}"


def benchmark_tasks() -> list[dict[str, str]]:
    """The tasks of g1bench's eval.yaml: ``overall`` then one per game of the paper suite."""
    return [{"id": t, "config": task_config(t), "split": SPLIT} for t in (OVERALL_TASK, *PAPER_GAMES)]


def benchmark_yaml() -> dict[str, Any]:
    """g1bench's ``eval.yaml`` as data."""
    return {
        "name": "g1bench",
        "description": ("VLM-Gym re-implemented (G1, arXiv 2505.13426): vision-language models play 2048, Shisen-Sho, "
                        "Shisen-Sho with natural-image tiles and Swap from rendered frames, under the paper's protocol "
                        "(the `paper` suite: per game 10 episodes x 100 steps). Task `overall` is the mean over games of "
                        "each game's score normalised between g1bench's random and oracle baselines "
                        "(g1bench-overall/1); each game task is the paper metric (2048: merge score over 100 steps; "
                        "tile games: successful moves in 100 steps). Results are verified by replaying every step."),
        "evaluation_framework": FRAMEWORK,
        "tasks": benchmark_tasks(),
    }


def dump_yaml(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def load_yaml(text: str | bytes, where: str) -> Any:
    """YAML text parsed safely (no tags, no objects); EvalYamlError when it is not YAML."""
    import yaml

    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise EvalYamlError(f"{where}: not valid YAML ({str(e).splitlines()[0]})") from None


def validate_benchmark(data: Any, where: str = "eval.yaml") -> dict[str, Any]:
    """Check a benchmark's eval.yaml (as parsed); return it or raise EvalYamlError naming the field."""
    if not isinstance(data, Mapping):
        raise EvalYamlError(f"{where}: must be a mapping, got {type(data).__name__}")
    for key in ("name", "description", "evaluation_framework"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise EvalYamlError(f"{where}: {key} must be non-empty text")
    tasks = data.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise EvalYamlError(f"{where}: tasks must be a non-empty list")
    seen = set()
    for i, t in enumerate(tasks):
        if not isinstance(t, Mapping):
            raise EvalYamlError(f"{where}: tasks[{i}] must be a mapping")
        for key in ("id", "config", "split"):
            if not isinstance(t.get(key), str) or not t[key]:
                raise EvalYamlError(f"{where}: tasks[{i}].{key} must be non-empty text (quote ids such as \"2048\")")
        if t["id"] in seen:
            raise EvalYamlError(f"{where}: tasks[{i}].id {t['id']!r} is repeated")
        seen.add(t["id"])
    return dict(data)


def _is_date(value: Any) -> bool:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return True  # an unquoted YAML date
    return isinstance(value, str) and bool(_DATE.fullmatch(value))


def validate_eval_results(data: Any, where: str = EVAL_RESULTS_PATH,
                          benchmark: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Check a model's ``.eval_results/*.yaml`` (as parsed); return it or raise EvalYamlError.

    Args:
        benchmark: ``{dataset id: parsed eval.yaml}`` to also check every ``task_id`` against its tasks.
    """
    if not isinstance(data, list) or not data:
        raise EvalYamlError(f"{where}: must be a non-empty list of results")
    for i, e in enumerate(data):
        at = f"{where}[{i}]"
        if not isinstance(e, Mapping):
            raise EvalYamlError(f"{at}: must be a mapping")
        unknown = set(e) - _ENTRY_KEYS
        if unknown:
            raise EvalYamlError(f"{at}: unknown keys {sorted(unknown)} (allowed: {sorted(_ENTRY_KEYS)})")
        ds = e.get("dataset")
        if not isinstance(ds, Mapping):
            raise EvalYamlError(f"{at}.dataset: required mapping with id and task_id")
        if set(ds) - _DATASET_KEYS:
            raise EvalYamlError(f"{at}.dataset: unknown keys {sorted(set(ds) - _DATASET_KEYS)}")
        if not isinstance(ds.get("id"), str) or not _REPO.fullmatch(ds["id"]):
            raise EvalYamlError(f"{at}.dataset.id: required, a Hub dataset id ORG/NAME")
        if not isinstance(ds.get("task_id"), str) or not ds["task_id"]:
            raise EvalYamlError(f"{at}.dataset.task_id: required text (a task id of the benchmark's eval.yaml)")
        if "revision" in ds and (not isinstance(ds["revision"], str) or not ds["revision"]):
            raise EvalYamlError(f"{at}.dataset.revision: must be text (a dataset commit)")
        value = e.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise EvalYamlError(f"{at}.value: required, a finite number")
        if "date" in e and not _is_date(e["date"]):
            raise EvalYamlError(f"{at}.date: must be an ISO-8601 date or datetime, got {e['date']!r}")
        for key in ("notes", "verifyToken"):
            if key in e and not isinstance(e[key], str):
                raise EvalYamlError(f"{at}.{key}: must be text")
        if "source" in e:
            src = e["source"]
            if not isinstance(src, Mapping):
                raise EvalYamlError(f"{at}.source: must be a mapping with url")
            if set(src) - _SOURCE_KEYS:
                raise EvalYamlError(f"{at}.source: unknown keys {sorted(set(src) - _SOURCE_KEYS)}")
            if not isinstance(src.get("url"), str) or not re.match(r"https?://", src["url"]):
                raise EvalYamlError(f"{at}.source.url: required when source is given, an http(s) URL")
            for key in ("name", "user"):
                if key in src and not isinstance(src[key], str):
                    raise EvalYamlError(f"{at}.source.{key}: must be text")
        if benchmark is not None and ds["id"] in benchmark:
            ids = {t["id"] for t in benchmark[ds["id"]].get("tasks", [])}
            if ds["task_id"] not in ids:
                raise EvalYamlError(f"{at}.dataset.task_id: {ds['task_id']!r} is not a task of {ds['id']} "
                                    f"(tasks: {sorted(ids)})")
    return list(data)


def model_eval_results(dataset_id: str, revision: str | None, values: Mapping[str, float], *, date: str | None,
                       source_url: str, notes: Mapping[str, str], user: str | None = None) -> list[dict[str, Any]]:
    """The entries of ``.eval_results/g1bench.yaml`` for one verified entry (``values`` and ``notes``: per task id)."""
    out = []
    for task in (OVERALL_TASK, *PAPER_GAMES):
        if task not in values or values[task] is None:
            continue
        ds: dict[str, Any] = {"id": dataset_id, "task_id": task}
        if revision:
            ds["revision"] = revision
        e: dict[str, Any] = {"dataset": ds, "value": round(float(values[task]), 4)}
        if date:
            e["date"] = date
        e["source"] = {"url": source_url, "name": "g1bench verified entry (step log and results)"}
        if user:
            e["source"]["user"] = user
        if notes.get(task):
            e["notes"] = notes[task]
        out.append(e)
    return out


__all__ = ["FRAMEWORK", "EVAL_RESULTS_PATH", "BENCHMARK_SUITE", "OVERALL_TASK", "SPLIT", "EvalYamlError",
           "task_config", "benchmark_tasks", "benchmark_yaml", "dump_yaml", "load_yaml", "validate_benchmark",
           "validate_eval_results", "model_eval_results"]

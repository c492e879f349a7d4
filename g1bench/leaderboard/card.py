"""The results store's own files: its card (``README.md`` with ``configs``), ``eval.yaml`` and the paper
suite's episodes (the data each benchmark task evaluates on).

A store gets these once, when its first entry is written and they are missing; after that they belong
to the store's maintainers (``leaderboard/build.py`` regenerates the published leaderboard's card).
"""

from __future__ import annotations

import functools
from typing import Any

from .. import __version__
from .entry import ENTRIES_DIR, FRAMES_DIR, ROWS_FILE, STEPS_FILE
from .evalresults import BENCHMARK_SUITE, OVERALL_TASK, benchmark_tasks, benchmark_yaml, dump_yaml
from .paper import PAPER_GAMES
from .scoring import OVERALL_FORMULA, OVERALL_TEXT

SUITES_DIR = "suites"
CARD = "README.md"
EVAL_YAML = "eval.yaml"


def suite_files(suite_name: str = BENCHMARK_SUITE) -> dict[str, bytes]:
    """``{path: parquet bytes}``: a suite's episodes (seeds, step budgets, start-state hashes), all and per game."""
    import pyarrow as pa

    from ..data.sampling import manifest_rows
    from ..eval.suites import get_suite
    from .entry import parquet_bytes

    suite = get_suite(suite_name)
    rows = manifest_rows(suite_name)
    base = f"{SUITES_DIR}/{suite.suite_id}"
    out = {f"{base}/episodes.parquet": parquet_bytes(pa.Table.from_pylist(rows))}
    for game in PAPER_GAMES:
        mine = [r for r in rows if r["game"] == game]
        if mine:
            out[f"{base}/{game}.parquet"] = parquet_bytes(pa.Table.from_pylist(mine))
    return out


def front_matter(suite_paths: dict[str, bytes]) -> dict[str, Any]:
    """The card's YAML: the ``results`` and ``steps`` configs over every entry, and one config per benchmark task."""
    configs: list[dict[str, Any]] = [
        {"config_name": "results", "data_files": [{"split": "train", "path": f"{ENTRIES_DIR}/*/*/{ROWS_FILE}"}],
         "default": True},
        {"config_name": "steps", "data_files": [{"split": "train", "path": f"{ENTRIES_DIR}/*/*/{STEPS_FILE}"}]},
    ]
    for task in benchmark_tasks():
        name = "episodes" if task["id"] == OVERALL_TASK else task["id"]
        path = next((p for p in suite_paths if p.endswith(f"/{name}.parquet")), None)
        if path:
            configs.append({"config_name": task["config"], "data_files": [{"split": task["split"], "path": path}]})
    return {
        "license": "apache-2.0",
        "pretty_name": "g1bench leaderboard: verified results",
        "tags": ["g1bench", "leaderboard", "benchmark", "vision-language-models", "games", "evaluation"],
        "task_categories": ["visual-question-answering", "reinforcement-learning"],
        "configs": configs,
    }


CARD_BODY = """# g1bench leaderboard: verified results

Every entry is one evaluation run of [g1bench](https://github.com/g1bench/g1bench) (VLM-Gym from the G1 paper,
arXiv 2505.13426) that was **verified before it was added and is verified again whenever the leaderboard is
aggregated**: replaying its step log through the games reproduces every recorded step and every figure of its
`results.json`. Runs that do not verify, are incomplete, are shards, or use a custom suite are refused.

## Load it

```python
from datasets import load_dataset
results = load_dataset("{repo}", "results", split="train")   # one row per (run, game, difficulty)
steps = load_dataset("{repo}", "steps", split="train")       # every answered step of every run
episodes = load_dataset("{repo}", "paper-2048", split="test")  # what a benchmark task evaluates on
```

```bash
g1bench leaderboard --repo {repo}                 # the aggregated table (re-verifies new entries)
g1bench leaderboard --repo {repo} --format csv    # or md, json
g1bench push RUN_DIR --repo {repo}                # verify a run and add it (re-pushing it writes nothing)
g1bench push RUN_DIR --repo {repo} --model-pr     # also open a PR on the model's repo with .eval_results/g1bench.yaml
```

## Layout

| path | what |
|---|---|
| `{entries}/<suite_id>/<model>--<hash>/run.json` | the run's settings: suite (episodes, hash), policy, options |
| `{entries}/<suite_id>/<model>--<hash>/results.json` | the run's results (schema `g1bench-results/2`) |
| `{entries}/<suite_id>/<model>--<hash>/{steps}` | the step log: answers, parsed actions, rewards, state hashes (config `steps`) |
| `{entries}/<suite_id>/<model>--<hash>/{rows}` | one row per (game, difficulty) of `results.json` (config `results`) |
| `{frames}/<id[:2]>/<id>.png` | frames, when pushed with `--frames` (shared by entries; named by their render inputs) |
| `{suites}/<suite_id>/*.parquet` | the benchmark suite's episodes: seeds, budgets, start-state hashes |
| `eval.yaml` | the Hub benchmark declaration: task `overall` and one task per game |

`<hash>` is a content hash of the run: the same run always gets the same entry.

## Scores

* Per game: the paper's metric (2048: merge score summed over the policy steps; tile games: successful moves)
  with its 95% percentile-bootstrap interval over episodes.
* Overall ({formula}): {overall}
* Ranks are given only where differences are meaningful: a model ranks below another only when the other's overall
  score is higher at 95% (non-overlapping intervals, or the paired bootstrap over the episodes' shared seeds);
  otherwise the two share a rank (marked `=`).
* The paper's reported numbers are shown apart, marked "reported in the paper"; they are not verified.

Written by g1bench {version}.
"""


@functools.lru_cache(maxsize=4)
def store_files(repo: str = "ORG/NAME", standings: str | None = None) -> dict[str, bytes]:
    """Every non-entry file of a new store: ``README.md``, ``eval.yaml`` and the suite episodes.

    Args:
        repo: the name the card's examples use.
        standings: Markdown of the current table, added to the card as its last section (the published
            leaderboard's card has it; a store's first card does not).
    """
    suites = suite_files(BENCHMARK_SUITE)
    body = CARD_BODY.format(repo=repo, entries=ENTRIES_DIR, steps=STEPS_FILE, rows=ROWS_FILE, frames=FRAMES_DIR,
                            suites=SUITES_DIR, formula=OVERALL_FORMULA, overall=OVERALL_TEXT, version=__version__)
    if standings:
        body += "\n## Standings\n\n" + standings.rstrip("\n") + "\n"
    card = "---\n" + dump_yaml(front_matter(suites)) + "---\n\n" + body
    return {CARD: card.encode(), EVAL_YAML: dump_yaml(benchmark_yaml()).encode(), **suites}


__all__ = ["store_files", "suite_files", "front_matter", "CARD", "EVAL_YAML", "SUITES_DIR"]

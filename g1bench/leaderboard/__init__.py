"""The g1bench leaderboard: verified results in a store (a Hub dataset repo or a local folder), aggregated
into one table for open and closed models, and Hub-native eval results.

The API the leaderboard Space calls::

    from g1bench.leaderboard import open_store, aggregate

    store = open_store("ORG/g1bench-results")   # or a folder; None: $G1BENCH_RESULTS_REPO, else the local store
    lb = aggregate(store)                        # re-verifies new entries, each in a process under its budget
                                                 # (cached by content); skips bad ones with the reason
    lb.table("paper")                            # rows (plain dicts) in display order: measured, baselines, paper
    lb.to_dataframe("paper")                     # the same as a pandas DataFrame
    lb.skipped                                   # [{"entry_id", "reason"}] for entries left out
    lb.heatmaps(out_dir)                         # grid suite: perception x reasoning cells per model (data + PNG)
    lb.perception_plot(out_dir)                  # perception accuracy vs score across models (data + PNG)
    push_run("runs/my-model", store)             # verify and add a run (PushRefused says why not)
    verify_under_budget("runs/my-model")         # a Verification, reached in a process under the run's budget
    store.entries()                              # EntryRef per entry
    store.fetch_entry(entry_id)                  # the entry as a run directory (verify, report, replay)

Modules: :mod:`.store` (stores), :mod:`.entry` (entry files and the lossless step-log codec), :mod:`.push`
(``g1bench push``, model-card PRs), :mod:`.verdict` (judging one entry), :mod:`.isolation` (verifying in a process
under a budget), :mod:`.provenance` (names, dates, model records), :mod:`.aggregation` (the table),
:mod:`.scoring` (overall score, intervals, ranks), :mod:`.evalresults` (eval.yaml, .eval_results),
:mod:`.plots`, :mod:`.paper` (the paper's reported rows), :mod:`.card` (the store's card).

Attributes are imported on first use, so ``import g1bench.leaderboard.paper`` stays light.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "open_store": "store", "Store": "store", "LocalStore": "store", "HubStore": "store", "EntryRef": "store",
    "StoreError": "store", "aggregate": "aggregation", "Leaderboard": "aggregation", "push_run": "push",
    "verify_under_budget": "isolation", "VerifierPool": "isolation",
    "PushRefused": "push", "PushResult": "push", "open_model_pr": "push", "check_run": "push",
    "EntryError": "entry", "PAPER_ROWS": "paper", "OVERALL_FORMULA": "scoring",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'g1bench.leaderboard' has no attribute {name!r}")

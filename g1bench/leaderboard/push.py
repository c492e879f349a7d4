"""``g1bench push``: verify a run, add it to a results store, and optionally open the model-card PR.

A run is pushed only if ``g1bench verify`` passes and it is a whole run of a built-in suite: a run that does
not verify, is incomplete, is a shard, or whose suite is unknown or custom is refused with the exact
reason (:class:`PushRefused`). Pushing the same run again writes nothing (its entry id is its content hash).

``--model-pr`` then opens a pull request on the model's Hub repo adding ``.eval_results/g1bench.yaml`` (the
Hub's Eval Results format, see :mod:`g1bench.leaderboard.evalresults`): one result per task of the benchmark
(each game of the ``paper`` suite, and ``overall`` when the store has the baselines to normalise with), with
the results repo's commit as dataset revision and the entry's URL as source.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Callable

from .entry import EntryError, entry_from_run_dir
from .store import HubStore, PutResult, Store, StoreError, open_store
from .verdict import refusal_reason


class PushRefused(ValueError):
    """The run is not pushed; the message is the exact reason (one line)."""


@dataclass
class PushResult:
    """What :func:`push_run` did.

    Attributes:
        entry_id: the run's entry id.
        changed: False when the store already held this entry (nothing written).
        url: where the entry can be seen.
        commit: the Hub commit holding the entry (Hub stores).
        store: the store's name.
        summary: ``g1bench verify``'s one-line verdict.
        frames_added: frames written (``--frames``).
    """

    entry_id: str
    changed: bool
    url: str
    commit: str | None
    store: str
    summary: str
    frames_added: int = 0


def check_run(run_dir: str | os.PathLike, frames: bool = False):
    """Verify a run for the leaderboard; returns the :class:`~g1bench.eval.verify.Verification`.

    Raises:
        PushRefused: it does not verify, is a shard, is incomplete, or its suite is not a built-in suite.
    """
    from ..core.files import clean_text
    from ..eval.verify import verify_run

    v = verify_run(run_dir, check_frames=frames)
    where = clean_text(str(run_dir), keep_newlines=False)
    if not v.ok:
        raise PushRefused(f"{where} does not verify: {v.problems[0] if v.problems else 'unknown reason'}")
    reason = refusal_reason(v, where, run_dir=where)
    if reason:
        raise PushRefused(reason)
    return v


def push_run(run_dir: str | os.PathLike, store: "Store | str | None" = None, *, frames: bool = False,
             log: Callable[[str], None] | None = None) -> PushResult:
    """Verify ``run_dir`` and add it to ``store`` (a :class:`Store` or what :func:`open_store` takes).

    Raises:
        PushRefused: the run is not taken (the message says why).
        StoreError: the store cannot be written (no token, no access, a full disk).
    """
    store = open_store(store)
    v = check_run(run_dir, frames=frames)
    return add_verified_run(run_dir, store, v, frames=frames)


def add_verified_run(run_dir: str | os.PathLike, store: Store, verification: Any, *, frames: bool = False,
                     entry: Any = None) -> PushResult:
    """:func:`push_run`'s second half: add a run that the caller has verified with :func:`check_run`'s rules (the
    Space verifies a submission under a time and memory budget first). ``entry``: the run's entry if already made.

    Raises:
        PushRefused: the run cannot be made into an entry (or has no frames when ``frames`` is asked).
        StoreError: the store cannot be written.
    """
    if isinstance(store, HubStore):
        _require_token(store)
    if entry is None:
        try:
            entry = entry_from_run_dir(run_dir, frames=frames)
        except EntryError as e:
            raise PushRefused(str(e)) from None
    if frames and not entry.frames:
        raise PushRefused(f"{run_dir} has no frames to push (it was run with --no-frames)")
    put: PutResult = store.put(entry, frames=frames)
    _remember_verdict(entry)
    return PushResult(entry.entry_id, put.changed, put.url, put.commit, store.describe(), verification.summary(),
                      put.frames_added)


def _remember_verdict(entry) -> None:
    """Cache the verdict on the entry just written, keyed by its exact bytes: this process has verified the
    run they were made from, so aggregating here does not replay it again (other machines still do)."""
    from .aggregation import VerdictCache, verdict_cache_path
    from .entry import content_key
    from .verdict import VERDICT_VERSION, summarize_entry
    from .. import __version__

    try:
        cache = VerdictCache(verdict_cache_path())
        summary = summarize_entry(entry.entry_id, entry.run, entry.results, entry.steps)
        cache.put(content_key(entry.entry_id, entry.files),
                  {"version": VERDICT_VERSION, "g1bench": __version__, "ok": True, "reason": None, "summary": summary})
        cache.save()
    except OSError:
        pass  # a cache that cannot be written only costs a replay later


def _require_token(store: HubStore) -> None:
    from ..data.errors import DataError
    from ..data.hub import _token

    try:
        _token(store._token)
    except DataError as e:
        raise StoreError(str(e)) from None


def eval_results_for(store: HubStore, entry_id: str, log: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """The ``.eval_results/g1bench.yaml`` entries for a stored entry of the paper suite (validated)."""
    from .. import __version__
    from ..eval.metrics import METRIC
    from .aggregation import aggregate
    from .evalresults import BENCHMARK_SUITE, OVERALL_TASK, model_eval_results, validate_eval_results
    from .paper import PAPER_GAMES
    from .scoring import OVERALL_FORMULA

    lb = aggregate(store, log=log or (lambda line: None))
    row = next((r for r in lb.rows if r.get("entry_id") == entry_id), None)
    if row is None:
        reason = next((s["reason"] for s in lb.skipped if s["entry_id"] == entry_id), "not found in the store")
        raise PushRefused(f"entry {entry_id} is not on the leaderboard: {reason}")
    info = lb.suites[row["suite_id"]]
    if info["name"] != BENCHMARK_SUITE:
        raise PushRefused(f"--model-pr: the Hub benchmark's tasks are the {BENCHMARK_SUITE} suite's; this run is "
                          f"{row['suite_id']} (run `g1bench eval --suite {BENCHMARK_SUITE}`)")
    values = {g: row.get(g) for g in PAPER_GAMES}
    values[OVERALL_TASK] = row.get("overall")
    head = f"g1bench {__version__}, suite {row['suite_id']} (hash {row['suite_hash']}), verified entry {entry_id}"
    notes = {OVERALL_TASK: f"{head}; {OVERALL_FORMULA}: mean over games of the score normalised between g1bench's "
                           "random (0) and oracle (100) baselines"}
    for g in PAPER_GAMES:
        notes[g] = f"{head}; paper metric ({METRIC[g]}), mean of 10 episodes x 100 steps"
    entries = model_eval_results(store.repo_id, store.commit, values, date=row.get("date") or None,
                                 source_url=store.entry_url(entry_id, store.commit), notes=notes)
    return validate_eval_results(entries)


def open_model_pr(store: HubStore, entry_id: str, model_repo: str, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Open a pull request on ``model_repo`` adding ``.eval_results/g1bench.yaml`` for a stored entry.

    Returns ``{"pr_url", "pr_num", "path", "yaml"}``.

    Raises:
        PushRefused: the store is not on the Hub, or the entry is not of the paper suite.
        StoreError: the Hub refused the pull request (no such model repo, no access).
    """
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    from .evalresults import EVAL_RESULTS_PATH, dump_yaml
    from .identity import is_repo_id

    if not isinstance(store, HubStore):
        raise PushRefused("--model-pr needs a Hub results repo (--repo ORG/NAME): the eval results name the "
                          "benchmark dataset on the Hub")
    if not is_repo_id(model_repo):
        raise PushRefused(f"--model-repo must look like ORG/NAME, got {model_repo!r}")
    entries = eval_results_for(store, entry_id, log)
    text = ("# g1bench results (https://github.com/g1bench/g1bench), written by `g1bench push --model-pr`.\n"
            "# Each value is verified by replaying the run's step log; the source URL holds it.\n" + dump_yaml(entries))
    body = (f"This PR adds the [g1bench]({store.endpoint}/datasets/{store.repo_id}) results of a verified run "
            f"(entry `{entry_id}`) in the Hub's Eval Results format (`{EVAL_RESULTS_PATH}`).\n\n"
            f"Every number is recomputed by `g1bench verify` from the run's step log, which is stored at "
            f"{store.entry_url(entry_id, store.commit)}.")
    try:
        info = store.api.create_commit(model_repo, [CommitOperationAdd(EVAL_RESULTS_PATH, text.encode())],
                                       repo_type="model", create_pr=True, commit_message="Add g1bench evaluation results",
                                       commit_description=body)
    except HfHubHTTPError as e:
        raise StoreError(f"the Hub refused the pull request on {model_repo}: {str(e).splitlines()[0]}") from None
    if info.pr_url is None:
        raise StoreError(f"{model_repo} already has these results ({EVAL_RESULTS_PATH} unchanged); no pull request opened")
    return {"pr_url": info.pr_url, "pr_num": info.pr_num, "path": EVAL_RESULTS_PATH, "yaml": text}


# -- the command -----------------------------------------------------------------------------------------
def cmd_push(args) -> int:
    """``g1bench push RUN_DIR``."""
    from ..core.files import clean_text

    def fail(msg: str) -> int:
        print(f"error: {clean_text(msg, keep_newlines=False)}", file=sys.stderr)
        return 2

    try:
        store = open_store(args.repo)
        if args.model_pr:  # refuse before writing anything
            _check_model_pr(args, store)
        res = push_run(args.run, store, frames=args.frames)
    except (PushRefused, StoreError) as e:
        return fail(str(e))
    what = "pushed" if res.changed else "unchanged (already in the store)"
    print(f"{what}: {res.entry_id} -> {res.store}" + (f" (commit {res.commit[:12]})" if res.commit and res.changed else ""))
    print(f"  {res.summary}")
    print(f"  {res.url}")
    if args.frames:
        print(f"  frames added: {res.frames_added}")
    if args.model_pr:
        try:
            pr = open_model_pr(store, res.entry_id, args.model_repo)
        except (PushRefused, StoreError) as e:
            return fail(str(e))
        print(f"opened a pull request on {args.model_repo}: {pr['pr_url']} (adds {pr['path']})")
    return 0


def _check_model_pr(args, store: Store) -> None:
    """``--model-pr`` needs a Hub results repo, a paper-suite run and a model repo (given or from the run)."""
    from ..eval.results import ResultsError, load
    from .evalresults import BENCHMARK_SUITE
    from .identity import model_repo as repo_of

    if not isinstance(store, HubStore):
        raise PushRefused("--model-pr needs a Hub results repo (--repo ORG/NAME or G1BENCH_RESULTS_REPO): the eval "
                          "results name the benchmark dataset on the Hub")
    try:
        results = load(args.run)
    except ResultsError:
        return  # push_run reports the real problem
    suite = results["provenance"]["suite"]
    if suite["name"] != BENCHMARK_SUITE:
        raise PushRefused(f"--model-pr: the Hub benchmark's tasks are the {BENCHMARK_SUITE} suite's; this run is "
                          f"{suite['suite_id']} (run `g1bench eval --suite {BENCHMARK_SUITE}`)")
    if args.model_repo is None:
        args.model_repo = repo_of(results["provenance"]["policy"])
    if not args.model_repo:
        raise PushRefused("--model-pr: this run's model is not a Hub model; name its repo with --model-repo ORG/NAME")


def add_push_arguments(p) -> None:
    p.add_argument("--repo", metavar="ORG/NAME|PATH", default=None,
                   help="results store: a Hub dataset repo (ORG/NAME, or hf:ORG/NAME) or a local folder (an existing "
                        "path, or ./DIR, /DIR, local:DIR) (default: $G1BENCH_RESULTS_REPO, else the local store "
                        "$G1BENCH_RESULTS_DIR or ~/.local/share/g1bench/results)")


__all__ = ["PushRefused", "PushResult", "check_run", "push_run", "add_verified_run", "open_model_pr", "eval_results_for",
           "cmd_push", "add_push_arguments"]

"""``g1bench push``: verify a run, add it to a results store, and optionally open the model-card PR.

A run is pushed only if it verifies and the leaderboard would take it: a whole run of a built-in suite whose
provenance checks out (:mod:`g1bench.leaderboard.provenance`). A run that does not verify, is incomplete, is a
shard, whose suite is unknown or custom, or whose names, dates or backend records do not hold is refused with
the exact reason (:class:`PushRefused`). Pushing the same run again writes nothing (its entry id is its content
hash).

**Push stores what it verified.** The run's files are first copied into a private snapshot (sizes checked
before bytes); the snapshot is verified in a verifier process under its suite's budget
(:mod:`g1bench.leaderboard.isolation`), the entry is built there from the snapshot's bytes, and exactly those
entry files are stored, so a file swapped in the run directory during the push changes nothing. The verdict is
cached under the content key of those bytes.

``--model-pr`` then opens a pull request on the model repo the entry names (its displayed name, a Hub model
whose id and commit exist) adding ``.eval_results/g1bench.yaml`` (the Hub's Eval Results format, see
:mod:`g1bench.leaderboard.evalresults`): one result per task of the benchmark (each game of the ``paper``
suite, and ``overall``, normalised with the baselines computed here), with values read back from the entry
as stored in the Hub results repo, its commit as dataset revision and the entry's URL as source, worded as a
community result verified by replay.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .entry import ENTRY_FILES, EntryError, EntryFiles
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


def _where(run_dir: str | os.PathLike) -> str:
    from ..core.files import clean_text

    return clean_text(str(run_dir), keep_newlines=False)


def check_run(run_dir: str | os.PathLike, frames: bool = False, budget: Any = None):
    """Verify a run for the leaderboard (in a verifier process, under its suite's budget); returns the
    :class:`~g1bench.eval.verify.Verification`.

    Raises:
        PushRefused: it does not verify (or goes over its budget), is a shard, is incomplete, or its suite is not
            a built-in suite.
    """
    from .isolation import verify_under_budget

    where = _where(run_dir)
    v = verify_under_budget(run_dir, check_frames=frames, builtin_only=True, budget=budget)
    _refuse(v, where)
    return v


def _refuse(v, where: str) -> None:
    if not v.ok:
        if v.suite_kind == "custom" and v.problems and " the leaderboard takes the built-in suites only" in v.problems[0]:
            raise PushRefused(v.problems[0])
        raise PushRefused(f"{where} does not verify: {v.problems[0] if v.problems else 'unknown reason'}")
    reason = refusal_reason(v, where, run_dir=where)
    if reason:
        raise PushRefused(reason)


#: the files of a run directory that make an entry (frames come separately, with --frames)
RUN_FILES = ("run.json", "results.json", "steps.jsonl")


def snapshot_run(run_dir: str | os.PathLike, dest: str | os.PathLike, frames: bool = False) -> Path:
    """Copy a run's files into ``dest`` (a private folder), sizes checked before bytes: run.json and results.json
    within the JSON limit, the step log within what its suite can write, frames within the frame limit.

    Raises:
        PushRefused: a file is missing, special, or larger than it may be.
    """
    from ..core.files import FileFormatError, check_regular, loads
    from ..eval.budget import max_log_bytes, suite_work
    from .entry import MAX_JSON_BYTES, read_sized as read_bytes
    from .store import MAX_FRAME_BYTES

    src, dest = Path(run_dir), Path(dest)
    where = _where(run_dir)
    if not src.is_dir():
        raise PushRefused(f"{where} does not verify: {where} is not a run directory")
    (dest / "frames").mkdir(parents=True, exist_ok=True)
    limits = {"run.json": MAX_JSON_BYTES, "results.json": MAX_JSON_BYTES}
    try:
        run_bytes = read_bytes(src / "run.json", MAX_JSON_BYTES) if (src / "run.json").exists() else None
        work = suite_work(loads(run_bytes).get("suite")) if run_bytes is not None else None
    except (FileFormatError, AttributeError):
        work = None  # verification says what is wrong with it
    limits["steps.jsonl"] = max_log_bytes(work) if work is not None else MAX_JSON_BYTES
    for name in RUN_FILES:
        if not (src / name).exists():
            continue  # verification says it is missing
        try:
            (dest / name).write_bytes(read_bytes(src / name, limits[name]))
        except FileFormatError as e:
            raise PushRefused(f"{where} does not verify: {e}") from None
    if frames and (src / "frames").is_dir():
        for png in sorted((src / "frames").glob("*.png")):
            try:
                check_regular(png)
                if png.stat().st_size <= MAX_FRAME_BYTES:
                    (dest / "frames" / png.name).write_bytes(read_bytes(png, MAX_FRAME_BYTES))
            except (FileFormatError, OSError):
                continue  # a frame that cannot be copied is not pushed (replays draw it again)
    return dest


def prepare_entry(run_dir: str | os.PathLike, workdir: str | os.PathLike, frames: bool = False,
                  budget: Any = None) -> tuple[EntryFiles, Any, dict[str, Any]]:
    """Snapshot a run into ``workdir`` (a private folder), verify the snapshot and build its entry there:
    ``(entry, verification, verdict)``. The entry's files are the bytes built from the verified snapshot (in a
    verifier process, under the run's budget); its frames are the snapshot's (they live as long as ``workdir``).

    Raises:
        PushRefused: the leaderboard does not take the run (the message says why).
    """
    from ..core.files import FileFormatError
    from .entry import file_limit, read_sized as read_bytes
    from .isolation import VerifierPool, verification_from_data

    where = _where(run_dir)
    work = Path(workdir)
    snap = snapshot_run(run_dir, work / "run", frames=frames)
    job = {"kind": "push", "run_dir": str(snap), "check_frames": bool(frames), "builtin_only": True,
           "shown": where, "out": str(work / "entry")}
    res = VerifierPool(1, budget).run([job])[0].result
    v = verification_from_data(res.get("verification", res))
    v.run_dir = where
    _refuse(v, where)
    if res.get("refused"):
        raise PushRefused(res["refused"])
    try:
        files = {name: read_bytes(work / "entry" / name, file_limit(name)) for name in ENTRY_FILES}
    except FileFormatError as e:
        raise PushRefused(f"{where}: its entry could not be built: {e}") from None
    shipped = {fid: snap / "frames" / f"{fid}.png" for fid in res.get("frames", [])
               if (snap / "frames" / f"{fid}.png").is_file()}
    return EntryFiles(res["entry_id"], files, {}, {}, {}, shipped), v, res.get("verdict") or {}


def push_run(run_dir: str | os.PathLike, store: "Store | str | None" = None, *, frames: bool = False,
             log: Callable[[str], None] | None = None, budget: Any = None) -> PushResult:
    """Verify ``run_dir`` and add it to ``store`` (a :class:`Store` or what :func:`open_store` takes): its files
    are snapshotted, the snapshot verified under its budget, and exactly the entry built from it is stored.

    Raises:
        PushRefused: the run is not taken (the message says why).
        StoreError: the store cannot be written (no token, no access, a full disk).
    """
    store = open_store(store)
    if isinstance(store, HubStore):
        _require_token(store)
    with tempfile.TemporaryDirectory(prefix="g1bench-push-") as work:  # mode 0700: nobody else writes in it
        entry, v, verdict = prepare_entry(run_dir, work, frames=frames, budget=budget)
        if frames and not entry.frames:
            raise PushRefused(f"{_where(run_dir)} has no frames to push (it was run with --no-frames)")
        return store_entry(entry, v, verdict, store, frames=frames)


def store_entry(entry: EntryFiles, verification: Any, verdict: dict[str, Any], store: Store, *,
                frames: bool = False) -> PushResult:
    """:func:`push_run`'s second half: write an entry that :func:`prepare_entry` built (and verified) to ``store``
    and remember its verdict. The Space calls the two halves itself, to say whether a run is already on the board
    before it writes anything; call it while ``prepare_entry``'s work folder still holds the entry's frames.

    Raises:
        StoreError: the store cannot be written (no token, no access, a full disk).
    """
    if isinstance(store, HubStore):
        _require_token(store)
    put: PutResult = store.put(entry, frames=frames)
    _remember_verdict(entry, verdict)
    return PushResult(entry.entry_id, put.changed, put.url, put.commit, store.describe(), verification.summary(),
                      put.frames_added)


def _remember_verdict(entry: EntryFiles, verdict: dict[str, Any]) -> None:
    """Cache the verdict on the entry just written, keyed by the exact bytes written: the verifier process
    checked the snapshot they were built from, so aggregating here does not replay it again (other machines
    still do)."""
    from .aggregation import VerdictCache, valid_summary, verdict_cache_path
    from .entry import content_key

    if not verdict.get("ok") or not valid_summary(verdict.get("summary"), entry.entry_id):
        return
    try:
        cache = VerdictCache(verdict_cache_path())
        cache.put(content_key(entry.entry_id, entry.files), verdict)
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


def stored_verdict(store: Store, entry_id: str) -> dict[str, Any]:
    """The verdict on an entry as the store holds it now (read back from the store, verified in a verifier process
    unless this machine has a verdict on exactly those bytes)."""
    from .aggregation import VerdictCache, verdict_cache_path
    from .isolation import VerifierPool

    if isinstance(store, HubStore):
        store._refs = None  # read the store as it is now
    ref = store.get(entry_id)
    if ref.problem:
        return {"ok": False, "reason": ref.problem}
    try:
        key = ref.content_key()
    except EntryError as e:
        return {"ok": False, "reason": str(e)}
    cache = VerdictCache(verdict_cache_path())
    verdict = cache.get(key, entry_id)
    if verdict is None:
        job = {"kind": "entry", "entry_id": entry_id, "paths": {k: str(p) for k, p in ref.files.items()}, "key": key}
        verdict = VerifierPool(1).run([job])[0].result
        cache.put(key, verdict)
        try:
            cache.save()
        except OSError:
            pass
    return verdict


def eval_results_for(store: HubStore, entry_id: str, log: Callable[[str], None] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """``(model repo, the .eval_results/g1bench.yaml entries)`` of an entry of the paper suite as stored in a Hub
    results repo: values read back from the stored entry, verified, normalised with the baselines computed here;
    the model repo is the one the entry names, whose id and commit exist on the Hub."""
    from .. import __version__
    from ..eval.metrics import METRIC
    from . import scoring
    from .aggregation import builtin_suite_for, computed_baselines
    from .evalresults import BENCHMARK_SUITE, OVERALL_TASK, model_eval_results, validate_eval_results
    from .identity import CHECKED_HUB, resolve_models
    from .paper import PAPER_GAMES

    verdict = stored_verdict(store, entry_id)
    if not verdict.get("ok"):
        raise PushRefused(f"entry {entry_id} is not on the leaderboard: {verdict.get('reason')}")
    s = verdict["summary"]
    if s["suite_name"] != BENCHMARK_SUITE:
        raise PushRefused(f"--model-pr: the Hub benchmark's tasks are the {BENCHMARK_SUITE} suite's; this run is "
                          f"{s['suite_id']} (run `g1bench eval --suite {BENCHMARK_SUITE}`)")
    hub = s.get("hub_model")
    if not isinstance(hub, dict):
        raise PushRefused(f"--model-pr: entry {entry_id} is not of a Hub model (its model is {s['model']!r}); the pull "
                          "request goes to the model repo the entry names")
    key = f"{hub['repo']}@{hub['commit']}"
    found = resolve_models([hub], endpoint=store.endpoint, token=store._token).get(key)
    if found != CHECKED_HUB:
        raise PushRefused(f"--model-pr: model not resolved: {hub['repo']} at commit {hub['commit']} is not on "
                          f"{store.endpoint} ({found})")
    suite = builtin_suite_for(s["suite_name"], s["suite_id"], s["suite_hash"])
    values = {k.split("/")[0]: g["mean"] for k, g in s["groups"].items()}
    if suite is not None:
        base = computed_baselines(suite)
        anchor = scoring.anchors([{k: g["mean"] for k, g in base["random"]["groups"].items()}],
                                 [{k: g["mean"] for k, g in base["oracle"]["groups"].items()}])
        values[OVERALL_TASK] = scoring.overall({k: g["mean"] for k, g in s["groups"].items()}, anchor,
                                               {k: g["game"] for k, g in s["groups"].items()})
    head = (f"community result verified by replay: g1bench {__version__} replayed every step of the stored entry "
            f"{entry_id} (suite {s['suite_id']}, hash {s['suite_hash']}) and recomputed it; not a result published "
            "by the model's authors")
    notes = {OVERALL_TASK: f"{head}; {scoring.OVERALL_FORMULA}: mean over games of the score normalised between "
                           "g1bench's random (0) and oracle (100) baselines"}
    for g in PAPER_GAMES:
        notes[g] = f"{head}; paper metric ({METRIC[g]})"
    entries = model_eval_results(store.repo_id, store.commit, values, date=s.get("date") or None,
                                 source_url=store.entry_url(entry_id, store.commit), notes=notes)
    for e in entries:
        e["source"]["name"] = "g1bench community result (verified by replay)"
    return hub["repo"], validate_eval_results(entries)


def open_model_pr(store: HubStore, entry_id: str, model_repo: str | None = None,
                  log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Open a pull request on the model repo a stored entry names, adding ``.eval_results/g1bench.yaml``.

    Args:
        model_repo: must be the entry's model repo when given (a pull request goes nowhere else).

    Returns ``{"pr_url", "pr_num", "path", "yaml", "model_repo"}``.

    Raises:
        PushRefused: the store is not on the Hub, the entry is not of the paper suite, not verified, not of a Hub
            model that exists, or ``model_repo`` is another repo.
        StoreError: the Hub refused the pull request (no access).
    """
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    from .evalresults import EVAL_RESULTS_PATH, dump_yaml

    if not isinstance(store, HubStore):
        raise PushRefused("--model-pr needs a Hub results repo (--repo ORG/NAME): the eval results name the "
                          "benchmark dataset on the Hub")
    repo, entries = eval_results_for(store, entry_id, log)
    if model_repo is not None and model_repo != repo:
        raise PushRefused(f"--model-pr opens a pull request only on the model repo the entry names ({repo}), "
                          f"not on {str(model_repo)[:100]!r}")
    url = store.entry_url(entry_id, store.commit)
    text = ("# g1bench community results (https://github.com/g1bench/g1bench), written by `g1bench push --model-pr`.\n"
            "# Not published by the model's authors: each value was verified by replaying the run's step log, which "
            f"is stored at\n# {url}\n" + dump_yaml(entries))
    body = (f"This PR adds a **community result** of the [g1bench]({store.endpoint}/datasets/{store.repo_id}) "
            f"benchmark for this model, **verified by replay**, in the Hub's Eval Results format (`{EVAL_RESULTS_PATH}`)."
            f"\n\nThe values are read back from the stored entry `{entry_id}` and recomputed by `g1bench verify` from "
            f"its step log ({url}); they were not published by the model's authors.")
    try:
        info = store.api.create_commit(repo, [CommitOperationAdd(EVAL_RESULTS_PATH, text.encode())],
                                       repo_type="model", create_pr=True,
                                       commit_message="Add g1bench community results (verified by replay)",
                                       commit_description=body)
    except HfHubHTTPError as e:
        raise StoreError(f"the Hub refused the pull request on {repo}: {str(e).splitlines()[0]}") from None
    if info.pr_url is None:
        raise StoreError(f"{repo} already has these results ({EVAL_RESULTS_PATH} unchanged); no pull request opened")
    return {"pr_url": info.pr_url, "pr_num": info.pr_num, "path": EVAL_RESULTS_PATH, "yaml": text, "model_repo": repo}


# -- the command -----------------------------------------------------------------------------------------
def cmd_push(args) -> int:
    """``g1bench push RUN_DIR``."""
    from ..core.files import clean_text

    def fail(msg: str) -> int:
        print(f"error: {clean_text(msg, keep_newlines=False)}", file=sys.stderr)
        return 2

    from .isolation import VerifierError

    try:
        store = open_store(args.repo)
        if args.model_pr:  # refuse before writing anything
            _check_model_pr(args, store)
        res = push_run(args.run, store, frames=args.frames)
    except (PushRefused, StoreError, VerifierError) as e:
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
        except (PushRefused, StoreError, VerifierError) as e:
            return fail(str(e))
        print(f"opened a pull request on {pr['model_repo']}: {pr['pr_url']} (adds {pr['path']}: a community result, "
              "verified by replay)")
    return 0


def _check_model_pr(args, store: Store) -> None:
    """``--model-pr`` needs a Hub results repo, a paper-suite run of a Hub model, and no other model repo than the
    one the run names (checked again on the stored entry after the push)."""
    from ..eval.results import ResultsError, load
    from .evalresults import BENCHMARK_SUITE
    from .identity import model_name, model_repo as repo_of

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
    policy = results["provenance"]["policy"]
    repo = repo_of(policy)
    if not repo or repo != policy.get("policy"):
        raise PushRefused(f"--model-pr: this run's model {model_name(policy)!r} is not a Hub model it names as its "
                          "displayed name; a pull request goes only to that model's repo")
    if args.model_repo is not None and args.model_repo != repo:
        raise PushRefused(f"--model-pr opens a pull request only on the model repo the run names ({repo}), not on "
                          f"{str(args.model_repo)[:100]!r}")
    from .identity import CHECKED_HUB, hub_model, resolve_models

    hub = hub_model(policy)
    found = resolve_models([hub], endpoint=store.endpoint, token=store._token).get(f"{hub['repo']}@{hub['commit']}")
    if found != CHECKED_HUB:
        raise PushRefused(f"--model-pr: model not resolved: {hub['repo']} at commit {str(hub['commit'])[:40]} is not on "
                          f"{store.endpoint} ({found})")


def add_push_arguments(p) -> None:
    p.add_argument("--repo", metavar="ORG/NAME|PATH", default=None,
                   help="results store: a Hub dataset repo (ORG/NAME, or hf:ORG/NAME) or a local folder (an existing "
                        "path, or ./DIR, /DIR, local:DIR) (default: $G1BENCH_RESULTS_REPO, else the local store "
                        "$G1BENCH_RESULTS_DIR or ~/.local/share/g1bench/results)")


__all__ = ["PushRefused", "PushResult", "check_run", "push_run", "prepare_entry", "store_entry", "snapshot_run",
           "stored_verdict", "open_model_pr", "eval_results_for", "cmd_push", "add_push_arguments"]

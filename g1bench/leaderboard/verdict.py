"""Judging one entry: is it what it claims, and what does the leaderboard need from it.

:func:`check_entry` reads an entry's files, refuses before any replay what the leaderboard does not take
or no budget covers (a custom suite, declared work or a step table larger than its suite allows: counts
from run.json and the parquet metadata, see :mod:`g1bench.eval.budget`), checks that its id is the hash of
its content, verifies the run from its step log (:func:`g1bench.eval.verify.verify_data`: every step
replayed, every figure recomputed), refuses shards and incomplete runs, checks its provenance (names,
dates, what a model backend records: :mod:`g1bench.leaderboard.provenance`) and that the derived tables
(``steps.parquet``'s context columns, ``results.parquet``) say what ``results.json`` says. It returns a
plain-JSON verdict with the summary the aggregator needs, so verdicts can be cached by content.

It runs in verifier processes (:mod:`g1bench.leaderboard.isolation`): arguments and results are plain data.
"""

from __future__ import annotations

from typing import Any, Mapping

from .. import __version__

#: bump when what a verdict checks or holds changes (cached verdicts of another version are ignored)
VERDICT_VERSION = "g1bench-verdict/3"  # 3: budgets, provenance checks, the answers' fingerprint


def custom_suite_reason(where: str, suite_id: str) -> str:
    """Why the leaderboard does not take a run of a custom suite."""
    from ..eval.suites import SUITES

    what = f"the custom suite {suite_id}" if suite_id.startswith("custom-") else \
        f"the suite {suite_id}, which is not a built-in one"
    return f"{where} uses {what}: the leaderboard takes the built-in suites only ({', '.join(SUITES)})"


def refusal_reason(v: Any, where: str, run_dir: str | None = None) -> str | None:
    """Why the leaderboard does not take a verified run (a shard, incomplete, a custom suite), else None.
    ``run_dir``: the run's directory, named in the command that finishes an incomplete run."""
    import shlex

    run = v.run or {}
    shard = run.get("shard")
    if shard:
        return (f"{where} is shard {shard.get('index')}/{shard.get('count')} of {v.suite_id}: join the shards with "
                "`g1bench merge` and push the merged run")
    if not v.complete:
        r = v.results or {}
        return (f"{where} is incomplete ({r.get('episodes_done')}/{r.get('episodes_total')} episodes of {v.suite_id}): "
                f"finish it with `g1bench eval --resume -o {shlex.quote(run_dir) if run_dir else 'RUN_DIR'}`")
    if v.suite_kind != "built-in":
        return custom_suite_reason(where, v.suite_id)
    return None


def failed_verdict(reason: str) -> dict[str, Any]:
    """A verdict refusing an entry for ``reason``."""
    return {"version": VERDICT_VERSION, "g1bench": __version__, "ok": False, "reason": reason, "summary": None}


_fail = failed_verdict


def check_entry(entry_id: str, files: Mapping[str, bytes]) -> dict[str, Any]:
    """The verdict on one entry: ``{"ok", "reason", "summary"}`` (never raises on bad content)."""
    from ..core.files import clean_text
    from ..eval.budget import suite_work, work_problem
    from ..eval.suites import SUITES
    from ..eval.verify import verify_data
    from .entry import (RUN_FILE, EntryError, check_context, entry_hash, json_file, parse_entry_id, read_entry_files,
                        results_rows, results_schema, slug)
    from .identity import model_name
    from .provenance import provenance_problem

    try:
        parsed = parse_entry_id(entry_id)
        run = json_file(files[RUN_FILE], f"{entry_id}/{RUN_FILE}") if RUN_FILE in files else None
        suite = run.get("suite") if isinstance(run, dict) else None
        work = suite_work(suite)
        if work is not None:  # before reading the step table: what the suite declares bounds it
            if suite.get("name") not in SUITES:
                return _fail(custom_suite_reason("the entry", work.suite_id))
            problem = work_problem(work, policy=run.get("policy"))
            if problem:
                return _fail(problem)
        data = read_entry_files(entry_id, files, work=work)
        h = entry_hash(data.run, data.results, data.steps)
        v = verify_data(data.run, data.results, data.steps, source=entry_id)
        edited = "" if h == parsed["hash"] else f"its content hashes to {h}, not the {parsed['hash']} its id names"
        if not v.ok:
            return _fail(f"does not verify: {v.problems[0]}" + (f" ({edited})" if edited else ""))
        if edited:
            return _fail(f"{edited} (edited after it was pushed?)")
        refused = refusal_reason(v, "the entry")
        if refused:
            return _fail(refused)
        if v.suite_id != parsed["suite"]:
            return _fail(f"it sits under suite {parsed['suite']} but holds a run of {v.suite_id}")
        policy = data.results["provenance"]["policy"]
        model = model_name(policy)
        if slug(model) != parsed["slug"]:
            return _fail(f"its name says model {parsed['slug']!r} but the run's model is {model!r}")
        problem = provenance_problem(data.run, data.results, data.steps, v.suite_id.rsplit("-v", 1)[0])
        if problem:
            return _fail(problem)
        check_context(data.steps_table, entry_id, model, v.suite_id)
        if data.rows_table.schema != results_schema():
            return _fail("results.parquet does not have the results schema")
        if data.rows_table.to_pylist() != results_rows(entry_id, data.run, data.results):
            return _fail("results.parquet disagrees with results.json")
        summary = summarize_entry(entry_id, data.run, data.results, data.steps)
    except EntryError as e:
        return _fail(str(e))
    except (KeyError, TypeError, ValueError, ArithmeticError) as e:  # malformed content past the schema checks
        return _fail(f"malformed ({type(e).__name__}: {clean_text(e, keep_newlines=False)[:200]})")
    return {"version": VERDICT_VERSION, "g1bench": __version__, "ok": True, "reason": None, "summary": summary}


def check_run_entry(job: dict[str, Any]) -> dict[str, Any]:
    """What ``g1bench push`` asks of a verifier process: verify a run directory (its private snapshot), check what
    the leaderboard checks of it, and write its entry's files to ``job["out"]``. Returns the verification (as data),
    the entry id, its verdict and the frames it carries, or ``refused`` with the reason."""
    from pathlib import Path

    from ..eval.verify import verify_run
    from .entry import EntryError, entry_from_run_dir
    from .provenance import provenance_problem

    v = verify_run(job["run_dir"], check_frames=bool(job.get("check_frames")))
    out: dict[str, Any] = {"verification": v.to_data()}
    if not v.ok or refusal_reason(v, job.get("shown") or job["run_dir"]):
        return out
    try:
        entry = entry_from_run_dir(job["run_dir"], frames=bool(job.get("check_frames")))
    except EntryError as e:
        out["refused"] = str(e)
        return out
    where = job.get("shown") or job["run_dir"]
    problem = provenance_problem(entry.run, entry.results, entry.steps, v.suite_id.rsplit("-v", 1)[0])
    if problem:
        out["refused"] = f"{where}: {problem}"
        return out
    folder = Path(job["out"])
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in entry.files.items():
        (folder / name).write_bytes(data)
    summary = summarize_entry(entry.entry_id, entry.run, entry.results, entry.steps)
    out.update(entry_id=entry.entry_id, frames=sorted(entry.frames),
               verdict={"version": VERDICT_VERSION, "g1bench": __version__, "ok": True, "reason": None,
                        "summary": summary})
    return out


def check_entry_paths(entry_id: str, paths: Mapping[str, str], key: str | None = None) -> dict[str, Any]:
    """:func:`check_entry` on files given by path (what worker processes are sent). With ``key``, the files read
    must still be the ones the key was computed from (a verdict is cached under it)."""
    from pathlib import Path

    from .entry import EntryError, content_key, read_entry_dir

    parents = {Path(p).parent for p in paths.values()}
    try:
        if len(parents) != 1:
            raise EntryError(f"{entry_id}: its files are not in one folder")
        files = read_entry_dir(entry_id, parents.pop())
    except EntryError as e:
        return _fail(str(e))
    if key is not None and content_key(entry_id, files) != key:
        return _fail("its files changed while it was being checked; aggregate again")
    return check_entry(entry_id, files)


_GROUP_FIELDS = ("game", "difficulty", "mean", "ci95", "n", "steps", "success_rate", "parse_failure_rate",
                 "invalid_action_rate", "perception_answered", "perception_accuracy", "reasoning_accuracy",
                 "mean_output_tokens", "mean_input_tokens", "mean_latency_s", "cost_usd")
_TOTAL_FIELDS = ("steps", "parse_failure_rate", "invalid_action_rate", "perception_answered", "perception_accuracy",
                 "reasoning_accuracy", "mean_output_tokens", "mean_input_tokens", "mean_latency_s", "cost_usd")


def summarize_entry(entry_id: str, run: Mapping[str, Any], results: Mapping[str, Any],
                    steps: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """What the aggregator needs from a verified entry (plain JSON): identity, per-group figures, pooled
    rates over every step, and every episode's score in suite order (for the bootstrap)."""
    from ..eval.metrics import summarize_group
    from ..eval.rundir import episode_record, run_suite
    from .entry import run_date
    from .identity import anchor_of, hub_model, model_check, model_name, model_revision, model_type

    suite = run_suite(run)
    prov = results["provenance"]
    policy = prov["policy"]
    records = [episode_record(spec, steps[spec.episode_id][: spec.steps]) for spec in suite.episodes]
    scores: dict[str, list[float]] = {}
    for spec, rec in zip(suite.episodes, records):
        scores.setdefault(spec.group, []).append(float(rec["score"]))
    pooled = summarize_group(records)
    return {
        "entry_id": entry_id,
        "suite_id": suite.suite_id, "suite_name": suite.name, "suite_hash": prov["suite"]["hash"],
        "model": model_name(policy), "model_type": model_type(policy), "model_revision": model_revision(policy),
        "model_check": model_check(policy), "hub_model": hub_model(policy),
        "anchor": anchor_of(policy), "backend": str(policy.get("backend")),
        "date": run_date(results), "g1bench_version": str(prov.get("g1bench_version")),
        "groups": {k: {f: g.get(f) for f in _GROUP_FIELDS} for k, g in results["results"].items()},
        "totals": {f: pooled.get(f) for f in _TOTAL_FIELDS},
        "episode_scores": scores,
        "answers": answers_fingerprint(prov["suite"]["hash"], [steps.get(spec.episode_id, [])[: spec.steps]
                                                               for spec in suite.episodes]),
    }


def answers_fingerprint(suite_hash: str, episodes: list[list[dict[str, Any]]]) -> str:
    """What makes two runs the same run: the suite and the answer text of every step (in suite order).
    Names, timestamps, token counts and latencies do not count."""
    import hashlib
    import json

    h = hashlib.sha256(f"g1bench-answers/1|{suite_hash}".encode())
    for steps in episodes:
        h.update(b"\x1e" + json.dumps([s.get("answer") for s in steps], separators=(",", ":")).encode())
    return h.hexdigest()


def peak_rss_mb() -> float | None:
    """This process's peak resident memory (VmHWM; Linux), in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


__all__ = ["VERDICT_VERSION", "check_entry", "check_entry_paths", "refusal_reason", "summarize_entry", "peak_rss_mb",
           "failed_verdict", "custom_suite_reason", "answers_fingerprint", "check_run_entry"]

"""Aggregating a results store into the leaderboard table.

:func:`aggregate` reads every entry of a store (a Hub store syncs incrementally first), verifies each new one
again from its step log in a verifier process under the budget of its suite
(:mod:`g1bench.leaderboard.isolation`: :func:`g1bench.leaderboard.verdict.check_entry`), skips a bad entry with
the reason logged (whatever it does: an entry over its time or memory budget, or one that crashes its verifier,
is skipped like any other), and builds a :class:`Leaderboard`: per suite, one row per distinct verified run with
the paper metric per game and its 95% interval, the normalised overall score (:mod:`g1bench.leaderboard.scoring`),
perception and reasoning accuracy, parse-failure and invalid-action rates, tokens, latency and cost where known,
model type and what was checked of the model, revision, date and a link to the entry; ranks only where
differences are meaningful. g1bench's baseline runs and the paper's reported rows come in their own sections,
never mixed with measured rows.

**Baselines on demand.** The ``random`` and ``oracle`` baselines that anchor the overall score are computed
here for every built-in suite the store's entries use (same suite hash: the same episodes, rules and tiles as on
this machine), cached under the g1bench cache, and the score is normalised with those; a pushed baseline entry is
checked against them. So a store made where CIFAR-10 tiles load and one made offline with the bundled tiles
both get overall scores, each suite shown with its hash and tile source.

**One row per distinct run.** Entries whose answers are the same (same suite, same answer text at every step,
see :func:`g1bench.leaderboard.verdict.answers_fingerprint`) count once: for the first pushed (the store's order:
a Hub store's commits, a local store's write times; g1bench's own baselines come first), whatever their names or
timestamps. Later copies are listed as copies of it and take no rank.

**Models checked.** Hub models (id and commit) are looked up on the Hub when it can be reached; one that does not
exist is shown as "model not resolved" and not ranked.

Verdicts are cached by the entry's content (the SHA-256 of its id and the bytes of each of its files) and the
g1bench version, under the g1bench cache (``$G1BENCH_CACHE_DIR``), so aggregating again with nothing new replays
nothing. The cache is a local trust boundary: whoever can write it can make this machine show any verdict
(like whoever can write g1bench's code); a cached verdict that is not well formed is ignored and the entry
verified again.

Nothing read from an entry is executed or rendered as HTML; every text is plain, cleaned of control
characters (:func:`g1bench.leaderboard.identity.text`), and Markdown output escapes it.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import __version__
from ..core.files import FileFormatError, read_json, write_atomic
from . import scoring
from .entry import EntryError
from .identity import BASELINE_KIND, COPY_KIND, MEASURED, NOT_RESOLVED, md_escape, text
from .identity import row_kind as _kind
from .paper import PAPER_GAMES, PAPER_ROWS, REPORTED
from .store import DigestCache, EntryRef, Store, cache_dir, open_store
from .verdict import VERDICT_VERSION

#: verify new entries in several verifier processes from this many on (process start-up costs about a second)
POOL_FROM = 24
#: the flat numeric columns of a row, after the per-game ones
RATE_COLUMNS = ("perception_accuracy", "reasoning_accuracy", "parse_failure_rate", "invalid_action_rate",
                "mean_output_tokens", "mean_input_tokens", "mean_latency_s", "cost_usd")
#: the format of cached baselines (bump when what they hold changes)
BASELINES_VERSION = "g1bench-baselines/1"


# -- the verdict cache ---------------------------------------------------------------------------------
def _number(x: Any) -> bool:
    return x is None or (isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x))


def valid_summary(s: Any, entry_id: str | None = None) -> bool:
    """Whether a summary (cached, or computed) has the shape the table reads: an edited or damaged cache can
    neither crash the aggregation nor put one entry's row under another's id."""
    try:
        if not isinstance(s, dict) or (entry_id is not None and s.get("entry_id") != entry_id):
            return False
        for k in ("entry_id", "suite_id", "suite_name", "suite_hash", "model", "model_type", "answers"):
            if not isinstance(s.get(k), str):
                return False
        groups, totals, scores = s.get("groups"), s.get("totals"), s.get("episode_scores")
        if not isinstance(groups, dict) or not groups or not isinstance(totals, dict) or not isinstance(scores, dict):
            return False
        for g in groups.values():
            ci = g.get("ci95")
            if not isinstance(g.get("game"), str) or not isinstance(g.get("mean"), (int, float)) or \
                    not _number(g["mean"]) or not (isinstance(ci, list) and len(ci) == 2 and all(map(_number, ci))):
                return False
            if not all(_number(v) for k, v in g.items() if k not in ("game", "difficulty", "ci95")):
                return False
        if not all(_number(v) for v in totals.values()):
            return False
        return all(isinstance(v, list) and all(_number(x) and x is not None for x in v) for v in scores.values())
    except (AttributeError, TypeError):
        return False


class VerdictCache:
    """Verdicts keyed by (entry content key, g1bench version, verdict version), in one JSON file."""

    def __init__(self, path: str | os.PathLike | None):
        self.path = Path(path) if path is not None else None
        self.data: dict[str, Any] = {}
        self.dirty = False
        if self.path is not None and self.path.is_file():
            try:
                data = read_json(self.path, limit=1 << 30)
                if isinstance(data, dict) and data.get("version") == VERDICT_VERSION and isinstance(data.get("verdicts"), dict):
                    self.data = data["verdicts"]
            except FileFormatError:
                self.data = {}  # a damaged cache is rebuilt, never trusted

    @staticmethod
    def key(content_key: str) -> str:
        return f"{content_key}|{__version__}|{VERDICT_VERSION}"

    def get(self, content_key: str, entry_id: str | None = None) -> dict[str, Any] | None:
        """The cached verdict, or None (also when it is not well formed: the entry is then verified again)."""
        v = self.data.get(self.key(content_key))
        if not isinstance(v, dict) or not isinstance(v.get("ok"), bool):
            return None
        if v["ok"]:
            return v if valid_summary(v.get("summary"), entry_id) else None
        return v if isinstance(v.get("reason"), str) else None

    def put(self, content_key: str, verdict: dict[str, Any]) -> None:
        self.data[self.key(content_key)] = verdict
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, None, text=json.dumps({"version": VERDICT_VERSION, "verdicts": self.data},
                                                      separators=(",", ":"), allow_nan=False))
        self.dirty = False


def verdict_cache_path(root: str | os.PathLike | None = None) -> Path:
    return Path(root if root is not None else cache_dir()) / "leaderboard" / "verdicts.json"


# -- baselines on demand ---------------------------------------------------------------------------------
def builtin_suite_for(suite_name: str, suite_id: str, suite_hash: str):
    """The built-in suite of that name, id and hash on this machine, else None."""
    from ..eval.suites import SUITES, get_suite

    if suite_name not in SUITES:
        return None
    suite = get_suite(suite_name)
    return suite if suite.suite_id == suite_id and suite.hash() == suite_hash else None


def tile_source(suite) -> str | None:
    """The natural-image tiles a suite plays with here (and what they stand in for), None without that game."""
    sources = set()
    for key, v in suite.env_versions().items():
        cfg = v.get("config", {}) if isinstance(v, dict) else {}
        if "tile_source" in cfg:
            sub = (v.get("substituted") or {}).get("tile_source")
            sources.add(f"{cfg['tile_source']} (for {sub[0]}, unavailable here)" if sub else str(cfg["tile_source"]))
    return ", ".join(sorted(sources)) or None


def _baselines_path(suite_id: str, suite_hash: str, cache_root: str | os.PathLike | None) -> Path:
    return Path(cache_root if cache_root is not None else cache_dir()) / "leaderboard" / "baselines" / \
        f"{suite_id}--{suite_hash}--{__version__}.json"


def cached_baselines(suite_id: str, suite_hash: str, cache_root: str | os.PathLike | None = None
                     ) -> tuple[dict[str, dict[str, Any]], str | None] | None:
    """``(baselines, tile source)`` computed here before for that suite and hash, else None."""
    from .identity import ANCHORS

    path = _baselines_path(suite_id, suite_hash, cache_root)
    try:
        data = read_json(path) if path.is_file() else None
    except FileFormatError:
        return None
    if isinstance(data, dict) and data.get("format") == BASELINES_VERSION and data.get("hash") == suite_hash and \
            isinstance(data.get("baselines"), dict) and all(valid_summary(data["baselines"].get(a)) for a in ANCHORS):
        tiles = data.get("tiles")
        return data["baselines"], tiles if isinstance(tiles, str) else None
    return None


def computed_baselines(suite, cache_root: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """``{"random": summary, "oracle": summary}``: g1bench's two anchors run on ``suite`` here (deterministic;
    seconds), cached per suite hash and g1bench version (with the suite's tile source)."""
    import tempfile

    from ..eval.policies import OraclePolicy, RandomPolicy
    from ..eval.rundir import read_run_json, read_steps_file
    from ..eval.runner import Runner
    from .entry import make_entry
    from .identity import ANCHORS
    from .verdict import summarize_entry

    suite_hash = suite.hash()
    hit = cached_baselines(suite.suite_id, suite_hash, cache_root)
    if hit is not None:
        return hit[0]
    from ..tiles import quiet_fallback

    out = {}
    # the suite's tile source is shown with its table: no note about it while the baselines play
    with tempfile.TemporaryDirectory(prefix="g1bench-baseline-") as tmp, quiet_fallback():
        for name, policy in (("random", RandomPolicy(seed=ANCHORS["random"]["seed"])),
                             ("oracle", OraclePolicy(depth=ANCHORS["oracle"]["depth"]))):
            results = Runner(suite, policy, Path(tmp) / name, progress=False, save_frames=False).run()
            run = read_run_json(Path(tmp) / name)
            steps, _ = read_steps_file(Path(tmp) / name / "steps.jsonl")
            summary = summarize_entry(f"{suite.suite_id}/{name} (computed by g1bench {__version__})", run, results, steps)
            summary["computed"] = True
            summary["computed_entry_id"] = make_entry(run, results, steps).entry_id  # its id as an entry
            out[name] = summary
    try:
        path = _baselines_path(suite.suite_id, suite_hash, cache_root)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, {"format": BASELINES_VERSION, "suite_id": suite.suite_id, "hash": suite_hash,
                            "tiles": tile_source(suite), "baselines": out})
    except OSError:
        pass  # computed again next time
    return out


def _prefetch_baselines(entry_ids: list[str], cache_root) -> "threading.Thread | None":
    """Compute, while the entries are verified, the baselines of the built-in suites they name (their ids start
    with the suite id): the aggregation then finds them cached."""
    import threading

    from ..eval.suites import SUITES, get_suite

    suites = []
    for suite_id in sorted({e.split("/", 1)[0] for e in entry_ids}):
        name = suite_id.rsplit("-v", 1)[0]
        if name in SUITES and get_suite(name).suite_id == suite_id:
            suites.append(get_suite(name))
    if not suites:
        return None

    def work() -> None:
        for suite in suites:
            try:
                computed_baselines(suite, cache_root)
            except Exception:  # noqa: BLE001 - computed (and any failure reported) after the verification
                pass

    t = threading.Thread(target=work, name="g1bench-baselines", daemon=True)
    t.start()
    return t


def _means(summary: dict[str, Any]) -> dict[str, float]:
    return {k: g["mean"] for k, g in summary["groups"].items()}


# -- aggregation -----------------------------------------------------------------------------------------
def aggregate(store: "Store | str | os.PathLike | None" = None, *, workers: int | None = None, cache: bool = True,
              cache_root: str | os.PathLike | None = None, log: Callable[[str], None] | None = None,
              resolve: bool | None = None, budget: Any = None) -> "Leaderboard":
    """Read, re-verify and tabulate every entry of a store.

    Args:
        store: a :class:`~g1bench.leaderboard.store.Store`, or what :func:`~g1bench.leaderboard.store.open_store`
            takes (None: ``$G1BENCH_RESULTS_REPO``, else the local default store).
        workers: verifier processes for the new entries (default: 1, the CPU count from :data:`POOL_FROM` new
            entries on). Entries are never verified in this process.
        cache: use the cached verdicts (False verifies every entry again; fresh verdicts are cached either way).
        cache_root: the g1bench cache folder (default ``$G1BENCH_CACHE_DIR`` or ``~/.cache/g1bench``).
        log: called with one line per skipped entry (default: print to stderr).
        resolve: look Hub models up on the Hub (default: unless ``HF_HUB_OFFLINE``).
        budget: a :class:`~g1bench.eval.budget.Budget` for every entry instead of its suite's (tests).

    Returns:
        a :class:`Leaderboard`.

    Raises:
        StoreError: the store cannot be read.
    """
    import time

    log = log or (lambda line: print(line, file=sys.stderr))
    t0 = time.perf_counter()
    store = open_store(store)
    refs = store.entries()
    t1 = time.perf_counter()
    verdicts = VerdictCache(verdict_cache_path(cache_root))
    digests = DigestCache(verdict_cache_path(cache_root).with_name("digests.json"))
    summaries: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    todo: list[tuple[EntryRef, str]] = []
    hits = 0
    for ref in refs:
        if ref.problem:
            skipped.append({"entry_id": ref.entry_id, "reason": ref.problem})
            continue
        try:
            key = ref.content_key(digests)
        except EntryError as e:
            skipped.append({"entry_id": ref.entry_id, "reason": str(e)})
            continue
        v = verdicts.get(key, ref.entry_id) if cache else None
        hits += v is not None
        if v is None:
            todo.append((ref, key))
        elif v["ok"]:
            summaries.append(v["summary"])
        else:
            skipped.append({"entry_id": ref.entry_id, "reason": v["reason"]})
    stats: dict[str, Any] = {"entries": len(refs), "verified": len(todo), "cached": 0, "workers": 0}
    t2 = time.perf_counter()
    prefetch = _prefetch_baselines([ref.entry_id for ref, _ in todo], cache_root) if todo else None
    for (ref, key), v in zip(todo, _check_all(todo, workers, stats, budget)):
        verdicts.put(key, v)
        if v["ok"] and valid_summary(v.get("summary"), ref.entry_id):
            summaries.append(v["summary"])
        else:
            skipped.append({"entry_id": ref.entry_id, "reason": v.get("reason") or "its verdict is malformed"})
    verdicts.save()
    digests.save()
    if prefetch is not None:
        prefetch.join()
    t3 = time.perf_counter()
    baselines, tiles = _baselines(summaries, skipped, cache_root, log)
    t4 = time.perf_counter()
    summaries.sort(key=lambda s: s["entry_id"])
    skipped.sort(key=lambda s: s["entry_id"])
    for s in skipped:
        log(f"skipped {text(s['entry_id'], 200)}: {text(s['reason'], 400)}")
    checks = _resolve(summaries, store, cache_root, resolve)
    order = _push_order(summaries, baselines, store)
    urls = {s["entry_id"]: store.entry_url(s["entry_id"]) for s in summaries}
    stats["cached"] = hits
    stats["sync"] = dict(getattr(store, "last_sync", {}) or {})
    t5 = time.perf_counter()
    lb = Leaderboard.build(summaries, skipped, store.describe(), urls, baselines=baselines, order=order, checks=checks,
                           tiles=tiles)
    stats["seconds"] = {"list": t1 - t0, "keys": t2 - t1, "verify": t3 - t2, "baselines": t4 - t3,
                        "resolve": t5 - t4, "table": time.perf_counter() - t5}
    lb.stats = stats
    return lb


def _check_all(todo: list[tuple[EntryRef, str]], workers: int | None, stats: dict[str, Any],
               budget: Any = None) -> list[dict[str, Any]]:
    """Verdicts on the entries to check, each in a verifier process under its budget (see
    :mod:`g1bench.leaderboard.isolation`); several processes when there are many."""
    if not todo:
        return []
    from .isolation import VerifierPool

    n = workers if workers is not None and workers > 0 else \
        ((os.cpu_count() or 1) if len(todo) >= POOL_FROM else 1)
    n = max(1, min(n, len(todo)))
    stats["workers"] = n
    pool = VerifierPool(n, budget)
    jobs = [{"kind": "entry", "entry_id": ref.entry_id, "paths": {k: str(p) for k, p in ref.files.items()}, "key": key}
            for ref, key in todo]
    results = pool.run(jobs)
    peaks = [r.peak_rss_mb for r in results if r.peak_rss_mb is not None]
    stats["verifier_peak_rss_mb"] = max(peaks) if peaks else None
    #: per entry verified now: [seconds, the verifier's peak memory in MB during it (None when it was stopped)]
    stats["checks"] = {ref.entry_id: [r.seconds, r.peak_rss_mb] for (ref, _), r in zip(todo, results)}
    stats["entry_seconds_max"] = max(r.seconds for r in results)
    stats["verifier_cpu_s"] = sum(r.cpu_seconds or 0.0 for r in results)
    stats["over_budget"] = sum(1 for r in results if r.over_budget)
    return [r.result if isinstance(r.result, dict) and "ok" in r.result else
            {"version": VERDICT_VERSION, "g1bench": __version__, "ok": False, "reason": "its verdict is malformed",
             "summary": None} for r in results]


def _baselines(summaries: list[dict[str, Any]], skipped: list[dict[str, str]], cache_root, log
               ) -> tuple[dict[str, dict[str, Any]], dict[str, str | None]]:
    """g1bench's anchors computed for every built-in suite (and hash) the verified entries use, and each suite's
    tile source; pushed anchor entries that disagree with them move to ``skipped``."""
    from .identity import ANCHORS

    out: dict[str, dict[str, Any]] = {}
    tiles: dict[str, str | None] = {}
    for suite_id in sorted({s["suite_id"] for s in summaries}):
        first = next(s for s in summaries if s["suite_id"] == suite_id)
        hit = cached_baselines(suite_id, first["suite_hash"], cache_root)  # computed here before: no suite to build
        if hit is not None:
            out[suite_id], tiles[suite_id] = hit
            continue
        suite = builtin_suite_for(first["suite_name"], suite_id, first["suite_hash"])
        if suite is None:
            continue
        try:
            out[suite_id] = computed_baselines(suite, cache_root)
            tiles[suite_id] = tile_source(suite)
        except Exception as e:  # noqa: BLE001 - no baselines: the suite shows no overall score, with the reason
            log(f"the baselines of {suite_id} could not be computed: {type(e).__name__}: {text(e, 300)}")
    keep = []
    for s in summaries:
        mine = out.get(s["suite_id"], {}).get(s.get("anchor") or "")
        if s.get("anchor") in ANCHORS and mine is not None and _means(s) != _means(mine):
            diff = next(k for k in sorted(_means(mine)) if _means(s).get(k) != _means(mine)[k])
            skipped.append({"entry_id": s["entry_id"], "reason": (
                f"it names g1bench's {s['anchor']} baseline, but its {diff} mean {_means(s).get(diff)} differs from "
                f"that baseline's {_means(mine)[diff]} computed here")})
        else:
            keep.append(s)
    summaries[:] = keep
    return out, tiles


def _resolve(summaries: list[dict[str, Any]], store: Store, cache_root, resolve: bool | None) -> dict[str, str]:
    """What was checked of each entry's model: ``{entry_id: check}`` (Hub models looked up when reachable)."""
    from .identity import HUB_NOT_REACHED, resolve_models

    checks = {s["entry_id"]: s.get("model_check") or "" for s in summaries}
    hub = [s for s in summaries if isinstance(s.get("hub_model"), dict)]
    if not hub or resolve is False:
        return checks
    if resolve is None and os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return checks
    path = Path(cache_root if cache_root is not None else cache_dir()) / "leaderboard" / "models.json"
    try:
        cache = read_json(path) if path.is_file() else {}
    except FileFormatError:
        cache = {}
    cache = cache if isinstance(cache, dict) else {}
    endpoint = getattr(store, "endpoint", None)
    found = resolve_models([s["hub_model"] for s in hub], endpoint=endpoint, token=getattr(store, "_token", None),
                           cache=cache)
    for s in hub:
        checks[s["entry_id"]] = found.get(f"{s['hub_model']['repo']}@{s['hub_model']['commit']}", HUB_NOT_REACHED)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, cache)
    except OSError:
        pass
    return checks


def _push_order(summaries: list[dict[str, Any]], baselines: dict[str, dict[str, Any]], store: Store) -> dict[str, Any]:
    """The store's order (when each was pushed) of the entries that share their answers with another."""
    groups: dict[tuple[str, str], list[str]] = {}
    for s in summaries:  # (a pushed baseline and its computed twin need no order: the computed one is first)
        groups.setdefault((s["suite_id"], s.get("answers") or s["entry_id"]), []).append(s["entry_id"])
    shared = [e for ids in groups.values() if len(ids) > 1 for e in ids]
    if not shared:
        return {}
    try:
        return store.push_order(shared)
    except Exception:  # noqa: BLE001 - no order known: the entry ids decide (copies are still listed as copies)
        return {}


# -- the table -------------------------------------------------------------------------------------------
@dataclass
class Leaderboard:
    """The aggregated leaderboard.

    Attributes:
        rows: every row as a plain dict (see :meth:`table` for one suite's rows in display order). Keys:
            ``kind`` (``measured``, ``baseline`` or ``reported in the paper``), ``rank`` / ``rank_label``
            (``"1"``, ``"=2"`` for a tie; measured rows only), ``model``, ``model_type`` (open weights / API /
            baseline / unknown), ``model_revision``, ``suite_id``, ``suite_hash``, ``date``, ``entry_id``,
            ``entry_url``, ``overall`` and ``overall_ci95_low/high`` (:data:`scoring.OVERALL_FORMULA`), per game
            ``<game>`` (the paper metric where the suite has one difficulty per game), ``<game>_ci95_low/high``
            and ``<game>_norm`` (the game's normalised score), then :data:`RATE_COLUMNS`, ``steps`` and
            ``g1bench_version``.
        entries: the summaries of the verified entries (see :func:`g1bench.leaderboard.verdict.summarize_entry`).
        skipped: ``{"entry_id", "reason"}`` for every entry left out.
        suites: per suite id: its hash, games, groups, anchors (``{group: [random, oracle]}``) and a note when
            the overall score is undefined.
        store: the store's name.
        stats: what the aggregation did (entries, verified now, cached verdicts, worker processes, Hub sync).
    """

    rows: list[dict[str, Any]]
    entries: list[dict[str, Any]]
    skipped: list[dict[str, str]]
    suites: dict[str, dict[str, Any]]
    store: str = ""
    formula: str = scoring.OVERALL_FORMULA
    #: what the aggregation did: entries, verified (replayed now), cached, workers, the Hub sync
    stats: dict[str, Any] = field(default_factory=dict)

    # -- building ------------------------------------------------------------------------------------
    @classmethod
    def build(cls, summaries: list[dict[str, Any]], skipped: list[dict[str, str]], store: str = "",
              urls: dict[str, str] | None = None, *, baselines: dict[str, dict[str, Any]] | None = None,
              order: dict[str, Any] | None = None, checks: dict[str, str] | None = None,
              tiles: dict[str, str | None] | None = None) -> "Leaderboard":
        """The leaderboard of verified entry summaries (what :func:`aggregate` returns).

        Args:
            baselines: per suite id, g1bench's computed anchors ``{"random": summary, "oracle": summary}`` (the
                overall score is normalised with them; without, with the store's own anchor entries).
            order: when each entry was pushed (a sortable value; entries without one come after, by id): among
                entries with the same answers, the first is the row, the others are copies of it.
            checks: what was checked of each entry's model (default: its summary's ``model_check``).
            tiles: per suite id, the natural-image tiles it plays with here.
        """
        urls, order, checks, baselines, tiles = urls or {}, order or {}, checks or {}, baselines or {}, tiles or {}
        by_suite: dict[str, list[dict[str, Any]]] = {}
        for s in summaries:
            by_suite.setdefault(s["suite_id"], []).append(s)
        rows: list[dict[str, Any]] = []
        suites: dict[str, dict[str, Any]] = {}
        for suite_id in sorted(by_suite):
            entries = by_suite[suite_id]
            computed = baselines.get(suite_id) or {}
            copy_of, shown = _distinct(entries, computed, order)
            info = _suite_info(entries, computed)
            info["tiles"] = tiles.get(suite_id)
            suites[suite_id] = info
            anchor = {g: tuple(v) for g, v in info["anchors"].items()}
            game_of = info["game_of"]
            listed = [*entries, *shown]
            suite_rows = [_row(s, info, anchor, urls.get(s["entry_id"], ""), copy_of.get(s["entry_id"]),
                               checks.get(s["entry_id"], s.get("model_check") or "")) for s in listed]
            keep = [i for i, r in enumerate(suite_rows) if r["kind"] != COPY_KIND]  # copies: no interval, no rank
            reps: list[Any] = [None] * len(listed)
            for i, rep in zip(keep, scoring.overall_replicates_many([listed[i]["episode_scores"] for i in keep],
                                                                    anchor, game_of)):
                reps[i] = rep
            have = [i for i in keep if suite_rows[i]["overall"] is not None and reps[i] is not None]
            if have:
                q = (1 - scoring.LEVEL) / 2
                lo, hi = np.quantile(np.vstack([reps[i] for i in have]), [q, 1 - q], axis=1)
                for k, i in enumerate(have):
                    suite_rows[i]["overall_ci95_low"], suite_rows[i]["overall_ci95_high"] = float(lo[k]), float(hi[k])
            measured = [i for i, r in enumerate(suite_rows) if r["kind"] == MEASURED and r["model_check"] != NOT_RESOLVED]
            for i, rk in zip(measured, scoring.ranks([suite_rows[i]["overall"] for i in measured],
                                                       [reps[i] for i in measured])):
                suite_rows[i]["rank"], suite_rows[i]["rank_label"] = rk["rank"], rk["label"]
            rows += suite_rows
        rows += paper_rows()
        return cls(rows, list(summaries), list(skipped), suites, store)

    # -- views ---------------------------------------------------------------------------------------
    def suite_ids(self) -> list[str]:
        """The suites that have verified entries."""
        return sorted(self.suites)

    def resolve_suite(self, suite: str | None) -> str | None:
        """A suite id from a name (``paper``: the newest version present) or an id; None for all suites."""
        if suite in (None, "all"):
            return None
        if suite in self.suites:
            return suite
        named = sorted((i for i, s in self.suites.items() if s["name"] == suite), key=lambda i: self.suites[i]["version"])
        if named:
            return named[-1]
        from ..eval.suites import SUITES, get_suite

        if suite in SUITES:
            return get_suite(suite).suite_id  # a built-in suite nobody has pushed yet: an empty table
        if any(suite == f"{name}-v{get_suite(name).version}" for name in SUITES):
            return suite
        raise ValueError(f"unknown suite {suite!r}: suites with entries {self.suite_ids() or 'none'}, built-in "
                         f"{sorted(SUITES)}, or 'all'")

    def table(self, suite: str | None = "paper") -> list[dict[str, Any]]:
        """One suite's rows in display order: measured (by rank), then baselines, then (paper suite) the
        paper's reported rows. ``suite=None`` or ``"all"``: every suite, one after another."""
        sid = self.resolve_suite(suite)
        if sid is None:
            out = []
            for s in self.suite_ids():
                out += self.table(s)
            return out
        mine = [r for r in self.rows if r["suite_id"] == sid]
        measured = sorted((r for r in mine if r["kind"] == MEASURED),
                          key=lambda r: (r["rank"] is None, r["rank"] or 0, -(r["overall"] if r["overall"] is not None else -1e18),
                                         r["model"], r["entry_id"]))
        base = sorted((r for r in mine if r["kind"] == BASELINE_KIND),
                      key=lambda r: (-(r["overall"] if r["overall"] is not None else -1e18), r["model"], r["entry_id"]))
        copies = sorted((r for r in mine if r["kind"] == COPY_KIND), key=lambda r: (r["copy_of"], r["entry_id"]))
        paper = [r for r in self.rows if r["kind"] == REPORTED] if sid.startswith("paper-") else []
        return measured + base + copies + paper

    def columns(self, suite: str | None = "paper") -> list[str]:
        """The flat columns of :meth:`table` (per-game columns for the suite's games)."""
        sid = self.resolve_suite(suite)
        games = self.suites[sid]["games"] if sid in self.suites else list(PAPER_GAMES)
        if sid is None:
            games = list(dict.fromkeys(g for s in self.suites.values() for g in s["games"])) or list(PAPER_GAMES)
        cols = ["rank_label", "kind", "model", "model_type", "overall", "overall_ci95_low", "overall_ci95_high"]
        for g in games:
            cols += [g, f"{g}_ci95_low", f"{g}_ci95_high", f"{g}_norm"]
        cols += [*RATE_COLUMNS, "steps", "model_check", "model_revision", "suite_id", "suite_hash", "date",
                 "g1bench_version", "entry_id", "entry_url", "copy_of"]
        return cols

    def to_dataframe(self, suite: str | None = "paper"):
        """The table as a pandas DataFrame (flat columns; ``suite=None`` for every suite)."""
        import pandas as pd

        cols = self.columns(suite)
        return pd.DataFrame([{c: r.get(c) for c in cols} for r in self.table(suite)], columns=cols)

    def to_csv(self, suite: str | None = "paper") -> str:
        import csv
        import io

        cols = self.columns(suite)
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(cols)
        for r in self.table(suite):
            w.writerow([_csv_cell(r.get(c)) for c in cols])
        return out.getvalue()

    def to_json(self, suite: str | None = "paper") -> str:
        sid = self.resolve_suite(suite)
        suites = {k: {kk: vv for kk, vv in v.items() if kk != "game_of"} for k, v in self.suites.items()
                  if sid is None or k == sid}
        return json.dumps({"formula": self.formula, "formula_text": scoring.OVERALL_TEXT, "store": self.store,
                           "suites": suites, "rows": self.table(suite), "skipped": self.skipped},
                          indent=1, allow_nan=False)

    def _display(self, suite: str | None) -> tuple[list[str], list[list[str]], list[str]]:
        """(header, cells, row kinds) of the human table."""
        sid = self.resolve_suite(suite)
        info = self.suites.get(sid, {}) if sid else {}
        games = info.get("games") or list(PAPER_GAMES)
        single = info.get("single_difficulty", True)
        head = ["rank", "model", "type", "overall [95% CI]"]
        head += [f"{g} [95% CI]" if single else f"{g} (norm)" for g in games]
        head += ["P_acc", "R_acc", "parse fail", "invalid", "out tok", "latency s", "cost $", "date", "entry"]
        cells, kinds = [], []
        for r in self.table(sid):
            kind = r.get("model_type") or ""
            row = [r.get("rank_label") or "", r["model"], kind + (f" ({r['model_check']})" if r.get("model_check") else ""),
                   _ci(r.get("overall"), r.get("overall_ci95_low"), r.get("overall_ci95_high"))]
            for g in games:
                row.append(_ci(r.get(g), r.get(f"{g}_ci95_low"), r.get(f"{g}_ci95_high")) if single else _fmt(r.get(f"{g}_norm")))
            row += [_pct(r.get("perception_accuracy")), _pct(r.get("reasoning_accuracy")), _pct(r.get("parse_failure_rate")),
                    _pct(r.get("invalid_action_rate")), _fmt(r.get("mean_output_tokens")), _fmt(r.get("mean_latency_s"), 3),
                    _fmt(r.get("cost_usd"), 4), r.get("date") or "",
                    (f"copy of {r['copy_of']}: " if r.get("copy_of") else "") + (r.get("entry_id") or "")]
            cells.append(row)
            kinds.append(r["kind"])
        return head, cells, kinds

    def to_text(self, suite: str | None = "paper") -> str:
        """A plain-text table per suite, with its sections (measured, baselines, reported in the paper)."""
        sids = [self.resolve_suite(suite)] if self.resolve_suite(suite) is not None else self.suite_ids()
        blocks = []
        for sid in sids:
            head, cells, kinds = self._display(sid)
            widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(head)]
            line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
            info = self.suites.get(sid)
            title = f"{sid}" + ((f" (hash {info['hash']}" + (f", tiles: {info['tiles']}" if info.get("tiles") else "")
                                 + ")") if info else " (no verified entries)")
            out = [title, line(head), "-" * len(line(head))]
            last = None
            for kind, c in zip(kinds, cells):
                if kind != last:
                    out.append({MEASURED: "# measured (verified runs)", BASELINE_KIND: "# baselines (g1bench's own policies)",
                                COPY_KIND: "# copies (the same answers as an entry above; no rank)",
                                REPORTED: "# reported in the paper (not verified; G1 paper Fig. 1)"}[kind])
                    last = kind
                out.append(line(c))
            if info and info.get("note"):
                out.append(f"note: {info['note']}")
            blocks.append("\n".join(out))
        blocks.append(f"overall = {self.formula}: {scoring.OVERALL_TEXT}\nranks: a model ranks above another only when "
                      "its overall score is higher at 95% (non-overlapping intervals or a paired bootstrap over the "
                      "suite's shared seeds); '=' marks a shared rank.")
        if self.skipped:
            blocks.append(f"{len(self.skipped)} entries skipped (see the log)")
        return "\n\n".join(blocks)

    def to_markdown(self, suite: str | None = "paper") -> str:
        """A Markdown table per suite; every text from an entry is escaped (no links, no HTML)."""
        sids = [self.resolve_suite(suite)] if self.resolve_suite(suite) is not None else self.suite_ids()
        blocks = []
        for sid in sids:
            head, cells, kinds = self._display(sid)
            head = ["section", *head]
            lines = [f"### {md_escape(sid)}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            for kind, c in zip(kinds, cells):
                lines.append("| " + " | ".join(md_escape(v) for v in [kind, *c]) + " |")
            blocks.append("\n".join(lines))
        blocks.append(f"Overall = `{self.formula}`: {md_escape(scoring.OVERALL_TEXT, 10_000)}\n\n"
                      "Ranks: a model ranks above another only when its overall score is higher at 95% (non-overlapping "
                      "intervals, or a paired bootstrap over the suite's shared seeds); `=` marks a shared rank.")
        return "\n\n".join(blocks) + "\n"

    def export(self, fmt: str, suite: str | None = "paper") -> str:
        """The table as ``table`` (plain text), ``csv``, ``md`` or ``json``."""
        fn = {"table": self.to_text, "csv": self.to_csv, "md": self.to_markdown, "json": self.to_json}.get(fmt)
        if fn is None:
            raise ValueError(f"unknown format {fmt!r}; formats: table, csv, md, json")
        from .memory import with_memory  # a suite with history cells (multiturn) also gets its memory curves

        return with_memory(self, fmt, suite, fn(suite))

    # -- plots -----------------------------------------------------------------------------------------
    def heatmaps(self, out_dir: str | os.PathLike | None = None, suite: str = "grid") -> list[dict[str, Any]]:
        """Per model run on ``suite`` (default ``grid``): its score in every perception x reasoning cell of
        every game (each game's ``Config.preset_grid``), as data and a PNG (``out_dir``) or a figure.

        Returns ``[{"entry_id", "model", "kind", "value", "cells": [...], "png": path | None, "figure": Figure | None}]``;
        each cell is ``{"game", "difficulty", "perception", "reasoning", "mean", "normalised", "perception_accuracy"}``,
        and ``value`` says what the colours show (``normalised`` when the suite has baselines, else ``mean``).
        """
        from .plots import heatmap_figures

        return heatmap_figures(self, self.resolve_suite(suite), out_dir)

    def perception_plot(self, out_dir: str | os.PathLike | None = None, suite: str = "grid") -> dict[str, Any]:
        """Perception accuracy against game score across models, one panel per game, one point per (model,
        difficulty cell) of ``suite``; as data (``points``) and a PNG (``out_dir``) or a figure."""
        from .plots import perception_figure

        return perception_figure(self, self.resolve_suite(suite), out_dir)

    def memory(self, out_dir: str | os.PathLike | None = None, suite: str = "multiturn") -> dict[str, Any]:
        """Per model run on ``suite`` (default ``multiturn``): its score against the history length (past turns in
        its context), as data and a PNG (``out_dir``) or a figure (:mod:`g1bench.leaderboard.memory`)."""
        from .memory import memory_figure

        return memory_figure(self, self.resolve_suite(suite), out_dir)

    def cells(self, suite: str = "grid") -> list[dict[str, Any]]:
        """Every (entry, group) cell of a suite with its perception and reasoning level (the plots' data)."""
        from ..games import GAMES

        sid = self.resolve_suite(suite)
        info = self.suites.get(sid)
        if info is None:
            return []
        anchor = info["anchors"]
        out = []
        for s in self.entries:
            if s["suite_id"] != sid:
                continue
            for key, g in s["groups"].items():
                grid = GAMES[g["game"]].Config.preset_grid if g["game"] in GAMES else {}
                level = grid.get(g["difficulty"], ("?", "?"))
                r_o = anchor.get(key)
                out.append({"entry_id": s["entry_id"], "model": s["model"], "kind": _kind(s), "game": g["game"],
                            "difficulty": g["difficulty"], "perception": level[0], "reasoning": level[1],
                            "mean": g["mean"], "normalised": scoring.normalise(g["mean"], *r_o) if r_o else None,
                            "perception_accuracy": g.get("perception_accuracy")})
        return out


def _distinct(entries: list[dict[str, Any]], computed: dict[str, dict[str, Any]], order: dict[str, Any]
              ) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """``({entry_id: the entry it is a copy of}, the computed baselines to show as rows)``: among entries with the
    same answers the first pushed is the row; g1bench's baselines come first (a pushed baseline entry stands for
    the computed one)."""
    def when(s: dict[str, Any]) -> tuple:
        o = order.get(s["entry_id"])
        return (o is None, o if o is not None else 0, s["entry_id"])

    canon: dict[str, str] = {}
    shown = []
    for name in sorted(computed):
        b = computed[name]
        pushed = sorted((s for s in entries if s.get("anchor") == name and s["answers"] == b["answers"]), key=when)
        canon[b["answers"]] = pushed[0]["entry_id"] if pushed else b["entry_id"]
        if not pushed:
            shown.append(b)
    copy_of = {}
    for s in sorted(entries, key=when):
        first = canon.setdefault(s.get("answers") or f"entry:{s['entry_id']}", s["entry_id"])
        if first != s["entry_id"]:
            copy_of[s["entry_id"]] = first
    return copy_of, shown


def _suite_info(entries: list[dict[str, Any]], computed: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """What a suite's rows share: games, groups, the baselines' anchors and why an overall may be missing."""
    from ..eval.suites import SUITES, get_suite

    first = entries[0]
    game_of: dict[str, str] = {}
    for s in entries:
        for k, g in s["groups"].items():
            game_of.setdefault(k, g["game"])
    order = []
    if first["suite_name"] in SUITES:
        order = get_suite(first["suite_name"]).groups()
    groups = [g for g in order if g in game_of] + sorted(g for g in game_of if g not in order)
    games = list(dict.fromkeys(game_of[g] for g in groups))
    if computed:
        rand = [computed["random"]["groups"]] if "random" in computed else []
        orac = [computed["oracle"]["groups"]] if "oracle" in computed else []
    else:
        rand = [s["groups"] for s in entries if s["anchor"] == "random"]
        orac = [s["groups"] for s in entries if s["anchor"] == "oracle"]
    anchor = scoring.anchors([{k: g["mean"] for k, g in m.items()} for m in rand],
                             [{k: g["mean"] for k, g in m.items()} for m in orac])
    note = None
    if not rand or not orac:
        missing = " and ".join(n for n, xs in (("random", rand), ("oracle", orac)) if not xs)
        note = (f"no overall score: g1bench could not compute the {missing} baseline of {first['suite_id']} here "
                f"(hash {first['suite_hash']} is not this g1bench's built-in {first['suite_name']} suite)")
    elif {game_of[g] for g in anchor} != set(games):
        note = "no overall score: the baselines score the same in every cell of some game"
        anchor = {}
    counts: dict[str, int] = {}
    for g in groups:
        counts[game_of[g]] = counts.get(game_of[g], 0) + 1
    return {"name": first["suite_name"], "version": int(first["suite_id"].rsplit("-v", 1)[-1]) if "-v" in first["suite_id"] else 0,
            "hash": first["suite_hash"], "games": games, "groups": groups, "game_of": game_of,
            "single_difficulty": all(c == 1 for c in counts.values()),
            "anchors": {g: [r, o] for g, (r, o) in anchor.items()}, "formula": scoring.OVERALL_FORMULA, "note": note,
            "entries": len(entries), "baselines": "computed here" if computed else "the store's baseline entries"}


def _row(s: dict[str, Any], info: dict[str, Any], anchor: dict[str, tuple[float, float]], url: str,
         copy_of: str | None = None, check: str = "") -> dict[str, Any]:
    means = {k: g["mean"] for k, g in s["groups"].items()}
    game_norm = scoring.game_scores(means, anchor, info["game_of"]) if anchor else {}
    kind = COPY_KIND if copy_of else _kind(s)
    row: dict[str, Any] = {
        "rank": None, "rank_label": "", "kind": kind, "model": text(s["model"]), "model_type": s["model_type"],
        "model_check": text(check, 200), "model_revision": s.get("model_revision"), "suite_id": s["suite_id"],
        "suite_hash": s["suite_hash"], "date": s["date"], "g1bench_version": s["g1bench_version"],
        "entry_id": s["entry_id"], "entry_url": url, "copy_of": copy_of, "computed": bool(s.get("computed")),
        "overall": scoring.overall(means, anchor, info["game_of"]), "overall_ci95_low": None, "overall_ci95_high": None,
    }
    for game in info["games"]:
        cells = [k for k in info["groups"] if info["game_of"][k] == game and k in s["groups"]]
        single = len(cells) == 1 and info["single_difficulty"]
        g = s["groups"][cells[0]] if single else None
        row[game] = g["mean"] if g else None
        row[f"{game}_ci95_low"] = g["ci95"][0] if g else None
        row[f"{game}_ci95_high"] = g["ci95"][1] if g else None
        row[f"{game}_norm"] = game_norm.get(game)
    for k in RATE_COLUMNS:
        row[k] = s["totals"].get(k)
    row["steps"] = s["totals"].get("steps")
    return row


def paper_rows() -> list[dict[str, Any]]:
    """The paper's reported rows as leaderboard rows (kind ``reported in the paper``; no CI, no rank)."""
    out = []
    for p in PAPER_ROWS:
        row: dict[str, Any] = {"rank": None, "rank_label": "", "kind": REPORTED, "model": p["model"],
                               "model_type": p["model_type"], "model_check": "reported in the paper", "copy_of": None,
                               "computed": False, "model_revision": None, "suite_id": "paper (G1 paper)",
                               "suite_hash": None, "date": "2025-05-19", "g1bench_version": None, "entry_id": None,
                               "entry_url": "https://arxiv.org/abs/2505.13426", "overall": None, "overall_ci95_low": None,
                               "overall_ci95_high": None, "source": p["source"]}
        for game in PAPER_GAMES:
            row[game] = float(p["scores"][game])
            row[f"{game}_ci95_low"] = row[f"{game}_ci95_high"] = row[f"{game}_norm"] = None
        for k in RATE_COLUMNS:
            row[k] = None
        row["steps"] = None
        out.append(row)
    return out


def _csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: a text starting like a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _fmt(x: Any, digits: int | None = None) -> str:
    if x is None:
        return "-"
    x = float(x)
    if digits is not None:
        return f"{x:.{digits}f}"
    return f"{x:.1f}" if abs(x) < 100 else f"{x:.0f}"


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * float(x):.0f}%"


def _ci(x: Any, lo: Any, hi: Any) -> str:
    if x is None:
        return "-"
    return _fmt(x) + (f" [{_fmt(lo)}, {_fmt(hi)}]" if lo is not None and hi is not None else "")




__all__ = ["aggregate", "Leaderboard", "VerdictCache", "verdict_cache_path", "paper_rows", "md_escape", "valid_summary",
           "computed_baselines", "cached_baselines", "builtin_suite_for", "tile_source", "MEASURED", "BASELINE_KIND",
           "COPY_KIND",
           "RATE_COLUMNS"]

"""The Leaderboard tab's backend: the aggregated table of the Space's results store, cached per process.

The numbers are :func:`g1bench.leaderboard.aggregate`'s (nothing is recomputed here). Aggregating re-verifies
every new entry by replaying its step log, which takes seconds to minutes on a cold store, so
:class:`LeaderboardService` runs it in one background thread (at start-up, and again on Refresh or after a
submission) and keeps the result as an immutable :class:`Snapshot`, plots included. Every visitor's view is
a cheap filter of the current snapshot (:func:`build_view`): nobody waits for an aggregation; while the first
one runs, the tab says so and polls.

Which store: ``SpaceSettings.results_store`` (a Hub dataset repo or a folder; default ``$G1BENCH_RESULTS_REPO``,
else the local store). While that store has no entries (a new Space, a fresh machine) the *demo store*
is shown instead, clearly labelled: by default this checkout's ``leaderboard/`` folder, which holds g1bench's
own verified paper-suite baselines (``python leaderboard/build.py``).

Everything shown from an entry is plain text: table cells are data (the Dataframe renders them as text),
entry URLs are shown as text, never as links or HTML, and Markdown around them is escaped.
"""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SpaceError
from .settings import SpaceSettings
from .text import esc

log = logging.getLogger("g1bench.space")

ALL = "all"
#: column titles of the games (short: they head table columns)
GAME_COLUMNS = {"2048": "2048", "shisensho": "Shisen-Sho", "shisensho-images": "Shisen-Sho images", "swap": "Swap"}
#: heatmaps drawn per aggregation (one figure per run of the grid suite)
MAX_HEATMAPS = 60
MAX_SEARCH_CHARS = 200
MAX_SKIPPED_SHOWN = 50
REPORTED = "reported in the paper"


@dataclass(frozen=True)
class Snapshot:
    """One aggregation of the store, as the tab shows it (never changed once made).

    Attributes:
        generation: counts aggregations in this process (1 = the first).
        lb: the :class:`g1bench.leaderboard.Leaderboard`.
        store: the store the table was read from (the demo store when ``demo``); Replay fetches entries from it.
        source: that store as people name it. demo: the results store was empty (or unreadable) and the
            demo store is shown. results_store: the results store's name. error: why the results store
            could not be read, if it could not.
        finished_at / seconds: when the aggregation finished and how long it took.
        heatmaps: ``{"png", "model", "model_type", "kind", "entry_id"}`` per run of the grid suite drawn.
        perception_png: the perception-vs-score plot, if any. plots_note: what the plots show or why not.
    """

    generation: int
    lb: Any
    store: Any
    source: str
    demo: bool
    results_store: str
    error: str | None
    finished_at: float
    seconds: float
    heatmaps: tuple[dict[str, Any], ...] = ()
    perception_png: str | None = None
    plots_note: str = ""
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def entry_choices(self) -> list[tuple[str, str]]:
        """(label, entry id) of every verified entry, for Replay (suite, then model)."""
        out = []
        for s in sorted(self.lb.entries, key=lambda s: (s["suite_id"], s["model"].lower(), s["entry_id"])):
            out.append((f"{s['model']} · {s['suite_id']} · {s['entry_id'].rsplit('--', 1)[-1]}", s["entry_id"]))
        return out


def describe_store(spec: str | None) -> str:
    """How the settings' results store reads to people (before opening it)."""
    import os

    from ..leaderboard.store import ENV_REPO, default_local_dir

    if spec:
        return spec
    if os.environ.get(ENV_REPO):
        return os.environ[ENV_REPO]
    return str(default_local_dir())


class LeaderboardService:
    """The per-process cache of the aggregated leaderboard (see the module docstring).

    Args:
        settings: the Space's settings (the results store, the demo store).
        plots_dir: where the plots of each aggregation are drawn (the app serves it as static files).
    """

    def __init__(self, settings: SpaceSettings, plots_dir: str | Path):
        self.settings = settings
        self.plots_dir = Path(plots_dir)
        self.plots_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._thread: threading.Thread | None = None
        self._again = False
        self._generation = 0
        self._done = threading.Condition(self._lock)

    # -- the store -------------------------------------------------------------------------------------
    def open_store(self):
        """The results store named in the settings (a fresh object: each aggregation and write has its own)."""
        from ..leaderboard import open_store

        token = self.settings.write_token
        return open_store(self.settings.results_store, **({"token": token} if token else {}))

    def write_policy(self, store) -> tuple[bool, str]:
        """Whether Submit may add runs to ``store``, and why not."""
        from ..leaderboard.store import HubStore

        if isinstance(store, HubStore):
            if self.settings.write_token:
                return True, ""
            return False, (f"this Space holds no write token for {store.repo_id} (the operator sets the "
                           f"{self.settings.write_token_env} secret)")
        if self.settings.accept_local_submissions:
            return True, ""
        return False, "this Space's results store is a folder on its own machine, which visitors do not write to"

    # -- the cache -------------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot | None:
        """The newest finished aggregation (None before the first one finishes)."""
        with self._lock:
            return self._snapshot

    def loading(self) -> bool:
        """Whether an aggregation is running now."""
        with self._lock:
            return self._thread is not None

    def refresh(self) -> bool:
        """Aggregate again in the background. If one is running, it runs once more when it ends (so what was
        added while it ran is included). Returns True when a new thread was started."""
        with self._lock:
            if self._thread is not None:
                self._again = True
                return False
            self._thread = threading.Thread(target=self._run, name="g1bench-leaderboard", daemon=True)
            self._thread.start()
            return True

    def ensure(self) -> None:
        """Start the first aggregation if none has run or is running."""
        with self._lock:
            started = self._snapshot is not None or self._thread is not None
        if not started:
            self.refresh()

    def wait(self, timeout: float | None = None) -> Snapshot | None:
        """Block until no aggregation runs (scripts and tests); returns the newest snapshot."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._done:
            while self._thread is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._done.wait(left)
            return self._snapshot

    def _run(self) -> None:
        while True:
            try:
                snap = self._aggregate()
            except Exception as e:  # noqa: BLE001 - the thread must end cleanly; the tab keeps the last table
                log.exception("leaderboard aggregation failed")
                snap = None
                err = f"the leaderboard could not be aggregated ({type(e).__name__}: {str(e)[:300]}); press Refresh to try again"
            with self._lock:
                if snap is not None:
                    self._snapshot = snap
                elif self._snapshot is not None:
                    self._snapshot = _with_error(self._snapshot, err)
                else:  # nothing to keep showing: the paper's rows, and what went wrong
                    self._snapshot = self._empty(err)
                if self._again:
                    self._again = False
                    continue
                self._thread = None
                self._done.notify_all()
                return

    def _empty(self, error: str) -> Snapshot:
        from ..leaderboard.aggregation import Leaderboard

        name = describe_store(self.settings.results_store)
        return Snapshot(generation=self._generation, lb=Leaderboard.build([], [], name), store=None, source=name,
                        demo=False, results_store=name, error=error, finished_at=time.time(), seconds=0.0)

    def _aggregate(self) -> Snapshot:
        from ..leaderboard import aggregate
        from ..leaderboard.aggregation import Leaderboard
        from ..leaderboard.store import LocalStore, StoreError

        t0 = time.perf_counter()
        with self._lock:
            self._generation += 1
            generation = self._generation
        name = describe_store(self.settings.results_store)
        lb, store, error = None, None, None
        try:
            store = self.open_store()
            name = store.describe()
            lb = aggregate(store, log=lambda line: log.info("leaderboard: %s", line))
        except (StoreError, OSError, ValueError) as e:
            why = str(e).splitlines()[0][:400] if str(e) else type(e).__name__
            log.warning("leaderboard: the results store %s cannot be read: %s", name, why)
            error = f"the results store could not be read: {why}"
        demo = False
        empty = lb is None or not lb.stats.get("entries")
        demo_dir = self.settings.demo_store
        if empty and demo_dir is not None and (Path(demo_dir) / "entries").is_dir():
            store = LocalStore(demo_dir)
            lb = aggregate(store, log=lambda line: log.info("leaderboard (demo): %s", line))
            demo = True
        if lb is None:  # nothing readable: the paper's reported rows alone
            lb = Leaderboard.build([], [], name)
        heatmaps, perception, note = self._plots(lb, generation)
        return Snapshot(generation=generation, lb=lb, store=store, source=store.describe() if store is not None else name,
                        demo=demo, results_store=name, error=error, finished_at=time.time(),
                        seconds=time.perf_counter() - t0, heatmaps=heatmaps, perception_png=perception,
                        plots_note=note, summaries={s["entry_id"]: s for s in lb.entries})

    def _plots(self, lb: Any, generation: int) -> tuple[tuple[dict[str, Any], ...], str | None, str]:
        """The grid suite's heatmaps and perception plot as PNGs of this generation (older ones removed)."""
        if not lb.cells("grid"):
            return (), None, ("No run of the `grid` suite in this store yet: the heatmaps chart a model over every "
                              "perception x reasoning preset (`g1bench eval --suite grid`, then `g1bench push`).")
        out = self.plots_dir / f"gen-{generation}"
        try:
            types = {r["entry_id"]: r.get("model_type") for r in lb.rows if r.get("entry_id")}
            maps = []
            ids = list(dict.fromkeys(c["entry_id"] for c in lb.cells("grid")))
            keep = set(ids[:MAX_HEATMAPS])
            # draw only the first MAX_HEATMAPS runs: Leaderboard.heatmaps draws every run of the suite
            sub = _only_entries(lb, keep)
            for m in sub.heatmaps(out, suite="grid"):
                maps.append({"png": m["png"], "model": m["model"], "model_type": types.get(m["entry_id"]),
                             "kind": m["kind"], "entry_id": m["entry_id"]})
            plot = lb.perception_plot(out, suite="grid")
        except ImportError as e:
            return (), None, f"The plots need matplotlib on the Space ({esc(e)})."
        for old in self.plots_dir.glob("gen-*"):  # keep this generation and the one before (visitors may be loading it)
            try:
                if int(old.name[4:]) < generation - 1:
                    shutil.rmtree(old, ignore_errors=True)
            except ValueError:
                pass
        note = (f"Perception x reasoning heatmaps of the `grid` suite ({len(maps)} runs"
                + (f" of {len(ids)}; the first {MAX_HEATMAPS} are drawn" if len(ids) > MAX_HEATMAPS else "")
                + "): each cell is a preset, the colour its score normalised between g1bench's random (0) and "
                  "oracle (100) baselines (raw means when the store lacks them).")
        if plot.get("png") is None:
            note += " The perception-vs-score plot needs runs that answer with a `<perception>` block."
        return tuple(maps), plot.get("png"), note


def _only_entries(lb: Any, keep: set[str]) -> Any:
    """``lb`` restricted to some entries (for drawing; the table is untouched)."""
    import dataclasses

    return dataclasses.replace(lb, entries=[s for s in lb.entries if s["entry_id"] in keep])


def _with_error(snap: Snapshot, error: str) -> Snapshot:
    import dataclasses

    return dataclasses.replace(snap, error=error)


# -- one visitor's view --------------------------------------------------------------------------------
@dataclass
class LeaderboardView:
    """What the tab shows for one visitor's filters."""

    table: Any  # pandas DataFrame: measured and baseline rows
    datatypes: list[str]
    paper: Any  # pandas DataFrame: the paper's reported rows (possibly empty)
    paper_datatypes: list[str]
    status: str
    notes: str
    help: str
    skipped: str
    heatmaps: list[tuple[str, str]]
    heatmap: str | None
    heatmap_png: str | None
    perception_png: str | None
    plots_note: str
    suite: str
    suites: list[tuple[str, str]]
    games: list[tuple[str, str]]
    difficulties: list[str]
    model_types: list[str]
    game: str
    difficulty: str
    model_type: str
    loading: bool


def _num(x: Any) -> float | None:
    """A figure rounded for display (numbers stay numbers, so columns sort numerically)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    return float(round(v)) if abs(v) >= 100 else round(v, 1)


def _ci(lo: Any, hi: Any) -> str:
    a, b = _num(lo), _num(hi)
    if a is None or b is None:
        return ""
    return f"[{a:g}, {b:g}]"


def _pct(x: Any) -> float | None:
    return None if x is None else _num(100 * float(x))


def _pick(value: Any, choices: list[str], what: str, notes: list[str]) -> str:
    if value is None or value == "" or value == ALL:
        return ALL
    if not isinstance(value, str):
        raise SpaceError(f"the {what} filter must be text")
    if value not in choices:
        notes.append(f"{what} {value[:40]!r} is not in this suite: showing all")
        return ALL
    return value


def status_text(snap: Snapshot | None, loading: bool) -> str:
    """The status line above the table: the store, its counts, when it was aggregated, loading or failing."""
    if snap is None:
        return ("⏳ **Loading the leaderboard**: the Space is reading its results store and verifying every entry "
                "(replaying its step log). The first time this takes a while; the table appears here by itself.")
    lb = snap.lb
    when = time.strftime("%H:%M UTC", time.gmtime(snap.finished_at))
    n = len(lb.entries)
    parts = [f"**{n} verified run{'s' if n != 1 else ''}** in {esc(snap.source, 200)}",
             f"{len(lb.skipped)} left out" if lb.skipped else None,
             f"aggregated at {when} in {snap.seconds:.1f} s"]
    line = " · ".join(p for p in parts if p)
    if loading:
        line += " · ⏳ refreshing (verifying new entries)…"
    out = [line]
    if snap.demo:
        out.append(f"Showing the **demo store** (g1bench's own verified baselines): this Space's results store "
                   f"{esc(snap.results_store, 200)} " + ("could not be read" if snap.error else "has no entries yet") + ".")
    if snap.error:
        out.append(f"⚠️ {esc(snap.error, 500)}")
    return "\n\n".join(out)


def build_view(snap: Snapshot | None, suite: Any = None, search: Any = "", game: Any = ALL, difficulty: Any = ALL,
               model_type: Any = ALL, heatmap: Any = None, loading: bool = False) -> LeaderboardView:
    """The tab for one visitor's filters, from a snapshot (None: still loading). Bad filters: a SpaceError or,
    for a value of another suite, that filter reset to ``all`` with a note."""
    import pandas as pd

    from ..leaderboard.aggregation import BASELINE_KIND, MEASURED
    from ..leaderboard.paper import PAPER_GAMES, PAPER_ROWS
    from ..leaderboard.scoring import OVERALL_FORMULA, OVERALL_TEXT

    if search is None:
        search = ""
    if not isinstance(search, str):
        raise SpaceError("the search must be text")
    if len(search) > MAX_SEARCH_CHARS:
        raise SpaceError(f"the search is longer than {MAX_SEARCH_CHARS} characters")
    if suite is not None and not isinstance(suite, str):
        raise SpaceError("the suite must be text")
    status = status_text(snap, loading)
    if snap is None:
        empty = pd.DataFrame([], columns=["model"])
        return LeaderboardView(empty, ["str"], empty, ["str"], status, "", "", "", [], None, None, None, "",
                               suite or "paper",
                               [], [(ALL, ALL)], [ALL], [ALL], ALL, ALL, ALL, True)
    lb = snap.lb
    default = lb.resolve_suite("paper")
    try:  # a suite id, or a built-in suite's name (its newest version here)
        sid = lb.resolve_suite(suite or "paper")
    except ValueError:
        sid = None
    suite_ids = sorted(set(lb.suite_ids()) | {default} | ({sid} if sid else set()))
    if sid is None:
        raise SpaceError(f"no suite {str(suite)[:40]!r} on this leaderboard; choose one of: {', '.join(suite_ids)}")
    info = lb.suites.get(sid, {})
    games = list(info.get("games") or PAPER_GAMES)
    groups = info.get("groups") or [f"{g}/paper" for g in games]
    difficulties = sorted({k.split("/", 1)[1] for k in groups})
    rows = lb.table(sid)
    types = sorted({r.get("model_type") or "unknown" for r in rows})
    notes: list[str] = []
    game = _pick(game, games, "game", notes)
    difficulty = _pick(difficulty, difficulties, "difficulty", notes)
    model_type = _pick(model_type, types, "model type", notes)
    q = search.strip().lower()

    def keep(r: dict[str, Any]) -> bool:
        return (not q or q in str(r.get("model", "")).lower()) and \
            (model_type == ALL or (r.get("model_type") or "unknown") == model_type)

    shown_games = games if game == ALL else [game]
    single = info.get("single_difficulty", True)
    cell_mode = difficulty != ALL and not single  # one preset per game: a difficulty changes nothing
    if cell_mode:  # one difficulty: each game's cell at it (games without that preset drop out)
        shown_games = [g for g in shown_games if f"{g}/{difficulty}" in groups]

    # the verified rows: measured (by rank), then g1bench's baselines
    # rank and model first (pinned), then the scores: on a phone they are what shows without scrolling
    head = ["rank", "model", "overall", "overall 95% CI"]
    dtypes = ["str", "str", "number", "str"]
    for g in shown_games:
        title = GAME_COLUMNS.get(g, g)
        if single or cell_mode:
            head += [title, f"{title} 95% CI"]
            dtypes += ["number", "str"]
        else:
            head += [f"{title} (norm.)"]
            dtypes += ["number"]
    head += ["P acc %", "R acc %", "parse fail %", "section", "type", "date", "suite", "entry"]
    dtypes += ["number", "number", "number", "str", "str", "str", "str", "str"]
    data = []
    for r in rows:
        if r["kind"] not in (MEASURED, BASELINE_KIND) or not keep(r):
            continue
        summary = snap.summaries.get(r.get("entry_id") or "", {})
        baseline = r["kind"] == BASELINE_KIND
        cells: list[Any] = ["baseline" if baseline else (r.get("rank_label") or "–"), r["model"], _num(r.get("overall")),
                            _ci(r.get("overall_ci95_low"), r.get("overall_ci95_high"))]
        for g in shown_games:
            if cell_mode:
                grp = summary.get("groups", {}).get(f"{g}/{difficulty}")
                lo, hi = (grp.get("ci95") or [None, None]) if grp else (None, None)
                cells += [_num(grp["mean"]) if grp else None, _ci(lo, hi)]
            elif single:
                cells += [_num(r.get(g)), _ci(r.get(f"{g}_ci95_low"), r.get(f"{g}_ci95_high"))]
            else:
                cells += [_num(r.get(f"{g}_norm"))]
        cells += [_pct(r.get("perception_accuracy")), _pct(r.get("reasoning_accuracy")),
                  _pct(r.get("parse_failure_rate")), "baseline" if baseline else "measured",
                  r.get("model_type") or "unknown",
                  r.get("date") or "", r.get("suite_id") or "", r.get("entry_url") or ""]
        data.append(cells)
    table = pd.DataFrame(data, columns=head)

    # the paper's reported rows: their own table, only for the paper suite at its one difficulty
    p_head = ["model"] + [GAME_COLUMNS.get(g, g) for g in shown_games if g in PAPER_GAMES] + \
        ["section", "type", "source", "link"]
    p_dtypes = ["str"] + ["number" for g in shown_games if g in PAPER_GAMES] + ["str", "str", "str", "str"]
    p_data = []
    if sid.startswith("paper-") and difficulty in (ALL, "paper"):
        sources = {p["model"]: p["source"] for p in PAPER_ROWS}
        for r in rows:
            if r["kind"] == REPORTED and keep(r):
                p_data.append([r["model"]] + [_num(r.get(g)) for g in shown_games if g in PAPER_GAMES]
                              + [REPORTED, r.get("model_type") or "unknown", sources.get(r["model"], ""),
                                 r.get("entry_url") or ""])
    paper = pd.DataFrame(p_data, columns=p_head)

    note_lines = []
    if notes:
        note_lines.append("Note: " + "; ".join(esc(n) for n in notes) + ".")
    if info.get("note"):
        note_lines.append(f"⚠️ {esc(info['note'], 600)}")
    if not info:
        note_lines.append(f"No verified run of {esc(sid)} in this store yet.")
    if not single and not cell_mode:
        note_lines.append("This suite has several presets per game: each game column is the game's score normalised "
                          "between the baselines (0 = random, 100 = oracle); pick a difficulty to see one preset's "
                          "paper metric with its 95% CI.")
    help_lines = [f"**overall** (`{OVERALL_FORMULA}`): {esc(OVERALL_TEXT, 2000)}"]
    help_lines.append("**rank**: a model ranks above another only when its overall score is higher with 95% confidence "
                      "(non-overlapping intervals, or a paired bootstrap over the suite's shared seeds); `=2` marks a "
                      "shared rank. Baselines are g1bench's own policies (`random`, `oracle`, ...): marked in the rank "
                      "column, not ranked. **P acc** / **R acc**: "
                      "perception accuracy (the `<perception>` block matches the board exactly) and reasoning "
                      "accuracy (successful moves among the steps perceived exactly), over every step; **entry**: where the run's "
                      "files are (its step log, verified again whenever the leaderboard is aggregated).")
    skipped = ""
    if lb.skipped:
        shown = lb.skipped[:MAX_SKIPPED_SHOWN]
        skipped = "\n".join(f"- {esc(s['entry_id'], 160)}: {esc(s['reason'], 400)}" for s in shown)
        if len(lb.skipped) > len(shown):
            skipped += f"\n- … and {len(lb.skipped) - len(shown)} more"
    else:
        skipped = "Every entry of the store verified."

    # measured runs first (the ones a visitor came for), then the baselines
    ordered = sorted(snap.heatmaps, key=lambda m: m["kind"] == BASELINE_KIND)
    maps = [(m["model"] + (" (baseline)" if m["kind"] == BASELINE_KIND else "") + " · " + m["entry_id"].rsplit("--", 1)[-1],
             m["entry_id"]) for m in ordered if keep({"model": m["model"], "model_type": m["model_type"]})]
    if heatmap not in (None, "") and not isinstance(heatmap, str):
        raise SpaceError("the heatmap choice must be text")
    chosen = heatmap if heatmap in {e for _, e in maps} else (maps[0][1] if maps else None)
    perception = snap.perception_png if snap.perception_png and Path(snap.perception_png).is_file() else None
    return LeaderboardView(
        table=table, datatypes=dtypes, paper=paper, paper_datatypes=p_dtypes, status=status,
        notes="\n\n".join(note_lines), help="\n\n".join(help_lines), skipped=skipped, heatmaps=maps,
        heatmap=chosen, heatmap_png=heatmap_png(snap, chosen), perception_png=perception,
        plots_note=snap.plots_note, suite=sid,
        suites=[(s + ("" if s in lb.suites else " (no runs yet)"), s) for s in suite_ids],
        games=[(ALL, ALL)] + [(GAME_COLUMNS.get(g, g), g) for g in games], difficulties=[ALL] + difficulties,
        model_types=[ALL] + types, game=game, difficulty=difficulty, model_type=model_type, loading=loading)


def heatmap_png(snap: Snapshot | None, entry_id: Any) -> str | None:
    """The heatmap PNG of a run of the grid suite in a snapshot (None when it has none)."""
    if snap is None or not isinstance(entry_id, str):
        return None
    for m in snap.heatmaps:
        if m["entry_id"] == entry_id and m["png"] and Path(m["png"]).is_file():
            return m["png"]
    return None


def entry_dest(root: Path, store_name: str, entry_id: str) -> Path:
    """The folder an entry is fetched into (named by a hash: an entry id never becomes a path)."""
    return root / hashlib.sha256(f"{store_name}\0{entry_id}".encode()).hexdigest()[:32]


__all__ = ["LeaderboardService", "LeaderboardView", "Snapshot", "build_view", "status_text", "heatmap_png",
           "describe_store", "entry_dest",
           "GAME_COLUMNS", "ALL", "REPORTED"]

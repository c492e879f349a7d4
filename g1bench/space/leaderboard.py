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

What a visitor sees is drawn by :mod:`.board` (an HTML table): every text from an entry is escaped; the only
links are built there (a model's Hub page, an entry's folder in a Hub results repo). No server path is ever
shown: a local store is named "this Space's results folder", and every message from the store or the
verifier goes through the settings' :class:`~g1bench.space.text.PathScrubber`.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SpaceError
from .settings import SpaceSettings
from .text import PathScrubber, esc, h

log = logging.getLogger("g1bench.space")

ALL = "all"
#: column titles of the games (short: they head table columns)
GAME_COLUMNS = {"2048": "2048", "shisensho": "Shisen-Sho", "shisensho-images": "Shisen-Sho images", "swap": "Swap"}
#: heatmaps drawn per aggregation (one figure per run of the grid suite)
MAX_HEATMAPS = 60
MAX_SEARCH_CHARS = 200
MAX_SKIPPED_SHOWN = 50
REPORTED = "reported in the paper"
#: how a local results store and the demo store are named to visitors (never by their path)
LOCAL_STORE_NAME = "this Space's results folder"
DEMO_STORE_NAME = "the demo store (g1bench's own verified baselines)"


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class Snapshot:
    """One aggregation of the store, as the tab shows it (never changed once made).

    Attributes:
        generation: counts aggregations in this process (1 = the first).
        lb: the :class:`g1bench.leaderboard.Leaderboard`.
        store: the store the table was read from (the demo store when ``demo``); Replay fetches entries from it.
        source: that store's own name (``Store.describe()``: a path for a local store; for the server, never shown).
            demo: the results store was empty (or unreadable) and the demo store is shown. results_store: the
            results store as visitors see it (Markdown: a link to a Hub repo, or "this Space's results folder").
            error: why the results store could not be read, if it could not (no server path in it).
        public_source: the store the table was read from, as visitors see it (Markdown).
        repo_id: the results store's Hub repo (None for a local store); submissions go there.
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
    public_source: str = ""
    repo_id: str | None = None
    #: hides the Space's own folders in texts from the store and the verifier (see :class:`PathScrubber`)
    scrub: Any = _same

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


def public_store(store: Any, demo: bool = False) -> tuple[str, str | None]:
    """(how visitors see a store, as Markdown; its Hub repo id or None). A Hub store links to its dataset page;
    a local store is never named by its path."""
    if demo:
        return DEMO_STORE_NAME, None
    repo = getattr(store, "repo_id", None)
    if isinstance(repo, str):
        endpoint = str(getattr(store, "endpoint", "https://huggingface.co")).rstrip("/")
        return f"[{esc(repo, 200)}]({endpoint}/datasets/{repo})", repo
    return LOCAL_STORE_NAME, None


def public_store_spec(spec: str | None) -> str:
    """How the settings' results store reads to visitors before it is opened (a Hub repo id, or the folder)."""
    from ..leaderboard.identity import is_repo_id

    name = describe_store(spec)
    for prefix in ("hf://datasets/", "hf:"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return esc(name, 200) if is_repo_id(name.split("@", 1)[0]) and not Path(name).exists() else LOCAL_STORE_NAME


class LeaderboardService:
    """The per-process cache of the aggregated leaderboard (see the module docstring).

    Args:
        settings: the Space's settings (the results store, the demo store).
        plots_dir: where the plots of each aggregation are drawn (the app serves it as static files).
    """

    def __init__(self, settings: SpaceSettings, plots_dir: str | Path):
        self.settings = settings
        self.scrub = PathScrubber(settings.private_folders())
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

    def generation(self) -> int:
        """How many aggregations have started in this process (a later snapshot has a higher ``generation``)."""
        with self._lock:
            return self._generation

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
                err = self.scrub(f"the leaderboard could not be aggregated ({type(e).__name__}: {str(e)[:300]}); press "
                                 "Refresh to try again")
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
        public = public_store_spec(self.settings.results_store)
        return Snapshot(generation=self._generation, lb=Leaderboard.build([], [], name), store=None, source=name,
                        demo=False, results_store=public, error=error, finished_at=time.time(), seconds=0.0,
                        public_source=public, scrub=self.scrub)

    def _aggregate(self) -> Snapshot:
        from ..leaderboard import aggregate
        from ..leaderboard.aggregation import Leaderboard
        from ..leaderboard.store import LocalStore, StoreError

        t0 = time.perf_counter()
        with self._lock:
            self._generation += 1
            generation = self._generation
        name = describe_store(self.settings.results_store)
        public, repo_id = public_store_spec(self.settings.results_store), None
        lb, store, error = None, None, None
        try:
            store = self.open_store()
            name = store.describe()
            public, repo_id = public_store(store)
            lb = aggregate(store, log=lambda line: log.info("leaderboard: %s", line))
        except (StoreError, OSError, ValueError) as e:
            why = str(e).splitlines()[0][:400] if str(e) else type(e).__name__
            log.warning("leaderboard: the results store %s cannot be read: %s", name, why)
            error = self.scrub(f"the results store could not be read: {why}")
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
                        demo=demo, results_store=public, error=error, finished_at=time.time(),
                        seconds=time.perf_counter() - t0, heatmaps=heatmaps, perception_png=perception,
                        plots_note=note, summaries={s["entry_id"]: s for s in lb.entries},
                        public_source=public_store(store, demo)[0] if store is not None else public, repo_id=repo_id,
                        scrub=self.scrub)

    def _plots(self, lb: Any, generation: int) -> tuple[tuple[dict[str, Any], ...], str | None, str]:
        """The grid suite's heatmaps and perception plot as PNGs of this generation (older ones removed)."""
        if not lb.cells("grid"):
            return (), None, ("**Perception x reasoning heatmaps**: no run of the `grid` suite here yet. They chart a "
                              "model over every perception x reasoning preset of each game: run `g1bench eval --model "
                              "MODEL --suite grid -o runs/grid-MODEL` and submit the folder on the **Submit** tab.")
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
    """What the tab shows for one visitor's filters.

    ``table_html`` / ``paper_html``: the verified runs and the paper's reported rows (:mod:`.board`; the paper's
    table is empty outside the paper suite). ``counts``: ``{"shown", "suite", "measured", "baselines", "other",
    "paper", "all", "suites"}`` (the captions say the same). ``columns``: the optional columns shown.
    """

    table_html: str
    paper_html: str
    status: str
    notes: str
    help: str
    skipped: str
    heatmaps: list[tuple[str, str]]
    heatmap: str | None
    heatmap_png: str | None
    perception_png: str | None
    plots_note: str
    has_plots: bool
    suite: str
    suites: list[tuple[str, str]]
    games: list[tuple[str, str]]
    difficulties: list[str]
    model_types: list[str]
    game: str
    difficulty: str
    model_type: str
    columns: list[str]
    loading: bool
    counts: dict[str, int] = field(default_factory=dict)


def _pick(value: Any, choices: list[str], what: str, notes: list[str]) -> str:
    if value is None or value == "" or value == ALL:
        return ALL
    if not isinstance(value, str):
        raise SpaceError(f"the {what} filter must be text")
    if value not in choices:
        notes.append(f"{what} {value[:40]!r} is not in this suite: showing all")
        return ALL
    return value


def _columns(value: Any) -> list[str]:
    """The optional columns asked for (unknown ones are dropped: they may come from an older page)."""
    from .board import OPTIONAL_KEYS

    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or len(value) > 50 or not all(isinstance(v, str) for v in value):
        raise SpaceError("the columns must be a list of column names")
    return [k for k in OPTIONAL_KEYS if k in value]


def status_text(snap: Snapshot | None, loading: bool) -> str:
    """The line above the table: the store (never a path), when it was aggregated, loading or failing."""
    if snap is None:
        return ("⏳ **Loading the leaderboard**: the Space is reading its results store and verifying every entry "
                "(replaying its step log). The first time this takes a while; the table appears here by itself.")
    lb = snap.lb
    when = time.strftime("%H:%M UTC", time.gmtime(snap.finished_at))
    n, suites = len(lb.entries), len(lb.suites)
    parts = [f"{n} verified run{'s' if n != 1 else ''} in {suites} suite{'s' if suites != 1 else ''} of "
             f"{snap.public_source or LOCAL_STORE_NAME}",
             f"{len(lb.skipped)} left out (see below)" if lb.skipped else None,
             f"aggregated at {when} in {snap.seconds:.1f} s"]
    line = " · ".join(p for p in parts if p)
    if loading:
        line += " · ⏳ refreshing (verifying new entries)…"
    out = [line]
    if snap.demo:
        out.append(f"Showing the **demo store** (g1bench's own verified baselines): this Space's results store, "
                   f"{snap.results_store}, " + ("could not be read" if snap.error else "has no entries yet") + ".")
    if snap.error:
        out.append(f"⚠️ {esc(snap.scrub(snap.error), 500)}")
    return "\n\n".join(out)


def _loading_html(what: str) -> str:
    return (f'<div class="g1-board"><div class="g1-empty g1-loading" role="status"><span class="g1-spinner"></span>'
            f'Loading {what}…</div></div>')


def build_view(snap: Snapshot | None, suite: Any = None, search: Any = "", game: Any = ALL, difficulty: Any = ALL,
               model_type: Any = ALL, heatmap: Any = None, columns: Any = None, loading: bool = False) -> LeaderboardView:
    """The tab for one visitor's filters and optional columns, from a snapshot (None: still loading). Bad filters:
    a SpaceError or, for a value of another suite, that filter reset to ``all`` with a note."""
    from ..leaderboard.aggregation import BASELINE_KIND, MEASURED
    from ..leaderboard.paper import PAPER_GAMES, PAPER_ROWS, approximate_overall
    from .board import Cell, Row, entry_link, model_cell, number_cell, pct_cell, render_table, text_cell

    if search is None:
        search = ""
    if not isinstance(search, str):
        raise SpaceError("the search must be text")
    if len(search) > MAX_SEARCH_CHARS:
        raise SpaceError(f"the search is longer than {MAX_SEARCH_CHARS} characters")
    if suite is not None and not isinstance(suite, str):
        raise SpaceError("the suite must be text")
    extra = _columns(columns)
    status = status_text(snap, loading)
    if snap is None:
        return LeaderboardView(_loading_html("the leaderboard"), "", status, "", "", "", [], None, None, None, "",
                               False, suite or "paper", [], [(ALL, ALL)], [ALL], [ALL], ALL, ALL, ALL, extra, True)
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
    suite_name = info.get("name") or sid.rsplit("-v", 1)[0]
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
    show_ci = "ci" in extra
    per_game_norm = not single and not cell_mode  # several presets per game: the game's normalised score

    # the columns: overall and one per game by default, then what the visitor picked
    from .board import Column

    cols = [Column("overall", "overall", "overall",
                   help="0 = g1bench's random baseline, 100 = its oracle (see How to read this); 95% CI below")]
    for g in shown_games:
        title = GAME_COLUMNS.get(g, g)
        cols.append(Column(f"game:{g}", title + (" (norm.)" if per_game_norm else ""), title,
                           help=("the game's score normalised between the baselines" if per_game_norm else
                                 f"the paper's metric{'' if not cell_mode else ' at ' + difficulty}; hover for its 95% CI")))
    if "norm" in extra and not per_game_norm:
        cols += [Column(f"norm:{g}", f"{GAME_COLUMNS.get(g, g)} norm.", f"{GAME_COLUMNS.get(g, g)} norm.",
                        help="normalised: 0 = random, 100 = oracle") for g in shown_games]
    for key, title, short, hint in (("p_acc", "P acc", "P acc", "perception accuracy: the <perception> block matches "
                                     "the board exactly"),
                                    ("r_acc", "R acc", "R acc", "reasoning accuracy: successful moves among the steps "
                                     "perceived exactly"),
                                    ("parse", "parse fail", "parse fail", "answers that could not be parsed"),
                                    ("invalid", "invalid", "invalid", "answers that named an illegal move"),
                                    ("tokens", "out tok", "out tok", "mean output tokens per step"),
                                    ("latency", "latency s", "latency", "mean seconds per answer"),
                                    ("cost", "cost $", "cost", "the run's cost, where known")):
        if key in extra:
            cols.append(Column(key, title, short, help=hint))
    for key, title in (("type", "type"), ("date", "date"), ("entry", "entry")):
        if key in extra:
            cols.append(Column(key, title, title, numeric=False))

    def cells_of(r: dict[str, Any], approx: dict[str, Any] | None = None) -> dict[str, Cell]:
        summary = snap.summaries.get(r.get("entry_id") or "", {})
        out: dict[str, Cell] = {}
        if approx is not None:
            value = approx.get("overall")
            out["overall"] = (Cell(f'<abbr class="g1-approx" title="{h(approx["reason"], 600)}">≈ '
                                   f'{number_cell(value).text}</abbr>', number_cell(value).sort, "")
                              if value is not None else Cell("–", None, h(approx["reason"], 600)))
        else:
            out["overall"] = number_cell(r.get("overall"), r.get("overall_ci95_low"), r.get("overall_ci95_high"),
                                         show_ci=True)
        for g in shown_games:
            if cell_mode:
                grp = summary.get("groups", {}).get(f"{g}/{difficulty}")
                lo, hi = (grp.get("ci95") or [None, None]) if grp else (None, None)
                out[f"game:{g}"] = number_cell(grp["mean"] if grp else None, lo, hi, show_ci)
            elif per_game_norm:
                out[f"game:{g}"] = number_cell(r.get(f"{g}_norm"))
            else:
                out[f"game:{g}"] = number_cell(r.get(g), r.get(f"{g}_ci95_low"), r.get(f"{g}_ci95_high"), show_ci)
            if approx is not None:
                out[f"norm:{g}"] = number_cell(approx.get("games", {}).get(g))
            else:
                out[f"norm:{g}"] = number_cell(r.get(f"{g}_norm"))
        out["p_acc"], out["r_acc"] = pct_cell(r.get("perception_accuracy")), pct_cell(r.get("reasoning_accuracy"))
        out["parse"], out["invalid"] = pct_cell(r.get("parse_failure_rate")), pct_cell(r.get("invalid_action_rate"))
        out["tokens"], out["latency"] = number_cell(r.get("mean_output_tokens")), number_cell(r.get("mean_latency_s"))
        out["cost"] = number_cell(r.get("cost_usd"))
        out["type"], out["date"] = text_cell(r.get("model_type") or "unknown"), text_cell(r.get("date"))
        out["entry"] = (entry_link(r.get("entry_url"), r.get("entry_id")) if r.get("entry_id")
                        else Cell(h(r.get("source") or "–", 200), r.get("source") or ""))
        return out

    # the verified rows in the leaderboard's order: measured (by rank), baselines, then any other kind it lists
    table_rows: list[Row] = []
    counts = {"measured": 0, "baselines": 0, "other": 0}
    in_suite = [r for r in rows if r["kind"] != REPORTED]
    for r in in_suite:
        if not keep(r):
            continue
        kind = r["kind"]
        if kind == MEASURED:
            label, sort, counts["measured"] = (r.get("rank_label") or "–"), r.get("rank"), counts["measured"] + 1
        elif kind == BASELINE_KIND:
            label, sort, counts["baselines"] = "baseline", 10**6, counts["baselines"] + 1
        else:  # a kind this Space does not know (e.g. a copy of another entry): listed as the leaderboard says
            label, sort, counts["other"] = str(kind), 2 * 10**6, counts["other"] + 1
        rank = Cell(f'<span class="g1-rank-label">{h(label, 40) if kind == MEASURED else _tag(label)}</span>', sort)
        table_rows.append(Row(kind, rank, model_cell(r["model"], str(r.get("note") or "")), cells_of(r)))
    shown = len(table_rows)
    counts.update(shown=shown, suite=len(in_suite), all=len(lb.entries), suites=len(lb.suites))
    parts = [f"{counts['measured']} measured" if counts["measured"] else None,
             f"{counts['baselines']} baseline{'s' if counts['baselines'] != 1 else ''}" if counts["baselines"] else None,
             f"{counts['other']} listed, not ranked" if counts["other"] else None]
    detail = ", ".join(p for p in parts if p)
    caption = (f"<strong>{shown}</strong> of {len(in_suite)} verified run{'s' if len(in_suite) != 1 else ''} of "
               f"<code>{h(sid)}</code>" + (f" ({detail})" if detail else "")
               + (f" · {len(lb.entries) - len(in_suite)} more in other suites" if len(lb.entries) > len(in_suite) else ""))
    if not in_suite:
        empty = (f"No verified run of <code>{h(sid)}</code> yet. Evaluate a model with "
                 f"<code>g1bench eval --model MODEL --suite {h(suite_name)} -o runs/MODEL</code> and submit the run "
                 "folder on the <strong>Submit</strong> tab." + (" The paper's own figures are below." if
                                                                  suite_name == "paper" else ""))
    else:
        what = [f"“{h(search.strip(), 80)}”" if q else None, f"model type {h(model_type)}" if model_type != ALL else None]
        empty = (f"No run of <code>{h(sid)}</code> matches {' and '.join(w for w in what if w)}. Clear the search"
                 + (" or choose another model type" if model_type != ALL else "") + ".")
    table_html = render_table("lb-runs", cols, table_rows, caption, empty)

    # the paper's reported rows: their own table, for the paper suite at its one difficulty, each with an overall
    # score against this suite's baselines, marked approximate
    paper_html = ""
    p_rows: list[Row] = []
    if suite_name == "paper" and difficulty in (ALL, "paper"):
        sources = {p["model"]: p for p in PAPER_ROWS}
        anchors, game_of = info.get("anchors") or {}, info.get("game_of") or {}
        for r in rows:
            if r["kind"] != REPORTED or not keep(r):
                continue
            paper = sources.get(r["model"], {})
            approx = approximate_overall(paper.get("scores", {}), anchors, game_of)
            rank = Cell(f'<span class="g1-rank-label">{_tag("paper")}</span>', None)
            p_rows.append(Row(REPORTED, rank, model_cell(r["model"]), cells_of(dict(r, source=paper.get("source")), approx)))
        p_cols = [c for c in cols if c.key in ("overall", "type", "entry") or c.key.startswith(("game:", "norm:"))]
        p_cols = [Column("overall", "overall ≈", "overall ≈", help=c.help) if c.key == "overall" else
                  (Column("entry", "source", "source", numeric=False) if c.key == "entry" else c) for c in p_cols]
        reason = approximate_overall({}, anchors, game_of)["reason"] if not anchors else ""
        from ..leaderboard.paper import APPROXIMATE_REASON

        n_paper = len([r for r in rows if r["kind"] == REPORTED])
        p_caption = (f"<strong>{len(p_rows)}</strong> of {n_paper} rows reported in the G1 paper (Fig. 1), not verified "
                     "by g1bench; ≈ marks an approximate overall score")
        paper_html = render_table("lb-paper-rows", p_cols, p_rows, p_caption,
                                  f"No row of the paper matches “{h(search.strip(), 80)}”.",
                                  footnote="≈ overall: " + h(reason or APPROXIMATE_REASON, 600) + ".")
    counts["paper"] = len(p_rows)

    note_lines = []
    if notes:
        note_lines.append("Note: " + "; ".join(esc(n) for n in notes) + ".")
    if info.get("note"):
        note_lines.append(f"⚠️ {esc(snap.scrub(info['note']), 600)}")
    if per_game_norm:
        note_lines.append("This suite has several presets per game: each game column is the game's score normalised "
                          "between the baselines (0 = random, 100 = oracle); pick a difficulty to see one preset's "
                          "paper metric with its 95% CI.")
    skipped = ""
    if lb.skipped:
        shown_skipped = lb.skipped[:MAX_SKIPPED_SHOWN]
        skipped = "\n".join(f"- {esc(snap.scrub(s['entry_id']), 160)}: {esc(snap.scrub(s['reason']), 400)}"
                            for s in shown_skipped)
        if len(lb.skipped) > len(shown_skipped):
            skipped += f"\n- … and {len(lb.skipped) - len(shown_skipped)} more"
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
        table_html=table_html, paper_html=paper_html, status=status, notes="\n\n".join(note_lines),
        help=help_text(info), skipped=skipped, heatmaps=maps, heatmap=chosen, heatmap_png=heatmap_png(snap, chosen),
        perception_png=perception, plots_note=snap.plots_note, has_plots=bool(snap.heatmaps), suite=sid,
        suites=[(s + ("" if s in lb.suites else " (no runs yet)"), s) for s in suite_ids],
        games=[(ALL, ALL)] + [(GAME_COLUMNS.get(g, g), g) for g in games], difficulties=[ALL] + difficulties,
        model_types=[ALL] + types, game=game, difficulty=difficulty, model_type=model_type, columns=extra,
        loading=loading, counts=counts)


def _tag(label: str) -> str:
    return f'<span class="g1-tag">{h(label, 40)}</span>'


def help_text(info: dict[str, Any]) -> str:
    """"How to read this": the normalisation (with this suite's own baselines when it has them), the ranks, the
    random-legal tie and where the paper's rows come from."""
    from ..leaderboard.scoring import OVERALL_FORMULA

    anchors = info.get("anchors") or {}
    example = ""
    a2048 = next((v for k, v in anchors.items() if k.startswith("2048/")), None)
    if a2048 is not None:
        r, o = float(a2048[0]), float(a2048[1])
        mid = (r + o) / 2
        example = (f" On this suite g1bench's `random` scores {r:.0f} on 2048 and its `oracle` {o:.0f}, so a model "
                   f"scoring {mid:.0f} there gets 50 for 2048.")
    return "\n\n".join([
        f"**overall** (`{OVERALL_FORMULA}`): every game's score is put on one scale, 0 = g1bench's `random` baseline "
        "(the paper's random answers), 100 = its `oracle` (which reads the true board), with "
        "`norm = 100 × (score − random) / (oracle − random)`; the overall score is the mean over the games, so every "
        "game weighs the same whatever its unit (2048 sums merge points, the tile games count successful moves)."
        + example + " Nothing is clipped: below 0 is worse than random, above 100 beats the oracle (possible on 2048, "
        "where the oracle looks only two moves ahead). The interval under it is a 95% bootstrap over episodes.",
        "**rank**: a model ranks above another only when its overall score is higher with 95% confidence "
        "(non-overlapping intervals, or a paired bootstrap over the suite's shared seeds); `=2` marks a shared rank. "
        "`baseline` rows are g1bench's own policies: listed, never ranked.",
        "**Why `random-legal` ties the `oracle` on three games**: on Shisen-Sho, its natural-image variant and Swap the "
        "paper's metric counts *successful* moves, and every legal move succeeds there (a legal pair is removed, a "
        "legal swap makes a line). So any policy that always plays a legal move scores the maximum, 100 per 100 "
        "steps, exactly like the oracle. Those games measure whether a model sees the board and finds a legal move, "
        "not how well it plans. Only 2048 rewards planning: its metric sums merge points, and there the oracle's "
        "lookahead beats random legal moves.",
        "**Columns**: each game shows the paper's metric (hover for its 95% CI, or add the CIs with **Columns**). "
        "**P acc** / **R acc**: perception accuracy (the `<perception>` block matches the board exactly) and reasoning "
        "accuracy (successful moves among the steps perceived exactly). **entry**: the run's files (its step log, "
        "verified again every time the leaderboard is aggregated). Click a column's header to sort by it.",
        "**Reported in the paper**: the G1 paper's own figures (Fig. 1). g1bench cannot verify them, so they are "
        "listed apart; their overall score (≈) puts them on this suite's scale with g1bench's baselines and is "
        "approximate: the paper ran its own episodes, with no per-episode scores to give an interval.",
    ])


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
           "describe_store", "public_store", "public_store_spec", "help_text", "entry_dest", "GAME_COLUMNS", "ALL",
           "REPORTED", "LOCAL_STORE_NAME", "DEMO_STORE_NAME"]

"""The Space's Leaderboard, Submit and store-entry Replay backends, the tile warm-up and the deploy helpers,
without a server, on a small results store built from real runs (:func:`template_store`, shared with
tests/test_space_api.py, tests/test_space_browser.py and tests/test_space_hub.py).

Expected values come from g1bench.leaderboard itself (aggregate, the store, verify) and from replaying the
games here: the Space must show exactly what the leaderboard computes.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import g1bench
from g1bench.eval.policies import OraclePolicy, RandomPolicy
from g1bench.space import SpaceError
from g1bench.space.frames import FrameStore
from g1bench.leaderboard.aggregation import Leaderboard
from g1bench.space.board import fmt, read_table
from g1bench.space.leaderboard import LeaderboardService, build_view, heatmap_png
from g1bench.space.play import PlayBackend
from g1bench.space.replay import ReplayBackend
from g1bench.space.settings import SpaceSettings
from g1bench.space.submit import SubmitBackend, parse_hub_name, render_status
from g1bench.space.testing import zip_folder
from g1bench.space.text import esc, h
from g1bench.space.warmup import TileWarmup

from test_leaderboard import FakeVLM, Interrupting, make_run, tamper_figure, unknown_suite

ROOT = Path(__file__).resolve().parents[1]

# -- the shared results store -----------------------------------------------------------------------------
_TEMPLATE: dict = {}
_LOCK = threading.Lock()


def template_store() -> dict:
    """A results store made once per test process from real runs, and runs to submit. Keys: ``store`` (a
    LocalStore folder: smoke-suite runs of random, oracle, acme/vlm-7b (with frames) and acme/vlm-2b; grid-suite
    runs of random and acme/vlm-7b; the committed paper-suite baselines of leaderboard/), ``new`` / ``new_zip``
    (a smoke run of acme/vlm-13b that is not in the store), ``tampered_zip`` / ``tampered_reason`` (a copy of it
    with one results figure edited) and ``entries`` ({name: entry id}). Read-only: copy it with
    :func:`store_copy`."""
    with _LOCK:
        if _TEMPLATE:
            return _TEMPLATE
        from g1bench.leaderboard import open_store, push_run

        root = Path(tempfile.mkdtemp(prefix="g1bench-space-store-"))
        atexit.register(shutil.rmtree, root, True)
        old = os.environ.get("G1BENCH_CACHE_DIR")
        os.environ["G1BENCH_CACHE_DIR"] = str(root / "cache")  # verdicts of the build stay here
        try:
            store = open_store(str(root / "store"))
            entries = {}
            for suite, name, policy, frames in (
                    ("smoke", "random", RandomPolicy(), False), ("smoke", "oracle", OraclePolicy(), False),
                    ("smoke", "good", FakeVLM("acme/vlm-7b", skill=0.9), True),
                    ("smoke", "weak", FakeVLM("acme/vlm-2b", skill=0.3, seed=1), False),
                    ("grid", "random", RandomPolicy(), False), ("grid", "good", FakeVLM("acme/vlm-7b", skill=0.9), False)):
                run = make_run(root / "runs" / f"{suite}-{name}", suite, policy)
                entries[f"{suite}-{name}"] = push_run(run, store, frames=frames).entry_id
            shutil.copytree(ROOT / "leaderboard" / "entries" / "paper-v3", root / "store" / "entries" / "paper-v3")
            new = make_run(root / "submit" / "new-model", "smoke", FakeVLM("acme/vlm-13b", skill=0.7, seed=3))
            tampered, reason = tamper_figure(new, root / "submit" / "tampered-model")
        finally:
            if old is None:
                os.environ.pop("G1BENCH_CACHE_DIR", None)
            else:
                os.environ["G1BENCH_CACHE_DIR"] = old
        _TEMPLATE.update(root=root, store=root / "store", runs=root / "runs", new=new, tampered=tampered,
                         new_zip=zip_folder(new, root / "new-model.zip", skip=("frames",)),
                         tampered_zip=zip_folder(tampered, root / "tampered-model.zip", skip=("frames",)),
                         tampered_reason=reason,
                         entries=entries)
        return _TEMPLATE


def store_copy(dest: Path) -> Path:
    """A writable copy of the template store."""
    shutil.copytree(template_store()["store"], dest)
    return dest


def shared_cache() -> Path:
    """The g1bench cache the template store was built with: its verdicts are keyed by content, so tests that
    share it replay each entry once (a changed entry is a new key)."""
    return template_store()["root"] / "cache"


def make_service(root: Path) -> tuple[SpaceSettings, LeaderboardService]:
    settings = SpaceSettings(results_store=str(store_copy(root / "store")), demo_store=None, runs_dir=None,
                             work_dir=root / "work", accept_local_submissions=True, max_upload_mb=5)
    svc = LeaderboardService(settings, settings.scratch("leaderboard"))
    svc.refresh()
    assert svc.wait(120) is not None
    return settings, svc


@pytest.fixture(autouse=True)
def _cache(monkeypatch):
    monkeypatch.setenv("G1BENCH_CACHE_DIR", str(shared_cache()))


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A service on a store copy that no test changes (the read-only tests share it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("G1BENCH_CACHE_DIR", str(shared_cache()))
        return make_service(tmp_path_factory.mktemp("shared"))


@pytest.fixture
def fresh(tmp_path):
    """A service on a store copy of its own (for tests that add entries)."""
    return make_service(tmp_path)


def aggregated(store: Path):
    from g1bench.leaderboard import aggregate

    return aggregate(str(store), log=lambda line: None)


def table(view, which="table") -> dict:
    return read_table(view.table_html if which == "table" else view.paper_html)


def column(view, key, which="table"):
    """A column of a table as shown (its cells' text; the interval under a figure is apart, in ``ci``)."""
    return [r[key]["text"] for r in table(view, which)["rows"]]


def shown(x):
    return fmt(x)


# -- the leaderboard ----------------------------------------------------------------------------------------
def test_the_view_shows_what_the_leaderboard_aggregates(shared):
    lb_settings, service = shared
    from g1bench.leaderboard.paper import APPROXIMATE_REASON, PAPER_ROWS, approximate_overall

    snap = service.snapshot()
    lb = aggregated(Path(lb_settings.results_store))
    assert not service.loading() and snap.generation == 1 and not snap.demo and snap.error is None
    # the paper suite by default: a compact table (rank, model, overall with its CI, the four games), g1bench's
    # baselines marked in the rank column
    v = build_view(snap)
    assert v.suite == "paper-v3" and [s for _, s in v.suites] == ["grid-v2", "paper-v3", "smoke-v3"]
    t = table(v)
    assert t["columns"] == ["rank", "model", "overall", "game:2048", "game:shisensho", "game:shisensho-images",
                            "game:swap"]
    base = [r for r in lb.table("paper") if r["kind"] == "baseline"]
    assert column(v, "model") == [r["model"] for r in base] == ["oracle", "random"]
    assert column(v, "rank") == ["baseline", "baseline"] and [r["kind"] for r in t["rows"]] == ["baseline"] * 2
    assert column(v, "overall") == [shown(r["overall"]) for r in base]
    assert [r["overall"]["ci"] for r in t["rows"]] == [f"[{shown(r['overall_ci95_low'])}, {shown(r['overall_ci95_high'])}]"
                                                      for r in base]
    assert column(v, "game:2048") == [shown(r["2048"]) for r in base]
    assert [r["game:2048"]["title"] for r in t["rows"]] == [
        f"95% CI [{shown(r['2048_ci95_low'])}, {shown(r['2048_ci95_high'])}]" for r in base]
    # counts match the table shown: 2 of the suite's 2, the other suites' runs said apart
    assert t["count"] == 2 == v.counts["shown"] and v.counts == {"measured": 0, "baselines": 2, "other": 0, "shown": 2,
                                                                 "suite": 2, "all": 8, "suites": 3, "paper": 8}
    assert t["caption"] == "2 of 2 verified runs of paper-v3 (2 baselines) · 6 more in other suites"
    # the paper's rows in their own table, each with an overall score against this suite's baselines, marked ≈
    p = table(v, "paper")
    assert column(v, "model", "paper") == [r["model"] for r in PAPER_ROWS] and {r["kind"] for r in p["rows"]} == \
        {"reported in the paper"}
    info = lb.suites["paper-v3"]
    want = [approximate_overall(r["scores"], info["anchors"], info["game_of"])["overall"] for r in PAPER_ROWS]
    assert column(v, "overall", "paper") == [f"≈ {shown(x)}" for x in want]
    assert column(v, "game:swap", "paper") == [shown(r["scores"]["swap"]) for r in PAPER_ROWS]
    assert p["caption"].startswith("8 of 8 rows reported in the G1 paper") and h(APPROXIMATE_REASON, 1000) in v.paper_html
    # the store is never named by its path
    assert v.status.startswith("8 verified runs in 3 suites of this Space's results folder · aggregated at")
    assert str(lb_settings.results_store) not in v.status + v.table_html + v.paper_html
    assert "g1bench-overall/1" in v.help and "Why `random-legal` ties the `oracle` on three games" in v.help
    assert "On this suite g1bench's `random` scores 742 on 2048 and its `oracle` 1630" in v.help
    assert v.skipped == "Every entry of the store verified."
    # the smoke suite: measured rows ranked as the leaderboard ranks them, then baselines; no paper rows
    v = build_view(snap, "smoke-v3")
    smoke = [r for r in lb.table("smoke") if r["kind"] != "reported in the paper"]
    assert column(v, "model") == [r["model"] for r in smoke]
    assert column(v, "rank") == [r["rank_label"] if r["kind"] == "measured" else "baseline" for r in smoke]
    assert column(v, "model")[:2] == ["acme/vlm-7b", "acme/vlm-2b"] and v.paper_html == ""
    # Hub ids link to their model page; baselines are not Hub ids
    assert [r["model"]["href"] for r in table(v)["rows"]] == [
        f"https://huggingface.co/{r['model']}" if "/" in r["model"] else None for r in smoke]
    assert table(v)["caption"] == "4 of 4 verified runs of smoke-v3 (2 measured, 2 baselines) · 4 more in other suites"


def test_the_column_picker_and_links_to_entries(shared, tmp_path):
    lb_settings, service = shared
    snap = service.snapshot()
    lb = aggregated(Path(lb_settings.results_store))
    smoke = [r for r in lb.table("smoke") if r["kind"] != "reported in the paper"]
    v = build_view(snap, "smoke-v3", columns=["p_acc", "entry", "ci", "nonsense"])
    assert v.columns == ["ci", "p_acc", "entry"]   # in the picker's order; unknown ones dropped
    t = table(v)
    assert t["columns"][-2:] == ["p_acc", "entry"]
    assert column(v, "p_acc") == ["–" if r["perception_accuracy"] is None else f"{round(100 * r['perception_accuracy'], 1):g}%"
                                  for r in smoke]
    assert [r["game:2048"]["ci"] for r in t["rows"]] == [f"[{shown(r['2048_ci95_low'])}, {shown(r['2048_ci95_high'])}]"
                                                        for r in smoke]
    # a local store's entries: their short id, no link and no path
    assert column(v, "entry") == [r["entry_id"].rsplit("--", 1)[-1] for r in smoke]
    assert {r["entry"]["href"] for r in t["rows"]} == {None} and "file://" not in v.table_html
    # a Hub store's entries link to their folder in the results repo
    from g1bench.space.board import entry_link

    url = "https://huggingface.co/datasets/org/results/tree/abc/entries/smoke-v3/acme-vlm-7b--0123456789abcdef"
    html = entry_link(url, "smoke-v3/acme-vlm-7b--0123456789abcdef").text
    assert html == (f'<a href="{url}" target="_blank" rel="noopener noreferrer nofollow">0123456789abcdef</a>')
    assert "<a" not in entry_link("file:///srv/store/entries/x", "smoke-v3/x--1").text
    with pytest.raises(SpaceError, match="the columns must be a list of column names"):
        build_view(snap, columns=[1, 2])


def test_filters_search_and_empty_states(shared):
    lb_settings, service = shared
    snap = service.snapshot()
    v = build_view(snap, "smoke-v3", search="  VLM-2B ")
    assert column(v, "model") == ["acme/vlm-2b"] and table(v)["count"] == 1
    assert table(v)["caption"].startswith("1 of 4 verified runs of smoke-v3 (1 measured)")
    v = build_view(snap, "smoke-v3", model_type="baseline")
    assert sorted(column(v, "model")) == ["oracle", "random"] and v.model_types == ["all", "baseline", "open weights"]
    v = build_view(snap, "smoke-v3", game="swap")
    assert table(v)["columns"] == ["rank", "model", "overall", "game:swap"]
    v = build_view(snap, "paper-v3", model_type="API")
    assert set(column(v, "model", "paper")) == {"OpenAI o1", "Claude-3.7-Sonnet-Thinking", "GPT-4o"}
    # a search with no hits says so and what to do (no empty header)
    t = table(v)
    assert t["rows"] == [] and t["columns"] == [] and t["count"] == 0
    assert t["empty"] == "No run of paper-v3 matches model type API. Clear the search or choose another model type."
    t = table(build_view(snap, "smoke-v3", search="zebra"))
    assert t["empty"] == "No run of smoke-v3 matches “zebra”. Clear the search."
    # a built-in suite nobody ran here yet: what to run
    lb_empty = dataclasses.replace(snap, lb=Leaderboard.build([], [], "x"), summaries={})
    t = table(build_view(lb_empty))
    assert t["empty"] == ("No verified run of paper-v3 yet. Evaluate a model with g1bench eval --model MODEL --suite "
                          "paper -o runs/MODEL and submit the run folder on the Submit tab. The paper's own figures "
                          "are below.")
    # a filter of another suite falls back to "all" with a note; garbage is refused
    v = build_view(snap, "smoke-v3", difficulty="mono")
    assert v.difficulty == "all" and "difficulty 'mono' is not in this suite" in v.notes
    with pytest.raises(SpaceError, match="no suite 'tetris-v1' on this leaderboard"):
        build_view(snap, "tetris-v1")
    with pytest.raises(SpaceError, match="the search is longer than 200 characters"):
        build_view(snap, search="x" * 201)
    with pytest.raises(SpaceError, match="the game filter must be text"):
        build_view(snap, game=["swap"])
    # still loading: a loading state, no table
    v = build_view(None, loading=True)
    assert v.loading and v.status.startswith("⏳ **Loading the leaderboard**")
    assert table(v)["rows"] == [] and "Loading the leaderboard" in table(v)["empty"]


def test_rows_of_kinds_this_space_does_not_know_are_listed_not_ranked(shared):
    """The leaderboard may list more kinds of rows (a copy of another entry, a model it cannot resolve): the
    table shows them after the ranked ones, with their kind in the rank column and counted apart."""
    lb_settings, service = shared
    snap = service.snapshot()
    lb = snap.lb
    row = dict(next(r for r in lb.rows if r["suite_id"] == "smoke-v3" and r["model"] == "acme/vlm-2b"),
               kind="copy", rank=None, rank_label="", note="the same run as another entry")

    class Listing(type(lb)):   # a leaderboard whose table lists one more kind of row, after the others
        def table(self, suite="paper"):
            return super().table(suite) + ([row] if self.resolve_suite(suite) == "smoke-v3" else [])

    odd = Listing(**{f.name: getattr(lb, f.name) for f in dataclasses.fields(lb)})
    v = build_view(dataclasses.replace(snap, lb=odd), "smoke-v3")
    t = table(v)
    assert [r["kind"] for r in t["rows"]][-1] == "copy" and column(v, "rank")[-1] == "copy"
    assert t["rows"][-1]["model"]["title"] == "the same run as another entry"
    assert v.counts["other"] == 1 and "1 listed, not ranked" in t["caption"]


def test_grid_suite_cells_and_plots(shared):
    lb_settings, service = shared
    snap = service.snapshot()
    lb = aggregated(Path(lb_settings.results_store))
    v = build_view(snap, "grid-v2")
    # the store has no oracle entry on the grid suite, but the aggregation computes both baselines itself
    assert "no overall score" not in v.notes
    # several presets per game: one normalised score per game
    t = table(v)
    assert [c for c in t["columns"] if c.startswith("game:")] == ["game:2048", "game:shisensho",
                                                                  "game:shisensho-images", "game:swap"]
    assert "2048 (norm.)" in v.table_html and all(r["game:2048"]["text"] not in ("", "–") for r in t["rows"])
    assert "pick a difficulty" in v.notes
    v = build_view(snap, "grid-v2", difficulty="base", columns=["ci"])
    assert v.difficulty == "base"
    # shisensho-images has no 'base' preset
    assert table(v)["columns"] == ["rank", "model", "overall", "game:2048", "game:shisensho", "game:swap"]
    summaries = {s["model"]: s for s in lb.entries if s["suite_id"] == "grid-v2"}
    for r in table(v)["rows"]:
        if r["model"]["text"] not in summaries:  # the oracle baseline the aggregation computed (the store has none)
            assert r["model"]["text"] == "oracle"
            continue
        g = summaries[r["model"]["text"]]["groups"]["2048/base"]
        assert r["game:2048"]["text"] == shown(g["mean"]) and r["game:2048"]["ci"] == f"[{shown(g['ci95'][0])}, " \
                                                                                       f"{shown(g['ci95'][1])}]"
    # heatmaps per grid run and the perception plot, drawn in the background
    assert v.has_plots and {m["model"] for m in snap.heatmaps} == {"random", "acme/vlm-7b"}
    assert all(Path(m["png"]).is_file() and Image.open(m["png"]).size[0] > 600 for m in snap.heatmaps)
    assert Image.open(snap.perception_png).size[0] > 600 and "grid" in snap.plots_note
    v = build_view(snap, "grid-v2", search="acme")
    assert [e for _, e in v.heatmaps] == [template_store()["entries"]["grid-good"]] and v.heatmap_png is not None
    assert heatmap_png(snap, template_store()["entries"]["grid-random"]).endswith(".png")
    assert heatmap_png(snap, "grid-v2/nothing--0000000000000000") is None


def test_skipped_entries_and_the_demo_store(tmp_path):
    store = store_copy(tmp_path / "store")
    entry = next((store / "entries" / "smoke-v3").glob("acme-vlm-2b--*"))
    data = json.loads((entry / "results.json").read_text())
    data["results"]["2048/paper"]["mean"] += 1
    (entry / "results.json").write_text(json.dumps(data))
    settings = SpaceSettings(results_store=str(store), demo_store=None, work_dir=tmp_path / "w")
    svc = LeaderboardService(settings, tmp_path / "plots")
    svc.refresh()
    v = build_view(svc.wait(120), "smoke-v3")
    lb = aggregated(store)
    assert len(lb.skipped) == 1 and "acme/vlm-2b" not in column(v, "model")
    assert "1 left out" in v.status and v.skipped.startswith(f"- smoke-v3/acme-vlm-2b--")
    assert "results.json results\\['2048/paper'\\].mean: recorded" in v.skipped   # escaped Markdown
    # an empty results store: the demo store is shown, said so (by name, not by path)
    settings = SpaceSettings(results_store=str(tmp_path / "empty"), demo_store=template_store()["store"],
                             work_dir=tmp_path / "w2")
    svc = LeaderboardService(settings, tmp_path / "plots2")
    svc.refresh()
    snap = svc.wait(120)
    v = build_view(snap)
    assert snap.demo and snap.source == str(template_store()["store"])
    assert "Showing the **demo store**" in v.status and "has no entries yet" in v.status
    assert "the demo store (g1bench's own verified baselines)" in v.status and str(tmp_path) not in v.status
    assert column(v, "model") == ["oracle", "random"]
    # no store and no demo: the paper's rows alone, with no overall score (no baselines), said why
    settings = SpaceSettings(results_store=str(tmp_path / "empty"), demo_store=None, work_dir=tmp_path / "w3")
    svc = LeaderboardService(settings, tmp_path / "plots3")
    svc.refresh()
    v = build_view(svc.wait(60))
    assert table(v)["rows"] == [] and len(table(v, "paper")["rows"]) == 8 and "0 verified runs" in v.status
    assert set(column(v, "overall", "paper")) == {"–"}
    assert h("no overall score: this suite has no random and oracle baseline runs to normalise with") in v.paper_html


def test_a_failed_aggregation_keeps_the_last_table_and_says_why(tmp_path):
    settings = SpaceSettings(results_store=str(store_copy(tmp_path / "store")), demo_store=None, work_dir=tmp_path / "w")
    svc = LeaderboardService(settings, tmp_path / "plots")

    def boom():
        raise RuntimeError(f"disk on fire at {settings.results_store}/entries")

    real, svc._aggregate = svc._aggregate, boom
    svc.refresh()
    v = build_view(svc.wait(60))   # nothing before: the paper's rows and the reason (the store's path hidden)
    assert table(v)["rows"] == [] and len(table(v, "paper")["rows"]) == 8 and not v.loading
    assert ("⚠️ the leaderboard could not be aggregated (RuntimeError: disk on fire at \\[results store\\]); press "
            "Refresh") in v.status
    svc._aggregate = real
    svc.refresh()
    assert len(table(build_view(svc.wait(60)))["rows"]) == 2 and svc.snapshot().error is None
    svc._aggregate = boom
    svc.refresh()
    v = build_view(svc.wait(60))   # a table before: it stays, with the reason
    assert len(table(v)["rows"]) == 2 and "disk on fire" in v.status


def test_refresh_while_running_runs_once_more(fresh):
    lb_settings, service = fresh
    """A submission made during an aggregation is in the next table: refresh() during a run queues one more."""
    from g1bench.leaderboard import open_store, push_run

    gate, real = threading.Event(), service._aggregate
    service._aggregate = lambda: (gate.wait(60), real())[1]   # hold the aggregation until the run is added
    assert service.refresh() is True and service.loading()
    push_run(template_store()["new"], open_store(lb_settings.results_store))
    assert service.refresh() is False   # already running: one more pass is queued
    gate.set()
    snap = service.wait(120)
    assert snap.generation == 3 and "acme/vlm-13b" in column(build_view(snap, "smoke-v3"), "model")


# -- submissions ----------------------------------------------------------------------------------------------
def test_submit_a_zip_until_it_is_on_the_board_then_already_there(fresh):
    lb_settings, service = fresh
    from g1bench.leaderboard import open_store

    sub = SubmitBackend(lb_settings, service)
    assert sub.describe().startswith("Verified runs are added to this Space's results store, this Space's results "
                                     "folder, and appear on the leaderboard")
    first = sub.submit(str(template_store()["new_zip"]), "")
    assert first.state in ("queued", "verifying", "writing") and first.label == "new-model.zip"
    done = sub.queue.wait(first.id)
    assert done.state == "on the board", done.message
    entry = done.entry_id
    assert entry in {r.entry_id for r in open_store(lb_settings.results_store).entries()}
    assert done.message.startswith(f"**On the board**: entry `{entry}` of `smoke-v3` (rank ")
    assert "acme/vlm-13b" in column(build_view(service.snapshot(), "smoke-v3"), "model")
    # the same run again: it says which entry it is, and writes nothing
    again = sub.queue.wait(sub.submit(str(template_store()["new_zip"]), None).id)
    assert again.state == "already on the board" and again.entry_id == entry
    assert again.message.startswith(f"**Already on the board**: this run is entry `{entry}` of `smoke-v3`")
    assert not any(lb_settings.scratch("submissions").iterdir())   # unpacked uploads are removed
    # a visitor sees only the submissions they hold the ids of
    assert [s.id for s in sub.queue.status([again.id, "not-an-id", 7])] == [again.id]
    text = render_status(sub.queue.status([first.id, again.id]))
    assert text.startswith("#### Your submissions") and text.index("· already on the board") < text.index("· on the board\n")


@pytest.mark.slow
def test_a_slow_submission_does_not_block_the_others(fresh, tmp_path):
    """Several submissions at once: a paper-suite run (4,000 steps to replay) and a small one submitted after it;
    the small one is on the board while the big one is still being verified."""
    lb_settings, service = fresh
    from g1bench.leaderboard import open_store

    big = open_store(str(ROOT / "leaderboard"))
    oracle = next(r.entry_id for r in big.entries() if "/oracle--" in r.entry_id)
    run = big.fetch_entry(oracle, dest=tmp_path / "paper-oracle", frames=False)
    sub = SubmitBackend(lb_settings, service)
    slow = sub.submit(str(zip_folder(run, tmp_path / "paper-oracle.zip")))
    fast = sub.submit(str(template_store()["new_zip"]))
    done = sub.queue.wait(fast.id, 120)
    still = sub.queue.status([slow.id])[0]
    assert done.state == "on the board" and still.state == "verifying", (done, still)
    slow_done = sub.queue.wait(slow.id, 300)   # the paper baselines are in the store already
    assert slow_done.state == "already on the board" and slow_done.entry_id == oracle


def test_submit_refuses_with_the_reason(fresh, tmp_path):
    lb_settings, service = fresh
    sub = SubmitBackend(lb_settings, service)
    t = template_store()
    res = sub.queue.wait(sub.submit(str(t["tampered_zip"]), "").id)
    assert res.state == "refused"
    assert res.message == f"**Refused**: {esc('tampered-model does not verify: ' + t['tampered_reason'], 700)}"
    runs = tmp_path / "runs"
    shard = make_run(runs / "shard", "smoke", RandomPolicy(), shard=(0, 2))
    with pytest.raises(KeyboardInterrupt):
        make_run(runs / "incomplete", "smoke", Interrupting(RandomPolicy(), after=3))
    mystery = unknown_suite(t["new"], runs / "mystery")
    for run, words in ((shard, "shard"), (runs / "incomplete", "incomplete"), (mystery, "not a built-in one")):
        res = sub.queue.wait(sub.submit(str(zip_folder(run, tmp_path / f"{run.name}.zip"))).id)
        assert res.state == "refused" and res.message.startswith(f"**Refused**: {run.name} ") and words in res.message, \
            res.message
        assert "submissions" not in res.message and str(tmp_path) not in res.message   # no path of the Space
    # not a run, two runs, both or neither input: refused at once
    junk = tmp_path / "junk.zip"
    with zipfile.ZipFile(junk, "w") as zf:
        zf.writestr("notes/readme.txt", "hello")
    with pytest.raises(SpaceError, match="the zip holds no run folder"):
        sub.submit(str(junk))
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        for name in ("a", "b"):
            for f in ("run.json", "results.json", "steps.jsonl"):
                zf.write(t["new"] / f, f"{name}/{f}")
    with pytest.raises(SpaceError, match="the zip holds 2 run folders; submit one run at a time"):
        sub.submit(str(two))
    with pytest.raises(SpaceError, match="give either a zip or a Hub name, not both"):
        sub.submit(str(junk), "org/name")
    with pytest.raises(SpaceError, match="upload a run folder as a .zip, or name a Hub dataset repo"):
        sub.submit(None, "  ")
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../run.json", "{}")
    with pytest.raises(SpaceError, match="the zip has a path that leaves its folder"):
        sub.submit(str(evil))
    assert not any(lb_settings.scratch("submissions").iterdir())


def test_submit_without_write_access_shows_the_push_command(tmp_path, monkeypatch):
    store = store_copy(tmp_path / "store")
    settings = SpaceSettings(results_store=str(store), demo_store=None, work_dir=tmp_path / "w")
    svc = LeaderboardService(settings, tmp_path / "plots")
    sub = SubmitBackend(settings, svc)
    assert "does not add them to its results store (this Space's results folder)" in sub.describe()
    assert sub.button_label() == "Verify"
    before = sorted(p.name for p in (store / "entries" / "smoke-v3").iterdir())
    res = sub.queue.wait(sub.submit(str(template_store()["new_zip"])).id)
    assert res.state == "verified"
    # a local store has no repo a visitor could push to: the command names theirs, never a path here
    assert "```bash\ng1bench push new-model --repo ORG/NAME\n```" in res.message and str(store) not in res.message
    assert sorted(p.name for p in (store / "entries" / "smoke-v3").iterdir()) == before
    # a Hub store without the operator's write token: the command names this Space's results repo
    from g1bench.leaderboard.store import HubStore

    monkeypatch.delenv("G1BENCH_TEST_WRITE", raising=False)
    hub_settings = SpaceSettings(results_store="org/results", write_token_env="G1BENCH_TEST_WRITE", work_dir=tmp_path / "h")
    can, why = LeaderboardService(hub_settings, tmp_path / "p").write_policy(HubStore("org/results"))
    assert (can, why) == (False, "this Space holds no write token for org/results (the operator sets the "
                                 "G1BENCH_TEST_WRITE secret)")
    hub_sub = SubmitBackend(hub_settings, LeaderboardService(hub_settings, tmp_path / "p"))
    from g1bench.eval.verify import verify_run

    text = hub_sub._command(verify_run(template_store()["new"]), "new-model", why, HubStore("org/results"), None, str)
    assert "```bash\ng1bench push new-model --repo org/results\n```" in text
    assert "Add it to this leaderboard's results repo, org/results, from your machine" in text
    monkeypatch.setenv("G1BENCH_TEST_WRITE", "hf_xyz")
    assert LeaderboardService(hub_settings, tmp_path / "p").write_policy(HubStore("org/results")) == (True, "")


def test_every_verification_goes_through_one_seam(fresh, monkeypatch):
    """Submit verifies only through verify_submission, in a verifier process under the suite's budget: never in the
    Space's own process."""
    lb_settings, service = fresh
    import g1bench.space.submit as submit_mod

    seen = []
    real = submit_mod.verify_submission
    monkeypatch.setattr(submit_mod, "verify_submission", lambda run_dir, work: seen.append(run_dir) or real(run_dir, work))
    import g1bench.eval.verify as verify_mod

    calls = []
    real_verify = verify_mod.verify_run
    monkeypatch.setattr(verify_mod, "verify_run", lambda *a, **k: calls.append(a) or real_verify(*a, **k))
    sub = SubmitBackend(lb_settings, service)
    res = sub.queue.wait(sub.submit(str(template_store()["new_zip"])).id)
    assert res.state == "on the board" and len(seen) == 1   # verified once, through the seam
    assert calls == []   # the replay ran in the verifier process, not in the Space's


@pytest.mark.parametrize("name,expected", [
    ("org/runs", ("org/runs", None, "")),
    ("org/runs/models/qwen-7b", ("org/runs", None, "models/qwen-7b")),
    ("org/runs@v2/qwen", ("org/runs", "v2", "qwen")),
    ("hf://datasets/org/runs/qwen/", ("org/runs", None, "qwen")),
    ("https://huggingface.co/datasets/org/runs/tree/main/a/b", ("org/runs", "main", "a/b")),
])
def test_hub_names(name, expected):
    assert parse_hub_name(name) == expected


@pytest.mark.parametrize("name,message", [
    ("just-a-name", "is not a Hub dataset name"), ("org/runs/../../etc", "may not contain '.' or '..' parts"),
    ("org/runs/a//b", "may not contain '.' or '..' parts"), ("", "name a Hub dataset repo"),
    ("https://evil.example/x", "is not a Hub dataset name"),
])
def test_bad_hub_names(name, message):
    with pytest.raises(SpaceError, match=message.replace("(", "\\(").replace(".", "\\.")):
        parse_hub_name(name)


# -- replaying store entries ----------------------------------------------------------------------------------
def test_replay_a_store_entry_with_stored_and_drawn_frames(shared):
    lb_settings, service = shared
    from g1bench.eval.rundir import load_episodes, read_run_json, run_suite
    from g1bench.eval.suites import start_game

    t = template_store()
    replay = ReplayBackend(lb_settings, FrameStore(lb_settings.scratch("frames")), service)
    ids = [e for _, e in replay.entry_choices()]
    assert set(t["entries"].values()) <= set(ids) and len(ids) == 8
    # stored frames (pushed with frames)
    s, view = replay.open_entry(t["entries"]["smoke-good"])
    ep = load_episodes(t["runs"] / "smoke-good")[0]
    assert view.answer == ep["steps"][0]["answer"] and view.info.startswith("**entry: acme/vlm-7b · smoke-v3 ·")
    stored = t["runs"] / "smoke-good" / "frames" / f"{ep['steps'][0]['frame']}.png"
    assert open(view.frame, "rb").read() == stored.read_bytes()
    # no stored frames: drawn by replaying the logged answers, each one the board the log says
    s, view = replay.open_entry(t["entries"]["grid-random"], s)
    run = t["runs"] / "grid-random"
    suite = run_suite(read_run_json(run))
    ep = load_episodes(run)[0]
    spec = next(e for e in suite.episodes if e.episode_id == ep["episode_id"])
    env = spec.make_env()
    start_game(spec, env, 0)
    assert np.array_equal(np.asarray(Image.open(view.frame).convert("RGB")), env.render())
    assert "frame drawn by replaying the logged answers" in view.info
    # every drawn frame is the frame the run stored when it was played (the entry was pushed without them)
    for i, rec in enumerate(ep["steps"]):
        s, view = replay.goto(s, i)
        assert view.answer == rec["answer"]
        assert np.array_equal(np.asarray(Image.open(view.frame).convert("RGB")),
                              np.asarray(Image.open(run / "frames" / f"{rec['frame']}.png").convert("RGB")))
    gif = replay.gif(s)
    assert 2 <= Image.open(gif).n_frames <= len(ep["steps"])
    with pytest.raises(SpaceError, match="no verified entry 'paper-v3/x--0000' in the results store"):
        replay.open_entry("paper-v3/x--0000", s)
    with pytest.raises(SpaceError, match="the results store is still being read"):
        ReplayBackend(lb_settings, FrameStore(lb_settings.scratch("f2")),
                      LeaderboardService(lb_settings, lb_settings.scratch("p2"))).open_entry(ids[0])


def test_drawing_stops_where_the_log_and_the_game_part(shared, tmp_path):
    lb_settings, service = shared
    """A log whose state hashes do not follow the game gets no drawn frame from that step on."""
    from g1bench.eval.rundir import load_episodes

    t = template_store()
    run = tmp_path / "run"
    shutil.copytree(t["runs"] / "grid-random", run)
    lines = (run / "steps.jsonl").read_text().splitlines()
    ep_id = load_episodes(run)[0]["episode_id"]
    for i, line in enumerate(lines):
        rec = json.loads(line)
        if rec["episode_id"] == ep_id and rec["step"] == 3:
            rec["state_hash"] = "0" * len(rec["state_hash"])
            lines[i] = json.dumps(rec)
    (run / "steps.jsonl").write_text("\n".join(lines) + "\n")
    replay = ReplayBackend(lb_settings, FrameStore(lb_settings.scratch("frames")), service)
    records = load_episodes(run)[0]["steps"]
    drawn = replay.render_episode(run, ep_id, records)
    assert [d is not None for d in drawn[:5]] == [True, True, True, False, False] and set(drawn[3:]) == {None}


# -- the tile warm-up -----------------------------------------------------------------------------------------
def test_natural_image_deals_wait_for_the_warm_up_not_the_visitor(tmp_path, monkeypatch):
    """While CIFAR-10 loads in the background, its preset is refused with a message (no visitor waits on the
    download); the bundled preset and other games play; submissions wait too."""
    import g1bench.tiles as tiles

    release = threading.Event()
    real = tiles.resolve_tiles

    def slow(source, n):  # the download: blocks until released
        if source == "cifar10":
            release.wait(30)
        return real(source, n)

    monkeypatch.setattr(tiles, "resolve_tiles", slow)
    warm = TileWarmup().start()
    assert warm.sources is None and warm.busy()
    for _ in range(300):   # the bundled pack goes first and takes milliseconds
        if not warm.loading("bundled", 32):
            break
        threading.Event().wait(0.01)
    assert warm.loading("cifar10", 32) and not warm.loading("bundled", 32)
    settings = SpaceSettings(work_dir=tmp_path, demo_store=None)
    play = PlayBackend(settings, FrameStore(tmp_path / "f"), warm)
    with pytest.raises(SpaceError, match="the CIFAR-10 pictures for this game are still being loaded"):
        play.new_game("shisensho-images", "paper", 0)
    with pytest.raises(SpaceError, match="still being loaded"):
        play.new_game("shisensho-images", "more-tiles", 0)
    _, view = play.new_game("shisensho-images", "bundled", 0)
    assert view.frame is not None
    play.new_game("2048", "paper", 0)
    sub = SubmitBackend(settings, LeaderboardService(settings, tmp_path / "p"), warm)
    with pytest.raises(SpaceError, match="verifying a run needs the CIFAR-10 pictures, which the Space is still loading"):
        sub.submit(str(template_store()["new_zip"]))
    release.set()
    assert warm.wait(60) and not warm.busy()
    _, view = play.new_game("shisensho-images", "paper", 0)
    assert view.frame is not None and set(warm.report) == {"bundled", "cifar10"}


# -- settings and deploy helpers ------------------------------------------------------------------------------
def test_settings_of_the_store_and_submissions(tmp_path, monkeypatch):
    s = SpaceSettings.from_env({"G1BENCH_SPACE_RESULTS": "org/results", "G1BENCH_SPACE_DEMO_STORE": "none",
                                "G1BENCH_SPACE_ACCEPT_LOCAL": "1", "G1BENCH_SPACE_WARM_TILES": "0",
                                "G1BENCH_SPACE_PRELOAD": "off", "G1BENCH_SPACE_WRITE_TOKEN_ENV": "MY_TOKEN"},
                               work_dir=tmp_path)
    assert (s.results_store, s.demo_store, s.accept_local_submissions, s.warm_tiles, s.preload_leaderboard,
            s.write_token_env) == ("org/results", None, True, False, False, "MY_TOKEN")
    monkeypatch.setenv("MY_TOKEN", " hf_abc ")
    assert s.write_token == "hf_abc"
    d = SpaceSettings.from_env({}, work_dir=tmp_path)
    assert d.demo_store == ROOT / "leaderboard" and d.results_store is None and d.warm_tiles and d.preload_leaderboard
    assert not d.accept_local_submissions and d.write_token_env == "HF_TOKEN"
    assert SpaceSettings.from_env({"G1BENCH_SPACE_DEMO_STORE": "/x/y"}, work_dir=tmp_path).demo_store == Path("/x/y")


def test_deploy_helpers(tmp_path):
    from g1bench.space.deploy import DeployError, build_wheel, pin_requirements, space_files

    reqs = (ROOT / "space_app" / "requirements.txt").read_text()
    pinned = pin_requirements(reqs, "g1bench[space] @ http://h/w.whl#sha256=ab")
    assert [x for x in pinned.splitlines() if x and not x.startswith("#")] == ["g1bench[space] @ http://h/w.whl#sha256=ab"]
    assert pin_requirements("numpy\n", "g1bench @ u") == "numpy\ng1bench @ u\n"
    app = tmp_path / "app"
    (app / "__pycache__").mkdir(parents=True)
    for name in ("app.py", "README.md", "requirements.txt", "__pycache__/x.pyc", ".env"):
        (app / name).write_text("x")
    assert sorted(space_files(app)) == ["README.md", "app.py", "requirements.txt"]
    with pytest.raises(DeployError, match="is not a Space folder"):
        space_files(tmp_path)
    before = sorted(p.name for p in ROOT.iterdir())
    wheel = build_wheel(ROOT, tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    assert wheel.name == f"g1bench-{g1bench.__version__}-py3-none-any.whl"
    assert {"g1bench/space/ui.py", "g1bench/space/deploy.py", "g1bench/assets/tilepack/manifest.json"} <= set(names)
    assert not any("__pycache__" in n for n in names)
    assert sorted(p.name for p in ROOT.iterdir()) == before   # nothing written into the checkout
    with pytest.raises(DeployError, match="is not a g1bench checkout"):
        build_wheel(tmp_path, tmp_path / "dist2")

"""The Space in a real browser: Debian's chromium driven by playwright, against the app on 127.0.0.1, every point at
a laptop's 1366x850 and a phone's 390x844 (touch).

Screenshots of every step worth looking at go to ``$G1BENCH_SCREENSHOTS`` (default ``tests/artifacts/space``, which
git ignores), named ``<what>-<laptop|phone>.png``. Skipped only when /usr/bin/chromium is absent (CI installs it).
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
import warnings
from pathlib import Path

import pytest

from g1bench.space.testing import CHROMIUM, CHROMIUM_ARGS, make_run, serve, zip_folder

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium); the browser tests need it", allow_module_level=True)
pytest.importorskip("gradio")
sync_api = pytest.importorskip("playwright.sync_api")

import g1bench  # noqa: E402
from g1bench.eval.runner import load_episodes  # noqa: E402
from g1bench.space.settings import SpaceSettings  # noqa: E402
from g1bench.testing.fake_openai import FakeOpenAIServer  # noqa: E402

from test_leaderboard import FakeVLM  # noqa: E402
from test_leaderboard import make_run as make_suite_run  # noqa: E402
from test_space_leaderboard import shared_cache, store_copy, template_store  # noqa: E402

expect = sync_api.expect
expect.set_options(timeout=20_000)   # a loaded CI machine can take seconds per round trip
ROOT = Path(__file__).resolve().parents[1]
SIZES = {"laptop": {"viewport": {"width": 1366, "height": 850}},
         "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}}
TIMEOUT = 20_000
STEP_LIMIT_S = 3.0
TAB_LABELS = {"play": "Play", "watch": "Watch", "replay": "Replay", "leaderboard": "Leaderboard", "submit": "Submit",
              "about": "About"}


@pytest.fixture(scope="module")
def artifacts():
    out = Path(os.environ.get("G1BENCH_SCREENSHOTS") or ROOT / "tests" / "artifacts" / "space")
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("space-browser")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADIO_TEMP_DIR", str(root / "gradio"))
        mp.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        mp.setenv("G1BENCH_CACHE_DIR", str(shared_cache()))
        make_run(root / "runs" / "oracle-small")
        settings = SpaceSettings(runs_dir=root / "runs", record_dir=root / "human", work_dir=root / "work",
                                 results_store=str(store_copy(root / "store")), demo_store=None,
                                 accept_local_submissions=True, allow_private_endpoints=True,
                                 visitor_step_limit_s=STEP_LIMIT_S)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with serve(settings) as (demo, url):
                demo.g1bench.leaderboard.wait(120)
                yield {"url": url, "root": root, "demo": demo, "settings": settings}


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(params=list(SIZES))
def size(request):
    return request.param


def new_page(browser, size, url):
    ctx = browser.new_context(**SIZES[size])
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    page.wait_for_selector("#tab-leaderboard")
    return page


@pytest.fixture
def page(browser, app, size):
    pg = new_page(browser, size, app["url"])
    yield pg
    pg.context.close()


def shot(page, artifacts, what, size, full=True):
    page.screenshot(path=str(artifacts / f"{what}-{size}.png"), full_page=full)


def open_tab(page, name):
    page.locator(f"#tab-{name}-button").click()   # tabs wrap onto a second row on a phone: every tab is visible
    page.wait_for_selector(f"#tab-{name}", state="visible")


def choose(page, elem_id, label, exact=True):
    page.click(f"#{elem_id} input")
    if exact:
        page.click(f"#{elem_id} li[aria-label='{label}']")
    else:
        page.locator(f"#{elem_id} li", has_text=label).first.click()


def frame_src(page, elem_id="play-frame"):
    return page.locator(f"#{elem_id} img").get_attribute("src")


def click_cell(page, env, cell, elem_id="play-frame"):
    """Click the middle of a board cell on the displayed frame (scaled from the frame's own pixels)."""
    img = page.locator(f"#{elem_id} img")
    img.scroll_into_view_if_needed()
    box = img.bounding_box()
    natural_w, natural_h = img.evaluate("e => [e.naturalWidth, e.naturalHeight]")
    x0, y0, x1, y1 = env.canvas.cell_box(*cell)
    img.click(position={"x": (x0 + x1) / 2 * box["width"] / natural_w, "y": (y0 + y1) / 2 * box["height"] / natural_h})


def no_page_overflow(page, what):
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{what} is {overflow}px wider than the window"


def rows(page, table="lb-runs"):
    """The rows of a leaderboard table as shown: {column key: visible text} (the model's own name only)."""
    return page.evaluate("""(id) => [...document.querySelectorAll(`[data-table="${id}"] tbody tr`)].map(tr => {
        const out = {kind: tr.dataset.kind};
        tr.querySelectorAll('td').forEach(td => {
          const name = td.querySelector('.g1-name');
          const ci = td.querySelector('.g1-ci');
          let text = (name || td).innerText;
          if (!name && ci) text = text.replace(ci.innerText, '');
          out[td.dataset.col] = text.trim();
        });
        return out;
      })""", table)


def wait_models(page, expected, table="lb-runs"):
    page.wait_for_function(
        "([id, want]) => JSON.stringify([...document.querySelectorAll(`[data-table=\"${id}\"] tbody td[data-col=model] "
        ".g1-name`)].map(e => e.innerText.trim())) === JSON.stringify(want)", arg=[table, expected], timeout=TIMEOUT)


def visible_headers(page, table="lb-runs") -> list[str]:
    return page.evaluate("(id) => [...document.querySelectorAll(`[data-table=\"${id}\"] thead th`)]"
                         ".filter(th => th.offsetParent !== null).map(th => th.innerText.trim())", table)


def caption_count(page, table="lb-runs") -> int:
    return int(page.locator(f"[data-table='{table}'] .g1-caption").get_attribute("data-count"))


# -- the first minute: the leaderboard ------------------------------------------------------------------------
def test_opens_on_the_leaderboard_with_every_tab_in_view(page, app, artifacts, size):
    from g1bench.leaderboard import aggregate

    board = aggregate(app["settings"].results_store, log=lambda line: None)
    expect(page.locator("#tab-leaderboard")).to_be_visible()
    for name in TAB_LABELS:   # no tab hides behind an overflow menu, at either width
        expect(page.locator(f"#tab-{name}-button")).to_be_visible()
    assert page.locator("#tab-leaderboard-button").get_attribute("aria-selected") == "true"
    base = [r["model"] for r in board.table("paper") if r["kind"] == "baseline"]
    wait_models(page, base)
    assert [r["rank"] for r in rows(page)] == ["baseline"] * len(base)
    assert caption_count(page) == len(rows(page)) == len(base)
    expect(page.locator("[data-table='lb-runs'] .g1-caption")).to_contain_text(
        f"{len(base)} of {len(base)} verified runs of paper-v3")
    # the compact default: rank, model, overall with its interval, one column per game
    if size == "laptop":
        assert visible_headers(page) == ["rank", "model", "overall", "2048", "Shisen-Sho", "Shisen-Sho images", "Swap"]
    else:   # a phone: rank, model and overall, the games on a line under the model's name
        assert visible_headers(page) == ["rank", "model", "overall"]
        expect(page.locator("[data-table='lb-runs'] td[data-col=model] .g1-sub").first).to_contain_text("2048 ")
        expect(page.locator("[data-table='lb-runs'] td[data-col=model] .g1-sub").first).to_be_visible()
    # the paper's rows, each with an approximate overall score and why
    wait_models(page, [p["model"] for p in __import__("g1bench.leaderboard.paper", fromlist=["x"]).PAPER_ROWS],
                "lb-paper-rows")
    assert all(r["overall"].startswith("≈ ") for r in rows(page, "lb-paper-rows"))
    expect(page.locator("[data-table='lb-paper-rows'] .g1-footnote")).to_contain_text("≈ overall: approximate: the "
                                                                                      "paper's figures are means")
    no_page_overflow(page, f"the leaderboard at {size}")
    shot(page, artifacts, "leaderboard-open", size, full=False)
    shot(page, artifacts, "leaderboard-paper", size)
    # how to read it
    page.locator("#lb-help-box").get_by_text("How to read this").click()
    expect(page.locator("#lb-help")).to_contain_text("Why random-legal ties the oracle on three games")
    expect(page.locator("#lb-help")).to_contain_text("norm = 100 × (score − random) / (oracle − random)")
    page.locator("#lb-help").scroll_into_view_if_needed()
    shot(page, artifacts, "leaderboard-how-to-read", size, full=False)


def test_the_table_filters_columns_sorts_and_links(page, app, artifacts, size):
    from g1bench.leaderboard import aggregate

    board = aggregate(app["settings"].results_store, log=lambda line: None)
    smoke = [r for r in board.table("smoke") if r["kind"] != "reported in the paper"]
    choose(page, "lb-suite", "smoke-v3")
    wait_models(page, [r["model"] for r in smoke])
    assert [r["rank"] for r in rows(page)] == [r["rank_label"] if r["kind"] == "measured" else "baseline" for r in smoke]
    assert caption_count(page) == len(smoke)
    # Hub ids link to their model page
    link = page.locator("[data-table='lb-runs'] td[data-col=model] a", has_text="acme/vlm-7b")
    assert link.get_attribute("href") == "https://huggingface.co/acme/vlm-7b" and link.get_attribute("target") == "_blank"
    expect(page.locator("[data-table='lb-runs'] td[data-col=model] a", has_text="oracle")).to_have_count(0)
    # sorting by a header: overall, highest first, then lowest first
    page.locator("[data-table='lb-runs'] th[data-col=overall] button").click()
    by_overall = sorted(smoke, key=lambda r: -r["overall"])
    wait_models(page, [r["model"] for r in by_overall])
    expect(page.locator("[data-table='lb-runs'] th[data-col=overall]")).to_have_attribute("aria-sort", "descending")
    page.locator("[data-table='lb-runs'] th[data-col=overall] button").click()
    wait_models(page, [r["model"] for r in reversed(by_overall)])
    page.locator("[data-table='lb-runs'] th[data-col=rank] button").click()
    wait_models(page, [r["model"] for r in smoke])
    # the column picker: every optional column
    page.locator("#lb-more").get_by_text("Filters and columns").click()
    for label in ("95% CI per game", "Perception accuracy", "Reasoning accuracy", "Parse failures", "Model type", "Date",
                  "Entry (its files)"):
        page.locator("#lb-columns label", has_text=label).click()
    page.wait_for_selector("[data-table='lb-runs'] th[data-col=entry]", state="attached")
    wait_models(page, [r["model"] for r in smoke])
    shot(page, artifacts, "leaderboard-columns", size)
    # a local store's entries: their id, never a path or a file:// link
    entries = [r["entry"] for r in rows(page)]
    assert entries == [r["entry_id"].rsplit("--", 1)[-1] for r in smoke]
    expect(page.locator("[data-table='lb-runs'] td[data-col=entry] a")).to_have_count(0)
    if size == "laptop":
        # the model column stays pinned while the table scrolls sideways (mouse wheel over the table)
        scroller = page.locator("[data-table='lb-runs'] .g1-scroll")
        scroller.scroll_into_view_if_needed()
        assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")
        model = page.locator("[data-table='lb-runs'] td[data-col=model]").first
        date = page.locator("[data-table='lb-runs'] td[data-col=date]").first
        before, date_before = model.bounding_box()["x"], date.bounding_box()["x"]
        box = scroller.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + 40)
        page.mouse.wheel(600, 0)
        page.wait_for_function("() => document.querySelector(\"[data-table='lb-runs'] .g1-scroll\").scrollLeft > 0")
        moved = scroller.evaluate("e => e.scrollLeft")
        assert model.bounding_box()["x"] == pytest.approx(before, abs=1)   # pinned
        assert date.bounding_box()["x"] == pytest.approx(date_before - moved, abs=1)   # the rest scrolled
        shot(page, artifacts, "leaderboard-scrolled", size, full=False)
    else:
        # a phone: still three columns, the picked figures on the line under each name, nothing wider than the screen
        expect(page.locator("[data-table='lb-runs'] th[data-col=date]")).to_be_hidden()
        expect(page.locator("[data-table='lb-runs'] td[data-col=model] .g1-sub").first).to_contain_text("P acc")
        no_page_overflow(page, "the leaderboard with every column on a phone")
        grid = page.locator("[data-table='lb-runs'] .g1-scroll")
        assert grid.evaluate("e => e.scrollWidth - e.clientWidth") <= 1
    # a search with no hits says so, and what to do
    page.fill("#lb-search input", "zebra")
    expect(page.locator("[data-table='lb-runs'] .g1-empty")).to_have_text(
        "No run of smoke-v3 matches “zebra”. Clear the search.")
    expect(page.locator("[data-table='lb-runs'] table")).to_have_count(0)
    assert caption_count(page) == 0
    shot(page, artifacts, "leaderboard-no-hits", size, full=False)
    page.fill("#lb-search input", "2b")
    wait_models(page, ["acme/vlm-2b"])
    assert caption_count(page) == 1
    # the grid suite: heatmaps and the perception plot
    page.fill("#lb-search input", "")
    choose(page, "lb-suite", "grid-v2")
    expect(page.locator("#lb-heatmap img")).to_be_visible()
    expect(page.locator("#lb-perception img")).to_be_visible()
    no_page_overflow(page, f"the grid suite at {size}")
    page.locator("#lb-heatmap").scroll_into_view_if_needed()
    shot(page, artifacts, "leaderboard-grid", size)


@pytest.fixture
def loading_app(tmp_path):
    """A Space whose first aggregation waits for the test (its store has the paper suite's baselines only)."""
    root = tmp_path
    gate = threading.Event()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADIO_TEMP_DIR", str(root / "gradio"))
        mp.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        mp.setenv("G1BENCH_CACHE_DIR", str(shared_cache()))
        import shutil

        shutil.copytree(ROOT / "leaderboard" / "entries", root / "store" / "entries")
        settings = SpaceSettings(runs_dir=None, work_dir=root / "work", results_store=str(root / "store"),
                                 demo_store=None, preload_leaderboard=False, warm_tiles=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with serve(settings) as (demo, url):
                service = demo.g1bench.leaderboard
                real = service._aggregate
                service._aggregate = lambda: (gate.wait(60), real())[1]
                yield {"url": url, "gate": gate, "demo": demo}
                gate.set()


def test_a_loading_state_then_the_table_and_no_empty_plots(browser, loading_app, artifacts, size):
    page = new_page(browser, size, loading_app["url"])
    expect(page.locator("#lb-table .g1-loading")).to_contain_text("Loading the leaderboard")
    expect(page.locator("#lb-status")).to_contain_text("Loading the leaderboard")
    shot(page, artifacts, "leaderboard-loading", size, full=False)
    loading_app["gate"].set()
    wait_models(page, ["oracle", "random"])   # the page polls until the table is there
    expect(page.locator("#lb-status")).to_contain_text("2 verified runs in 1 suite of this Space's results folder")
    # no grid run: no empty image boxes, one line saying what would fill them
    expect(page.locator("#lb-plots")).to_be_hidden()
    expect(page.locator("#lb-plots-note")).to_contain_text("no run of the grid suite here yet")
    no_page_overflow(page, f"the leaderboard at {size}")
    shot(page, artifacts, "leaderboard-no-grid", size)
    page.context.close()


# -- Play --------------------------------------------------------------------------------------------------------
def moves_shown(page) -> int:
    return int(re.search(r"Moves (\d+)", page.locator("#play-status").inner_text()).group(1))


def perception(page) -> str:
    return page.locator("#play-perception textarea").input_value()


def test_play_opens_dealt_and_moves_by_button_key_and_swipe(page, artifacts, size):
    open_tab(page, "play")
    # a game is dealt before any click, with its rule in one line
    expect(page.locator("#play-frame img")).to_be_visible()
    expect(page.locator("#play-message")).to_contain_text("New game: 2048, preset paper, seed 0.")
    expect(page.locator("#play-rule")).to_contain_text("2048: Slide every tile up, right, down or left")
    page.click("#play-show-model input")
    ref = g1bench.make("2048", "paper")
    ref.reset(seed=0)
    expect(page.locator("#play-perception textarea")).to_have_value(ref.game.perception_text())
    names = {0: "up", 1: "right", 2: "down", 3: "left"}
    a = ref.legal_actions()[0]
    page.click(f"#play-{names[a]}")
    ref.step(a)
    expect(page.locator("#play-perception textarea")).to_have_value(ref.game.perception_text())
    # the frame a model gets: G1's 640 x 840 resize, its size and image tokens said beside it
    expect(page.locator("#play-model-note")).to_contain_text("640 x 840 px")
    expect(page.locator("#play-model-note")).to_contain_text("690 image tokens")
    page.wait_for_function("() => { const i = document.querySelector('#play-model-frame img');"
                           " return i && i.naturalWidth === 640 && i.naturalHeight === 840; }")
    shot(page, artifacts, "play-model-view", size)
    if size == "laptop":   # the keyboard (focus on the page, not in a field)
        b = ref.legal_actions()[-1]
        page.locator("#header").click()
        page.keyboard.press({0: "ArrowUp", 1: "ArrowRight", 2: "ArrowDown", 3: "ArrowLeft"}[b])
        ref.step(b)
        expect(page.locator("#play-perception textarea")).to_have_value(ref.game.perception_text())
        page.click("#play-seed input")   # typing in a field does not move tiles
        page.keyboard.press("ArrowUp")
        page.wait_for_timeout(500)
        assert moves_shown(page) == 2
    else:   # a swipe on the board moves the tiles that way (touch events, as a phone sends them)
        cdp = page.context.new_cdp_session(page)
        img = page.locator("#play-frame img")
        img.scroll_into_view_if_needed()
        for b in [x for x in ref.legal_actions()][:2]:
            box = img.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            dx, dy = {0: (0, -120), 1: (120, 0), 2: (0, 120), 3: (-120, 0)}[b]
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
            for k in (1, 2, 3):
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove",
                                                      "touchPoints": [{"x": x + dx * k / 3, "y": y + dy * k / 3}]})
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
            ref.step(b)
            expect(page.locator("#play-perception textarea")).to_have_value(ref.game.perception_text())
        assert moves_shown(page) == 3
    shot(page, artifacts, "play-2048", size)


def test_choosing_a_game_or_preset_deals_it_and_tiles_are_clicked(page, artifacts, size):
    open_tab(page, "play")
    expect(page.locator("#play-message")).to_contain_text("New game: 2048")
    before = frame_src(page)
    choose(page, "play-game", "Shisen-Sho")
    # the new game is dealt at once: its board, its rule, no arrows
    expect(page.locator("#play-message")).to_contain_text("New game: Shisen-Sho, preset paper, seed 0.")
    expect(page.locator("#play-rule")).to_contain_text("Shisen-Sho: Pick two identical tiles")
    expect(page.locator("#play-arrows")).to_be_hidden()
    expect(page.locator("#play-preset input")).to_have_value("paper")
    assert frame_src(page) != before
    shot(page, artifacts, "play-game-chosen", size)
    choose(page, "play-preset", "more-tiles")
    expect(page.locator("#play-message")).to_contain_text("New game: Shisen-Sho, preset more-tiles, seed 0.")
    choose(page, "play-game", "Shisen-Sho (natural images)")
    expect(page.locator("#play-rule")).to_contain_text("Pick two pictures of the same class")
    choose(page, "play-game", "Shisen-Sho")
    page.fill("#play-seed input", "7")
    page.click("#play-new")
    expect(page.locator("#play-message")).to_contain_text("New game: Shisen-Sho, preset paper, seed 7.")
    ref = g1bench.make("shisensho", "paper")
    ref.reset(seed=7)
    a = ref.legal_actions()[0]
    click_cell(page, ref, a[:2])
    expect(page.locator("#play-message")).to_contain_text(f"Selected {a[:2]}")
    click_cell(page, ref, a[2:])
    expect(page.locator("#play-message")).to_contain_text(f"{a[:2]} with {a[2:]}: pair removed")
    assert "Score 1" in page.locator("#play-status").inner_text()
    no_page_overflow(page, f"Play at {size}")
    shot(page, artifacts, "play-shisensho", size)


# -- Watch -------------------------------------------------------------------------------------------------------
def watch_step(page) -> int:
    return int(re.search(r"Step (\d+) / 100", page.locator("#watch-status").inner_text()).group(1))


def test_watch_plays_stops_and_limits_a_slow_endpoint(page, artifacts, size):
    open_tab(page, "watch")
    expect(page.locator("#watch-note")).to_contain_text(f"your own endpoint gets {STEP_LIMIT_S:g} s per step")
    page.click("#watch-start")
    expect(page.locator("#watch-message")).to_contain_text("Ready: press Step or Play.")
    speed = page.locator("#watch-speed input[type=number]")
    speed.fill("0.2")
    speed.press("Enter")
    page.click("#watch-play")
    expect(page.locator("#watch-message")).to_contain_text("Playing: one step every 0.2 s.")
    page.wait_for_function("() => +(document.querySelector('#watch-status').innerText.match(/Step (\\d+) \\/ 100/) "
                           "|| [0, 0])[1] >= 3", timeout=30_000)
    page.click("#watch-stop")
    expect(page.locator("#watch-message")).to_contain_text("Stopped at step")
    page.wait_for_timeout(800)   # a tick already in flight plays nothing once stopped
    shown = watch_step(page)
    page.wait_for_timeout(1000)
    assert watch_step(page) == shown and shown >= 3
    shot(page, artifacts, "watch-stopped", size)
    # a visitor's endpoint that is too slow: the step is not played after the stated limit
    choose(page, "watch-player", "My own OpenAI-compatible endpoint")
    with FakeOpenAIServer(script=[("slow", STEP_LIMIT_S + 4)]) as srv:
        page.fill("#watch-base-url input", srv.base_url)
        page.fill("#watch-model input", "slow-model")
        page.click("#watch-start")
        expect(page.locator("#watch-message")).to_contain_text("Ready")
        t0 = time.perf_counter()
        page.click("#watch-step")
        expect(page.locator("#watch-message")).to_contain_text(
            f"your endpoint did not answer within {STEP_LIMIT_S:g} s, this Space's limit per step; the step was not "
            "played", timeout=STEP_LIMIT_S * 1000 + 10_000)
        assert time.perf_counter() - t0 >= STEP_LIMIT_S
        shot(page, artifacts, "watch-time-limit", size)
    # and Stop ends a step that is still waiting, at once
    with FakeOpenAIServer(delay=30) as srv:
        page.fill("#watch-base-url input", srv.base_url)
        page.click("#watch-start")
        expect(page.locator("#watch-message")).to_contain_text("Ready")
        page.click("#watch-step")
        page.wait_for_timeout(1000)
        t0 = time.perf_counter()
        page.click("#watch-stop")
        expect(page.locator("#watch-message")).to_contain_text("Stopped at step 0", timeout=5_000)
        assert time.perf_counter() - t0 < STEP_LIMIT_S
    no_page_overflow(page, f"Watch at {size}")


# -- Replay ------------------------------------------------------------------------------------------------------
def test_replay_an_entry_steps_by_keys_and_makes_a_gif(page, app, artifacts, size):
    t = template_store()
    open_tab(page, "replay")
    expect(page.locator("#replay-message")).to_contain_text("verified entries on the leaderboard")
    # a dropdown opened and dismissed without a choice says nothing
    page.click("#replay-run input")
    page.keyboard.press("Escape")
    page.locator("#replay-note").click()
    page.click("#replay-entry input")
    page.locator("#replay-note").click()
    page.wait_for_timeout(1000)
    assert "no run called" not in page.locator("#replay-message").inner_text()
    assert "⚠️" not in page.locator("#replay-message").inner_text()
    # an entry without stored frames: drawn by replaying its answers; the frame is in view once it opens
    choose(page, "replay-entry", "random · grid-v2", exact=False)
    run = t["runs"] / "grid-random"
    ep = load_episodes(run)[0]
    expect(page.locator("#replay-answer textarea")).to_have_value(ep["steps"][0]["answer"])
    expect(page.locator("#replay-info")).to_contain_text("frame drawn by replaying the logged answers")
    img = page.locator("#replay-frame img")
    expect(img).to_be_visible()
    if size == "laptop":   # the whole frame comes into view at 1366x850
        page.wait_for_function("() => { const r = document.querySelector('#replay-frame img').getBoundingClientRect(); "
                               "return r.height > 100 && r.top >= 0 && r.bottom <= window.innerHeight + 1; }")
    else:   # a phone: the frame's top is on screen
        page.wait_for_function("() => { const r = document.querySelector('#replay-frame img').getBoundingClientRect(); "
                               "return r.height > 100 && r.top >= 0 && r.top < window.innerHeight - 100; }")
    shot(page, artifacts, "replay-entry-open", size, full=False)
    # Enter in the step box goes to that step; the slider's arrow keys step
    n = len(ep["steps"])
    box_in = page.locator("#replay-step input[type=number]")
    box_in.fill("3")
    box_in.press("Enter")
    expect(page.locator("#replay-info")).to_contain_text(f"Step 3 / {n}")
    expect(page.locator("#replay-answer textarea")).to_have_value(ep["steps"][2]["answer"])
    if size == "laptop":   # (a phone has no arrow keys: it taps Previous / Next)
        slider = page.locator("#replay-step input[type=range]")
        page.wait_for_timeout(300)   # as a person would: the step just shown has settled
        slider.press("ArrowRight")
        expect(page.locator("#replay-info")).to_contain_text(f"Step 4 / {n}")
        expect(slider).to_be_focused()
        slider.press("ArrowLeft")
        slider.press("ArrowLeft")
        expect(page.locator("#replay-info")).to_contain_text(f"Step 2 / {n}")
        page.click("#replay-next")
    else:
        page.tap("#replay-prev")
        expect(page.locator("#replay-info")).to_contain_text(f"Step 2 / {n}")
        page.tap("#replay-next")
    expect(page.locator("#replay-info")).to_contain_text(f"Step 3 / {n}")
    # the episode's GIF
    page.click("#replay-gif-make")
    expect(page.locator("#replay-message")).to_contain_text("GIF ready", timeout=30_000)
    expect(page.locator("#replay-gif")).to_contain_text(".gif")
    no_page_overflow(page, f"Replay at {size}")
    shot(page, artifacts, "replay-gif", size)
    # a run of this Space
    choose(page, "replay-run", "oracle-small")
    ep = load_episodes(app["root"] / "runs" / "oracle-small")[0]
    expect(page.locator("#replay-answer textarea")).to_have_value(ep["steps"][0]["answer"])


# -- Submit ------------------------------------------------------------------------------------------------------
def test_submissions_are_queued_and_followed_until_on_the_board(page, app, artifacts, size, tmp_path):
    t = template_store()
    name = f"acme/vlm-{size}"
    run = make_suite_run(tmp_path / f"vlm-{size}", "smoke", FakeVLM(name, skill=0.6, seed=11 if size == "laptop" else 12))
    mine = zip_folder(run, tmp_path / f"vlm-{size}.zip")
    open_tab(page, "submit")
    expect(page.locator("#submit-where")).to_contain_text("Verified runs are added to this Space's results store")
    expect(page.locator("#submit-verify")).to_have_text("Verify and submit")
    page.set_input_files("#submit-upload input[type=file]", str(t["tampered_zip"]))
    expect(page.locator("#submit-upload")).to_contain_text("tampered-model.zip")
    page.click("#submit-verify")
    expect(page.locator("#submit-result")).to_contain_text("Queued tampered-model.zip")
    # while that one is checked, another one (the upload box is free again)
    page.set_input_files("#submit-upload input[type=file]", str(mine))
    page.click("#submit-verify")
    expect(page.locator("#submit-queue")).to_contain_text("tampered-model.zip · refused", timeout=60_000)
    expect(page.locator("#submit-queue")).to_contain_text(
        "Refused: tampered-model does not verify: " + t["tampered_reason"])
    expect(page.locator("#submit-queue")).to_contain_text(f"vlm-{size}.zip · on the board", timeout=90_000)
    expect(page.locator("#submit-queue")).to_contain_text("On the board: entry smoke-v3/acme-vlm-" + size)
    no_page_overflow(page, f"Submit at {size}")
    shot(page, artifacts, "submit-on-the-board", size)
    # the same run again: which entry it already is
    page.set_input_files("#submit-upload input[type=file]", str(mine))
    page.click("#submit-verify")
    expect(page.locator("#submit-queue")).to_contain_text(f"vlm-{size}.zip · already on the board", timeout=60_000)
    expect(page.locator("#submit-queue")).to_contain_text("Already on the board: this run is entry smoke-v3/acme-vlm-")
    shot(page, artifacts, "submit-already", size)
    # the leaderboard shows it
    open_tab(page, "leaderboard")
    choose(page, "lb-suite", "smoke-v3")
    page.wait_for_function("(m) => [...document.querySelectorAll(\"[data-table='lb-runs'] td[data-col=model]\")]"
                           ".some(td => td.innerText.startsWith(m))", arg=name, timeout=60_000)


# -- about, and what a visitor never sees ------------------------------------------------------------------------
def test_about_cites_and_links(page, app, artifacts, size):
    open_tab(page, "about")
    about = page.locator("#about-text")
    expect(about).to_contain_text("@article{chen2025g1")
    expect(about).to_contain_text("Chen, Liang and Gao, Hongcheng and Liu, Tianyu and Huang, Zhiqi")
    expect(about).to_contain_text("@software{g1bench")
    expect(about.locator("a", has_text="https://github.com/g1bench/g1bench")).to_have_attribute(
        "href", "https://github.com/g1bench/g1bench")
    expect(about.locator("a", has_text="CIFAR-10")).to_have_attribute("href", "https://huggingface.co/datasets/uoft-cs/cifar10")
    expect(about).to_contain_text("Results dataset")
    expect(about).to_contain_text("The paper protocol (suite paper-v3)")
    no_page_overflow(page, f"About at {size}")
    shot(page, artifacts, "about", size)


def visible_texts(page) -> str:
    """Every text the visitor can see: the page's rendered text and the values of its fields."""
    return page.evaluate("""() => document.body.innerText + '\\n' + [...document.querySelectorAll('input, textarea')]
        .filter(e => e.offsetParent !== null && e.type !== 'file').map(e => e.value).join('\\n')""")


def test_no_server_path_in_anything_a_visitor_sees(page, app, artifacts, size, tmp_path):
    """Visit every tab, do what a visitor does (including an upload that is refused and one that is accepted),
    open every accordion, and read every visible text: none names a folder of the server."""
    t = template_store()
    s = app["settings"]
    folders = {"store": str(s.results_folder()), "runs": str(s.runs_dir), "work (uploads, frames, scratch)":
               str(s.work_dir), "temp": tempfile.gettempdir(), "home": str(Path.home()),
               "gradio uploads": os.environ.get("GRADIO_TEMP_DIR") or str(app["root"] / "gradio")}
    seen = []
    page.locator("#lb-more").get_by_text("Filters and columns").click()
    page.locator("#lb-columns label", has_text="Entry (its files)").click()
    for box in ("#lb-help-box", "#lb-skipped-box"):
        page.locator(box).locator("button, .label-wrap").first.click()
    page.wait_for_selector("[data-table='lb-runs'] th[data-col=entry]", state="attached")
    seen.append(visible_texts(page))
    open_tab(page, "play")
    expect(page.locator("#play-frame img")).to_be_visible()
    page.click("#play-show-model input")
    seen.append(visible_texts(page))
    open_tab(page, "watch")
    page.click("#watch-start")
    page.click("#watch-step")
    expect(page.locator("#watch-status")).to_contain_text("Step 1 / 100")
    seen.append(visible_texts(page))
    open_tab(page, "replay")
    choose(page, "replay-run", "oracle-small")
    expect(page.locator("#replay-info")).to_contain_text("Step 1 /")
    page.set_input_files("#tab-replay input[type=file]", str(t["tampered_zip"]))   # not a replayable run
    page.wait_for_timeout(1500)
    seen.append(visible_texts(page))
    open_tab(page, "submit")
    junk = tmp_path / "junk.zip"
    import zipfile

    with zipfile.ZipFile(junk, "w") as zf:
        zf.writestr("notes/readme.txt", "hello")
    for f in (junk, t["tampered_zip"], t["new_zip"]):
        clear = page.locator("#submit-upload button[aria-label='Clear']")
        if clear.count():   # a refused upload stays in the box
            clear.click()
        page.set_input_files("#submit-upload input[type=file]", str(f))
        page.click("#submit-verify")
        page.wait_for_timeout(500)
        seen.append(visible_texts(page))
    expect(page.locator("#submit-queue")).to_contain_text("new-model.zip ·")
    expect(page.locator("#submit-queue")).not_to_contain_text("new-model.zip · queued", timeout=60_000)
    page.wait_for_function("() => !/verifying|writing|waiting|queued/.test(document.querySelector('#submit-queue')"
                           ".innerText)", timeout=90_000)
    seen.append(visible_texts(page))
    open_tab(page, "about")
    seen.append(visible_texts(page))
    text = "\n".join(seen)
    assert "tampered-model" in text and "smoke-v3" in text   # the texts were read
    for what, folder in folders.items():
        assert folder not in text, f"a visible text names the {what} folder {folder}"
    assert "file://" not in text
    shot(page, artifacts, "no-server-paths-submit", size)


def test_every_tab_fits_the_window(page, app, artifacts, size):
    """Every tab at laptop and phone width, after a visitor used it: nothing wider than the window."""
    for tab in TAB_LABELS:
        open_tab(page, tab)
        if tab == "watch":
            page.click("#watch-start")
            expect(page.locator("#watch-message")).to_contain_text("Ready")
            page.click("#watch-step")
            expect(page.locator("#watch-status")).to_contain_text("Step 1 / 100")
        if tab == "replay":
            choose(page, "replay-run", "oracle-small")
            expect(page.locator("#replay-info")).to_contain_text("Step 1 /")
        if tab == "leaderboard":
            expect(page.locator("#lb-status")).to_contain_text("verified runs in")
        page.wait_for_timeout(300)
        no_page_overflow(page, f"{tab} at {size}")
        shot(page, artifacts, f"tab-{tab}", size)

"""The Space in a real browser: Debian's chromium driven by playwright, against the app on 127.0.0.1.

Screenshots go to ``$G1BENCH_TEST_ARTIFACTS/space`` (default: a temporary folder), at laptop (1280x800) and
phone (390x844) sizes. Skipped only when /usr/bin/chromium is absent (CI installs it).
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import pytest

from g1bench.space.testing import CHROMIUM, CHROMIUM_ARGS, make_run, serve

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium); the browser tests need it", allow_module_level=True)
pytest.importorskip("gradio")
sync_api = pytest.importorskip("playwright.sync_api")

import g1bench  # noqa: E402
from g1bench.eval.runner import load_episodes  # noqa: E402
from g1bench.space.settings import SpaceSettings  # noqa: E402

from test_space_leaderboard import shared_cache, store_copy, template_store  # noqa: E402

expect = sync_api.expect
expect.set_options(timeout=20_000)   # a loaded CI machine can take seconds per round trip
LAPTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
TAB_LABELS = {"play": "Play", "watch": "Watch", "replay": "Replay", "leaderboard": "Leaderboard", "submit": "Submit",
              "about": "About"}
TIMEOUT = 20_000


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    base = os.environ.get("G1BENCH_TEST_ARTIFACTS")
    out = Path(base) / "space" if base else tmp_path_factory.mktemp("space-screenshots")
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
                                 accept_local_submissions=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with serve(settings) as (demo, url):
                demo.g1bench.leaderboard.wait(120)
                yield {"url": url, "root": root, "demo": demo}


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app):
    ctx = browser.new_context(viewport=LAPTOP)
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT)
    pg.goto(app["url"])
    pg.wait_for_selector("#play-new")
    yield pg
    ctx.close()


def open_tab(page, name):
    tab = page.locator(f"#tab-{name}-button")
    if tab.count() and tab.is_visible():
        tab.click()
    else:  # narrow windows move the last tabs into a "more" menu
        page.locator(".overflow-menu > button").click()
        page.locator(".overflow-dropdown button", has_text=TAB_LABELS[name]).click()
    page.wait_for_selector(f"#tab-{name}", state="visible")


def choose(page, elem_id, label):
    page.click(f"#{elem_id} input")
    page.click(f"#{elem_id} li[aria-label='{label}']")


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


def moves_shown(page) -> int:
    return int(re.search(r"Moves (\d+)", page.locator("#play-status").inner_text()).group(1))


def test_2048_move_with_a_button_and_with_the_keyboard(page, artifacts):
    page.click("#play-new")
    expect(page.locator("#play-message")).to_contain_text("New game: 2048, preset paper, seed 0.")
    page.click("#play-show-model input")
    ref = g1bench.make("2048", "paper")
    ref.reset(seed=0)
    expect(page.locator("#play-perception textarea")).to_have_value(ref.game.perception_text())
    names = {0: "up", 1: "right", 2: "down", 3: "left"}
    keys = {0: "ArrowUp", 1: "ArrowRight", 2: "ArrowDown", 3: "ArrowLeft"}
    # a button: the first direction that moves tiles on this board
    a = ref.legal_actions()[0]
    before = frame_src(page)
    page.click(f"#play-{names[a]}")
    ref.step(a)
    expect(page.locator("#play-message")).to_contain_text(f"{names[a].capitalize()}:")
    expect(page.locator("#play-perception textarea")).to_have_value(ref.game.perception_text())
    assert moves_shown(page) == 1 and frame_src(page) != before
    # the keyboard (focus on the page, not in a field)
    b = ref.legal_actions()[-1]
    before = frame_src(page)
    page.locator("#header").click()
    page.keyboard.press(keys[b])
    ref.step(b)
    expect(page.locator("#play-message")).to_contain_text(f"{names[b].capitalize()}:")
    expect(page.locator("#play-perception textarea")).to_have_value(ref.game.perception_text())
    assert moves_shown(page) == 2 and frame_src(page) != before
    # typing in a field does not move tiles
    page.click("#play-seed input")
    page.keyboard.press("ArrowUp")
    page.wait_for_timeout(500)
    assert moves_shown(page) == 2
    page.screenshot(path=str(artifacts / "play-2048-laptop.png"), full_page=True)


def test_shisensho_pair_removed_and_refused(page, artifacts):
    choose(page, "play-game", "Shisen-Sho")
    expect(page.locator("#play-preset input")).to_have_value("paper")
    page.fill("#play-seed input", "7")
    page.click("#play-new")
    expect(page.locator("#play-message")).to_contain_text("New game: Shisen-Sho, preset paper, seed 7.")
    expect(page.locator("#play-arrows")).to_be_hidden()
    ref = g1bench.make("shisensho", "paper")
    ref.reset(seed=7)
    a = ref.legal_actions()[0]
    click_cell(page, ref, a[:2])
    expect(page.locator("#play-message")).to_contain_text(f"Selected {a[:2]}")
    page.screenshot(path=str(artifacts / "play-shisensho-selected-laptop.png"))
    click_cell(page, ref, a[2:])
    expect(page.locator("#play-message")).to_contain_text(f"{a[:2]} with {a[2:]}: pair removed")
    ref.step(a)
    kinds = ref.game.cell_keys()
    p, q = next(((r1, c1), (r2, c2)) for r1 in range(6) for c1 in range(6) for r2 in range(6) for c2 in range(6)
                if kinds[r1, c1] and kinds[r2, c2] and kinds[r1, c1] != kinds[r2, c2])
    click_cell(page, ref, p)
    expect(page.locator("#play-message")).to_contain_text(f"Selected {p}")
    click_cell(page, ref, q)
    expect(page.locator("#play-message")).to_contain_text(f"{p} with {q}: refused (tiles differ")
    assert "Score 1" in page.locator("#play-status").inner_text()
    page.screenshot(path=str(artifacts / "play-shisensho-refused-laptop.png"))


def test_watch_the_oracle_play_five_steps(page, artifacts):
    open_tab(page, "watch")
    page.click("#watch-start")
    expect(page.locator("#watch-message")).to_contain_text("Ready: press Step or Play.")
    speed = page.locator("#watch-speed input[type=number]")
    speed.fill("0.2")
    speed.press("Enter")
    page.click("#watch-play")
    expect(page.locator("#watch-message")).to_contain_text("Playing: one step every 0.2 s.")
    page.wait_for_function(
        "() => /Step (\\d+) \\/ 100/.test(document.querySelector('#watch-status').innerText) && "
        "+document.querySelector('#watch-status').innerText.match(/Step (\\d+) \\/ 100/)[1] >= 5", timeout=30_000)
    page.click("#watch-pause")
    expect(page.locator("#watch-message")).to_contain_text("Paused.")
    page.wait_for_timeout(800)   # a tick already in flight may still land
    shown = int(re.search(r"Step (\d+) / 100", page.locator("#watch-status").inner_text()).group(1))
    page.wait_for_timeout(1000)
    assert int(re.search(r"Step (\d+) / 100", page.locator("#watch-status").inner_text()).group(1)) == shown
    assert shown >= 5
    rows = int(page.locator("#watch-log [role=grid]").get_attribute("aria-rowcount")) - 1   # minus the header
    assert rows == shown
    # the same five moves as the oracle on the same board
    from g1bench.eval.policies import OraclePolicy, Turn

    ref, oracle = g1bench.make("2048", "paper"), OraclePolicy()
    ref.reset(seed=0)
    for step in range(shown):
        ref.step(oracle.act([Turn("2048", None, ref.prompt, ref.get_state(), "w", step)])[0].text)
    assert f"Score {ref.game.score}" in page.locator("#watch-status").inner_text()
    page.screenshot(path=str(artifacts / "watch-oracle-laptop.png"), full_page=True)


def test_replay_an_entry(page, app, artifacts):
    open_tab(page, "replay")
    choose(page, "replay-run", "oracle-small")
    run = app["root"] / "runs" / "oracle-small"
    ep = load_episodes(run)[0]
    expect(page.locator("#replay-answer textarea")).to_have_value(ep["steps"][0]["answer"])
    page.click("#replay-next")
    expect(page.locator("#replay-info")).to_contain_text(f"Step 2 / {len(ep['steps'])}")
    expect(page.locator("#replay-answer textarea")).to_have_value(ep["steps"][1]["answer"])
    src = frame_src(page, "replay-frame")
    import httpx

    png = httpx.get(src if src.startswith("http") else app["url"].rstrip("/") + src).content
    assert png == (run / "frames" / f"{ep['steps'][1]['frame']}.png").read_bytes()
    page.click("#replay-gif-make")
    expect(page.locator("#replay-message")).to_contain_text("GIF ready")
    page.screenshot(path=str(artifacts / "replay-laptop.png"), full_page=True)


def cells(page, elem_id: str, col: int) -> list[str]:
    """Column ``col`` (0-based) of a Dataframe as shown (gradio draws the rows as ``.virtual-row`` grid rows)."""
    return [t.strip() for t in page.locator(f"#{elem_id} .virtual-row [data-col='{col}']").all_inner_texts()]


def wait_models(page, expected, elem_id="lb-table"):
    """Wait until the model column (the main table's second, the paper table's first) shows ``expected``."""
    page.wait_for_function(
        "([id, col, want]) => JSON.stringify([...document.querySelectorAll(`#${id} .virtual-row [data-col='${col}']`)]"
        ".map(td => td.innerText.trim())) === JSON.stringify(want)",
        arg=[elem_id, 1 if elem_id == "lb-table" else 0, expected], timeout=TIMEOUT)


def headers(page, elem_id="lb-table") -> list[str]:
    return [t.strip() for t in page.locator(f"#{elem_id} [role=columnheader]").all_inner_texts()]


@pytest.mark.parametrize("size,name", [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_leaderboard_rows_paper_rows_filters_and_search(browser, app, artifacts, size, name):
    from g1bench.leaderboard import aggregate
    from g1bench.leaderboard.paper import PAPER_ROWS

    board = aggregate(app["demo"].g1bench.settings.results_store, log=lambda line: None)
    ctx = browser.new_context(viewport=size)
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(app["url"])
    page.wait_for_selector("#play-new")
    open_tab(page, "leaderboard")
    # the paper suite: g1bench's baselines (marked in the rank column), the paper's rows apart, marked
    base = [r["model"] for r in board.table("paper") if r["kind"] == "baseline"]
    wait_models(page, base)
    assert cells(page, "lb-table", 0) == ["baseline"] * len(base)
    wait_models(page, [p["model"] for p in PAPER_ROWS], "lb-paper")
    assert set(cells(page, "lb-paper", headers(page, "lb-paper").index("section"))) == {"reported in the paper"}
    expect(page.locator("#lb-paper")).to_contain_text("Reported in the paper")
    expect(page.locator("#lb-status")).to_contain_text("verified runs in")
    page.screenshot(path=str(artifacts / f"leaderboard-paper-{name}.png"), full_page=True)
    # the smoke suite: measured rows by rank, then the baselines; no paper rows
    choose(page, "lb-suite", "smoke-v3")
    smoke = [r["model"] for r in board.table("smoke") if r["kind"] != "reported in the paper"]
    wait_models(page, smoke)
    ranks = cells(page, "lb-table", 0)
    assert ranks == [r["rank_label"] if r["kind"] == "measured" else "baseline" for r in board.table("smoke")
                     if r["kind"] != "reported in the paper"]
    expect(page.locator("#lb-paper")).to_be_hidden()
    # sortable: the overall column, descending, from its header's menu (numbers sort as numbers)
    overall = headers(page).index("overall")
    head = page.locator("#lb-table [role=columnheader]").nth(overall)
    head.click()
    head.locator("button[aria-label='Open cell menu']").click()
    page.get_by_text("Sort descending").click()
    want = [m for _, m in sorted(((r["overall"], r["model"]) for r in board.table("smoke") if r["kind"] != "reported in the paper"),
                                 reverse=True)]
    wait_models(page, want)
    head.click()
    head.locator("button[aria-label='Open cell menu']").click()
    page.get_by_text("Clear sort").click()
    wait_models(page, smoke)
    page.fill("#lb-search input", "2b")
    wait_models(page, ["acme/vlm-2b"])
    page.fill("#lb-search input", "")
    wait_models(page, smoke)
    choose(page, "lb-model-type", "baseline")
    wait_models(page, [m for m in smoke if m in ("random", "oracle")])
    choose(page, "lb-model-type", "all")
    choose(page, "lb-game", "Swap")
    page.wait_for_function("() => ![...document.querySelectorAll('#lb-table [role=columnheader]')]"
                           ".some(th => th.innerText.includes('2048'))")
    assert [h for h in headers(page) if "Swap" in h] == ["Swap", "Swap 95% CI"]
    # the grid suite: a heatmap per run and the perception plot
    choose(page, "lb-suite", "grid-v2")
    expect(page.locator("#lb-heatmap img")).to_be_visible()
    expect(page.locator("#lb-perception img")).to_be_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the leaderboard is {overflow}px wider than a {size['width']}px window"
    page.locator("#lb-heatmap").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"leaderboard-grid-{name}.png"), full_page=True)
    ctx.close()


def test_replay_a_store_entry(page, app, artifacts):
    t = template_store()
    open_tab(page, "replay")   # opening the tab lists the store's entries
    expect(page.locator("#replay-message")).to_contain_text("verified entries in the results store")
    page.click("#replay-entry input")
    page.locator("#replay-entry li", has_text="random · grid-v2").click()
    run = t["runs"] / "grid-random"
    ep = load_episodes(run)[0]
    expect(page.locator("#replay-answer textarea")).to_have_value(ep["steps"][0]["answer"])
    expect(page.locator("#replay-info")).to_contain_text("frame drawn by replaying the logged answers")
    page.click("#replay-next")
    expect(page.locator("#replay-answer textarea")).to_have_value(ep["steps"][1]["answer"])
    src = frame_src(page, "replay-frame")
    import httpx
    import io

    import numpy as np
    from PIL import Image

    png = httpx.get(src if src.startswith("http") else app["url"].rstrip("/") + src).content
    stored = run / "frames" / f"{ep['steps'][1]['frame']}.png"   # the entry has no frames: drawn = what was played
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")),
                          np.asarray(Image.open(stored).convert("RGB")))
    page.screenshot(path=str(artifacts / "replay-entry-laptop.png"), full_page=True)


def test_submit_a_run_and_a_tampered_run(page, app, artifacts):
    t = template_store()
    open_tab(page, "submit")
    expect(page.locator("#submit-where")).to_contain_text("Verified runs are added to this Space's results store")
    page.set_input_files("#submit-upload input[type=file]", str(t["tampered_zip"]))
    expect(page.locator("#submit-upload")).to_contain_text("tampered-model.zip")
    page.click("#submit-verify")
    expect(page.locator("#submit-result")).to_contain_text("Refused: tampered-model does not verify: "
                                                           + t["tampered_reason"])
    page.screenshot(path=str(artifacts / "submit-refused-laptop.png"), full_page=True)
    page.locator("#submit-upload button[aria-label='Clear']").click()
    page.set_input_files("#submit-upload input[type=file]", str(t["new_zip"]))
    expect(page.locator("#submit-upload")).to_contain_text("new-model.zip")
    page.click("#submit-verify")
    expect(page.locator("#submit-result")).to_contain_text("Accepted: verified: smoke-v3 (built-in suite)")
    page.screenshot(path=str(artifacts / "submit-accepted-laptop.png"), full_page=True)
    # after a refresh the leaderboard shows it
    open_tab(page, "leaderboard")
    choose(page, "lb-suite", "smoke-v3")
    page.click("#lb-refresh")
    page.wait_for_function("() => [...document.querySelectorAll(\"#lb-table .virtual-row [data-col='1']\")]"
                           ".some(td => td.innerText.trim() === 'acme/vlm-13b')", timeout=60_000)
    expect(page.locator("#lb-status")).not_to_contain_text("refreshing")
    page.screenshot(path=str(artifacts / "leaderboard-after-submit-laptop.png"), full_page=True)


@pytest.mark.parametrize("size,name", [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_every_tab_fits_the_window(browser, app, artifacts, size, name):
    """Every tab at laptop and phone width: nothing wider than the window; screenshots to look at."""
    ctx = browser.new_context(viewport=size)
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(app["url"])
    page.wait_for_selector("#play-new")
    page.click("#play-new")
    expect(page.locator("#play-message")).to_contain_text("New game")
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
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{tab} is {overflow}px wider than a {size['width']}px window"
        page.screenshot(path=str(artifacts / f"tab-{tab}-{name}.png"), full_page=True)
    ctx.close()

"""The Space's Blocks: tabs, components (each with an ``elem_id``) and their wiring to the backends.

Everything a handler does is in :mod:`.play`, :mod:`.watch`, :mod:`.replay`, :mod:`.leaderboard` and :mod:`.submit`;
this module maps their results onto components. Every handler runs through :func:`_guard`: a :class:`SpaceError`
becomes a message next to the control that caused it (the session is left as it was), and anything unexpected
is logged on the server and shown as a one-line apology, never a traceback; either way no folder of this machine
is named (:class:`~g1bench.space.text.PathScrubber`).

The Space opens on the Leaderboard (its table is aggregated in the background from start-up; the tab says so
and polls until it is there), and deals a game in Play at once, so no tab starts empty.

Per-visitor state lives in ``gr.State`` (server-side, one per browser session); the backends hold only
read-only services, write-once files (frames named by their content) and queues keyed by unguessable ids, so
visitors never share mutable state.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import types
from typing import Any, Callable

from . import about
from .board import OPTIONAL_COLUMNS, SORT_JS
from .errors import SpaceError
from .frames import FrameStore
from .leaderboard import ALL, LeaderboardService, LeaderboardView, build_view, heatmap_png, status_text
from .play import PlayBackend, PlayView
from .replay import ReplayBackend, ReplayView
from .sessions import MAX_SEED, game_choices
from .settings import SpaceSettings
from .submit import SubmitBackend, render_status
from .text import esc
from .warmup import TileWarmup
from .watch import LOG_HEADERS, OWN_ENDPOINT, WatchBackend, WatchView, player_choices

try:
    import gradio as gr
except ImportError as e:  # pragma: no cover - depends on the install
    raise ImportError("the Space needs gradio: pip install 'g1bench[space]'") from e

log = logging.getLogger("g1bench.space")

#: presets of the game picked first
DEFAULT_GAME, DEFAULT_PRESET = "2048", "paper"

# system fonts only: the default themes fetch Google Fonts, which an offline machine cannot reach
THEME = gr.themes.Soft(font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
                       font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"])

CSS = """
.g1-frame img { object-fit: contain; max-height: min(72vh, calc(100vh - 140px)); }
.g1-arrows { max-width: 420px; margin: 0 auto; }
.g1-arrows button { font-size: 1.3rem; min-width: 0 !important; }
.g1-message { min-height: 2.2em; }
.g1-hidden-api { display: none !important; }
.g1-filters { align-items: end; }
#header h1 { margin-bottom: 0.2em; }
#lb-status, #lb-notes, #submit-result, #submit-queue, #submit-where { overflow-wrap: anywhere; }
#submit-result pre, #submit-queue pre { white-space: pre-wrap; overflow-wrap: anywhere; }
#play-frame { touch-action: pan-y pinch-zoom; }
#play-rule { font-size: 0.95em; }
footer { display: none !important; }

/* the leaderboard's tables (g1bench.space.board) */
.g1-board { width: 100%; }
.g1-board .g1-caption { margin: 0.2em 0 0.5em; color: var(--body-text-color-subdued); }
.g1-board .g1-footnote { margin: 0.5em 0 0; font-size: 0.85em; color: var(--body-text-color-subdued); }
.g1-board .g1-empty { padding: 1.2em 1em; border: 1px dashed var(--border-color-primary); border-radius: 8px;
  color: var(--body-text-color); background: var(--background-fill-secondary); }
.g1-board .g1-scroll { overflow: auto; max-height: 70vh; border: 1px solid var(--border-color-primary);
  border-radius: 8px; overscroll-behavior-x: contain; }
.g1-board table { border-collapse: separate; border-spacing: 0; width: 100%; font-size: 0.92em; margin: 0; padding: 0; }
.g1-board th, .g1-board td { box-sizing: border-box; padding: 0.45em 0.7em; text-align: right; white-space: nowrap;
  border-bottom: 1px solid var(--border-color-primary); background: var(--background-fill-primary); }
.g1-board tbody tr:nth-child(even) td { background: var(--background-fill-secondary); }
.g1-board th { position: sticky; top: 0; z-index: 2; font-weight: 600; }
.g1-board th button { all: unset; cursor: pointer; }
.g1-board th[aria-sort="ascending"] button::after { content: " ▲"; font-size: 0.75em; }
.g1-board th[aria-sort="descending"] button::after { content: " ▼"; font-size: 0.75em; }
.g1-board .g1-pin { position: sticky; z-index: 1; text-align: left; }
.g1-board th.g1-pin { z-index: 3; }
.g1-board .g1-rank { left: 0; width: 4.6rem; min-width: 4.6rem; max-width: 4.6rem; }
.g1-board .g1-model { left: var(--g1-rank-w, 4.6rem); min-width: 10rem; width: 100%; white-space: normal; overflow-wrap: anywhere;
  box-shadow: 2px 0 0 var(--border-color-primary); }
.g1-board .g1-opt { width: 1%; }
.g1-board .g1-lead { font-weight: 600; }
.g1-board .g1-ci { display: block; font-size: 0.78em; font-weight: 400; color: var(--body-text-color-subdued); }
.g1-board .g1-tag { font-size: 0.78em; padding: 0.1em 0.45em; border-radius: 999px;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); }
.g1-board .g1-sub { display: none; }
.g1-board .g1-spinner { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.5em; vertical-align: -0.1em;
  border: 2px solid var(--border-color-primary); border-top-color: var(--color-accent); border-radius: 50%;
  animation: g1-spin 0.9s linear infinite; }
@keyframes g1-spin { to { transform: rotate(360deg); } }
.g1-board .g1-approx { text-decoration: none; cursor: help; }
.g1-board a { color: var(--link-text-color); }

@media (max-width: 640px) {
  .g1-frame img { max-height: 60vh; }
  #header h1 { font-size: 1.3rem !important; }
  #header p { font-size: 0.9rem; }
  .g1-board .g1-opt:not(.g1-lead) { display: none; }
  .g1-board .g1-sub { display: block; margin-top: 0.25em; font-size: 0.8em; white-space: normal;
    color: var(--body-text-color-subdued); }
  .g1-board .g1-sub .g1-ci { display: inline; margin-left: 0.25em; font-size: 1em; }
  .g1-board .g1-scroll { max-height: none; }
  .g1-board th, .g1-board td { padding: 0.4em 0.45em; }
  .g1-board .g1-rank { width: 3.4rem; min-width: 3.4rem; max-width: 3.4rem; }
  .g1-board .g1-model { left: var(--g1-rank-w, 3.4rem); min-width: 0; max-width: none; width: 100%; }
  #tabs button[role="tab"] { padding-left: 0.6em; padding-right: 0.6em; }
}
"""

# Installed once per page by an HTML component, so any launch of the app has it:
# * arrow keys press the 2048 buttons while they are on screen (not while typing in a field);
# * a swipe on the 2048 board presses the button of its direction (the page does not scroll under it);
# * in Replay, Enter in the step box and the slider's keyboard moves (arrows, Page Up/Down, Home/End) go to that
#   step: gradio's slider reports a step on release, which a drag ends with and a key does not.
KEYBOARD_JS = """
if (!window.__g1benchKeys) {
  window.__g1benchKeys = true;
  const ids = {ArrowUp: 'play-up', ArrowRight: 'play-right', ArrowDown: 'play-down', ArrowLeft: 'play-left'};
  const press = (id) => {
    const button = document.getElementById(id);
    if (!button || button.offsetParent === null || button.disabled) return false;
    button.click();
    return true;
  };
  document.addEventListener('keydown', (event) => {
    const target = event.target;
    if (event.key === 'Enter' && target && target.matches && target.matches('#replay-step input[type=number]')) {
      event.preventDefault();
      target.blur();
      return;
    }
    const id = ids[event.key];
    if (!id || event.repeat || event.altKey || event.ctrlKey || event.metaKey) return;
    if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
    if (press(id)) event.preventDefault();
  });
  const stepKeys = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End'];
  document.addEventListener('keyup', (event) => {
    const target = event.target;
    if (target && target.matches && target.matches('#replay-step input[type=range]') && stepKeys.includes(event.key)) {
      setTimeout(() => target.dispatchEvent(new PointerEvent('pointerup', {bubbles: true})), 0);   // after the slider took the key's value
    }
  });
  let swipe = null;
  document.addEventListener('touchstart', (event) => {
    const frame = event.target.closest && event.target.closest('#play-frame');
    const up = document.getElementById('play-up');
    swipe = frame && up && up.offsetParent !== null && event.touches.length === 1
      ? {x: event.touches[0].clientX, y: event.touches[0].clientY} : null;
  }, {passive: true});
  document.addEventListener('touchmove', (event) => { if (swipe) event.preventDefault(); }, {passive: false});
  document.addEventListener('touchend', (event) => {
    if (!swipe) return;
    const t = event.changedTouches[0];
    const dx = t.clientX - swipe.x, dy = t.clientY - swipe.y;
    swipe = null;
    if (Math.max(Math.abs(dx), Math.abs(dy)) < 30) return;
    press('play-' + (Math.abs(dx) > Math.abs(dy) ? (dx > 0 ? 'right' : 'left') : (dy > 0 ? 'down' : 'up')));
  });
}
"""

#: after Replay opens a run or an episode, its frame is scrolled into view (whole, where the window allows) as soon as
#: it has loaded (only then is its size known); it gives up after a few seconds
SHOW_REPLAY_FRAME_JS = """() => {
  const until = Date.now() + 5000;
  const tick = () => {
    const frame = document.getElementById('replay-frame');
    const img = frame && frame.querySelector('img');
    if (img && img.complete && img.naturalHeight > 0) {
      const r = img.getBoundingClientRect();
      if (r.top < 0 || r.bottom > window.innerHeight) frame.scrollIntoView({block: 'nearest'});
      return;
    }
    if (Date.now() < until) setTimeout(tick, 100);
  };
  tick();
}"""


def launch_kwargs(settings: SpaceSettings) -> dict[str, Any]:
    """What ``launch()`` needs besides host and port: the upload limit, the styles, no run history (it would
    keep a visitor's inputs, their API key included, in the browser's storage)."""
    return {"max_file_size": f"{settings.max_upload_mb}mb", "css": CSS, "run_history": False,
            "footer_links": [], "show_error": False, "allowed_paths": [], "theme": THEME}


def _error(message: str) -> str:
    return f"⚠️ {esc(message, 600)}"


def _guard(fn: Callable[..., tuple], n_outputs: int, message_at: int, on_error: Callable[[], dict[int, Any]] | None = None,
           scrub: Callable[[str], str] = str):
    """Wrap a handler: a SpaceError (or any other failure) updates only the message output (``scrub`` hides the
    Space's own folders in it).

    ``functools.wraps`` keeps the handler's signature visible, so gradio still injects event data
    (``gr.SelectData``) into the parameters annotated for it.
    """

    @functools.wraps(fn)
    def wrapped(*args: Any) -> tuple:
        try:
            return fn(*args)
        except SpaceError as e:
            text = _error(scrub(str(e)))
        except Exception:  # noqa: BLE001 - a visitor must never see a traceback
            log.exception("handler %s failed", getattr(fn, "__name__", "?"))
            text = _error("something went wrong on our side (it was logged); try again or start a new game")
        out = [gr.skip()] * n_outputs
        out[message_at] = text
        for i, value in (on_error() if on_error else {}).items():
            out[i] = value
        return tuple(out)

    return wrapped


def _chosen(value: Any) -> bool:
    """Whether a dropdown's value is a choice (a dismissed dropdown sends None or "")."""
    return value is not None and value != "" and value != []


def build_app(settings: SpaceSettings | None = None) -> "gr.Blocks":
    """The whole Space as a ``gr.Blocks``: ``.queue().launch(**launch_kwargs(settings))`` serves it (a plain
    ``launch()`` works too, without the styles, the upload limit and with gradio's run history on)."""
    settings = settings or SpaceSettings.from_env()
    # gradio's queue rebuilds a pandas summary of its last 10,000 events after *every* event (for its
    # monitoring page); under load that costs more than the games themselves. Summarise every 500 events
    # over the last 2,000 instead (read when the queue is created; the operator's own values win).
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "500")
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "2000")
    frames = FrameStore(settings.scratch("frames"))
    warmup = TileWarmup()
    if settings.warm_tiles:  # CIFAR-10 is downloaded here, in the background, never in a visitor's request
        warmup.start()
    leaderboard = LeaderboardService(settings, settings.scratch("leaderboard"))
    if settings.preload_leaderboard:  # the first visitor finds the table ready
        leaderboard.ensure()
    scrub = leaderboard.scrub
    # frames, GIFs and plots are write-once files (frames named by their content's hash, plots by aggregation):
    # served from where they are, not copied into gradio's cache per event (hashing + copying every frame
    # was a tenth of an event's cost)
    gr.set_static_paths([frames.folder, leaderboard.plots_dir])
    play_b = PlayBackend(settings, frames, warmup)
    watch_b = WatchBackend(settings, frames, warmup)
    replay_b = ReplayBackend(settings, frames, leaderboard, warmup)
    submit_b = SubmitBackend(settings, leaderboard, warmup)
    games = game_choices()

    def presets(game: str) -> list[str]:
        from .. import list_presets

        return list_presets(game)

    def guard(fn, n, at, on_error=None):
        return _guard(fn, n, at, on_error, scrub=scrub)

    # delete_cache: gradio's own copies (uploads, served files) older than an hour go, hourly
    with gr.Blocks(title=about.TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.HTML("", js_on_load=KEYBOARD_JS, elem_id="g1-keyboard", container=False, padding=False)
        gr.Markdown(f"# {about.TITLE}\n{about.INTRO}", elem_id="header")
        with gr.Tabs(elem_id="tabs", selected="leaderboard", overflow_behavior="wrap"):
            # ---------------------------------------------------------------------------- Leaderboard
            with gr.Tab("Leaderboard", id="leaderboard", elem_id="tab-leaderboard") as lb_tab:
                lb_timer = gr.Timer(1.0, active=False)
                gr.Markdown(about.LEADERBOARD_NOTE, elem_id="lb-note")
                with gr.Row(equal_height=True, elem_classes="g1-filters"):
                    lb_suite = gr.Dropdown([("paper", "paper")], value="paper", label="Suite", elem_id="lb-suite",
                                           allow_custom_value=True, min_width=150, scale=1)
                    lb_search = gr.Textbox(label="Search", placeholder="a model, e.g. qwen", elem_id="lb-search",
                                           max_lines=1, min_width=150, scale=2)
                with gr.Accordion("Filters and columns", open=False, elem_id="lb-more"):
                    with gr.Row(equal_height=True, elem_classes="g1-filters"):
                        lb_game = gr.Dropdown([(ALL, ALL)], value=ALL, label="Game", elem_id="lb-game",
                                              allow_custom_value=True, min_width=140)
                        lb_difficulty = gr.Dropdown([ALL], value=ALL, label="Difficulty", elem_id="lb-difficulty",
                                                    allow_custom_value=True, min_width=140)
                        lb_type = gr.Dropdown([ALL], value=ALL, label="Model type", elem_id="lb-model-type",
                                              allow_custom_value=True, min_width=140)
                        lb_refresh = gr.Button("↻ Read the store again", elem_id="lb-refresh", min_width=140, scale=0)
                    lb_columns = gr.CheckboxGroup([(label, key) for key, label in OPTIONAL_COLUMNS], value=[],
                                                  label="More columns", elem_id="lb-columns")
                lb_status = gr.Markdown(status_text(None, True), elem_id="lb-status")
                lb_table = gr.HTML(build_view(None).table_html, elem_id="lb-table", js_on_load=SORT_JS,
                                   apply_default_css=False)
                lb_notes = gr.Markdown("", elem_id="lb-notes")
                lb_paper = gr.HTML("", elem_id="lb-paper", js_on_load=SORT_JS, apply_default_css=False, visible=False)
                with gr.Accordion("How to read this", open=False, elem_id="lb-help-box"):
                    lb_help = gr.Markdown("", elem_id="lb-help")
                with gr.Accordion("Entries left out (they do not verify)", open=False, elem_id="lb-skipped-box"):
                    lb_skipped = gr.Markdown("", elem_id="lb-skipped")
                lb_plots_note = gr.Markdown("", elem_id="lb-plots-note")
                with gr.Column(elem_id="lb-plots", visible=False) as lb_plots:
                    gr.Markdown("### Perception x reasoning", elem_id="lb-plots-title")
                    lb_heatmap_pick = gr.Dropdown([], value=None, label="Heatmap of", elem_id="lb-heatmap-model",
                                                  allow_custom_value=True)
                    lb_heatmap = gr.Image(None, type="filepath", interactive=False, elem_id="lb-heatmap", show_label=False,
                                          buttons=["download", "fullscreen"])
                    gr.Markdown("#### Perception accuracy vs score (each point: a model on one preset)",
                                elem_id="lb-perception-title")
                    lb_perception = gr.Image(None, type="filepath", interactive=False, elem_id="lb-perception",
                                             show_label=False, buttons=["download", "fullscreen"])

            # ---------------------------------------------------------------------------------- Play
            with gr.Tab("Play", id="play", elem_id="tab-play"):
                play_state = gr.State(None)
                gr.Markdown(about.PLAY_NOTE, elem_id="play-note")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        p_frame = gr.Image(None, type="filepath", format="png", interactive=False, show_label=False,
                                           buttons=[], elem_id="play-frame", elem_classes="g1-frame",
                                           placeholder="Dealing…")
                        with gr.Row(elem_id="play-arrows", elem_classes="g1-arrows", visible=True) as p_arrows:
                            p_left = gr.Button("←", elem_id="play-left", min_width=50)
                            p_up = gr.Button("↑", elem_id="play-up", min_width=50)
                            p_down = gr.Button("↓", elem_id="play-down", min_width=50)
                            p_right = gr.Button("→", elem_id="play-right", min_width=50)
                    with gr.Column(scale=2, min_width=280):
                        p_rule = gr.Markdown(about.rule_line(DEFAULT_GAME), elem_id="play-rule")
                        p_message = gr.Markdown("", elem_id="play-message", elem_classes="g1-message")
                        p_status = gr.Markdown("", elem_id="play-status")
                        with gr.Group():
                            p_game = gr.Dropdown(games, value=DEFAULT_GAME, label="Game", elem_id="play-game",
                                                 allow_custom_value=True)
                            p_preset = gr.Dropdown(presets(DEFAULT_GAME), value=DEFAULT_PRESET, label="Preset",
                                                   elem_id="play-preset", allow_custom_value=True)
                            p_seed = gr.Number(0, label=f"Seed (0 to {MAX_SEED})", precision=None, elem_id="play-seed")
                        with gr.Row():
                            p_new = gr.Button("New game", variant="primary", elem_id="play-new", min_width=100)
                            p_restart = gr.Button("Same seed again", elem_id="play-restart", min_width=100)
                        with gr.Row():
                            p_undo = gr.Button("Undo", elem_id="play-undo", min_width=100)
                            p_dice = gr.Button("Random seed", elem_id="play-random-seed", min_width=100)
                        p_show = gr.Checkbox(False, label="Show what a model gets (its frame, perception and prompt)",
                                             elem_id="play-show-model")
                        p_record = gr.Checkbox(False, label="Record my games for the human-play dataset",
                                               elem_id="play-record", visible=settings.recording_enabled,
                                               info=about.RECORD_NOTE)
                with gr.Column(visible=False, elem_id="play-model-view") as p_model_view:
                    with gr.Row():
                        p_model_frame = gr.Image(None, type="filepath", format="png", interactive=False,
                                                 label="The frame a model gets", elem_id="play-model-frame",
                                                 buttons=["download"], height=420)
                        p_model_note = gr.Markdown("", elem_id="play-model-note")
                    with gr.Row():
                        p_perception = gr.Textbox(label="Perception ground truth (what the model should see)",
                                                  lines=8, max_lines=20, interactive=False, elem_id="play-perception",
                                                  buttons=["copy"])
                        p_prompt = gr.Textbox(label="The exact prompt a model gets with this frame", lines=8,
                                              max_lines=20, interactive=False, elem_id="play-prompt",
                                              buttons=["copy"])
                # API access to clicks by pixel (the browser sends image clicks through play-frame's select event)
                with gr.Row(visible="hidden", elem_classes="g1-hidden-api"):
                    p_x = gr.Number(None, elem_id="play-x", show_label=False)
                    p_y = gr.Number(None, elem_id="play-y", show_label=False)
                    p_click_btn = gr.Button("click", elem_id="play-click-xy")

            # --------------------------------------------------------------------------------- Watch
            with gr.Tab("Watch", id="watch", elem_id="tab-watch"):
                watch_state = gr.State(None)
                timer = gr.Timer(1.0, active=False)
                gr.Markdown(about.watch_note(settings.visitor_step_limit_s, settings.model_timeout_s),
                            elem_id="watch-note")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        w_frame = gr.Image(None, type="filepath", format="png", interactive=False, show_label=False,
                                           buttons=[], elem_id="watch-frame", elem_classes="g1-frame",
                                           placeholder="Press Start")
                        w_status = gr.Markdown("", elem_id="watch-status")
                        with gr.Row():
                            w_start = gr.Button("Start", variant="primary", elem_id="watch-start", min_width=70)
                            w_step = gr.Button("Step", elem_id="watch-step", min_width=70)
                            w_play = gr.Button("Play", elem_id="watch-play", min_width=70)
                            w_stop = gr.Button("Stop", variant="stop", elem_id="watch-stop", min_width=70)
                        w_speed = gr.Slider(0.2, 5.0, value=1.0, step=0.1, label="Seconds per step",
                                            elem_id="watch-speed")
                    with gr.Column(scale=2, min_width=280):
                        w_message = gr.Markdown("Choose a player and press **Start**.", elem_id="watch-message",
                                                elem_classes="g1-message")
                        with gr.Group():
                            w_game = gr.Dropdown(games, value=DEFAULT_GAME, label="Game", elem_id="watch-game",
                                                 allow_custom_value=True)
                            w_preset = gr.Dropdown(presets(DEFAULT_GAME), value=DEFAULT_PRESET, label="Preset",
                                                   elem_id="watch-preset", allow_custom_value=True)
                            w_seed = gr.Number(0, label=f"Seed (0 to {MAX_SEED})", precision=None, elem_id="watch-seed")
                            w_player = gr.Dropdown(player_choices(settings), value="oracle", label="Player",
                                                   elem_id="watch-player", allow_custom_value=True)
                        with gr.Group(visible=False, elem_id="watch-endpoint") as w_endpoint:
                            w_url = gr.Textbox(label="Base URL", placeholder="https://api.example.com/v1",
                                               elem_id="watch-base-url", max_lines=1)
                            w_model = gr.Textbox(label="Model name", placeholder="my-vlm", elem_id="watch-model",
                                                 max_lines=1)
                            w_key = gr.Textbox(label="API key (this session only; never stored)", type="password",
                                               elem_id="watch-key", max_lines=1,
                                               info=f"Your endpoint gets {settings.visitor_step_limit_s:g} s per step.")
                        w_action = gr.Markdown("", elem_id="watch-action")
                with gr.Row():
                    w_perception = gr.Textbox(label="Its perception", lines=6, max_lines=16, interactive=False,
                                              elem_id="watch-perception",
                                              placeholder="A model's <perception> block (baselines write none)")
                    w_think = gr.Textbox(label="Its thinking", lines=6, max_lines=16, interactive=False,
                                         elem_id="watch-think", placeholder="A model's <think> block (baselines write none)")
                w_answer = gr.Textbox(label="Its whole answer", lines=3, max_lines=12, interactive=False,
                                      elem_id="watch-answer")
                w_log = gr.Dataframe(headers=LOG_HEADERS, value=[], interactive=False, label="Moves (newest first)",
                                     elem_id="watch-log", max_height=320, wrap=True)

            # -------------------------------------------------------------------------------- Replay
            with gr.Tab("Replay", id="replay", elem_id="tab-replay") as replay_tab:
                replay_state = gr.State(None, delete_callback=replay_b.discard)
                gr.Markdown(about.REPLAY_NOTE, elem_id="replay-note")
                with gr.Row(equal_height=True):
                    r_entry = gr.Dropdown(replay_b.entry_choices(), value=None, label="A verified entry",
                                          elem_id="replay-entry", allow_custom_value=True, scale=4, min_width=220)
                    r_run = gr.Dropdown(replay_b.list_runs(), value=None, label="…or a run of this Space",
                                        elem_id="replay-run", allow_custom_value=True, scale=3, min_width=200)
                    with gr.Column(scale=2, min_width=160):
                        r_upload = gr.UploadButton(f"Upload a run .zip (≤ {settings.max_upload_mb} MB)",
                                                   file_types=[".zip"], type="filepath", elem_id="replay-upload",
                                                   size="md")
                        r_refresh = gr.Button("↻ Refresh lists", elem_id="replay-refresh", size="md")
                r_message = gr.Markdown("", elem_id="replay-message", elem_classes="g1-message")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        r_frame = gr.Image(None, type="filepath", format="png", interactive=False, show_label=False,
                                           buttons=[], elem_id="replay-frame", elem_classes="g1-frame",
                                           placeholder="Pick an entry or a run above")
                    with gr.Column(scale=2, min_width=280):
                        r_episode = gr.Dropdown([], value=None, label="Episode", elem_id="replay-episode",
                                                allow_custom_value=True)
                        r_info = gr.Markdown("", elem_id="replay-info")
                        r_step = gr.Slider(1, 2, value=1, step=1, label="Step", elem_id="replay-step",
                                           info="type a number and press Enter, or use the slider's arrow keys")
                        with gr.Row():
                            r_prev = gr.Button("◀ Previous", elem_id="replay-prev", min_width=80)
                            r_next = gr.Button("Next ▶", elem_id="replay-next", min_width=80)
                        r_answer = gr.Textbox(label="The answer given", lines=4, max_lines=14, interactive=False,
                                              elem_id="replay-answer")
                        r_gif_btn = gr.Button("Make this episode's GIF", elem_id="replay-gif-make")
                        r_gif = gr.File(label="GIF", elem_id="replay-gif", interactive=False, height=60, visible=False)

            # --------------------------------------------------------------------------------- Submit
            with gr.Tab("Submit", id="submit", elem_id="tab-submit"):
                s_jobs = gr.State([])
                s_timer = gr.Timer(1.0, active=False)
                gr.Markdown(about.SUBMIT_NOTE, elem_id="submit-note")
                s_where = gr.Markdown("", elem_id="submit-where")
                with gr.Row(equal_height=False):
                    s_upload = gr.File(label=f"Run folder as .zip (up to {settings.max_upload_mb} MB)",
                                       file_types=[".zip"], type="filepath", elem_id="submit-upload", height=140,
                                       min_width=260)
                    with gr.Column(min_width=260):
                        s_hub = gr.Textbox(label="…or a Hub dataset repo holding the run",
                                           placeholder="ORG/NAME or ORG/NAME/path/to/run", elem_id="submit-hub-id",
                                           max_lines=1)
                        s_verify = gr.Button("Verify and submit", variant="primary", elem_id="submit-verify")
                s_result = gr.Markdown("", elem_id="submit-result", elem_classes="g1-message")
                s_queue = gr.Markdown("", elem_id="submit-queue")

            # ---------------------------------------------------------------------------------- About
            with gr.Tab("About", id="about", elem_id="tab-about"):
                gr.Markdown(about.about_text(settings, submit_b.results_repo(), _hub_endpoint()), elem_id="about-text")

        # ================================================================================ wiring: Play
        play_outputs = [play_state, p_frame, p_status, p_message, p_perception, p_prompt, p_arrows, p_rule,
                        p_model_frame, p_model_note]

        def play_out(session, view: PlayView, show: Any, new_game: bool = False) -> tuple:
            # what a model gets travels only while it is shown (the prompt and the frame's size change only with a
            # new game), and the arrows and the rule only change with a new game: fewer outputs, cheaper events
            show = bool(show)
            model_frame = note = gr.skip()
            if show and session is not None:
                model_frame, note = play_b.model_frame(session)
            return (session, view.frame, view.status, view.message, view.perception if show else gr.skip(),
                    view.prompt if show and new_game else gr.skip(),
                    gr.Row(visible=view.is_2048) if new_game else gr.skip(), view.rule if new_game else gr.skip(),
                    model_frame, note if show and new_game else gr.skip())

        n_play = len(play_outputs)
        fast = {"concurrency_limit": 8, "concurrency_id": "play", "show_progress": "hidden"}

        def on_new(game, preset, seed, record, show, session):
            return play_out(*play_b.new_game(game, preset, seed, record, previous=session), show, new_game=True)

        def on_open(game, preset, seed, record, show, session):
            # the page opened: deal the game shown in the controls, so Play never starts on an empty board
            if session is not None:
                return tuple(gr.skip() for _ in range(n_play))
            return on_new(game, preset, seed, record, show, session)

        def on_restart(session, show):
            return play_out(*play_b.restart(session), show, new_game=True)

        def on_undo(session, show):
            return play_out(*play_b.undo(session), show)

        def on_click_xy(session, show, x, y):
            return play_out(*play_b.click(session, x, y), show)

        def on_select(session, show, evt: gr.SelectData):
            index = getattr(evt, "index", None)
            if not isinstance(index, (list, tuple)) or len(index) != 2:
                raise SpaceError("click on a tile of the board")
            return play_out(*play_b.click(session, index[0], index[1]), show)

        def on_show(session, show):
            show = bool(show)
            if not show or session is None:
                return gr.Column(visible=show), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            try:
                perception, prompt, frame, note = play_b.model_view(session)
            except SpaceError as e:  # shown in the box itself: the panel has no message line of its own
                return gr.Column(visible=True), scrub(str(e)), "", None, ""
            return gr.Column(visible=True), perception, prompt, frame, note

        play_in = [p_game, p_preset, p_seed, p_record, p_show, play_state]
        p_new.click(guard(on_new, n_play, 3), play_in, play_outputs, api_name="play_new", **fast)
        demo.load(guard(on_open, n_play, 3), play_in, play_outputs, api_name="play_open", **fast)
        p_restart.click(guard(on_restart, n_play, 3), [play_state, p_show], play_outputs, api_name="play_restart", **fast)
        p_undo.click(guard(on_undo, n_play, 3), [play_state, p_show], play_outputs, api_name="play_undo", **fast)
        p_click_btn.click(guard(on_click_xy, n_play, 3), [play_state, p_show, p_x, p_y], play_outputs,
                          api_name="play_click", **fast)
        p_frame.select(guard(on_select, n_play, 3), [play_state, p_show], play_outputs, api_name="play_select", **fast)
        for button, direction in ((p_up, "up"), (p_right, "right"), (p_down, "down"), (p_left, "left")):
            def on_move(session, show, _d=direction):
                return play_out(*play_b.move(session, _d), show)

            on_move.__name__ = f"on_move_{direction}"
            button.click(guard(on_move, n_play, 3), [play_state, p_show], play_outputs, api_name=f"play_{direction}",
                         **fast)
        p_show.change(guard(on_show, 5, 1, on_error=lambda: {0: gr.Column(visible=True)}), [play_state, p_show],
                      [p_model_view, p_perception, p_prompt, p_model_frame, p_model_note], api_name="play_show_model",
                      **fast)

        def game_presets(game) -> tuple[list[str], str]:
            if game not in dict((v, k) for k, v in games):
                raise SpaceError(f"unknown game {str(game)[:40]!r}")
            choices = presets(game)
            return choices, ("paper" if "paper" in choices else choices[0])

        def on_play_game(game, seed, record, show, session):
            # choosing a game deals it (at its paper preset), so the board and the controls always agree
            if not _chosen(game):
                return tuple(gr.skip() for _ in range(n_play + 1))
            choices, preset = game_presets(game)
            return (*on_new(game, preset, seed, record, show, session), gr.Dropdown(choices=choices, value=preset))

        def on_play_preset(game, preset, seed, record, show, session):
            if not _chosen(preset):
                return tuple(gr.skip() for _ in range(n_play))
            return on_new(game, preset, seed, record, show, session)

        p_game.input(guard(on_play_game, n_play + 1, 3), [p_game, p_seed, p_record, p_show, play_state],
                     play_outputs + [p_preset], api_name="play_game_changed", **fast)
        p_preset.input(guard(on_play_preset, n_play, 3), play_in, play_outputs, api_name="play_preset_changed", **fast)
        p_dice.click(lambda: secrets.randbelow(MAX_SEED + 1), None, [p_seed], api_name="play_random_seed", **fast)

        def on_record(session, on):
            new, message = play_b.set_record(session, on)
            return new, message, gr.skip()

        p_record.input(guard(on_record, 3, 1, on_error=lambda: {2: False}), [play_state, p_record],
                       [play_state, p_message, p_record], api_name="play_record", **fast)

        # =============================================================================== wiring: Watch
        watch_outputs = [watch_state, w_frame, w_status, w_perception, w_think, w_answer, w_action, w_log,
                         w_message, timer]

        def watch_out(session, view: WatchView, message: str, timer_update) -> tuple:
            return (session, view.frame, view.status, view.perception, view.think, view.answer, view.action,
                    view.log, message, timer_update)

        n_watch = len(watch_outputs)
        slow = {"concurrency_limit": 16, "concurrency_id": "watch", "show_progress": "minimal"}
        stop_timer = {9: gr.Timer(active=False)}

        def on_watch_start(game, preset, seed, player, url, model, key):
            session, view = watch_b.start(game, preset, seed, player, url, model, key)
            return watch_out(session, view, "Ready: press **Step** or **Play**.", gr.Timer(active=False))

        def on_watch_step(session):
            session, view = watch_b.step(session)
            done = "Game over." if view.over else ""
            return watch_out(session, view, done, gr.Timer(active=False) if view.over else gr.skip())

        def on_watch_tick(session):
            # like Step, but the message line keeps saying "Playing…" until there is news
            session, view = watch_b.step(session, autoplay=True)
            if view.over:
                return watch_out(session, view, "Game over.", gr.Timer(active=False))
            return watch_out(session, view, gr.skip(), gr.skip())

        def on_watch_play(session, speed):
            if session is None:
                raise SpaceError("press Start first")
            if getattr(session, "over", False):
                raise SpaceError("this game is over: press Start for a new one")
            try:
                interval = min(max(float(speed), 0.2), 5.0)
            except (TypeError, ValueError):
                raise SpaceError("the speed must be a number of seconds") from None
            session.control.resume()
            return (gr.Timer(value=interval, active=True), f"Playing: one step every {interval:g} s.")

        def on_watch_stop(session):
            return gr.Timer(active=False), watch_b.stop(session)

        w_start.click(guard(on_watch_start, n_watch, 8, lambda: dict(stop_timer)),
                      [w_game, w_preset, w_seed, w_player, w_url, w_model, w_key], watch_outputs,
                      api_name="watch_start", **slow)
        w_step.click(guard(on_watch_step, n_watch, 8, lambda: dict(stop_timer)), [watch_state], watch_outputs,
                     api_name="watch_step", **slow)
        timer.tick(guard(on_watch_tick, n_watch, 8, lambda: dict(stop_timer)), [watch_state], watch_outputs,
                   api_name="watch_tick", trigger_mode="once", **slow)
        w_play.click(guard(on_watch_play, 2, 1), [watch_state, w_speed], [timer, w_message], api_name="watch_play",
                     **fast)
        # its own line: Stop must never wait behind the steps it stops
        w_stop.click(guard(on_watch_stop, 2, 1, lambda: {0: gr.Timer(active=False)}), [watch_state], [timer, w_message],
                     api_name="watch_stop", concurrency_limit=None, show_progress="hidden")
        w_player.input(lambda p: gr.Group(visible=p == OWN_ENDPOINT), [w_player], [w_endpoint],
                       api_name="watch_player_changed", **fast)

        def on_watch_game(game):
            if not _chosen(game):
                return gr.skip(), gr.skip()
            choices, preset = game_presets(game)
            return gr.Dropdown(choices=choices, value=preset), ""

        w_game.input(guard(on_watch_game, 2, 1), [w_game], [w_preset, w_message], api_name="watch_game_changed", **fast)

        # ============================================================================== wiring: Replay
        replay_outputs = [replay_state, r_frame, r_info, r_answer, r_step, r_episode, r_message]

        def replay_out(session, view: ReplayView, message: str = "", slider: bool = True) -> tuple:
            # slider=False when the slider itself asked for the step: sending its value back would undo a key the
            # visitor pressed while the answer was on its way (two quick arrow keys would end one step short)
            return (session, view.frame, view.info, view.answer,
                    gr.Slider(minimum=1, maximum=max(view.n_steps, 2), value=view.index + 1, step=1,
                              interactive=view.n_steps > 1) if slider else gr.skip(),
                    gr.Dropdown(choices=view.episode_choices, value=view.episode_id), message)

        n_replay = len(replay_outputs)
        skip_replay = tuple(gr.skip() for _ in range(n_replay))
        replay_q = {"concurrency_limit": 4, "concurrency_id": "replay", "show_progress": "minimal"}

        def on_open_run(name, session):
            if not _chosen(name):  # a dropdown dismissed without a choice
                return skip_replay
            return replay_out(*replay_b.open_run(name, session))

        def on_upload(file, session):
            if file is None:
                return skip_replay
            return replay_out(*replay_b.open_upload(file, session), "Upload checked and opened.")

        def on_episode(session, episode_id):
            if not _chosen(episode_id):
                return skip_replay
            return replay_out(*replay_b.select_episode(session, episode_id))

        def on_goto(session, index):
            if index is None or index == "":
                return skip_replay
            if isinstance(index, (int, float)):
                index = index - 1
            session, view = replay_b.goto(session, index)
            # the slider already shows the step, unless it was out of range (a typed number): then it is corrected
            return replay_out(session, view, slider=not isinstance(index, (int, float)) or view.index != index)

        def on_prev(session):
            return replay_out(*replay_b.shift(session, -1))

        def on_next(session):
            return replay_out(*replay_b.shift(session, +1))

        def on_refresh():
            runs, entries = replay_b.list_runs(), replay_b.entry_choices()
            return (gr.Dropdown(choices=runs), gr.Dropdown(choices=entries),
                    f"{len(entries)} verified entr{'y' if len(entries) == 1 else 'ies'} on the leaderboard, "
                    f"{len(runs)} run{'' if len(runs) == 1 else 's'} of this Space.")

        def on_open_entry(entry_id, session):
            if not _chosen(entry_id):
                return skip_replay
            return replay_out(*replay_b.open_entry(entry_id, session))

        def on_gif(session):
            return gr.File(value=replay_b.gif(session), visible=True), "GIF ready: download it below the button."

        show_frame = {"fn": None, "js": SHOW_REPLAY_FRAME_JS}
        r_run.input(guard(on_open_run, n_replay, 6), [r_run, replay_state], replay_outputs, api_name="replay_open",
                    **replay_q).then(**show_frame)
        r_upload.upload(guard(on_upload, n_replay, 6), [r_upload, replay_state], replay_outputs,
                        api_name="replay_upload", **replay_q).then(**show_frame)
        r_episode.input(guard(on_episode, n_replay, 6), [replay_state, r_episode], replay_outputs,
                        api_name="replay_episode", **replay_q).then(**show_frame)
        r_step.release(guard(on_goto, n_replay, 6), [replay_state, r_step], replay_outputs, api_name="replay_goto",
                       trigger_mode="always_last", **replay_q)
        r_prev.click(guard(on_prev, n_replay, 6), [replay_state], replay_outputs, api_name="replay_prev", **replay_q)
        r_next.click(guard(on_next, n_replay, 6), [replay_state], replay_outputs, api_name="replay_next", **replay_q)
        r_refresh.click(guard(on_refresh, 3, 2), None, [r_run, r_entry, r_message], api_name="replay_refresh",
                        **replay_q)
        r_entry.input(guard(on_open_entry, n_replay, 6), [r_entry, replay_state], replay_outputs, api_name="replay_entry",
                      **replay_q).then(**show_frame)
        # the store's entries change with every aggregation: the lists are brought up to date when the tab opens
        replay_tab.select(guard(on_refresh, 3, 2), None, [r_run, r_entry, r_message], api_name="replay_tab_opened",
                          **replay_q)
        r_gif_btn.click(guard(on_gif, 2, 1), [replay_state], [r_gif, r_message], api_name="replay_gif",
                        concurrency_limit=4, concurrency_id="gif", show_progress="full")

        # ========================================================================= wiring: Leaderboard
        lb_inputs = [lb_suite, lb_search, lb_game, lb_difficulty, lb_type, lb_heatmap_pick, lb_columns]
        lb_outputs = [lb_table, lb_paper, lb_status, lb_notes, lb_skipped, lb_heatmap_pick, lb_heatmap, lb_perception,
                      lb_plots_note, lb_suite, lb_game, lb_difficulty, lb_type, lb_help, lb_plots, lb_timer]
        n_lb = len(lb_outputs)

        def lb_out(view: LeaderboardView) -> tuple:
            # the timer polls while an aggregation runs and stops once the table is there
            return (view.table_html, gr.HTML(value=view.paper_html, visible=bool(view.paper_html)),
                    view.status, view.notes, view.skipped, gr.Dropdown(choices=view.heatmaps, value=view.heatmap),
                    view.heatmap_png, view.perception_png, view.plots_note,
                    gr.Dropdown(choices=view.suites, value=view.suite), gr.Dropdown(choices=view.games, value=view.game),
                    gr.Dropdown(choices=view.difficulties, value=view.difficulty),
                    gr.Dropdown(choices=view.model_types, value=view.model_type), view.help,
                    gr.Column(visible=view.has_plots), gr.Timer(active=view.loading))

        def on_lb_view(suite, search, game, difficulty, model_type, heatmap, columns):
            leaderboard.ensure()
            return lb_out(build_view(leaderboard.snapshot(), suite, search, game, difficulty, model_type, heatmap,
                                     columns, loading=leaderboard.loading()))

        def on_lb_suite(suite, search, game, difficulty, model_type, heatmap, columns):
            if not _chosen(suite):
                return tuple(gr.skip() for _ in range(n_lb))
            # another suite has other games and presets: its filters start again from "all"
            return on_lb_view(suite, search, ALL, ALL, model_type, heatmap, columns)

        def on_lb_refresh(suite, search, game, difficulty, model_type, heatmap, columns):
            leaderboard.refresh()
            return on_lb_view(suite, search, game, difficulty, model_type, heatmap, columns)

        def on_lb_poll(suite, search, game, difficulty, model_type, heatmap, columns):
            if leaderboard.loading() and leaderboard.snapshot() is not None:
                # only the status line moves until the new table is there
                out = [gr.skip()] * n_lb
                out[2] = status_text(leaderboard.snapshot(), loading=True)
                return tuple(out)
            return on_lb_view(suite, search, game, difficulty, model_type, heatmap, columns)

        def on_lb_heatmap(entry_id):
            if entry_id is not None and not isinstance(entry_id, str):
                raise SpaceError("pick a run from the list")
            if not _chosen(entry_id):
                return gr.skip(), gr.skip()
            return heatmap_png(leaderboard.snapshot(), entry_id), gr.skip()

        lb_q = {"concurrency_limit": 8, "concurrency_id": "leaderboard", "show_progress": "hidden"}
        stop_lb = lambda: {n_lb - 1: gr.Timer(active=False)}  # noqa: E731
        # the Space opens on this tab: its table (or the loading state, polled) comes with the page
        demo.load(guard(on_lb_view, n_lb, 2, stop_lb), lb_inputs, lb_outputs, api_name="leaderboard_open", **lb_q)
        lb_tab.select(guard(on_lb_view, n_lb, 2, stop_lb), lb_inputs, lb_outputs, api_name="leaderboard_view", **lb_q)
        lb_refresh.click(guard(on_lb_refresh, n_lb, 2, stop_lb), lb_inputs, lb_outputs, api_name="leaderboard_refresh",
                         **lb_q)
        lb_timer.tick(guard(on_lb_poll, n_lb, 2, stop_lb), lb_inputs, lb_outputs, api_name="leaderboard_poll",
                      trigger_mode="once", **lb_q)
        lb_suite.input(guard(on_lb_suite, n_lb, 2, stop_lb), lb_inputs, lb_outputs, api_name="leaderboard_suite", **lb_q)
        for i, control in enumerate((lb_game, lb_difficulty, lb_type)):
            control.input(guard(on_lb_view, n_lb, 2, stop_lb), lb_inputs, lb_outputs,
                          api_name=f"leaderboard_filter_{('game', 'difficulty', 'type')[i]}", trigger_mode="always_last",
                          **lb_q)
        # always_last: ticking several boxes quickly must end on a table with all of them (the default, "once",
        # drops a change made while the previous one is answered)
        lb_columns.input(guard(on_lb_view, n_lb, 2, stop_lb), lb_inputs, lb_outputs, api_name="leaderboard_columns",
                         trigger_mode="always_last", **lb_q)
        # .change, not .input: in gradio 6 a value set without key presses (autofill, a test's fill) sent no input
        # event; nothing else writes this box, so every change is the visitor's
        lb_search.change(guard(on_lb_view, n_lb, 2, stop_lb), lb_inputs, lb_outputs, api_name="leaderboard_search",
                         trigger_mode="always_last", **lb_q)
        lb_heatmap_pick.input(guard(on_lb_heatmap, 2, 1), [lb_heatmap_pick], [lb_heatmap, lb_status],
                              api_name="leaderboard_heatmap", **lb_q)

        # ============================================================================== wiring: Submit
        submit_outputs = [s_result, s_where, s_queue, s_jobs, s_timer, s_upload, s_hub]

        def on_submit(file, hub_name, jobs):
            jobs = [j for j in (jobs or []) if isinstance(j, str)]
            sub = submit_b.submit(file, hub_name, jobs)
            jobs = [sub.id] + jobs
            message = (f"Queued **{esc(sub.label, 120)}**: it is verified on its own; follow it below (you can submit "
                       "another meanwhile).")
            return (message, submit_b.describe(), render_status(submit_b.queue.status(jobs)), jobs,
                    gr.Timer(active=True), None, "")

        def on_submit_poll(jobs):
            subs = submit_b.queue.status([j for j in (jobs or []) if isinstance(j, str)])
            return render_status(subs), gr.Timer(active=any(not s.final for s in subs))

        def on_submit_tab():
            return submit_b.describe(), gr.Button(submit_b.button_label())

        s_verify.click(guard(on_submit, len(submit_outputs), 0), [s_upload, s_hub, s_jobs], submit_outputs,
                       api_name="submit_run", concurrency_limit=4, concurrency_id="submit", show_progress="minimal")
        s_timer.tick(guard(on_submit_poll, 2, 0), [s_jobs], [s_queue, s_timer], api_name="submit_poll",
                     trigger_mode="once", concurrency_limit=8, concurrency_id="submit-poll", show_progress="hidden")
        demo.load(guard(on_submit_tab, 2, 0), None, [s_where, s_verify], api_name="submit_where", show_progress="hidden")

    # what the app runs in the background, for tests and scripts (e.g. ``demo.g1bench.leaderboard.wait()``)
    demo.g1bench = types.SimpleNamespace(leaderboard=leaderboard, warmup=warmup, settings=settings,
                                         submissions=submit_b.queue, replay=replay_b)
    return demo


def _hub_endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


__all__ = ["build_app", "launch_kwargs", "CSS", "KEYBOARD_JS"]

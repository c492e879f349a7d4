"""The Space's Blocks: tabs, components (each with an ``elem_id``) and their wiring to the backends.

Everything a handler does is in :mod:`.play`, :mod:`.watch` and :mod:`.replay`; this module maps their
results onto components. Every handler runs through :func:`_guard`: a :class:`SpaceError` becomes a message
next to the control that caused it (the session is left as it was), and anything unexpected is logged on
the server and shown as a one-line apology, never a traceback.

Per-visitor state lives in ``gr.State`` (server-side, one per browser session); the backends hold only
read-only services and write-once files (frames named by their content), so visitors never share
mutable state.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import types
from typing import Any, Callable

from . import about
from .errors import SpaceError
from .frames import FrameStore
from .leaderboard import ALL, LeaderboardService, LeaderboardView, build_view, heatmap_png, status_text
from .play import PlayBackend, PlayView
from .replay import ReplayBackend, ReplayView
from .sessions import MAX_SEED, game_choices
from .settings import SpaceSettings
from .submit import SubmitBackend
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
.g1-frame img { object-fit: contain; max-height: 72vh; }
.g1-arrows { max-width: 420px; margin: 0 auto; }
.g1-arrows button { font-size: 1.3rem; min-width: 0 !important; }
.g1-message { min-height: 2.2em; }
.g1-hidden-api { display: none !important; }
.g1-filters { align-items: end; }
#lb-status, #lb-notes, #submit-result { overflow-wrap: anywhere; }
#submit-result pre { white-space: pre-wrap; overflow-wrap: anywhere; }
footer { display: none !important; }
@media (max-width: 640px) {
  .g1-frame img { max-height: 60vh; }
  h1 { font-size: 1.4rem !important; }
}
"""

# Arrow keys press the 2048 buttons while they are on screen (not while typing in a field). The listener
# is installed once per page by an HTML component, so any launch of the app has it.
KEYBOARD_JS = """
if (!window.__g1benchKeys) {
  window.__g1benchKeys = true;
  const ids = {ArrowUp: 'play-up', ArrowRight: 'play-right', ArrowDown: 'play-down', ArrowLeft: 'play-left'};
  document.addEventListener('keydown', (event) => {
    const id = ids[event.key];
    if (!id || event.repeat || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
    const button = document.getElementById(id);
    if (!button || button.offsetParent === null || button.disabled) return;
    event.preventDefault();
    button.click();
  });
}
"""


def launch_kwargs(settings: SpaceSettings) -> dict[str, Any]:
    """What ``launch()`` needs besides host and port: the upload limit, the styles, no run history (it would
    keep a visitor's inputs, their API key included, in the browser's storage)."""
    return {"max_file_size": f"{settings.max_upload_mb}mb", "css": CSS, "run_history": False,
            "footer_links": [], "show_error": False, "allowed_paths": [], "theme": THEME}


def _error(message: str) -> str:
    return f"⚠️ {esc(message, 600)}"


def _guard(fn: Callable[..., tuple], n_outputs: int, message_at: int, on_error: Callable[[], dict[int, Any]] | None = None):
    """Wrap a handler: a SpaceError (or any other failure) updates only the message output.

    ``functools.wraps`` keeps the handler's signature visible, so gradio still injects event data
    (``gr.SelectData``) into the parameters annotated for it.
    """

    @functools.wraps(fn)
    def wrapped(*args: Any) -> tuple:
        try:
            return fn(*args)
        except SpaceError as e:
            text = _error(str(e))
        except Exception:  # noqa: BLE001 - a visitor must never see a traceback
            log.exception("handler %s failed", getattr(fn, "__name__", "?"))
            text = _error("something went wrong on our side (it was logged); try again or start a new game")
        out = [gr.skip()] * n_outputs
        out[message_at] = text
        for i, value in (on_error() if on_error else {}).items():
            out[i] = value
        return tuple(out)

    return wrapped


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
    if settings.preload_leaderboard:  # the first visitor of the tab finds the table ready
        leaderboard.ensure()
    # frames and plots are write-once files (frames named by their content's hash, plots by aggregation):
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

    # delete_cache: gradio's own copies (uploads, served files) older than an hour go, hourly
    with gr.Blocks(title=about.TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.HTML("", js_on_load=KEYBOARD_JS, elem_id="g1-keyboard", container=False, padding=False)
        gr.Markdown(f"# {about.TITLE}\n{about.INTRO}", elem_id="header")
        with gr.Tabs(elem_id="tabs"):
            # ---------------------------------------------------------------------------------- Play
            with gr.Tab("Play", id="play", elem_id="tab-play"):
                play_state = gr.State(None)
                gr.Markdown(about.PLAY_NOTE, elem_id="play-note")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        p_frame = gr.Image(None, type="filepath", format="png", interactive=False, show_label=False,
                                           buttons=[], elem_id="play-frame", elem_classes="g1-frame",
                                           placeholder="Press New game")
                        with gr.Row(elem_id="play-arrows", elem_classes="g1-arrows", visible=True) as p_arrows:
                            p_left = gr.Button("←", elem_id="play-left", min_width=50)
                            p_up = gr.Button("↑", elem_id="play-up", min_width=50)
                            p_down = gr.Button("↓", elem_id="play-down", min_width=50)
                            p_right = gr.Button("→", elem_id="play-right", min_width=50)
                    with gr.Column(scale=2, min_width=280):
                        p_message = gr.Markdown("Choose a game and press **New game**.", elem_id="play-message",
                                                elem_classes="g1-message")
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
                        p_show = gr.Checkbox(False, label="Show what a model gets (perception and prompt)",
                                             elem_id="play-show-model")
                        p_record = gr.Checkbox(False, label="Record my games for the human-play dataset",
                                               elem_id="play-record", visible=settings.recording_enabled,
                                               info=about.RECORD_NOTE)
                with gr.Column(visible=False, elem_id="play-model-view") as p_model_view:
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
                gr.Markdown(about.WATCH_NOTE, elem_id="watch-note")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        w_frame = gr.Image(None, type="filepath", format="png", interactive=False, show_label=False,
                                           buttons=[], elem_id="watch-frame", elem_classes="g1-frame",
                                           placeholder="Press Start")
                        w_status = gr.Markdown("", elem_id="watch-status")
                        with gr.Row():
                            w_start = gr.Button("Start", variant="primary", elem_id="watch-start", min_width=80)
                            w_step = gr.Button("Step", elem_id="watch-step", min_width=80)
                            w_play = gr.Button("Play", elem_id="watch-play", min_width=80)
                            w_pause = gr.Button("Pause", elem_id="watch-pause", min_width=80)
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
                                               elem_id="watch-key", max_lines=1)
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
                    r_entry = gr.Dropdown(replay_b.entry_choices(), value=None,
                                          label="Results store entry (the leaderboard's verified runs)",
                                          elem_id="replay-entry", allow_custom_value=True, scale=4, min_width=220)
                    r_run = gr.Dropdown(replay_b.list_runs(), value=None, label="…or a run of this Space's runs folder",
                                        elem_id="replay-run", allow_custom_value=True, scale=4, min_width=220)
                    r_refresh = gr.Button("↻ Refresh lists", elem_id="replay-refresh", scale=1, min_width=110)
                r_episode = gr.Dropdown([], value=None, label="Episode", elem_id="replay-episode",
                                        allow_custom_value=True)
                r_upload = gr.File(label=f"…or upload a run folder as .zip (up to {settings.max_upload_mb} MB)",
                                   file_types=[".zip"], type="filepath", elem_id="replay-upload", height=150)
                r_message = gr.Markdown("", elem_id="replay-message", elem_classes="g1-message")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        r_frame = gr.Image(None, type="filepath", format="png", interactive=False, show_label=False,
                                           buttons=[], elem_id="replay-frame", elem_classes="g1-frame",
                                           placeholder="Open a run")
                    with gr.Column(scale=2, min_width=280):
                        r_info = gr.Markdown("", elem_id="replay-info")
                        r_step = gr.Slider(1, 2, value=1, step=1, label="Step", elem_id="replay-step")
                        with gr.Row():
                            r_prev = gr.Button("◀ Previous", elem_id="replay-prev", min_width=80)
                            r_next = gr.Button("Next ▶", elem_id="replay-next", min_width=80)
                        r_answer = gr.Textbox(label="The answer given", lines=4, max_lines=14, interactive=False,
                                              elem_id="replay-answer")
                        r_gif_btn = gr.Button("Make this episode's GIF", elem_id="replay-gif-make")
                        r_gif = gr.File(label="GIF", elem_id="replay-gif", interactive=False, height=60, visible=False)

            # ---------------------------------------------------------------------------- Leaderboard
            with gr.Tab("Leaderboard", id="leaderboard", elem_id="tab-leaderboard") as lb_tab:
                lb_timer = gr.Timer(1.0, active=False)
                gr.Markdown(about.LEADERBOARD_NOTE, elem_id="lb-note")
                with gr.Row(equal_height=True, elem_classes="g1-filters"):
                    lb_suite = gr.Dropdown([("paper", "paper")], value="paper", label="Suite", elem_id="lb-suite",
                                           allow_custom_value=True, min_width=140)
                    lb_search = gr.Textbox(label="Search models", placeholder="e.g. qwen", elem_id="lb-search",
                                           max_lines=1, min_width=160, scale=2)
                    lb_game = gr.Dropdown([(ALL, ALL)], value=ALL, label="Game", elem_id="lb-game",
                                          allow_custom_value=True, min_width=140)
                    lb_difficulty = gr.Dropdown([ALL], value=ALL, label="Difficulty", elem_id="lb-difficulty",
                                                allow_custom_value=True, min_width=140)
                    lb_type = gr.Dropdown([ALL], value=ALL, label="Model type", elem_id="lb-model-type",
                                          allow_custom_value=True, min_width=140)
                    lb_refresh = gr.Button("↻ Refresh", elem_id="lb-refresh", min_width=100, scale=0)
                lb_status = gr.Markdown("Open this tab to load the leaderboard.", elem_id="lb-status")
                lb_table = gr.Dataframe(value=None, interactive=False, elem_id="lb-table", wrap=False, max_height=520,
                                        label="Verified runs: measured models, then g1bench's baselines",
                                        pinned_columns=2, buttons=["fullscreen", "copy"])
                lb_paper = gr.Dataframe(value=None, interactive=False, elem_id="lb-paper", wrap=False, max_height=420,
                                        label="Reported in the paper (G1 paper, Fig. 1): not verified by g1bench",
                                        pinned_columns=1)
                lb_notes = gr.Markdown("", elem_id="lb-notes")
                with gr.Accordion("How to read this table", open=False, elem_id="lb-help-box"):
                    lb_help = gr.Markdown("", elem_id="lb-help")
                with gr.Accordion("Entries left out (they do not verify)", open=False, elem_id="lb-skipped-box"):
                    lb_skipped = gr.Markdown("", elem_id="lb-skipped")
                with gr.Column(elem_id="lb-plots"):
                    gr.Markdown("### Perception x reasoning", elem_id="lb-plots-title")
                    lb_plots_note = gr.Markdown("", elem_id="lb-plots-note")
                    lb_heatmap_pick = gr.Dropdown([], value=None, label="Heatmap of", elem_id="lb-heatmap-model",
                                                  allow_custom_value=True)
                    lb_heatmap = gr.Image(None, type="filepath", interactive=False, elem_id="lb-heatmap", show_label=False,
                                          buttons=["download", "fullscreen"], placeholder="No run of the grid suite yet")
                    gr.Markdown("#### Perception accuracy vs score (each point: a model on one preset)",
                                elem_id="lb-perception-title")
                    lb_perception = gr.Image(None, type="filepath", interactive=False, elem_id="lb-perception",
                                             show_label=False, buttons=["download", "fullscreen"],
                                             placeholder="No run with a perception block yet")

            # --------------------------------------------------------------------------------- Submit
            with gr.Tab("Submit", id="submit", elem_id="tab-submit"):
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

            # ---------------------------------------------------------------------------------- About
            with gr.Tab("About", id="about", elem_id="tab-about"):
                gr.Markdown(about.ABOUT, elem_id="about-text")

        # ================================================================================ wiring: Play
        play_outputs = [play_state, p_frame, p_status, p_message, p_perception, p_prompt, p_arrows]

        def play_out(session, view: PlayView, show: Any, new_game: bool = False) -> tuple:
            # perception and prompt travel only while they are shown (the prompt changes only with a new
            # game), and the arrows only change with a new game: fewer outputs, cheaper events
            show = bool(show)
            return (session, view.frame, view.status, view.message, view.perception if show else gr.skip(),
                    view.prompt if show and new_game else gr.skip(),
                    gr.Row(visible=view.is_2048) if new_game else gr.skip())

        n_play = len(play_outputs)
        fast = {"concurrency_limit": 8, "concurrency_id": "play", "show_progress": "hidden"}

        def on_new(game, preset, seed, record, show, session):
            return play_out(*play_b.new_game(game, preset, seed, record, previous=session), show, new_game=True)

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
                return gr.Column(visible=show), gr.skip(), gr.skip()
            try:
                perception, prompt = play_b.model_view(session)
            except SpaceError as e:  # shown in the box itself: the panel has no message line of its own
                return gr.Column(visible=True), str(e), ""
            return gr.Column(visible=True), perception, prompt

        p_new.click(_guard(on_new, n_play, 3), [p_game, p_preset, p_seed, p_record, p_show, play_state], play_outputs,
                    api_name="play_new", **fast)
        p_restart.click(_guard(on_restart, n_play, 3), [play_state, p_show], play_outputs, api_name="play_restart", **fast)
        p_undo.click(_guard(on_undo, n_play, 3), [play_state, p_show], play_outputs, api_name="play_undo", **fast)
        p_click_btn.click(_guard(on_click_xy, n_play, 3), [play_state, p_show, p_x, p_y], play_outputs,
                          api_name="play_click", **fast)
        p_frame.select(_guard(on_select, n_play, 3), [play_state, p_show], play_outputs, api_name="play_select", **fast)
        for button, direction in ((p_up, "up"), (p_right, "right"), (p_down, "down"), (p_left, "left")):
            def on_move(session, show, _d=direction):
                return play_out(*play_b.move(session, _d), show)

            on_move.__name__ = f"on_move_{direction}"
            button.click(_guard(on_move, n_play, 3), [play_state, p_show], play_outputs, api_name=f"play_{direction}",
                         **fast)
        p_show.change(_guard(on_show, 3, 1, on_error=lambda: {0: gr.Column(visible=True)}), [play_state, p_show],
                      [p_model_view, p_perception, p_prompt], api_name="play_show_model", **fast)

        def on_game(game):
            if game not in dict((v, k) for k, v in games):
                raise SpaceError(f"unknown game {str(game)[:40]!r}")
            return gr.Dropdown(choices=presets(game), value="paper" if "paper" in presets(game) else presets(game)[0]), ""

        p_game.input(_guard(on_game, 2, 1), [p_game], [p_preset, p_message], api_name="play_game_changed", **fast)
        p_dice.click(lambda: secrets.randbelow(MAX_SEED + 1), None, [p_seed], api_name="play_random_seed", **fast)

        def on_record(session, on):
            new, message = play_b.set_record(session, on)
            return new, message, gr.skip()

        p_record.input(_guard(on_record, 3, 1, on_error=lambda: {2: False}), [play_state, p_record],
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
            # like Step, but the message line keeps saying "Playing…" / "Paused." until there is news
            session, view = watch_b.step(session)
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
            return (gr.Timer(value=interval, active=True), f"Playing: one step every {interval:g} s.")

        def on_watch_pause():
            return gr.Timer(active=False), "Paused."

        w_start.click(_guard(on_watch_start, n_watch, 8, lambda: dict(stop_timer)),
                      [w_game, w_preset, w_seed, w_player, w_url, w_model, w_key], watch_outputs,
                      api_name="watch_start", **slow)
        w_step.click(_guard(on_watch_step, n_watch, 8, lambda: dict(stop_timer)), [watch_state], watch_outputs,
                     api_name="watch_step", **slow)
        timer.tick(_guard(on_watch_tick, n_watch, 8, lambda: dict(stop_timer)), [watch_state], watch_outputs,
                   api_name="watch_tick", trigger_mode="once", **slow)
        w_play.click(_guard(on_watch_play, 2, 1), [watch_state, w_speed], [timer, w_message], api_name="watch_play",
                     **fast)
        w_pause.click(on_watch_pause, None, [timer, w_message], api_name="watch_pause", **fast)
        w_player.input(lambda p: gr.Group(visible=p == OWN_ENDPOINT), [w_player], [w_endpoint],
                       api_name="watch_player_changed", **fast)
        w_game.input(_guard(on_game, 2, 1), [w_game], [w_preset, w_message], api_name="watch_game_changed", **fast)

        # ============================================================================== wiring: Replay
        replay_outputs = [replay_state, r_frame, r_info, r_answer, r_step, r_episode, r_message]

        def replay_out(session, view: ReplayView, message: str = "") -> tuple:
            return (session, view.frame, view.info, view.answer,
                    gr.Slider(minimum=1, maximum=max(view.n_steps, 2), value=view.index + 1, step=1,
                              interactive=view.n_steps > 1),
                    gr.Dropdown(choices=view.episode_choices, value=view.episode_id), message)

        n_replay = len(replay_outputs)
        replay_q = {"concurrency_limit": 4, "concurrency_id": "replay", "show_progress": "minimal"}

        def on_open_run(name, session):
            return replay_out(*replay_b.open_run(name, session))

        def on_upload(file, session):
            if file is None:
                return tuple(gr.skip() for _ in range(n_replay))
            return replay_out(*replay_b.open_upload(file, session), "Upload checked and opened.")

        def on_episode(session, episode_id):
            return replay_out(*replay_b.select_episode(session, episode_id))

        def on_goto(session, index):
            if isinstance(index, (int, float)):
                index = index - 1
            return replay_out(*replay_b.goto(session, index))

        def on_prev(session):
            return replay_out(*replay_b.shift(session, -1))

        def on_next(session):
            return replay_out(*replay_b.shift(session, +1))

        def on_refresh():
            runs, entries = replay_b.list_runs(), replay_b.entry_choices()
            return (gr.Dropdown(choices=runs), gr.Dropdown(choices=entries),
                    f"{len(entries)} verified entr{'y' if len(entries) == 1 else 'ies'} in the results store, "
                    f"{len(runs)} run(s) in this Space's runs folder.")

        def on_open_entry(entry_id, session):
            return replay_out(*replay_b.open_entry(entry_id, session))

        def on_gif(session):
            return gr.File(value=replay_b.gif(session), visible=True), "GIF ready: download it below the button."

        r_run.input(_guard(on_open_run, n_replay, 6), [r_run, replay_state], replay_outputs, api_name="replay_open",
                    **replay_q)
        r_upload.upload(_guard(on_upload, n_replay, 6), [r_upload, replay_state], replay_outputs,
                        api_name="replay_upload", **replay_q)
        r_episode.input(_guard(on_episode, n_replay, 6), [replay_state, r_episode], replay_outputs,
                        api_name="replay_episode", **replay_q)
        r_step.release(_guard(on_goto, n_replay, 6), [replay_state, r_step], replay_outputs, api_name="replay_goto",
                       **replay_q)
        r_prev.click(_guard(on_prev, n_replay, 6), [replay_state], replay_outputs, api_name="replay_prev", **replay_q)
        r_next.click(_guard(on_next, n_replay, 6), [replay_state], replay_outputs, api_name="replay_next", **replay_q)
        r_refresh.click(_guard(on_refresh, 3, 2), None, [r_run, r_entry, r_message], api_name="replay_refresh",
                        **replay_q)
        r_entry.input(_guard(on_open_entry, n_replay, 6), [r_entry, replay_state], replay_outputs,
                      api_name="replay_entry", **replay_q)
        # the store's entries change with every aggregation: the lists are brought up to date when the tab opens
        replay_tab.select(_guard(on_refresh, 3, 2), None, [r_run, r_entry, r_message], api_name="replay_tab_opened",
                          **replay_q)
        r_gif_btn.click(_guard(on_gif, 2, 1), [replay_state], [r_gif, r_message], api_name="replay_gif",
                        concurrency_limit=1, concurrency_id="gif", show_progress="full")

        # ========================================================================= wiring: Leaderboard
        lb_inputs = [lb_suite, lb_search, lb_game, lb_difficulty, lb_type, lb_heatmap_pick]
        lb_outputs = [lb_table, lb_paper, lb_status, lb_notes, lb_skipped, lb_heatmap_pick, lb_heatmap, lb_perception,
                      lb_plots_note, lb_suite, lb_game, lb_difficulty, lb_type, lb_help, lb_timer]
        n_lb = len(lb_outputs)

        def lb_out(view: LeaderboardView) -> tuple:
            # the timer polls while an aggregation runs and stops once the table is there
            return (gr.Dataframe(value=view.table, datatype=view.datatypes),
                    gr.Dataframe(value=view.paper, datatype=view.paper_datatypes, visible=len(view.paper) > 0),
                    view.status, view.notes, view.skipped, gr.Dropdown(choices=view.heatmaps, value=view.heatmap),
                    view.heatmap_png, view.perception_png, view.plots_note,
                    gr.Dropdown(choices=view.suites, value=view.suite), gr.Dropdown(choices=view.games, value=view.game),
                    gr.Dropdown(choices=view.difficulties, value=view.difficulty),
                    gr.Dropdown(choices=view.model_types, value=view.model_type), view.help,
                    gr.Timer(active=view.loading))

        def on_lb_view(suite, search, game, difficulty, model_type, heatmap):
            leaderboard.ensure()
            return lb_out(build_view(leaderboard.snapshot(), suite, search, game, difficulty, model_type, heatmap,
                                     loading=leaderboard.loading()))

        def on_lb_suite(suite, search, game, difficulty, model_type, heatmap):
            # another suite has other games and presets: its filters start again from "all"
            return on_lb_view(suite, search, ALL, ALL, model_type, heatmap)

        def on_lb_refresh(suite, search, game, difficulty, model_type, heatmap):
            leaderboard.refresh()
            return on_lb_view(suite, search, game, difficulty, model_type, heatmap)

        def on_lb_poll(suite, search, game, difficulty, model_type, heatmap):
            if leaderboard.loading():  # only the status line moves until the new table is there
                out = [gr.skip()] * n_lb
                out[2] = status_text(leaderboard.snapshot(), loading=True)
                return tuple(out)
            return on_lb_view(suite, search, game, difficulty, model_type, heatmap)

        def on_lb_heatmap(entry_id):
            if entry_id is not None and not isinstance(entry_id, str):
                raise SpaceError("pick a run from the list")
            return heatmap_png(leaderboard.snapshot(), entry_id), gr.skip()

        lb_q = {"concurrency_limit": 8, "concurrency_id": "leaderboard", "show_progress": "hidden"}
        stop_lb = lambda: {n_lb - 1: gr.Timer(active=False)}  # noqa: E731
        lb_tab.select(_guard(on_lb_view, n_lb, 2, stop_lb), lb_inputs, lb_outputs, api_name="leaderboard_view", **lb_q)
        lb_refresh.click(_guard(on_lb_refresh, n_lb, 2, stop_lb), lb_inputs, lb_outputs, api_name="leaderboard_refresh",
                         **lb_q)
        lb_timer.tick(_guard(on_lb_poll, n_lb, 2, stop_lb), lb_inputs, lb_outputs, api_name="leaderboard_poll",
                      trigger_mode="once", **lb_q)
        lb_suite.input(_guard(on_lb_suite, n_lb, 2, stop_lb), lb_inputs, lb_outputs, api_name="leaderboard_suite", **lb_q)
        for i, control in enumerate((lb_game, lb_difficulty, lb_type)):
            control.input(_guard(on_lb_view, n_lb, 2, stop_lb), lb_inputs, lb_outputs,
                          api_name=f"leaderboard_filter_{('game', 'difficulty', 'type')[i]}", **lb_q)
        # .change, not .input: in gradio 6 a value set without key presses (autofill, a test's fill) sent no input
        # event; nothing else writes this box, so every change is the visitor's
        lb_search.change(_guard(on_lb_view, n_lb, 2, stop_lb), lb_inputs, lb_outputs, api_name="leaderboard_search",
                         trigger_mode="always_last", **lb_q)
        lb_heatmap_pick.input(_guard(on_lb_heatmap, 2, 1), [lb_heatmap_pick], [lb_heatmap, lb_status],
                              api_name="leaderboard_heatmap", **lb_q)

        # ============================================================================== wiring: Submit
        def on_submit(file, hub_name):
            result = submit_b.submit(file, hub_name)
            return result.message, submit_b.describe()

        def on_submit_tab():
            return submit_b.describe()

        s_verify.click(_guard(on_submit, 2, 0), [s_upload, s_hub], [s_result, s_where], api_name="submit_run",
                       concurrency_limit=1, concurrency_id="submit", show_progress="full")
        demo.load(_guard(on_submit_tab, 1, 0), None, [s_where], api_name="submit_where", show_progress="hidden")

    # what the app runs in the background, for tests and scripts (e.g. ``demo.g1bench.leaderboard.wait()``)
    demo.g1bench = types.SimpleNamespace(leaderboard=leaderboard, warmup=warmup, settings=settings)
    return demo


__all__ = ["build_app", "launch_kwargs", "CSS", "KEYBOARD_JS"]

"""The g1bench Hugging Face Space: the leaderboard, people and models playing the games in a browser, replays and
submissions.

``space_app/app.py`` (what is uploaded as the Space) and ``g1bench space`` (the same app, locally) are thin:
every event handler's logic lives here and is tested without a browser.

* :mod:`.settings`: what the Space's operator configures (folders, the results store, the Space's model,
  limits), from the environment or the command line;
* :mod:`.sessions`: one visitor's play state (a JSON-ready snapshot and an undo history, never an object
  shared with another visitor) and the checks every input goes through;
* :mod:`.play`, :mod:`.watch`, :mod:`.replay`: the Play, Watch and Replay tabs' backends;
  :mod:`.leaderboard`: the Leaderboard tab (``g1bench.leaderboard``'s aggregation, cached per process and
  refreshed in the background); :mod:`.submit`: the Submit tab (verify, then ``push.store_entry`` or the
  ``g1bench push`` command); :mod:`.record`: opt-in recording of human games as an ``episodes`` dataset;
  :mod:`.about`: texts; :mod:`.frames`: frames as PNG files for the browser; :mod:`.text`: untrusted text in
  Markdown; :mod:`.warmup`: the natural-image tiles loaded at start-up, never in a visitor's request;
* :mod:`.ui`: the Blocks (tabs, components with ``elem_id`` s, wiring) — needs ``pip install 'g1bench[space]'``;
* :mod:`.cli`: ``g1bench space`` (and ``--deploy``, :mod:`.deploy`); :mod:`.testing`: the app on 127.0.0.1
  and small runs, for tests and benchmarks.

Example::

    from g1bench.space.settings import SpaceSettings
    from g1bench.space.ui import build_app, launch_kwargs

    settings = SpaceSettings.from_env()
    build_app(settings).queue().launch(server_name="127.0.0.1", **launch_kwargs(settings))
"""

from __future__ import annotations

from .errors import SpaceError

__all__ = ["SpaceError"]

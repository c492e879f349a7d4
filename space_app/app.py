"""The g1bench Hugging Face Space: tabs only; everything else is g1bench.space (tested there).

Run locally: ``python space_app/app.py`` (or ``g1bench space``). Settings: G1BENCH_SPACE_* variables
(see g1bench.space.settings).
"""

import os

from g1bench.space.settings import SpaceSettings
from g1bench.space.ui import build_app, launch_kwargs

settings = SpaceSettings.from_env()
demo = build_app(settings)

if __name__ == "__main__":
    # a Space listens on 0.0.0.0:7860 (it sets GRADIO_SERVER_NAME); locally this stays on 127.0.0.1
    demo.queue(default_concurrency_limit=8).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        **launch_kwargs(settings),
    )

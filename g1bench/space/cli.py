"""``g1bench space``: run the Space locally, offline, on 127.0.0.1; ``--deploy ORG/NAME`` uploads it to the Hub."""

from __future__ import annotations

import argparse
import sys

SPACE_HELP = """Run the g1bench Space in this machine's browser: play the games, watch baselines or a model play,
replay runs, the leaderboard of a results store and submissions. Settings come from G1BENCH_SPACE_* environment
variables (see g1bench.space.settings); the flags below override them. Needs the space extra:
pip install 'g1bench[space]'. With --deploy ORG/NAME, uploads space_app/ as a Hugging Face Space instead
(--with-wheel: with a wheel of this checkout, for code not on PyPI yet)."""


def add_commands(sub) -> None:
    p = sub.add_parser("space", help="run the Gradio Space locally (play, watch a model, replay runs)",
                       description=SPACE_HELP)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 exposes it to your network)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--runs-dir", default=None, help="folder of run directories offered in Replay (default: runs)")
    p.add_argument("--record-dir", default=None,
                   help="offer visitors to record their games into this folder as an episodes dataset (default: off)")
    p.add_argument("--base-url", default=None, help="an OpenAI-compatible endpoint offered as the Space's model")
    p.add_argument("--model", default=None, help="the model name that endpoint serves")
    p.add_argument("--api-key-env", default=None, help="environment variable holding that endpoint's key")
    p.add_argument("--allow-private-endpoints", action="store_true",
                   help="let visitors name loopback/private addresses as their endpoint (only on your own machine)")
    p.add_argument("--max-upload-mb", type=int, default=None, help="largest run zip a visitor may upload (default 100)")
    p.add_argument("--results", metavar="ORG/NAME|PATH", default=None,
                   help="results store of the Leaderboard, Replay and Submit tabs (default: $G1BENCH_RESULTS_REPO, else "
                        "the local store)")
    p.add_argument("--accept-local-submissions", action="store_true",
                   help="let Submit add verified runs to a local results store (a Hub store needs a write token instead)")
    d = p.add_argument_group("deploying to the Hugging Face Hub")
    d.add_argument("--deploy", metavar="ORG/NAME", default=None,
                   help="upload space_app/ to this Space repo (created if needed; token: HF_TOKEN or `hf auth login`)")
    d.add_argument("--with-wheel", action="store_true",
                   help="also build a wheel of this g1bench checkout into the Space and install it from there")
    d.add_argument("--private", action="store_true", help="create the Space private (--with-wheel needs a public one)")
    d.add_argument("--results-repo", metavar="ORG/NAME", default=None,
                   help="set the Space's G1BENCH_SPACE_RESULTS variable to this results repo")
    d.add_argument("--space-dir", default=None, help="the folder to upload (default: this checkout's space_app/)")
    p.set_defaults(func=cmd_space)


def cmd_deploy(args: argparse.Namespace) -> int:
    from .deploy import DeployError, deploy

    try:
        res = deploy(args.deploy, space_dir=args.space_dir, with_wheel=args.with_wheel,
                     private=True if args.private else None, results_repo=args.results_repo)
    except DeployError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"deployed: {res.url} (commit {res.commit})")
    if res.requirement:
        print(f"  requirements.txt: {res.requirement}")
    if not args.results_repo:
        print("  set the Space's G1BENCH_SPACE_RESULTS variable (and an HF_TOKEN secret that may write it) to show and "
              "accept results")
    return 0


def cmd_space(args: argparse.Namespace) -> int:
    if args.deploy:
        return cmd_deploy(args)
    try:
        from .settings import SpaceSettings
        from .ui import build_app, launch_kwargs
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from pathlib import Path

    try:
        settings = SpaceSettings.from_env(
            runs_dir=Path(args.runs_dir) if args.runs_dir else None,
            record_dir=Path(args.record_dir) if args.record_dir else None,
            model_base_url=args.base_url, model_name=args.model, model_api_key_env=args.api_key_env,
            allow_private_endpoints=True if args.allow_private_endpoints else None,
            max_upload_mb=args.max_upload_mb, results_store=args.results,
            accept_local_submissions=True if args.accept_local_submissions else None)
    except (ValueError, TypeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if bool(settings.model_base_url) != bool(settings.model_name):
        print("error: the Space's model needs both --base-url and --model (or G1BENCH_SPACE_BASE_URL and "
              "G1BENCH_SPACE_MODEL)", file=sys.stderr)
        return 2
    demo = build_app(settings)
    from .leaderboard import describe_store

    print(f"g1bench space on http://{args.host}:{args.port} (results: {describe_store(settings.results_store)}; runs: "
          f"{settings.runs_dir}; recording: {settings.record_dir or 'off'}); Ctrl-C stops it", file=sys.stderr)
    demo.queue(default_concurrency_limit=8).launch(server_name=args.host, server_port=args.port,
                                                  **launch_kwargs(settings))
    return 0

"""The ``g1bench`` command line: ``games``, ``render``, ``play`` (more commands register themselves)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, Sequence

from . import __version__


def _parse_overrides(pairs: Sequence[str]) -> dict:
    """``--set key=value`` pairs; values are read as JSON when they parse (numbers, true, lists)."""
    out = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise SystemExit(f"error: --set expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def _make_env(args):
    from . import make

    overrides = _parse_overrides(getattr(args, "set", None))
    if getattr(args, "labels", False):
        overrides["labels"] = True
    return make(args.game, difficulty=args.difficulty, **overrides)


# -- games --------------------------------------------------------------------------------------------
def cmd_games(args) -> int:
    from .games import GAMES

    for name, cls in GAMES.items():
        if args.game and name != args.game:
            continue
        print(f"{name}  (gymnasium id g1bench/{cls.env_name}-v{cls.version})")
        print(f"  {cls.summary}")
        print("  prompt versions (frozen text: template hash, source):")
        for version, text in cls.prompts.items():
            print(f"    {version:<14} {text.hash}  {text.source}")
        print("  presets (perception level x reasoning level; prompt version + answer grammar):")
        protocol = {f.name for f in cls.Config.knobs() if f.metadata.get("axis") == "protocol"}
        for preset, values in cls.Config.presets.items():
            level = cls.Config.preset_grid.get(preset)
            where = f"{level[0]} x {level[1]}" if level else ""
            cfg = cls.Config.from_preset(preset)
            speaks = f"{cfg.prompt_version} + {cfg.answer_grammar}"
            shown = ", ".join(f"{k}={v}" for k, v in values.items() if k not in protocol) or "defaults"
            print(f"    {preset:<14} {where:<28} {speaks:<22} {shown}")
        print("  knobs:")
        defaults = cls.Config()
        for f in cls.Config.knobs():
            print(f"    {f.name:<16} [{f.metadata.get('axis', '?')}] default {getattr(defaults, f.name)!r}: {f.metadata.get('help', '')}")
        print()
    return 0


# -- render -------------------------------------------------------------------------------------------
def cmd_render(args) -> int:
    from PIL import Image

    env = _make_env(args)
    frame, info = env.reset(seed=args.seed)
    Image.fromarray(frame).save(args.output)
    print(f"wrote {args.output} ({frame.shape[1]}x{frame.shape[0]}) state {info['state_hash']}")
    if args.show_text:
        print(info["perception"])
    return 0


# -- play ---------------------------------------------------------------------------------------------
PLAY_HELP = """Type an answer and press Enter: the bare move ('2' in 2048, '(0, 1) (0, 2)' in tile games)
or a full model response with <answer>...</answer>. Commands: 'legal' lists valid moves, 'prompt' shows the
model's prompt, 'quit' ends."""


def cmd_play(args, input_fn: Callable[[str], str] = input) -> int:
    from PIL import Image

    env = _make_env(args)
    frame, info = env.reset(seed=args.seed)
    game = env.game
    print(f"{args.game} ({args.difficulty}), seed {args.seed}. {PLAY_HELP}")
    total = 0.0
    while True:
        if args.frame:
            Image.fromarray(frame).save(args.frame)
        print(f"\n{info['perception']}\nscore {info['score']}  valid moves {info['n_legal']}")
        try:
            line = input_fn("> ").strip()
        except EOFError:
            line = "quit"
        if line in ("quit", "q", "exit"):
            break
        if line == "legal":
            print("  ".join(game.format_action(a).removeprefix("<answer>").removesuffix("</answer>") for a in game.legal_actions()))
            continue
        if line == "prompt":
            print(env.prompt)
            continue
        answer = line if "<answer>" in line else f"<answer>{line}</answer>"
        frame, reward, terminated, truncated, info = env.step(answer)
        total += reward
        note = info["parse_error"] and f"parse error: {info['parse_error']}" or info["reason"] or "ok"
        print(f"reward {reward:+.0f} (score +{info['score_delta']}): {note}")
        if terminated or truncated:
            print(f"game over after {info['steps']} steps, score {info['score']}")
            break
    print(f"total reward {total:+.0f}")
    return 0


#: modules that add subcommands (``eval``, ``report``, ``compare``, ``data``, ...)
COMMAND_MODULES = ("g1bench.eval.cli", "g1bench.data.cli", "g1bench.space.cli", "g1bench.leaderboard.cli",
                   "g1bench.integrations.cli")


# -- entry point --------------------------------------------------------------------------------------
def _add_env_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("game", help="game name (see `g1bench games`)")
    p.add_argument("--difficulty", "-d", default="paper", help="difficulty preset (default: paper)")
    p.add_argument("--seed", "-s", type=int, default=0, help="reset seed (default 0)")
    p.add_argument("--labels", action="store_true", help="draw row/column indices")
    p.add_argument("--set", action="append", metavar="KNOB=VALUE", help="override a difficulty knob (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="g1bench", description="VLM-Gym games, evaluation and training for VLMs.")
    parser.add_argument("--version", action="version", version=f"g1bench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("games", help="list games, presets and knobs")
    p.add_argument("game", nargs="?", help="only this game")
    p.set_defaults(func=cmd_games)

    p = sub.add_parser("render", help="render a game's start frame to PNG")
    _add_env_args(p)
    p.add_argument("--output", "-o", default="frame.png", help="PNG path (default frame.png)")
    p.add_argument("--show-text", action="store_true", help="also print the perception ground truth")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("play", help="play a game in the terminal by typing answers")
    _add_env_args(p)
    p.add_argument("--frame", metavar="PNG", help="keep writing the current frame to this PNG (open it in a viewer)")
    p.set_defaults(func=cmd_play)

    # Other command groups live beside the code they drive; each module has add_commands(subparsers).
    import importlib

    for module in COMMAND_MODULES:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if not (e.name and module.startswith(e.name)):
                raise
            continue
        mod.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args._argv = list(sys.argv[1:] if argv is None else argv)  # which options were given (resume checks it)
    from .core.config import ConfigError, UnknownNameError
    from .core.env import StateError
    from .tiles import TileSourceError

    try:
        return args.func(args)
    except (ConfigError, UnknownNameError, StateError, TileSourceError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # commands that save work say so themselves; the rest just stop
        print("\ninterrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `g1bench ... | head`: the reader left, nothing is wrong
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 141


if __name__ == "__main__":
    sys.exit(main())

"""python training/plot.py outputs/g0-shisensho -o outputs/g0-shisensho/curves.png

Draw the paper's per-game training curves (game reward, format rate, perception accuracy, reasoning
accuracy) from a run's logs: its output_dir (g1_metrics.jsonl, written as training goes, or
trainer_state.json), a checkpoint folder, or one of those files.
"""

import argparse
import sys

from g1bench.training.plots import LogError, plot_curves, read_logs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("logs", help="run output_dir, checkpoint folder, g1_metrics.jsonl or trainer_state.json")
    p.add_argument("-o", "--output", help="PNG to write (default: <logs folder>/g1_curves.png)")
    p.add_argument("--title", default="", help="figure title")
    args = p.parse_args(argv)
    from pathlib import Path

    src = Path(args.logs)
    out = args.output or str((src if src.is_dir() else src.parent) / "g1_curves.png")
    try:
        path = plot_curves(read_logs(src), out, args.title or src.resolve().name)
    except LogError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

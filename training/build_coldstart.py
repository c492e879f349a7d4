"""python training/build_coldstart.py --config training/recipes/g1-shisensho/coldstart.yaml

Build the G1 cold-start dataset: a teacher answers ~1,000 start states per game, answers whose move succeeds
are kept, each with the ground-truth <perception> block written in, as a TRL SFT dataset (images + messages)
with a card. The teacher is 'oracle' (offline: the oracle's move with a templated <think>) or any model
g1bench eval can query, with the same options, e.g. a strong model behind an OpenAI-compatible endpoint:

    python training/build_coldstart.py --config training/recipes/g1-shisensho/coldstart.yaml \\
        --teacher MODEL_NAME --base_url https://HOST/v1 --api_key_env MY_API_KEY --temperature 0.7 --attempts 3

Every YAML key is also a flag (TrlParser over ColdStartArguments and g1bench.models.ModelConfig).
"""

import sys

from trl import TrlParser

from g1bench.models.config import ModelConfig
from g1bench.training.args import ColdStartArguments, parse_recipe


def main(argv=None) -> int:
    parser = TrlParser((ColdStartArguments, ModelConfig))
    args, model_config = parse_recipe(parser, argv)
    from g1bench.training.errors import USER_ERRORS
    from g1bench.training.trainers import run_coldstart

    try:
        report = run_coldstart(args, model_config.validate())
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for game in report.asked:
        print(f"{game}: kept {report.kept[game]} of {report.asked[game]} states ({report.acceptance(game):.1%})")
    print(f"wrote {report.out} in {report.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

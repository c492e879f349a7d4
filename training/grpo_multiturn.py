"""accelerate launch --config_file training/accelerate_configs/zero3.yaml training/grpo_multiturn.py --config training/recipes/multiturn-shisensho/grpo_multiturn.yaml

GRPO where each rollout plays a game through its tools (TRL's ``environment_factory``, experimental in TRL 1.16): the
model calls ``move(direction)`` (2048), ``select_pair(row1, col1, row2, col2)`` (Shisen-Sho) or ``swap(...)`` (Swap),
each call returns the new frame and one line of feedback, and the rollout's reward is the sum of its moves' game
rewards. Every YAML key is also a flag; ``--help`` lists them. The logic lives in g1bench.integrations.trl.

CPU check: python training/grpo_multiturn.py --config training/recipes/multiturn-tiny-cpu/grpo_multiturn.yaml --model_name_or_path MODEL_DIR
"""

import sys

from trl import GRPOConfig, ModelConfig, TrlParser

from g1bench.integrations.trl import ToolPlayArguments
from g1bench.training.args import parse_recipe


def main(argv=None) -> int:
    parser = TrlParser((ToolPlayArguments, GRPOConfig, ModelConfig))
    script_args, training_args, model_args = parse_recipe(parser, argv)
    from g1bench.integrations.trl import run_tool_play
    from g1bench.training.errors import USER_ERRORS

    try:
        run_tool_play(script_args, training_args, model_args)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

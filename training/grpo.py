"""python training/launch.py --config_file training/accelerate_configs/zero3.yaml training/grpo.py --config training/recipes/g0-shisensho/grpo.yaml

GRPO on the g1bench games (G0: from the base model; G1: from the cold-start SFT checkpoint, see
training/recipes/g1-<game>/). Every key of the YAML is also a flag (``--max_steps 10``), parsed with TRL's
``TrlParser`` into (GRPOScriptArguments, trl.GRPOConfig, trl.ModelConfig); ``--help`` lists them all.
The logic lives in g1bench.training (states, rewards, pre-flight, trainers); this file only parses and runs.

One GPU:   python training/grpo.py --config training/recipes/lora-1gpu/grpo.yaml
CPU check: python training/grpo.py --config training/recipes/tiny-cpu/grpo.yaml --model_name_or_path MODEL_DIR
"""

import sys

from trl import GRPOConfig, ModelConfig, TrlParser

from g1bench.training.args import GRPOScriptArguments, parse_recipe


def main(argv=None) -> int:
    parser = TrlParser((GRPOScriptArguments, GRPOConfig, ModelConfig))
    script_args, training_args, model_args = parse_recipe(parser, argv)
    from g1bench.training.errors import USER_ERRORS
    from g1bench.training.trainers import run_grpo

    try:
        run_grpo(script_args, training_args, model_args)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

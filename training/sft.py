"""python training/launch.py --config_file training/accelerate_configs/zero3.yaml training/sft.py --config training/recipes/g1-shisensho/sft.yaml

The G1 cold start: supervised fine-tuning on a perception-enhanced cold-start dataset (built by
training/build_coldstart.py), on the answer only by default. Every key of the YAML is also a flag, parsed
with TRL's ``TrlParser`` into (SFTScriptArguments, trl.SFTConfig, trl.ModelConfig); ``--help`` lists them.

CPU check: python training/sft.py --config training/recipes/tiny-cpu/sft.yaml --model_name_or_path MODEL_DIR --dataset_name DATA_DIR
"""

import sys

from trl import ModelConfig, SFTConfig, TrlParser

from g1bench.training.args import SFTScriptArguments, parse_recipe


def main(argv=None) -> int:
    parser = TrlParser((SFTScriptArguments, SFTConfig, ModelConfig))
    script_args, training_args, model_args = parse_recipe(parser, argv)
    from g1bench.training.errors import USER_ERRORS
    from g1bench.training.trainers import run_sft

    try:
        run_sft(script_args, training_args, model_args)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""python training/merge_adapter.py outputs/lora-1gpu outputs/lora-1gpu-merged

Merge a LoRA adapter folder (a --use_peft run's output) into its base model and save a full model folder
(weights + processor) that every g1bench backend loads, vLLM included. (g1bench eval --model ADAPTER_DIR
also works directly with the transformers backend.)
"""

import argparse
import sys

from g1bench.models.adapters import merge_adapter
from g1bench.models.config import ModelError


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    p.add_argument("adapter", help="adapter folder (adapter_config.json + adapter weights)")
    p.add_argument("output", help="folder to write the merged model to")
    p.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"])
    p.add_argument("--trust-remote-code", action="store_true",
                   help="run code shipped with the base model's repository (only for repositories you trust)")
    args = p.parse_args(argv)
    try:
        print(merge_adapter(args.adapter, args.output, args.dtype, trust_remote_code=args.trust_remote_code))
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

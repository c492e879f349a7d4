"""python training/launch.py --config_file training/accelerate_configs/zero3.yaml training/grpo.py --config training/recipes/g0-shisensho/grpo.yaml

`accelerate launch` with the same arguments, after checking that this machine has what the accelerate config asks
for (deepspeed for zero3.yaml, as many CUDA GPUs as processes): one `error:` line instead of a traceback from inside
accelerate when it does not. Every `accelerate launch` option works here (`--num_processes 4`, `--num_machines 2`...).
"""

import sys

from g1bench.training.launch import main

if __name__ == "__main__":
    sys.exit(main())

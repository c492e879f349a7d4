"""Training VLMs on the g1bench games with TRL: G0 (GRPO from the base model) and G1 (perception-enhanced cold
start, then GRPO), as in the G1 paper (arXiv 2505.13426). The runnable recipes are in ``training/``; the
parts they use are importable from here:

* :mod:`.rewards`: reward functions with TRL's signature (game, format, perception, ``g1`` = GR + a*FR + b*PR),
  a registry by name, per-game metrics through TRL's ``log_metric``. Plain Python (no torch).
* :mod:`.states`: GRPO prompts from start states (the paper's sampler, late-game states, ``states-<game>``
  datasets; one game or a weighted mix), never an evaluation seed; the optional curriculum.
* :mod:`.coldstart`: the G1 cold-start dataset builder (any harness policy as teacher, or the oracle).
* :mod:`.preflight`: image tokens per frame against the length limits, and a memory estimate.
* :mod:`.dryrun`: ``--preflight only``, the same from a model's config files (no weights, no Hub; Qwen2.5-VL-7B/72B
  configs ship with g1bench), with the check that vLLM and the trainer resize frames alike.
* :mod:`.g1_trainer`: G1's trainer (EasyR1) as TRL ``GRPOConfig`` values, which the recipes follow.
* :mod:`.trainers` / :mod:`.args`: the TRL trainers and the options of the recipes (``load_recipe``).
* :mod:`.launch`: ``accelerate launch`` after checking what the accelerate config needs (``training/launch.py``).
* :mod:`.plots`: the paper's per-game curves from a run's logs.

Example::

    from g1bench.training.rewards import get_reward_funcs
    from g1bench.training.states import StateSampler, grpo_dataset, parse_mix
    from trl import GRPOConfig, GRPOTrainer

    dataset = grpo_dataset(StateSampler(parse_mix("shisensho")), num_rows=128 * 400)   # 640x840 pictures, as G1
    trainer = GRPOTrainer(model="Qwen/Qwen2.5-VL-7B-Instruct", reward_funcs=get_reward_funcs(["g1"]),
                          args=GRPOConfig(num_generations=5, beta=0.01, use_bias_correction_kl=False, ...),
                          train_dataset=dataset)
"""

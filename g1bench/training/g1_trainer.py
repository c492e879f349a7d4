"""G1's trainer as TRL options: what the ``g0-*``/``g1-*`` recipes reproduce, and what TRL's defaults would change.

G1 trained with the EasyR1 fork released with it (github.com/chenllliang/G1 at ``716e666``, ``training/EasyR1``:
``examples/config.yaml``, ``training/scripts/rl_*.sh``, ``verl/trainer/core_algos.py``,
``verl/workers/actor/dp_actor.py``; ``../shared/spec/g1-reference.md`` sections 3-4). :data:`G1_GRPO` states, for
every option of TRL's ``GRPOConfig`` that changes what GRPO computes, the value that does what EasyR1 did, with
where that comes from. TRL 1.16's defaults differ from it in several places that change the algorithm silently,
e.g. ``use_bias_correction_kl`` (on: the KL term is multiplied by the importance ratio) and
``vllm_importance_sampling_correction`` (on, ``sequence_mask``: sequences whose vLLM and trainer log-probabilities
disagree are masked); EasyR1 does neither. Every such option is written out in each recipe.

:data:`NOT_ALGORITHMIC` lists the ``GRPOConfig`` options that do not change what is computed (logging, addresses,
loading) or only act when an option of :data:`G1_GRPO` turns them on; ``tests/test_training_g1_algorithm.py``
checks that these two sets cover every option TRL's ``GRPOConfig`` adds, so a TRL upgrade that adds one fails
until it is classified. The differences that remain (memory-bound batch sizes, constants TRL hard-codes) are the
table "G1's trainer and the recipes" in ``training/README.md``, which the same test parses and compares with each
recipe as ``TrlParser`` resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Same:
    """A value that equals another resolved option's (e.g. one generation per optimizer step)."""

    option: str

    def __repr__(self) -> str:
        return f"= {self.option}"


#: GRPOConfig option -> (G1's behaviour as that option's value, where it comes from).
G1_GRPO: dict[str, tuple[Any, str]] = {
    # optimisation (examples/config.yaml worker.actor.optim; OptimConfig)
    "learning_rate": (1e-6, "optim.lr 1.0e-6"),
    "lr_scheduler_type": ("constant", "OptimConfig.warmup_style constant"),
    "warmup_steps": (0, "optim.lr_warmup_ratio 0.0"),
    "weight_decay": (0.01, "optim.weight_decay 1.0e-2"),
    "adam_beta1": (0.9, "OptimConfig.betas (0.9, 0.999)"),
    "adam_beta2": (0.999, "OptimConfig.betas (0.9, 0.999)"),
    "adam_epsilon": (1e-8, "torch.optim.AdamW's default eps"),
    "optim": ("adamw_torch", "torch.optim.AdamW (fsdp_workers.py)"),
    "max_grad_norm": (1.0, "actor.max_grad_norm 1.0"),
    "max_steps": (400, "the paper's curves: 400 steps (spec section 4.2)"),
    "per_device_train_batch_size": (4, "actor.micro_batch_size_per_device_for_update 4"),
    "gradient_accumulation_steps": (20, "640 answers per step / 8 GPUs / micro-batch 4 (dp_actor.py gradient_accumulation)"),
    "gradient_checkpointing": (True, "model.enable_gradient_checkpointing true"),
    "bf16": (True, "FSDP mixed precision, bf16 compute (FSDPConfig.mp_param_dtype)"),
    # sampling (rl_*.sh, examples/config.yaml worker.rollout)
    "use_vllm": (True, "the rollout worker is vLLM (vllm_rollout_spmd.py)"),
    "num_generations": (5, "rl_*.sh: worker.rollout.n=5"),
    "temperature": (1.0, "rl_*.sh: worker.rollout.temperature=1"),
    "top_p": (1.0, "rollout top_p 1.0"),
    "top_k": (0, "rollout top_k -1 (off; TRL's off is 0)"),
    "min_p": (None, "not used"),
    "repetition_penalty": (1.0, "not used"),
    "max_completion_length": (8192, "data.max_response_length 8192"),
    "vllm_structured_outputs_regex": (None, "free generation"),
    "vllm_gpu_memory_utilization": (0.4, "rollout.gpu_memory_utilization 0.4"),
    "vllm_tensor_parallel_size": (2, "rl_*.sh: worker.rollout.tensor_parallel_size=2"),
    "shuffle_dataset": (False, "each step resets the sandboxes and takes fresh states in order (no dataset to shuffle)"),
    "steps_per_generation": (Same("gradient_accumulation_steps"), "one rollout of 128 x 5 answers per optimizer step"),
    # the GRPO objective (core_algos.py, dp_actor.py)
    "beta": (0.01, "actor.kl_loss_coef 1.0e-2, use_kl_loss true, kl_loss_type low_var_kl (TRL's k3)"),
    "use_bias_correction_kl": (False, "dp_actor.py: kl_loss = masked_mean(kl_penalty(log_prob, ref_log_prob)), no ratio"),
    "epsilon": (0.2, "ActorConfig.clip_ratio 0.2"),
    "epsilon_high": (None, "one clip ratio for both sides (None = epsilon)"),
    "delta": (None, "no dual clip"),
    "num_iterations": (1, "ActorConfig.ppo_epochs 1"),
    "importance_sampling_level": ("token", "compute_policy_loss: token-level ratios"),
    "loss_type": ("bnpo", "masked_mean of the clipped loss + the KL over each micro-batch's tokens, / accumulation"),
    "scale_rewards": ("group", "compute_grpo_outcome_advantage: (r - mean) / (std + eps) per state"),
    "multi_objective_aggregation": ("sum_then_normalize", "one scalar reward per answer, normalised per state"),
    "reward_weights": (None, "one reward function"),
    "mask_truncated_completions": (False, "truncated answers are scored like others"),
    "vllm_importance_sampling_correction": (False, "old log-probs are recomputed by the actor; no vLLM/trainer ratio"),
    "off_policy_mask_threshold": (None, "no masking"),
    "top_entropy_quantile": (1.0, "every token trains"),
    "entropy_coef": (0.0, "no entropy bonus"),
    "use_adaptive_entropy": (False, "no entropy bonus"),
    "sync_ref_model": (False, "the reference model is the start model throughout"),
    "disable_dropout": (False, "dropout left as configured (Qwen2.5-VL has none)"),
    "cast_lm_head_to_fp32": (False, "the lm_head runs in the compute dtype"),
}

#: GRPOConfig options (beyond transformers' TrainingArguments) that do not change what G1's GRPO computes: loading,
#: logging, addresses, evaluation, tools, and options that only act when an option of G1_GRPO enables them.
NOT_ALGORITHMIC = frozenset({
    "model_init_kwargs", "trust_remote_code", "router_aux_loss_coef", "num_generations_eval", "ds3_gather_for_generation",
    "pad_to_multiple_of", "generation_kwargs", "chat_template_kwargs", "cache_implementation", "vllm_mode",
    "vllm_model_impl", "vllm_enable_sleep_mode", "vllm_server_base_url", "vllm_server_host", "vllm_server_port",
    "vllm_server_timeout", "vllm_group_port", "vllm_max_model_length",
    "generation_batch_size",  # follows from steps_per_generation (one generation of 640 answers per optimizer step)
    "sapo_temperature_neg", "sapo_temperature_pos",  # loss_type sapo only
    "vespo_k_pos", "vespo_lambda_pos", "vespo_k_neg", "vespo_lambda_neg",  # loss_type vespo only
    "ref_model_mixup_alpha", "ref_model_sync_steps",  # sync_ref_model only
    "entropy_coef_min", "entropy_coef_max", "entropy_coef_delta", "entropy_target",  # use_adaptive_entropy only
    "max_tool_calling_iterations",  # tools only
    "vllm_importance_sampling_mode", "vllm_importance_sampling_clip_max", "vllm_importance_sampling_clip_min",
    "vllm_importance_sampling_cap",  # vllm_importance_sampling_correction only
    "log_completions", "log_multimodal", "num_completions_to_print", "log_unique_prompts", "log_completions_hub_repo",
    "use_transformers_continuous_batching", "transformers_continuous_batching_config", "use_transformers_paged",
})


def resolved(value: Any) -> Any:
    """A resolved option as plain data (enums by their value)."""
    return getattr(value, "value", value)


def g1_value(option: str, args: Any) -> Any:
    """G1's value of ``option`` for the resolved config ``args`` (a :class:`Same` reads the other option)."""
    value = G1_GRPO[option][0]
    return resolved(getattr(args, value.option)) if isinstance(value, Same) else value


__all__ = ["G1_GRPO", "NOT_ALGORITHMIC", "Same", "g1_value", "resolved"]

"""Training precision on a tiny random Qwen2: bf16 autocast over fp32 weights when asked, else plain fp32."""

from __future__ import annotations

import math

import pytest
import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from ledex.pipeline.config import PpoParams, SftParams
from ledex.training.mixed_precision import autocast
from ledex.training.ppo_trainer import PPOTrainer, Rollout
from ledex.training.sft_trainer import trainer_config

PRECISIONS = [("bfloat16", torch.bfloat16), ("float32", torch.float32)]
TOKENS = torch.arange(2, 26).reshape(2, 12)  # (B, T): one fixed batch


def all_fp32(module: torch.nn.Module) -> bool:
    return {p.dtype for p in module.parameters()} == {torch.float32}


@pytest.mark.parametrize("precision, compute", PRECISIONS)
def test_lora_trains_on_a_fixed_batch_in_the_chosen_precision_with_fp32_weights(
    tiny_qwen2_checkpoint, precision, compute
):
    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_qwen2_checkpoint, dtype=torch.float32)
    lm = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    optimizer = torch.optim.AdamW([p for p in lm.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(5):
        with autocast("cpu", precision):
            output = lm(input_ids=TOKENS, labels=TOKENS)
        output.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(output.loss.item())
    assert output.logits.dtype == compute
    assert output.loss.dtype == torch.float32
    assert all_fp32(lm)  # the trainable adapters and the frozen base
    assert all(math.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0] - 0.1, losses


@pytest.mark.parametrize("precision, bf16", [("bfloat16", True), ("float32", False)])
def test_sft_asks_trl_for_bf16_autocast_only_when_the_precision_says_so(tmp_path, precision, bf16):
    assert trainer_config(SftParams(precision=precision), tmp_path).bf16 is bf16


def fixed_rollout() -> Rollout:
    """Two rows of a 5-token prompt and a 3-token response, no padding."""
    sequences = torch.arange(3, 19).reshape(2, 8)
    response_mask = torch.ones(2, 3, dtype=torch.bool)
    return Rollout(sequences, torch.ones_like(sequences), 5, response_mask, ["", ""])


@pytest.mark.parametrize("precision, compute", PRECISIONS)
def test_ppo_computes_in_the_chosen_precision_and_keeps_values_losses_and_checkpoint_fp32(
    tiny_qwen2_checkpoint, tmp_path, precision, compute
):
    cfg = PpoParams(
        method="lora", batch_size=2, mini_batch_size=2, learning_rate=1e-2, lora_r=4, lora_alpha=8, precision=precision
    )
    torch.manual_seed(0)
    trainer = PPOTrainer(tiny_qwen2_checkpoint, cfg)
    rollout = fixed_rollout()
    with trainer._autocast():
        logits, values = trainer.policy(rollout.sequences, rollout.attention_mask, rollout.response_start)
    assert (logits.dtype, values.dtype) == (compute, torch.float32)  # the value head runs outside autocast

    logprobs, ref_logprobs, old_values = trainer.score_tokens(rollout)
    assert logprobs.dtype == ref_logprobs.dtype == old_values.dtype == torch.float32
    torch.testing.assert_close(logprobs, ref_logprobs)  # zero-initialised adapters: the policy is the reference
    advantages = torch.tensor([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]])
    losses = []
    for _ in range(4):
        stats = trainer.optimize(rollout, logprobs, old_values, advantages, returns=advantages)
        losses.append(stats["policy_loss"] + cfg.vf_coef * stats["value_loss"])
    assert all(math.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0], losses
    assert all_fp32(trainer.policy)

    trainer.save_pretrained(tmp_path / "ppo")
    saved = load_file(tmp_path / "ppo" / "model.safetensors")
    assert {tensor.dtype for tensor in saved.values()} == {torch.float32}

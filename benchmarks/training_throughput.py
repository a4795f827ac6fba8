"""Training throughput: s/step of SFT and of PPO's train part, in fp32 and in bf16 autocast, on one batch.

SFT: forward, backward and AdamW step of the policy with the `sft` section's LoRA on
`micro_batch_size` sequences of `max_length` tokens (what TRL's SFTTrainer runs per micro-batch).
PPO: the train part of one step of `ledex.training.ppo_trainer.PPOTrainer` on a fixed rollout of
`batch_size` sequences, rollout generation excluded: the log-prob pass (policy, value head and
reference) and `ppo_epochs` passes of `mini_batch_size` updates. Both precisions start from the
same weights on the same random tokens, so the first step's loss and log-prob differences are
those of the precision alone (policy and reference agree then: LoRA starts at zero); the KL is
also reported after the last step's updates. Sizes come from params.yaml; the flags shrink them.
With LoRA, SFT also runs in bf16 with the frozen base held in bf16 (`bfloat16_base`), the
alternative that `ledex.training.mixed_precision` weighs.

    python -m benchmarks.training_throughput [--model qwen2.5-coder-0.5b-instruct] [--sft-length 768]
        [--ppo-prompt-tokens 512] [--ppo-response-tokens 256] [--steps 3]

s/step is the mean over the steps after the first (which warms up kernels and the allocator).
Rates are wall-clock, so other jobs on the machine slow them (the load average is printed).
Prints each figure, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from statistics import fmean

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM

from ledex.generation.models import resolve_model
from ledex.pipeline.config import PpoParams, SftParams, load_params
from ledex.training.mixed_precision import autocast, training_device
from ledex.training.ppo_trainer import PPOTrainer, Rollout

PRECISIONS = ("float32", "bfloat16")


def timed_mean(seconds: list[float]) -> float:
    """The mean step time, leaving out the first (warm-up) step when there are others."""
    return fmean(seconds[1:] or seconds)


def sft_steps(model: str, cfg: SftParams, tokens: torch.Tensor, steps: int, base_dtype=torch.float32) -> dict:
    """s/step and the first step's loss of LoRA (or full) SFT on `tokens` under `cfg.precision`, the
    weights loaded in `base_dtype` (LoRA adapters stay fp32)."""
    torch.manual_seed(cfg.seed)  # the same LoRA initialisation in both precisions
    device = training_device()
    lm = AutoModelForCausalLM.from_pretrained(resolve_model(model), dtype=base_dtype).to(device)
    tokens = tokens.to(device)
    if cfg.method == "lora":
        lora = LoraConfig(
            r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=0.0, target_modules=cfg.lora_target_modules
        )
        lm = get_peft_model(lm, lora)
    trainable = [p for p in lm.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.learning_rate)
    losses, seconds = [], []
    for _ in range(steps):
        started = time.perf_counter()
        with autocast(device, cfg.precision):
            loss = lm(input_ids=tokens, labels=tokens).loss  # (B, T) tokens; the loss is upcast to fp32
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        seconds.append(time.perf_counter() - started)
        losses.append(loss.item())
    return {"s_per_step": timed_mean(seconds), "first_loss": losses[0], "losses": losses}


def fixed_rollout(vocab_size: int, rows: int, prompt_tokens: int, response_tokens: int, seed: int) -> Rollout:
    """Random prompts and responses with no padding and no early end: every response token counts."""
    generator = torch.Generator().manual_seed(seed)
    sequences = torch.randint(0, vocab_size, (rows, prompt_tokens + response_tokens), generator=generator)
    mask = torch.ones(rows, response_tokens, dtype=torch.bool)
    return Rollout(sequences, torch.ones_like(sequences), prompt_tokens, mask, [""] * rows)


def ppo_steps(model: str, cfg: PpoParams, shape: tuple[int, int, int], steps: int) -> dict:
    """s/step of the log-prob pass and of the updates under `cfg.precision`, the first step's
    log-probs and losses, and the KL per token of the last step."""
    torch.manual_seed(cfg.seed)
    trainer = PPOTrainer(resolve_model(model), cfg)
    rollout = fixed_rollout(trainer.policy.lm.config.vocab_size, *shape, seed=cfg.seed)
    rollout = Rollout(
        rollout.sequences.to(trainer.device),
        rollout.attention_mask.to(trainer.device),
        rollout.response_start,
        rollout.response_mask.to(trainer.device),
        rollout.texts,
    )
    mask = rollout.response_mask.float()
    scoring, updating, first = [], [], None
    for _ in range(steps):
        started = time.perf_counter()
        logprobs, ref_logprobs, values = trainer.score_tokens(rollout)
        scored = time.perf_counter()
        advantages = torch.randn(mask.shape, generator=torch.Generator().manual_seed(cfg.seed)).to(mask) * mask
        stats = trainer.optimize(rollout, logprobs, values, advantages, returns=values + advantages)
        updating.append(time.perf_counter() - scored)
        scoring.append(scored - started)
        first = first or {"logprobs": logprobs, "ref_logprobs": ref_logprobs, **stats}
    return {
        "score_s_per_step": timed_mean(scoring),
        "update_s_per_step": timed_mean(updating),
        "first": first,
        "last_kl": (logprobs - ref_logprobs).sum().item() / mask.sum().item(),  # per token, before the last update
    }


def max_and_mean_abs(a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
    difference = (a - b).abs()
    return {"max": round(difference.max().item(), 5), "mean": round(difference.mean().item(), 5)}


def main() -> None:
    params = load_params()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=params.models.policy)
    parser.add_argument("--sft-length", type=int, default=params.sft.max_length)
    parser.add_argument("--sft-micro-batch", type=int, default=params.sft.micro_batch_size)
    parser.add_argument("--ppo-rows", type=int, default=params.ppo.batch_size)
    parser.add_argument("--ppo-prompt-tokens", type=int, default=512)
    parser.add_argument("--ppo-response-tokens", type=int, default=params.ppo.max_new_tokens)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()

    print(f"1-minute load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    vocab_size = AutoConfig.from_pretrained(resolve_model(args.model)).vocab_size
    tokens = torch.randint(0, vocab_size, (args.sft_micro_batch, args.sft_length), generator=torch.Generator())
    sft, ppo = {}, {}
    for precision in PRECISIONS:
        cfg = params.sft.model_copy(update={"precision": precision})
        sft[precision] = sft_steps(args.model, cfg, tokens, args.steps)
        print(f"sft {precision}: {sft[precision]['s_per_step']:.2f} s/step, losses {sft[precision]['losses']}")
    if params.sft.method == "lora":  # the alternative of ledex.training.mixed_precision: a bf16 frozen base
        cfg = params.sft.model_copy(update={"precision": "bfloat16"})
        sft["bfloat16_base"] = sft_steps(args.model, cfg, tokens, args.steps, base_dtype=torch.bfloat16)
        print(f"sft bfloat16, bf16 base: {sft['bfloat16_base']['s_per_step']:.2f} s/step")
    shape = (args.ppo_rows, args.ppo_prompt_tokens, args.ppo_response_tokens)
    for precision in PRECISIONS:
        cfg = params.ppo.model_copy(update={"precision": precision})
        ppo[precision] = ppo_steps(args.model, cfg, shape, args.steps)
        result = ppo[precision]
        seconds = f"log-probs {result['score_s_per_step']:.2f} s/step, updates {result['update_s_per_step']:.2f} s/step"
        print(f"ppo {precision}: {seconds}")
    print(f"1-minute load average at end: {os.getloadavg()[0]:.1f}")

    fp32, bf16 = ppo["float32"]["first"], ppo["bfloat16"]["first"]
    summary = {
        "sizes": {"sft": [args.sft_micro_batch, args.sft_length], "ppo_rows_prompt_response": list(shape)},
        "load_average": round(os.getloadavg()[0], 1),
        "sft_s_per_step": {name: round(result["s_per_step"], 3) for name, result in sft.items()},
        "sft_speedup": round(sft["float32"]["s_per_step"] / sft["bfloat16"]["s_per_step"], 2),
        "sft_first_loss": {name: round(result["first_loss"], 5) for name, result in sft.items()},
        "ppo_train_s_per_step": {
            name: round(result["score_s_per_step"] + result["update_s_per_step"], 3) for name, result in ppo.items()
        },
        "ppo_speedup": round(
            (ppo["float32"]["score_s_per_step"] + ppo["float32"]["update_s_per_step"])
            / (ppo["bfloat16"]["score_s_per_step"] + ppo["bfloat16"]["update_s_per_step"]),
            2,
        ),
        "ppo_logprob_abs_difference": max_and_mean_abs(fp32["logprobs"], bf16["logprobs"]),
        "ppo_ref_logprob_abs_difference": max_and_mean_abs(fp32["ref_logprobs"], bf16["ref_logprobs"]),
        "ppo_last_step_kl_per_token": {name: round(result["last_kl"], 5) for name, result in ppo.items()},
        "ppo_first_losses": {
            name: {key: round(first[key], 5) for key in ("policy_loss", "value_loss")}
            for name, first in (("float32", fp32), ("bfloat16", bf16))
        },
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

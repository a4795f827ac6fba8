"""Training in bf16 where the hardware computes it fast: autocast over fp32 weights.

Every weight stays fp32, the frozen base included: autocast runs the matmuls in bf16 and keeps
the residual stream, norms and optimizer state in fp32, and checkpoints are written in fp32 as
before. On an idle 2-core Zen 5 `benchmarks/training_throughput.py` measured LoRA SFT 1.76x and
PPO's train part 2.31x faster than fp32; a frozen base held in bf16 was slower (4.80 s/step against
2.74) and would round the residual stream, and the LoRA delta merged into the base, to bf16. The
price: autocast casts frozen weights (no grad) anew at every forward, which under heavy load took
a third of the CPU time of a 128-token LoRA step. Callers
compute losses, log-ratios and the value head in fp32; logits come out of the bf16 `lm_head`
and are upcast, as in transformers' Trainer with `bf16=True`.

    with autocast(device, "auto"):
        loss = model(**batch).loss  # bf16 matmuls on AVX512-BF16/AMX CPUs and bf16 GPUs, else fp32
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch

from ledex.generation.precision import Precision, compute_dtype


def training_device() -> torch.device:
    """Where the trainers run: CUDA when present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def trains_in_bf16(precision: Precision, device: str | torch.device | None = None) -> bool:
    """Whether `precision` resolves to bf16 on `device` (default: the training device)."""
    return compute_dtype(device or training_device(), precision) == torch.bfloat16


def autocast(device: str | torch.device, precision: Precision) -> AbstractContextManager:
    """bf16 autocast on `device` when `precision` resolves to bf16 there, else nothing (fp32)."""
    device = torch.device(device)
    if not trains_in_bf16(precision, device):
        return nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)

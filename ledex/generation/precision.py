"""The floating-point type this machine computes fastest in: bf16 where the hardware has it, else fp32.

On CPU, bf16 matmuls are fast only with AVX512-BF16 or AMX (measured on Zen 5: 757-916 GFLOPS
against 133-195 in fp32); without them torch emulates bf16 and it is slower than fp32.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import torch

Precision = Literal["auto", "bfloat16", "float32"]
CPU_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@cache
def cpu_has_fast_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU advertises AVX512-BF16 or AMX-BF16 (Linux; False where cpuinfo is absent)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return not CPU_BF16_FLAGS.isdisjoint(flags)


def bf16_is_fast(device: str | torch.device) -> bool:
    """Whether bf16 beats fp32 on `device` (a CUDA GPU that supports it, or a CPU with bf16 instructions)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_fast_bf16()


def compute_dtype(device: str | torch.device, precision: Precision = "auto") -> torch.dtype:
    """The dtype to compute in on `device`: `precision`, or for "auto" bf16 where it is fast, else fp32."""
    if precision == "auto":
        return torch.bfloat16 if bf16_is_fast(device) else torch.float32
    return getattr(torch, precision)

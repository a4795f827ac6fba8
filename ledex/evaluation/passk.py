"""The unbiased pass@k estimator of Chen et al. (2021), as used by the LEDEX paper."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c of them correct) passes."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= correct <= samples, got correct={c}, samples={n}")
    if k > n:
        raise ValueError(f"k={k} is larger than the {n} samples available")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(counts: Mapping[str, tuple[int, int]], ks: Iterable[int]) -> dict[str, float]:
    """Mean pass@k over tasks, from {task_id: (samples, correct)}; every k must fit every task."""
    ks = sorted(set(ks))
    for task_id, (n, _) in counts.items():
        too_large = [k for k in ks if k > n]
        if too_large:
            raise ValueError(f"k={too_large[0]} is larger than the {n} samples of task {task_id}")
    return {
        f"pass@{k}": float(np.mean([pass_at_k(n, c, k) for n, c in counts.values()])) if counts else 0.0 for k in ks
    }

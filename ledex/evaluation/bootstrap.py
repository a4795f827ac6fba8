"""95% confidence intervals of evaluation scores, by bootstrap over problems.

Every score is a ratio of sums over problems, sum(numerator) / sum(denominator): pass@k gives
each problem a denominator of 1 (the mean of per-problem pass@k), a rate counts events over
chances (fixed / wrong samples, hallucinated / all refinements). The problems are drawn with
replacement `resamples` times from a generator seeded with `seed` (same inputs, same interval);
the interval is the 2.5th and 97.5th percentile of the resampled scores. A paired difference
draws the problems both models were scored on, the same draw for both.

Not covered: the sampling noise within a problem (its n samples are not redrawn), and with few
problems (under ~20) the percentile bootstrap is too narrow. An interval of a model scored on
one problem is that problem's value, [v, v].

    >>> per_problem = PerProblem({"a": (1.0, 1.0), "b": (1.0, 1.0)}, samples=4)
    >>> interval(per_problem, resamples=200, seed=0)
    Interval(value=1.0, low=1.0, high=1.0, problems=2, samples=4)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

CONFIDENCE = 0.95


@dataclass(frozen=True)
class PerProblem:
    """One score's parts: {problem: (numerator, denominator)} and the samples behind them."""

    parts: Mapping[str, tuple[float, float]]
    samples: int


@dataclass(frozen=True)
class Interval:
    """A score (or a difference of two) with its 95% CI; None where no problem has a denominator."""

    value: float | None
    low: float | None
    high: float | None
    problems: int
    samples: int

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and (self.low > 0 or self.high < 0)

    def to_dict(self) -> dict:
        return asdict(self)


def interval(scores: PerProblem, *, resamples: int, seed: int) -> Interval:
    """The score over all problems and its percentile-bootstrap 95% CI."""
    numerators, denominators = _arrays(scores.parts, list(scores.parts))
    draws = _draws(len(numerators), resamples, seed)
    value = _ratio(numerators, denominators)
    low, high = _percentiles(_ratio(numerators[draws], denominators[draws]))
    return _rounded(value, low, high, len(numerators), scores.samples)


def paired_difference(first: PerProblem, second: PerProblem, *, resamples: int, seed: int) -> Interval:
    """first - second over the problems both were scored on, each draw shared by both."""
    shared = [problem for problem in first.parts if problem in second.parts]
    (a_num, a_den), (b_num, b_den) = _arrays(first.parts, shared), _arrays(second.parts, shared)
    draws = _draws(len(shared), resamples, seed)
    value = _ratio(a_num, a_den) - _ratio(b_num, b_den)
    differences = _ratio(a_num[draws], a_den[draws]) - _ratio(b_num[draws], b_den[draws])
    return _rounded(value, *_percentiles(differences), len(shared), min(first.samples, second.samples))


def spread(groups: Mapping[str, PerProblem], *, resamples: int, seed: int) -> Interval:
    """max - min of the groups' scores (the cross-language gap), each group resampled on its own."""
    rng = np.random.default_rng(seed)
    values, resampled = [], []
    for scores in groups.values():
        numerators, denominators = _arrays(scores.parts, list(scores.parts))
        draws = rng.integers(0, len(numerators), size=(resamples, len(numerators)))
        values.append(_ratio(numerators, denominators))
        resampled.append(_ratio(numerators[draws], denominators[draws]))
    stacked = np.stack(resampled)  # (groups, resamples)
    value = float(np.nanmax(values) - np.nanmin(values)) if len(groups) > 1 else np.nan
    low, high = _percentiles(np.nanmax(stacked, axis=0) - np.nanmin(stacked, axis=0))
    problems = sum(len(scores.parts) for scores in groups.values())
    return _rounded(value, low, high, problems, sum(scores.samples for scores in groups.values()))


def _arrays(parts: Mapping[str, tuple[float, float]], problems: list[str]) -> tuple[np.ndarray, np.ndarray]:
    pairs = np.array([parts[problem] for problem in problems], dtype=float).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def _draws(problems: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, problems) indices of problems drawn with replacement."""
    return np.random.default_rng(seed).integers(0, problems, size=(resamples, problems))


def _ratio(numerators: np.ndarray, denominators: np.ndarray) -> np.ndarray | float:
    """sum(numerators) / sum(denominators) along the last axis; NaN where the denominator is 0."""
    total = denominators.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, numerators.sum(axis=-1) / np.where(total > 0, total, 1), np.nan)


def _percentiles(resampled: np.ndarray) -> tuple[float, float]:
    tail = 100 * (1 - CONFIDENCE) / 2
    finite = resampled[np.isfinite(resampled)]
    if finite.size == 0:
        return np.nan, np.nan
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _rounded(value, low, high, problems: int, samples: int) -> Interval:
    def clean(number) -> float | None:
        return None if not np.isfinite(number) else round(float(number), 6)

    return Interval(value=clean(value), low=clean(low), high=clean(high), problems=problems, samples=samples)

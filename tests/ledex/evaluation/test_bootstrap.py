"""The bootstrap intervals against hand computations."""

import pytest

from ledex.evaluation.bootstrap import Interval, PerProblem, interval, paired_difference, spread


def means(*values: float, samples: int = 1) -> PerProblem:
    return PerProblem({f"p{i}": (value, 1.0) for i, value in enumerate(values)}, samples=samples)


def test_all_pass_is_certain():
    assert interval(means(1, 1, 1, 1, samples=8), resamples=500, seed=0) == Interval(1.0, 1.0, 1.0, 4, 8)


def test_one_pass_one_fail_spans_everything():
    # resampled means: 0 (p=1/4), 0.5 (1/2), 1 (1/4); the 2.5th and 97.5th percentiles are 0 and 1
    assert interval(means(1, 0), resamples=2000, seed=0) == Interval(0.5, 0.0, 1.0, 2, 1)


def test_a_rate_is_a_ratio_of_sums_and_ignores_problems_without_chances():
    rates = PerProblem({"a": (1.0, 2.0), "b": (0.0, 0.0), "c": (1.0, 1.0)}, samples=3)
    result = interval(rates, resamples=1000, seed=0)
    assert result.value == pytest.approx(2 / 3, abs=1e-6)
    assert (result.low, result.high) == (0.5, 1.0)  # the lowest ratio: a alone (with b), 1/2


def test_nothing_to_divide_by_has_no_value():
    assert interval(PerProblem({"a": (0.0, 0.0)}, samples=0), resamples=100, seed=0) == Interval(None, None, None, 1, 0)


def test_same_seed_same_interval():
    scores = means(0.1, 0.5, 0.9, 0.3, 0.7)
    assert interval(scores, resamples=300, seed=7) == interval(scores, resamples=300, seed=7)
    assert interval(scores, resamples=300, seed=7) != interval(scores, resamples=300, seed=8)


def test_paired_difference_has_the_sign_of_first_minus_second_over_shared_problems():
    better = PerProblem({"a": (1.0, 1.0), "b": (1.0, 1.0), "c": (0.0, 1.0), "only-here": (1.0, 1.0)}, samples=4)
    worse = PerProblem({"a": (0.0, 1.0), "b": (1.0, 1.0), "c": (0.0, 1.0)}, samples=3)
    # per-problem differences 1, 0, 0: P(no draw of a) = 8/27, P(all three draws a) = 1/27 > 2.5%
    up = paired_difference(better, worse, resamples=4000, seed=0)
    assert (up.value, up.low, up.high, up.problems, up.samples) == (0.333333, 0.0, 1.0, 3, 3)
    assert not up.excludes_zero
    down = paired_difference(worse, better, resamples=4000, seed=0)
    assert (down.value, down.low, down.high) == (-0.333333, -1.0, 0.0)


def test_a_difference_on_every_problem_excludes_zero():
    delta = paired_difference(means(1, 1, 1, 1, 1), means(0, 0, 0, 0, 0), resamples=500, seed=0)
    assert (delta.value, delta.low, delta.high, delta.excludes_zero) == (1.0, 1.0, 1.0, True)


def test_the_gap_between_groups():
    gap = spread({"python": means(1, 1, 1), "js": means(0, 0)}, resamples=500, seed=0)
    assert gap == Interval(1.0, 1.0, 1.0, 5, 2)
    mixed = spread({"python": means(1, 0), "js": means(0, 0)}, resamples=2000, seed=0)
    assert (mixed.value, mixed.low, mixed.high) == (0.5, 0.0, 1.0)

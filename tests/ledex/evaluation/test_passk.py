import math

import pytest

from ledex.evaluation.passk import mean_pass_at_k, pass_at_k


def test_pass_at_1_is_the_fraction_correct():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)


def test_matches_the_closed_form():
    n, c, k = 20, 4, 5
    expected = 1 - math.comb(n - c, k) / math.comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_edges():
    assert pass_at_k(5, 0, 5) == 0.0
    assert pass_at_k(5, 1, 5) == 1.0
    assert pass_at_k(5, 5, 1) == 1.0


def test_k_larger_than_samples_is_refused_naming_the_task():
    with pytest.raises(ValueError, match="k=10 is larger than the 5 samples of task HumanEval/3"):
        mean_pass_at_k({"HumanEval/1": (10, 2), "HumanEval/3": (5, 1)}, [1, 10])


def test_mean_over_tasks():
    result = mean_pass_at_k({"a": (2, 2), "b": (2, 0)}, [1, 2])
    assert result == {"pass@1": pytest.approx(0.5), "pass@2": pytest.approx(0.5)}

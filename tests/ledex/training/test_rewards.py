import numpy as np
import pytest

from ledex.execution.severity import weighted
from ledex.training.rewards import ExplanationProjection, clip_ours, code_reward, s_cb, s_ex


def test_paper_projection_is_the_papers_formula():
    project = ExplanationProjection()  # lo=0.4, hi=1.0, border=0.7
    for value in np.linspace(0.4, 1.0, 13):
        assert project(value) == pytest.approx((50 * value - 35) / 3)


def test_clipping_outside_lo_hi_is_ours_not_the_papers():
    project = ExplanationProjection()
    assert project(0.1) == -5.0 and project(1.2) == 5.0  # (50 S_ex - 35) / 3 would give -10 and 8.33
    assert clip_ours(-10.0) == -5.0 and clip_ours(8.3) == 5.0 and clip_ours(1.5) == 1.5


def test_code_reward_spans_minus_five_to_five():
    assert code_reward(0.0, 0.0) == -5.0
    assert code_reward(1.0, 1.0) == 5.0
    assert code_reward(0.5, 0.5) == 0.0


def test_code_reward_without_reference_is_the_pass_rate_alone():
    # ours: R(r) = 10 S_ut - 5, on the paper's [-5, 5]
    assert code_reward(None, 0.0) == -5.0 and code_reward(None, 1.0) == 5.0 and code_reward(None, 0.3) == -2.0


def test_severity_weight_scales_what_a_fix_earns_not_penalties():
    assert weighted(4.0, 1.5) == 6.0 and weighted(4.0, 0.5) == 2.0
    assert weighted(-4.0, 1.5) == -4.0 and weighted(-4.0, 0.5) == -4.0 and weighted(0.0, 2.0) == 0.0


def test_s_cb_identical_code_scores_one_and_no_reference_is_an_error():
    code = "def f(x):\n    if x > 1:\n        return x * 2\n    return x\n"
    assert s_cb(code, [code], "python") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least one reference"):
        s_cb(code, [], "python")
    assert s_cb(code, ["def g():\n    pass\n"], "python") < 0.6


def test_s_ex_is_mean_cosine():
    refs = np.array([[1.0, 0.0], [0.0, 2.0]])
    assert s_ex(np.array([3.0, 0.0]), refs) == pytest.approx(0.5)


def test_fit_finds_the_border_between_good_and_bad_explanations():
    rng = np.random.default_rng(0)
    good = rng.uniform(0.75, 0.95, 200)
    bad = rng.uniform(0.45, 0.65, 200)
    fitted = ExplanationProjection.fit(np.concatenate([good, bad]), [True] * 200 + [False] * 200)
    assert 0.65 <= fitted.border <= 0.75
    assert fitted.lo < 0.5 and fitted.hi > 0.9
    assert fitted(fitted.border) == 0.0

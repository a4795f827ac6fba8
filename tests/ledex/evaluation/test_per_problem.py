"""Per-problem scores from attempts by hand, their agreement with `score`, and their MLflow names."""

import pytest

from ledex.evaluation.per_problem import as_metrics, per_problem_scores, score_intervals
from ledex.evaluation.self_debug import INIT, Attempt, score


def attempt(problem_id, language, sample, kind=INIT, round_number=0, passed=False, hallucination="") -> Attempt:
    return Attempt(
        model="m",
        benchmark="he",
        problem_id=problem_id,
        language=language,
        sample=sample,
        kind=kind,
        round=round_number,
        explanation="",
        code="x",
        passed=passed,
        status="passed" if passed else "failed",
        pass_rate=float(passed),
        feedback="",
        hallucination=hallucination,
    )


# p1 (Python): sample 0 right; sample 1 wrong, fixed by Expl. + Refine, not by Refine (a NameError).
# p2 (JavaScript): both samples wrong and never fixed.
ATTEMPTS = [
    attempt("p1", "python", 0, passed=True),
    attempt("p1", "python", 1),
    attempt("p1", "python", 1, "explain_refine", 1, passed=True),
    attempt("p1", "python", 1, "refine", 1, hallucination="name"),
    *(attempt("p2", "js", s) for s in (0, 1)),
    *(attempt("p2", "js", s, kind, 1) for s in (0, 1) for kind in ("refine", "explain_refine")),
]


def test_each_problem_holds_its_own_parts():
    scores = per_problem_scores(ATTEMPTS, [1, 2])
    assert scores["pass_at_1.he.init"].parts == {"he:p1": (0.5, 1), "he:p2": (0.0, 1)}
    assert scores["pass_at_2.he.explain_refine"].parts == {"he:p1": (1.0, 1), "he:p2": (0.0, 1)}
    assert scores["refinement_rate.he.explain_refine"].parts == {"he:p1": (1, 1), "he:p2": (0, 2)}
    assert scores["hallucination_rate.he.refine"].parts == {"he:p1": (1, 1), "he:p2": (0, 2)}
    assert scores["pass_at_1.lang.js.init"].parts == {"he:p2": (0.0, 1)}
    assert (scores["pass_at_1.he.init"].samples, scores["refinement_rate.he.refine"].samples) == (4, 3)


def test_the_values_over_all_problems_are_those_of_score():
    intervals = score_intervals(per_problem_scores(ATTEMPTS, [1]), resamples=200, seed=0)
    table = score(ATTEMPTS, [1], rounds=1)["benchmarks"]["he"]
    assert intervals["pass_at_1.he.init"].value == table[INIT]["pass_at_1"] == 0.25
    assert intervals["pass_at_1.he.explain_refine"].value == table["explain_refine"]["round_1"]["pass_at_1"] == 0.5
    assert intervals["refinement_rate.he.explain_refine"].value == pytest.approx(1 / 3, abs=1e-6)
    assert intervals["hallucination_rate.he.refine"].value == table["refine"]["hallucination_rate"]


def test_the_cross_language_gap_and_the_metric_names():
    intervals = score_intervals(per_problem_scores(ATTEMPTS, [1]), resamples=200, seed=0)
    gap = intervals["cross_language_gap.explain_refine"]  # Python 100, JavaScript 0, one problem each
    assert (gap.value, gap.low, gap.high, gap.problems) == (1.0, 1.0, 1.0, 2)
    metrics = as_metrics(intervals)
    assert metrics["pass_at_1.he.explain_refine"] == 0.5 and metrics["n_problems.he"] == 2
    assert {"pass_at_1.he.explain_refine_ci_low", "pass_at_1.he.explain_refine_ci_high"} <= set(metrics)
    assert "n_problems.lang" not in metrics

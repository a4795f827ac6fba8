"""A model's scores broken down by problem, under the metric names MLflow shows, with their 95% CIs.

Names: `pass_at_{k}.{benchmark}.{approach}` (Init., and each refinement approach after one round,
as in Table 2), `refinement_rate.{benchmark}.{kind}` (wrong samples fixed in round one),
`hallucination_rate.{benchmark}.{kind}` (over the refinements of all rounds),
`pass_at_1.lang.{language}.{approach}` and `cross_language_gap.{approach}` (max - min over
languages). A problem is keyed `benchmark:problem id`; each score's value over all problems is
`self_debug.score`'s. Intervals and paired differences come from `ledex.evaluation.bootstrap`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from ledex.evaluation.bootstrap import Interval, PerProblem, interval, paired_difference, spread
from ledex.evaluation.passk import pass_at_k
from ledex.evaluation.self_debug import INIT, Attempt, SampleOutcome, sample_outcomes
from ledex.pipeline.records import Kind

APPROACHES = (INIT, *Kind)


def metric_name(metric: str, scope: str, approach: str) -> str:
    """e.g. `pass_at_1.humaneval.explain_refine`."""
    return f"{metric}.{scope}.{approach}"


def language_scope(language: str) -> str:
    return f"lang.{language}"


def gap_name(approach: str) -> str:
    return f"cross_language_gap.{approach}"


def per_problem_scores(attempts: Sequence[Attempt], ks: Sequence[int]) -> dict[str, PerProblem]:
    """{metric name: its parts per problem} for one model's attempts."""
    outcomes, refinements = sample_outcomes(attempts)
    by_problem: dict[tuple[str, str], list[SampleOutcome]] = defaultdict(list)
    for (benchmark, problem_id, _), outcome in outcomes.items():
        by_problem[(benchmark, problem_id)].append(outcome)
    refined: dict[tuple[str, str, str], list[Attempt]] = defaultdict(list)
    for (benchmark, kind), kind_attempts in refinements.items():
        for a in kind_attempts:
            refined[(benchmark, kind, a.problem_id)].append(a)
    parts: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    samples: dict[str, int] = defaultdict(int)

    def add(name: str, problem: str, part: tuple[float, float], weight: int) -> None:
        parts[name][problem] = part
        samples[name] += weight

    for (benchmark, problem_id), sampled in by_problem.items():
        problem, n, wrong = f"{benchmark}:{problem_id}", len(sampled), [o for o in sampled if not o.passed]
        for approach in APPROACHES:
            correct = sum(o.correct_after(approach, 0 if approach == INIT else 1) for o in sampled)
            for k in ks:
                add(metric_name(f"pass_at_{k}", benchmark, approach), problem, (pass_at_k(n, correct, k), 1), n)
            language = language_scope(sampled[0].language)
            add(metric_name("pass_at_1", language, approach), problem, (pass_at_k(n, correct, 1), 1), n)
        for kind in Kind:
            fixed = sum(o.correct_after(kind, 1) for o in wrong)
            add(metric_name("refinement_rate", benchmark, kind), problem, (fixed, len(wrong)), len(wrong))
            chances = refined[(benchmark, kind, problem_id)]
            hallucinated = sum(bool(a.hallucination) for a in chances)
            add(metric_name("hallucination_rate", benchmark, kind), problem, (hallucinated, len(chances)), len(chances))
    return {name: PerProblem(parts[name], samples[name]) for name in parts}


def score_intervals(scores: Mapping[str, PerProblem], *, resamples: int, seed: int) -> dict[str, Interval]:
    """Each score with its 95% CI, and the cross-language gap of each approach when there are languages to compare."""
    intervals = {name: interval(parts, resamples=resamples, seed=seed) for name, parts in scores.items()}
    languages = sorted({name.split(".")[2] for name in scores if name.startswith("pass_at_1.lang.")})
    if len(languages) > 1:
        for approach in APPROACHES:
            groups = {
                language: scores[metric_name("pass_at_1", language_scope(language), approach)] for language in languages
            }
            intervals[gap_name(approach)] = spread(groups, resamples=resamples, seed=seed)
    return intervals


def paired_deltas(
    candidate: Mapping[str, PerProblem], reference: Mapping[str, PerProblem], *, resamples: int, seed: int
) -> dict[str, Interval]:
    """candidate - reference for every score both have, paired over the problems both were scored on."""
    return {
        name: paired_difference(parts, reference[name], resamples=resamples, seed=seed)
        for name, parts in candidate.items()
        if name in reference
    }


def as_metrics(intervals: Mapping[str, Interval]) -> dict[str, float]:
    """MLflow metrics: each score under its name, its CI as `<name>_ci_low` and `<name>_ci_high`, and
    the problems behind each benchmark's pass@1 as `n_problems.<benchmark>`."""
    metrics = {}
    for name, estimate in intervals.items():
        if estimate.value is not None:
            metrics |= {name: estimate.value, f"{name}_ci_low": estimate.low, f"{name}_ci_high": estimate.high}
        metric, scope, *_ = name.split(".")
        if metric == "pass_at_1" and name.endswith(f".{INIT}") and scope != "lang":
            metrics[f"n_problems.{scope}"] = estimate.problems
    return metrics

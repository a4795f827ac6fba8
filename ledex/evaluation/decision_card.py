"""The decision card: "is this week's model better?", at the top of the evaluation report.

The candidate beside the current champion and the prompted base, per benchmark and language,
with 95% CIs and the candidate's paired deltas, then the promotion decision and where to look
further. Each section is a function of `Decision`; a new section is a function added to
`SECTIONS`. Values are percentages; a delta is candidate minus the other model, over the
problems both were scored on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ledex.evaluation.bootstrap import Interval
from ledex.evaluation.kpi_trend import trend_table
from ledex.evaluation.per_problem import gap_name, language_scope, metric_name
from ledex.evaluation.self_debug import INIT
from ledex.pipeline.paths import KPI_TREND_PLOT
from ledex.pipeline.records import Kind

EXPLAIN_REFINE = Kind.EXPLAIN_REFINE
ROWS = {  # (metric, approach) per benchmark, with its name on the card
    ("pass_at_1", INIT): "pass@1 Init.",
    ("pass_at_1", EXPLAIN_REFINE): "pass@1 Expl. + Refine",
    ("refinement_rate", EXPLAIN_REFINE): "success refinement rate (Expl. + Refine)",
    ("hallucination_rate", EXPLAIN_REFINE): "hallucination rate (Expl. + Refine)",
}


class Outcome(StrEnum):
    """The card's answer to "is this week's model better?"."""

    PROMOTED = "Yes"
    FIRST_CHAMPION = "First champion"  # nothing to be better than: see its deltas vs the base
    NOT_PROMOTED = "Not shown"
    ALREADY_CHAMPION = "Unchanged"  # the candidate is the champion's checkpoint
    NO_CANDIDATE = "No candidate"


@dataclass(frozen=True)
class Decision:
    """What the card shows. `scores` maps a column ("sft (candidate)", "champion v3", "base
    prompting") to its intervals by metric name; `deltas` maps a reference ("champion v3", "base
    prompting") to the candidate's paired deltas against it."""

    outcome: Outcome
    candidate: str  # its column in `scores`, or "" with no candidate
    scores: Mapping[str, Mapping[str, Interval]]
    deltas: Mapping[str, Mapping[str, Interval]]
    benchmarks: Sequence[str]
    languages: Sequence[str]
    promotion_benchmark: str
    promotion: str  # the promotion line: candidate, version, alias and the gate's reason
    links: Mapping[str, str]  # name -> where (MLflow run, Prefect flow run, ...)
    kpi_history: Sequence[Mapping] = ()  # the rows of `kpi_trend.record_cycle`, oldest first


def render_card(decision: Decision) -> str:
    return "\n".join(section(decision) for section in SECTIONS)


def answer_section(decision: Decision) -> str:
    lines = ["# Is this week's model better?\n", f"**{decision.outcome.value}.** {decision.promotion}\n"]
    name = metric_name("pass_at_1", decision.promotion_benchmark, EXPLAIN_REFINE)
    for reference, deltas in decision.deltas.items():
        if name in deltas:
            lines.append(
                f"- pass@1 Expl. + Refine on {decision.promotion_benchmark}, {decision.candidate} vs {reference}: "
                f"{_delta(deltas[name])} points, paired over {deltas[name].problems} problems\n"
            )
    return "".join(lines)


def benchmark_section(decision: Decision) -> str:
    rows = [
        [benchmark, label, *_cells(decision, metric_name(metric, benchmark, approach))]
        for benchmark in decision.benchmarks
        for (metric, approach), label in ROWS.items()
    ]
    return "## Per benchmark (95% CI, bootstrap over problems; one round)\n\n" + _table(
        ["Benchmark", "Score", *_header(decision)], rows
    )


def language_section(decision: Decision) -> str:
    if not decision.languages:
        return ""
    rows = [
        [language, *_cells(decision, metric_name("pass_at_1", language_scope(language), EXPLAIN_REFINE))]
        for language in decision.languages
    ]
    if len(decision.languages) > 1:
        rows.append(["gap (max - min)", *_cells(decision, gap_name(EXPLAIN_REFINE))])
    return "## Per language: pass@1 Expl. + Refine (95% CI)\n\n" + _table(["Language", *_header(decision)], rows)


def kpi_trend_section(decision: Decision) -> str:
    if not decision.kpi_history:
        return ""
    return (
        "## KPIs week over week (%, 95% CI, n)\n\n"
        "`tasks.*`: the pinned policy's answers to the week's tasks; `benchmark.*`: the same policy on "
        "the held-out benchmarks; `review.*`: the reviewers' flags on the last batch.\n\n"
        + trend_table(decision.kpi_history)
        + f"\n![KPIs by cycle]({KPI_TREND_PLOT.name})\n"
    )


def links_section(decision: Decision) -> str:
    if not decision.links:
        return ""
    return "## Runs\n\n" + "".join(f"- {name}: {where}\n" for name, where in decision.links.items())


SECTIONS: tuple[Callable[[Decision], str], ...] = (
    answer_section,
    benchmark_section,
    language_section,
    kpi_trend_section,
    links_section,
)


def headline_metrics(decision: Decision) -> dict[str, float]:
    """The cycle's headline, Expl. + Refine on the promotion benchmark: the candidate's and the base's
    pass@1, the candidate's deltas (with CIs), success refinement rate, hallucination rate and
    cross-language gap."""
    if not decision.candidate:
        return {}
    benchmark = decision.promotion_benchmark
    pass_at_1 = metric_name("pass_at_1", benchmark, EXPLAIN_REFINE)
    own = decision.scores[decision.candidate]
    picked = {
        "candidate.pass_at_1": own.get(pass_at_1),
        "candidate.refinement_rate": own.get(metric_name("refinement_rate", benchmark, EXPLAIN_REFINE)),
        "candidate.hallucination_rate": own.get(metric_name("hallucination_rate", benchmark, EXPLAIN_REFINE)),
        "candidate.cross_language_gap": own.get(gap_name(EXPLAIN_REFINE)),
    }
    for reference, deltas in decision.deltas.items():
        kind = reference.split()[0]  # champion | base
        picked[f"delta_vs_{kind}.pass_at_1"] = deltas.get(pass_at_1)
        if kind == "base":
            picked["base.pass_at_1"] = decision.scores.get(reference, {}).get(pass_at_1)
    metrics = {}
    for name, estimate in picked.items():
        if estimate is not None and estimate.value is not None:
            metrics |= {name: estimate.value, f"{name}_ci_low": estimate.low, f"{name}_ci_high": estimate.high}
    return metrics


def _header(decision: Decision) -> list[str]:
    return [*decision.scores, *(f"Δ vs {reference}" for reference in decision.deltas), "n (problems, samples)"]


def _cells(decision: Decision, name: str) -> list[str]:
    values = [_value(scores.get(name)) for scores in decision.scores.values()]
    deltas = [_delta(deltas[name]) if name in deltas else "–" for deltas in decision.deltas.values()]
    own = decision.scores.get(decision.candidate, {}).get(name)
    return [*values, *deltas, f"{own.problems}, {own.samples}" if own else "–"]


def _value(estimate: Interval | None) -> str:
    if estimate is None or estimate.value is None:
        return "–"
    return f"{100 * estimate.value:.1f} [{100 * estimate.low:.1f}, {100 * estimate.high:.1f}]"


def _delta(estimate: Interval) -> str:
    if estimate.value is None:
        return "–"
    return f"{100 * estimate.value:+.1f} [{100 * estimate.low:+.1f}, {100 * estimate.high:+.1f}]"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"

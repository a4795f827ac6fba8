"""The evaluation's report, laid out like the paper's tables, and its Figure 4.

`report.md` (after the decision card, `decision_card`): Table 2 (pass@k per model, approach and
benchmark, after one round), every score with its 95% CI and n, Table 4 (success refinement rate,
averaged over benchmarks, with the hallucination rate), the iterative refinement table behind the
figure, and pass@1 per language with the cross-language gap. `pass_at_k_rounds.png`: pass@k per round of refinement,
the better of Refine and Expl. + Refine as in the paper's Figure 4, over all benchmarks.
Scores come from `self_debug.score`, one entry per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import cycle
from pathlib import Path

from ledex.evaluation.bootstrap import Interval
from ledex.evaluation.self_debug import INIT
from ledex.pipeline.records import Kind

APPROACH_NAMES = {INIT: "Init.", Kind.REFINE: "Refine", Kind.EXPLAIN_REFINE: "Expl. + Refine"}
MARKERS = ("o", "s", "^", "D", "v", "P")  # overlapping lines stay apart
LINESTYLES = ("-", "--", ":", "-.")


def render(scores: dict[str, dict], intervals: dict[str, dict[str, Interval]], ks: Sequence[int], rounds: int) -> str:
    """The markdown report for {model: scores} and {model: {metric name: 95% CI}}."""
    sections = [
        "# Evaluation\n",
        "## Pass@k of initial and refined solutions (one round of refinement; Table 2)\n",
        _pass_at_k_table(scores, ks),
        "## 95% confidence intervals (bootstrap over problems; one round)\n",
        "Each score in %, its 95% CI in brackets, then (problems, samples) behind it; rates count wrong samples "
        "(refinement) or refinements of all rounds (hallucination).\n",
        _interval_table(intervals),
        "## Success refinement rate, averaged over benchmarks (Table 4)\n",
        "Wrong initial samples fixed by one refinement; hallucination: refinements that fail on a name, "
        "attribute or module that does not exist, over all refinements of all rounds.\n",
        _refinement_table(scores),
        "## Iterative refinement: pass@k per round over all benchmarks (Figure 4)\n",
        "Round 0 is Init.; later rounds take the better of Refine and Expl. + Refine.\n",
        _rounds_table(scores, ks, rounds),
        "## Pass@1 per language (one round) and the cross-language gap (max - min)\n",
        _language_table(scores),
    ]
    return "\n".join(sections)


def plot_rounds(scores: dict[str, dict], ks: Sequence[int], rounds: int, path: Path) -> None:
    """Figure 4: pass@k after each round of refinement, one line per model, one panel per k."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(ks), figsize=(4.5 * len(ks), 3.6), squeeze=False)
    for axis, k in zip(axes[0], ks):
        for (model, model_scores), marker, linestyle in zip(scores.items(), cycle(MARKERS), cycle(LINESTYLES)):
            values = [100 * v for v in overall_rounds(model_scores, k, rounds)]
            axis.plot(range(rounds + 1), values, marker=marker, linestyle=linestyle, label=model, alpha=0.85)
        axis.set_title(f"pass@{k}")
        axis.set_xlabel("round of refinement (0: Init.)")
        axis.set_ylabel("pass@k (%)")
        axis.set_ylim(0, 100)
        axis.set_xticks(range(rounds + 1))
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(f"Pass@k after rounds of self-debugging (best of Refine, Expl. + Refine); {_sample_size(scores)}")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _sample_size(scores: dict[str, dict]) -> str:
    """n of the first model, over all benchmarks: every model samples the same problems."""
    benchmarks = next(iter(scores.values()))["benchmarks"].values()
    return f"n = {sum(b['problems'] for b in benchmarks)} problems, {sum(b['samples'] for b in benchmarks)} samples"


def overall_rounds(model_scores: dict, k: int, rounds: int) -> list[float]:
    """pass@k over all benchmarks (weighted by problems) for Init. and each round's better approach."""
    benchmarks = model_scores["benchmarks"].values()
    total = sum(b["problems"] for b in benchmarks)

    def pooled(value_of) -> float:
        return sum(b["problems"] * value_of(b) for b in benchmarks) / total

    key = f"pass_at_{k}"
    values = [pooled(lambda b: b[INIT][key])]
    for r in range(1, rounds + 1):
        values.append(max(pooled(lambda b, kind=kind, r=r: b[kind][f"round_{r}"][key]) for kind in Kind))
    return values


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def _pass_at_k_table(scores: dict[str, dict], ks: Sequence[int]) -> str:
    benchmarks = list(dict.fromkeys(b for s in scores.values() for b in s["benchmarks"]))
    header = ["Model", "Approach"] + [f"{b} pass@{k}" for b in benchmarks for k in ks]
    values: list[list[float | None]] = []
    labels = []
    for model, model_scores in scores.items():
        for approach in (INIT, *Kind):
            labels.append([model if approach == INIT else "", APPROACH_NAMES[approach]])
            row = []
            for benchmark in benchmarks:
                result = model_scores["benchmarks"].get(benchmark)
                for k in ks:
                    if result is None:
                        row.append(None)
                    else:
                        cell = result[INIT] if approach == INIT else result[approach]["round_1"]
                        row.append(cell[f"pass_at_{k}"])
            values.append(row)
    best = [max((v for v in column if v is not None), default=None) for column in zip(*values)]
    rows = [
        label + [f"**{_percent(v)}**" if v is not None and v == top else _percent(v) for v, top in zip(row, best)]
        for label, row in zip(labels, values)
    ]
    return _table(header, rows)


def _interval_table(intervals: dict[str, dict[str, Interval]]) -> str:
    """One row per model and score; a score's name is `metric.scope.approach` (`per_problem`)."""
    rows = []
    for model, found in intervals.items():
        for number, (name, estimate) in enumerate(sorted(found.items())):
            cell = (
                "–"
                if estimate.value is None
                else f"{_percent(estimate.value)} [{_percent(estimate.low)}, {_percent(estimate.high)}]"
            )
            rows.append([model if number == 0 else "", f"`{name}`", cell, f"{estimate.problems}, {estimate.samples}"])
    return _table(["Model", "Score", "% [95% CI]", "n (problems, samples)"], rows)


def _refinement_table(scores: dict[str, dict]) -> str:
    header = [
        "Model",
        "Refine (%)",
        "Expl. + Refine (%)",
        "Hallucination: Refine (%)",
        "Hallucination: Expl. + Refine (%)",
    ]
    rows = []
    for model, model_scores in scores.items():
        benchmarks = model_scores["benchmarks"].values()
        rates = [_mean([b[kind]["round_1"]["refinement_rate"] for b in benchmarks]) for kind in Kind]
        hallucinations = [_mean([b[kind]["hallucination_rate"] for b in benchmarks]) for kind in Kind]
        rows.append([model, *map(_percent, rates), *map(_percent, hallucinations)])
    return _table(header, rows)


def _rounds_table(scores: dict[str, dict], ks: Sequence[int], rounds: int) -> str:
    header = ["Model", "pass@k"] + [f"round {r}" for r in range(rounds + 1)]
    rows = [
        [model, f"pass@{k}", *map(_percent, overall_rounds(model_scores, k, rounds))]
        for model, model_scores in scores.items()
        for k in ks
    ]
    return _table(header, rows)


def _language_table(scores: dict[str, dict]) -> str:
    languages = list(dict.fromkeys(language for s in scores.values() for language in s["languages"]))
    header = ["Model", "Approach", *languages, "gap"]
    rows = []
    for model, model_scores in scores.items():
        gap = model_scores.get("cross_language_gap", {})
        for approach in (INIT, *Kind):
            cells = [_percent(model_scores["languages"].get(language, {}).get(approach)) for language in languages]
            rows.append(
                [model if approach == INIT else "", APPROACH_NAMES[approach], *cells, _percent(gap.get(approach))]
            )
    return _table(header, rows)


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None

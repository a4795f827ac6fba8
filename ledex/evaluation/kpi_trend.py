"""The KPIs of each weekly cycle, kept from one cycle to the next: the trend table, plot and MLflow steps.

A cycle is keyed by its parent MLflow run (`LEDEX_PARENT_RUN_ID`; a stage run by hand is a cycle of
its own run). `data/.cache/kpi_history.jsonl` holds one row per cycle, in the order the cycles
first recorded: `{cycle, cycle_run_id, recorded_at, policy, kpis: {name: Interval}}`; it is not a
DVC output, so `dvc repro` keeps it. Recording a cycle again (a stage rerun in the same cycle)
replaces its row, keeping its number. The KPIs, as fractions with n and a 95% CI:

- `tasks.*`: the pinned policy's answers to the week's tasks (`ledex.evaluation.task_answers`);
- `benchmark.*`: the same policy on the held-out benchmarks (evaluate's prompted model): pass@1
  Expl. + Refine on the promotion benchmark (`benchmark.resolution`), its hallucination rate and
  the max - min of per-language pass@1 (`benchmark.language_gap`);
- `review.flagged.<flag>`: the share of the last review batch's items flagged by their reviewers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path

from ledex.evaluation.bootstrap import Interval
from ledex.evaluation.per_problem import gap_name, language_scope, metric_name
from ledex.pipeline.jsonl import read_jsonl, write_jsonl
from ledex.pipeline.records import Kind

PLOTTED = {  # the headline KPIs, one line each in the plot; the table shows every KPI
    "tasks.resolution": "tasks: resolution",
    "tasks.hallucination_rate": "tasks: hallucination rate",
    "tasks.language_gap": "tasks: language gap",
    "benchmark.resolution": "benchmark: pass@1 Expl. + Refine",
    "benchmark.hallucination_rate": "benchmark: hallucination rate",
    "review.flagged.any": "review: items flagged",
}
MARKERS = ("o", "s", "^", "D", "v", "P")
LINESTYLES = ("-", "--", "-.", ":")
SHOWN_CYCLES = 8  # the table's last columns


def record_cycle(path: Path, cycle_run_id: str, kpis: Mapping[str, Interval], policy: str) -> list[dict]:
    """Write this cycle's row into the history at `path` (replacing the row of the same cycle); the history."""
    history = list(read_jsonl(path)) if path.exists() else []
    number = next((row["cycle"] for row in history if row["cycle_run_id"] == cycle_run_id), len(history) + 1)
    row = {
        "cycle": number,
        "cycle_run_id": cycle_run_id,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "policy": policy,
        "kpis": {name: estimate.to_dict() for name, estimate in sorted(kpis.items())},
    }
    history = [row if old["cycle_run_id"] == cycle_run_id else old for old in history]
    if number == len(history) + 1:
        history.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(path, history)
    return history


def stage_kpis(metrics_file: Path) -> dict[str, Interval]:
    """The `kpis` of a stage's metrics file ({} when the stage has not run)."""
    if not metrics_file.exists():
        return {}
    return {
        name: Interval(**estimate) for name, estimate in json.loads(metrics_file.read_text()).get("kpis", {}).items()
    }


def benchmark_kpis(intervals: Mapping[str, Interval], benchmark: str, languages: Sequence[str]) -> dict[str, Interval]:
    """The `benchmark.*` KPIs out of one model's evaluation intervals (Expl. + Refine, one round)."""
    picked = {
        "benchmark.resolution": metric_name("pass_at_1", benchmark, Kind.EXPLAIN_REFINE),
        "benchmark.hallucination_rate": metric_name("hallucination_rate", benchmark, Kind.EXPLAIN_REFINE),
        "benchmark.language_gap": gap_name(Kind.EXPLAIN_REFINE),
        **{
            f"benchmark.resolution.lang.{language}": metric_name(
                "pass_at_1", language_scope(language), Kind.EXPLAIN_REFINE
            )
            for language in languages
        },
    }
    return {kpi: intervals[name] for kpi, name in picked.items() if name in intervals}


def cycle_metrics(row: Mapping) -> dict[str, float]:
    """A cycle's KPIs as MLflow metrics: `kpi.<name>`, `..._ci_low`, `..._ci_high`, `..._n`."""
    metrics = {}
    for name, estimate in row["kpis"].items():
        if estimate["value"] is not None:
            metrics |= {
                f"kpi.{name}": estimate["value"],
                f"kpi.{name}_ci_low": estimate["low"],
                f"kpi.{name}_ci_high": estimate["high"],
            }
        metrics[f"kpi.{name}_n"] = estimate["problems"]
    return metrics


def trend_table(history: Sequence[Mapping]) -> str:
    """Markdown: one row per KPI, one column per cycle (the last `SHOWN_CYCLES`), `value [CI] (n)` in %."""
    shown = history[-SHOWN_CYCLES:]
    names = sorted({name for row in shown for name in row["kpis"]}, key=_order)
    header = ["KPI", *(f"cycle {row['cycle']} ({row['policy']})" for row in shown)]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for name in names:
        lines.append("| " + " | ".join([name, *(_cell(row["kpis"].get(name)) for row in shown)]) + " |")
    return "\n".join(lines) + "\n"


def plot_trend(history: Sequence[Mapping], path: Path) -> None:
    """The headline KPIs by cycle on a fixed 0-100 axis, one marker and line style each, with 95% CI
    bars; lines that would overlap are shifted apart sideways. The title gives the latest n."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7.5, 4.2))
    cycles = [row["cycle"] for row in history]
    shown = [name for name in PLOTTED if any(name in row["kpis"] for row in history)]
    for index, (name, marker, linestyle) in enumerate(zip(shown, cycle(MARKERS), cycle(LINESTYLES))):
        offset = 0.06 * (index - (len(shown) - 1) / 2)
        points = [(c + offset, row["kpis"][name]) for c, row in zip(cycles, history) if _known(row["kpis"].get(name))]
        if not points:
            continue
        xs = [x for x, _ in points]
        values = [100 * e["value"] for _, e in points]
        errors = [[v - 100 * e["low"] for v, (_, e) in zip(values, points)]]
        errors.append([100 * e["high"] - v for v, (_, e) in zip(values, points)])
        axis.errorbar(xs, values, yerr=errors, marker=marker, linestyle=linestyle, capsize=3, label=PLOTTED[name])
    axis.set_ylim(-3, 103)  # 0-100, with room for markers on the edges
    axis.set_yticks(range(0, 101, 20))
    axis.set_xlim(min(cycles, default=1) - 0.5, max(cycles, default=1) + 0.5)
    axis.set_xticks(cycles)
    axis.set_xlabel("cycle (week)")
    axis.set_ylabel("%  (95% CI)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axis.set_title(f"KPIs by cycle; latest n: {_latest_n(history[-1]) if history else 'none'}", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _latest_n(row: Mapping) -> str:
    counts = {
        "tasks": row["kpis"].get("tasks.resolution"),
        "benchmark problems": row["kpis"].get("benchmark.resolution"),
        "reviewed items": row["kpis"].get("review.flagged.any"),
    }
    return ", ".join(f"{label} {estimate['problems']}" for label, estimate in counts.items() if estimate) or "none"


def _known(estimate: Mapping | None) -> bool:
    return estimate is not None and estimate["value"] is not None


def _cell(estimate: Mapping | None) -> str:
    if not _known(estimate):
        return "–"
    value, low, high = (100 * estimate[key] for key in ("value", "low", "high"))
    return f"{value:.1f} [{low:.1f}, {high:.1f}] (n={estimate['problems']})"


def _order(name: str) -> tuple[int, str]:
    group = name.split(".")[0]
    return ({"tasks": 0, "benchmark": 1, "review": 2}.get(group, 3), name)

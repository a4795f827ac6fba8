"""The KPI history: one row per cycle, a rerun in the same cycle replaces its row; the table, the
plot and the MLflow metrics read from it."""

from dataclasses import replace

from ledex.evaluation import decision_card
from ledex.evaluation.bootstrap import Interval
from ledex.evaluation.kpi_trend import benchmark_kpis, cycle_metrics, plot_trend, record_cycle, trend_table
from tests.ledex.evaluation.test_decision_card import CANDIDATE, DECISION


def kpis(resolution: float, problems: int = 3) -> dict[str, Interval]:
    return {
        "tasks.resolution": Interval(resolution, resolution - 0.2, min(1.0, resolution + 0.2), problems, problems),
        "review.flagged.nonexistent_api": Interval(None, None, None, 0, 0),
    }


def test_a_cycle_is_one_row_and_a_rerun_in_it_replaces_the_row_keeping_its_number(tmp_path):
    history = tmp_path / "kpi_history.jsonl"
    record_cycle(history, "run-a", kpis(0.5), policy="base:qwen")
    record_cycle(history, "run-b", kpis(0.6), policy="models:/ledex-debugger/1")
    rows = record_cycle(history, "run-b", kpis(0.7), policy="models:/ledex-debugger/1")  # evaluate reran
    assert [(row["cycle"], row["cycle_run_id"]) for row in rows] == [(1, "run-a"), (2, "run-b")]
    assert [row["kpis"]["tasks.resolution"]["value"] for row in rows] == [0.5, 0.7]
    assert record_cycle(history, "run-c", kpis(0.8), policy="v2")[-1]["cycle"] == 3


def test_the_table_has_a_column_per_cycle_with_ci_and_n(tmp_path):
    rows = record_cycle(tmp_path / "h.jsonl", "run-a", kpis(0.5), policy="base:qwen")
    rows = record_cycle(tmp_path / "h.jsonl", "run-b", kpis(1.0, problems=2), policy="models:/m/1")
    table = trend_table(rows)
    assert table.splitlines()[0] == "| KPI | cycle 1 (base:qwen) | cycle 2 (models:/m/1) |"
    assert "| tasks.resolution | 50.0 [30.0, 70.0] (n=3) | 100.0 [80.0, 100.0] (n=2) |" in table
    assert "| review.flagged.nonexistent_api | – | – |" in table  # no judged item: no value, not a zero


def test_mlflow_metrics_carry_ci_and_n_and_skip_what_has_no_value(tmp_path):
    [row] = record_cycle(tmp_path / "h.jsonl", "run-a", kpis(0.5), policy="base:qwen")
    metrics = cycle_metrics(row)
    assert metrics["kpi.tasks.resolution"] == 0.5 and metrics["kpi.tasks.resolution_n"] == 3
    assert metrics["kpi.tasks.resolution_ci_low"] == 0.3
    assert "kpi.review.flagged.nonexistent_api" not in metrics and metrics["kpi.review.flagged.nonexistent_api_n"] == 0


def test_benchmark_kpis_are_the_models_expl_refine_scores():
    picked = benchmark_kpis(CANDIDATE, "humaneval", ["js", "python"])
    assert picked["benchmark.resolution"] == CANDIDATE["pass_at_1.humaneval.explain_refine"]
    assert picked["benchmark.language_gap"] == CANDIDATE["cross_language_gap.explain_refine"]
    assert set(picked) == {
        "benchmark.resolution",
        "benchmark.hallucination_rate",
        "benchmark.language_gap",
        "benchmark.resolution.lang.js",
        "benchmark.resolution.lang.python",
    }


def test_the_plot_is_written_and_the_card_shows_the_trend(tmp_path):
    record_cycle(tmp_path / "h.jsonl", "run-a", kpis(0.5), policy="base:qwen")
    rows = record_cycle(tmp_path / "h.jsonl", "run-b", kpis(0.75), policy="models:/m/1")
    plot_trend(rows, tmp_path / "kpi_trend.png")
    assert (tmp_path / "kpi_trend.png").read_bytes().startswith(b"\x89PNG")
    card = decision_card.render_card(replace(DECISION, kpi_history=rows))
    assert "## KPIs week over week" in card and "![KPIs by cycle](kpi_trend.png)" in card
    assert card.index("## KPIs week over week") < card.index("## Runs")
    assert "## KPIs week over week" not in decision_card.render_card(DECISION)

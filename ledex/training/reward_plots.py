"""Figure 3 of the paper: each reward ingredient's distribution, correct vs wrong refinements.

Panels (a) S_cb, (b) S_ut, (c) S_ex, (d) R(r), (e) R(e); blue bars are trajectories whose
refinement passed every test, orange ones those that did not. Also each PPO step's reward
distributions by prompt kind. Drawn with the Agg canvas, no display.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ledex.pipeline.records import Kind
from ledex.training.rewards import ExplanationProjection

CORRECT, WRONG = "tab:blue", "tab:orange"
BINS = 20
KIND_COLOURS = {Kind.REFINE.value: "tab:green", Kind.EXPLAIN_REFINE.value: "tab:purple"}
STEP_PANELS = (
    ("R_r", "code reward $\\mathcal{R}(r)$"),
    ("R_e", "explanation reward $\\mathcal{R}(e)$"),
    ("RM", "reward model"),
)


@dataclass(frozen=True)
class Panel:
    letter: str
    key: str  # the column of rewards.jsonl
    title: str
    span: tuple[float, float] | None  # None: the data's own range
    marker: float | None = None  # a vertical line (the border of good and bad explanations)


def panels(projection: ExplanationProjection) -> list[Panel]:
    return [
        Panel("a", "S_cb", "CodeBLEU score $S_{cb}$", (0.0, 1.0)),
        Panel("b", "S_ut", "unit-test pass rate $S_{ut}$", (0.0, 1.0)),
        Panel("c", "S_ex", "explanation similarity $S_{ex}$", None, projection.border),
        Panel("d", "R_r", "code reward $\\mathcal{R}(r)$", (-5.0, 5.0)),
        Panel("e", "R_e", "explanation reward $\\mathcal{R}(e)$", (-5.0, 5.0), 0.0),
    ]


def plot_figure_three(rows: list[dict], projection: ExplanationProjection, out_dir: Path) -> list[Path]:
    """One PNG per panel: `a_S_cb.png`, `b_S_ut.png`, `c_S_ex.png`, `d_R_r.png`, `e_R_e.png`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for panel in panels(projection):
        figure = Figure(figsize=(4.5, 3.4), layout="constrained")
        _draw(figure.subplots(), panel, rows)
        path = out_dir / f"{panel.letter}_{panel.key}.png"
        FigureCanvasAgg(figure).print_png(str(path))
        paths.append(path)
    return paths


def _draw(axes, panel: Panel, rows: list[dict]) -> None:
    correct = [row[panel.key] for row in rows if row["passed"] and row[panel.key] is not None]
    wrong = [row[panel.key] for row in rows if not row["passed"] and row[panel.key] is not None]
    values = correct + wrong
    if values:
        lo, hi = panel.span or (min(values), max(values))
        if hi - lo < 1e-6:  # one value only: a narrow window around it
            lo, hi = lo - 0.05, hi + 0.05
        edges = np.linspace(lo, hi, BINS + 1)
        labels = [f"correct refinement ({len(correct)})", f"wrong refinement ({len(wrong)})"]
        axes.hist([correct, wrong], bins=edges, color=[CORRECT, WRONG], label=labels)
        axes.set_ylim(0, axes.get_ylim()[1] * 1.4)  # headroom for the legend
    else:
        axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
    if panel.marker is not None:
        axes.axvline(panel.marker, color="grey", linestyle="--", linewidth=1, label=f"border {panel.marker:.2f}")
    if values or panel.marker is not None:
        axes.legend(fontsize="small")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"({panel.letter}) {panel.title}, n={len(values)}")
    axes.set_xlabel("score")
    axes.set_ylabel("trajectories")


def plot_step_rewards(rewards, step: int) -> Figure:
    """One PPO step's reward distributions: R(r), R(e) and the learned reward model's score (panels),
    refine vs explain+refine answers (colours)."""
    figure = Figure(figsize=(10, 3.2), layout="constrained")
    for axes, (key, title) in zip(figure.subplots(1, 3), STEP_PANELS):
        groups = {
            kind: [r.scores[key] for r in rewards if r.group == kind and key in r.scores] for kind in KIND_COLOURS
        }
        values = [value for group in groups.values() for value in group]
        if values:
            lo, hi = (-5.0, 5.0) if key != "RM" else (min(values) - 0.05, max(values) + 0.05)
            axes.hist(
                list(groups.values()),
                bins=np.linspace(lo, hi, BINS + 1),
                color=list(KIND_COLOURS.values()),
                label=[f"{kind} ({len(group)})" for kind, group in groups.items()],
            )
            axes.legend(fontsize="small")
        else:
            axes.text(0.5, 0.5, "none this step", ha="center", va="center", transform=axes.transAxes)
        axes.set_title(f"{title}, step {step}, n={len(values)}")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return figure

"""Figure 4's plot: what a reader needs to compare its lines."""

import matplotlib.pyplot as plt

from ledex.evaluation import report


def scores(init: float, refined: float) -> dict:
    rounds = {f"round_{r}": {"pass_at_1": refined} for r in (1, 2)}
    benchmark = {"problems": 4, "samples": 8, "init": {"pass_at_1": init}, "refine": rounds, "explain_refine": rounds}
    return {"benchmarks": {"humaneval": benchmark}}


def test_overlapping_lines_stay_apart_on_a_fixed_percent_axis(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    report.plot_rounds({"sft": scores(0.25, 0.5), "ppo": scores(0.25, 0.5)}, [1], 2, tmp_path / "rounds.png")

    (figure,) = figures
    (axis,) = figure.axes
    assert axis.get_ylim() == (0, 100)
    sft, ppo = axis.get_lines()
    assert list(sft.get_ydata()) == list(ppo.get_ydata()) == [25, 50, 50]
    assert (sft.get_marker(), sft.get_linestyle()) != (ppo.get_marker(), ppo.get_linestyle())
    assert "n = 4 problems, 8 samples" in figure._suptitle.get_text()
    assert (tmp_path / "rounds.png").read_bytes().startswith(b"\x89PNG")

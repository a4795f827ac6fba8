"""Per-kind statistics of a PPO step and over a run, and the per-step reward plot."""

from __future__ import annotations

import pytest

from ledex.training.ppo_metrics import coverage, kind_stats
from ledex.training.ppo_trainer import ResponseReward
from ledex.training.reward_plots import plot_step_rewards

REWARDS = [
    ResponseReward(code=5.0, group="refine", scores={"S_cb": 1.0, "S_ut": 1.0, "passed": 1.0, "R_r": 5.0, "RM": 2.0}),
    ResponseReward(code=-5.0, group="refine", scores={"S_ut": 0.0, "passed": 0.0, "R_r": -5.0, "RM": -1.0}),
    ResponseReward(
        code=0.0,
        explanation=1.0,
        group="explain_refine",
        scores={"S_cb": 0.5, "S_ut": 0.5, "S_ex": 0.76, "passed": 0.0, "R_r": 0.0, "R_e": 1.0},
    ),
]


def test_statistics_by_kind_are_hand_computed_means():
    stats = kind_stats(REWARDS)
    assert stats["refine/responses"] == 2 and stats["explain_refine/responses"] == 1
    assert stats["refine/S_cb"] == 1.0  # only the answer that had a reference
    assert stats["refine/S_ut"] == 0.5 and stats["refine/R_r"] == 0.0 and stats["refine/RM"] == 0.5
    assert stats["refine/passed"] == 0.5 and stats["refine/with_S_cb"] == 0.5 and stats["refine/with_R_e"] == 0.0
    assert "refine/R_e" not in stats and "explain_refine/RM" not in stats
    assert stats["explain_refine/R_e"] == 1.0 and stats["explain_refine/with_R_e"] == 1.0
    assert stats["explain_refine/S_ex"] == pytest.approx(0.76)


def test_coverage_weights_each_step_by_its_answers():
    history = [kind_stats(REWARDS), kind_stats(REWARDS[:1])]
    assert coverage(history) == {
        "refine/with_S_cb": round(2 / 3, 4),  # 1 of 2, then 1 of 1
        "refine/with_R_e": 0.0,
        "explain_refine/with_S_cb": 1.0,
        "explain_refine/with_R_e": 1.0,
        "all/with_S_cb": 0.75,  # 3 of 4 answers
        "all/with_R_e": 0.25,
    }


def test_step_plot_has_one_panel_per_reward():
    figure = plot_step_rewards(REWARDS, step=3)
    assert [axes.get_title() for axes in figure.axes][2] == "reward model, step 3, n=2"  # two answers scored by the RM
    assert len(figure.axes) == 3

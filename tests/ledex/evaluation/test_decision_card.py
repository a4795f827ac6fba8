"""The decision card's sections and the headline metrics it gives the cycle's run."""

from ledex.evaluation import decision_card
from ledex.evaluation.bootstrap import Interval
from ledex.evaluation.decision_card import Decision, Outcome, headline_metrics, render_card


def estimate(value, low, high, problems=40, samples=80) -> Interval:
    return Interval(value, low, high, problems, samples)


CANDIDATE = {
    "pass_at_1.humaneval.explain_refine": estimate(0.6, 0.5, 0.7),
    "refinement_rate.humaneval.explain_refine": estimate(0.4, 0.3, 0.5, samples=30),
    "hallucination_rate.humaneval.explain_refine": estimate(0.05, 0.0, 0.1, samples=60),
    "pass_at_1.lang.python.explain_refine": estimate(0.6, 0.5, 0.7, problems=20),
    "pass_at_1.lang.js.explain_refine": estimate(0.45, 0.3, 0.6, problems=20),
    "cross_language_gap.explain_refine": estimate(0.15, 0.0, 0.35),
}
DECISION = Decision(
    outcome=Outcome.PROMOTED,
    candidate="ppo (candidate)",
    scores={
        "ppo (candidate)": CANDIDATE,
        "champion v3": {"pass_at_1.humaneval.explain_refine": estimate(0.5, 0.4, 0.6)},
        "base prompting": {"pass_at_1.humaneval.explain_refine": estimate(0.3, 0.2, 0.4)},
    },
    deltas={
        "champion v3": {"pass_at_1.humaneval.explain_refine": estimate(0.1, 0.02, 0.18)},
        "base prompting": {"pass_at_1.humaneval.explain_refine": estimate(0.3, 0.2, 0.4)},
    },
    benchmarks=["humaneval"],
    languages=["js", "python"],
    promotion_benchmark="humaneval",
    promotion="Candidate **ppo** (ledex-debugger v4) → **champion**: CI rule: ...",
    links={"MLflow run": "`abc` in `sqlite:///mlflow.db`", "Prefect flow run": "`f-1`"},
)


def test_the_card_answers_first_then_compares_per_benchmark_and_language():
    card = render_card(DECISION)
    assert card.startswith("# Is this week's model better?\n**Yes.** Candidate **ppo** (ledex-debugger v4)")
    assert "- pass@1 Expl. + Refine on humaneval, ppo (candidate) vs champion v3: +10.0 [+2.0, +18.0] points" in card
    assert (
        "| humaneval | pass@1 Expl. + Refine | 60.0 [50.0, 70.0] | 50.0 [40.0, 60.0] | 30.0 [20.0, 40.0] "
        "| +10.0 [+2.0, +18.0] | +30.0 [+20.0, +40.0] | 40, 80 |" in card
    )
    assert (
        "| humaneval | success refinement rate (Expl. + Refine) | 40.0 [30.0, 50.0] | – | – | – | – | 40, 30 |" in card
    )
    assert "| js | 45.0 [30.0, 60.0] | – | – | – | – | 20, 80 |" in card
    assert "| gap (max - min) | 15.0 [0.0, 35.0] |" in card
    assert card.endswith("- MLflow run: `abc` in `sqlite:///mlflow.db`\n- Prefect flow run: `f-1`\n")


def test_a_section_is_a_function_of_the_decision(monkeypatch):
    monkeypatch.setattr(
        decision_card, "SECTIONS", (*decision_card.SECTIONS, lambda d: f"## Live tasks of {d.candidate}\n")
    )
    assert render_card(DECISION).endswith("## Live tasks of ppo (candidate)\n")


def test_the_headline_is_the_promotion_benchmark_seen_from_the_candidate():
    headline = headline_metrics(DECISION)
    assert headline["candidate.pass_at_1"] == 0.6 and headline["base.pass_at_1"] == 0.3
    assert (headline["delta_vs_champion.pass_at_1_ci_low"], headline["delta_vs_base.pass_at_1"]) == (0.02, 0.3)
    assert headline["candidate.cross_language_gap"] == 0.15 and headline["candidate.hallucination_rate"] == 0.05
    nothing = dict(scores={}, deltas={}, benchmarks=[], languages=[], promotion_benchmark="humaneval", links={})
    assert headline_metrics(Decision(outcome=Outcome.NO_CANDIDATE, candidate="", promotion="", **nothing)) == {}

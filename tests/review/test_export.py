"""review-export: batches and watermarks, agreement and outliers, preference pairs and
demonstrations, and reward-fit's learned reward model trained on what it wrote."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ledex.execution.severity import SeverityWeights
from ledex.pipeline.config import Params, ReviewParams, RewardFitParams
from ledex.pipeline.jsonl import read_jsonl
from ledex.pipeline.paths import DEMONSTRATIONS, PREFERENCES, REVIEWED_SEVERITY
from review.agreement import alpha
from review.datasets import Consensus
from review.db import Item, Judgment, Reviewer
from review.export import export_feedback
from review.items import answer_text
from stages.reward_fit import fit_reward_model, read_expert_preferences

from .conftest import CORRECTED, NAIVE, SEVERITY

GOOD = dict(correctness=5, clarity=4, usefulness=5, vote=1, hallucination="", severity="runtime")
BAD = dict(correctness=1, clarity=2, usefulness=1, vote=-1, hallucination="nonexistent_api", severity="runtime")


def judge(url: str, reviewer: str, item_id: str, **fields) -> None:
    fields = {"corrected_explanation": "", "corrected_code": "", **fields}
    with Session(create_engine(url)) as session, session.begin():
        reviewer_id = session.scalar(select(Reviewer.id).where(Reviewer.name == reviewer))
        session.add(Judgment(item_id=item_id, reviewer_id=reviewer_id, **fields))


def first_week(url: str) -> None:
    """ada and bo agree: er0 is good, er1 a hallucination (ada corrects it); cy says the opposite."""
    for name in ("ada", "bo"):
        judge(url, name, "P/0#s0#er0", **GOOD)
    judge(url, "ada", "P/0#s0#er1", **BAD, corrected_code=CORRECTED)
    judge(url, "bo", "P/0#s0#er1", **BAD)
    judge(url, "cy", "P/0#s0#er0", **{**BAD, "severity": "syntax"})
    judge(url, "cy", "P/0#s0#er1", **{**GOOD, "severity": "syntax"})


def params(url: str) -> Params:
    return Params(review=ReviewParams(database=url))


def test_a_cycle_exports_pairs_and_demonstrations_without_the_outlier(review_db):
    first_week(review_db)
    metrics = export_feedback(params(review_db))

    batch = metrics["batches"]["1"]
    assert (metrics["batch"], metrics["new_batch"], batch["judgments"], batch["reviewers"]) == (1, True, 6, 3)
    assert batch["outliers"] == ["cy"] and metrics["outlier_judgments_left_out"] == 2
    assert batch["alpha"]["grades"] < 0.5 and batch["alpha"]["hallucination"] is not None
    assert metrics["hallucinations"] == {"nonexistent_api": 2}
    with Session(create_engine(review_db)) as session:
        er0, er1 = session.get(Item, "P/0#s0#er0").answer, session.get(Item, "P/0#s0#er1").answer
    corrected = answer_text("explain_refine", "Lists have a has_close method that does this.", CORRECTED, "python")
    preferences = list(read_jsonl(PREFERENCES))
    assert [(p["source"], p["chosen"], p["rejected"], p["severity"], p["batch"]) for p in preferences] == [
        ("correction", corrected, er1, "runtime", 1),  # the outlier's "syntax" does not count
        ("judgments", er0, er1, "runtime", 1),
    ]
    assert (
        preferences[0]["prompt"].startswith("Complete the following Python code")
        and "has_close" in preferences[0]["prompt"]
    )
    [demonstration] = read_jsonl(DEMONSTRATIONS)
    assert (demonstration["format"], demonstration["answer"]) == ("explain_refine", corrected)
    assert demonstration["prompt"][-1]["role"] == "user" and NAIVE not in demonstration["answer"]
    assert read_expert_preferences(RewardFitParams(), SEVERITY)[0].severity == "runtime"  # reward-fit reads it
    # the reviewers' tier of the wrong solution, which reward-fit and ppo take over the pipeline's
    assert list(read_jsonl(REVIEWED_SEVERITY)) == [{"sample_id": "P/0#s0", "severity": "runtime"}]
    assert metrics["reviewed_tiers"] == {"runtime": 1}
    assert SeverityWeights.from_params(RewardFitParams(), REVIEWED_SEVERITY).reviewed == {"P/0#s0": "runtime"}


def test_the_next_cycle_batches_only_what_is_new(review_db):
    first_week(review_db)
    export_feedback(params(review_db))
    first = PREFERENCES.read_text()

    again = export_feedback(params(review_db))
    assert (again["batch"], again["new_batch"]) == (1, False)
    assert PREFERENCES.read_text() == first

    judge(review_db, "bo", "P/0#s0#r0", **GOOD)
    judge(review_db, "ada", "P/0#s0#r0", **GOOD)
    week_two = export_feedback(params(review_db))
    assert (week_two["batch"], week_two["new_batch"], week_two["batches"]["2"]["judgments"]) == (2, True, 2)
    assert week_two["batches"]["2"]["items"] == 1 and week_two["batches"]["2"]["outliers"] == []
    assert week_two["batches"]["1"] == again["batches"]["1"]  # an earlier batch's report stays as it was


def test_no_database_writes_empty_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    metrics = export_feedback(params(f"sqlite:///{tmp_path / 'absent.db'}"))
    assert metrics["batch"] is None and metrics["preferences"] == 0
    assert PREFERENCES.read_text() == "" and DEMONSTRATIONS.read_text() == "" and REVIEWED_SEVERITY.read_text() == ""
    assert not (tmp_path / "absent.db").exists()
    assert (
        fit_reward_model(read_expert_preferences(RewardFitParams(), SEVERITY), RewardFitParams(), SEVERITY)["status"]
        == "skipped"
    )


def test_reward_fit_trains_on_the_export(review_db, tiny_reward_base, tmp_path):
    first_week(review_db)
    export_feedback(params(review_db))
    settings = RewardFitParams(
        reward_model=str(tiny_reward_base),
        reward_model_batch_size=1,
        reward_model_max_length=256,
        held_out_fraction=0.5,
    )

    result = fit_reward_model(read_expert_preferences(settings, SEVERITY), settings, SEVERITY)

    assert result["status"] == "trained" and (result["pairs"], result["train_pairs"], result["held_out_pairs"]) == (
        2,
        1,
        1,
    )
    assert result["severity_margins"] is True
    assert json.loads((tmp_path / "models/reward_model/status.json").read_text()) == result


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        ({"a": {1: 1, 2: 2, 3: 3}, "b": {1: 1, 2: 2, 3: 3}}, 1.0),
        ({"a": {1: 1, 2: 5}, "b": {1: 5, 2: 1}}, pytest.approx(-0.5, abs=0.5)),
        ({"a": {1: 3}, "b": {2: 3}}, None),  # no unit rated twice
        ({"a": {1: 3, 2: 3}, "b": {1: 3, 2: 3}}, None),  # no variation at all
    ],
)
def test_krippendorff_alpha(ratings, expected):
    assert alpha(ratings, "ordinal", (1, 2, 3, 4, 5)) == expected


def test_good_and_bad_answers_by_consensus():
    settings = ReviewParams()

    def consensus(*judgments):
        return Consensus.of([Judgment(**{**GOOD, **j}) for j in judgments])

    up_voted_middling = consensus({"correctness": 3, "clarity": 3, "usefulness": 3})
    assert up_voted_middling.good(settings) and not up_voted_middling.bad(settings)
    one_flag_of_two = consensus({}, {"hallucination": "misread_error"})
    assert one_flag_of_two.good(settings)  # a hallucination needs a majority
    two_flags_of_three = consensus({}, {"hallucination": "misread_error"}, {"hallucination": "wrong_root_cause"})
    assert two_flags_of_three.bad(settings) and not two_flags_of_three.good(settings)
    down_voted = consensus({"vote": -1})
    assert down_voted.bad(settings)
    neither = consensus({"vote": 0, "correctness": 3, "clarity": 3, "usefulness": 3})
    assert not neither.good(settings) and not neither.bad(settings)

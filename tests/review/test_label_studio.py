"""Label Studio JSON: an export imports into a fresh database as the same items and judgments."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from review.db import GRADES, Item, Judgment, Reviewer, open_engine
from review.label_studio import LabelStudioError, export_tasks, import_tasks, labeling_config

from .conftest import CORRECTED
from .test_export import BAD, GOOD, judge

TIERS = ["syntax", "runtime", "resource", "wrong_answer"]


def summary(session: Session) -> list[tuple]:
    judgments = session.scalars(select(Judgment).order_by(Judgment.item_id, Judgment.reviewer_id))
    return [
        (
            j.item.id,
            j.reviewer.name,
            *(getattr(j, g) for g in GRADES),
            j.vote,
            j.hallucination,
            j.severity,
            j.corrected_code,
        )
        for j in judgments
    ]


def test_an_export_imports_as_the_same_judgments(review_db, tmp_path):
    judge(review_db, "ada", "P/0#s0#er0", **GOOD)
    judge(review_db, "ada", "P/0#s0#er1", **BAD, corrected_code=CORRECTED)
    judge(review_db, "bo", "P/0#s0#er1", **BAD)
    with Session(create_engine(review_db)) as session:
        tasks = export_tasks(session)
        expected = summary(session)
    assert len(tasks) == 4 and tasks[1]["annotations"][0]["completed_by"] == {"email": "ada"}

    copy = open_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    with Session(copy) as session, session.begin():
        assert import_tasks(session, tasks, TIERS) == {"items": 4, "judgments": 3, "unchanged": 0}
    with Session(copy) as session, session.begin():
        assert summary(session) == expected
        assert session.get(Item, "P/0#s0#er1").messages == tasks[1]["data"]["messages"]
        assert session.scalar(select(Reviewer).where(Reviewer.name == "bo")).password_hash is None  # cannot sign in
        assert import_tasks(session, tasks, TIERS) == {"items": 0, "judgments": 0, "unchanged": 3}


def test_label_studio_user_ids_and_defaults(review_db):
    task = {
        "data": {"ledex_id": "P/0#s0#r0"},
        "annotations": [
            {"completed_by": 7, "result": [{"from_name": g, "type": "rating", "value": {"rating": 3}} for g in GRADES]},
            {"completed_by": 8, "was_cancelled": True, "result": []},
        ],
    }
    with Session(create_engine(review_db)) as session, session.begin():
        assert import_tasks(session, [task], TIERS)["judgments"] == 1
        judgment = session.scalar(select(Judgment))
        assert (judgment.reviewer.name, judgment.vote, judgment.severity) == ("label-studio-user-7", 0, "wrong_answer")


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ({"data": {}}, "task 1: no data.ledex_id"),
        ({"data": {"ledex_id": "new", "task": "t"}}, "task 1: new item new lacks data field"),
        (
            {"data": {"ledex_id": "P/0#s0#r0"}, "annotations": [{"completed_by": 1, "result": []}]},
            "task 1, annotation 1: no 1-5 rating for correctness, clarity, usefulness",
        ),
    ],
)
def test_a_malformed_task_is_named(review_db, task, message):
    with Session(create_engine(review_db)) as session, pytest.raises(LabelStudioError, match=message):
        import_tasks(session, [task], TIERS)


def test_the_labeling_config_names_every_control():
    view = ElementTree.fromstring(labeling_config(TIERS))
    names = {element.get("name") for element in view if element.get("name")}
    assert {*GRADES, "vote", "hallucination", "severity", "corrected_explanation", "corrected_code"} <= names
    severity = next(element for element in view if element.get("name") == "severity")
    assert [choice.get("value") for choice in severity] == TIERS

"""Corrected code is run against the item's tests; only a passing correction becomes training data."""

from __future__ import annotations

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ledex.pipeline.config import Params, ReviewParams
from ledex.pipeline.jsonl import read_jsonl
from ledex.pipeline.paths import DEMONSTRATIONS, PREFERENCES, TRAJECTORIES
from review.corrections import NO_TESTS, check_corrections
from review.db import Item, Judgment
from review.export import export_feedback
from review.items import load_pipeline_items
from sandbox import SandboxConfig

from .conftest import CORRECTED, SEVERITY, WRONG
from .test_export import BAD, judge

SANDBOX = SandboxConfig(workers=1)


def verdicts(url: str) -> list[tuple[str | None, str]]:
    with Session(create_engine(url)) as session:
        return [(j.correction_status, j.correction_message) for j in session.scalars(select(Judgment))]


def test_a_failing_correction_is_kept_with_its_verdict_and_never_trained_on(review_db):
    judge(review_db, "ada", "P/0#s0#er1", **BAD, corrected_code=WRONG)  # fails its first test
    judge(review_db, "bo", "P/0#s0#er1", **BAD, corrected_code=CORRECTED)
    judge(review_db, "cy", "P/0#s1#er0", **BAD, corrected_explanation="Off by one.")  # the model's failing code

    metrics = export_feedback(Params(review=ReviewParams(database=review_db)))

    [(failed, message), passed, (unrun, _)] = verdicts(review_db)
    assert failed == "failed" and "assert has_close([1.0, 2.0], 0.5) == False" in message and "actual: True" in message
    assert passed == ("passed", "") and unrun is None  # no corrected code: nothing to run
    assert metrics["corrected_code"] == {"failed": 1, "passed": 1}
    [demonstration] = read_jsonl(DEMONSTRATIONS)
    assert CORRECTED.strip() in demonstration["answer"] and WRONG.strip() not in demonstration["answer"]
    corrections = [p for p in read_jsonl(PREFERENCES) if p["source"] == "correction"]
    assert [CORRECTED.strip() in p["chosen"] for p in corrections] == [True]


def test_an_item_without_its_tests_waits_for_them(review_db):
    with Session(create_engine(review_db)) as session, session.begin():
        session.get(Item, "P/0#s0#er1").problem = None  # loaded before items kept their problem
    judge(review_db, "ada", "P/0#s0#er1", **BAD, corrected_code=CORRECTED)
    with Session(create_engine(review_db)) as session, session.begin():
        assert check_corrections(session, SANDBOX, timeout_s=10) == 0
    assert verdicts(review_db)[0][0] == NO_TESTS

    with Session(create_engine(review_db)) as session, session.begin():
        assert load_pipeline_items(session, SEVERITY, source=TRAJECTORIES) == 0  # adds no item, but the missing problem
        assert check_corrections(session, SANDBOX, timeout_s=10) == 1
        assert check_corrections(session, SANDBOX, timeout_s=10) == 0  # a verdict is not run again
    assert verdicts(review_db) == [("passed", "")]

"""Reviewers' corrected code, run against the item's tests before it can become training data.

The app runs a judgment's corrected code right after saving it (a background task: the reviewer
does not wait), and `review-export` runs whatever has not been verified yet before it writes any
data. The verdict stays on the judgment (`correction_status`, `correction_message`) and is shown
on the item page; only a correction that passes its tests becomes a demonstration or the chosen
answer of a correction pair (`review.datasets`).

    with Session(engine) as session, session.begin():
        check_corrections(session, params.sandbox, params.verify.timeout_s)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from ledex.execution.feedback import feedback_text
from ledex.execution.jobs import model_job
from ledex.problems import Problem
from review.db import Item, Judgment
from sandbox import Job, Sandbox, SandboxConfig, Status

# The item was loaded without its problem's tests (before they were stored): `ledex review load`
# adds them, and the next check runs the correction.
NO_TESTS = "no_tests"
NO_TESTS_MESSAGE = "The item has no tests on record: run `ledex review load` to add its problem's tests."


def correction_job(item: Item, code: str, timeout_s: float) -> Job | None:
    """The job that tests `code` as an answer to the item's problem; None when it has no tests."""
    problem = Problem.from_dict(item.problem) if item.problem else None
    if problem is None or not problem.has_tests:
        return None
    return model_job(problem, code, timeout_s=timeout_s)


def unverified(judgments: Collection[int] | None = None):
    """Judgments with corrected code that has no verdict yet, or none for want of tests."""
    query = select(Judgment).where(
        Judgment.corrected_code != "",
        or_(Judgment.correction_status.is_(None), Judgment.correction_status == NO_TESTS),
    )
    return query if judgments is None else query.where(Judgment.id.in_(judgments))


def check_corrections(
    session: Session, config: SandboxConfig, timeout_s: float, judgments: Collection[int] | None = None
) -> int:
    """Run the unverified corrections (those among the ids `judgments`, when given) and record
    their verdicts; how many ran in the sandbox."""
    pending = list(session.scalars(unverified(judgments).options(selectinload(Judgment.item))))
    jobs = {j.id: correction_job(j.item, j.corrected_code, timeout_s) for j in pending}
    runnable = [j for j in pending if jobs[j.id] is not None]
    for judgment in pending:
        if jobs[judgment.id] is None:
            judgment.correction_status, judgment.correction_message = NO_TESTS, NO_TESTS_MESSAGE
    if runnable:
        workers = min(len(runnable), config.workers or os.cpu_count() or 1)
        with Sandbox(dataclasses.replace(config, workers=workers)) as sandbox:
            verdicts = sandbox.run_many([jobs[j.id] for j in runnable])
        for judgment, verdict in zip(runnable, verdicts, strict=True):
            judgment.correction_status = verdict.status.value
            judgment.correction_message = "" if verdict.passed else feedback_text(verdict)
    session.flush()
    return len(runnable)


def correction_passed(judgment: Judgment) -> bool:
    return judgment.correction_status == Status.PASSED.value

"""Review items from the pipeline's outputs: every parsed refinement of a wrong solution, with the
problem, the wrong code, the execution feedback and the refinement's own sandbox verdict.

The week's items are the pinned policy's answers to the week's tasks (`answer-tasks`:
`data/answer_tasks/answers.jsonl`, its tasks and buggy code beside it); another file of
refinements (e.g. the teacher's, `data/verify/trajectories.jsonl`) takes its problems and wrong
solutions from `sample` and `execute-filter`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledex.execution.severity import SeverityWeights
from ledex.generation.prompts import explain_refine_answer, fenced, refine_messages, task_text
from ledex.pipeline.paths import ANSWER_EXECUTIONS, ANSWER_PROBLEMS, ANSWERS, EXECUTIONS, PROBLEMS
from ledex.pipeline.records import Execution, Kind, VerifiedRefinement
from ledex.pipeline.stage_io import read_problems, read_records
from review.db import Item


def answer_text(kind: Kind, explanation: str, code: str, language: str) -> str:
    """An answer as SFT trains on it: the explanation first for explain+refine, then the code."""
    if Kind(kind).explains and explanation.strip():
        return explain_refine_answer(explanation, code, language)
    return fenced(code, language)


def load_pipeline_items(
    session: Session, severity: SeverityWeights, root: Path = Path("."), source: Path | None = None
) -> int:
    """Add the refinements of `source` (default: the week's answers, `data/answer_tasks/answers.jsonl`)
    not yet in the database; their count.

    `source` holds `records.VerifiedRefinement` rows; their problems and wrong solutions are looked
    up beside the week's answers (`data/answer_tasks/{problems,executions}.jsonl`) for the default,
    else in `data/sample/problems.jsonl` and `data/execute_filter/executions.jsonl`, under `root`. A
    refinement without parsed code has no answer to judge and is left out; items already loaded
    keep their judgments and are not changed, but get their problem (the tests that check
    corrections) when they were loaded without it.
    """
    problems_file, executions_file = (ANSWER_PROBLEMS, ANSWER_EXECUTIONS) if source is None else (PROBLEMS, EXECUTIONS)
    source = root / ANSWERS if source is None else source
    problems = read_problems(root / problems_file)
    executions = {e.sample_id: e for e in read_records(root / executions_file, Execution)}
    for item in session.scalars(select(Item).where(Item.problem.is_(None))):
        if item.problem_id in problems:
            item.problem = problems[item.problem_id].to_dict()
    known = set(session.scalars(select(Item.id)))
    added = 0
    for row, refinement in enumerate(read_records(source, VerifiedRefinement), start=1):
        if refinement.code is None or refinement.id in known:
            continue
        where = f"{source}: row {row}: {refinement.id}"
        if refinement.problem_id not in problems:
            raise ValueError(f"{where}: problem {refinement.problem_id} is not in {root / problems_file}")
        if refinement.sample_id not in executions:
            raise ValueError(f"{where}: wrong solution {refinement.sample_id} is not in {root / executions_file}")
        problem, wrong = problems[refinement.problem_id], executions[refinement.sample_id]
        session.add(
            Item(
                id=refinement.id,
                problem_id=refinement.problem_id,
                sample_id=refinement.sample_id,
                kind=refinement.kind,
                language=problem.language,
                task=task_text(problem),
                wrong_code=wrong.code,
                feedback=wrong.feedback,
                severity=severity.tier_of(wrong),  # the pipeline's tier, preselected for reviewers
                explanation=refinement.explanation,
                code=refinement.code,
                answer=answer_text(refinement.kind, refinement.explanation, refinement.code, problem.language),
                passed=refinement.passed,
                status=refinement.status,
                pass_rate=refinement.pass_rate,
                messages=refine_messages(problem, wrong.code, wrong.feedback, explain=refinement.kind.explains),
                problem=problem.to_dict(),
            )
        )
        known.add(refinement.id)
        added += 1
    session.flush()
    return added

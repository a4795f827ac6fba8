"""The week's tasks and the task KPIs: which tasks are fresh for a policy, what an answer row holds,
and resolution, hallucination rate and the language gap by hand."""

from datetime import UTC, datetime

from ledex.evaluation.self_debug import INIT, Attempt
from ledex.evaluation.task_answers import answer_row, final_answers, fresh_tasks, task_kpis
from ledex.problems.tasks import parse_task
from tests.ledex.problems.test_tasks import JAVA_TASK, PYTHON_TASK


def attempt(problem_id: str, kind: str, round_number: int, passed: bool, *, sample=0, language="python", hallu=""):
    return Attempt(
        model="models:/ledex-debugger/1",
        benchmark="tasks",
        problem_id=problem_id,
        language=language,
        sample=sample,
        kind=kind,
        round=round_number,
        explanation="" if kind == INIT else "it swaps the arguments",
        code="code",
        passed=passed,
        status="passed" if passed else "runtime_error",
        pass_rate=1.0 if passed else 0.0,
        feedback="" if passed else "RecursionError",
        hallucination=hallu,
    )


def test_a_task_is_fresh_for_a_version_when_added_after_its_cycle_read_the_inbox():
    old = parse_task({**PYTHON_TASK, "added_at": "2026-11-16T09:00:00.000+00:00"}, "inbox:1")
    new = parse_task({**JAVA_TASK, "added_at": "2026-11-24T09:00:00.000+00:00"}, "inbox:2")
    unstamped = parse_task({**PYTHON_TASK, "id": "legacy"}, "inbox:3")
    trained = datetime(2026, 11, 23, 3, tzinfo=UTC)
    assert [t.id for t in fresh_tasks([old, new, unstamped], trained)] == ["java-gcd"]
    assert [t.id for t in fresh_tasks([old, new, unstamped], None)] == ["gcd", "java-gcd", "legacy"]  # the base


def test_an_answer_is_its_chains_last_attempt_in_the_review_row_shape():
    attempts = [
        attempt("gcd", INIT, 0, False),
        attempt("gcd", "explain_refine", 1, False),
        attempt("gcd", "explain_refine", 2, True),
    ]
    [final] = final_answers(attempts)
    row = answer_row(final)
    assert row["id"] == "gcd#bug#er0@v1" and row["sample_id"] == "gcd#bug" and row["round"] == 2
    assert (row["kind"], row["passed"], row["status"], row["explanation"]) == (
        "explain_refine",
        True,
        "passed",
        "it swaps the arguments",
    )


def test_kpis_by_hand():
    attempts = [
        # gcd (python): two answers, one fixed
        attempt("gcd", "explain_refine", 1, True),
        attempt("gcd", "explain_refine", 1, False, sample=1, hallu="attribute"),
        # sort (python): fixed
        attempt("sort", "explain_refine", 1, True),
        # java-gcd: not fixed, one hallucinating refinement of one
        attempt("java-gcd", "explain_refine", 1, False, language="java", hallu="name"),
    ]
    kpis = task_kpis(attempts, resamples=200, seed=0)
    resolution = kpis["tasks.resolution"]
    assert (resolution.value, resolution.problems, resolution.samples) == (0.5, 3, 4)  # (0.5 + 1 + 0) / 3 tasks
    assert kpis["tasks.hallucination_rate"].value == 0.5  # 2 of 4 refinements
    assert kpis["tasks.resolution.lang.python"].value == 0.75 and kpis["tasks.resolution.lang.java"].value == 0.0
    assert kpis["tasks.language_gap"].value == 0.75
    assert task_kpis([attempt("gcd", INIT, 0, True)], resamples=200, seed=0) == {}  # no bug reproduced: no answer

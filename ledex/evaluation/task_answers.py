"""The week's tasks and the policy's answers to them: what reviewers judge and what the task KPIs measure.

**The week's tasks** are the inbox tasks the cycle's policy has not been trained on. `ledex tasks
add` stamps each task with `added_at`; a registered version was trained by the cycle that made it,
whose `sample` stage read the inbox when that cycle started (its `ledex.cycle_run_id` run's start;
the version's creation when it has none). A task added after that moment is fresh for it. For the
base preset (no champion yet) every task is fresh. A task without a stamp (added before inboxes
had them, or a task file named directly in `data.tasks`) counts as trained on by any version.

**An answer** is one refinement chain of `self_debug.debug_given_code` started from the task's
buggy code: the answer shown to a reviewer is the chain's last attempt (the one that passed, or
the last round's). **KPIs**, each with its n and a 95% CI bootstrapped over tasks:
`tasks.resolution` (mean over tasks of the share of their answers that fix the bug),
`tasks.hallucination_rate` (refinements failing on a non-existent name, attribute or module, as
`ledex.execution.hallucination` classifies them, over all refinements), `tasks.resolution.lang.<language>`
and `tasks.language_gap` (max - min over languages). A task whose buggy code passes (a bug that
stopped reproducing) has no answer and is not counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from ledex.evaluation.bootstrap import Interval, PerProblem, interval, spread
from ledex.evaluation.self_debug import INIT, Attempt
from ledex.execution.feedback import SEVERITY_BY_STATUS
from ledex.generation.registered_models import RegisteredModelReference, is_registered_model
from ledex.pipeline.records import Execution, Kind, VerifiedRefinement
from ledex.problems.tasks import DebuggingTask
from sandbox import Status

RESOLUTION = "tasks.resolution"
HALLUCINATION_RATE = "tasks.hallucination_rate"
LANGUAGE_GAP = "tasks.language_gap"


def resolution_by_language(language: str) -> str:
    return f"{RESOLUTION}.lang.{language}"


def trained_until(model: str, registry_uri: str) -> datetime | None:
    """When the inbox was read for training `model`: None for a model that is no registered version
    (the base preset: it saw no task)."""
    if not is_registered_model(model):
        return None
    from mlflow import MlflowClient

    from ledex.pipeline.lineage import CYCLE_RUN_TAG

    ref = RegisteredModelReference.parse(model)
    client = MlflowClient(registry_uri, registry_uri)
    version = client.get_model_version(ref.name, ref.version)
    cycle_run = version.tags.get(CYCLE_RUN_TAG)
    started_ms = client.get_run(cycle_run).info.start_time if cycle_run else version.creation_timestamp
    return datetime.fromtimestamp(started_ms / 1000, UTC)


def fresh_tasks(tasks: Sequence[DebuggingTask], trained: datetime | None) -> list[DebuggingTask]:
    """The tasks added after `trained` (all of them when None)."""
    if trained is None:
        return list(tasks)
    return [task for task in tasks if task.added_at and datetime.fromisoformat(task.added_at) > trained]


def answer_id(attempt: Attempt) -> str:
    """`<task id>#bug#er<sample>@<v<version> | base>`: one chain's answer, named like the teacher's
    refinements of the same buggy code and marked with whose answer it is."""
    who = f"v{RegisteredModelReference.parse(attempt.model).version}" if is_registered_model(attempt.model) else "base"
    return f"{attempt.problem_id}#bug#{Kind(attempt.kind).tag}{attempt.sample}@{who}"


def final_answers(attempts: Sequence[Attempt]) -> list[Attempt]:
    """Each chain's last attempt, in the order the chains started."""
    last: dict[tuple[str, int, str], Attempt] = {}
    for attempt in attempts:
        if attempt.kind != INIT:
            last[(attempt.problem_id, attempt.sample, attempt.kind)] = attempt
    return list(last.values())


def answer_row(attempt: Attempt) -> dict:
    """A `records.VerifiedRefinement` row (what `ledex review load` reads) with the verdict's details."""
    refinement = VerifiedRefinement(
        id=answer_id(attempt),
        sample_id=f"{attempt.problem_id}#bug",
        problem_id=attempt.problem_id,
        kind=attempt.kind,
        explanation=attempt.explanation,
        code=attempt.code,
        passed=attempt.passed,
        status=attempt.status,
        pass_rate=attempt.pass_rate,
    )
    details = {key: getattr(attempt, key) for key in ("model", "language", "round", "feedback", "hallucination")}
    return refinement.to_dict() | details


def bug_executions(tasks: Sequence[DebuggingTask], attempts: Sequence[Attempt]) -> list[Execution]:
    """Each task's buggy code with its verdict, as `execute-filter` records a wrong sample (its tier
    by status alone: the verdict's message, which can make it `security`, is not kept)."""
    runs = {a.problem_id: a for a in attempts if a.kind == INIT and a.sample == 0}
    return [
        Execution(
            sample_id=task.sample_id,
            problem_id=task.id,
            code=task.buggy_code,
            passed=(run := runs[task.id]).passed,
            status=run.status,
            pass_rate=run.pass_rate,
            feedback=run.feedback,
            severity="" if run.passed else SEVERITY_BY_STATUS[Status(run.status)],
        )
        for task in tasks
    ]


def task_kpis(attempts: Sequence[Attempt], *, resamples: int, seed: int) -> dict[str, Interval]:
    """The week's task KPIs (module docstring) with their 95% CIs; {} when no task has an answer."""
    answers = final_answers(attempts)
    if not answers:
        return {}
    fixed: dict[str, list[bool]] = defaultdict(list)
    language = {}
    for answer in answers:
        fixed[answer.problem_id].append(answer.passed)
        language[answer.problem_id] = answer.language
    refinements: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        if attempt.kind != INIT:
            refinements[attempt.problem_id].append(attempt)
    resolution = {task: (sum(outcomes) / len(outcomes), 1.0) for task, outcomes in fixed.items()}
    hallucination = {task: (sum(bool(a.hallucination) for a in own), len(own)) for task, own in refinements.items()}
    by_language = {
        lang: PerProblem(
            {task: part for task, part in resolution.items() if language[task] == lang},
            sum(len(outcomes) for task, outcomes in fixed.items() if language[task] == lang),
        )
        for lang in sorted(set(language.values()))
    }
    bootstrap = {"resamples": resamples, "seed": seed}
    kpis = {
        RESOLUTION: interval(PerProblem(resolution, len(answers)), **bootstrap),
        HALLUCINATION_RATE: interval(PerProblem(hallucination, sum(map(len, refinements.values()))), **bootstrap),
        **{resolution_by_language(lang): interval(parts, **bootstrap) for lang, parts in by_language.items()},
    }
    if len(by_language) > 1:
        kpis[LANGUAGE_GAP] = spread(by_language, **bootstrap)
    return kpis

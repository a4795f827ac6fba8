"""Which problems a run trains on and which it evaluates on, declared in params.yaml `data`.

Training never sees an evaluation-only benchmark (MultiPL-E's licence) nor any problem that
an evaluation set holds. The task inbox's debugging tasks are training problems too, never
evaluation ones.
"""

from __future__ import annotations

import logging

from ledex.pipeline.config import DataParams, ProblemSetSpec
from ledex.problems import Problem, load_benchmark, load_training_problems, missing_files
from ledex.problems.tasks import DebuggingTask, load_tasks

logger = logging.getLogger(__name__)


def load_problem_set(spec: ProblemSetSpec, data: DataParams, training: bool = False) -> list[Problem]:
    if spec.if_present and (absent := missing_files(spec.benchmark, data.dir, data.source, spec.split)):
        logger.warning("%s: skipped, as if_present allows: no %s", spec.name, ", ".join(map(str, absent)))
        return []
    load = load_training_problems if training else load_benchmark
    problems = load(spec.benchmark, data_dir=data.dir, source=data.source, split=spec.split)
    return problems[spec.slice()]


def training_problems(data: DataParams) -> list[Problem]:
    """The training problems, refused if any is evaluation-only or held out for evaluation."""
    problems = [p for spec in data.train for p in load_problem_set(spec, data, training=True)]
    held_out = {p.id for spec in data.evaluate for p in load_problem_set(spec, data)}
    overlap = [p.id for p in problems if p.id in held_out]
    if overlap:
        raise ValueError(f"data.train and data.evaluate overlap in {len(overlap)} problems (first: {overlap[0]})")
    return problems


def training_tasks(data: DataParams) -> list[DebuggingTask]:
    """The inbox's tasks (none when `data.tasks` is absent), refused if one's id is a benchmark problem's."""
    tasks = load_tasks(data.tasks)
    if not tasks:
        return []
    benchmark_ids = {p.id for spec in (*data.train, *data.evaluate) for p in load_problem_set(spec, data)}
    clashes = [task.id for task in tasks if task.id in benchmark_ids]
    if clashes:
        raise ValueError(f"{data.tasks}: {len(clashes)} task ids are benchmark problem ids (first: {clashes[0]})")
    return tasks


def evaluation_sets(data: DataParams) -> dict[str, list[Problem]]:
    """Evaluation problems by set name (`benchmark` or `benchmark/split`)."""
    return {spec.name: load_problem_set(spec, data) for spec in data.evaluate}

"""Debugging tasks from real work: a problem with its tests, the buggy code, and what is known of the bug.

A task file holds one JSON object a line (the format: docs/tasks.md). Tests take the form the
benchmarks give them, so the sandbox runs them the same way: Python's `test` is HumanEval's
`check(candidate)` module, split into one case per assert; Java's, C++'s and JavaScript's is
MultiPL-E's kind of test program (a `main`, or JavaScript's top-level asserts) run after the
code. The code is a whole program (`Problem.completion_style` false), not a continuation.

    tasks = load_tasks(Path("data/tasks/inbox.jsonl"))      # [] when the file is absent
    for task in tasks:
        task.problem, task.buggy_code                         # a Problem and its wrong code
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ledex.pipeline.jsonl import JsonlError, tolerant_jsonl
from ledex.problems.humaneval import split_check
from ledex.problems.record import Problem

BENCHMARK = "tasks"  # the `Problem.benchmark` of every task: its rows in Table 1 are "tasks/train"
LANGUAGES = ("python", "java", "cpp", "js")
REQUIRED = ("id", "language", "prompt", "test", "buggy_code")
OPTIONAL = ("entry_point", "error", "fix", "source", "added_at")  # entry_point is required for Python
# added_at: when `ledex tasks add` put the task in the inbox (UTC, ISO 8601); it decides which
# tasks a registered policy has not been trained on (`ledex.evaluation.task_answers.fresh_tasks`)
_MAIN = re.compile(r"\bmain\s*\(")


class TaskError(ValueError):
    """A task row is malformed; the message names the file, line and field."""


@dataclass(frozen=True)
class DebuggingTask:
    """A problem whose `buggy_code` fails its tests; `fix` (also `problem.canonical_solution`) passes them.

    `error` is the error or stack trace seen where the bug was found (the sandbox's own feedback
    is what the teacher sees); `source` is the issue or commit the bug comes from. `test` is the
    row's test text as written (`problem` holds it split for the sandbox). `added_at` is when the
    inbox received it ("" outside the inbox, or for a task added before inboxes stamped it).
    """

    problem: Problem
    test: str
    buggy_code: str
    error: str = ""
    fix: str | None = None
    source: str = ""
    added_at: str = ""

    @property
    def id(self) -> str:
        return self.problem.id

    @property
    def sample_id(self) -> str:
        """Its buggy code's id as a sample: `<task id>#bug`."""
        return f"{self.id}#bug"

    def to_row(self) -> dict:
        """The task as a row of a task file; optional fields only when set."""
        row = {
            "id": self.problem.id,
            "language": self.problem.language,
            "prompt": self.problem.prompt,
            "entry_point": self.problem.entry_point,
            "test": self.test,
            "buggy_code": self.buggy_code,
            "error": self.error,
            "fix": self.fix,
            "source": self.source,
            "added_at": self.added_at,
        }
        return {key: value for key, value in row.items() if value or key in REQUIRED}


def parse_task(row: dict, location: str) -> DebuggingTask:
    """The task a row describes; a `TaskError` naming `location` (file:line) and the field otherwise."""
    unknown = sorted(set(row) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise TaskError(f"{location}: unknown field(s) {', '.join(unknown)}; known: {', '.join(REQUIRED + OPTIONAL)}")
    for field in REQUIRED:
        if field not in row:
            raise TaskError(f"{location}: field {field}: missing")
    for field in (*REQUIRED, *OPTIONAL):
        if field in row and not isinstance(row[field], str):
            raise TaskError(f"{location}: field {field}: expected a string, got {_json_type(row[field])}")
    for field in ("id", "prompt", "test", "buggy_code"):
        if not row[field].strip():
            raise TaskError(f"{location}: field {field}: empty")
    language = row["language"]
    if language not in LANGUAGES:
        raise TaskError(f"{location}: field language: unknown language {language!r}; expected one of {LANGUAGES}")
    entry_point = row.get("entry_point") or None
    return DebuggingTask(
        problem=_problem(row, language, entry_point, location),
        test=row["test"],
        buggy_code=row["buggy_code"],
        error=row.get("error", ""),
        fix=row.get("fix") or None,
        source=row.get("source", ""),
        added_at=row.get("added_at", ""),
    )


def _problem(row: dict, language: str, entry_point: str | None, location: str) -> Problem:
    test = row["test"]
    test_setup, test_cases, test_program = "", (), test
    if language == "python":
        if entry_point is None:
            raise TaskError(f"{location}: field entry_point: missing (Python tests call check(entry_point))")
        try:
            test_setup, test_cases = split_check(test, entry_point)
        except (SyntaxError, ValueError) as error:
            raise TaskError(f"{location}: field test: not a HumanEval check(candidate) module ({error})") from None
        test_program = f"{test}\n\ncheck({entry_point})\n"
    elif language in ("java", "cpp") and not _MAIN.search(test):
        raise TaskError(f"{location}: field test: a {language} test program needs a main()")
    return Problem(
        id=row["id"],
        benchmark=BENCHMARK,
        language=language,
        prompt=row["prompt"],
        entry_point=entry_point,
        test_program=test_program,
        test_cases=test_cases,
        test_setup=test_setup,
        canonical_solution=row.get("fix") or None,
        completion_style=False,
        split="train",
        source=location,
    )


def read_tasks(path: Path | str) -> Iterator[tuple[int, DebuggingTask | TaskError | JsonlError]]:
    """(line, task or the line's error) for every row of a task file; reading goes on past a bad row.

    A second row with an id already seen is an error naming the first row's line.
    """
    first_line: dict[str, int] = {}
    for number, row in tolerant_jsonl(path):
        if isinstance(row, JsonlError):
            yield number, row
            continue
        try:
            task = parse_task(row, f"{path}:{number}")
        except TaskError as error:
            yield number, error
            continue
        if task.id in first_line:
            duplicate = f"duplicate id {task.id!r} (first on line {first_line[task.id]})"
            yield number, TaskError(f"{path}:{number}: field id: {duplicate}")
            continue
        first_line[task.id] = number
        yield number, task


def load_tasks(path: Path | str) -> list[DebuggingTask]:
    """Every task of a task file (none when it does not exist); the first bad row raises its error."""
    if not Path(path).exists():
        return []
    tasks = []
    for _, task in read_tasks(path):
        if isinstance(task, ValueError):
            raise task
        tasks.append(task)
    return tasks


def _json_type(value: object) -> str:
    return "null" if value is None else {list: "an array", dict: "an object"}.get(type(value), type(value).__name__)

"""MBPP (Austin et al., 2021), full and sanitized: a task text, asserts, and a reference solution."""

from __future__ import annotations

import ast
import builtins

from ledex.problems.record import Problem
from ledex.problems.sources import SourceRow

# The prompt of the MBPP paper, also used by lm-evaluation-harness.
PROMPT_TEMPLATE = (
    "You are an expert Python programmer, and here is your task: {text} Your code should pass these tests:\n\n{tests}\n"
)

# The paper's split by task id, the same for the sanitized subset.
SPLITS_BY_TASK_ID = {
    "prompt": range(1, 11),
    "test": range(11, 511),
    "validation": range(511, 601),
    "train": range(601, 975),
}


def full_to_problem(row: SourceRow, benchmark: str) -> Problem:
    """A row of mbpp.jsonl (Hub config `full`); challenge_test_list is left out."""
    fields = row.data
    return _problem(row, benchmark, fields["text"], fields["code"], fields["test_list"], fields["test_setup_code"])


def sanitized_to_problem(row: SourceRow, benchmark: str) -> Problem:
    """A row of sanitized-mbpp.json (Hub config `sanitized`)."""
    fields = row.data
    setup = "\n".join(fields["test_imports"])
    return _problem(row, benchmark, fields["prompt"], fields["code"], fields["test_list"], setup)


def split_of(task_id: int) -> str:
    """The split a task belongs to, by its id."""
    for split, task_ids in SPLITS_BY_TASK_ID.items():
        if task_id in task_ids:
            return split
    raise ValueError(f"task_id {task_id} is outside MBPP's 1-974")


def _problem(row: SourceRow, benchmark: str, text: str, code: str, tests: list[str], setup: str) -> Problem:
    task_id = row.data["task_id"]
    split = split_of(task_id)
    if row.split is not None and row.split != split:
        raise ValueError(f"task {task_id} is in split {row.split!r}, but its id belongs to {split!r}")
    tests = [_unix_newlines(test) for test in tests]
    setup = _unix_newlines(setup)
    return Problem(
        id=f"mbpp/{task_id}",
        benchmark=benchmark,
        language="python",
        prompt=PROMPT_TEMPLATE.format(text=_unix_newlines(text), tests="\n".join(tests)),
        entry_point=called_function(tests, setup),
        test_program="\n".join(filter(None, [setup, *tests])) + "\n",
        test_cases=tuple(tests),
        test_setup=setup,
        canonical_solution=_unix_newlines(code),
        completion_style=False,
        split=split,
        source=row.location,
    )


def called_function(tests: list[str], setup: str) -> str:
    """The function under test: the first one the tests call that is neither a builtin nor
    named in the setup; a builtin's name when the task redefines it (task 126's `sum`)."""
    named_in_setup = {node.id for node in ast.walk(ast.parse(setup)) if isinstance(node, ast.Name)}
    redefined_builtin = None
    for name in (call.func.id for test in tests for call in _calls(test)):
        if name in named_in_setup:
            continue
        if not hasattr(builtins, name):
            return name
        redefined_builtin = redefined_builtin or name
    if redefined_builtin is None:
        raise ValueError("the tests call no function")
    return redefined_builtin


def _calls(code: str) -> list[ast.Call]:
    """Calls of plain names, in source order."""
    calls = [
        node for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]
    return sorted(calls, key=lambda call: (call.lineno, call.col_offset))


def _unix_newlines(text: str) -> str:
    """MBPP's code uses Windows line endings, and a few solutions end in a lone carriage return."""
    return text.replace("\r\n", "\n").replace("\r", "\n")

"""HumanEval (Chen et al., 2021), with `check(candidate)` split into one test case per assert."""

from __future__ import annotations

import ast
import textwrap

from ledex.problems.record import Problem
from ledex.problems.sources import SourceRow


def to_problem(row: SourceRow, benchmark: str) -> Problem:
    fields = row.data
    entry_point = fields["entry_point"]
    test = fields["test"]
    test_setup, test_cases = split_check(test, entry_point)
    return Problem(
        id=fields["task_id"],
        benchmark=benchmark,
        language="python",
        prompt=fields["prompt"],
        entry_point=entry_point,
        test_program=f"{test}\n\ncheck({entry_point})\n",
        test_cases=test_cases,
        test_setup=test_setup,
        canonical_solution=fields["canonical_solution"],
        split=row.split,
        source=row.location,
    )


def split_check(test: str, entry_point: str) -> tuple[str, tuple[str, ...]]:
    """Turn HumanEval's test module into (setup, test cases) that together run as `check()` does.

    Module-level statements (METADATA, imports, helpers) and the binding of check's parameter
    to `entry_point` form the setup. In check's body each statement holding an assert (a plain
    assert, or a loop of them) closes one test case; the statements before it since the
    previous case (assignments, imports) open it, and any after the last assert join the last.
    """
    module = ast.parse(test)
    check = next(
        (node for node in module.body if isinstance(node, ast.FunctionDef) and node.name == "check"),
        None,
    )
    if check is None or len(check.args.args) != 1:
        raise ValueError("test defines no check(candidate) function")
    setup = [_source(test, node) for node in module.body if node is not check]
    setup.append(f"{check.args.args[0].arg} = {entry_point}")

    cases: list[str] = []
    pending: list[str] = []
    for statement in check.body:
        pending.append(_source(test, statement))
        if any(isinstance(node, ast.Assert) for node in ast.walk(statement)):
            cases.append("\n".join(pending))
            pending = []
    if not cases:
        raise ValueError("check() has no assert")
    if pending:
        cases[-1] = "\n".join([cases[-1], *pending])
    return "\n".join(setup), tuple(cases)


def _source(code: str, node: ast.stmt) -> str:
    return textwrap.dedent(ast.get_source_segment(code, node, padded=True))

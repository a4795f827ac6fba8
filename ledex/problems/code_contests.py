"""CodeContests (Li et al., 2022): competitive programming problems tested through stdin/stdout."""

from __future__ import annotations

from ledex.problems.record import Problem
from ledex.problems.sources import SourceRow

PROMPT_TEMPLATE = (
    "{description}\n\n"
    "Write a Python 3 program that reads the input from standard input and prints the answer "
    "to standard output.\n"
)

# The dataset's solution languages: 0 unknown, 1 Python 2, 2 C++, 3 Python 3, 4 Java.
PYTHON3 = 3

TEST_SETS = ("public_tests", "private_tests", "generated_tests")


def to_problem(row: SourceRow, benchmark: str) -> Problem:
    fields = row.data
    io_cases = tuple((stdin, stdout) for test_set in TEST_SETS for stdin, stdout in _pairs(fields[test_set], test_set))
    solutions = fields["solutions"]
    python3_solutions = [
        code for language, code in zip(solutions["language"], solutions["solution"]) if language == PYTHON3
    ]
    return Problem(
        id=fields["name"],
        benchmark=benchmark,
        language="python",
        prompt=PROMPT_TEMPLATE.format(description=fields["description"]),
        entry_point=None,
        test_program="",
        io_cases=io_cases,
        canonical_solution=python3_solutions[0] if python3_solutions else None,
        completion_style=False,
        split=row.split,
        source=row.location,
    )


def _pairs(tests: dict, test_set: str) -> list[tuple[str, str]]:
    if len(tests["input"]) != len(tests["output"]):
        raise ValueError(f"{test_set} has {len(tests['input'])} inputs but {len(tests['output'])} outputs")
    return list(zip(tests["input"], tests["output"]))

"""Turn a benchmark problem and a model's completion into a sandbox job."""

from __future__ import annotations

import re

from sandbox.verdict import Job
from stages.benchmarks import Problem
from stages.completions import completion_for

# The first fenced block; an unclosed fence (a truncated answer) runs to the end.
_FENCED_BLOCK = re.compile(r"^```[^\n]*\n(.*?)(?:^```|\Z)", re.DOTALL | re.MULTILINE)


def strip_code_fence(completion: str) -> str:
    """The code inside the first markdown code block, or `completion` unchanged if it has none."""
    block = _FENCED_BLOCK.search(completion)
    return block.group(1) if block else completion


def build_job(problem: Problem, completion: str, *, timeout_s: float | None = None) -> Job:
    """The job that tests `completion`: appended to the prompt for completion-style problems,
    a whole program otherwise; after the benchmark's preamble, if it has one."""
    return _job(problem, strip_code_fence(completion), timeout_s)


def model_job(problem: Problem, code: str, *, timeout_s: float | None = None) -> Job:
    """The job that tests a model's answer `code`, less its demo code (see `completion_for`)."""
    return build_job(problem, completion_for(problem, code), timeout_s=timeout_s)


def canonical_job(problem: Problem) -> Job | None:
    """The job that tests the benchmark's own solution; None when it has none."""
    if problem.canonical_solution is None:
        return None
    return _job(problem, problem.canonical_solution, timeout_s=None)


def _job(problem: Problem, code: str, timeout_s: float | None) -> Job:
    return Job(
        language=problem.language,
        program=problem.preamble + (problem.prompt + code if problem.completion_style else code),
        test_cases=problem.test_cases,
        test_program=problem.test_program,
        setup=problem.test_setup,
        io_cases=problem.io_cases,
        timeout_s=timeout_s,
    )

"""Turn a benchmark problem and a model's completion into a sandbox job."""

from __future__ import annotations

from ledex.execution.completions import completion_for
from ledex.generation.response_parsing import fenced_code
from ledex.problems import Problem
from sandbox import Job, prompt_helpers


def build_job(problem: Problem, completion: str, *, timeout_s: float | None = None) -> Job:
    """The job that tests `completion`: appended to the prompt for completion-style problems,
    a whole program otherwise; after the benchmark's preamble, if it has one. A fenced completion
    is taken from its fenced block (`fenced_code`)."""
    code = fenced_code(completion, problem.language)
    return _job(problem, completion if code is None else code, timeout_s)


def model_job(problem: Problem, code: str, *, timeout_s: float | None = None) -> Job:
    """The job that tests a model's answer `code`, less its demo code (see `completion_for`)."""
    return build_job(problem, completion_for(problem, code), timeout_s=timeout_s)


def canonical_job(problem: Problem) -> Job | None:
    """The job that tests the benchmark's own solution; None when it has none."""
    if problem.canonical_solution is None:
        return None
    return _job(problem, problem.canonical_solution, timeout_s=None)


def _job(problem: Problem, code: str, timeout_s: float | None) -> Job:
    python = problem.language == "python"
    # Python tests run in the sandbox's trusted driver, with the prompt's helpers from the dataset
    helpers = prompt_helpers(problem.prompt, problem.entry_point) if python and problem.completion_style else ""
    return Job(
        language=problem.language,
        program=problem.preamble + (problem.prompt + code if problem.completion_style else code),
        test_cases=problem.test_cases,
        test_program=problem.test_program,
        setup=problem.test_setup,
        io_cases=problem.io_cases,
        timeout_s=timeout_s,
        trusted_helpers=helpers,
        entry_point=(problem.entry_point or "") if python and not problem.io_cases else "",
    )

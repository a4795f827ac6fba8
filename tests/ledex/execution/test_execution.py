"""Building sandbox jobs from problems and completions; structure only, nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledex.execution.jobs import build_job, canonical_job
from ledex.problems import Problem, load_benchmark

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"  # params.yaml's data.dir

COMPLETION_STYLE = Problem(
    id="HumanEval/0",
    benchmark="humaneval",
    language="python",
    prompt='def double(n):\n    """Twice n."""\n',
    entry_point="double",
    test_program="def check(candidate):\n    assert candidate(1) == 2\n\ncheck(double)\n",
    test_cases=("assert candidate(1) == 2", "assert candidate(0) == 0"),
    test_setup="candidate = double",
    canonical_solution="    return 2 * n\n",
)
DESCRIPTION_STYLE = Problem(
    id="mbpp/11",
    benchmark="mbpp",
    language="python",
    prompt="Write a function that doubles a number.",
    entry_point="double",
    test_program="assert double(1) == 2\n",
    test_cases=("assert double(1) == 2",),
    canonical_solution='def double(n):\n    return 2 * n  # not "```"\n',
    completion_style=False,
)
STANDARD_INPUT = Problem(
    id="apps/1",
    benchmark="apps",
    language="python",
    prompt="Print twice the input.",
    entry_point=None,
    test_program="",
    io_cases=(("1\n", "2\n"), ("5\n", "10\n")),
    completion_style=False,
    preamble="import sys\n",
)
MULTIPL_E = Problem(
    id="HumanEval_0_double",
    benchmark="multipl-e-humaneval-cpp",
    language="cpp",
    prompt="long double_it(long n) {\n",
    entry_point="double_it",
    test_program="}\nint main() {\n    assert(double_it(1) == 2);\n}\n",
    stop_tokens=("\n}",),
    evaluation_only=True,
)


@pytest.mark.parametrize(
    ("completion", "code"),
    [
        ("def f():\n    return 1\n", "def f():\n    return 1\n"),
        ("```python\ndef f():\n    return 1\n```\n", "def f():\n    return 1\n"),
        ("Here it is:\n```\nx = 1\n```\nDone.", "x = 1\n"),
        ("```py\nx = 1\n```\n```py\ny = 2\n```", "y = 2\n"),  # as response_parsing: the last that parses
        ("```py\nx = 1\n```\n```\nnot python (\n```", "x = 1\n"),
        ("```python\nx = 1\n", "x = 1\n"),  # an unclosed fence runs to the end
        ('s = "```"\n', 's = "```"\n'),  # backticks inside a line are not a fence
    ],
)
def test_fenced_completions_run_their_chosen_block(completion, code):
    assert build_job(DESCRIPTION_STYLE, completion).program == code


def test_completion_style_job_continues_the_prompt():
    job = build_job(COMPLETION_STYLE, "    return n + n\n", timeout_s=3.0)
    assert job.language == "python"
    assert job.program == 'def double(n):\n    """Twice n."""\n    return n + n\n'
    assert job.setup == "candidate = double"
    assert job.test_cases == COMPLETION_STYLE.test_cases
    assert job.test_program == COMPLETION_STYLE.test_program
    assert job.timeout_s == 3.0 and not job.io_cases


def test_description_style_job_runs_the_completion_alone():
    job = build_job(DESCRIPTION_STYLE, "```python\ndef double(n):\n    return n * 2\n```")
    assert job.program == "def double(n):\n    return n * 2\n"
    assert job.test_cases == ("assert double(1) == 2",) and job.timeout_s is None


def test_standard_input_job_carries_the_io_cases():
    job = build_job(STANDARD_INPUT, "print(2 * int(input()))\n")
    assert job.io_cases == STANDARD_INPUT.io_cases
    assert job.program == "import sys\nprint(2 * int(input()))\n" and not job.test_cases


def test_multipl_e_job_puts_prompt_and_completion_before_the_test_program():
    job = build_job(MULTIPL_E, "    return 2 * n;")
    assert job.language == "cpp"
    assert job.program == "long double_it(long n) {\n    return 2 * n;"
    assert job.test_program == MULTIPL_E.test_program


def test_canonical_job_uses_the_solution_as_given():
    assert canonical_job(COMPLETION_STYLE).program == COMPLETION_STYLE.prompt + "    return 2 * n\n"
    assert canonical_job(DESCRIPTION_STYLE).program == DESCRIPTION_STYLE.canonical_solution
    assert canonical_job(MULTIPL_E) is None


@pytest.mark.parametrize("name", ["humaneval", "mbpp", "mbpp-sanitized"])
@pytest.mark.filterwarnings("ignore:invalid escape sequence")
def test_every_canonical_job_builds_and_compiles(name):
    if name != "humaneval" and not SHARED_DATA.is_dir():
        pytest.skip(f"no benchmark data at {SHARED_DATA}")
    problems = load_benchmark(name, data_dir=SHARED_DATA, source="local")
    jobs = [canonical_job(problem) for problem in problems]
    assert all(job is not None for job in jobs)
    for problem, job in zip(problems, jobs):
        compile(job.program, problem.id, "exec")
        compile(job.setup, problem.id, "exec")
        for case in job.test_cases:
            compile(case, problem.id, "exec")

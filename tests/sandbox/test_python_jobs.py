"""Python jobs: per-test results, messages, test programs and standard-input cases."""

from __future__ import annotations

from textwrap import dedent

import pytest

from sandbox import Job, Status

ADD = "def add(a, b):\n    return a + b\n"


def test_a_correct_program_passes(sandbox):
    verdict = sandbox.run(Job("python", ADD, test_cases=("assert add(1, 2) == 3", "assert add(0, 0) == 0")))
    assert verdict.passed and verdict.status is Status.PASSED
    assert [test.passed for test in verdict.tests] == [True, True]
    assert verdict.pass_rate == 1.0
    assert verdict.time_s > 0 and verdict.peak_memory_mb > 0


def test_each_test_case_is_scored_on_its_own(sandbox):
    tests = ("assert add(1, 2) == 3", "assert add(2, 2) == 5", "assert add(1, 1) == 2")
    verdict = sandbox.run(Job("python", ADD, test_cases=tests))
    assert not verdict.passed and verdict.status is Status.FAILED
    assert [test.passed for test in verdict.tests] == [True, False, True]
    assert verdict.pass_rate == pytest.approx(2 / 3)
    assert verdict.tests[1].message == "assert add(2, 2) == 5\n  actual: 4\n  expected: 5"
    assert verdict.message == verdict.tests[1].message


def test_tests_share_one_namespace_after_program_and_setup(sandbox):
    setup = "import math\ndef twice(x):\n    return 2 * x\n"
    tests = ("total = add(twice(1), 1)", "assert total == 3", "assert math.floor(add(0.5, 0.6)) == 1")
    verdict = sandbox.run(Job("python", ADD, test_cases=tests, setup=setup))
    assert verdict.passed, verdict


def test_an_exception_is_a_runtime_error_with_its_traceback(sandbox):
    program = "def divide(a, b):\n    return a / b\n"
    verdict = sandbox.run(Job("python", program, test_cases=("assert divide(4, 2) == 2", "assert divide(1, 0) == 0")))
    assert verdict.status is Status.RUNTIME_ERROR
    assert [test.passed for test in verdict.tests] == [True, False]
    assert "ZeroDivisionError" in verdict.message
    assert 'File "solution.py", line 2, in divide\n    return a / b' in verdict.message


def test_a_syntax_error_is_a_compile_error(sandbox):
    verdict = sandbox.run(Job("python", "def add(a, b)\n    return a + b\n", test_cases=("assert add(1, 2) == 3",)))
    assert verdict.status is Status.COMPILE_ERROR
    assert "SyntaxError" in verdict.message
    assert not verdict.tests[0].passed


def test_a_test_program_runs_as_one_test(sandbox):
    test_program = dedent("""\
        def check(candidate):
            assert candidate(2, 3) == 5
            assert candidate(-2, 2) == 0

        check(add)
    """)
    passing = sandbox.run(Job("python", ADD, test_program=test_program))
    failing = sandbox.run(Job("python", ADD.replace("a + b", "a * b"), test_program=test_program))
    assert passing.passed and [test.name for test in passing.tests] == ["test_program"]
    assert failing.status is Status.FAILED
    assert "assert candidate(2, 3) == 5\n  actual: 6\n  expected: 5" in failing.message


def test_results_of_tests_before_a_timeout_are_kept(sandbox):
    program = ADD + "def hang():\n    while True:\n        pass\n"
    tests = ("assert add(1, 2) == 3", "hang()", "assert add(2, 2) == 4")
    verdict = sandbox.run(Job("python", program, test_cases=tests, timeout_s=1.0))
    assert verdict.status is Status.TIMEOUT and not verdict.passed
    assert [test.passed for test in verdict.tests] == [True, False, False]
    assert verdict.tests[1].message == "timed out"
    assert verdict.tests[2].message.startswith("not run")
    assert 1.0 <= verdict.time_s < 3.0


def test_io_cases_compare_whitespace_separated_tokens(sandbox):
    program = "a, b = map(int, input().split())\nprint(a + b)\nprint('done')\n"
    cases = (("1 2\n", "3\ndone\n"), ("2 2", "  4   done"), ("1 1", "3 done"))
    verdict = sandbox.run(Job("python", program, io_cases=cases))
    assert verdict.status is Status.FAILED
    assert [test.passed for test in verdict.tests] == [True, True, False]
    assert verdict.tests[2].message == "wrong output\n  input: '1 1'\n  expected: '3 done'\n  actual: '2\\ndone\\n'"


def test_io_program_errors_and_exit_status(sandbox):
    crashing = sandbox.run(Job("python", "print(1 // int(input()))\n", io_cases=(("1", "1"), ("0", "0"))))
    assert crashing.status is Status.RUNTIME_ERROR and [test.passed for test in crashing.tests] == [True, False]
    assert "ZeroDivisionError" in crashing.message
    exiting = sandbox.run(Job("python", "import sys\nprint(5)\nsys.exit(3)\n", io_cases=(("", "5"),)))
    assert exiting.status is Status.RUNTIME_ERROR and "exit status 3" in exiting.message
    stopping = sandbox.run(Job("python", "import sys\nprint(5)\nsys.exit()\n", io_cases=(("", "5"),)))
    assert stopping.passed


def test_io_program_with_a_syntax_error_is_a_compile_error(sandbox):
    verdict = sandbox.run(Job("python", "print(int(input()) +)\n", io_cases=(("1", "1"),)))
    assert verdict.status is Status.COMPILE_ERROR


def test_long_messages_keep_their_head_and_tail(sandbox):
    program = "def f():\n    raise ValueError('start ' + 'x' * 10000 + ' end')\n"
    verdict = sandbox.run(Job("python", program, test_cases=("f()",)))
    assert len(verdict.message) < 2200
    assert "Traceback" in verdict.message and verdict.message.rstrip().endswith("end")
    assert "characters omitted" in verdict.message


def test_run_many_keeps_order_and_imap_yields_every_job(sandbox):
    jobs = [Job("python", f"f = lambda: {n}", test_cases=(f"assert f() == {n if n % 3 else -1}",)) for n in range(12)]
    verdicts = sandbox.run_many(jobs)
    assert [verdict.passed for verdict in verdicts] == [n % 3 != 0 for n in range(12)]
    assert sorted(index for index, _ in sandbox.imap(iter(jobs))) == list(range(12))

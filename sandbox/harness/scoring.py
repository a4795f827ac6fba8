"""From what the processes of a job did to a verdict: per-test results, a status, a message.

Statuses and their precedence (the most severe one of any test is the job's status):
compile_error > timeout > memory > output_limit > runtime_error > failed > passed.
"""

from __future__ import annotations

import signal
from typing import NamedTuple

from .reports import Reports
from .supervisor import Outcome
from .text import decode_output, truncate

SEVERITY = ("passed", "failed", "runtime_error", "output_limit", "memory", "timeout", "compile_error")
_TEST_RESULT_STATUS = {"passed": "passed", "failed": "failed", "error": "runtime_error", "memory": "memory"}
_SHOWN_IO_CHARS = 300


class Markers(NamedTuple):
    """Text a language's runtime prints on stderr for a failed assertion or exhausted memory."""

    assertion: bytes
    memory: tuple[bytes, ...]


MARKERS = {
    "python": Markers(b"AssertionError", (b"MemoryError",)),
    "cpp": Markers(b"Assertion `", (b"std::bad_alloc",)),
    "java": Markers(b"java.lang.AssertionError", (b"java.lang.OutOfMemoryError",)),
    "js": Markers(b"AssertionError", (b"heap out of memory", b"Array buffer allocation failed")),
}


class Case(NamedTuple):
    """The result of one test or io case; `status` is "passed" when it held."""

    name: str
    status: str
    message: str = ""


def verdict(cases: list[Case], *, status: str = "passed", message: str = "", outcome: Outcome | None = None) -> dict:
    """The verdict of a job; `status` and `message` describe problems of the job as a whole."""
    statuses = [status, *(case.status for case in cases)]
    worst = max(statuses, key=SEVERITY.index)
    if not message:
        message = next((case.message for case in cases if case.status == worst), "")
    details = {}
    if outcome is not None:
        details = {"exit": outcome.describe_exit(), "stderr": decode_output(outcome.stderr)}
    return {
        "status": worst,
        "tests": [{"name": case.name, "passed": case.status == "passed", "message": case.message} for case in cases],
        "message": truncate(message),
        "peak_memory_mb": outcome.peak_memory_mb if outcome else 0.0,
        "details": details,
    }


def not_run(names: list[str], status: str, reason: str) -> list[Case]:
    return [Case(name, status, f"not run: {reason}") for name in names]


def resource_status(outcome: Outcome, markers: Markers) -> str | None:
    """timeout, output_limit or memory when the run hit a limit, else None."""
    if outcome.timed_out or outcome.signal == signal.SIGXCPU:
        return "timeout"
    if outcome.output_exceeded or outcome.signal == signal.SIGXFSZ:
        return "output_limit"
    if any(marker in outcome.stderr for marker in markers.memory):
        return "memory"
    return None


_RESOURCE_MESSAGES = {
    "timeout": "timed out",
    "output_limit": "the output exceeded the limit",
    "memory": "ran out of memory",
}


def score_python_tests(names: list[str], outcome: Outcome, reports: Reports) -> dict:
    """A Python job with tests: one report per test, then `complete`, else it did not finish."""
    if reports.program_error is not None:
        status, message = reports.program_error
        reason = "the program does not compile" if status == "compile_error" else "the program failed to load"
        return verdict(not_run(names, status, reason), message=message, outcome=outcome)
    resource = resource_status(outcome, MARKERS["python"])
    halted_by = resource or "runtime_error"
    ended = f"the process ended before the test finished ({outcome.describe_exit()})"
    halt_reason = _RESOURCE_MESSAGES.get(halted_by, ended)
    cases, halted = [], None
    for index, name in enumerate(names):
        if halted is None and index in reports.tests:
            result, message = reports.tests[index]
            cases.append(Case(name, _TEST_RESULT_STATUS[result], message))
        elif halted is None:
            halted = name
            cases.append(Case(name, halted_by, halt_reason))
        else:
            cases.append(Case(name, halted_by, f"not run: {halted} did not finish"))
    if resource or not reports.complete:
        ended = f"the program ended the test run before the harness finished ({outcome.describe_exit()})"
        reason = _RESOURCE_MESSAGES.get(resource, ended)
        return verdict(cases, status=resource or "runtime_error", message=reason, outcome=outcome)
    return verdict(cases, outcome=outcome)


def score_program_run(name: str, outcome: Outcome, reports: Reports, markers: Markers) -> Case:
    """A test program in another language: it holds when it exits 0 after `main` returned."""
    resource = resource_status(outcome, markers)
    if resource:
        return Case(name, resource, _RESOURCE_MESSAGES[resource])
    if outcome.exit_code == 0 and reports.complete:
        return Case(name, "passed")
    if outcome.exit_code == 0:
        return Case(name, "runtime_error", "the program ended the test run early (exit status 0 before main returned)")
    stderr = decode_output(outcome.stderr)
    if markers.assertion in outcome.stderr:
        return Case(name, "failed", stderr)
    return Case(name, "runtime_error", f"{outcome.describe_exit()}\n{stderr}".strip())


def score_io_case(name: str, outcome: Outcome, stdin: str, expected: str, markers: Markers) -> Case:
    """A standard-input case: it holds when the program exits 0 and prints the expected tokens."""
    resource = resource_status(outcome, markers)
    if resource:
        return Case(name, resource, _RESOURCE_MESSAGES[resource])
    if outcome.exit_code != 0:
        return Case(name, "runtime_error", f"{outcome.describe_exit()}\n{decode_output(outcome.stderr)}".strip())
    if outcome.stdout.split() == expected.encode().split():
        return Case(name, "passed")
    shown = [truncate(text, _SHOWN_IO_CHARS) for text in (stdin, expected, outcome.stdout.decode("utf-8", "replace"))]
    return Case(name, "failed", "wrong output\n  input: {!r}\n  expected: {!r}\n  actual: {!r}".format(*shown))

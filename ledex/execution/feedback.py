"""Execution feedback shown to the teacher, and the bug's severity tier derived from it."""

from __future__ import annotations

from sandbox import Status, Verdict

MAX_FEEDBACK_CHARS = 1500

# Severity tiers of the industrial RLHF project, from the execution outcome.
SEVERITY_BY_STATUS = {
    Status.COMPILE_ERROR: "syntax",
    Status.RUNTIME_ERROR: "runtime",
    Status.TIMEOUT: "resource",
    Status.MEMORY: "resource",
    Status.OUTPUT_LIMIT: "resource",
    Status.FAILED: "wrong_answer",
}


def feedback_text(verdict: Verdict) -> str:
    """The error message, or the first failed test with what it reported (expected vs actual)."""
    failed = next((test for test in verdict.tests if not test.passed), None)
    if verdict.status is Status.FAILED and failed is not None:
        text = f"Failed test:\n{failed.name}\n{failed.message}".rstrip()
    elif verdict.status is Status.TIMEOUT:
        text = f"Timed out. {verdict.message}".strip()
    else:
        text = verdict.message or verdict.status.value
    return text if len(text) <= MAX_FEEDBACK_CHARS else text[: MAX_FEEDBACK_CHARS - 3] + "..."


def severity(verdict: Verdict) -> str:
    if verdict.passed:
        raise ValueError("a passing solution has no bug severity")
    return SEVERITY_BY_STATUS[verdict.status]

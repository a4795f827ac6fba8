"""Execution feedback shown to the teacher, and the bug's severity tier derived from it."""

from __future__ import annotations

from sandbox import Status, Verdict

MAX_FEEDBACK_CHARS = 1500

# Severity tiers of the industrial RLHF project, from the execution outcome. The sandbox has no
# security verdict: a runtime error whose message shows the containment refusing something is one.
SECURITY = "security"
SECURITY_MARKERS = ("PermissionError", "Operation not permitted", "Bad system call", "Permission denied")
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
    """The bug's tier: `security` for a security-relevant failure, else by status."""
    if verdict.passed:
        raise ValueError("a passing solution has no bug severity")
    if verdict.status is Status.RUNTIME_ERROR and any(marker in verdict.message for marker in SECURITY_MARKERS):
        return SECURITY
    return SEVERITY_BY_STATUS[verdict.status]

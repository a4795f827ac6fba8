"""Fixtures for the sandbox tests: sandboxes shared per session, and a check that scoring
still works after an attack."""

from __future__ import annotations

import pytest

from sandbox import Job, Sandbox, SandboxConfig

GOOD = Job(
    "python", "def add(a, b):\n    return a + b\n", test_cases=("assert add(1, 2) == 3", "assert add(0, 0) == 0")
)
WRONG = Job("python", "def add(a, b):\n    return a - b\n", test_cases=("assert add(1, 2) == 3",))


@pytest.fixture(scope="session")
def sandbox():
    """Two workers, for tests of ordinary jobs."""
    with Sandbox(SandboxConfig(workers=2, timeout_s=5.0)) as shared:
        yield shared


@pytest.fixture(scope="session")
def lone_sandbox():
    """One worker, so that a job run after an attack runs on the worker that was attacked."""
    with Sandbox(SandboxConfig(workers=1, timeout_s=5.0)) as shared:
        yield shared


@pytest.fixture(scope="session")
def still_scores_right():
    """A check that a sandbox still passes a correct program and fails a wrong one."""

    def check(sandbox: Sandbox) -> None:
        good, wrong = sandbox.run(GOOD), sandbox.run(WRONG)
        assert good.passed, good
        assert not wrong.passed and wrong.status.value == "failed", wrong

    return check

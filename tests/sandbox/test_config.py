"""Configuration, job validation, and refusing to run when isolation is not available."""

from __future__ import annotations

import pytest

from sandbox import Job, Sandbox, SandboxConfig, SandboxUnavailable, Status, Verdict
from sandbox.verdict import TestResult as Result  # a name pytest does not collect


@pytest.mark.parametrize(
    "fields",
    [{"isolation": "none"}, {"isolation": "chroot"}, {"workers": -1}, {"timeout_s": 0}, {"memory_mb": -5}],
)
def test_invalid_settings_are_rejected(fields):
    with pytest.raises(ValueError):
        SandboxConfig(**fields)


def test_workers_default_to_one_per_core():
    assert SandboxConfig().worker_count >= 1
    assert SandboxConfig(workers=3).worker_count == 3


def test_missing_bubblewrap_is_refused_with_the_fix():
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        Sandbox(SandboxConfig(bwrap_executable="/nonexistent/bwrap", workers=1))


def test_a_worker_that_cannot_start_is_refused_with_the_fix():
    with pytest.raises(SandboxUnavailable, match=r"did not start.*python_executable"):
        Sandbox(SandboxConfig(python_executable="/usr/bin/no-such-python", workers=1))


def test_a_missing_toolchain_is_refused_not_scored(sandbox_without_node):
    with pytest.raises(SandboxUnavailable, match="/nonexistent/node"):
        sandbox_without_node.run(Job("js", "console.log(1)", test_program="1;"))


@pytest.fixture
def sandbox_without_node():
    with Sandbox(SandboxConfig(node="/nonexistent/node", workers=1)) as sandbox:
        yield sandbox


@pytest.mark.parametrize(
    "fields",
    [
        {"language": "ruby", "program": "", "test_program": "x"},
        {"language": "python", "program": "x = 1"},
        {"language": "java", "program": "", "test_cases": ("assert",)},
    ],
)
def test_invalid_jobs_are_rejected(fields):
    with pytest.raises(ValueError):
        Job(**fields)


def test_pass_rate_is_the_fraction_of_tests_that_held():
    tests = (Result("a", True), Result("b", False), Result("c", True), Result("d", True))
    assert Verdict(False, Status.FAILED, tests).pass_rate == 0.75
    assert Verdict(True, Status.PASSED).pass_rate == 1.0
    assert Verdict(False, Status.COMPILE_ERROR).pass_rate == 0.0
    assert Verdict(False, Status.FAILED, tests).to_dict()["status"] == "failed"

"""The seccomp filter: administrative and introspective system calls fail, ordinary ones work."""

from __future__ import annotations

import platform

import pytest

from sandbox import Job
from sandbox.seccomp import DENIED, UNAVAILABLE, filter_program

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="the filter is for x86-64")


def test_the_filter_is_one_jump_per_call_between_the_checks_and_the_returns():
    program = filter_program()
    assert len(program) == 8 * (4 + len(DENIED) + len(UNAVAILABLE) + 4)


def test_denied_calls_fail_inside_the_sandbox(lone_sandbox, still_scores_right):
    program = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def errno_of(number, *args):\n"
        "    ctypes.set_errno(0)\n"
        "    return (libc.syscall(number, *args), ctypes.get_errno())\n"
        f"result = [errno_of({DENIED['ptrace']}, 0, 0, 0, 0), errno_of({DENIED['keyctl']}, 0, 0, 0, 0),"
        f" errno_of({DENIED['process_vm_readv']}, 1, 0, 0, 0, 0, 0), errno_of({UNAVAILABLE['io_uring_setup']}, 1, 0),"
        " os.fork() > 0 or os._exit(0)]\n"
    )
    verdict = lone_sandbox.run(
        Job("python", program, test_cases=("assert result == [(-1, 1), (-1, 1), (-1, 1), (-1, 38), True]",))
    )
    assert verdict.passed, verdict.message
    still_scores_right(lone_sandbox)

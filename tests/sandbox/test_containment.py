"""What a sandboxed program cannot reach or exhaust, and that the sandbox recovers afterwards."""

from __future__ import annotations

import os
import signal
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

from sandbox import Job, Sandbox, SandboxConfig, Status


def error_of(statement: str) -> str:
    """A program setting `result` to the strerror of the OSError `statement` raises."""
    return f"try:\n    {statement}\n    result = 'no error'\nexcept OSError as error:\n    result = error.strerror\n"


# Sets `result` to (the number of sessions, whether the program is alone in its own). Four
# sessions: the fork server's, the zygote's (with its spare child), the driver's, the program's.
SESSIONS = """\
import os
sessions = {}
for name in os.listdir('/proc'):
    try:
        sessions.setdefault(os.getsid(int(name)), []).append(int(name))
    except (ValueError, ProcessLookupError):
        pass
result = (len(sessions), sessions[os.getsid(0)] == [os.getpid()])
"""


def probe(sandbox: Sandbox, program: str, expected: str) -> None:
    """Run `program`, which sets `result`, and require `result == <expected>` (source text) inside."""
    verdict = sandbox.run(Job("python", program, test_cases=(f"assert result == {expected}",)))
    assert verdict.passed, verdict.message


def test_loopback_connections_do_not_reach_the_host(lone_sandbox):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        socket.create_connection(("127.0.0.1", port), timeout=2).close()  # the listener works...
        listener.accept()[0].close()
        program = (
            "import socket\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "    result = 'connected'\n"
            "except OSError as error:\n"
            "    result = type(error).__name__\n"
        )
        probe(lone_sandbox, program, "'ConnectionRefusedError'")
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):  # ...but nothing from the sandbox arrived
            listener.accept()
    interfaces = "result = [line.split(':')[0].strip() for line in open('/proc/net/dev').readlines()[2:]]"
    probe(lone_sandbox, interfaces, "['lo']")


def test_host_files_are_invisible_and_writes_stay_inside(lone_sandbox, tmp_path_factory):
    shared = Path(tmp_path_factory.mktemp("world_readable"))
    shared.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    for parent in shared.parents:  # make the path readable by anyone, so only the sandbox stands in the way
        if parent != Path("/tmp") and str(parent).startswith("/tmp/"):
            parent.chmod(parent.stat().st_mode | stat.S_IROTH | stat.S_IXOTH)
    secret = shared / "secret.txt"
    secret.write_text("hunter2")
    secret.chmod(0o644)
    escape = shared / "escape.txt"
    program = (
        "import os\n"
        "seen = [path for path in "
        f"({str(secret)!r}, '/work', '/root', '/home', {str(Path.cwd())!r}, '/etc/passwd', '/etc/shadow') "
        "if os.path.exists(path)]\n"
        f"os.makedirs(os.path.dirname({str(escape)!r}), exist_ok=True)\n"
        f"open({str(escape)!r}, 'w').write('out')\n"
        "result = seen\n"
    )
    probe(lone_sandbox, program, "[]")
    assert not escape.exists()
    for path in ("/usr/evil", "/evil", "/etc/evil", "/dev/evil"):
        probe(lone_sandbox, error_of(f"open({path!r}, 'w')"), "'Read-only file system'")


def test_environment_of_the_host_is_not_passed_on(monkeypatch):
    monkeypatch.setenv("LEDEX_TEST_SECRET", "hunter2")
    with Sandbox(SandboxConfig(workers=1)) as fresh:
        probe(fresh, "import os\nresult = sorted(os.environ)", "['HOME', 'LANG', 'PATH', 'PWD']")
        probe(fresh, "result = b'hunter2' in open('/proc/self/environ', 'rb').read()", "False")
        probe(fresh, error_of("open('/proc/1/environ').read()"), "'Permission denied'")  # the fork server's


def test_programs_run_unprivileged_in_their_own_pid_namespace(lone_sandbox):
    program = (
        "import os\n"
        "status = open('/proc/self/status').read()\n"
        "capabilities = status.split('CapEff:')[1].split()[0]\n"
        "result = (os.getuid() >= 20000, open('/proc/1/comm').read().startswith('python'), capabilities)\n"
    )
    probe(lone_sandbox, program, "(True, True, '0000000000000000')")


def test_a_fork_bomb_is_bounded(lone_sandbox, still_scores_right):
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    start = time.monotonic()
    verdict = lone_sandbox.run(Job("python", bomb, test_cases=("assert True",), timeout_s=2.0))
    assert not verdict.passed and verdict.status is Status.TIMEOUT
    assert time.monotonic() - start < 10
    probe(lone_sandbox, SESSIONS, "(4, True)")
    still_scores_right(lone_sandbox)


def test_a_memory_bomb_is_a_memory_verdict(lone_sandbox, still_scores_right):
    bomb = "blocks = []\nwhile True:\n    blocks.append(bytearray(8 << 20))\n"
    verdict = lone_sandbox.run(Job("python", bomb, test_cases=("assert True",), memory_mb=256))
    assert verdict.status is Status.MEMORY and not verdict.passed
    still_scores_right(lone_sandbox)


def test_an_infinite_loop_times_out(lone_sandbox, still_scores_right):
    verdict = lone_sandbox.run(Job("python", "while True:\n    pass\n", test_cases=("assert True",), timeout_s=1.0))
    assert verdict.status is Status.TIMEOUT and not verdict.passed
    still_scores_right(lone_sandbox)


def test_an_output_flood_hits_the_output_limit(lone_sandbox, still_scores_right):
    verdict = lone_sandbox.run(Job("python", "while True:\n    print('x' * 1000)\n", test_cases=("assert True",)))
    assert verdict.status is Status.OUTPUT_LIMIT and not verdict.passed
    still_scores_right(lone_sandbox)


def test_leftover_processes_and_files_do_not_survive_the_job(lone_sandbox):
    leave_behind = (
        "import os, time\n"
        "open('/tmp/left.txt', 'w').write('x')\n"
        "open('/dev/shm/left.txt', 'w').write('x')\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    time.sleep(60)\n"
        "result = 1\n"
    )
    probe(lone_sandbox, leave_behind, "1")
    check = SESSIONS + "result = (*result, os.path.exists('/tmp/left.txt'), os.path.exists('/dev/shm/left.txt'))\n"
    probe(lone_sandbox, check, "(4, True, False, False)")


def test_a_lost_worker_fails_its_job_and_is_replaced(still_scores_right):
    uid = 23456
    with Sandbox(SandboxConfig(workers=1, uid_base=uid)) as sandbox:
        sleeper = Job("python", "import time\ntime.sleep(30)\n", test_cases=("assert True",), timeout_s=20)
        queued = Job("python", "x = 1", test_cases=("assert x == 1",))
        killer = threading.Timer(1.0, _kill_processes_of, args=(uid,))
        killer.start()
        lost, after = sandbox.run_many([sleeper, queued])
        killer.join()
        assert not lost.passed and lost.status is Status.RUNTIME_ERROR
        assert "worker" in lost.message and "lost" in lost.message
        assert after.passed  # it was queued behind the lost job, and ran on the new worker
        still_scores_right(sandbox)


def _kill_processes_of(uid: int) -> None:
    """SIGKILL the worker processes this test started (they run as `uid`)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            if f"\nUid:\t{uid}\t" in status:
                os.kill(int(entry), signal.SIGKILL)

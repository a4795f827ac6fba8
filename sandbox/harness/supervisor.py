"""Running one untrusted process: fork, confine, watch, kill, and collect what it left.

The fork server is PID 1 of the sandbox's PID namespace, so every process a run leaves
behind (daemons, fork bombs, orphans) is ours to kill and reap before the next run starts.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import resource
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import NamedTuple, NoReturn

from .reports import REPORT_FD

_READ_CHUNK = 1 << 16
_REPORT_LIMIT_BYTES = 4 << 20  # more than this on the report channel counts as an output flood
_CLEANUP_TIMEOUT_S = 5.0
_EXIT_HARNESS_FAILURE = 121  # the child failed before the untrusted code started
_PR_SET_DUMPABLE = 4
_libc = ctypes.CDLL(None, use_errno=True)
_SPARED_SESSIONS: set[int] = set()  # sessions kill_leftovers leaves alone


class CleanupFailed(RuntimeError):
    """Processes of a run survived SIGKILL; this worker should be replaced."""


class Limits(NamedTuple):
    timeout_s: float  # wall clock
    memory_mb: int | None  # address space of each process; None: no limit
    output_limit_bytes: int  # stdout and stderr together
    max_processes: int
    max_open_files: int
    max_file_size_mb: int


class Outcome(NamedTuple):
    exit_code: int | None  # None when a signal ended the process
    signal: int | None
    timed_out: bool
    output_exceeded: bool
    stdout: bytes
    stderr: bytes
    reports: bytes  # raw lines from the private report channel
    peak_memory_mb: float

    def describe_exit(self) -> str:
        if self.signal is not None:
            return f"killed by signal {signal.Signals(self.signal).name}"
        return f"exit status {self.exit_code}"


def run(
    body: Callable[[], NoReturn],
    *,
    workdir: str,
    limits: Limits,
    stdin_path: str | None = None,
    extra_fds: Mapping[int, int] | None = None,
    dumpable: bool = True,
) -> Outcome:
    """Run `body` in a confined child process and wait for it, at most `limits.timeout_s`.

    In the child, stdin reads `stdin_path` (or /dev/null), stdout and stderr are captured,
    file descriptor `REPORT_FD` is the report channel, `extra_fds` maps further descriptor
    numbers (above `REPORT_FD`) to descriptors of ours, and all other descriptors are closed.
    A trusted driver runs with `dumpable=False`, so programs cannot read its memory.
    `body` must end the process itself (`os._exit` or an `exec`). Afterwards every process
    but ours and the spared sessions' (the zygote's, the driver's) is killed.
    """
    pipes = [os.pipe() for _ in range(3)]  # stdout, stderr, reports
    for stream in (sys.stdout, sys.stderr):  # the child inherits these objects: empty them
        stream.flush()
    deadline = time.monotonic() + limits.timeout_s
    pid = os.fork()
    if pid == 0:
        _start_child(body, workdir, limits, stdin_path, [write for _, write in pipes], extra_fds or {}, dumpable)
    for _, write in pipes:
        os.close(write)
    pidfd = os.pidfd_open(pid)
    try:
        watched = watch([read for read, _ in pipes], pidfd, deadline, limits.output_limit_bytes)
        if not watched.finished:
            os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
        kill_leftovers()
    except BaseException:
        for read, _ in pipes:
            os.close(read)
        raise
    finally:
        os.close(pidfd)
    return outcome(watched, status, usage.ru_maxrss / 1024, limits.output_limit_bytes)


class Watched(NamedTuple):
    """What `watch` saw of a run so far."""

    finished: bool  # it ended (or said it had) by itself
    timed_out: bool
    output_exceeded: bool
    reads: list[int]  # read ends of stdout, stderr, reports
    captured: dict[int, bytearray]  # read end -> what came through it
    pending: set[int]  # read ends not yet at end of file


def watch(reads: list[int], finished_fd: int, deadline: float, output_limit_bytes: int) -> Watched:
    """Collect stdout, stderr and reports from `reads` until `finished_fd` is readable, the
    deadline passes, or the output exceeds its limit. The caller kills what still runs, then
    calls `outcome`."""
    captured = {read: bytearray() for read in reads}
    stdout_fd, stderr_fd, reports_fd = reads
    pending, finished, timed_out, output_exceeded = set(reads), False, False, False
    while not (finished or output_exceeded):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([finished_fd, *pending], [], [], remaining)
        finished = finished_fd in ready
        for fd in ready:
            if fd != finished_fd:
                _read_into(fd, captured, pending)
        output_exceeded = len(captured[stdout_fd]) + len(captured[stderr_fd]) > output_limit_bytes
        output_exceeded |= len(captured[reports_fd]) > _REPORT_LIMIT_BYTES
    return Watched(finished, timed_out, output_exceeded, reads, captured, pending)


def outcome(watched: Watched, status: int, peak_memory_mb: float, output_limit_bytes: int) -> Outcome:
    """Read what is left once every writer is dead, close the read ends, and describe the run
    (`status` as os.waitpid gives it)."""
    captured, pending = watched.captured, set(watched.pending)
    try:
        while pending:  # every writer is dead now, so this ends at end-of-file
            for fd in list(pending):
                _read_into(fd, captured, pending)
    finally:
        for fd in watched.reads:
            os.close(fd)
    stdout, stderr, reports = (captured[fd] for fd in watched.reads)
    return Outcome(
        exit_code=os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
        signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        timed_out=watched.timed_out,
        output_exceeded=watched.output_exceeded or len(stdout) + len(stderr) > output_limit_bytes,
        stdout=bytes(stdout[:output_limit_bytes]),
        stderr=bytes(stderr[:output_limit_bytes]),
        reports=bytes(reports[:_REPORT_LIMIT_BYTES]),
        peak_memory_mb=peak_memory_mb,
    )


def set_dumpable(dumpable: bool) -> None:
    """A process that is not dumpable cannot be traced by processes of the same user, and its
    /proc files (fd, environ, mem) belong to root."""
    if _libc.prctl(_PR_SET_DUMPABLE, int(dumpable), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def spare_session(session: int) -> None:
    """Let the processes of `session` (the zygote's, the Python driver's) survive
    `kill_leftovers`; no program can join a session it is not in."""
    _SPARED_SESSIONS.add(session)


def unspare_session(session: int) -> None:
    _SPARED_SESSIONS.discard(session)


def kill_leftovers() -> None:
    """SIGKILL every process of the sandbox except this one and spared sessions' and wait
    until they are gone (reaping our children)."""
    give_up = time.monotonic() + _CLEANUP_TIMEOUT_S
    while True:
        others = _killed_others()
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if not others:
            return
        if time.monotonic() > give_up:
            raise CleanupFailed("processes survived SIGKILL")
        _wait_for_exits(others, give_up)


def _killed_others() -> list[int]:
    own, others = os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (own, 1):  # 1: init, where the fork server is not
            continue
        try:
            if os.getsid(int(name)) in _SPARED_SESSIONS:
                continue
            os.kill(int(name), signal.SIGKILL)
        except ProcessLookupError:
            continue
        others.append(int(name))
    return others


def _wait_for_exits(pids: list[int], give_up: float) -> None:
    """Block until the processes `pids` have exited (zombies count), at most until `give_up`."""
    pidfds = []
    try:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                pidfds.append(os.pidfd_open(pid))
        while pidfds and (remaining := give_up - time.monotonic()) > 0:
            ready = set(select.select(pidfds, [], [], remaining)[0])
            for fd in ready:
                os.close(fd)
            pidfds = [fd for fd in pidfds if fd not in ready]
    finally:
        for fd in pidfds:
            os.close(fd)


def _read_into(fd: int, captured: dict[int, bytearray], open_fds: set[int]) -> None:
    chunk = os.read(fd, _READ_CHUNK)
    if chunk:
        captured[fd] += chunk
    else:
        open_fds.discard(fd)


def _start_child(body, workdir, limits, stdin_path, write_fds, extra_fds, dumpable) -> NoReturn:
    try:
        set_dumpable(dumpable)  # the fork server is not; a program may read its own /proc files
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the fork server ignores it
        os.setsid()
        stdin = os.open(stdin_path or "/dev/null", os.O_RDONLY)
        targets = {0: stdin, **dict(zip((1, 2, REPORT_FD), write_fds, strict=True)), **extra_fds}
        moved = {target: os.dup(source) for target, source in targets.items()}  # no source is overwritten
        for target, source in moved.items():
            os.dup2(source, target)
        os.closerange(max(targets) + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        os.chdir(workdir)
        set_rlimits(limits)
        body()
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(_EXIT_HARNESS_FAILURE)


def set_rlimits(limits: Limits) -> None:
    cpu_s = math.ceil(limits.timeout_s) + 1
    caps = {resource.RLIMIT_CPU: (cpu_s, cpu_s + 1), **process_caps(limits)}
    if limits.memory_mb is not None:
        caps[resource.RLIMIT_AS] = (limits.memory_mb << 20,) * 2
    for kind, cap in caps.items():
        resource.setrlimit(kind, cap)


def process_caps(limits: Limits) -> dict[int, tuple[int, int]]:
    """The limits on processes, files and core dumps (not time or memory)."""
    return {
        resource.RLIMIT_NPROC: (limits.max_processes,) * 2,
        resource.RLIMIT_NOFILE: (limits.max_open_files,) * 2,
        resource.RLIMIT_FSIZE: (limits.max_file_size_mb << 20,) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }

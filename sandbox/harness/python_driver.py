"""The Python driver: one trusted process per worker that runs the tests of one Python job after another.

Forking a driver per job costs a Python process's start (its copy-on-write page faults are
most of a short job's time), so the fork server keeps one: forked from it, in a session of
its own, not dumpable, every catchable signal blocked. For each job it receives fresh
stdout, stderr and report pipes (as descriptors 1, 2 and 3) and the job; it runs the tests
in a fresh namespace against a fresh program process from the zygote (`python_harness.py`),
then answers on its channel. A driver that did not answer in time, died, or says its job
did not end cleanly is killed and replaced by a new fork before the next job. Programs never
run in it, and cannot read or signal it in a way that passes a test: the worst they can do
is kill or stop it, which fails their own job.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import struct
import sys
import time
from typing import NoReturn

from . import protocol, python_harness, supervisor
from .reports import REPORT_FD

_CLEAN, _RETIRING = b"D", b"X"
_ANSWER = struct.Struct(">cQ")  # clean or retiring, the program's peak resident size in KiB


class Driver:
    """The fork server's handle on its driver (started on first use)."""

    def __init__(self, zygote_fd: int) -> None:
        self._zygote_fd = zygote_fd
        self._pid: int | None = None
        self._channel: socket.socket | None = None

    def run(self, job: dict, limits: supervisor.Limits) -> supervisor.Outcome:
        """Run `job` (see `python_harness.run_job`) within `limits`; kill every other process after."""
        if self._pid is None:
            self._start(limits)
        pipes = [os.pipe() for _ in range(3)]  # stdout, stderr, reports
        deadline = time.monotonic() + limits.timeout_s
        try:
            with contextlib.suppress(OSError):  # a dead driver shows as finished without an answer
                os.kill(self._pid, signal.SIGCONT)  # a program may have stopped it
                socket.send_fds(self._channel, [b"J"], [write for _, write in pipes])
                protocol.write_message(self._channel.fileno(), {**job, "memory_mb": limits.memory_mb})
        finally:
            for _, write in pipes:
                os.close(write)
        reads = [read for read, _ in pipes]
        try:
            watched = supervisor.watch(reads, self._channel.fileno(), deadline, limits.output_limit_bytes)
            answer, peak_kb = b"", 0
            if watched.finished:
                with contextlib.suppress(OSError, struct.error):
                    answer, peak_kb = _ANSWER.unpack(self._channel.recv(_ANSWER.size, socket.MSG_WAITALL))
            status = self._stop() if answer != _CLEAN else 0
            if answer == _RETIRING:
                status = 0  # the job ended normally; only the driver goes
            supervisor.kill_leftovers()
        except BaseException:
            for read in reads:
                os.close(read)
            raise
        return supervisor.outcome(watched, status, peak_kb / 1024, limits.output_limit_bytes)

    def _start(self, limits: supervisor.Limits) -> None:
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            ours.close()
            _serve(theirs.fileno(), self._zygote_fd, limits)
        theirs.close()
        self._pid, self._channel = pid, ours
        supervisor.spare_session(pid)

    def _stop(self) -> int:
        """Kill the driver; its wait status."""
        supervisor.unspare_session(self._pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        _, status = os.waitpid(self._pid, 0)
        self._channel.close()
        self._pid, self._channel = None, None
        return status if status else 1 << 8  # a driver that ended without answering did not finish


def _serve(channel_fd: int, zygote_fd: int, limits: supervisor.Limits) -> NoReturn:
    try:
        os.setsid()
        supervisor.set_dumpable(False)
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        _close_all_but({0, 1, 2, channel_fd, zygote_fd, null})
        os.chdir("/")
        for kind, cap in supervisor.process_caps(limits).items():  # no CPU cap: it lives for many jobs
            resource.setrlimit(kind, cap)
        channel, recursion_limit = socket.socket(fileno=channel_fd), sys.getrecursionlimit()
        while True:
            message, fds, _, _ = socket.recv_fds(channel, 1, 3)
            job = protocol.read_message(channel_fd) if message else None
            if job is None or len(fds) != 3:
                break
            for target, fd in zip((1, 2, REPORT_FD), fds, strict=True):
                os.dup2(fd, target)
                os.close(fd)
            memory = job["memory_mb"] << 20
            resource.setrlimit(resource.RLIMIT_AS, (memory, resource.RLIM_INFINITY))
            clean, peak_kb = python_harness.run_job(job, zygote_fd)
            sys.setrecursionlimit(recursion_limit)
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(BaseException):
                    stream.flush()
            for target in (1, 2, REPORT_FD):
                os.dup2(null, target)
            os.write(channel_fd, _ANSWER.pack(_CLEAN if clean else _RETIRING, peak_kb))
            if not clean:
                break
    finally:
        os._exit(0)


def _close_all_but(keep: set[int]) -> None:
    start = 0
    for fd in sorted(keep):
        if fd > start:  # os.closerange(n, n) would close every descriptor (close_range(n, n - 1))
            os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, resource.getrlimit(resource.RLIMIT_NOFILE)[0])

"""A clean process that forks the processes untrusted Python programs run in.

The fork server starts it before reading any job, so it never holds a program, a test, a
nonce or any other job's data; each program process is forked from it and reads its own
job only afterwards. It is not dumpable (inherited from the fork server), so programs cannot
read its memory. If a program kills it, the fork server sees
that after the job and retires the worker (see `jobs.py`).
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import signal
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import program_process, supervisor

_MAX_FDS = 8
_PF_EXITING = 0x4  # linux/sched.h: the process is exiting


class Zygote:
    """The fork server's handle on its zygote."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            ours.close()
            _serve(theirs.detach())
        theirs.close()
        self.pid = pid
        supervisor.spare_session(pid)  # the zygote leads its session; only it and its spare child are in it
        self.fd = ours.detach()
        os.set_inheritable(self.fd, False)
        self._pidfd = os.pidfd_open(pid)

    def alive(self) -> bool:
        """Whether it still runs and is not about to die; a stopped zygote (SIGSTOP from a program)
        is continued. A SIGKILL a program sent lands asynchronously: until the zygote has exited,
        its pidfd is not readable, so a kill still pending, or an exit under way, counts as dead."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGCONT)  # and its spare child
        return not select.select([self._pidfd], [], [], 0)[0] and not _dying(self.pid)


def _dying(pid: int) -> bool:
    """Whether `pid` has a SIGKILL pending or is exiting (or is gone), from /proc."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    kill_bit = 1 << (signal.SIGKILL - 1)
    pending = [int(line.split()[1], 16) for line in status.splitlines() if line.startswith(("SigPnd:", "ShdPnd:"))]
    flags = int(stat.rsplit(")", 1)[1].split()[6])  # the 9th field of stat; the name may hold spaces
    return any(mask & kill_bit for mask in pending) or bool(flags & _PF_EXITING)


def spawn(zygote_fd: int, fds: Sequence[int]) -> None:
    """Hand `fds` (see `program_process.serve`) to the zygote's spare child, which becomes the
    program process. Raises OSError when the zygote is gone."""
    channel = socket.socket(fileno=os.dup(zygote_fd))
    try:
        socket.send_fds(channel, [b"spawn"], list(fds))
    finally:
        channel.close()


def _serve(channel_fd: int) -> NoReturn:
    """Keep one child forked ahead, waiting for a request; fork the next once it took one (or died)."""
    try:
        os.setsid()
        if channel_fd != 3:  # on 3, so that the descriptors above it can be closed in one call
            os.dup2(channel_fd, 3)
            os.close(channel_fd)
        os.closerange(4, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        channel = socket.socket(fileno=3)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps its children
        while True:
            taken, took = os.pipe()
            if os.fork() == 0:
                os.close(taken)
                _wait_for_request(channel, took)
            os.close(took)
            os.read(taken, 1)  # end of file: the child took a request, or died
            os.close(taken)
    finally:
        os._exit(0)


def _wait_for_request(channel: socket.socket, took: int) -> NoReturn:
    try:
        message, fds, _, _ = socket.recv_fds(channel, 16, _MAX_FDS)
        channel.close()
        os.close(took)
    except BaseException:
        os._exit(0)
    if not message:
        os._exit(0)
    program_process.serve(fds)

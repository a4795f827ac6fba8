"""Host-wide leases of worker uids, so that sandboxes running side by side never share one.

Process limits (RLIMIT_NPROC) count per uid, so two sandboxes whose workers shared a uid
would share one budget: a fork bomb in one could starve the other. A lease is an exclusive
`flock` on a file named after the uid; the kernel drops it when its holder exits, even when
killed, so no lease outlives its process.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

from .errors import SandboxUnavailable

LEASE_DIR = Path(tempfile.gettempdir()) / "ledex-sandbox-uids"
SEARCH_SPAN = 4096


class UidLease:
    def __init__(self, uid: int, fd: int) -> None:
        self.uid = uid
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = -1


def lease_uid(first: int) -> UidLease:
    """The lowest uid from `first` on that no other live process holds."""
    LEASE_DIR.mkdir(mode=0o700, exist_ok=True)
    for uid in range(first, first + SEARCH_SPAN):
        fd = os.open(LEASE_DIR / f"{uid}.lock", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return UidLease(uid, fd)
    raise SandboxUnavailable(
        f"no free worker uid in {first}..{first + SEARCH_SPAN - 1}; too many sandboxes are running"
    )

"""Removing the System V IPC objects (shared memory, message queues, semaphores) a job left.

The worker's IPC namespace outlives jobs (creating one per job needs privileges the worker
does not have), so after each job every object in it is removed; the objects belong to the
worker's uid, so removing them needs no privilege. `/proc/sys` is read-only (bubblewrap),
so IPC limits and other sysctls cannot be changed for later jobs.
"""

from __future__ import annotations

import ctypes
import os

_IPC_RMID = 0
_libc = ctypes.CDLL(None, use_errno=True)
_REMOVERS = {
    "shm": lambda ident: _libc.shmctl(ident, _IPC_RMID, None),
    "msg": lambda ident: _libc.msgctl(ident, _IPC_RMID, None),
    "sem": lambda ident: _libc.semctl(ident, 0, _IPC_RMID),
}


def remove_sysv_objects() -> None:
    """Remove every SysV IPC object in the namespace; OSError if one survives."""
    for kind, remove in _REMOVERS.items():
        for ident in _identifiers(kind):
            if remove(ident) != 0:
                raise OSError(ctypes.get_errno(), f"could not remove SysV {kind} {ident}")


def _identifiers(kind: str) -> list[int]:
    path = f"/proc/sysvipc/{kind}"
    if not os.path.exists(path):
        return []
    with open(path, encoding="ascii") as table:
        return [int(line.split()[1]) for line in table.readlines()[1:] if line.strip()]

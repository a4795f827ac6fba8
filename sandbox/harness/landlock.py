"""Landlock: put the calling process in a domain of its own, apart from the trusted driver.

A process in a Landlock domain cannot trace, or read the memory and descriptors (through
/proc/PID/mem, /proc/PID/fd) of, processes outside its domain, even of the same user and
dumpable; from ABI 6 on it cannot signal them or connect to their abstract Unix sockets
either. Java and JavaScript drivers cannot make themselves non-dumpable the way the Python
and C++ ones do, so the program they call runs in such a domain instead. The domain handles
one file-system right no program needs (creating block devices), so every other access
stays as the sandbox's mounts allow.
"""

from __future__ import annotations

import ctypes
import os
import struct

# Generic system call numbers (the same on x86-64 and arm64), linux/landlock.h constants.
_CREATE_RULESET, _RESTRICT_SELF = 444, 446
_CREATE_RULESET_VERSION = 1
_ACCESS_FS_MAKE_BLOCK = 1 << 11
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_PR_SET_NO_NEW_PRIVS = 38
_libc = ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is not built in or not enabled."""
    version = _libc.syscall(_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    return max(version, 0)


def confine() -> None:
    """Enter a new Landlock domain (OSError when the kernel has none to give)."""
    version = abi_version()
    if version == 0:
        raise OSError("Landlock is not available in this kernel")
    scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if version >= 6 else 0
    attributes = struct.pack("=QQQ", _ACCESS_FS_MAKE_BLOCK, 0, scoped)
    size = 24 if version >= 6 else 16 if version >= 4 else 8  # the struct grew with the ABI
    buffer = ctypes.create_string_buffer(attributes[:size], size)
    ruleset = _libc.syscall(_CREATE_RULESET, buffer, ctypes.c_size_t(size), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if _libc.syscall(_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)

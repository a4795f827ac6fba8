"""A seccomp filter for bubblewrap's `--seccomp`: system calls programs never need, refused.

A classic BPF program, built here by hand (no libseccomp needed), that bubblewrap installs
on the fork server, so every process of the sandbox inherits it. It denies, with EPERM:
tracing and reading other processes' memory (ptrace, process_vm_*), kernel keyrings,
mounting and namespaces, modules and kexec, BPF, perf events, userfaultfd, handle-based
opens, and the other administrative calls below; io_uring gets ENOSYS, so runtimes that try
it fall back to ordinary system calls. Calls of other ABIs (x32, or any architecture but
x86-64) kill the process. On other architectures there is no filter (`filter_program`
returns None): the namespaces and limits still hold.
"""

from __future__ import annotations

import platform
import struct

# x86-64 system call numbers (asm/unistd_64.h).
DENIED = {
    "ptrace": 101, "syslog": 103, "pivot_root": 155, "acct": 163, "mount": 165, "umount2": 166, "swapon": 167,
    "swapoff": 168, "reboot": 169, "sethostname": 170, "setdomainname": 171, "init_module": 175,
    "delete_module": 176, "quotactl": 179, "lookup_dcookie": 212, "kexec_load": 246, "add_key": 248,
    "request_key": 249, "keyctl": 250, "unshare": 272, "perf_event_open": 298, "name_to_handle_at": 303,
    "open_by_handle_at": 304, "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311,
    "finit_module": 313, "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
}  # fmt: skip
UNAVAILABLE = {"io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427}

_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000
_LOAD_WORD, _JUMP_EQUAL, _JUMP_GREATER_EQUAL, _RETURN = 0x20, 0x15, 0x35, 0x06
_ALLOW, _KILL_PROCESS, _ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_EPERM, _ENOSYS = 1, 38
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data
_INSTRUCTION = struct.Struct("=HBBI")  # struct sock_filter: code, jt, jf, k


def filter_program() -> bytes | None:
    """The filter as bubblewrap reads it (an array of struct sock_filter), or None when the
    machine is not x86-64."""
    if platform.machine() != "x86_64":
        return None
    checks = [(number, "deny") for number in DENIED.values()] + [
        (number, "unavailable") for number in UNAVAILABLE.values()
    ]
    # Layout: 0 load arch, 1 check it, 2 load nr, 3 refuse x32, 4.. one jump per call, then
    # allow, deny, unavailable, kill. A jump's offsets count from the next instruction.
    allow = 4 + len(checks)
    deny, unavailable, kill = allow + 1, allow + 2, allow + 3
    program = [
        (_LOAD_WORD, 0, 0, _ARCH),
        (_JUMP_EQUAL, 0, kill - 2, _AUDIT_ARCH_X86_64),
        (_LOAD_WORD, 0, 0, _NR),
        (_JUMP_GREATER_EQUAL, kill - 4, 0, _X32_SYSCALL_BIT),
    ]
    for index, (number, outcome) in enumerate(checks, start=4):
        target = deny if outcome == "deny" else unavailable
        program.append((_JUMP_EQUAL, target - index - 1, 0, number))
    program += [
        (_RETURN, 0, 0, _ALLOW),
        (_RETURN, 0, 0, _ERRNO | _EPERM),
        (_RETURN, 0, 0, _ERRNO | _ENOSYS),
        (_RETURN, 0, 0, _KILL_PROCESS),
    ]
    return b"".join(_INSTRUCTION.pack(*instruction) for instruction in program)

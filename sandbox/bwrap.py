"""Fork servers under bubblewrap: the command line, and one process per worker slot.

Each worker gets new user, PID, network, mount, IPC, UTS (and, where possible, cgroup)
namespaces; read-only /usr and a few files of /etc; fresh /proc (with /proc/sys read-only) and /dev; size-capped
tmpfs mounts on /tmp and /dev/shm as the only writable places; a cleared environment; a
seccomp filter (`seccomp.py`); and, when the host process is root, a uid of its own. The fork server is PID 1 in there.
Needs bubblewrap 0.8 or later (Debian 12's) for --size and --disable-userns.
"""

from __future__ import annotations

import glob
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

from . import seccomp
from .config import SandboxConfig
from .errors import SandboxUnavailable
from .uid_lease import UidLease, lease_uid
from .worker import Worker, WorkerLost, harness_command

FIX_HINT = (
    "bwrap isolation needs bubblewrap (apt-get install bubblewrap), unprivileged user namespaces "
    "(sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces > 0) and the configured "
    "python_executable (default /usr/bin/python3)."
)
_SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What programs and toolchains read from /etc: the dynamic linker's cache, Debian's
# alternatives (/usr/bin/java is a link through them), the time zone, the JDK's settings.
_ETC_PATTERNS = (
    "/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/java-*",
)  # fmt: skip
_ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}
_READ_CHUNK = 1 << 16
_DIAGNOSTICS_CHARS = 4000


def bwrap_argv(config: SandboxConfig, bwrap: str) -> list[str]:
    argv = [
        bwrap,
        "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--disable-userns", "--as-pid-1", "--die-with-parent", "--new-session", "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr",
    ]  # fmt: skip
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    for pattern in _ETC_PATTERNS:
        for path in sorted(glob.glob(pattern)):
            argv += ["--ro-bind", path, path]
    tmpfs_bytes = str(config.tmpfs_mb << 20)
    argv += [
        "--proc", "/proc",
        "--ro-bind", "/proc/sys", "/proc/sys",  # sysctls (per namespace where they matter) stay as they are
        "--dev", "/dev",
        "--size", tmpfs_bytes, "--tmpfs", "/tmp",
        "--size", tmpfs_bytes, "--tmpfs", "/dev/shm",
        "--remount-ro", "/dev",
        "--remount-ro", "/",
        "--chdir", "/tmp",
        "--clearenv",
    ]  # fmt: skip
    for name, value in _ENVIRONMENT.items():
        argv += ["--setenv", name, value]
    return [*argv, "--", *harness_command(config.python_executable)]


class BwrapLauncher:
    """Starts a fork server under bubblewrap for a worker slot."""

    def __init__(self, config: SandboxConfig) -> None:
        bwrap = shutil.which(config.bwrap_executable)
        if bwrap is None:
            raise SandboxUnavailable(f"bubblewrap ({config.bwrap_executable!r}) is not installed. {FIX_HINT}")
        self._config = config
        self._argv = bwrap_argv(config, bwrap)
        self._seccomp = seccomp.filter_program()

    def start(self, slot: int) -> Worker:
        lease = lease_uid(self._config.uid_base + slot) if os.geteuid() == 0 else None
        uid = lease.uid if lease else None
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 (the channel keeps it and closes it)
        argv, filter_fd = self._argv, None
        if self._seccomp is not None:
            filter_fd = os.memfd_create("ledex-seccomp")
            os.write(filter_fd, self._seccomp)
            os.lseek(filter_fd, 0, os.SEEK_SET)
            separator = argv.index("--")
            argv = [*argv[:separator], "--seccomp", str(filter_fd), *argv[separator:]]
        try:
            process = self._popen(argv, filter_fd, uid, stderr)
        finally:
            if filter_fd is not None:
                os.close(filter_fd)
        return Worker(_ProcessChannel(process, stderr, lease), self._config.worker_settings(), fix_hint=FIX_HINT)

    def _popen(self, argv: list[str], filter_fd: int | None, uid: int | None, stderr) -> subprocess.Popen:
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            bufsize=0,
            cwd="/",
            env={"PATH": _ENVIRONMENT["PATH"]},
            user=uid,
            group=uid,
            extra_groups=[] if uid is not None else None,
            process_group=0,
            pass_fds=() if filter_fd is None else (filter_fd,),
        )


class _ProcessChannel:
    """The pipes of a bubblewrap process, and the lease of its uid."""

    def __init__(self, process: subprocess.Popen, stderr, lease: UidLease | None) -> None:
        self._process = process
        self._stderr = stderr
        self._lease = lease
        self._pending = bytearray()

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._process.stdin.fileno(), view) :]

    def receive(self, size: int, deadline: float) -> bytes:
        stdout = self._process.stdout.fileno()
        while len(self._pending) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerLost("the worker did not answer in time", timed_out=True)
            if not select.select([stdout], [], [], remaining)[0]:
                continue
            chunk = os.read(stdout, _READ_CHUNK)
            if not chunk:
                raise WorkerLost(f"the worker exited ({self._describe_exit()})")
            self._pending += chunk
        data = bytes(self._pending[:size])
        del self._pending[:size]
        return data

    def diagnostics(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-_DIAGNOSTICS_CHARS:]

    def close(self) -> None:
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        self._process.stdin.close()
        self._process.stdout.close()
        self._stderr.close()
        if self._lease:
            self._lease.release()

    def _describe_exit(self) -> str:
        try:
            status = self._process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return "still running"
        return f"exit status {status}" if status >= 0 else f"killed by signal {signal.Signals(-status).name}"

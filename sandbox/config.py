"""Settings of a `Sandbox`: plain fields, so a typed config loader can build them from YAML."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

ISOLATIONS = ("bwrap", "docker")
# Raised whenever the same program and tests could get a different verdict; results computed
# under another version (or config, see `SandboxConfig.fingerprint`) should not be reused.
SANDBOX_VERSION = "5"
_HARNESS_DIR = Path(__file__).parent / "harness"
# Fields that change how jobs are scheduled or reached, never their verdicts.
_NOT_IN_FINGERPRINT = ("workers", "uid_base", "docker_url")


@dataclass(frozen=True)
class SandboxConfig:
    """How untrusted programs are isolated and limited.

    isolation: "bwrap" (bubblewrap namespaces; the default) or "docker" (a container per
        worker, through the Docker API at `docker_url`). There is no unisolated mode.
    workers: fork-server slots running jobs in parallel; 0 means one per CPU core.
    timeout_s, memory_mb: defaults for jobs that do not set their own. `timeout_s` is the
        wall-clock budget of a job's runs (compiling excluded); `memory_mb` caps the address
        space of each process (Java and JavaScript: the heap, plus room for the VM).
    output_limit_bytes: stdout and stderr of one run together.
    tmpfs_mb: size of each writable tmpfs (/tmp, /dev/shm), the only writable places.
    max_processes: processes and threads of a worker slot, fork server included.
    uid_base: worker slot `i` runs as the first uid from `uid_base + i` that no other
        sandbox on the host holds (see uid_lease.py) when the host process is root
        (otherwise as the host's own uid), so process limits apply per slot.
    python_executable, gxx, javac, java, java_classpath, node: paths inside the sandbox.
        For "bwrap" these are host paths of read-only system directories.
    docker_url, docker_image, docker_python: the Docker API, the image every worker
        container runs, and the interpreter on the image's PATH that runs the harness.
        Compiled languages need their toolchains in that image, at the paths above.
    """

    isolation: str = "bwrap"
    workers: int = 0
    timeout_s: float = 10.0
    memory_mb: int = 1024
    output_limit_bytes: int = 1 << 20
    tmpfs_mb: int = 256
    max_processes: int = 64
    max_open_files: int = 256
    max_file_size_mb: int = 64
    compile_timeout_s: float = 30.0
    compile_memory_mb: int = 2048
    uid_base: int = 20000
    bwrap_executable: str = "bwrap"
    python_executable: str = "/usr/bin/python3"
    gxx: str = "/usr/bin/g++"
    javac: str = "/usr/bin/javac"
    java: str = "/usr/bin/java"
    java_classpath: tuple[str, ...] = ("/usr/share/java/javatuples.jar",)
    node: str = "/usr/bin/node"
    docker_url: str = "unix:///var/run/docker.sock"
    docker_image: str = "python:3.11-slim"
    docker_python: str = "python3"

    def __post_init__(self) -> None:
        if self.isolation not in ISOLATIONS:
            raise ValueError(f"isolation must be one of {ISOLATIONS}, not {self.isolation!r}")
        if self.workers < 0:
            raise ValueError("workers must be >= 0 (0: one per CPU core)")
        positive = ("timeout_s", "memory_mb", "output_limit_bytes", "tmpfs_mb", "max_processes", "max_open_files",
                    "max_file_size_mb", "compile_timeout_s", "compile_memory_mb")  # fmt: skip
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")

    def fingerprint(self) -> str:
        """A digest of SANDBOX_VERSION, the harness's source and every setting that can change a
        verdict: key cached verdicts on it.

        >>> SandboxConfig().fingerprint() == SandboxConfig(workers=3).fingerprint()
        True
        >>> SandboxConfig().fingerprint() == SandboxConfig(timeout_s=1).fingerprint()
        False
        """
        settings = {name: value for name, value in asdict(self).items() if name not in _NOT_IN_FINGERPRINT}
        digest = hashlib.sha256(json.dumps([SANDBOX_VERSION, settings], sort_keys=True).encode())
        for path in sorted(_HARNESS_DIR.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]

    @property
    def worker_count(self) -> int:
        return self.workers or len(os.sched_getaffinity(0))

    def worker_settings(self) -> dict:
        """What every fork server needs to know, sent once when it starts."""
        return {
            "output_limit_bytes": self.output_limit_bytes,
            "max_processes": self.max_processes,
            "max_open_files": self.max_open_files,
            "max_file_size_mb": self.max_file_size_mb,
            "compile_timeout_s": self.compile_timeout_s,
            "compile_memory_mb": self.compile_memory_mb,
            "toolchains": {
                "gxx": self.gxx,
                "javac": self.javac,
                "java": self.java,
                "java_classpath": list(self.java_classpath),
                "node": self.node,
            },
        }

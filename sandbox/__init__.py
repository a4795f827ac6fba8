"""Run untrusted, model-written programs against tests, and return structured verdicts.

    from sandbox import Sandbox, SandboxConfig, Job

    with Sandbox(SandboxConfig(workers=0)) as sb:   # one worker per core
        verdict = sb.run(Job("python", program, test_cases=("assert f(1) == 2",)))
        verdicts = sb.run_many(jobs)                # same order as jobs
        for index, verdict in sb.imap(jobs): ...    # as they finish

This package is standalone: it imports nothing from the rest of ledex.

How a job runs. Each worker slot is a long-lived Python fork server inside its own sandbox
(bubblewrap namespaces by default, or a Docker container). For every job it forks a child
that sets resource limits, starts a new session, and runs the harness: for Python, the
program, then the setup, then each test in the same namespace; for Java, C++ and
JavaScript, the compiler and then the program. After the job the server kills every
process left in the sandbox and wipes its writable directories. The host keeps the next
job queued behind the running one, and replaces a worker that dies.

Threat model. The sandbox is built for programs that are wrong, careless, or written to
game their score, produced by models at scale:

- Containment (bubblewrap): own user, PID, network, mount, IPC and UTS namespaces; no
  network beyond an empty loopback; read-only system directories and no host files
  (no project directory, /root, /work or home); size-capped tmpfs as the only writable
  places; a cleared environment; a non-root uid per worker slot; rlimits on CPU time,
  address space, processes, open files and file size; a wall-clock timeout and an output
  cap per run; every leftover process killed after each job.
- Scoring: a job passes only when the harness itself reached its end and every check held.
  Results travel over a private pipe, tagged with a per-job nonce the program is not given,
  and a final `complete` record is required, so exiting early with status 0, raising
  SystemExit, or killing the harness never passes. Comparisons and truth tests in Python
  test code are rewritten to accept only built-in value types (see
  `harness/strict_checks.py`), so objects with a fake `__eq__`, `__bool__` or `__lt__`
  fail. Replacing builtins, or attributes of modules the tests import, fails the tests.

Limits, honestly:
- Without cgroups (bubblewrap mode) memory is capped per process, not per job: a job may
  use up to max_processes x memory_mb of virtual memory, and the tmpfs mounts add
  2 x tmpfs_mb. The Docker mode adds a memory and PID cgroup per worker.
- There is no seccomp filter: the kernel's whole system-call surface is reachable, as
  with any namespace sandbox. Run it on a patched kernel; prefer Docker/podman with its
  default seccomp profile where that matters.
- Scoring guards stop the gaming that programs do by calling things (exits, kills,
  patching, fake comparisons). A program that deliberately introspects the harness
  (reads the nonce out of its own process memory, rewrites frames with `sys.settrace`,
  edits closure cells via `gc`, or reads its own C++/Java/JavaScript source, which embeds
  the nonce) can still forge a pass. Test code that calls functions or modules the program
  defines trusts what they return.
- Within one worker, SysV IPC objects can outlive a job (files cannot); a program could
  leave one for a later program on the same worker to read.
"""

from .config import SANDBOX_VERSION, SandboxConfig
from .errors import SandboxUnavailable
from .trusted_helpers import prompt_helpers
from .sandbox import Sandbox
from .verdict import LANGUAGES, Job, Status, TestResult, Verdict

__all__ = [
    "LANGUAGES",
    "SANDBOX_VERSION",
    "Job",
    "Sandbox",
    "SandboxConfig",
    "SandboxUnavailable",
    "Status",
    "TestResult",
    "Verdict",
    "prompt_helpers",
]

"""Run untrusted, model-written programs against tests, and return structured verdicts.

    from sandbox import Sandbox, SandboxConfig, Job

    with Sandbox(SandboxConfig(workers=0)) as sb:   # one worker per core
        verdict = sb.run(Job("python", program, test_cases=("assert f(1) == 2",)))
        helpers = prompt_helpers(prompt, "f")      # the prompt's own helpers, run trusted
        verdict = sb.run(Job("python", prompt + completion, test_program=check, trusted_helpers=helpers))
        verdicts = sb.run_many(jobs)                # same order as jobs
        for index, verdict in sb.imap(jobs): ...    # as they finish

This package is standalone: it imports nothing from the rest of ledex.

How a job runs. Each worker slot is a long-lived fork server inside its own sandbox
(bubblewrap namespaces by default, or a Docker container). The verdict is always computed by
trusted code the program cannot reach:

- Python: the program is loaded in a process of its own, forked from a zygote that was
  started before any job and never held one. A trusted driver process (one per worker,
  replaced after any job that did not end cleanly) runs the benchmark's helpers, setup and
  tests with its own builtins; the program's functions are proxies that send the arguments
  and get the result back as plain data (None, bool, int, float, complex, str, bytes, list,
  tuple, dict, set, frozenset; anything else is an opaque handle that fails comparisons).
- C++: the tests and the program are two executables. The driver's holds the test's `main`
  and stand-ins for the program's functions, and no code of the program; the program's
  holds the program and a server that answers each call with its result as bytes
  (arithmetic types, strings, vectors, pairs, tuples, optionals, maps, sets, and `std::any`
  holding a scalar or a string). A `main` of the program's own is renamed, so it still links.
- Java: the tests run in a JVM that never loads a class of the program: each class of the
  program is a proxy there, whose constructors and methods call the program in a JVM of its
  own (objects the tests make stay there, named by a handle) and get the result back as
  data (boxed primitives, strings, big numbers, lists, maps, sets, optionals, javatuples,
  arrays of primitives or strings), rebuilt from JDK and javatuples classes. MultiPL-E's
  `main` runs in a class of its own, launched by name; a test class of its own (a task's,
  HumanEval-X's `Main`) runs whole there. Asserts become checks that cannot be disabled.
- JavaScript: the tests run in a node process of their own, with their own `require` and
  `assert`; the program runs as a script in another node process, and its functions are
  proxies that send the arguments and get the result back as plain data.
- Java and JavaScript drivers cannot make themselves non-dumpable, so in these languages and
  in C++ the program's process runs in a Landlock domain of its own (`harness/landlock.py`):
  it cannot read or trace the driver's memory or descriptors, nor (Landlock ABI 6, Linux
  6.12) signal it. It starts only once the driver has read every file it needs (the C++
  driver's executable and source among them), and those files are removed first: the
  program can neither rewrite the tests nor read them. Nothing the program writes is ever
  loaded by a driver: the Java tests' classes come from a jar the tests' JVM keeps open, and
  JavaScript tests may `require` only node's own modules. Without Landlock in the kernel,
  C++, Java and JavaScript jobs with tests are refused (`SandboxUnavailable`).

After each job the fork server kills every process but the zygote and the driver, removes
the job's files and SysV IPC objects, and retires the worker if the zygote is gone.

Threat model. The sandbox is built for programs that are wrong, careless, or written to
game their score, produced by models at scale (the attack corpus in tests/sandbox/attacks/
grows with every new trick):

- Containment (bubblewrap): own user, PID, network, mount, IPC and UTS namespaces; no
  network beyond an empty loopback; read-only system directories, /proc/sys included, and
  no host files (no project directory, /root, /work or home); size-capped tmpfs as the only
  writable places; a cleared environment; a seccomp filter; a non-root uid per worker slot;
  rlimits on CPU time, address space, processes, open files and file size; a wall-clock
  timeout and an output cap per run; every leftover process killed after each job.
- Scoring: a job passes only when the trusted driver reached its end and every check held.
  Results travel over a pipe only the driver holds, tagged with a per-job nonce no file
  contains. Python programs never share a process with the tests, the report channel or the
  nonce, so exiting, killing, forging report lines, frames, `gc`, `sys.settrace`, shadowed
  builtins or helpers, lying dunder methods, timers and patched modules change nothing but
  the program's own process. The same holds for C++, Java and JavaScript: the program's code
  never runs in the driver's process, so reading the nonce from memory, writing the record,
  lying `operator==` or `equals`, macros, its own `main`, `exit`, disabled assertions,
  patched `assert`, `test` or `require` change nothing but the program's process; a program
  that exits, crashes or is killed during a call, or kills or stops the driver, ends the
  job without a record. No program can read its tests (their expected values): they are
  never in its process, and their files are gone before it starts.
- Between jobs: programs come from a process that never held another job's data, and
  cannot read the memory of the fork server, zygote or driver (none is dumpable); SysV
  objects are removed and sysctls are read-only. A failure while cleaning up retires the
  worker instead of killing it.

Limits, honestly:
- Java values cross only as the data above: a method the tests call that takes or returns a
  class the program defines fails, as do tests that read the program's fields or use its
  nested or generic classes; JavaScript values cross as plain data only (no Map, Set or
  class instances).
  Arguments the program mutates are not written back to the tests, in any language.
- C++ values cross between the tests and the program only for the types above: a function
  the tests call whose parameters or result are of another type (a class or union the
  prompt defines, MultiPL-E's `Union_*`) makes the driver fail to compile, as does one that
  is overloaded (a libc name such as `index`). Arguments passed by non-const reference are
  not written back to the tests.
- Python tests see the program only through calls: they cannot read attributes of or
  mutate objects the program keeps (an MBPP setup that builds a tree with `root.left = ...`
  fails); a function under test named like a builtin (MBPP 126's `sum`) needs
  `Job.entry_point`.
- The driver is trusted with the benchmark's test code; a test that changes module state
  (a `random.seed`) affects later jobs of the same driver.
- Without cgroups (bubblewrap mode) memory is capped per process, not per job: a job may
  use up to max_processes x memory_mb of virtual memory, and the tmpfs mounts add
  2 x tmpfs_mb. The Docker mode adds a memory and PID cgroup per worker.
- The seccomp filter (bubblewrap mode, x86-64; `seccomp.py`) is a denylist of calls
  programs never need (ptrace, process_vm_*, keyrings, mounts, namespaces, modules, BPF,
  perf events, userfaultfd, io_uring): the rest of the kernel's system-call surface stays
  reachable, so a kernel exploit through an allowed call escapes. Run it on a patched
  kernel. The Docker mode relies on Docker's default seccomp profile instead.

Verdicts computed under another `SANDBOX_VERSION` or config should not be reused: key caches
on `SandboxConfig.fingerprint()`.
"""

from .config import SANDBOX_VERSION, SandboxConfig
from .errors import SandboxUnavailable
from .sandbox import Sandbox
from .trusted_helpers import prompt_helpers
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

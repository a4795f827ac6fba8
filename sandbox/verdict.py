"""The sandbox's contract: a `Job` goes in, a `Verdict` comes out.

Nothing here knows about benchmarks or models; callers build jobs from their own records.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field

LANGUAGES = ("python", "java", "cpp", "js")


class Status(str, enum.Enum):
    """Outcome of one job, most specific cause first."""

    PASSED = "passed"
    FAILED = "failed"  # the harness ran to completion and at least one check did not hold
    RUNTIME_ERROR = "runtime_error"  # an exception, a crash, or the harness never finished
    COMPILE_ERROR = "compile_error"  # syntax error (Python) or compiler rejection (javac, g++)
    TIMEOUT = "timeout"
    MEMORY = "memory"
    OUTPUT_LIMIT = "output_limit"


@dataclass(frozen=True)
class Job:
    """One untrusted program and the tests to run it against.

    Python: `program` is loaded as a module in a process of its own; the tests run in a
    trusted driver process: `trusted_helpers` (the benchmark's own helper code, e.g. the
    prompt's functions other than the one under test; see `prompt_helpers`), then `setup`,
    then each entry of `test_cases` in one namespace, each scored on its own. When
    `test_cases` is empty, `test_program` is run as a single test. The tests see the
    program's functions as proxies that call into the program's process and return plain
    data, and its plain-data globals as copies; builtins and the helpers are the driver's own
    (name the function under test in `entry_point` when it has a builtin's name).
    Java, C++, JavaScript: `test_program` is the benchmark's test code (MultiPL-E's `tests`,
    or a `main` after the program); it is compiled or run apart from `program` as a trusted
    test driver (see `sandbox/harness/native.py`). The run passes when it compiles and the
    driver's `main` returns.
    Standard-input problems (APPS, CodeContests): `io_cases` holds (stdin, expected stdout)
    pairs; `program` runs once per pair as the main program, and its output must equal the
    expected output up to whitespace between tokens.
    `timeout_s` is the wall-clock budget of all the job's runs together (compiling excluded);
    `memory_mb` caps the address space of each process.
    """

    language: str
    program: str
    test_cases: tuple[str, ...] = ()
    test_program: str = ""
    setup: str = ""
    io_cases: tuple[tuple[str, str], ...] = ()
    trusted_helpers: str = ""  # Python: benchmark code run in the driver, never the completion's
    entry_point: str = ""  # Python: the function under test, bound even with a builtin's name (MBPP's `sum`)
    timeout_s: float | None = None  # None: the sandbox's configured default
    memory_mb: int | None = None

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"unknown language {self.language!r}; expected one of {LANGUAGES}")
        if not (self.test_cases or self.test_program or self.io_cases):
            raise ValueError("a job needs test_cases, a test_program or io_cases")
        if self.test_cases and self.language != "python":
            raise ValueError(f"test_cases are for Python; {self.language} jobs take a test_program holding main")
        if (self.trusted_helpers or self.entry_point) and self.language != "python":
            raise ValueError("trusted_helpers and entry_point are for Python jobs")


@dataclass(frozen=True)
class TestResult:
    """Outcome of one test case (or of the whole test program when there are no cases)."""

    name: str
    passed: bool
    message: str = ""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    status: Status
    tests: tuple[TestResult, ...] = ()
    message: str = ""  # error text or failing assertion, truncated
    time_s: float = 0.0
    peak_memory_mb: float = 0.0
    details: dict = field(default_factory=dict)

    @property
    def pass_rate(self) -> float:
        """Fraction of test cases that held: S_ut in the LEDEX paper."""
        if not self.tests:
            return 1.0 if self.passed else 0.0
        return sum(t.passed for t in self.tests) / len(self.tests)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["status"] = self.status.value
        return out

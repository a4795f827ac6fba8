"""`Sandbox`: run jobs on a pool of isolated fork servers and turn their replies into verdicts."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait

from .bwrap import BwrapLauncher
from .config import SandboxConfig
from .docker_backend import DockerLauncher
from .errors import SandboxUnavailable
from .harness.protocol import test_names
from .harness.text import truncate
from .verdict import Job, Status, TestResult, Verdict
from .worker import WorkerLost
from .worker_pool import JOBS_PER_WORKER, WorkerPool

_LAUNCHERS = {"bwrap": BwrapLauncher, "docker": DockerLauncher}

# The fork server enforces every time limit itself; the host waits this much longer before
# it declares a worker hung.
_HOST_GRACE_S = 10.0


class Sandbox:
    """Runs untrusted programs against their tests (see the package docstring for the threat model).

    Use as a context manager, or call `close()`; both stop the workers.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        launcher = _LAUNCHERS[self.config.isolation](self.config)
        self._pool = WorkerPool(launcher.start, self.config.worker_count)

    def run(self, job: Job) -> Verdict:
        request = self._request(job)
        return _verdict(request, self._submit(request))

    def run_many(self, jobs: Iterable[Job]) -> list[Verdict]:
        """Verdicts in the order of `jobs`, run in parallel on all workers."""
        verdicts = dict(self.imap(jobs))
        return [verdicts[index] for index in range(len(verdicts))]

    def imap(self, jobs: Iterable[Job]) -> Iterator[tuple[int, Verdict]]:
        """(index in `jobs`, verdict) pairs as jobs finish; `jobs` is consumed lazily."""
        numbered = enumerate(jobs)
        window = self._pool.size * (JOBS_PER_WORKER + 1)  # enough to keep every worker fed
        in_flight: dict[Future, tuple[int, dict]] = {}

        def submit(batch: Iterable[tuple[int, Job]]) -> None:
            for index, job in batch:
                request = self._request(job)
                in_flight[self._submit(request)] = (index, request)

        submit(itertools.islice(numbered, window))
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            submit(itertools.islice(numbered, len(done)))
            for future in done:
                index, request = in_flight.pop(future)
                yield index, _verdict(request, future)

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _request(self, job: Job) -> dict:
        return {
            "language": job.language,
            "program": job.program,
            "test_cases": list(job.test_cases),
            "test_program": job.test_program,
            "setup": job.setup,
            "io_cases": [list(case) for case in job.io_cases],
            "trusted_helpers": job.trusted_helpers,
            "entry_point": job.entry_point,
            "timeout_s": job.timeout_s or self.config.timeout_s,
            "memory_mb": job.memory_mb or self.config.memory_mb,
        }

    def _submit(self, request: dict) -> Future:
        timeout_s = request["timeout_s"] + _HOST_GRACE_S
        if request["language"] != "python":
            timeout_s += self.config.compile_timeout_s
        return self._pool.submit(request, timeout_s)


def _verdict(request: dict, reply: Future) -> Verdict:
    try:
        answer = reply.result()
    except WorkerLost as lost:
        return _lost_verdict(request, lost)
    if "unavailable" in answer:
        raise SandboxUnavailable(answer["unavailable"])
    tests = tuple(TestResult(test["name"], test["passed"], test["message"]) for test in answer["tests"])
    status = Status(answer["status"])
    return Verdict(
        passed=status is Status.PASSED and bool(tests) and all(test.passed for test in tests),
        status=status,
        tests=tests,
        message=answer["message"],
        time_s=answer["time_s"],
        peak_memory_mb=answer["peak_memory_mb"],
        details=answer["details"],
    )


def _lost_verdict(request: dict, lost: WorkerLost) -> Verdict:
    """The verdict of a job whose worker died or hung: never passed."""
    status = Status.TIMEOUT if lost.timed_out else Status.RUNTIME_ERROR
    reason = "not run: the sandbox worker was lost"
    return Verdict(
        passed=False,
        status=status,
        tests=tuple(TestResult(name, False, reason) for name in test_names(request)),
        message=truncate(f"the sandbox worker running this program was lost: {lost}"),
    )

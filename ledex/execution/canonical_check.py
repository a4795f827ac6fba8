"""Run each benchmark's canonical solutions against their own tests, to validate the data."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledex.execution.jobs import canonical_job
from ledex.problems import Problem
from sandbox import Sandbox, Verdict


@dataclass
class CanonicalReport:
    benchmark: str
    checked: int = 0
    passed: int = 0
    failures: dict[str, Verdict] = field(default_factory=dict)
    without_canonical: list[str] = field(default_factory=list)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.checked if self.checked else 0.0

    def to_dict(self) -> dict:
        return {
            "benchmark": self.benchmark,
            "checked": self.checked,
            "passed": self.passed,
            "pass_rate": round(self.pass_rate, 4),
            "failed": {pid: f"{v.status.value}: {v.message}" for pid, v in self.failures.items()},
            "without_canonical": len(self.without_canonical),
        }


def check_canonical(benchmark: str, problems: list[Problem], sandbox: Sandbox) -> CanonicalReport:
    report = CanonicalReport(benchmark)
    checked: list[tuple[Problem, object]] = []
    for problem in problems:
        job = canonical_job(problem)
        if job is None:
            report.without_canonical.append(problem.id)
        else:
            checked.append((problem, job))
    verdicts = sandbox.run_many([job for _, job in checked])
    for (problem, _), verdict in zip(checked, verdicts):
        report.checked += 1
        if verdict.passed:
            report.passed += 1
        else:
            report.failures[problem.id] = verdict
    return report

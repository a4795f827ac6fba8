"""Whether each debugging task holds up in the sandbox: its bug reproduces, and its known fix passes.

A task whose buggy code passes its tests teaches nothing (the bug does not reproduce here), and
a known fix that fails says the tests or the fix are wrong: both make the task invalid. Code
runs as execute-filter and verify run a model's code (`model_job`), so what passes here passes
in the cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ledex.execution.feedback import feedback_text
from ledex.execution.jobs import model_job
from ledex.problems.tasks import DebuggingTask
from sandbox import Sandbox, Verdict


@dataclass(frozen=True)
class TaskCheck:
    """One row of a task file: its task (None when it did not parse) and why it is invalid, if it is.

    `bug` is the buggy code's status and the feedback the teacher would see, on one line; `fix`
    the fix's ("" when the task has none).
    """

    line: int
    task: DebuggingTask | None
    errors: tuple[str, ...] = ()
    bug: str = ""
    fix: str = ""

    @property
    def valid(self) -> bool:
        return not self.errors

    def report(self, path: Path) -> str:
        """One line for the row: `file:line id: ok ...` or `... INVALID: why`; a parse error as it is."""
        if self.task is None:
            return "INVALID: " + "; ".join(self.errors)
        where = f"{path}:{self.line} {self.task.id}"
        if not self.valid:
            return f"{where}: INVALID: " + "; ".join(self.errors)
        fix = f"; fix {self.fix}" if self.fix else "; no known fix"
        return f"{where}: ok: bug reproduces ({self.bug}){fix}"


def check_tasks(
    rows: Iterable[tuple[int, DebuggingTask | ValueError]], sandbox: Sandbox, timeout_s: float
) -> list[TaskCheck]:
    """A `TaskCheck` per row, in order: parse errors as they are, each parsed task run in `sandbox`."""
    rows = list(rows)
    tasks = [(line, task) for line, task in rows if isinstance(task, DebuggingTask)]
    jobs = [model_job(task.problem, task.buggy_code, timeout_s=timeout_s) for _, task in tasks]
    with_fix = [(line, task) for line, task in tasks if task.fix is not None]
    jobs += [model_job(task.problem, task.fix, timeout_s=timeout_s) for _, task in with_fix]
    verdicts = sandbox.run_many(jobs)
    bug = {line: verdict for (line, _), verdict in zip(tasks, verdicts)}
    fix = {line: verdict for (line, _), verdict in zip(with_fix, verdicts[len(tasks) :])}
    return [
        _checked(line, task, bug[line], fix.get(line))
        if isinstance(task, DebuggingTask)
        else TaskCheck(line=line, task=None, errors=(str(task),))
        for line, task in rows
    ]


def _checked(line: int, task: DebuggingTask, bug: Verdict, fix: Verdict | None) -> TaskCheck:
    errors = []
    if bug.passed:
        errors.append("the bug does not reproduce: buggy_code passes every test")
    if fix is not None and not fix.passed:
        errors.append(f"the fix fails its tests: {_outcome(fix)}")
    return TaskCheck(
        line=line,
        task=task,
        errors=tuple(errors),
        bug=_outcome(bug),
        fix="" if fix is None else _outcome(fix),
    )


def _outcome(verdict: Verdict, width: int = 200) -> str:
    """ "passes", or the status and feedback on one line of at most `width` characters."""
    if verdict.passed:
        return "passes"
    text = " | ".join(line.strip() for line in feedback_text(verdict).splitlines() if line.strip())
    text = f"{verdict.status.value}: {text}"
    return text if len(text) <= width else text[: width - 3] + "..."

"""The task inbox (`data.tasks`): the debugging tasks the next cycle's explain-refine and verify get.

Adding is de-duplicated by id and by content (language, prompt, test and buggy code): a task
already there is a duplicate; the same id with other content, or the same content under another
id, is a conflict, reported and not added. Each added task is stamped with `added_at` (UTC, ISO
8601), which tells the tasks a champion has not been trained on (docs/weekly_cycle.md). The inbox
is rewritten atomically (a temporary file renamed over it), so a failure part-way leaves it as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from ledex.pipeline.jsonl import write_jsonl
from ledex.problems.tasks import DebuggingTask, load_tasks


@dataclass
class InboxAddition:
    """What `add_to_inbox` did: the ids added, the duplicates, and each conflict's reason."""

    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def add_to_inbox(inbox: Path, tasks: Iterable[DebuggingTask], now: datetime | None = None) -> InboxAddition:
    """Append the tasks not in `inbox` yet (created with its folder when absent), stamped `added_at`
    `now` (default: the current UTC time)."""
    added_at = (now or datetime.now(UTC)).isoformat(timespec="milliseconds")
    existing = load_tasks(inbox)
    rows = {task.id: task.to_row() for task in existing}
    unstamped = {task.id: _unstamped(task) for task in existing}
    ids_by_content = {_content(task): task.id for task in existing}
    result = InboxAddition()
    for task in tasks:
        content = _content(task)
        if unstamped.get(task.id) == _unstamped(task):
            result.duplicates.append(task.id)
        elif task.id in rows:
            result.conflicts.append(f"{task.id}: the inbox holds another task with this id")
        elif content in ids_by_content:
            result.conflicts.append(f"{task.id}: the inbox holds the same task as {ids_by_content[content]}")
        else:
            rows[task.id], ids_by_content[content] = replace(task, added_at=added_at).to_row(), task.id
            unstamped[task.id] = _unstamped(task)
            result.added.append(task.id)
    if result.added:
        inbox.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(inbox, rows.values())
    return result


def _unstamped(task: DebuggingTask) -> dict:
    """The task's row without its inbox stamp: what makes a second addition a duplicate."""
    return replace(task, added_at="").to_row()


def _content(task: DebuggingTask) -> tuple[str, ...]:
    return (task.problem.language, task.problem.prompt, task.test, task.buggy_code)

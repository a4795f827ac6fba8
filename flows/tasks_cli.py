"""`ledex tasks ...`: check debugging-task files and add them to the task inbox (docs/tasks.md)."""

from __future__ import annotations

from pathlib import Path


def add_tasks_commands(commands) -> None:
    tasks = commands.add_parser("tasks", help="debugging tasks from real work: check them, add them to the inbox")
    actions = tasks.add_subparsers(required=True, metavar="ACTION")

    check = actions.add_parser("check", help="validate a task file in the sandbox; changes nothing")
    check.add_argument("file", type=Path)
    check.set_defaults(command=_check)

    add = actions.add_parser("add", help="add a task file's valid tasks to the inbox the next cycle reads (data.tasks)")
    add.add_argument("file", type=Path)
    add.set_defaults(command=_add)


def _checked(args) -> tuple[list, object]:
    """Every row of the file checked in the sandbox, each reported; and the params."""
    from ledex.execution.task_check import check_tasks
    from ledex.pipeline.config import load_params
    from ledex.problems.tasks import read_tasks
    from sandbox import Sandbox

    params = load_params(args.params)
    if not args.file.is_file():
        raise ValueError(f"{args.file}: no such file")
    rows = list(read_tasks(args.file))
    with Sandbox(params.sandbox) as sandbox:
        checks = check_tasks(rows, sandbox, timeout_s=params.execute_filter.timeout_s)
    for check in checks:
        print(check.report(args.file))
    return checks, params


def _check(args) -> int:
    checks, _ = _checked(args)
    invalid = sum(not check.valid for check in checks)
    print(f"{args.file}: {len(checks) - invalid} valid, {invalid} invalid of {len(checks)} rows")
    return 1 if invalid or not checks else 0


def _add(args) -> int:
    from ledex.problems.task_inbox import add_to_inbox

    checks, params = _checked(args)
    result = add_to_inbox(params.data.tasks, [check.task for check in checks if check.valid])
    for conflict in result.conflicts:
        print(f"{args.file}: not added: {conflict}")
    rejected = sum(not check.valid for check in checks) + len(result.conflicts)
    print(f"{params.data.tasks}: {len(result.added)} added, {len(result.duplicates)} duplicate, {rejected} rejected")
    return 1 if rejected else 0

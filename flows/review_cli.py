"""`ledex review ...`: the expert review app's commands (docs/review.md)."""

from __future__ import annotations

import getpass
import json
import sys
from contextlib import contextmanager
from pathlib import Path


def add_review_commands(commands) -> None:
    review = commands.add_parser("review", help="expert review app and its feedback data")
    actions = review.add_subparsers(required=True, metavar="ACTION")

    serve = actions.add_parser("serve", help="serve the review app on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="(default: %(default)s)")
    serve.set_defaults(command=_serve)

    add = actions.add_parser("add-reviewer", help="create a reviewer account, or set a new password")
    add.add_argument("name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(command=_add_reviewer)

    load = actions.add_parser("load", help="add the week's answers (data/answer_tasks) as review items")
    load.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="PATH",
        help="JSONL of refinements to load instead of the week's answers, e.g. data/verify/trajectories.jsonl "
        "(row shape: docs/review.md)",
    )
    load.set_defaults(command=_load)

    status = actions.add_parser("status", help="the current batch's progress and reviewer agreement")
    status.add_argument("--json", action="store_true", help="print it as JSON")
    status.set_defaults(command=_status)

    imports = actions.add_parser("import", help="import items and judgments from a Label Studio JSON export")
    imports.add_argument("file", type=Path)
    imports.set_defaults(command=_import)

    export = actions.add_parser("export", help="write data/feedback (as the review-export stage), or Label Studio JSON")
    export.add_argument(
        "--label-studio", type=Path, metavar="FILE", help="write Label Studio tasks and FILE's labeling config"
    )
    export.set_defaults(command=_export)


@contextmanager
def _database(args):
    """A session on the configured review database, committed on success, and the params."""
    from sqlalchemy.orm import Session

    from ledex.pipeline.config import load_params
    from review.db import database_url, open_engine

    params = load_params(args.params)
    engine = open_engine(database_url(params.review))
    try:
        with Session(engine) as session, session.begin():
            yield session, params
    finally:
        engine.dispose()


def _tiers(params) -> list[str]:
    return list(params.reward_fit.severity_weights)


def _serve(args) -> int:
    from ledex.pipeline.config import load_params
    from review.app import serve
    from review.db import database_url, open_engine

    params = load_params(args.params)
    serve(open_engine(database_url(params.review)), params, args.port)
    return 0


def _add_reviewer(args) -> int:
    from review.accounts import add_reviewer

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("Again: ") != password:
            raise ValueError("the passwords differ")
    with _database(args) as (session, _):
        add_reviewer(session, args.name, password)
    print(f"reviewer {args.name} can sign in")
    return 0


def _load(args) -> int:
    from ledex.execution.severity import SeverityWeights
    from review.items import load_pipeline_items

    with _database(args) as (session, params):
        added = load_pipeline_items(session, SeverityWeights.from_params(params.reward_fit), source=args.source)
    print(f"{added} new review item(s)")
    return 0


def _status(args) -> int:
    from review.progress import batch_progress, progress_text

    with _database(args) as (session, params):
        progress = batch_progress(session, params.review.outlier_alpha_gain)
    print(json.dumps(progress, sort_keys=True) if args.json else progress_text(progress))
    return 0


def _import(args) -> int:
    from review.label_studio import import_tasks, read_tasks

    with _database(args) as (session, params):
        counts = import_tasks(session, read_tasks(args.file), _tiers(params))
    print(json.dumps(counts))
    return 0


def _export(args) -> int:
    if args.label_studio is None:
        from ledex.pipeline.config import load_params
        from review.export import export_feedback

        print(json.dumps(export_feedback(load_params(args.params)), sort_keys=True))
        return 0
    from review.label_studio import export_tasks, labeling_config

    with _database(args) as (session, params):
        tasks = export_tasks(session)
    args.label_studio.write_text(json.dumps(tasks, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    config = args.label_studio.with_suffix(".label_config.xml")
    config.write_text(labeling_config(_tiers(params)), encoding="utf-8")
    print(f"{len(tasks)} task(s) in {args.label_studio}; labeling config in {config}")
    return 0

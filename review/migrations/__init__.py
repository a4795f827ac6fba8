"""Alembic migrations of the review database, run programmatically (no alembic.ini).

`upgrade(engine)` brings any database, SQLite or PostgreSQL, to the newest revision; every
entry point calls it, so a new release migrates the database on first use. A new revision is
a new file in versions/ whose `down_revision` is the newest one's `revision`;
tests/review/test_db.py checks that the migrations build exactly the schema review/db.py declares.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

HERE = Path(__file__).parent


def config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(config(engine), revision)

"""The review database: reviewers, the items they review, their judgments and export batches.

Judgments are append-only: saving a review again adds a row, and a reviewer's current judgment
of an item is their newest one. An export batch records the newest judgment id it included (its
watermark), so each weekly cycle knows which judgments are new. The schema is created and
upgraded by the Alembic migrations in review/migrations (`migrations.upgrade`), never by
`create_all`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import JSON

from ledex.pipeline.config import ReviewParams

DATABASE_ENV = "LEDEX_REVIEW_DATABASE"

HALLUCINATIONS = {
    "nonexistent_api": "Non-existent API",
    "misread_error": "Misread error or traceback",
    "wrong_root_cause": "Wrong root cause",
}
GRADES = ("correctness", "clarity", "usefulness")
VOTES = {1: "up", 0: "none", -1: "down"}


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored naive, in UTC, on every backend


class Base(DeclarativeBase):
    pass


class Reviewer(Base):
    __tablename__ = "reviewers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))  # None: imported, cannot sign in
    created_at: Mapped[datetime] = mapped_column(default=now)


class Item(Base):
    """One refinement of a wrong solution, with everything a reviewer needs to judge it."""

    __tablename__ = "items"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)  # the refinement id
    problem_id: Mapped[str] = mapped_column(String(256))
    sample_id: Mapped[str] = mapped_column(String(256), index=True)  # the wrong solution
    kind: Mapped[str] = mapped_column(String(32))  # "explain_refine" or "refine"
    language: Mapped[str] = mapped_column(String(32))
    task: Mapped[str] = mapped_column(Text)  # what the model was asked to solve
    wrong_code: Mapped[str] = mapped_column(Text)
    feedback: Mapped[str] = mapped_column(Text)  # the execution feedback the teacher saw
    severity: Mapped[str] = mapped_column(String(64))  # the pipeline's tier of the bug
    explanation: Mapped[str] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(Text)  # None: no code could be parsed
    answer: Mapped[str] = mapped_column(Text)  # the answer as SFT and the reward model see it
    passed: Mapped[bool]
    status: Mapped[str] = mapped_column(String(32))  # the refinement's sandbox verdict
    pass_rate: Mapped[float]
    messages: Mapped[list] = mapped_column(JSON)  # the chat that asked for the refinement
    # `Problem.to_dict()`: the tests that check corrections; None for items loaded before they were kept
    problem: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    loaded_at: Mapped[datetime] = mapped_column(default=now)

    judgments: Mapped[list[Judgment]] = relationship(back_populates="item", order_by="Judgment.id")


class Judgment(Base):
    __tablename__ = "judgments"
    __table_args__ = (
        *(CheckConstraint(f"{grade} BETWEEN 1 AND 5", name=f"{grade}_grade") for grade in GRADES),
        CheckConstraint("vote IN (-1, 0, 1)", name="vote_value"),
        Index("ix_judgments_item_reviewer", "item_id", "reviewer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"))
    correctness: Mapped[int]
    clarity: Mapped[int]
    usefulness: Mapped[int]
    vote: Mapped[int]  # 1 up, 0 none, -1 down
    hallucination: Mapped[str] = mapped_column(String(32))  # a key of HALLUCINATIONS, "" for none
    severity: Mapped[str] = mapped_column(String(64))  # the bug's tier as this reviewer sets it
    corrected_explanation: Mapped[str] = mapped_column(Text)
    corrected_code: Mapped[str] = mapped_column(Text)  # "": the model's code stands
    # The sandbox's verdict on corrected_code (`review.corrections`): None until it has run.
    correction_status: Mapped[str | None] = mapped_column(String(32))
    correction_message: Mapped[str] = mapped_column(Text, default="")  # the failure, as feedback text
    created_at: Mapped[datetime] = mapped_column(default=now)

    item: Mapped[Item] = relationship(back_populates="judgments")
    reviewer: Mapped[Reviewer] = relationship()

    @property
    def grade(self) -> float:
        return (self.correctness + self.clarity + self.usefulness) / len(GRADES)

    @property
    def corrects(self) -> bool:
        return bool(self.corrected_explanation.strip() or self.corrected_code.strip())


class ExportBatch(Base):
    __tablename__ = "export_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    watermark: Mapped[int]  # the newest judgment id in this batch
    created_at: Mapped[datetime] = mapped_column(default=now)


class Setting(Base):
    """Values the app keeps across restarts, such as the key that signs session cookies."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def database_url(settings: ReviewParams) -> str:
    """$LEDEX_REVIEW_DATABASE, else `review.database` of params.yaml."""
    return os.environ.get(DATABASE_ENV) or settings.database


def database_exists(url: str) -> bool:
    """False only for a SQLite file that is not there yet (a server database is assumed to exist)."""
    parsed = make_url(url)
    return parsed.get_backend_name() != "sqlite" or not parsed.database or Path(parsed.database).exists()


def open_engine(url: str) -> Engine:
    """An engine on `url`, its schema upgraded to the newest migration."""
    from review.migrations import upgrade

    engine = create_engine(url)
    upgrade(engine)
    return engine

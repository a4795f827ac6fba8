"""The item list: items in natural order of their ids, filtered as the reviewer asks, one page at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from review.db import Item, Judgment

PAGE_SIZE = 50


def natural_key(text: str) -> tuple:
    """Digits compare as numbers: HumanEval/2 sorts before HumanEval/10.

    >>> sorted(["HumanEval/10#s0", "HumanEval/2#s1", "HumanEval/2#s0"], key=natural_key)
    ['HumanEval/2#s0', 'HumanEval/2#s1', 'HumanEval/10#s0']
    """
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


@dataclass(frozen=True)
class ItemFilter:
    """Which items the list shows: by language, by the pipeline's severity tier, only those this
    reviewer has not judged yet. Empty fields do not filter."""

    language: str = ""
    severity: str = ""
    unreviewed: bool = False

    def query_string(self, **extra) -> str:
        """The filter as URL query parameters (empty ones left out), plus `extra`, for page links."""
        fields = {"language": self.language, "severity": self.severity, "unreviewed": "1" if self.unreviewed else ""}
        return urlencode({key: value for key, value in {**fields, **extra}.items() if value})


@dataclass(frozen=True)
class Row:
    id: str
    problem_id: str
    kind: str
    language: str
    severity: str
    status: str
    passed: bool
    pass_rate: float
    reviewers: int  # how many reviewers judged it
    mine: bool  # this reviewer judged it


def item_rows(session: Session, reviewer_id: int, shown: ItemFilter) -> list[Row]:
    """Every item `shown` lets through, in natural order of ids."""
    mine = func.max(case((Judgment.reviewer_id == reviewer_id, 1), else_=0))
    query = (
        select(
            Item.id,
            Item.problem_id,
            Item.kind,
            Item.language,
            Item.severity,
            Item.status,
            Item.passed,
            Item.pass_rate,
            func.count(func.distinct(Judgment.reviewer_id)),
            mine,
        )
        .outerjoin(Judgment)
        .group_by(Item.id)
    )
    if shown.language:
        query = query.where(Item.language == shown.language)
    if shown.severity:
        query = query.where(Item.severity == shown.severity)
    if shown.unreviewed:
        query = query.having(mine == 0)
    rows = [Row(*row[:-1], mine=bool(row[-1])) for row in session.execute(query)]
    return sorted(rows, key=lambda row: natural_key(row.id))


def page_of(rows: list[Row], page: int) -> tuple[list[Row], int, int]:
    """(the rows of page `page`, clamped to the pages there are; that page; how many pages)."""
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], page, pages


def reviewed_by(session: Session, reviewer_id: int) -> tuple[int, int]:
    """(items this reviewer judged, items in all)."""
    judged = session.scalar(
        select(func.count(func.distinct(Judgment.item_id))).where(Judgment.reviewer_id == reviewer_id)
    )
    return judged, session.scalar(select(func.count(Item.id)))


def languages(session: Session) -> list[str]:
    """The items' languages, for the filter's choices."""
    return sorted(session.scalars(select(Item.language).distinct()))


def next_unreviewed(session: Session, reviewer_id: int) -> str | None:
    """The first item, in natural order, this reviewer has not judged yet."""
    judged = select(Judgment.item_id).where(Judgment.reviewer_id == reviewer_id)
    return min(session.scalars(select(Item.id).where(Item.id.not_in(judged))), key=natural_key, default=None)

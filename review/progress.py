"""The current batch's progress, for `ledex review status`: what has been judged since the last
export, by whom, and how well the reviewers agree (as `review-export` will measure it)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from review.agreement import agreement
from review.db import ExportBatch, Item, Judgment
from review.export import current


def batch_progress(session: Session, outlier_alpha_gain: float) -> dict:
    """Judgments since the last export batch: items judged, how many reviewers each, judgments per
    reviewer, and the agreement over the current judgments of those items."""
    watermark = session.scalar(select(func.max(ExportBatch.watermark))) or 0
    judgments = list(session.scalars(select(Judgment).options(selectinload(Judgment.reviewer))))
    new = [j for j in judgments if j.id > watermark]
    reviewers_of: dict[str, set[str]] = {}
    for judgment in new:
        reviewers_of.setdefault(judgment.item_id, set()).add(judgment.reviewer.name)
    newest = max((j.id for j in judgments), default=0)
    report = agreement([j for j in current(judgments, newest) if j.item_id in reviewers_of], outlier_alpha_gain)
    return {
        "since_batch": session.scalar(select(func.max(ExportBatch.id))),
        "judgments": len(new),
        "items": session.scalar(select(func.count(Item.id))),
        "items_judged": len(reviewers_of),
        "items_by_reviewers": dict(sorted(Counter(len(names) for names in reviewers_of.values()).items())),
        "items_by_reviewer": dict(sorted(Counter(name for names in reviewers_of.values() for name in names).items())),
        "agreement": report.to_dict(),
    }


def progress_text(progress: dict) -> str:
    """The progress as a few lines for a terminal."""
    since = f"since export batch {progress['since_batch']}" if progress["since_batch"] else "no export yet"
    alpha = progress["agreement"]["alpha"]
    lines = [
        f"Current batch ({since}): {progress['judgments']} judgment(s)",
        f"Items: {progress['items_judged']} of {progress['items']} judged in this batch",
        *(f"  by {count} reviewer(s): {items} item(s)" for count, items in progress["items_by_reviewers"].items()),
        "Reviewers (items judged): "
        + (", ".join(f"{name} {n}" for name, n in progress["items_by_reviewer"].items()) or "none"),
        "Agreement (Krippendorff's alpha): "
        + ", ".join(f"{what} {'n/a' if value is None else value}" for what, value in alpha.items())
        + f"; outliers: {', '.join(progress['agreement']['outliers']) or 'none'}",
    ]
    return "\n".join(lines)

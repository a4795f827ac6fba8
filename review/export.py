"""The expert judgments as training data, for the `review-export` stage (`stages/review_export.py`).

Each export is a cycle of the weekly loop. Judgments saved since the last export form a new batch
(its watermark is the newest judgment id). Per batch, the reviewers' agreement is measured and
the judgments of its outlier reviewers are left out. From every reviewer's current judgment of
each item (`review.datasets`) it writes `data/feedback/preferences.jsonl` (`records.Preference`,
read by `reward-fit`), `data/feedback/demonstrations.jsonl` (`records.Demonstration`, read by
`sft`) and `data/feedback/severity.jsonl` (each reviewed wrong solution's tier, which overrides the
pipeline's in `reward-fit` and `ppo`); `metrics/review_export.json` reports the batches. With no
database or no judgments the files are empty and the pipeline trains as it does without review.
Corrected code the app has not run yet is run first (`review.corrections`): only a correction
that passes its tests becomes a demonstration or the chosen answer of a pair.
"""

from __future__ import annotations

import bisect
import logging
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ledex.evaluation.bootstrap import Interval, PerProblem, interval
from ledex.pipeline.config import Params
from ledex.pipeline.jsonl import write_jsonl
from ledex.pipeline.paths import DEMONSTRATIONS, FEEDBACK, PREFERENCES, REVIEWED_SEVERITY
from review.agreement import agreement
from review.corrections import check_corrections
from review.datasets import build, reviewed_tiers
from review.db import HALLUCINATIONS, ExportBatch, Item, Judgment, database_exists, database_url, open_engine

log = logging.getLogger("ledex.review")


def write_empty() -> dict:
    """Empty feedback files: with no review database the pipeline trains as it does without review."""
    FEEDBACK.mkdir(parents=True, exist_ok=True)
    write_jsonl(PREFERENCES, [])
    write_jsonl(DEMONSTRATIONS, [])
    write_jsonl(REVIEWED_SEVERITY, [])
    return {
        "batch": None,
        "new_batch": False,
        "judgments": 0,
        "preferences": 0,
        "demonstrations": 0,
        "batches": {},
        "kpis": {},
    }


def cut_batch(session: Session) -> ExportBatch | None:
    """A new batch up to the newest judgment, or None when nothing was judged since the last one."""
    last = session.scalar(select(func.max(ExportBatch.watermark))) or 0
    newest = session.scalar(select(func.max(Judgment.id))) or 0
    if newest <= last:
        return None
    batch = ExportBatch(watermark=newest)
    session.add(batch)
    session.flush()
    return batch


def current(judgments: Iterable[Judgment], up_to: int) -> list[Judgment]:
    """Each reviewer's newest judgment of each item among ids <= `up_to`, oldest first."""
    newest: dict[tuple[str, int], Judgment] = {}
    for judgment in sorted(judgments, key=lambda j: j.id):
        if judgment.id <= up_to:
            newest[judgment.item_id, judgment.reviewer_id] = judgment
    return sorted(newest.values(), key=lambda j: j.id)


def batch_ids(judgments: list[Judgment], batches: list[ExportBatch]) -> dict[int, int]:
    """{judgment id: id of the batch it fell in}; judgments newer than the last batch are left out."""
    watermarks = [batch.watermark for batch in batches]
    return {
        judgment.id: batches[bisect.bisect_left(watermarks, judgment.id)].id
        for judgment in judgments
        if watermarks and judgment.id <= watermarks[-1]
    }


def flag_kpis(judgments: list[Judgment], items: set[int], *, resamples: int, seed: int) -> dict[str, Interval]:
    """Reviewers' hallucination flags on `items` (the last batch's), from their current `judgments`:
    `review.flagged.<flag>` (and `.any`) is the mean over items of the share of their reviewers who
    set that flag (one reviewer an item: the share of items flagged), with its 95% CI over items."""
    by_item: dict[int, list[str]] = {}
    for judgment in judgments:
        if judgment.item_id in items:
            by_item.setdefault(judgment.item_id, []).append(judgment.hallucination)
    if not by_item:
        return {}
    total = sum(map(len, by_item.values()))
    kpis = {}
    for flag in (*HALLUCINATIONS, "any"):
        shares = {
            str(item): (sum(f == flag or (flag == "any" and bool(f)) for f in flags) / len(flags), 1.0)
            for item, flags in by_item.items()
        }
        kpis[f"review.flagged.{flag}"] = interval(PerProblem(shares, total), resamples=resamples, seed=seed)
    return kpis


def export(session: Session, params: Params) -> dict:
    """Run unverified corrections, cut a batch, write the files, return the metrics."""
    settings = params.review
    check_corrections(session, params.sandbox, params.verify.timeout_s)
    new_batch = cut_batch(session)
    batches = list(session.scalars(select(ExportBatch).order_by(ExportBatch.watermark)))
    judgments = list(session.scalars(select(Judgment).options(selectinload(Judgment.reviewer))))
    batch_of = batch_ids(judgments, batches)

    reports, outliers = {}, {}
    previous, items = 0, set()
    for batch in batches:
        new = [j for j in judgments if previous < j.id <= batch.watermark]
        items = {j.item_id for j in new}
        report = agreement(
            [j for j in current(judgments, batch.watermark) if j.item_id in items], settings.outlier_alpha_gain
        )
        reports[str(batch.id)] = {"judgments": len(new), "created_at": batch.created_at.isoformat(), **report.to_dict()}
        outliers[batch.id] = set(report.outliers)
        previous = batch.watermark

    latest = current(judgments, batches[-1].watermark) if batches else []
    kept = [j for j in latest if j.reviewer.name not in outliers[batch_of[j.id]]]
    bootstrap = {"resamples": params.evaluate.bootstrap_samples, "seed": params.evaluate.seed}
    kpis = flag_kpis(kept, items, **bootstrap)  # `items`: the last batch's
    items = {item.id: item for item in session.scalars(select(Item).where(Item.id.in_({j.item_id for j in kept})))}
    preferences, demonstrations = build(items, kept, batch_of, settings, params.reward_fit.severity_weights)
    FEEDBACK.mkdir(parents=True, exist_ok=True)
    write_jsonl(PREFERENCES, preferences)
    write_jsonl(DEMONSTRATIONS, demonstrations)
    tiers = reviewed_tiers(items, kept, params.reward_fit.severity_weights)
    write_jsonl(REVIEWED_SEVERITY, tiers)
    return {
        "batch": batches[-1].id if batches else None,
        "new_batch": new_batch is not None,
        "judgments": len(latest),
        "outlier_judgments_left_out": len(latest) - len(kept),
        "hallucinations": dict(Counter(j.hallucination for j in kept if j.hallucination)),
        "corrected_code": dict(Counter(j.correction_status for j in kept if j.corrected_code)),
        "preferences": len(preferences),
        "preferences_by_source": dict(Counter(row["source"] for row in preferences)),
        "demonstrations": len(demonstrations),
        "severity": dict(Counter(row["severity"] for row in preferences)),
        "reviewed_tiers": dict(Counter(row["severity"] for row in tiers)),
        "batches": reports,
        "kpis": {name: estimate.to_dict() for name, estimate in kpis.items()},
    }


def export_feedback(params: Params) -> dict:
    """Export the judgments of the review database (`params.review`); empty files when there is none."""
    url = database_url(params.review)
    if not database_exists(url):
        log.info("review-export: no review database at %s; writing empty feedback files", url)
        return write_empty()
    engine = open_engine(url)
    try:
        with Session(engine) as session, session.begin():
            return export(session, params)
    finally:
        engine.dispose()

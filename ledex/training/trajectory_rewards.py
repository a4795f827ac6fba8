"""The LEDEX rewards of refinement trajectories (paper 2.3, Figure 3), grouped by wrong solution w.

Every refinement r of w, successful or not, gets S_cb (mean CodeBLEU against its references,
leave-one-out: `ledex.training.references`; None when there is none), S_ut (its pass rate) and, for
a non-empty explain+refine explanation, S_ex (mean cosine similarity to E_c^w less its own
explanation; None when that is empty). R(e)'s projection is the paper's or fitted on these S_ex
(`reward_fit.projection`); a positive reward is also scaled by the weight of w's severity tier.
CodeBLEU, the slow part, runs in a pool of spawned processes, each (program, reference) pair once.
"""

from __future__ import annotations

import ctypes
import logging
import signal
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import get_context

import numpy as np

from ledex.execution.severity import SeverityWeights, weighted
from ledex.pipeline.config import RewardFitParams
from ledex.pipeline.paths import EXECUTIONS
from ledex.pipeline.records import Execution, Kind, Record, VerifiedRefinement
from ledex.training.references import References
from ledex.training.rewards import ExplanationProjection, code_reward, codebleu, s_cb, s_ex

PR_SET_PDEATHSIG = 1  # linux/prctl.h
SCORING = "leave-one-out, canonical fallback"  # in the checkpoint's fingerprint: older scores are redone
SCORES = ("S_cb", "S_ut", "S_ex", "R_r", "R_e", "R_r_weighted", "R_e_weighted")

log = logging.getLogger("ledex.reward_fit")


@dataclass(frozen=True)
class TrajectoryReward(Record):
    """`data/reward_fit/rewards.jsonl`: one refinement trajectory and its rewards."""

    id: str
    sample_id: str  # the wrong solution w
    problem_id: str
    kind: Kind
    passed: bool  # the refinement passed every test
    severity: str  # w's bug tier
    severity_weight: float
    reference: str  # ReferenceSource of S_cb: verified | canonical | none
    verified_refinements: int  # |R_c^w| less this refinement
    verified_explanations: int  # |E_c^w| less this explanation; 0: no S_ex
    S_cb: float | None  # None: no reference at all, or no code parsed
    S_ut: float
    S_ex: float | None  # None: refine-only, empty explanation, or E_c^w (leave-one-out) empty
    R_r: float
    R_e: float | None
    R_r_weighted: float
    R_e_weighted: float | None


def by_wrong_solution(records: Iterable[VerifiedRefinement]) -> dict[str, list[VerifiedRefinement]]:
    groups: dict[str, list[VerifiedRefinement]] = {}
    for record in records:
        groups.setdefault(record.sample_id, []).append(record)
    return groups


def code_job(group: list[VerifiedRefinement], references: References, language: str) -> tuple:
    """Each refinement of w with code, its leave-one-out references, and the language."""
    items = [
        (t.id, t.code, references.code(t.sample_id, t.problem_id, exclude=t.id).codes)
        for t in group
        if t.code is not None
    ]
    return items, language


def code_similarities(job: tuple[list, str]) -> dict[str, float]:
    """S_cb of each refinement of one wrong solution that has a reference (runs in a worker process)."""
    items, language = job
    pair = lru_cache(maxsize=None)(codebleu)  # a program and a reference are compared once
    return {trajectory: s_cb(code, refs, language, pair) for trajectory, code, refs in items if refs}


def map_in_processes(function: Callable, jobs: list, workers: int) -> Iterator:
    """`function` over `jobs` in order, in `workers` spawned processes (in this one when 1)."""
    if workers == 1 or len(jobs) <= 1:
        yield from map(function, jobs)
        return
    pool = ProcessPoolExecutor(min(workers, len(jobs)), mp_context=get_context("spawn"), initializer=_die_with_parent)
    try:
        yield from pool.map(function, jobs)
    finally:
        pool.shutdown(cancel_futures=True)


def _die_with_parent() -> None:
    """A worker ends when the stage is killed (SIGKILL leaves no chance to shut the pool down)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def explained(t: VerifiedRefinement) -> bool:
    return t.kind.explains and bool(t.explanation.strip())


def embed_explanations(
    todo: list[str], groups: dict, references: References, settings: RewardFitParams
) -> dict[str, np.ndarray]:
    """Embeddings of every explanation S_ex needs for the wrong solutions still to score."""
    texts = set()
    for wrong_id in todo:
        truth = references.explanations(wrong_id)
        if truth:
            texts.update(truth)
            texts.update(t.explanation for t in groups[wrong_id] if explained(t))
    if not texts:
        return {}
    from ledex.training.embeddings import SentenceEncoder

    ordered = sorted(texts)
    encoder = SentenceEncoder(settings.embedding_model, settings.embedding_batch_size)
    return dict(zip(ordered, encoder.encode(ordered)))


def score_rows(
    group, references: References, s_cb_by_id: dict[str, float], embeddings: dict[str, np.ndarray]
) -> list[dict]:
    """S_cb, S_ex and the reference source of each refinement of one w, all leave-one-out."""
    rows = []
    for t in group:
        truth = references.explanations(t.sample_id, exclude=t.id) if explained(t) else []
        rows.append(
            {
                "id": t.id,
                "reference": references.code(t.sample_id, t.problem_id, exclude=t.id).source.value,
                "S_cb": s_cb_by_id.get(t.id),
                "S_ex": s_ex(embeddings[t.explanation], np.stack([embeddings[e] for e in truth])) if truth else None,
            }
        )
    return rows


def severity_tier(wrong_id: str, executions: dict[str, Execution], severity: SeverityWeights) -> str:
    if wrong_id not in executions:
        raise ValueError(f"{EXECUTIONS}: no execution of wrong solution {wrong_id}")
    try:
        return severity.tier_of(executions[wrong_id])
    except ValueError as err:
        raise ValueError(f"{EXECUTIONS}: {wrong_id}: {err}") from None


def fit_projection(
    s_ex_and_outcome: list[tuple[float | None, bool]], settings: RewardFitParams
) -> tuple[ExplanationProjection, dict]:
    """R(e)'s projection: the paper's, or (`projection: fitted`) fitted on the leave-one-out S_ex,
    the paper's when too few of either outcome, saying why."""
    points = [(value, passed) for value, passed in s_ex_and_outcome if value is not None]
    correct = sum(passed for _, passed in points)
    counts = {"followed_by_correct": correct, "followed_by_wrong": len(points) - correct}
    if settings.projection == "paper":
        return ExplanationProjection(), {**_bounds(ExplanationProjection()), "source": "paper", **counts}
    if min(counts.values()) >= settings.min_fit_points:
        try:
            values, labels = zip(*points)
            projection = ExplanationProjection.fit(values, labels, settings.fit_coverage)
            return projection, {**_bounds(projection), "source": "fitted", **counts}
        except ValueError as err:  # no spread in S_ex: lo == hi
            reason = f"cannot fit: {err}"
    else:
        reason = f"fitting needs {settings.min_fit_points} explanations followed by each outcome"
    projection = ExplanationProjection()
    log.info("reward-fit: paper's R(e) projection (%s; have %s)", reason, counts)
    return projection, {**_bounds(projection), "source": "paper", "reason": reason, **counts}


def _bounds(projection: ExplanationProjection) -> dict:
    return {"lo": projection.lo, "hi": projection.hi, "border": projection.border}


def reward_row(t, scores: dict, references: References, tier: str, severity: SeverityWeights, projection) -> dict:
    weight = severity.weight(tier)
    r_r = code_reward(scores["S_cb"], t.pass_rate)  # R(r) = 5 (S_cb + S_ut) - 5; no reference: 10 S_ut - 5
    r_e = None if scores["S_ex"] is None else projection(scores["S_ex"])  # R(e)
    return TrajectoryReward(
        id=t.id,
        sample_id=t.sample_id,
        problem_id=t.problem_id,
        kind=t.kind,
        passed=t.passed,
        severity=tier,
        severity_weight=weight,
        reference=scores["reference"],
        verified_refinements=len(references.refinements(t.sample_id, exclude=t.id)),
        verified_explanations=len(references.explanations(t.sample_id, exclude=t.id)),
        S_cb=scores["S_cb"],
        S_ut=t.pass_rate,
        S_ex=scores["S_ex"],
        R_r=r_r,
        R_e=r_e,
        R_r_weighted=weighted(r_r, weight),
        R_e_weighted=None if r_e is None else weighted(r_e, weight),
    ).to_dict()


def outcome_means(rows: list[dict]) -> dict:
    means = {"trajectories": len(rows)}
    for key in SCORES:
        values = [row[key] for row in rows if row[key] is not None]
        means[key] = round(float(np.mean(values)), 4) if values else None
    return means


def summary(trajectories: list[VerifiedRefinement], rows: list[dict], references: References) -> dict:
    """What the rewards look like: references by source, S_cb and S_ex coverage, tiers, means by outcome."""
    scored = {row["id"]: row for row in rows}
    wrong_ids = {row["sample_id"] for row in rows}
    correct_s_cb = [row["S_cb"] for row in rows if row["passed"] and row["S_cb"] is not None]
    return {
        "trajectories": len(rows),
        "wrong_solutions": len(wrong_ids),
        "wrong_solutions_without_verified_refinement": sum(not references.has_verified(w) for w in wrong_ids),
        "references": {source: count for source, count in Counter(row["reference"] for row in rows).items()},
        # leave-one-out: a correct refinement is not its own reference, so this is below 1.0
        "correct_refinements_S_cb": {
            "mean": round(float(np.mean(correct_s_cb)), 4) if correct_s_cb else None,
            "max": round(max(correct_s_cb), 4) if correct_s_cb else None,
            "scored": len(correct_s_cb),
        },
        "explanations_scored": sum(row["S_ex"] is not None for row in rows),
        "explanations_without_ground_truth": sum(explained(t) and scored[t.id]["S_ex"] is None for t in trajectories),
        "severity": dict(Counter(row["severity"] for row in rows)),
        "by_outcome": {
            "correct": outcome_means([row for row in rows if row["passed"]]),
            "wrong": outcome_means([row for row in rows if not row["passed"]]),
        },
    }

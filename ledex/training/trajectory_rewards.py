"""The LEDEX rewards of refinement trajectories (paper 2.3, Figure 3), grouped by wrong solution w.

Every refinement r of w, successful or not, gets S_cb (mean CodeBLEU against w's verified
refinements, 0 when there are none), S_ut (its pass rate) and, for a non-empty explain+refine
explanation, S_ex (mean cosine similarity to w's verified explanations E_c^w; none when w has no
verified explanation). R(e)'s projection is fitted on all S_ex (the paper's when too few); each
reward is also scaled by the weight of w's severity tier. CodeBLEU, the slow part, runs in a
pool of spawned processes.
"""

from __future__ import annotations

import ctypes
import logging
import signal
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np

from ledex.execution.severity import SeverityWeights
from ledex.pipeline.config import RewardFitParams
from ledex.pipeline.paths import EXECUTIONS
from ledex.pipeline.records import Execution, Kind, Record, VerifiedRefinement
from ledex.training.rewards import ExplanationProjection, code_reward, s_cb, s_ex

PR_SET_PDEATHSIG = 1  # linux/prctl.h
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
    verified_refinements: int  # |R_c^w|; 0: S_cb is 0
    verified_explanations: int  # |E_c^w|; 0: no S_ex
    S_cb: float
    S_ut: float
    S_ex: float | None  # None: refine-only, empty explanation, or no verified explanation of w
    R_r: float
    R_e: float | None
    R_r_weighted: float
    R_e_weighted: float | None


def by_wrong_solution(records: Iterable[VerifiedRefinement]) -> dict[str, list[VerifiedRefinement]]:
    groups: dict[str, list[VerifiedRefinement]] = {}
    for record in records:
        groups.setdefault(record.sample_id, []).append(record)
    return groups


def code_job(group: list[VerifiedRefinement], references: list[VerifiedRefinement], language: str) -> tuple:
    """The distinct refined programs of w (each CodeBLEU computed once), w's verified ones, the language."""
    codes = sorted({t.code for t in group if t.code is not None})
    return codes, [r.code for r in references], language


def code_similarities(job: tuple[list[str], list[str], str]) -> dict[str, float]:
    """S_cb of each distinct program of one wrong solution (runs in a worker process)."""
    codes, references, language = job
    return {code: s_cb(code, references, language) for code in codes}


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


def ground_truth(references: list[VerifiedRefinement]) -> list[str]:
    """E_c^w: the explanations followed by a correct refinement."""
    return [r.explanation for r in references if r.kind.explains and r.explanation.strip()]


def explained(t: VerifiedRefinement) -> bool:
    return t.kind.explains and bool(t.explanation.strip())


def embed_explanations(
    todo: list[str], groups: dict, references: dict, settings: RewardFitParams
) -> dict[str, np.ndarray]:
    """Embeddings of every explanation S_ex needs for the wrong solutions still to score."""
    texts = set()
    for wrong_id in todo:
        truth = ground_truth(references.get(wrong_id, []))
        if truth:
            texts.update(truth)
            texts.update(t.explanation for t in groups[wrong_id] if explained(t))
    if not texts:
        return {}
    from ledex.training.embeddings import SentenceEncoder

    ordered = sorted(texts)
    encoder = SentenceEncoder(settings.embedding_model, settings.embedding_batch_size)
    return dict(zip(ordered, encoder.encode(ordered)))


def score_rows(group, references, s_cb_by_code: dict[str, float], embeddings: dict[str, np.ndarray]) -> list[dict]:
    truth = ground_truth(references)
    truth_vectors = np.stack([embeddings[text] for text in truth]) if truth else None
    return [
        {
            "id": t.id,
            "S_cb": 0.0 if t.code is None else s_cb_by_code[t.code],
            "S_ex": s_ex(embeddings[t.explanation], truth_vectors) if truth and explained(t) else None,
        }
        for t in group
    ]


def severity_tier(wrong_id: str, executions: dict[str, Execution], severity: SeverityWeights) -> str:
    if wrong_id not in executions:
        raise ValueError(f"{EXECUTIONS}: no execution of wrong solution {wrong_id}")
    try:
        return severity.tier(executions[wrong_id].status)
    except ValueError as err:
        raise ValueError(f"{EXECUTIONS}: {wrong_id}: {err}") from None


def fit_projection(
    s_ex_and_outcome: list[tuple[float | None, bool]], settings: RewardFitParams
) -> tuple[ExplanationProjection, dict]:
    """R(e)'s projection fitted on the scored explanations, or the paper's when too few of either outcome."""
    points = [(value, passed) for value, passed in s_ex_and_outcome if value is not None]
    correct = sum(passed for _, passed in points)
    counts = {"followed_by_correct": correct, "followed_by_wrong": len(points) - correct}
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


def reward_row(t, scores: dict, references: list, tier: str, severity: SeverityWeights, projection) -> dict:
    weight = severity.weight(tier)
    r_r = code_reward(scores["S_cb"], t.pass_rate)  # R(r) = 5 (S_cb + S_ut) - 5
    r_e = None if scores["S_ex"] is None else projection(scores["S_ex"])  # R(e)
    return TrajectoryReward(
        id=t.id,
        sample_id=t.sample_id,
        problem_id=t.problem_id,
        kind=t.kind,
        passed=t.passed,
        severity=tier,
        severity_weight=weight,
        verified_refinements=len(references),
        verified_explanations=len(ground_truth(references)),
        S_cb=scores["S_cb"],
        S_ut=t.pass_rate,
        S_ex=scores["S_ex"],
        R_r=r_r,
        R_e=r_e,
        R_r_weighted=weight * r_r,
        R_e_weighted=None if r_e is None else weight * r_e,
    ).to_dict()


def outcome_means(rows: list[dict]) -> dict:
    means = {"trajectories": len(rows)}
    for key in SCORES:
        values = [row[key] for row in rows if row[key] is not None]
        means[key] = round(float(np.mean(values)), 4) if values else None
    return means


def summary(trajectories: list[VerifiedRefinement], rows: list[dict], references: dict) -> dict:
    """What the rewards look like: coverage of S_cb and S_ex, severity tiers, means by outcome."""
    scored = {row["id"]: row for row in rows}
    return {
        "trajectories": len(rows),
        "wrong_solutions": len({row["sample_id"] for row in rows}),
        "wrong_solutions_without_verified_refinement": len({row["sample_id"] for row in rows} - references.keys()),
        "explanations_scored": sum(row["S_ex"] is not None for row in rows),
        "explanations_without_ground_truth": sum(explained(t) and scored[t.id]["S_ex"] is None for t in trajectories),
        "severity": dict(Counter(row["severity"] for row in rows)),
        "by_outcome": {
            "correct": outcome_means([row for row in rows if row["passed"]]),
            "wrong": outcome_means([row for row in rows if not row["passed"]]),
        },
    }

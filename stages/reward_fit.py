"""Stage `reward-fit`: the LEDEX rewards of every refinement trajectory (paper 2.3, Figure 3),
weighted by the bug's severity tier, and a learned reward model when expert preferences exist.

For each wrong solution w (the unit of work and of the checkpoint), every refinement r of it,
successful or not, gets S_cb (mean CodeBLEU against w's verified refinements, 0 when there are
none), S_ut (its pass rate) and, for a non-empty explain+refine explanation, S_ex (mean cosine
similarity to w's verified explanations; none when w has no verified explanation). R(e)'s
projection is fitted on all S_ex (the paper's when too few); each reward is also scaled by the
weight of w's severity tier. Outputs: `data/reward_fit/{rewards.jsonl, projection.json, plots/}`,
`models/reward_model/` (a model, or `status.json` saying why none), `metrics/reward_fit.json`.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import shutil
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from stages.checkpoint import ResumableOutput, fingerprint
from stages.config import Params, RewardFitParams, load_params
from stages.execute_filter import OUT as EXECUTE_FILTER
from stages.jsonl import write_jsonl
from stages.records import Execution, Record, VerifiedRefinement
from stages.rewards import ExplanationProjection, code_reward, s_cb, s_ex
from stages.severity import SeverityWeights
from stages.stage_io import CHECKPOINTS, PROBLEMS, progress, publish_metrics, read_problems, read_records
from stages.tracking import stage_run
from stages.verify import OUT as VERIFY

OUT = Path("data/reward_fit")
REWARD_MODEL = Path("models/reward_model")
TRAJECTORIES = VERIFY / "trajectories.jsonl"
VERIFIED = VERIFY / "verified.jsonl"
EXECUTIONS = EXECUTE_FILTER / "executions.jsonl"
EXPLAIN_REFINE = "explain_refine"
REWARD_MODEL_SETTINGS = {name for name in RewardFitParams.model_fields if name.startswith("reward_model")} | {
    "severity_weights", "held_out_fraction", "seed"
}
PR_SET_PDEATHSIG = 1  # linux/prctl.h
SCORES = ("S_cb", "S_ut", "S_ex", "R_r", "R_e", "R_r_weighted", "R_e_weighted")

log = logging.getLogger("ledex.reward_fit")


@dataclass(frozen=True)
class TrajectoryReward(Record):
    """`data/reward_fit/rewards.jsonl`: one refinement trajectory and its rewards."""

    id: str
    sample_id: str  # the wrong solution w
    problem_id: str
    kind: str  # "explain_refine" or "refine"
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


def run(params: Params) -> dict:
    settings = params.reward_fit
    severity = SeverityWeights.from_params(settings)
    problems = read_problems()
    trajectories = read_records(TRAJECTORIES, VerifiedRefinement)
    verified = read_records(VERIFIED, VerifiedRefinement)
    executions = {e.sample_id: e for e in read_records(EXECUTIONS, Execution)}
    started = time.perf_counter()

    groups = _by_wrong_solution(trajectories)
    references = _by_wrong_solution(verified)
    for group in groups.values():
        if group[0].problem_id not in problems:
            raise ValueError(f"{TRAJECTORIES}: {group[0].id}: problem {group[0].problem_id} is not in {PROBLEMS}")
    tiers = {wrong_id: _tier(wrong_id, executions, severity) for wrong_id in groups}
    preferences = read_expert_preferences(settings, severity)  # before the long work: bad rows fail fast
    inputs = fingerprint(PROBLEMS, TRAJECTORIES, VERIFIED, settings.embedding_model)
    with ResumableOutput(OUT / "rewards.jsonl", inputs, CHECKPOINTS) as output:
        todo = [wrong_id for wrong_id in groups if wrong_id not in output]
        embeddings = _embed_explanations(todo, groups, references, settings)
        jobs = [_code_job(groups[w], references.get(w, []), problems[groups[w][0].problem_id].language) for w in todo]
        scored = _map(code_similarities, jobs, settings.codebleu_workers or os.cpu_count() or 1)
        for wrong_id, s_cb_by_code in progress(zip(todo, scored), len(groups), "reward-fit", initial=output.resumed):
            output.add(wrong_id, _score_rows(groups[wrong_id], references.get(wrong_id, []), s_cb_by_code, embeddings))
        scores = {row["id"]: row for row in output.publish(groups)}

    projection, projection_info = fit_projection([(scores[t.id]["S_ex"], t.passed) for t in trajectories], settings)
    rows = [
        _reward_row(t, scores[t.id], references.get(t.sample_id, []), tiers[t.sample_id], severity, projection)
        for group in groups.values()
        for t in group
    ]
    write_jsonl(OUT / "rewards.jsonl", rows)  # the published scores, completed with the rewards
    projection_info.update(embedding_model=settings.embedding_model)
    (OUT / "projection.json").write_text(json.dumps(projection_info, indent=2) + "\n")
    from stages.reward_plots import plot_figure_three  # matplotlib: not needed by CodeBLEU workers

    plots = plot_figure_three(rows, projection, OUT / "plots")
    _log_artifacts(OUT / "projection.json", plots)
    reward_seconds = round(time.perf_counter() - started, 1)
    return {
        "trajectories": len(rows),
        "wrong_solutions": len(groups),
        "wrong_solutions_without_verified_refinement": sum(1 for w in groups if w not in references),
        "explanations_scored": sum(row["S_ex"] is not None for row in rows),
        "explanations_without_ground_truth": sum(_explained(t) and scores[t.id]["S_ex"] is None for t in trajectories),
        "severity": dict(Counter(row["severity"] for row in rows)),
        "by_outcome": {
            "correct": _means([row for row in rows if row["passed"]]),
            "wrong": _means([row for row in rows if not row["passed"]]),
        },
        "projection": projection_info,
        "reward_seconds": reward_seconds,
        "reward_model": fit_reward_model(preferences, settings, severity),
    }


def _by_wrong_solution(records: Iterable[VerifiedRefinement]) -> dict[str, list[VerifiedRefinement]]:
    groups: dict[str, list[VerifiedRefinement]] = {}
    for record in records:
        groups.setdefault(record.sample_id, []).append(record)
    return groups


def _code_job(group: list[VerifiedRefinement], references: list[VerifiedRefinement], language: str) -> tuple:
    """The distinct refined programs of w (each CodeBLEU computed once), w's verified ones, the language."""
    codes = sorted({t.code for t in group if t.code is not None})
    return codes, [r.code for r in references], language


def code_similarities(job: tuple[list[str], list[str], str]) -> dict[str, float]:
    """S_cb of each distinct program of one wrong solution (runs in a worker process)."""
    codes, references, language = job
    return {code: s_cb(code, references, language) for code in codes}


def _map(function: Callable, jobs: list, workers: int) -> Iterator:
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


def _ground_truth(references: list[VerifiedRefinement]) -> list[str]:
    """E_c^w: the explanations followed by a correct refinement."""
    return [r.explanation for r in references if r.kind == EXPLAIN_REFINE and r.explanation.strip()]


def _explained(t: VerifiedRefinement) -> bool:
    return t.kind == EXPLAIN_REFINE and bool(t.explanation.strip())


def _embed_explanations(todo: list[str], groups: dict, references: dict, settings: RewardFitParams) -> dict[str, np.ndarray]:
    """Embeddings of every explanation S_ex needs for the wrong solutions still to score."""
    texts = set()
    for wrong_id in todo:
        truth = _ground_truth(references.get(wrong_id, []))
        if truth:
            texts.update(truth)
            texts.update(t.explanation for t in groups[wrong_id] if _explained(t))
    if not texts:
        return {}
    from stages.embeddings import SentenceEncoder

    ordered = sorted(texts)
    encoder = SentenceEncoder(settings.embedding_model, settings.embedding_batch_size)
    return dict(zip(ordered, encoder.encode(ordered)))


def _score_rows(group, references, s_cb_by_code: dict[str, float], embeddings: dict[str, np.ndarray]) -> list[dict]:
    truth = _ground_truth(references)
    truth_vectors = np.stack([embeddings[text] for text in truth]) if truth else None
    return [
        {
            "id": t.id,
            "S_cb": 0.0 if t.code is None else s_cb_by_code[t.code],
            "S_ex": s_ex(embeddings[t.explanation], truth_vectors) if truth and _explained(t) else None,
        }
        for t in group
    ]


def _tier(wrong_id: str, executions: dict[str, Execution], severity: SeverityWeights) -> str:
    if wrong_id not in executions:
        raise ValueError(f"{EXECUTIONS}: no execution of wrong solution {wrong_id}")
    try:
        return severity.tier(executions[wrong_id].status)
    except ValueError as err:
        raise ValueError(f"{EXECUTIONS}: {wrong_id}: {err}") from None


def fit_projection(s_ex_and_outcome: list[tuple[float | None, bool]], settings: RewardFitParams) -> tuple[ExplanationProjection, dict]:
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


def _reward_row(t, scores: dict, references: list, tier: str, severity: SeverityWeights, projection) -> dict:
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
        verified_explanations=len(_ground_truth(references)),
        S_cb=scores["S_cb"],
        S_ut=t.pass_rate,
        S_ex=scores["S_ex"],
        R_r=r_r,
        R_e=r_e,
        R_r_weighted=weight * r_r,
        R_e_weighted=None if r_e is None else weight * r_e,
    ).to_dict()


def _means(rows: list[dict]) -> dict:
    means = {"trajectories": len(rows)}
    for key in SCORES:
        values = [row[key] for row in rows if row[key] is not None]
        means[key] = round(float(np.mean(values)), 4) if values else None
    return means


def read_expert_preferences(settings: RewardFitParams, severity: SeverityWeights) -> list | None:
    """The preference pairs, or None when there is no preference file (a bad row is an error)."""
    if not settings.preferences.exists():
        log.info("reward-fit: no expert preferences at %s; skipping the learned reward model", settings.preferences)
        return None
    from stages.reward_model import read_preferences

    return read_preferences(settings.preferences, severity)


def fit_reward_model(pairs: list | None, settings: RewardFitParams, severity: SeverityWeights) -> dict:
    """Train the learned reward model on the pairs; `models/reward_model/status.json` says whether it did."""
    shutil.rmtree(REWARD_MODEL, ignore_errors=True)
    REWARD_MODEL.mkdir(parents=True)
    path = settings.preferences
    if pairs is None:
        result = {"status": "skipped", "reason": f"no preference file at {path}"}
    elif len(pairs) < 2:
        log.info("reward-fit: %s holds %d preference pair(s); skipping the learned reward model", path, len(pairs))
        result = {"status": "skipped", "reason": f"{len(pairs)} preference pair(s) in {path}, need 2"}
    else:
        from stages.reward_model import train_reward_model

        started = time.perf_counter()
        inputs = fingerprint(path, settings.model_dump(mode="json", include=REWARD_MODEL_SETTINGS))
        result = train_reward_model(pairs, settings, severity, REWARD_MODEL, CHECKPOINTS / "reward_model", inputs)
        result["seconds"] = round(time.perf_counter() - started, 1)
    (REWARD_MODEL / "status.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def _log_artifacts(projection: Path, plots: list[Path]) -> None:
    import mlflow

    mlflow.log_artifact(str(projection), artifact_path="reward_fit")
    for plot in plots:
        mlflow.log_artifact(str(plot), artifact_path="reward_fit/plots")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    params = load_params()
    with stage_run("reward-fit", {"reward_fit": params.reward_fit.model_dump(mode="json")}, params.tracking.uri):
        publish_metrics("reward_fit", run(params))


if __name__ == "__main__":
    main()

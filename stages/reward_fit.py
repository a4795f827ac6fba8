"""Stage `reward-fit`: the LEDEX rewards of every refinement trajectory (paper 2.3, Figure 3),
weighted by the bug's severity tier, and a learned reward model when expert preferences exist.

For each wrong solution w (the unit of work and of the checkpoint) every refinement of it gets
S_cb, S_ut, S_ex and the rewards R(r), R(e) (`ledex.training.trajectory_rewards`), scored
leave-one-out against `ledex.training.references`; R(e)'s projection is the paper's or fitted
(`reward_fit.projection`). The reviewers' severity tiers override the pipeline's. Expert
preferences train the learned reward model (`ledex.training.reward_model`), which `ppo` reads.
Outputs: `data/reward_fit/{rewards.jsonl, projection.json, plots/}`, `models/reward_model/`
(a model, or `status.json` saying why none), `metrics/reward_fit.json`.
"""

from __future__ import annotations

import json
import logging
import os
import time

from ledex.execution.severity import SeverityWeights
from ledex.pipeline.checkpoint import ResumableOutput, fingerprint
from ledex.pipeline.config import Params, load_params
from ledex.pipeline.jsonl import write_jsonl
from ledex.pipeline.paths import (
    CHECKPOINTS,
    EXECUTIONS,
    PROBLEMS,
    PROJECTION,
    REVIEWED_SEVERITY,
    REWARD_PLOTS,
    REWARDS,
    TRAJECTORIES,
    VERIFIED,
)
from ledex.pipeline.records import Execution, VerifiedRefinement
from ledex.pipeline.stage_io import progress, publish_metrics, read_problems, read_records
from ledex.pipeline.tracking import stage_run
from ledex.training.references import References
from ledex.training.reward_model import fit_reward_model, read_expert_preferences
from ledex.training.trajectory_rewards import (
    SCORING,
    by_wrong_solution,
    code_job,
    code_similarities,
    embed_explanations,
    fit_projection,
    map_in_processes,
    reward_row,
    score_rows,
    severity_tier,
    summary,
)


def run(params: Params) -> dict:
    settings = params.reward_fit
    severity = SeverityWeights.from_params(settings, REVIEWED_SEVERITY)
    problems = read_problems()
    trajectories = read_records(TRAJECTORIES, VerifiedRefinement)
    verified = read_records(VERIFIED, VerifiedRefinement)
    executions = {e.sample_id: e for e in read_records(EXECUTIONS, Execution)}
    started = time.perf_counter()

    groups = by_wrong_solution(trajectories)
    references = References(verified, problems)
    for group in groups.values():
        if group[0].problem_id not in problems:
            raise ValueError(f"{TRAJECTORIES}: {group[0].id}: problem {group[0].problem_id} is not in {PROBLEMS}")
    tiers = {wrong_id: severity_tier(wrong_id, executions, severity) for wrong_id in groups}
    preferences = read_expert_preferences(settings, severity)  # before the long work: bad rows fail fast
    inputs = fingerprint(PROBLEMS, TRAJECTORIES, VERIFIED, settings.embedding_model, SCORING)
    with ResumableOutput(REWARDS, inputs, CHECKPOINTS) as output:
        todo = [wrong_id for wrong_id in groups if wrong_id not in output]
        embeddings = embed_explanations(todo, groups, references, settings)
        jobs = [code_job(groups[w], references, problems[groups[w][0].problem_id].language) for w in todo]
        scored = map_in_processes(code_similarities, jobs, settings.codebleu_workers or os.cpu_count() or 1)
        for wrong_id, s_cb_by_code in progress(zip(todo, scored), len(groups), "reward-fit", initial=output.resumed):
            output.add(wrong_id, score_rows(groups[wrong_id], references, s_cb_by_code, embeddings))
        scores = {row["id"]: row for row in output.publish(groups)}

    projection, projection_info = fit_projection([(scores[t.id]["S_ex"], t.passed) for t in trajectories], settings)
    rows = [
        reward_row(t, scores[t.id], references, tiers[t.sample_id], severity, projection)
        for group in groups.values()
        for t in group
    ]
    write_jsonl(REWARDS, rows)  # the published scores, completed with the rewards
    projection_info.update(embedding_model=settings.embedding_model)
    PROJECTION.write_text(json.dumps(projection_info, indent=2) + "\n")
    from ledex.training.reward_plots import plot_figure_three  # matplotlib: not needed by CodeBLEU workers

    plots = plot_figure_three(rows, projection, REWARD_PLOTS)
    _log_artifacts(plots)
    return {
        **summary(trajectories, rows, references),
        "projection": projection_info,
        "reviewed_tiers": len(severity.reviewed),
        "reward_seconds": round(time.perf_counter() - started, 1),
        "reward_model": fit_reward_model(preferences, settings, severity),
    }


def _log_artifacts(plots: list) -> None:
    import mlflow

    mlflow.log_artifact(str(PROJECTION), artifact_path="reward_fit")
    for plot in plots:
        mlflow.log_artifact(str(plot), artifact_path="reward_fit/plots")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    params = load_params()
    with stage_run("reward-fit", {"reward_fit": params.reward_fit.model_dump(mode="json")}, params.tracking.uri):
        publish_metrics("reward_fit", run(params))


if __name__ == "__main__":
    main()

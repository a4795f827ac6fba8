"""The LEDEX cycle as one Prefect flow: each DVC stage a task, in `dvc repro`'s order.

DVC decides what is up to date (a second run with nothing changed runs no stage) and dvc.lock
stays the record. A stage is retried only when its failure is transient (see `flows.dvc_stage`);
a deterministic failure stops the cycle with an error naming the stage and its log. Every stage's
output goes to `logs/<stage>.log`, its metrics to a markdown artifact, and its MLflow run nests
under one parent run for the cycle; `evaluate`'s decision card becomes an artifact too. The
`policy` parameter overrides `models.policy`: the weekly deployment trains from the registry's
champion (`ledex.pipeline.policy`).
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run, task_run

from flows.containers import ContainerSettings, load_settings, run_stage_in_container, runs_in_container
from flows.decision_card_artifact import EVALUATE_STAGE, publish_decision_card
from flows.dvc_plan import PlannedStage, plan_stages
from flows.dvc_stage import StageFailed, run_dvc_stage
from flows.metrics_artifact import publish_metrics_artifact
from ledex.pipeline.config import load_params
from ledex.pipeline.policy import POLICY_ENV
from ledex.pipeline.tracking import FLOW_RUN_TAG, PARENT_RUN_ENV, pipeline_run

LOGS = Path("logs")


def is_transient_failure(task, run, state) -> bool:
    """Prefect's `retry_condition_fn`: retry a stage only when its failure is transient."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, StageFailed) and error.transient


@task(task_run_name="{stage.name}", cache_policy=NO_CACHE, retry_condition_fn=is_transient_failure)
def reproduce(
    stage: PlannedStage, root: Path, parent_run_id: str, containers: ContainerSettings, policy: str = ""
) -> None:
    """Run one DVC stage (DVC skips it when up to date), in a container job where `containers`
    routes it, with `policy` (when given) overriding models.policy, and publish its metrics (and,
    after `evaluate`, the decision card)."""
    override = {POLICY_ENV: policy} if policy else {}
    if runs_in_container(stage.name, containers):
        run_stage_in_container(stage.name, root, containers, env={PARENT_RUN_ENV: parent_run_id, **override})
    else:
        log = root / LOGS / f"{stage.name}.log"
        run_dvc_stage(stage.address, root, log, parent_run_id, attempt=task_run.run_count, env=override)
    publish_metrics_artifact(stage.name, root, stage.metrics)
    if stage.name == EVALUATE_STAGE:
        publish_decision_card(root)


@flow(name="ledex-cycle")
def cycle(
    targets: list[str] | None = None,
    project: str = ".",
    retries: int = 2,
    retry_delay_s: float = 60.0,
    policy: str = "",
) -> list[str]:
    """Reproduce `targets` (default: every stage) and their upstream stages in the DVC project at
    `project`; a transient failure is retried `retries` times, `retry_delay_s` apart. `policy`
    (e.g. `models:/ledex-debugger@champion`; "": params.yaml's) is the model the cycle trains from.
    Returns the stages visited, in order."""
    root = Path(project).resolve()
    params = load_params(root / "params.yaml")  # a bad params file fails here, before any stage
    containers = load_settings()  # a bad flows/containers.yaml fails here too
    plan = plan_stages(root, targets)
    step = reproduce.with_options(retries=retries, retry_delay_seconds=retry_delay_s)
    tags = {
        FLOW_RUN_TAG: str(flow_run.id),
        "ledex.targets": " ".join(targets or []),
        "ledex.requested_policy": policy or params.models.policy,
    }
    with pipeline_run(params.tracking.uri, tags=tags) as run_id:
        for stage in plan:
            step(stage, root, run_id, containers, policy)
    return [stage.address for stage in plan]

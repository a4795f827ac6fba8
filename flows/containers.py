"""GPU stages as container jobs of a Prefect Docker work pool.

The switch is flows/containers.yaml, off by default: then every stage runs in the local process
pool. Switched on, the stages it lists (GPU stages only) run as flow runs of the deployment
`repro-stage/<stage>` (flows/repro_stage.py): a worker of the work pool (`prefect worker start
--pool <work_pool> --type docker`) starts a container of the project's image with

- the project mounted at its own path, so data/, models/, metrics/, dvc.lock and the default
  MLflow store (mlflow.db, mlruns/, whose artifact paths are absolute) are where the stage
  expects them, and the container's working directory;
- the benchmark data directory (params.yaml `data.dir`) mounted read-only at its own path;
- `mounts` from the settings, at their own paths;
- GPU device requests (`gpus`);
- privileges for the stages that run the sandbox (`privileged_stages`): bubblewrap makes its own
  namespaces inside the container, which an unprivileged container may not;
- the caller's MLflow environment (tracking URI, parent run) and `env` from the settings.

The cycle flow asks `runs_in_container(stage, settings)` and, where it says yes, calls
`run_stage_in_container(stage, project_dir, settings)` instead of running the stage itself.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectAlreadyExists
from prefect.types.entrypoint import EntrypointType
from prefect_docker.worker import DockerWorker
from pydantic import BaseModel, ConfigDict, NonNegativeInt, field_validator

from flows.repro_stage import repro_stage
from ledex.pipeline.config import load_params

GPU_STAGES = ("sample", "explain-refine", "sft", "ppo", "evaluate")
SANDBOXED_STAGES = ("ppo", "evaluate")  # the GPU stages that run programs in the sandbox
SETTINGS_FILE = Path(__file__).with_name("containers.yaml")
PASSED_ENVIRONMENT = ("MLFLOW_TRACKING_URI", "LEDEX_PARENT_RUN_ID", "LEDEX_MODEL_CACHE", "HF_HUB_OFFLINE")


class ContainerSettings(BaseModel):
    """flows/containers.yaml: which stages run in containers, and how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    work_pool: str = "ledex-docker"
    image: str = "localhost/ledex:gpu"
    image_pull_policy: Literal["IfNotPresent", "Always", "Never"] = "IfNotPresent"
    gpus: Literal["all"] | NonNegativeInt = "all"
    stages: tuple[str, ...] = GPU_STAGES
    privileged_stages: tuple[str, ...] = SANDBOXED_STAGES
    mounts: tuple[Path, ...] = ()
    env: dict[str, str] = {}

    @field_validator("stages", "privileged_stages")
    @classmethod
    def _gpu_stages_only(cls, stages: tuple[str, ...]) -> tuple[str, ...]:
        others = sorted(set(stages) - set(GPU_STAGES))
        if others:
            raise ValueError(f"only the GPU stages {', '.join(GPU_STAGES)} run in containers, not {', '.join(others)}")
        return stages


def load_settings(path: Path = SETTINGS_FILE) -> ContainerSettings:
    return ContainerSettings.model_validate(yaml.safe_load(path.read_text()) or {})


def runs_in_container(stage: str, settings: ContainerSettings) -> bool:
    return settings.enabled and stage in settings.stages


def job_variables(
    stage: str, settings: ContainerSettings, project_dir: Path, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """The Docker job that runs `stage` of the project in `project_dir` (see the module's
    docstring), with `env` (e.g. the cycle's MLflow parent run) on top of the passed environment."""
    project_dir = project_dir.resolve()
    volumes = [f"{project_dir}:{project_dir}"]
    data_dir = load_params(project_dir / "params.yaml").data.dir.resolve()
    if data_dir.is_dir() and not data_dir.is_relative_to(project_dir):
        volumes.append(f"{data_dir}:{data_dir}:ro")
    volumes += [f"{mount}:{mount}" for mount in (path.resolve() for path in settings.mounts)]
    container: dict[str, Any] = {"working_dir": str(project_dir)}
    if settings.gpus:
        count = -1 if settings.gpus == "all" else settings.gpus
        container["device_requests"] = [{"count": count, "capabilities": [["gpu"]]}]
    passed = {name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ}
    return {
        "image": settings.image,
        "image_pull_policy": settings.image_pull_policy,
        "volumes": volumes,
        "env": passed | (env or {}) | settings.env,
        "privileged": stage in settings.privileged_stages,
        "auto_remove": True,
        "container_create_kwargs": container,
    }


def deploy_stage(stage: str, settings: ContainerSettings) -> str:
    """Create (or update) the work pool and the stage's deployment; returns the deployment's name."""
    with get_client(sync_client=True) as client:
        pool = WorkPoolCreate(
            name=settings.work_pool, type="docker", base_job_template=DockerWorker.get_default_base_job_template()
        )
        with contextlib.suppress(ObjectAlreadyExists):
            client.create_work_pool(pool)
    deployment = repro_stage.to_deployment(name=stage, entrypoint_type=EntrypointType.MODULE_PATH)  # the image's flow
    deployment.apply(work_pool_name=settings.work_pool, image=settings.image)
    return deployment.full_name


def run_stage_in_container(
    stage: str,
    project_dir: Path,
    settings: ContainerSettings,
    timeout_s: float | None = None,
    env: dict[str, str] | None = None,
) -> FlowRun:
    """Run `stage` as a container job and wait for it; raises when its flow run does not complete."""
    flow_run = run_deployment(
        deploy_stage(stage, settings),
        parameters={"stage": stage, "project_dir": str(project_dir.resolve())},
        job_variables=job_variables(stage, settings, project_dir, env),
        timeout=timeout_s,
    )
    if not flow_run.state or not flow_run.state.is_completed():
        state = flow_run.state.name if flow_run.state else "without a state"
        raise RuntimeError(f"stage {stage}: container flow run {flow_run.name} ended {state}")
    return flow_run

"""Routing of the GPU stages to the Docker work pool, and the Docker job that runs one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from flows.containers import GPU_STAGES, ContainerSettings, job_variables, load_settings, runs_in_container

REPO = Path(__file__).resolve().parents[2]
CPU_STAGES = ("execute-filter", "verify", "reward-fit")


def test_the_shipped_settings_keep_every_stage_local():
    settings = load_settings()
    assert not any(runs_in_container(stage, settings) for stage in GPU_STAGES + CPU_STAGES)


def test_switched_on_only_the_gpu_stages_go_to_containers():
    settings = ContainerSettings(enabled=True)
    assert [stage for stage in GPU_STAGES + CPU_STAGES if runs_in_container(stage, settings)] == list(GPU_STAGES)


def test_cpu_stages_are_refused_in_the_settings(tmp_path):
    path = tmp_path / "containers.yaml"
    path.write_text(yaml.safe_dump({"enabled": True, "stages": ["sft", "verify"]}))
    with pytest.raises(ValidationError, match="not verify"):
        load_settings(path)


@pytest.fixture
def project(tmp_path):
    """A project whose benchmark data directory lies beside it, as ../shared/data does."""
    (tmp_path / "shared" / "data").mkdir(parents=True)
    project = tmp_path / "project"
    project.mkdir()
    (project / "params.yaml").write_text((REPO / "params.yaml").read_text())  # data.dir: ../shared/data
    (project / "profiles").symlink_to(REPO / "profiles")
    return project


def test_the_job_mounts_the_project_and_the_data_at_their_own_paths(project, tmp_path):
    cache = tmp_path / "hub-cache"
    variables = job_variables("sample", ContainerSettings(image="ledex:test", gpus=0, mounts=(cache,)), project)
    data = tmp_path / "shared" / "data"
    assert variables["volumes"] == [f"{project}:{project}", f"{data}:{data}:ro", f"{cache}:{cache}"]
    assert variables["container_create_kwargs"] == {"working_dir": str(project)}
    assert variables["image"] == "ledex:test"


def test_gpu_stages_request_the_gpus(project):
    every = job_variables("sft", ContainerSettings(gpus="all"), project)["container_create_kwargs"]["device_requests"]
    two = job_variables("sft", ContainerSettings(gpus=2), project)["container_create_kwargs"]["device_requests"]
    assert every == [{"count": -1, "capabilities": [["gpu"]]}]
    assert two == [{"count": 2, "capabilities": [["gpu"]]}]


def test_the_job_carries_the_callers_mlflow_environment(project, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    monkeypatch.setenv("LEDEX_PARENT_RUN_ID", "abc123")
    monkeypatch.setenv("UNRELATED", "x")
    env = job_variables("sample", ContainerSettings(env={"HF_HOME": "/cache/hf"}), project)["env"]
    assert env == {
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
        "LEDEX_PARENT_RUN_ID": "abc123",
        "HF_HOME": "/cache/hf",
    }


def test_only_the_stages_that_run_the_sandbox_get_a_privileged_container(project):
    settings = ContainerSettings(enabled=True)
    privileged = [stage for stage in GPU_STAGES if job_variables(stage, settings, project)["privileged"]]
    assert privileged == ["ppo", "evaluate"]


def test_a_stage_is_deployed_to_a_docker_work_pool_with_the_images_flow():
    from prefect.client.orchestration import get_client
    from prefect.testing.utilities import prefect_test_harness

    from flows.containers import deploy_stage

    settings = ContainerSettings(enabled=True, work_pool="gpu-pool", image="localhost/ledex:test")
    with prefect_test_harness(server_startup_timeout=120):
        name = deploy_stage("sft", settings)
        assert deploy_stage("sft", settings) == name == "repro-stage/sft"  # a second call updates in place
        with get_client(sync_client=True) as client:
            pool = client.read_work_pool("gpu-pool")
            deployment = client.read_deployment_by_name(name)
    assert pool.type == "docker"
    assert deployment.work_pool_name == "gpu-pool"
    assert deployment.entrypoint == "flows.repro_stage.repro_stage"
    assert deployment.job_variables["image"] == "localhost/ledex:test"

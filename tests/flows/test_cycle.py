"""The cycle flow, really run on a tiny DVC project in Prefect's ephemeral mode."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import mlflow
import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from flows.cycle import cycle
from flows.dvc_stage import StageFailed
from ledex.pipeline.config import load_params
from ledex.pipeline.transient import TRANSIENT_EXIT

REPO = Path(__file__).resolve().parents[2]


def runs(project: Path) -> list[str]:
    """The stage processes started, in order (one line per start, retries included)."""
    log = project / "runs.log"
    return log.read_text().split() if log.exists() else []


def run_cycle(project: Path, **parameters):
    state = cycle(project=str(project), retry_delay_s=0, return_state=True, **parameters)
    return state, state.result(raise_on_failure=False)


def test_stages_run_in_dvc_order_then_nothing_when_up_to_date(tiny_project, cycle_env):
    state, visited = run_cycle(tiny_project)

    assert state.is_completed()
    assert visited == ["prepare", "train", "report"]
    assert runs(tiny_project) == ["prepare", "train", "report"]
    assert set(yaml.safe_load((tiny_project / "dvc.lock").read_text())["stages"]) == {"prepare", "train", "report"}
    assert "Running stage 'train'" in (tiny_project / "logs" / "train.log").read_text()

    state, visited = run_cycle(tiny_project)
    assert state.is_completed() and visited == ["prepare", "train", "report"]
    assert runs(tiny_project) == ["prepare", "train", "report"]  # DVC skipped every stage
    assert "didn't change, skipping" in (tiny_project / "logs" / "train.log").read_text()

    (tiny_project / "input.txt").write_text("one\ntwo\nthree\n")
    run_cycle(tiny_project, targets=["train"])
    assert runs(tiny_project)[3:] == ["prepare", "train"]  # a target brings its upstream, not its downstream


def test_each_stage_publishes_its_metrics_and_nests_under_one_mlflow_run(tiny_project, cycle_env):
    state, _ = run_cycle(tiny_project)

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]))
        )
    tables = {artifact.key: artifact.data for artifact in artifacts}
    assert set(tables) == {"metrics-prepare", "metrics-train", "metrics-report"}
    assert "| metric | value |" in tables["metrics-train"]
    assert "| lines | 4 |" in tables["metrics-train"] and "| detail.attempt | 1 |" in tables["metrics-train"]

    parent_ids = {
        json.loads((tiny_project / "metrics" / f"{name}.json").read_text())["parent_run"]
        for name in ("prepare", "train", "report")
    }
    (parent_id,) = parent_ids
    parent = mlflow.MlflowClient(cycle_env).get_run(parent_id)
    assert (parent.info.run_name, parent.info.status) == ("cycle", "FINISHED")
    assert parent.data.tags["prefect.flow_run_id"] == str(state.state_details.flow_run_id)


def test_the_decision_card_is_published_after_the_evaluate_stage(tiny_project, cycle_env):
    card = "# Is this week's model better?\n**Yes.** Candidate **sft**\n"
    (tiny_project / "card.md").write_text(card)
    with (tiny_project / "dvc.yaml").open("a") as dvc_yaml:
        dvc_yaml.write(
            "  evaluate:\n"
            "    cmd: python stage.py evaluate report && mkdir -p data/evaluate"
            " && cp card.md data/evaluate/decision_card.md\n"
            "    deps: [stage.py, input.txt, out/report.txt, card.md]\n"
            "    outs: [out/evaluate.txt, data/evaluate]\n"
        )
    state, visited = run_cycle(tiny_project)

    assert state.is_completed() and visited[-1] == "evaluate"
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]))
        )
    assert {artifact.key: artifact.data for artifact in artifacts}["decision-card"] == card


@pytest.mark.parametrize("fault", [str(TRANSIENT_EXIT), "kill"])
def test_a_transient_failure_is_retried(tiny_project, cycle_env, fault):
    (tiny_project / "faults" / "train").write_text(fault)

    state, visited = run_cycle(tiny_project)

    assert state.is_completed(), visited
    assert runs(tiny_project) == ["prepare", "train", "train", "report"]
    log = (tiny_project / "logs" / "train.log").read_text()
    assert "(attempt 1)" in log and "(attempt 2)" in log  # both attempts kept


def test_a_deterministic_failure_is_not_retried_and_names_the_stage_and_its_log(tiny_project, cycle_env):
    (tiny_project / "faults" / "train").write_text("1")

    state, error = run_cycle(tiny_project, retries=3)

    assert state.is_failed()
    assert isinstance(error, StageFailed) and not error.transient
    assert runs(tiny_project) == ["prepare", "train"]  # tried once; report never started
    log = tiny_project / "logs" / "train.log"
    assert f"stage 'train' failed (exit status 1, not retried); log: {log}" in str(error)
    assert "train: bad data in input.txt" in str(error)  # the log's tail comes with it


def test_an_unknown_target_fails_before_any_stage(tiny_project, cycle_env):
    state, error = run_cycle(tiny_project, targets=["trian"])
    assert state.is_failed() and isinstance(error, ValueError) and "'trian' not found" in str(error)
    assert runs(tiny_project) == []


def test_the_policy_parameter_reaches_every_stage_and_the_cycle_run(tiny_project, cycle_env):
    state, _ = run_cycle(tiny_project, policy="models:/ledex-debugger@champion")

    assert state.is_completed()
    metrics = [json.loads((tiny_project / "metrics" / f"{name}.json").read_text()) for name in ("prepare", "train")]
    assert {m["policy"] for m in metrics} == {"models:/ledex-debugger@champion"}
    parent = mlflow.MlflowClient(cycle_env).get_run(metrics[0]["parent_run"])
    assert parent.data.tags["ledex.requested_policy"] == "models:/ledex-debugger@champion"


def test_the_weekly_deployment_trains_from_the_champion_and_a_plain_run_from_params():
    deployments = yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]
    (weekly,) = [deployment for deployment in deployments if deployment["name"] == "weekly"]
    assert cycle.validate_parameters(weekly["parameters"])["policy"] == "models:/ledex-debugger@champion"
    assert inspect.signature(cycle.fn).parameters["policy"].default == ""  # `ledex run`: models.policy
    assert load_params(REPO / "params.yaml").models.policy == "qwen2.5-coder-0.5b-instruct"

"""Stage `resolve-policy`: its pin changes exactly when the champion does, which is what makes DVC
rerun the stages that load the policy (they list the pin as a dep: tests/test_dvc_deps.py)."""

from __future__ import annotations

import mlflow
from mlflow import MlflowClient

from ledex.evaluation.registry import promote, register
from ledex.pipeline.config import Params
from ledex.pipeline.paths import POLICY
from ledex.pipeline.policy import POLICY_ENV
from ledex.pipeline.stage_io import publish_metrics
from stages import resolve_policy


def test_the_pin_changes_when_and_only_when_a_new_champion_is_promoted(
    registry_store, tiny_qwen2_checkpoint, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv(POLICY_ENV, "models:/ledex-debugger@champion")  # as the weekly deployment runs it
    params = Params.model_validate({"tracking": {"uri": registry_store}})

    first_cycle = run_stage(params)
    assert b'"fallback": true' in first_cycle and b"qwen2.5-coder-0.5b-instruct" in first_cycle

    with mlflow.start_run() as run:
        version = register(tiny_qwen2_checkpoint, "sft", run.info.run_id)
    promote(version, 0.5, "humaneval#p", 0.0)
    trained = run_stage(params)
    assert trained != first_cycle and f"models:/ledex-debugger/{version}".encode() in trained
    assert run_stage(params) == trained  # same champion: DVC sees no change, nothing reruns

    source = MlflowClient().get_model_version("ledex-debugger", version).source
    challenger = mlflow.register_model(source, "ledex-debugger").version
    promote(str(challenger), 0.4, "humaneval#p", 0.0)  # does not beat the champion
    assert run_stage(params) == trained
    promote(str(challenger), 0.9, "humaneval#p", 0.0)
    assert f"models:/ledex-debugger/{challenger}".encode() in run_stage(params)


def run_stage(params: Params) -> bytes:
    """Run the stage as `main` does, in a run of the test store; the pin it wrote."""
    with mlflow.start_run():
        publish_metrics("resolve_policy", resolve_policy.run(params))
    return POLICY.read_bytes()

"""Where a trained model came from, as MLflow tags.

A stage that trains or evaluates from the policy tags its run with the policy (`ledex.pipeline.policy`);
the cycle's parent run carries the Prefect flow run's id (`flows.cycle`). A version registered from
such a run inherits them as version tags, so the registry's version list reads as a family tree:

    ledex-debugger v4  ledex.parent = models:/ledex-debugger/2   ledex.cycle_run_id = 9f2c...
    ledex-debugger v2  ledex.parent = base:qwen2.5-coder-0.5b-instruct
"""

from __future__ import annotations

from ledex.pipeline.tracking import FLOW_RUN_TAG

POLICY_TAG = "ledex.policy"  # run: what the policy was, as a parent (`Policy.parent`)
POLICY_SOURCE_TAG = "ledex.policy_source"  # run: the same in words, e.g. "ledex-debugger v3 (champion)"
MLFLOW_PARENT_RUN_TAG = "mlflow.parentRunId"  # MLflow's own, on a nested run

PARENT_TAG = "ledex.parent"  # version: the policy it was trained from, models:/<name>/<version> or base:<model>
CYCLE_RUN_TAG = "ledex.cycle_run_id"  # version: the cycle's parent MLflow run
CYCLE_FLOW_RUN_TAG = "ledex.prefect_flow_run_id"  # version: the cycle's Prefect flow run


def version_lineage(client, run_id: str) -> dict[str, str]:
    """The version tags of a model registered from run `run_id`: its parent policy and its cycle's
    MLflow and Prefect runs, each when known (a run outside a cycle has no cycle)."""
    tags = client.get_run(run_id).data.tags
    lineage = {PARENT_TAG: tags.get(POLICY_TAG), CYCLE_RUN_TAG: tags.get(MLFLOW_PARENT_RUN_TAG)}
    if lineage[CYCLE_RUN_TAG]:
        lineage[CYCLE_FLOW_RUN_TAG] = client.get_run(lineage[CYCLE_RUN_TAG]).data.tags.get(FLOW_RUN_TAG)
    return {key: value for key, value in lineage.items() if value}

"""MLflow tracking for stages: one run per stage, nested under the pipeline's run when there is one.

A stage run holds its params, the git commit as a tag and its DVC input hashes as one artifact;
a stage may nest child runs under its own (evaluate: one per model) and add headline metrics to
the pipeline's run. The experiment is marked as model development, so MLflow 3 opens it on runs.

Default store: `mlflow.db` (SQLite) and `mlruns/` (artifacts) in the repo; `tracking.uri` in
params.yaml or `MLFLOW_TRACKING_URI` point elsewhere. `LEDEX_PARENT_RUN_ID` (set by the flow)
nests stage runs under one pipeline run. A transient error inside a stage's run (see
`ledex.pipeline.transient`) ends the process with `TRANSIENT_EXIT`, so the flow knows to retry it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from ledex.pipeline.transient import exit_on_transient_error

REPO = Path(__file__).resolve().parents[2]
EXPERIMENT = "ledex"
PARENT_RUN_ENV = "LEDEX_PARENT_RUN_ID"
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"  # which view MLflow 3's UI opens the experiment in
MODEL_TRAINING = "custom_model_development"  # runs, metrics and compare view, not the GenAI (traces) view
FLOW_RUN_TAG = "prefect.flow_run_id"  # on the pipeline's run, set by flows/cycle.py
DVC_INPUTS_ARTIFACT = "dvc_inputs.json"  # {path: md5} of the stage's deps in dvc.lock


def tracking_uri(configured: str = "") -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or configured or f"sqlite:///{REPO / 'mlflow.db'}"


@contextmanager
def stage_run(stage: str, params: dict, configured_uri: str = "") -> Iterator[object]:
    """An MLflow run for `stage` with its params, the git commit and its DVC input hashes."""
    import mlflow

    use_experiment(configured_uri)
    tags = {"ledex.stage": stage, "mlflow.source.git.commit": _git_commit()}
    parent = os.environ.get(PARENT_RUN_ENV)
    with (
        exit_on_transient_error(),
        mlflow.start_run(run_name=stage, parent_run_id=parent, nested=bool(parent), tags=tags) as run,
    ):
        mlflow.log_params(_flatten(params))
        mlflow.log_dict(_dvc_inputs(stage), DVC_INPUTS_ARTIFACT)
        yield run


def log_child_run(name: str, metrics: dict[str, float], tags: dict[str, str]) -> str:
    """A run nested under the active one holding `metrics` (e.g. one evaluated model); returns its id."""
    import mlflow

    with mlflow.start_run(run_name=name, nested=True, tags=tags) as run:
        mlflow.log_metrics(metrics)
    return run.info.run_id


def log_to_pipeline_run(metrics: dict[str, float], step: int | None = None) -> str | None:
    """Log `metrics` (at `step`, e.g. the cycle's number) to the cycle's parent run too, when there
    is one; returns its id."""
    from mlflow import MlflowClient

    parent = os.environ.get(PARENT_RUN_ENV)
    if parent:
        client = MlflowClient()
        for key, value in metrics.items():
            client.log_metric(parent, key, value, step=step or 0)
    return parent


def cycle_run_id() -> str:
    """The cycle's parent run; a stage run by hand outside a cycle is a cycle of its own run."""
    import mlflow

    return os.environ.get(PARENT_RUN_ENV) or mlflow.active_run().info.run_id


@contextmanager
def pipeline_run(configured_uri: str = "", tags: dict | None = None) -> Iterator[str]:
    """The parent MLflow run of one pipeline cycle; its id goes to the stages in `PARENT_RUN_ENV`."""
    import mlflow

    use_experiment(configured_uri)
    with mlflow.start_run(run_name="cycle", tags={"mlflow.source.git.commit": _git_commit(), **(tags or {})}) as run:
        yield run.info.run_id


def run_links() -> dict[str, str]:
    """Where the active run (and the cycle's run, and its Prefect flow run) can be found."""
    import mlflow

    run = mlflow.active_run().info
    links = {"MLflow run": _run_address(run.experiment_id, run.run_id)}
    parent = os.environ.get(PARENT_RUN_ENV)
    if parent:
        links["MLflow cycle run"] = _run_address(run.experiment_id, parent)
        if flow_run := mlflow.MlflowClient().get_run(parent).data.tags.get(FLOW_RUN_TAG):
            links["Prefect flow run"] = f"`{flow_run}`"
    return links


def _run_address(experiment_id: str, run_id: str) -> str:
    """A link into the MLflow UI when a tracking server is configured; else the run id and store."""
    import mlflow

    uri = mlflow.get_tracking_uri()
    if uri.startswith(("http://", "https://")):
        return f"[{run_id}]({uri.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id})"
    return f"`{run_id}` in `{uri}`"


def use_experiment(configured_uri: str = "") -> None:
    """Point MLflow at the store and the `ledex` experiment, creating it: with its artifacts in
    the repo's mlruns/ for a local store, where a tracking server puts them for a server."""
    import mlflow  # slow to import; only what tracks needs it

    uri = tracking_uri(configured_uri)
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        on_server = uri.startswith(("http://", "https://"))
        mlflow.create_experiment(EXPERIMENT, artifact_location=None if on_server else (REPO / "mlruns").as_uri())
    mlflow.set_experiment(EXPERIMENT)
    mlflow.set_experiment_tag(EXPERIMENT_KIND_TAG, MODEL_TRAINING)


def _flatten(params: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)[:500]
    return flat


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _dvc_inputs(stage: str) -> dict[str, str]:
    """The input hashes dvc.lock recorded for this stage (empty before the first `dvc repro`)."""
    lock = REPO / "dvc.lock"
    if not lock.exists():
        return {}
    entry = (yaml.safe_load(lock.read_text()) or {}).get("stages", {}).get(stage, {})
    return {dep["path"]: dep.get("md5", "") for dep in entry.get("deps", [])}

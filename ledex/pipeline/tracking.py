"""MLflow tracking for stages: one run per stage, nested under the pipeline's run when there is one.

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


def tracking_uri(configured: str = "") -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or configured or f"sqlite:///{REPO / 'mlflow.db'}"


@contextmanager
def stage_run(stage: str, params: dict, configured_uri: str = "") -> Iterator[object]:
    """An MLflow run for `stage` with its params, the git commit and its DVC input hashes."""
    import mlflow

    use_experiment(configured_uri)
    tags = {"ledex.stage": stage, "mlflow.source.git.commit": _git_commit()}
    tags.update({f"dvc.dep.{path}": md5 for path, md5 in _dvc_inputs(stage).items()})
    parent = os.environ.get(PARENT_RUN_ENV)
    with (
        exit_on_transient_error(),
        mlflow.start_run(run_name=stage, parent_run_id=parent, nested=bool(parent), tags=tags) as run,
    ):
        mlflow.log_params(_flatten(params))
        yield run


@contextmanager
def pipeline_run(configured_uri: str = "", tags: dict | None = None) -> Iterator[str]:
    """The parent MLflow run of one pipeline cycle; its id goes to the stages in `PARENT_RUN_ENV`."""
    import mlflow

    use_experiment(configured_uri)
    with mlflow.start_run(run_name="cycle", tags={"mlflow.source.git.commit": _git_commit(), **(tags or {})}) as run:
        yield run.info.run_id


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

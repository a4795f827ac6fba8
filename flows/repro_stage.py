"""The flow that a container job runs: one DVC stage, in the project mounted into the container."""

from __future__ import annotations

import subprocess

from prefect import flow


@flow(name="repro-stage")
def repro_stage(stage: str, project_dir: str) -> None:
    """`dvc repro --single-item <stage>` in `project_dir`; a failing stage fails the flow run."""
    subprocess.run(["dvc", "repro", "--single-item", stage], cwd=project_dir, check=True)

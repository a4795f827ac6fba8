"""`ledex deploy`: register the deployments of prefect.yaml (the weekly cycle) with the Prefect API.

It wraps `prefect deploy --all`, after creating the local process work pool when it is missing.
Other pools (e.g. a Docker pool) are created by their own setup; `prefect deploy` names a
missing one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LOCAL_POOL = "ledex-local"  # prefect.yaml's default pool: runs the flow in a process on the worker's machine


def deploy(root: Path, pool: str | None = None) -> int:
    """Deploy every deployment of `root`/prefect.yaml (to `pool` when given) with this process's
    Prefect settings; returns `prefect deploy`'s exit status."""
    if (pool or LOCAL_POOL) == LOCAL_POOL:
        ensure_process_pool(LOCAL_POOL)
    command = [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all", *(["--pool", pool] if pool else [])]
    return subprocess.run(command, cwd=root).returncode


def ensure_process_pool(name: str) -> None:
    """Create the process work pool `name` with Prefect's default job template, unless it exists."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            client.create_work_pool(WorkPoolCreate(name=name, type="process", base_job_template=template))
            print(f"created process work pool {name!r}")

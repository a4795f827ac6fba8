"""Where a ledex project is, and where Prefect keeps its state for it.

Without PREFECT_API_URL, Prefect runs in ephemeral mode: a temporary API over a SQLite database
in PREFECT_HOME. ledex puts that home inside the project (`.prefect/`, git-ignored), so runs,
deployments and artifacts stay with the project; `ledex ui` serves the same database.
"""

from __future__ import annotations

import os
from pathlib import Path

PREFECT_DIR = ".prefect"
# The ephemeral API migrates a new database on its first start: on a busy 2-core machine that
# takes longer than Prefect's default of 20 s.
EPHEMERAL_STARTUP_TIMEOUT_S = "120"


def project_root() -> Path:
    """The DVC project that holds the current directory (as `dvc` finds it)."""
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    try:
        return Path(Repo.find_root())
    except NotDvcRepoError as err:
        raise ValueError(str(err)) from None


def prefect_env(root: Path) -> dict[str, str]:
    """This process's environment with PREFECT_HOME in the project, unless a Prefect server is
    configured (PREFECT_API_URL) or a home chosen (PREFECT_HOME)."""
    env = dict(os.environ)
    if "PREFECT_API_URL" not in env:
        env.setdefault("PREFECT_HOME", str(root / PREFECT_DIR))
        env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", EPHEMERAL_STARTUP_TIMEOUT_S)
        env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # a local store reports nowhere (often offline)
    return env


def use_project_prefect(root: Path) -> None:
    """`prefect_env` for this process; call it before Prefect is imported, which reads its settings."""
    os.environ.update(prefect_env(root))

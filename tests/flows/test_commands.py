"""`ledex run`, `ledex ui` and `ledex deploy` as a user runs them: fresh processes, real servers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

import flows

REPO = Path(flows.__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ledex_env(**extra: str) -> dict[str, str]:
    """This environment less any Prefect or MLflow settings of the test session, with this checkout first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_", "LEDEX_"))}
    return {**env, "PYTHONPATH": str(REPO), **extra}


def ledex(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def wait_until(condition, timeout_s: float = 180.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout_s} s: {condition.__doc__}")


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_ledex_run_keeps_prefect_in_the_project_and_reports_a_failed_stage(tiny_project, tmp_path):
    (tiny_project / "faults" / "report").write_text("3")
    env = ledex_env(MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}")

    result = ledex("run", cwd=tiny_project, env=env)

    assert result.returncode == 2, result.stderr[-3000:]
    assert (tiny_project / "runs.log").read_text().split() == ["prepare", "train", "report"]
    assert (
        f"ledex: error: stage 'report' failed (exit status 3, not retried); log: {tiny_project / 'logs' / 'report.log'}"
        in result.stderr
    )
    assert (tiny_project / ".prefect" / "prefect.db").exists()  # ephemeral mode, its database in the project


def test_ledex_ui_serves_prefect_and_mlflow_until_interrupted(tiny_project, tmp_path):
    prefect_port, mlflow_port = free_port(), free_port()
    env = ledex_env(MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}")
    ui = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "ui",
            "--prefect-port",
            str(prefect_port),
            "--mlflow-port",
            str(mlflow_port),
        ],
        cwd=tiny_project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = [ui.stdout.readline() for _ in range(3)]
        assert printed == [
            f"Prefect UI: http://127.0.0.1:{prefect_port}\n",
            f"MLflow UI: http://127.0.0.1:{mlflow_port}\n",
            "Ctrl-C stops them.\n",
        ], printed + [ui.stdout.read() if ui.poll() is not None else ""]
        assert answers(f"http://127.0.0.1:{prefect_port}/api/health") and answers(
            f"http://127.0.0.1:{mlflow_port}/health"
        )
        assert (tiny_project / ".prefect" / "prefect.db").exists()
    finally:
        ui.send_signal(signal.SIGINT)
        assert ui.wait(60) == 0
    assert not answers(f"http://127.0.0.1:{prefect_port}/api/health")
    assert not answers(f"http://127.0.0.1:{mlflow_port}/health")


@pytest.fixture
def prefect_server(tmp_path):
    """A Prefect server on a free loopback port over a temporary home; its scheduler looks every second."""
    port = free_port()
    env = ledex_env(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="1")
    with (tmp_path / "server.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_until(lambda: answers(f"{api}/health"))
        yield api
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def test_ledex_deploy_schedules_the_weekly_cycle_on_mondays_at_3_utc(prefect_server, tmp_path):
    result = ledex(
        "deploy", cwd=REPO, env=ledex_env(PREFECT_API_URL=prefect_server, PREFECT_HOME=str(tmp_path / "client-home"))
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    api = httpx.Client(base_url=prefect_server, timeout=10)
    deployment = api.get("/deployments/name/ledex-cycle/weekly").raise_for_status().json()
    assert deployment["work_pool_name"] == "ledex-local"
    assert api.get("/work_pools/ledex-local").json()["type"] == "process"
    (schedule,) = deployment["schedules"]
    assert (schedule["schedule"]["cron"], schedule["schedule"]["timezone"]) == ("0 3 * * 1", "UTC")

    def scheduled_runs():
        """the scheduler lists the deployment's next runs"""
        body = {"deployments": {"id": {"any_": [deployment["id"]]}}, "sort": "EXPECTED_START_TIME_ASC"}
        return api.post("/flow_runs/filter", json=body).raise_for_status().json()

    runs = wait_until(scheduled_runs, timeout_s=60)
    starts = [datetime.fromisoformat(run["expected_start_time"]).astimezone(UTC) for run in runs]
    assert len(starts) >= 3 and all(run["state_type"] == "SCHEDULED" for run in runs)
    assert all((start.weekday(), start.hour, start.minute) == (0, 3, 0) for start in starts)  # Mondays, 03:00 UTC
    assert starts[0] > datetime.now(UTC)

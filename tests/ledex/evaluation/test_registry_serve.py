"""`mlflow models serve` serves the champion: a bounded request on a loopback port gets an answer."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import mlflow
import pytest

from ledex.evaluation.registry import promote, register

STARTUP_S = 240  # importing torch and MLflow on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_mlflow_serves_the_champion(tmp_path, tiny_qwen2_checkpoint):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        experiment = mlflow.create_experiment("serve-test", artifact_location=(tmp_path / "mlruns").as_uri())
        with mlflow.start_run(experiment_id=experiment) as run:
            promote(register(tiny_qwen2_checkpoint, "ppo", run.info.run_id), 0.3, "humaneval#p", 0.0)
    finally:
        mlflow.set_tracking_uri(previous)

    port = free_port()
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    server = subprocess.Popen(
        [
            str(mlflow_cli),
            "models",
            "serve",
            "-m",
            "models:/ledex-debugger@champion",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        # as in an activated virtualenv: MLflow runs the venv's uvicorn by name
        env={**os.environ, "MLFLOW_TRACKING_URI": uri, "PATH": f"{mlflow_cli.parent}{os.pathsep}{os.environ['PATH']}"},
        cwd=tmp_path,  # the model brings its own copy of `stages`
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_S
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-3000:]
            try:
                if httpx.get(f"{base}/ping", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not answer /ping in time"
            time.sleep(1)
        request = {
            "dataframe_records": [
                {
                    "problem": "Return twice n.",
                    "code": "def twice(n):\n    return n",
                    "feedback": "assert twice(2) == 4",
                }
            ],
            "params": {"max_new_tokens": 8},
        }
        response = httpx.post(f"{base}/invocations", json=request, timeout=120)
        assert response.status_code == 200, response.text
        [prediction] = response.json()["predictions"]
        assert set(prediction) == {"explanation", "code", "answer"} and prediction["answer"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)  # the server and the uvicorn worker it started
        server.wait(timeout=30)

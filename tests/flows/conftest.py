"""A tiny DVC project of cheap Python stages, copied fresh for each test, and one Prefect
ephemeral API and MLflow store shared by the session."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# One script for every stage: `python stage.py NAME [UPSTREAM...]`. It appends NAME to runs.log
# (outside DVC's outputs), then acts on faults/NAME, one word per attempt: "ok", "kill" (SIGKILL
# itself) or an exit status; no file or no word left: ok. A stage that succeeds writes
# out/NAME.txt from its upstream outputs and input.txt, and metrics/NAME.json.
STAGE_SCRIPT = """
import json, os, signal, sys
from pathlib import Path

name, *upstream = sys.argv[1:]
with open("runs.log", "a") as runs:
    runs.write(name + "\\n")
attempt = Path("runs.log").read_text().split().count(name)
faults = Path("faults", name).read_text().split() if Path("faults", name).exists() else []
fault = faults[attempt - 1] if attempt <= len(faults) else "ok"
print(f"{name}: attempt {attempt}: {fault}", flush=True)
if fault == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
if fault != "ok":
    print(f"{name}: bad data in input.txt", file=sys.stderr)
    sys.exit(int(fault))
text = "".join(Path("out", f"{up}.txt").read_text() for up in upstream) + Path("input.txt").read_text()
Path("out").mkdir(exist_ok=True)
Path("out", f"{name}.txt").write_text(text)
Path("metrics").mkdir(exist_ok=True)
parent_run = os.environ.get("LEDEX_PARENT_RUN_ID", "")
policy = os.environ.get("LEDEX_POLICY", "")
metrics = {"lines": len(text.splitlines()), "parent_run": parent_run, "policy": policy, "detail": {"attempt": attempt}}
Path("metrics", f"{name}.json").write_text(json.dumps(metrics))
"""

DVC_YAML = """\
stages:
  prepare:
    cmd: python stage.py prepare
    deps: [stage.py, input.txt]
    outs: [out/prepare.txt]
    metrics: [{metrics/prepare.json: {cache: false}}]
  train:
    cmd: python stage.py train prepare
    deps: [stage.py, input.txt, out/prepare.txt]
    outs: [out/train.txt]
    metrics: [{metrics/train.json: {cache: false}}]
  report:
    cmd: python stage.py report train
    deps: [stage.py, input.txt, out/train.txt]
    outs: [out/report.txt]
    metrics: [{metrics/report.json: {cache: false}}]
"""


@pytest.fixture(scope="session")
def tiny_project_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny-project")
    (root / "stage.py").write_text(STAGE_SCRIPT)
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "input.txt").write_text("one\ntwo\n")
    (root / "params.yaml").write_text("tracking:\n  uri: ''   # MLFLOW_TRACKING_URI decides\n")
    (root / "faults").mkdir()
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=root, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "config", "core.analytics", "false"], cwd=root, check=True)
    return root


@pytest.fixture
def tiny_project(tiny_project_template, tmp_path) -> Path:
    return Path(shutil.copytree(tiny_project_template, tmp_path / "project"))


@pytest.fixture(scope="session")
def prefect_api():
    """Prefect's ephemeral API on a temporary database, started once for the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):  # a loaded 2-core machine needs more than the default 30 s
        yield


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def cycle_env(prefect_api, mlflow_store, monkeypatch) -> str:
    """What a flow test needs: the Prefect API, the MLflow store in MLFLOW_TRACKING_URI, no parent run inherited."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    monkeypatch.delenv("LEDEX_PARENT_RUN_ID", raising=False)
    return mlflow_store

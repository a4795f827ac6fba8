"""A GPU stage run as a container job, end to end, with real components only.

podman's Docker-API service (runc) stands in for a Docker engine; the image is the CPU variant
built by scripts/build_image.sh on a debootstrap Debian rootfs; a local Prefect server and a
Prefect Docker worker run the `sample` stage of a small copy of this project, with a tiny random
model, through the path a GPU host takes: deployment → worker → container → the stage's outputs
on the mounted project → flow run Completed. Skips, saying why, where root, podman, runc or
debootstrap are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("LEDEX_IMAGE", "localhost/ledex:cpu")
WORK_POOL = "ledex-test-docker"
NICE = ["nice", "-n", "19", "ionice", "-c3"]  # builds and containers yield to everything else
PODMAN_ENV = {"CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(REPO / "scripts" / "podman.conf"))}
PROJECT_FILES = (
    "dvc.yaml",
    "params.yaml",
    ".dvcignore",
    ".gitignore",
    ".dvc/config",
    "profiles/",
    "stages/",
    "ledex/",
    "sandbox/",
    "data/tasks/",
)

pytestmark = [pytest.mark.container, pytest.mark.slow]


def missing_requirements() -> str | None:
    if os.geteuid() != 0:
        return "podman's rootful Docker-API service needs root"
    absent = [tool for tool in ("podman", "runc", "debootstrap", "ionice") if not shutil.which(tool)]
    return f"not installed: {', '.join(absent)} (scripts/bootstrap.sh installs them as root)" if absent else None


@pytest.fixture(scope="module")
def docker_host(tmp_path_factory):
    """podman's Docker-API service on a socket of its own, with runc."""
    problem = missing_requirements()
    if problem:
        pytest.skip(problem)
    socket_path = tmp_path_factory.mktemp("podman") / "podman.sock"
    url = f"unix://{socket_path}"
    service = subprocess.Popen([*NICE, "podman", "system", "service", "--time=0", url], env=os.environ | PODMAN_ENV)
    try:
        wait_for(lambda: socket_path.exists(), "podman's service socket", timeout_s=60)
        yield url
    finally:
        service.terminate()
        service.wait(timeout=30)


@pytest.fixture(scope="module")
def image(docker_host):
    """The CPU image, built unless an image of the same inputs is there."""
    started = time.monotonic()
    subprocess.run(
        [*NICE, str(REPO / "scripts" / "build_image.sh"), "cpu"],
        env=os.environ | PODMAN_ENV | {"LEDEX_IMAGE": IMAGE},
        check=True,
    )
    print(f"image {IMAGE} ready in {time.monotonic() - started:.0f} s")
    return IMAGE


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory):
    """A local Prefect server on a free loopback port, with its own PREFECT_HOME."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = os.environ | {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen([*NICE, *command], env=env, stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: answers(f"{url}/health"), "the Prefect server", timeout_s=180)
        with temporary_settings(updates={PREFECT_API_URL: url, PREFECT_HOME: home}):
            yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


@pytest.fixture(scope="module")
def docker_worker(prefect_api, docker_host, tmp_path_factory):
    """A Prefect Docker worker of the test's work pool, talking to podman."""
    env = os.environ | {
        "PREFECT_API_URL": prefect_api,
        "PREFECT_HOME": str(tmp_path_factory.mktemp("worker-home")),
        "DOCKER_HOST": docker_host,
    }
    command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", WORK_POOL, "--type", "docker"]
    worker = subprocess.Popen([*NICE, *command, "--limit", "1"], env=env)
    yield worker
    worker.terminate()
    worker.wait(timeout=60)


@pytest.fixture
def project(tmp_path, tiny_qwen2_checkpoint):
    """This project's stages and stage graph in a git repository of its own, set up for a
    `sample` of one problem with a tiny random model kept inside it."""
    project = tmp_path / "project"
    listed = subprocess.run(["git", "ls-files", *PROJECT_FILES], cwd=REPO, capture_output=True, text=True, check=True)
    for name in listed.stdout.split():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, project / name)
    model = project / "models" / "tiny-qwen2"
    shutil.copytree(tiny_qwen2_checkpoint, model)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"] |= {  # HumanEval ships in a package; the image has no ../shared/data
        "train": [{"benchmark": "humaneval", "problems": "0:1"}],
        "evaluate": [{"benchmark": "humaneval", "problems": "1:2"}],
    }
    params["models"] = {"policy": str(model), "teacher": str(model)}
    params["generation"] = {"backend": "transformers", "options": {"batch_size": 1}}
    params["sample"] |= {"shots": 0, "n": 2, "max_new_tokens": 8, "problems_per_batch": 1}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run([sys.executable, "-m", "stages.resolve_policy"], cwd=project, check=True)  # the pin sample reads
    git = ["git", "-c", "user.name=ledex", "-c", "user.email=ledex@localhost"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fixture project"]):
        subprocess.run([*git, *command], cwd=project, check=True)
    return project


def test_sample_runs_in_a_container_through_the_docker_work_pool(image, docker_worker, project):
    from flows.containers import ContainerSettings, run_stage_in_container, runs_in_container

    settings = ContainerSettings(
        enabled=True, work_pool=WORK_POOL, image=image, image_pull_policy="Never", gpus=0, stages=("sample",)
    )
    assert runs_in_container("sample", settings)

    flow_run = run_stage_in_container("sample", project, settings, timeout_s=900)

    assert flow_run.state.is_completed()
    samples = [json.loads(line) for line in (project / "data/sample/samples.jsonl").read_text().splitlines()]
    assert samples and {sample["problem_id"] for sample in samples} == {"HumanEval/0"}
    assert "sample" in yaml.safe_load((project / "dvc.lock").read_text())["stages"]
    assert json.loads((project / "metrics/sample.json").read_text())
    with sqlite3.connect(project / "mlflow.db") as store:
        runs = store.execute("SELECT count(*) FROM tags WHERE key = 'ledex.stage' AND value = 'sample'").fetchone()[0]
    assert runs == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(condition, what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {timeout_s:.0f} s")
        time.sleep(0.5)

"""The Docker-API isolation mode.

The end-to-end test uses the default Docker API and image unless LEDEX_DOCKER_URL,
LEDEX_DOCKER_IMAGE and LEDEX_DOCKER_PYTHON say otherwise (for instance podman's service
with a locally built image), and skips, saying what is missing, when they are not there.
"""

from __future__ import annotations

import os
import socket
import struct
import time

import pytest

from sandbox import Job, Sandbox, SandboxConfig, SandboxUnavailable
from sandbox.docker_backend import _ContainerChannel
from sandbox.worker import WorkerLost

DEFAULT_DOCKER = SandboxConfig(isolation="docker", workers=1)
DOCKER = SandboxConfig(
    isolation="docker",
    workers=1,
    docker_url=os.environ.get("LEDEX_DOCKER_URL", DEFAULT_DOCKER.docker_url),
    docker_image=os.environ.get("LEDEX_DOCKER_IMAGE", DEFAULT_DOCKER.docker_image),
    docker_python=os.environ.get("LEDEX_DOCKER_PYTHON", DEFAULT_DOCKER.docker_python),
)


def docker_problem(config: SandboxConfig) -> str | None:
    """Why the Docker API at `config.docker_url` cannot run `config.docker_image`, or None."""
    import docker

    try:
        client = docker.DockerClient(base_url=config.docker_url)
        client.ping()
    except Exception as error:  # the SDK raises several unrelated types for an absent engine
        return f"no Docker API answers at {config.docker_url} ({error}); start dockerd or `podman system service`"
    try:
        client.images.get(config.docker_image)
    except docker.errors.ImageNotFound:
        return f"image {config.docker_image} is not available at {config.docker_url}; pull it or set LEDEX_DOCKER_IMAGE"
    return None


def test_docker_isolation_without_an_engine_is_refused_with_the_fix():
    config = SandboxConfig(isolation="docker", workers=1, docker_url="unix:///nonexistent/docker.sock")
    with pytest.raises(SandboxUnavailable, match=r"no Docker API answers at unix:///nonexistent/docker.sock"):
        Sandbox(config)


@pytest.mark.container
def test_docker_isolation_scores_like_bubblewrap():
    problem = docker_problem(DOCKER)
    if problem:
        pytest.skip(problem)
    with Sandbox(DOCKER) as sandbox:
        program = "def add(a, b):\n    return a + b\n"
        passing = sandbox.run(Job("python", program, test_cases=("assert add(1, 2) == 3",)))
        failing = sandbox.run(Job("python", program, test_cases=("assert add(1, 2) == 4",)))
        exiting = sandbox.run(Job("python", "import os\nos._exit(0)\n", test_cases=("assert True",)))
        connect = "socket.create_connection(('1.1.1.1', 53), timeout=2)"
        offline = sandbox.run(Job("python", "import socket\n", test_cases=(connect,)))
    assert passing.passed and not failing.passed and not exiting.passed and not offline.passed


class _Container:
    """Stands in for a docker container object; the channel only needs these for cleanup."""

    def logs(self, **streams) -> bytes:
        return b""

    def remove(self, force: bool) -> None:
        pass


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def test_the_attach_stream_is_demultiplexed():
    ours, theirs = socket.socketpair()
    channel = _ContainerChannel(_Container(), ours, RuntimeError)
    theirs.sendall(frame(1, b"hel") + frame(2, b"noise on stderr") + frame(1, b"lo world"))
    deadline = time.monotonic() + 5
    assert channel.receive(5, deadline) == b"hello"
    assert channel.receive(6, deadline) == b" world"
    channel.send(b"request")
    assert theirs.recv(7) == b"request"
    with pytest.raises(WorkerLost) as lost:
        channel.receive(1, time.monotonic() + 0.1)
    assert lost.value.timed_out
    theirs.close()
    with pytest.raises(WorkerLost, match="closed"):
        channel.receive(1, time.monotonic() + 5)
    channel.close()

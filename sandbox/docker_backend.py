"""Fork servers in Docker containers, through the Docker API (dockerd, or podman's compatible service).

Each worker slot is one long-lived container running the same harness as the bubblewrap
backend: no network, read-only root filesystem, size-capped tmpfs on /tmp and /dev/shm, a
memory and PID cgroup limit, all capabilities dropped, no-new-privileges, and the slot's
own non-root uid. The fork server is the container's PID 1 and talks to the host over the
container's attached stdin/stdout.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time

from .config import SandboxConfig
from .errors import SandboxUnavailable
from .worker import Worker, WorkerLost, harness_command

FIX_HINT = (
    "docker isolation needs a Docker API at docker_url (dockerd, or `podman system service`), "
    "and docker_image pulled there with docker_python on its PATH."
)
_FRAME_HEADER = struct.Struct(">BxxxL")  # multiplexed attach stream: stream id, payload size
_STDOUT = 1
_CONTAINER_OVERHEAD_MB = 256
_EXTRA_PIDS = 16  # fork server and processes of the container runtime
_DIAGNOSTICS_CHARS = 4000


class DockerLauncher:
    """Starts a fork server in a new container for a worker slot."""

    def __init__(self, config: SandboxConfig) -> None:
        try:
            import docker
        except ImportError as error:
            raise SandboxUnavailable(f"the docker package is not installed (pip install docker). {FIX_HINT}") from error
        self._config = config
        self._errors = docker.errors
        try:
            self._client = docker.DockerClient(base_url=config.docker_url)
            self._client.ping()
        except Exception as error:  # the SDK raises several unrelated types for an absent engine
            raise SandboxUnavailable(f"no Docker API answers at {config.docker_url} ({error}). {FIX_HINT}") from error

    def start(self, slot: int) -> Worker:
        config = self._config
        uid = config.uid_base + slot
        memory = f"{config.compile_memory_mb + 2 * config.tmpfs_mb + _CONTAINER_OVERHEAD_MB}m"
        try:
            container = self._client.containers.create(
                config.docker_image,
                command=harness_command(config.docker_python),
                stdin_open=True,
                tty=False,
                user=f"{uid}:{uid}",
                working_dir="/tmp",
                environment={"HOME": "/tmp", "LANG": "C.UTF-8"},
                network_mode="none",
                read_only=True,
                tmpfs={"/tmp": f"size={config.tmpfs_mb}m,mode=1777"},
                shm_size=f"{config.tmpfs_mb}m",
                mem_limit=memory,
                memswap_limit=memory,
                pids_limit=config.max_processes + _EXTRA_PIDS,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                ipc_mode="private",
                labels={"ledex.sandbox": "worker"},
            )
        except self._errors.ImageNotFound as error:
            message = f"image {config.docker_image} is not available: pull or build it. {FIX_HINT}"
            raise SandboxUnavailable(message) from error
        except self._errors.APIError as error:
            raise SandboxUnavailable(f"could not create a worker container ({error}). {FIX_HINT}") from error
        attached = container.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
        container.start()  # after attaching, so that no output is missed
        channel = _ContainerChannel(container, getattr(attached, "_sock", attached), self._errors.APIError)
        return Worker(channel, config.worker_settings(), fix_hint=FIX_HINT)


class _ContainerChannel:
    """A container's attach socket: raw stdin one way, framed stdout the other."""

    def __init__(self, container, attached: socket.socket, api_error: type[Exception]) -> None:
        self._container = container
        self._socket = attached
        self._api_error = api_error
        self._stdout = bytearray()

    def send(self, data: bytes) -> None:
        self._socket.sendall(data)

    def receive(self, size: int, deadline: float) -> bytes:
        while len(self._stdout) < size:
            stream, length = _FRAME_HEADER.unpack(self._read_raw(_FRAME_HEADER.size, deadline))
            payload = self._read_raw(length, deadline)
            if stream == _STDOUT:
                self._stdout += payload
        data = bytes(self._stdout[:size])
        del self._stdout[:size]
        return data

    def diagnostics(self) -> str:
        try:
            return self._container.logs(stdout=False, stderr=True).decode("utf-8", "replace")[-_DIAGNOSTICS_CHARS:]
        except self._api_error:
            return ""

    def close(self) -> None:
        self._socket.close()
        with contextlib.suppress(self._api_error):  # already gone
            self._container.remove(force=True)

    def _read_raw(self, size: int, deadline: float) -> bytes:
        data = bytearray()
        while len(data) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerLost("the worker did not answer in time", timed_out=True)
            self._socket.settimeout(remaining)
            try:
                chunk = self._socket.recv(size - len(data))
            except TimeoutError:
                continue
            if not chunk:
                raise WorkerLost("the worker container closed its output")
            data += chunk
        return bytes(data)

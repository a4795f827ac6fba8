"""`ledex ui`: the Prefect server and the MLflow UI on 127.0.0.1 over the project's own stores.

Each runs in a process group of its own with its output in `logs/`; the command waits until
Ctrl-C (or SIGTERM), then stops both groups. If either stops by itself, so does the other.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Service:
    name: str
    command: list[str]
    url: str
    health: str  # a path that answers 200 once the service is ready
    log: Path


def services(root: Path, tracking_uri: str, prefect_port: int, mlflow_port: int) -> list[Service]:
    """The Prefect server (over PREFECT_HOME's database) and an MLflow UI over `tracking_uri`,
    unless that is a server already (http[s]://), which serves its own UI."""
    found = [
        Service(
            "Prefect",
            [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(prefect_port)],
            f"http://{HOST}:{prefect_port}",
            "/api/health",
            root / "logs" / "prefect-server.log",
        )
    ]
    if not _is_server(tracking_uri):
        found.append(
            Service(
                "MLflow",
                [
                    sys.executable,
                    "-m",
                    "mlflow",
                    "ui",
                    "--backend-store-uri",
                    tracking_uri,
                    "--host",
                    HOST,
                    "--port",
                    str(mlflow_port),
                ],
                f"http://{HOST}:{mlflow_port}",
                "/health",
                root / "logs" / "mlflow-ui.log",
            )
        )
    return found


def serve(root: Path, tracking_uri: str, prefect_port: int, mlflow_port: int, env: dict[str, str]) -> int:
    """Start the services, print their addresses once they answer, wait; 0 after Ctrl-C or SIGTERM."""
    for stop in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a shell may have started us with it ignored
        signal.signal(stop, signal.default_int_handler)
    started: list[tuple[Service, subprocess.Popen]] = []
    try:
        for service in services(root, tracking_uri, prefect_port, mlflow_port):
            started.append((service, _start(service, root, env)))
        for service, process in started:
            _wait_ready(service, process)
            print(f"{service.name} UI: {service.url}", flush=True)
        if _is_server(tracking_uri):
            print(f"MLflow UI: {tracking_uri} (the tracking server's own)", flush=True)
        print("Ctrl-C stops them.", flush=True)
        while all(process.poll() is None for _, process in started):
            time.sleep(0.5)
        service, process = next((s, p) for s, p in started if p.returncode is not None)
        raise RuntimeError(f"{service.name} stopped (exit status {process.returncode}); log: {service.log}")
    except KeyboardInterrupt:
        return 0
    finally:
        for _, process in started:
            _stop(process)


def _is_server(tracking_uri: str) -> bool:
    return tracking_uri.startswith(("http://", "https://"))


def _start(service: Service, root: Path, env: dict[str, str]) -> subprocess.Popen:
    service.log.parent.mkdir(parents=True, exist_ok=True)
    with service.log.open("w") as log:
        return subprocess.Popen(
            service.command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_ready(service: Service, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "".join(deque(service.log.open(errors="replace"), maxlen=20))
            raise RuntimeError(
                f"{service.name} did not start (exit status {process.returncode}); log: {service.log}\n{tail}"
            )
        try:
            if httpx.get(service.url + service.health, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"{service.name} did not answer at {service.url} within {STARTUP_TIMEOUT_S:.0f} s; log: {service.log}"
    )


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the service's process group (the server and its workers), SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(STOP_TIMEOUT_S)
            return
        except subprocess.TimeoutExpired:
            continue

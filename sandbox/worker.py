"""The host's side of one fork server: start-up handshake and self-check, then one job at a time.

How bytes reach the fork server (a bubblewrap process's pipes, a container's attach socket)
is a `Channel`; everything else about talking to a worker lives here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Protocol

from .errors import SandboxUnavailable
from .harness import protocol

HARNESS_DIR = Path(__file__).parent / "harness"
START_TIMEOUT_S = 60.0


class WorkerLost(Exception):
    """The fork server died or stopped answering, so the job it was running has no verdict."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


class Channel(Protocol):
    def send(self, data: bytes) -> None:
        """Write all of `data`; raises OSError when the worker is gone."""

    def receive(self, size: int, deadline: float) -> bytes:
        """Exactly `size` bytes; raises WorkerLost at end of stream or at `deadline` (monotonic)."""

    def diagnostics(self) -> str:
        """What the worker process wrote on stderr, for error messages."""

    def close(self) -> None:
        """Kill the worker and release everything held for it."""


def harness_command(python: str) -> list[str]:
    """The command that starts a fork server, given the sandbox's Python interpreter."""
    return [python, "-I", "-c", (HARNESS_DIR / "bootstrap.py").read_text()]


def harness_bundle() -> bytes:
    """The harness package's source, framed the way `bootstrap.py` reads it."""
    sources = {
        "harness" if path.stem == "__init__" else f"harness.{path.stem}": path.read_text()
        for path in HARNESS_DIR.glob("*.py")
        if path.stem != "bootstrap"
    }
    payload = json.dumps(sources).encode()
    return protocol.HEADER.pack(len(payload)) + payload


class Worker:
    """A started and self-checked fork server."""

    def __init__(self, channel: Channel, settings: dict, *, fix_hint: str) -> None:
        self._channel = channel
        try:
            channel.send(harness_bundle() + protocol.encode(settings))
            report = self.receive(time.monotonic() + START_TIMEOUT_S)
        except (WorkerLost, OSError) as error:
            diagnostics = channel.diagnostics()
            channel.close()
            message = f"the sandbox worker did not start ({error}). {fix_hint}\n{diagnostics}"
            raise SandboxUnavailable(message) from error
        problem = isolation_problem(report)
        if problem:
            channel.close()
            raise SandboxUnavailable(f"the sandbox worker failed its self-check: {problem}. {fix_hint}")

    def send(self, request: dict) -> None:
        """Queue a job; the worker runs jobs in the order they were sent. OSError if it is gone."""
        self._channel.send(protocol.encode(request))

    def receive(self, deadline: float) -> dict:
        """The reply to the oldest job not yet answered; WorkerLost if it does not come by
        `deadline` (time.monotonic) or the worker is gone."""
        (size,) = protocol.HEADER.unpack(self._channel.receive(protocol.HEADER.size, deadline))
        return protocol.decode(self._channel.receive(size, deadline))

    def diagnostics(self) -> str:
        return self._channel.diagnostics()

    def close(self) -> None:
        self._channel.close()


def isolation_problem(report: dict) -> str | None:
    """What is wrong with a worker's report on its own isolation, or None."""
    if report["uid"] == 0:
        return "it runs as root"
    if report["pid"] != 1:
        return "it does not run in a PID namespace of its own"
    if report["network_interfaces"] != ["lo"]:
        return f"it sees network interfaces {report['network_interfaces']}"
    return None

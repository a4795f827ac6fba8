"""Messages between the host and a fork server: a 4-byte big-endian length, then JSON."""

from __future__ import annotations

import json
import os
import struct

HEADER = struct.Struct(">I")


def encode(message: dict) -> bytes:
    payload = json.dumps(message).encode()
    return HEADER.pack(len(payload)) + payload


def decode(payload: bytes) -> dict:
    return json.loads(payload)


def read_message(fd: int) -> dict | None:
    """Block until a whole message arrives on `fd`; None when the other side has closed it."""
    header = _read_exactly(fd, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    payload = _read_exactly(fd, size)
    if payload is None:
        return None
    return decode(payload)


def write_message(fd: int, message: dict) -> None:
    data = memoryview(encode(message))
    while data:
        data = data[os.write(fd, data) :]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def test_names(job: dict) -> list[str]:
    """Names of a job's tests, in the order of its verdict's `tests`."""
    if job["io_cases"]:
        return [f"io_case_{index}" for index in range(len(job["io_cases"]))]
    if job["test_cases"]:
        return [f"test_case_{index}" for index in range(len(job["test_cases"]))]
    return ["test_program"]

"""The private channel from a job's trusted test driver to the fork server.

The driver writes one line per event on file descriptor `REPORT_FD`:
`<nonce> <kind> <index> <result> <message as hex or ->`. The nonce is drawn by the fork
server for each job and given only to the driver (never in a file), so lines written
without knowing it are ignored. Kinds: `program` (the program could not be compiled or run),
`test` (one test's result) and `complete` (the harness reached its end). A job counts as
passed only if its `complete` line arrived.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NamedTuple

REPORT_FD = 3

# A test reported several times (the program forked, and each copy went on running the
# tests) keeps its worst result.
_RESULT_RANK = {"passed": 0, "failed": 1, "error": 2, "memory": 3}

Reporter = Callable[..., None]


def reporter(nonce: str, fd: int = REPORT_FD) -> Reporter:
    """A function that writes report lines; it holds everything it calls, so a program that
    patches modules or builtins cannot redirect or silence it."""
    write = os.write
    encode = str.encode

    def report(kind: str, index: int = 0, result: str = "-", message: str = "") -> None:
        payload = encode(message, "utf-8", "replace").hex() or "-"
        write(fd, encode(f"{nonce} {kind} {index} {result} {payload}\n"))

    return report


class Reports(NamedTuple):
    complete: bool
    program_error: tuple[str, str] | None  # (status, message)
    tests: dict[int, tuple[str, str]]  # index -> (result, message)


def parse_reports(data: bytes, nonce: str) -> Reports:
    complete, program_error, tests = False, None, {}
    for line in data.decode("ascii", "replace").splitlines():
        fields = line.split(" ")
        if len(fields) != 5 or fields[0] != nonce or not fields[2].isdigit():
            continue
        _, kind, index, result, payload = fields
        try:
            message = "" if payload == "-" else bytes.fromhex(payload).decode("utf-8", "replace")
        except ValueError:
            continue
        if kind == "complete":
            complete = True
        elif kind == "program" and program_error is None:
            program_error = (result, message)
        elif kind == "test" and result in _RESULT_RANK:
            previous = tests.get(int(index))
            if previous is None or _RESULT_RANK[result] > _RESULT_RANK[previous[0]]:
                tests[int(index)] = (result, message)
    return Reports(complete, program_error, tests)

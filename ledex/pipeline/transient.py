"""Transient failures: a stage that fails for a reason a retry may cure exits with TRANSIENT_EXIT.

The orchestrator (flows/) retries a stage that exits with TRANSIENT_EXIT or is killed by SIGKILL
or SIGTERM (a lost worker); any other failure (bad config, bad data) is deterministic and is
reported, never retried. Stages resume from their checkpoints, so a retry redoes little.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from ledex.generation.openai_backend import RETRYABLE_STATUS

TRANSIENT_EXIT = 75  # EX_TEMPFAIL in sysexits.h: "temporary failure; the user is invited to retry"


def is_transient(error: BaseException) -> bool:
    """A lost generation endpoint: refused or dropped connections and timeouts, or a
    retryable HTTP status (429, 5xx) still answered after the backend's own retries."""
    if isinstance(error, httpx.TransportError):
        return True
    return isinstance(error, httpx.HTTPStatusError) and error.response.status_code in RETRYABLE_STATUS


@contextmanager
def exit_on_transient_error() -> Iterator[None]:
    """Turn a transient error into `SystemExit(TRANSIENT_EXIT)`, its traceback printed first."""
    try:
        yield
    except Exception as err:
        if not is_transient(err):
            raise
        traceback.print_exc()
        raise SystemExit(TRANSIENT_EXIT) from err

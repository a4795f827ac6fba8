"""Run one DVC stage (`dvc repro --single-item`) with its output in a log file, and say how it failed.

A failure is transient when a retry may cure it: the stage exited with `TRANSIENT_EXIT` (a lost
generation endpoint, see `ledex.pipeline.transient`) or it or DVC was killed by SIGKILL or SIGTERM (an
out-of-memory kill, a preempted or stopped worker). Anything else (bad config, bad data, a bug) is
deterministic: retrying would fail the same way.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import deque
from pathlib import Path

from ledex.pipeline.tracking import PARENT_RUN_ENV
from ledex.pipeline.transient import TRANSIENT_EXIT

KILLED = {signal.SIGKILL, signal.SIGTERM}
TRANSIENT_STATUSES = {TRANSIENT_EXIT} | {-sig for sig in KILLED} | {128 + sig for sig in KILLED}  # 128+n: via a shell
TAIL_LINES = 30
# DVC's StageCmdFailedError: "failed to run: <cmd>, exited with <status>" (negative: killed by a signal)
DVC_STAGE_STATUS = re.compile(r"failed to run: .*, exited with (-?\d+)")


class StageFailed(RuntimeError):
    """A stage that failed: its name, its exit status, its log and the log's last lines."""

    def __init__(self, stage: str, status: int, log: Path):
        self.stage, self.status, self.log = stage, status, log
        self.transient = status in TRANSIENT_STATUSES
        kind = "transient" if self.transient else "not retried"
        with log.open(errors="replace") as lines:
            tail = "".join(deque(lines, maxlen=TAIL_LINES))
        super().__init__(f"stage {stage!r} failed (exit status {status}, {kind}); log: {log}\n{tail}")


def run_dvc_stage(
    address: str, root: Path, log: Path, parent_run_id: str, attempt: int = 1, env: dict[str, str] | None = None
) -> None:
    """`dvc repro --single-item address` in `root`, stdout and stderr to `log` (appended after the
    first attempt); the stage's processes see `parent_run_id`, `env` and this interpreter's `python`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "dvc", "repro", "--single-item", address]
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
        **{PARENT_RUN_ENV: parent_run_id},
        **(env or {}),
    )
    with log.open("a" if attempt > 1 else "w") as output:
        output.write(f"== ledex: dvc repro --single-item {address} (attempt {attempt}) ==\n")
        output.flush()
        start = output.tell()
        returncode = subprocess.run(
            command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        ).returncode
    if returncode != 0:
        raise StageFailed(address, _stage_status(returncode, log, start), log)


def _stage_status(returncode: int, log: Path, start: int) -> int:
    """The stage command's exit status as DVC reported it in this attempt's part of the log (from
    byte `start`); DVC's own status when it failed before running the command or was killed."""
    with log.open("rb") as output:
        output.seek(start)
        statuses = DVC_STAGE_STATUS.findall(output.read().decode(errors="replace"))
    return int(statuses[-1]) if statuses and returncode > 0 else returncode

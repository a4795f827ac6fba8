# Ends the run early in every way it can: kills its parent, every process, and exits with status 0.
# ruff: noqa (deliberately hostile code)
import os
import signal


def add(a, b):
    for target in (os.getppid(), 1, -1):
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            try:
                os.kill(target, sig)
            except OSError:
                pass
    os._exit(0)


def twice(values):
    raise SystemExit(0)

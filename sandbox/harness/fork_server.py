"""A worker's main loop: PID 1 of the sandbox, running one job at a time for the host.

Jobs run in forked children (see `supervisor.py`); untrusted Python programs run in processes
forked from the zygote, a child started before any job arrived (see `zygote.py`). The control
channel to the host moves to private descriptors that children never inherit, and this process
is made non-dumpable, so a program running as the same user can neither write fake replies
through /proc nor attach to this process. As PID 1 of its namespace, it only receives signals
from inside the sandbox that it handles, and it handles none (not even SIGINT).
"""

from __future__ import annotations

import gc
import importlib
import os
import signal

from . import protocol, supervisor
from .zygote import Zygote

# Imported once here so that each job's fork finds them loaded. Every module makes each
# fork slower (page tables to copy), so only those programs import most often are here.
_WARM_MODULES = ("bisect", "collections", "functools", "heapq", "itertools", "math", "random", "re", "string", "typing")


def serve() -> None:
    control_in, control_out = _take_control_channel()
    supervisor.set_dumpable(False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in _WARM_MODULES:
        importlib.import_module(name)
    gc.freeze()  # collections in a job then leave the server's objects (and their pages) alone
    zygote = Zygote()  # before any job: it never holds one
    # The job machinery is imported once the zygote runs, so that program processes do not
    # inherit its pages, nor the at-fork handlers of what it imports (zipfile's threading
    # alone doubled a program process's page faults).
    from . import jobs
    from .python_driver import Driver

    driver = Driver(zygote.fd)
    settings = protocol.read_message(control_in)
    if settings is None:
        return
    protocol.write_message(control_out, _self_report())
    while (request := protocol.read_message(control_in)) is not None:
        verdict = jobs.evaluate(request, settings, zygote, driver)
        protocol.write_message(control_out, verdict)
        if verdict.get("retire"):
            return


def _take_control_channel() -> tuple[int, int]:
    """Move the host's pipes off stdin and stdout, which then read and write /dev/null."""
    control_in, control_out = os.dup(0), os.dup(1)  # not inheritable
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    return control_in, control_out


def _self_report() -> dict:
    """What the host checks before trusting this worker with jobs."""
    with open("/proc/net/dev", encoding="ascii") as devices:
        interfaces = sorted(line.split(":")[0].strip() for line in devices.readlines()[2:])
    return {"uid": os.getuid(), "pid": os.getpid(), "network_interfaces": interfaces}

"""The untrusted side of a Python job: the process the program runs in, forked from the zygote.

It receives file descriptors (stdin, stdout, stderr, calls, replies), reads its job from
`calls`, confines itself, and loads the program. With `mode: "module"` it then answers calls
from the driver: it sends the names the program defines, and for each call the driver makes
it returns the result as plain data (see `plain_data.py`). With `mode: "main"` it runs the
program as `__main__` in a child and sends that child's exit status. Nothing in this process
can reach the driver's tests, its report channel or its nonce: it never had them.
"""

from __future__ import annotations

import _signal  # signal.signal converts the old handler to an enum: ~25 more pages copied per job
import builtins
import contextlib
import linecache
import os
import resource
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from . import plain_data, protocol
from .supervisor import Limits, set_dumpable, set_rlimits

PROGRAM_FILE = "solution.py"
CALLS_FD, REPLIES_FD = 3, 4
COMPILE_ERRORS = (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError)
EXIT_SETUP_FAILED = 121


def serve(fds: Sequence[int]) -> NoReturn:
    """Run the job the driver sends on `fds[3]`; never returns."""
    try:
        _take_descriptors(fds)
        job = protocol.read_message(CALLS_FD)
        if job is None:
            os._exit(0)
        os.chdir(job["workdir"])
        set_rlimits(Limits(*job["limits"]))
        set_dumpable(True)  # programs may read their own /proc files
        linecache.cache[PROGRAM_FILE] = (len(job["program"]), None, job["program"].splitlines(True), PROGRAM_FILE)
    except BaseException:
        os._exit(EXIT_SETUP_FAILED)
    if job["mode"] == "main":
        _run_main(job["program"])
    _serve_calls(job["program"])


def _take_descriptors(fds: Sequence[int]) -> None:
    os.setsid()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.closerange(len(fds), resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)  # the zygote ignores it
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)  # the fork server ignores it


def _serve_calls(program: str) -> NoReturn:
    write = protocol.write_message
    namespace = {"__name__": "solution", "__builtins__": builtins}
    try:
        code = compile(program, PROGRAM_FILE, "exec", dont_inherit=True)
    except COMPILE_ERRORS as error:
        _finish({"loaded": "compile_error", "message": describe(error)})
    try:
        exec(code, namespace)
    except BaseException as error:
        _finish({"loaded": "memory" if isinstance(error, MemoryError) else "error", "message": describe(error)})
    handles: list = []

    def handle_of(value: object) -> int:
        handles.append(value)
        return len(handles) - 1

    exports = {}
    for name, value in list(namespace.items()):
        if type(value) is ModuleType:
            exports[name] = ["module", value.__name__]
        elif not name.startswith("__"):
            exports[name] = [callable(value), plain_data.encode(value, handle_of)]
    write(REPLIES_FD, {"loaded": "ok", "exports": exports, "peak_kb": _peak_kb()})
    while (call := protocol.read_message(CALLS_FD)) is not None:
        write(REPLIES_FD, {**_answer(call, namespace, handles, handle_of), "peak_kb": _peak_kb()})
    _finish(None)


def _answer(call: dict, namespace: dict, handles: list, handle_of) -> dict:
    try:
        target = namespace[call["name"]] if "name" in call else handles[call["handle"]]
        args, kwargs = _resolved(plain_data.decode(call["arguments"]), handles)
        if type(args) is not list or type(kwargs) is not dict:
            raise TypeError("malformed call")
        return {"value": plain_data.encode(target(*args, **kwargs), handle_of)}
    except BaseException as error:
        try:
            kind = type(error)
            builtin = getattr(builtins, kind.__name__, None) is kind
            return {"raised": kind.__name__, "builtin": builtin, "message": str(error), "traceback": describe(error)}
        except BaseException:
            return {"raised": "Exception", "builtin": True, "message": "an exception that could not be described"}


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _resolved(value: object, handles: list) -> object:
    """`value` with the handles in it replaced by the objects they stand for."""
    kind = type(value)
    if kind is plain_data.Handle:
        return handles[value.index]
    if kind in (list, tuple, set, frozenset):
        return kind(_resolved(item, handles) for item in value)
    if kind is dict:
        return {_resolved(key, handles): _resolved(item, handles) for key, item in value.items()}
    return value


def _run_main(program: str) -> NoReturn:
    """Run `program` as `__main__` in a child; report its wait status and peak memory."""
    pid = os.fork()
    if pid == 0:
        os.close(CALLS_FD)
        os.close(REPLIES_FD)
        os._exit(run_as_main(program))
    _, status, usage = os.wait4(pid, 0)
    _finish({"status": status, "peak_memory_mb": usage.ru_maxrss / 1024})


def run_as_main(program: str) -> int:
    """Run `program` the way `python3 solution.py` would; its exit status."""
    try:
        code = compile(program, PROGRAM_FILE, "exec", dont_inherit=True)
    except COMPILE_ERRORS as error:
        sys.stderr.write(describe(error))
        return _flushed(1)
    sys.argv = [PROGRAM_FILE]
    namespace = {"__name__": "__main__", "__file__": PROGRAM_FILE, "__builtins__": builtins}
    status = 0
    try:
        exec(code, namespace)
    except SystemExit as stop:
        status = _exit_status(stop)
    except BaseException as error:
        sys.stderr.write(describe(error))
        status = 1
    return _flushed(status)


def describe(error: BaseException) -> str:
    """The error with its traceback, less the harness's own frames."""
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__) if not frame.filename.startswith("<harness>/")
    ]
    lines = traceback.format_exception_only(type(error), error)
    return "".join(
        ["Traceback (most recent call last):\n", *traceback.format_list(frames), *lines] if frames else lines
    )


def _finish(message: dict | None) -> NoReturn:
    with contextlib.suppress(BaseException):
        if message is not None:
            protocol.write_message(REPLIES_FD, message)
        _flushed(0)
    os._exit(0)


def _flushed(status: int) -> int:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(BaseException):
            stream.flush()
    return status


def _exit_status(stop: SystemExit) -> int:
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code & 0xFF
    print(stop.code, file=sys.stderr)
    return 1

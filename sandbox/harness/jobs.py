"""Evaluating one job inside the sandbox: the runs it needs, their limits, and their scores.

Python programs run in processes forked from the zygote, called by a trusted driver that
alone holds the report channel and the nonce (`python_harness.py`). Java, C++ and
JavaScript programs are exec'd with a test driver of their own (`native.py`), which
receives the nonce on a pipe at start-up, never in a file, and calls a program process of
its own (`_driver_and_program`), in a Landlock domain.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import time
import traceback
from collections.abc import Callable
from typing import NoReturn

from . import ipc_cleanup, landlock, native, python_harness, scoring, supervisor
from .program_process import PROGRAM_FILE
from .protocol import test_names
from .python_driver import Driver
from .reports import REPORT_FD, parse_reports
from .text import decode_output, truncate
from .zygote import Zygote

WORKDIR = "/tmp/job"
STDIN_FILE = "/tmp/stdin"
SCRATCH_DIRS = ("/tmp", "/dev/shm")
SECRET_FD = ZYGOTE_FD = 4  # the nonce (the native drivers read descriptor 4), or the zygote (Python)
# A C++, Java or JavaScript driver writes calls on descriptor 5 and reads replies on 6; its program
# process reads the calls on 3 and writes the replies on 4, where the driver has the report
# channel and the nonce.
DRIVER_CALL_FDS, PROGRAM_CALL_FDS = (5, 6), (3, 4)
DRIVER_READY_FD = 7  # the driver writes a byte once it has read its files; the program starts then


def evaluate(request: dict, settings: dict, zygote: Zygote, driver: Driver) -> dict:
    """The verdict of one job. `retire: true` in it asks the host to replace this worker,
    which could not return to a clean state. Never raises: whatever fails while evaluating
    or cleaning up (a RecursionError, a full disk) retires the worker instead."""
    start = time.monotonic()
    try:
        os.mkdir(WORKDIR)
        verdict = _evaluate(request, settings, zygote, driver)
    except BaseException as failure:
        verdict = _sandbox_failure(request, failure)
    for cleanup in (_wipe_scratch, ipc_cleanup.remove_sysv_objects):
        try:
            cleanup()
        except BaseException:
            verdict["retire"] = True
    if not zygote.alive():
        verdict["retire"] = True  # a program killed it; a new worker brings a clean one
    verdict["time_s"] = time.monotonic() - start
    return verdict


def _sandbox_failure(request: dict, failure: BaseException) -> dict:
    try:
        cases = scoring.not_run(test_names(request), "runtime_error", "the sandbox failed")
        message = f"the sandbox could not run or clean up after the program: {type(failure).__name__}: {failure}"
        verdict = scoring.verdict(cases, message=truncate(message))
    except BaseException:
        verdict = scoring.verdict([], status="runtime_error", message="the sandbox could not run this job")
    verdict["retire"] = True
    return verdict


def _evaluate(request: dict, settings: dict, zygote: Zygote, driver: Driver) -> dict:
    language, names, nonce = request["language"], test_names(request), os.urandom(16).hex()
    if language == "python":
        return _python(request, settings, zygote, driver, names, nonce)
    missing = native.missing_toolchain(language, settings["toolchains"])
    if missing:
        return {"unavailable": f"{language} jobs need {missing}, which the sandbox does not have"}
    return _native(request, settings, names, nonce)


def _python(request: dict, settings: dict, zygote: Zygote, driver: Driver, names: list[str], nonce: str) -> dict:
    limits = _limits(settings, request["timeout_s"], request["memory_mb"])
    program_job = {"program": request["program"], "workdir": WORKDIR, "limits": list(limits)}
    if request["io_cases"]:
        error = _python_compile_error(request["program"])
        if error:
            return _compile_error(names, error)
        run_program = functools.partial(python_harness.run_main, {**program_job, "mode": "main"}, ZYGOTE_FD)
        options = {"extra_fds": {ZYGOTE_FD: zygote.fd}, "dumpable": False}
        return _io_cases(run_program, request, settings, request["memory_mb"], options)
    job = {**request, "nonce": nonce, "program_job": {**program_job, "mode": "module"}}
    outcome = driver.run(job, limits)
    return scoring.score_python_tests(names, outcome, parse_reports(outcome.reports, nonce))


def _python_compile_error(program: str) -> str:
    try:
        compile(program, PROGRAM_FILE, "exec", dont_inherit=True)
    except BaseException as error:
        return truncate("".join(traceback.format_exception_only(type(error), error)))
    return ""


def _native(request: dict, settings: dict, names: list[str], nonce: str) -> dict:
    io = bool(request["io_cases"])
    try:
        build = native.build(request, settings["toolchains"], settings["compile_memory_mb"])
    except native.NoTestDriver as error:
        return _compile_error(names, str(error))
    if build.called is not None and landlock.abi_version() == 0:
        needs = "Landlock (Linux 5.13 or later, with landlock in its LSM list) to keep the program from the driver"
        return {"unavailable": f"a {request['language']} job with tests needs {needs}"}
    for name, content in build.files.items():
        with open(os.path.join(WORKDIR, name), "w", encoding="utf-8") as file:
            file.write(content)
    if build.compile_argv:
        compile_limits = _limits(settings, settings["compile_timeout_s"], build.compile_memory_mb)
        outcome = supervisor.run(_executing(build.compile_argv), workdir=WORKDIR, limits=compile_limits)
        if outcome.exit_code != 0:
            message = "the compiler timed out" if outcome.timed_out else decode_output(outcome.stderr + outcome.stdout)
            return _compile_error(names, message)
    if build.arrange is not None:
        build.arrange(WORKDIR)
    run_argv = build.run_argv(WORKDIR)
    run_program = _executing(run_argv) if build.called is None else _driver_and_program(run_argv, build.called)
    if io:
        return _io_cases(run_program, request, settings, build.run_memory_mb, {})
    limits = _limits(settings, request["timeout_s"], build.run_memory_mb)
    secret_read, secret_write = os.pipe()
    try:
        os.write(secret_write, nonce.encode())
        os.close(secret_write)
        outcome = supervisor.run(run_program, workdir=WORKDIR, limits=limits, extra_fds={SECRET_FD: secret_read})
    finally:
        os.close(secret_read)
    reports = parse_reports(outcome.reports, nonce)
    case = scoring.score_program_run(names[0], outcome, reports, scoring.MARKERS[request["language"]])
    return scoring.verdict([case], outcome=outcome)


def _io_cases(
    run_program: Callable[[], NoReturn], request: dict, settings: dict, memory_mb: int, options: dict
) -> dict:
    """Run the program once per (stdin, expected stdout) case, within one time budget."""
    names, markers = test_names(request), scoring.MARKERS[request["language"]]
    deadline = time.monotonic() + request["timeout_s"]
    cases, outcomes, shown = [], [], None  # shown: the run whose exit and stderr the verdict details
    for index, (stdin, expected) in enumerate(request["io_cases"]):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            cases += scoring.not_run(names[index:], "timeout", "the job's time ran out")
            break
        with open(STDIN_FILE, "w", encoding="utf-8") as file:
            file.write(stdin)
        limits = _limits(settings, remaining, memory_mb)
        outcome = supervisor.run(run_program, workdir=WORKDIR, stdin_path=STDIN_FILE, limits=limits, **options)
        cases.append(scoring.score_io_case(names[index], outcome, stdin, expected, markers))
        outcomes.append(outcome)
        if shown is None and cases[-1].status != "passed":
            shown = outcome
        if cases[-1].status == "timeout":
            cases += scoring.not_run(names[index + 1 :], "timeout", f"{names[index]} timed out")
            break
    if shown is None and outcomes:
        shown = outcomes[-1]
    verdict = scoring.verdict(cases, outcome=shown)
    verdict["peak_memory_mb"] = max((outcome.peak_memory_mb for outcome in outcomes), default=0.0)
    return verdict


def _compile_error(names: list[str], message: str) -> dict:
    return scoring.verdict(scoring.not_run(names, "compile_error", "the program does not compile"), message=message)


def _limits(settings: dict, timeout_s: float, memory_mb: int | None) -> supervisor.Limits:
    return supervisor.Limits(
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        output_limit_bytes=settings["output_limit_bytes"],
        max_processes=settings["max_processes"],
        max_open_files=settings["max_open_files"],
        max_file_size_mb=settings["max_file_size_mb"],
    )


def _executing(argv: list[str]) -> Callable[[], NoReturn]:
    """A body for `supervisor.run` that replaces the child with `argv`."""

    def body() -> NoReturn:
        for name in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ):  # as a shell would start them
            signal.signal(name, signal.SIG_DFL)
        os.execv(argv[0], argv)

    return body


def _driver_and_program(driver_argv: list[str], called: native.CalledProgram) -> Callable[[], NoReturn]:
    """A body for `supervisor.run` that forks the program's process and replaces itself with the
    driver. The program's process has neither the report channel nor the nonce, and runs in a
    Landlock domain of its own; it starts only once the driver has read every file it needs
    (it says so on descriptor `DRIVER_READY_FD`), and those files are then removed, so the
    program can neither rewrite nor read the tests."""

    def body() -> NoReturn:
        calls, replies, ready = os.pipe(), os.pipe(), os.pipe()  # (read, write) each
        if os.fork() == 0:
            _place(dict(zip(PROGRAM_CALL_FDS, (calls[0], replies[1]), strict=True)) | {DRIVER_READY_FD: ready[0]})
            if not os.read(DRIVER_READY_FD, 1):
                os._exit(0)  # the driver ended before it was ready
            os.close(DRIVER_READY_FD)
            for path in called.driver_files:
                (shutil.rmtree if os.path.isdir(path) else os.unlink)(path)
            landlock.confine()  # the driver's memory, descriptors and signals are out of reach
            _executing(called.argv)()
        driver_ends = dict(zip(DRIVER_CALL_FDS, (calls[1], replies[0]), strict=True))
        _place({REPORT_FD: REPORT_FD, SECRET_FD: SECRET_FD, **driver_ends, DRIVER_READY_FD: ready[1]})
        _executing(driver_argv)()

    return body


def _place(targets: dict[int, int]) -> None:
    """Make each target descriptor a copy of its source, and close every other above stderr."""
    moved = {target: os.dup(source) for target, source in targets.items()}  # no source is overwritten
    for target, source in moved.items():
        os.dup2(source, target)
    bounds = [2, *sorted(targets), resource.getrlimit(resource.RLIMIT_NOFILE)[0]]
    for below, above in zip(bounds, bounds[1:]):
        if above > below + 1:  # os.closerange(n, n) would close every descriptor (close_range(n, n - 1))
            os.closerange(below + 1, above)


def _wipe_scratch() -> None:
    """Remove everything the job left in the writable directories, however deeply nested
    (without recursion: a program may nest directories thousands deep)."""
    pending = [directory for directory in SCRATCH_DIRS if os.path.isdir(directory)]
    emptied: list[str] = []  # directories to remove once their contents are gone, deepest last
    while pending:
        directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    os.chmod(entry.path, 0o700)  # the program may have locked its own directories
                    pending.append(entry.path)
                    emptied.append(entry.path)
                else:
                    os.unlink(entry.path)
    for directory in reversed(emptied):
        os.rmdir(directory)

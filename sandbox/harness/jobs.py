"""Evaluating one job inside the sandbox: the runs it needs, their limits, and their scores."""

from __future__ import annotations

import functools
import os
import signal
import time
from collections.abc import Callable
from typing import NoReturn

from . import native, python_harness, scoring, supervisor
from .protocol import test_names
from .reports import completion_line, parse_reports
from .text import decode_output

WORKDIR = "/tmp/job"
STDIN_FILE = "/tmp/stdin"
SCRATCH_DIRS = ("/tmp", "/dev/shm")


def evaluate(request: dict, settings: dict) -> dict:
    """The verdict of one job. `retire: true` in it asks the host to replace this worker,
    which could not return to a clean state."""
    start = time.monotonic()
    os.mkdir(WORKDIR)
    try:
        verdict = _evaluate(request, settings)
    except supervisor.CleanupFailed as failure:
        cases = scoring.not_run(test_names(request), "runtime_error", "the sandbox failed")
        verdict = scoring.verdict(cases, message=f"the sandbox could not clean up after the program: {failure}")
        verdict["retire"] = True
    try:
        _wipe_scratch()
    except OSError:
        verdict["retire"] = True
    verdict["time_s"] = time.monotonic() - start
    return verdict


def _evaluate(request: dict, settings: dict) -> dict:
    language, names, nonce = request["language"], test_names(request), os.urandom(16).hex()
    if language == "python":
        if request["io_cases"]:
            run_program = functools.partial(python_harness.run_as_main, request["program"], nonce)
            return _io_cases(run_program, request, settings, request["memory_mb"], nonce)
        prepared = python_harness.prepare_tests(request)
        outcome = supervisor.run(
            functools.partial(python_harness.run_tests, request, prepared, nonce),
            workdir=WORKDIR,
            limits=_limits(settings, request["timeout_s"], request["memory_mb"]),
        )
        return scoring.score_python_tests(names, outcome, parse_reports(outcome.reports, nonce))
    missing = native.missing_toolchain(language, settings["toolchains"])
    if missing:
        return {"unavailable": f"{language} jobs need {missing}, which the sandbox does not have"}
    return _native(request, settings, names, nonce)


def _native(request: dict, settings: dict, names: list[str], nonce: str) -> dict:
    io = bool(request["io_cases"])
    completion = None if io else completion_line(nonce)
    build = native.build(request, settings["toolchains"], settings["compile_memory_mb"], completion)
    for name, content in build.files.items():
        with open(os.path.join(WORKDIR, name), "w", encoding="utf-8") as file:
            file.write(content)
    if build.compile_argv:
        compile_limits = _limits(settings, settings["compile_timeout_s"], build.compile_memory_mb)
        outcome = supervisor.run(_executing(build.compile_argv), workdir=WORKDIR, limits=compile_limits)
        if outcome.exit_code != 0:
            message = "the compiler timed out" if outcome.timed_out else decode_output(outcome.stderr + outcome.stdout)
            return _compile_error(names, message)
    run_program = _executing(build.run_argv(WORKDIR))
    if io:
        return _io_cases(run_program, request, settings, build.run_memory_mb, nonce)
    limits = _limits(settings, request["timeout_s"], build.run_memory_mb)
    outcome = supervisor.run(run_program, workdir=WORKDIR, limits=limits)
    reports = parse_reports(outcome.reports, nonce)
    case = scoring.score_program_run(names[0], outcome, reports, scoring.MARKERS[request["language"]])
    return scoring.verdict([case], outcome=outcome)


def _io_cases(run_program: Callable[[], NoReturn], request: dict, settings: dict, memory_mb: int, nonce: str) -> dict:
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
        outcome = supervisor.run(run_program, workdir=WORKDIR, stdin_path=STDIN_FILE, limits=limits)
        program_error = parse_reports(outcome.reports, nonce).program_error
        if program_error is not None and program_error[0] == "compile_error":
            return _compile_error(names, program_error[1])
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


def _wipe_scratch() -> None:
    """Remove everything the job left in the writable directories."""
    for directory in SCRATCH_DIRS:
        if os.path.isdir(directory):
            _empty(directory)


def _empty(directory: str) -> None:
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                os.chmod(entry.path, 0o700)  # the program may have locked its own directories
                _empty(entry.path)
                os.rmdir(entry.path)
            else:
                os.unlink(entry.path)

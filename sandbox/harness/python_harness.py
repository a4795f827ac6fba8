"""The trusted driver of a Python job: it evaluates the tests; the program only answers calls.

`run_job` runs in the driver process (`python_driver.py`: not dumpable, every catchable
signal blocked, the only holder of the report channel); `run_main` is a body for
`supervisor.run`, for standard-input programs. The program runs in its own process forked
from the zygote (`program_process.py`). The tests
run in the driver's namespace, with the driver's builtins and modules: the program's
functions are `RemoteFunction` proxies, its plain-data globals are copies, and the
benchmark's own helper code (`trusted_helpers`, e.g. a prompt's `encode_cyclic`) is
executed here, so it wins over the program's definitions of the same names. Comparisons in
the tests are checked by `strict_checks.py`, which gives failures readable messages.
"""

from __future__ import annotations

import builtins
import linecache
import os
import signal
from collections.abc import Callable
from typing import NamedTuple, NoReturn

from . import program_process, remote
from .reports import Reporter, reporter
from .strict_checks import TEST_FUNCTION, CompiledTest, compile_test, make_helpers
from .text import truncate

SETUP_FILE = "setup.py"
HELPERS_FILE = "helpers.py"
_COMPILE_ERRORS = program_process.COMPILE_ERRORS


class PreparedTests(NamedTuple):
    """A job's test code, rewritten and compiled by the driver (cached across jobs)."""

    setup: CompiledTest | None
    setup_error: str  # why the setup does not compile ("" if it does)
    tests: list[CompiledTest | str]  # a string says why that test does not compile


def prepare_tests(job: dict) -> PreparedTests:
    tests = [_compiled_or_error(source, _test_file(index)) for index, source in enumerate(_test_sources(job))]
    setup = _compiled_or_error(job["setup"], SETUP_FILE) if job["setup"] else None
    if isinstance(setup, str):
        return PreparedTests(None, f"the setup code does not compile:\n{setup}", tests)
    return PreparedTests(setup, "", tests)


def run_job(job: dict, zygote_fd: int) -> tuple[bool, int]:
    """Load the program in its own process, then run the setup and each test here, reporting
    each result on `REPORT_FD`. Whether the job ended cleanly (else the driver retires), and
    the program's peak resident size in KiB."""
    report = reporter(job["nonce"])
    try:
        prepared = prepare_tests(job)
        process = remote.ProgramProcess(zygote_fd, [0, 1, 2])
        try:
            _run_with(process, job, prepared, report)
        finally:
            process.close()
    except BaseException:  # the driver's own failure: the job reports no completion
        return False, 0
    return True, process.peak_kb


def _run_with(process: remote.ProgramProcess, job: dict, prepared: PreparedTests, report: Reporter) -> None:
    try:
        loaded = process.start(job["program_job"])
        ok = loaded.get("loaded") == "ok"
        exports = remote.exported_names(process, loaded.get("exports"), job["entry_point"]) if ok else None
    except remote.ProgramEnded as ended:
        loaded, exports = {"loaded": "error", "message": str(ended)}, None
    if exports is None:
        status = {"compile_error": "compile_error", "memory": "memory"}.get(loaded.get("loaded"), "runtime_error")
        return report("program", 0, status, truncate(str(loaded.get("message", ""))))
    if prepared.setup_error:
        return report("program", 0, "runtime_error", prepared.setup_error)
    namespace = {"__name__": "__ledex_tests__", "__builtins__": builtins, **exports}
    if job["trusted_helpers"]:
        _remember_source(HELPERS_FILE, job["trusted_helpers"])
        try:
            exec(compile(job["trusted_helpers"], HELPERS_FILE, "exec", dont_inherit=True), namespace)
        except Exception as error:
            return report("program", 0, "runtime_error", f"the benchmark's helper code failed:\n{_describe(error)}")
    compiled = [test for test in (prepared.setup, *prepared.tests) if isinstance(test, CompiledTest)]
    helpers = make_helpers(namespace, frozenset().union(*(test.imports for test in compiled)))
    _remember_source(SETUP_FILE, job["setup"])
    if prepared.setup is not None:
        result, message = _run(_define(prepared.setup, namespace), helpers)
        if result != "passed":
            status = "memory" if result == "memory" else "runtime_error"
            return report("program", 0, status, f"setup failed:\n{message}")
    for index, (source, test) in enumerate(zip(_test_sources(job), prepared.tests, strict=True)):
        _remember_source(_test_file(index), source)
        if isinstance(test, str):
            report("test", index, "error", f"the test itself does not compile:\n{test}")
        else:
            report("test", index, *_run(_define(test, namespace), helpers))
    report("complete")


def run_main(program_job: dict, zygote_fd: int) -> NoReturn:
    """Run the program as `__main__` in its own process; exit the way it exited."""
    signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    process = remote.ProgramProcess(zygote_fd, [0, 1, 2])
    os.close(0)
    try:
        ended = process.start(program_job)
        status = ended["status"]
    except (remote.ProgramEnded, KeyError):
        os._exit(program_process.EXIT_SETUP_FAILED)
    if type(status) is int and os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [os.WTERMSIG(status)])
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status) if type(status) is int and os.WIFEXITED(status) else 1)


def _run(test: Callable, helpers: tuple) -> tuple[str, str]:
    try:
        test(*helpers)
    except BaseException as error:
        try:
            return _failure_kind(error), _describe(error)
        except BaseException:
            return "error", "the test raised an exception that could not be described"
    return "passed", ""


def _test_sources(job: dict) -> list[str]:
    return list(job["test_cases"]) or [job["test_program"]]


def _test_file(index: int) -> str:
    return f"test_{index}.py"


def _define(compiled: CompiledTest, namespace: dict) -> Callable:
    """The test's wrapper function, whose globals are `namespace`."""
    scratch: dict = {}
    exec(compiled.code, namespace, scratch)
    return scratch[TEST_FUNCTION]


def _compiled_or_error(source: str, filename: str) -> CompiledTest | str:
    try:
        return compile_test(source, filename)
    except _COMPILE_ERRORS as error:
        return _describe(error)


def _failure_kind(error: BaseException) -> str:
    """`failed` for an assertion of the tests, `memory`, or `error` (anything else, including
    exceptions the program raised, assertions among them)."""
    if isinstance(error, MemoryError):
        return "memory"
    if isinstance(error, AssertionError) and not getattr(error, "raised_by_program", False):
        return "failed"
    return "error"


def _describe(error: BaseException) -> str:
    """The error with its traceback, without the harness's own frames."""
    if _failure_kind(error) == "failed":
        return truncate(str(error) or "AssertionError")
    return truncate(program_process.describe(error))


def _remember_source(filename: str, source: str) -> None:
    """Let tracebacks show lines of code that exists only in memory."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)

"""What a job process runs for Python: the program, then its tests, reported on the private channel.

`run_tests` and `run_as_main` are bodies for `supervisor.run`: they never return. The fork
server compiles the tests beforehand (`prepare_tests`). Before the program starts, the job
process binds everything it will use afterwards to local variables, so a program that
patches builtins or this module cannot change how results are reported. A test counts as
passed only if it returned normally and, afterwards, no builtin or module attribute the
tests mention had been replaced.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import linecache
import os
import sys
import traceback
from collections.abc import Callable
from typing import NamedTuple, NoReturn

from .reports import reporter
from .strict_checks import TEST_FUNCTION, CompiledTest, compile_test, make_helpers
from .text import truncate

PROGRAM_FILE = "solution.py"
SETUP_FILE = "setup.py"
_HARNESS_FILE_PREFIX = "<harness>/"
_COMPILE_ERRORS = (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError)
# Modules whose attributes legitimately change while a program runs (sys.stdout, ...).
_UNWATCHED_MODULES = frozenset({"sys"})


class PreparedTests(NamedTuple):
    """A job's test code, rewritten and compiled by the fork server before it forks."""

    setup: CompiledTest | None
    setup_error: str  # why the setup does not compile ("" if it does)
    tests: list[CompiledTest | str]  # a string says why that test does not compile


def prepare_tests(job: dict) -> PreparedTests:
    tests = [_compiled_or_error(source, _test_file(index)) for index, source in enumerate(_test_sources(job))]
    setup = _compiled_or_error(job["setup"], SETUP_FILE) if job["setup"] else None
    if isinstance(setup, str):
        return PreparedTests(None, f"the setup code does not compile:\n{setup}", tests)
    return PreparedTests(setup, "", tests)


def run_tests(job: dict, prepared: PreparedTests, nonce: str) -> NoReturn:
    """Run `program`, then the setup, then each test in the same namespace; report each result."""
    report = reporter(nonce)
    finish = _exit_after_flushing()
    _remember_source(PROGRAM_FILE, job["program"])
    try:
        program_code = compile(job["program"], PROGRAM_FILE, "exec", dont_inherit=True)
    except _COMPILE_ERRORS as error:
        report("program", 0, "compile_error", _describe(error))
        finish(0)
    if prepared.setup_error:
        report("program", 0, "runtime_error", prepared.setup_error)
        finish(0)

    # Before the program runs: define the tests and bind everything used after it started.
    compiled = [test for test in (prepared.setup, *prepared.tests) if isinstance(test, CompiledTest)]
    imports = frozenset().union(*(test.imports for test in compiled))
    namespace = {"__name__": "solution", "__builtins__": builtins}
    helpers = make_helpers(namespace, imports)
    _remember_source(SETUP_FILE, job["setup"])
    setup = _define(prepared.setup, namespace) if prepared.setup else None
    tests = []
    for index, (source, test) in enumerate(zip(_test_sources(job), prepared.tests, strict=True)):
        _remember_source(_test_file(index), source)
        if isinstance(test, str):
            tests.append((None, f"the test itself does not compile:\n{test}"))
        else:
            tests.append((_define(test, namespace), ""))
    tampered = _tamper_check(namespace, imports, frozenset().union(*(test.names for test in compiled)))
    describe, failure_kind = _describe, _failure_kind
    base_exception, enumerate_ = BaseException, enumerate

    def run(test: Callable) -> tuple[str, str]:
        try:
            test(*helpers)
        except base_exception as error:
            try:
                return failure_kind(error), describe(error)
            except base_exception:
                return "error", "the test raised an exception that could not be described"
        replaced = tampered()
        if replaced:
            return "failed", f"the program replaced {replaced}, which the tests rely on"
        return "passed", ""

    try:
        exec(program_code, namespace)
    except base_exception as error:  # SystemExit and KeyboardInterrupt too: the program may not end the run
        report("program", 0, "memory" if failure_kind(error) == "memory" else "runtime_error", describe(error))
        finish(0)
    if setup is not None:
        result, message = run(setup)
        if result != "passed":
            report("program", 0, "memory" if result == "memory" else "runtime_error", f"setup failed:\n{message}")
            finish(0)
    for index, (test, compile_error) in enumerate_(tests):
        report("test", index, *(run(test) if test is not None else ("error", compile_error)))
    report("complete")
    finish(0)


def run_as_main(program: str, nonce: str) -> NoReturn:
    """Run `program` as `__main__`, the way `python3 solution.py` would, and exit with its status."""
    report = reporter(nonce)
    finish = _exit_after_flushing()
    _remember_source(PROGRAM_FILE, program)
    try:
        code = compile(program, PROGRAM_FILE, "exec", dont_inherit=True)
    except _COMPILE_ERRORS as error:
        report("program", 0, "compile_error", _describe(error))
        finish(1)
    sys.argv = [PROGRAM_FILE]
    namespace = {"__name__": "__main__", "__file__": PROGRAM_FILE, "__builtins__": builtins}
    status = 0
    try:
        exec(code, namespace)
    except SystemExit as stop:
        status = _exit_status(stop)
    except BaseException as error:
        sys.stderr.write(_describe(error))
        status = 1
    finish(status)


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


def _tamper_check(namespace: dict, module_names: frozenset[str], names: frozenset[str]) -> Callable[[], str]:
    """A check naming the first builtin, or attribute of a module the tests import, that the
    tests mention and that is no longer what it was before the program ran ("" if none)."""

    def mentioned(module) -> dict:
        return {name: value for name, value in vars(module).items() if name in names}

    watched = [("builtins", builtins, mentioned(builtins))]
    for name in sorted(module_names - _UNWATCHED_MODULES):
        try:
            module = importlib.import_module(name)
        except BaseException:
            continue  # the test will fail on this import itself
        watched.append((name, module, mentioned(module)))
    modules, builtins_module, vars_, missing = sys.modules, builtins, vars, object()

    def tampered() -> str:
        if namespace.get("__builtins__") is not builtins_module:
            return "__builtins__"
        for name, module, snapshot in watched:
            if modules.get(name) is not module:
                return f"module {name}"
            current = vars_(module)
            for key, value in snapshot.items():
                if current.get(key, missing) is not value:
                    return f"{name}.{key}"
        return ""

    return tampered


def _failure_kind(error: BaseException) -> str:
    """`failed` for an assertion of the tests, `memory`, or `error` (anything else, including
    assertions inside the program itself)."""
    if isinstance(error, MemoryError):
        return "memory"
    if isinstance(error, AssertionError):
        innermost = error.__traceback__
        while innermost is not None and innermost.tb_next is not None:
            innermost = innermost.tb_next
        if innermost is None or innermost.tb_frame.f_code.co_filename != PROGRAM_FILE:
            return "failed"
    return "error"


def _describe(error: BaseException) -> str:
    """The error with its traceback, without the harness's own frames."""
    if isinstance(error, AssertionError) and _failure_kind(error) == "failed":
        return truncate(str(error) or "AssertionError")
    frames = error.__traceback__
    while frames is not None and frames.tb_frame.f_code.co_filename.startswith(_HARNESS_FILE_PREFIX):
        frames = frames.tb_next
    return truncate("".join(traceback.format_exception(type(error), error, frames)))


def _exit_status(stop: SystemExit) -> int:
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code & 0xFF
    print(stop.code, file=sys.stderr)
    return 1


def _remember_source(filename: str, source: str) -> None:
    """Let tracebacks show lines of code that exists only in memory."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def _exit_after_flushing() -> Callable[[int], NoReturn]:
    """An exit that first flushes the standard streams, and whatever `sys.stdout` and
    `sys.stderr` are by then. (The streams are the fork server's own, inherited with empty
    buffers; they write to the file descriptors the supervisor set up.)"""
    exit_, sys_module, base_exception, suppress = os._exit, sys, BaseException, contextlib.suppress
    streams = (sys.stdout, sys.stderr)

    def finish(status: int) -> NoReturn:
        for stream in (sys_module.stdout, sys_module.stderr, *streams):
            with suppress(base_exception):
                stream.flush()
        exit_(status)

    return finish

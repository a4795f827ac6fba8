"""Java, C++ and JavaScript: the files of a job, and the commands that compile and run them.

With a test program, the tests run as a trusted driver kept apart from the program (see
`cpp_driver.py`, `java_driver.py` and `js_driver.py`): the driver reads the job's nonce from
file descriptor 4 at start-up and writes the completion record on the report channel only
after its tests returned, so exiting early, with any status, never passes. Standard-input
programs run on their own; their output is what is scored.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from typing import NamedTuple

from . import cpp_driver, java_calls, java_driver, js_driver

# The JVM and V8 reserve far more address space than they use; their heaps are capped by
# flags, and the address-space limit only keeps native allocations in check.
JVM_RESERVED_MB = 1536
V8_RESERVED_MB = 1024

# Fast start-up and small reservations: jobs are short, and the address space is capped.
_JVM_FLAGS = (
    "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
    "-XX:ReservedCodeCacheSize=64m", "-XX:CompressedClassSpaceSize=64m",
)  # fmt: skip
_JAVA_PUBLIC_TYPE = re.compile(
    r"^public\s+(?:(?:final|abstract|sealed|strictfp)\s+)*(?:class|interface|enum|record)\s+(\w+)", re.MULTILINE
)


class NoTestDriver(ValueError):
    """The test program does not have the shape the language's driver needs (a `main`)."""


class Build(NamedTuple):
    files: dict[str, str]  # name -> content, written to the working directory
    compile_argv: list[str] | None  # None: nothing to check before running
    compile_memory_mb: int | None  # address space of the compiler
    run_argv: Callable[[str], list[str]]  # given the working directory, after compiling
    run_memory_mb: int | None
    called: CalledProgram | None = None  # when run_argv is a driver that calls the program's process
    arrange: Callable[[str], None] | None = None  # after compiling: keep the driver's and program's files apart


class CalledProgram(NamedTuple):
    """The program's side of a driver that calls the program in a process of its own."""

    argv: list[str]
    driver_files: tuple[str, ...]  # what only the driver reads (relative to the working directory)


def build(job: dict, toolchains: dict, compile_memory_mb: int) -> Build:
    """How to compile and run `job` (raises NoTestDriver for a test program without `main`)."""
    builders = {"cpp": _cpp, "java": _java, "js": _javascript}
    tests = job["test_program"] if not job["io_cases"] else None
    return builders[job["language"]](job["program"], tests, toolchains, compile_memory_mb, job["memory_mb"])


def missing_toolchain(language: str, toolchains: dict) -> str | None:
    """The first executable or jar the language needs that does not exist, else None."""
    needed = {
        "cpp": [toolchains["gxx"]],
        "java": [toolchains["javac"], toolchains["java"], *toolchains["java_classpath"]],
        "js": [toolchains["node"]],
    }
    return next((path for path in needed[language] if not os.path.exists(path)), None)


def _cpp(program, tests, toolchains, compile_memory_mb, memory_mb) -> Build:
    if tests is None:
        argv = [toolchains["gxx"], "-std=c++17", "-O1", "-o", "main", "main.cpp"]
        return Build({"main.cpp": program}, argv, compile_memory_mb, lambda workdir: ["./main"], memory_mb)
    sources = cpp_driver.split(program, tests)
    if sources is None:
        raise NoTestDriver("the C++ test program has no `int main() { ... }`")
    argv = cpp_driver.compile_command(toolchains["gxx"])
    called = CalledProgram([f"./{cpp_driver.PROGRAM}"], (cpp_driver.DRIVER, cpp_driver.DRIVER_SOURCE))
    return Build(sources, argv, compile_memory_mb, lambda workdir: [f"./{cpp_driver.DRIVER}"], memory_mb, called)


def _java(program, tests, toolchains, compile_memory_mb, memory_mb) -> Build:
    public_type = _JAVA_PUBLIC_TYPE.search(program)
    main_file = f"{public_type.group(1) if public_type else 'Main'}.java"
    compile_classpath = ":".join([*toolchains["java_classpath"], "."])

    def java(directory: str, *arguments: str) -> list[str]:
        classpath = ":".join([*toolchains["java_classpath"], directory])
        return [toolchains["java"], "-ea", f"-Xmx{memory_mb}m", *_JVM_FLAGS, "-cp", classpath, *arguments]

    called = arrange = None
    if tests is None:
        files, run_argv = {main_file: program}, java(".", java_driver.main_class(program))
    else:
        split = java_driver.split(program, tests, main_file)
        if split is None:
            raise NoTestDriver("the Java test program declares no `public static void main(String[] args)` in a class")
        files, arrange = split.sources, functools.partial(java_driver.arrange, tests_classes=split.tests_classes)
        run_argv = java(java_driver.TESTS_JAR, java_driver.LAUNCHER_CLASS)
        served = java(java_driver.PROGRAM_DIR, java_calls.SERVE_CLASS)
        called = CalledProgram(served, (java_driver.TESTS_JAR, *split.sources))
    compile_argv = [
        toolchains["javac"], f"-J-Xmx{compile_memory_mb}m", *(f"-J{flag}" for flag in _JVM_FLAGS),
        "-encoding", "UTF-8", "-cp", compile_classpath, "-d", ".", *files,
    ]  # fmt: skip
    return Build(
        files,
        compile_argv,
        compile_memory_mb + JVM_RESERVED_MB,
        lambda workdir: run_argv,
        memory_mb + JVM_RESERVED_MB,
        called,
        arrange,
    )


def _javascript(program, tests, toolchains, compile_memory_mb, memory_mb) -> Build:
    node = toolchains["node"]
    heap = f"--max-old-space-size={memory_mb}"
    called = None
    if tests is None:
        files, checked, run_argv = {"main.js": program}, "main.js", [node, heap, "main.js"]
    else:
        files = {
            js_driver.PROGRAM_FILE: program,
            js_driver.TESTS_FILE: tests,
            js_driver.DRIVER_FILE: js_driver.DRIVER,
            js_driver.HOST_FILE: js_driver.HOST,
        }
        checked, run_argv = js_driver.PROGRAM_FILE, [node, heap, js_driver.DRIVER_FILE]
        called = CalledProgram([node, heap, js_driver.HOST_FILE], (js_driver.TESTS_FILE, js_driver.DRIVER_FILE))
    return Build(
        files,
        [node, "--check", checked],
        compile_memory_mb + V8_RESERVED_MB,
        lambda workdir: run_argv,
        memory_mb + V8_RESERVED_MB,
        called,
    )

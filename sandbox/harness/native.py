"""Java, C++ and JavaScript: the files of a job, and the commands that compile and run them.

With a test program, each language gets a small addition that writes the `complete` report
line only when `main` returned normally, so a program that exits early with status 0
(`System.exit(0)`, `exit(0)`, `process.exit(0)`) does not pass:

- C++: `exit` is wrapped at link time (`-Wl,--wrap=exit`); an `atexit` handler reports
  completion unless the program called `exit` itself. `_exit` and `quick_exit` skip it.
- Java: a launcher class invokes the test program's `main` by reflection and reports after
  it returns (`System.exit` never returns).
- JavaScript: a statement appended after the test program reports completion.

The nonce is part of the generated source, which the program could read back; see the
threat model in the `sandbox` package.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import NamedTuple

# The JVM and V8 reserve far more address space than they use; their heaps are capped by
# flags, and the address-space limit only keeps native allocations in check.
JVM_RESERVED_MB = 1536
V8_RESERVED_MB = 1024

_JAVA_LAUNCHER_CLASS = "LedexLauncher"
_JAVA_LAUNCHER = """\
// Added by the sandbox: run the first class that has main(String[]) and report when it returns.
// Its own frames are cut from the stack trace of a failure, which is shown to people and models.
public final class LedexLauncher {
    public static void main(String[] classNames) throws Throwable {
        java.lang.reflect.Method main = null;
        for (String name : classNames) {
            try {
                main = Class.forName(name).getMethod("main", String[].class);
                break;
            } catch (NoSuchMethodException notThisOne) {
            }
        }
        if (main == null) {
            throw new IllegalStateException("no class declares public static void main(String[])");
        }
        try {
            main.invoke(null, (Object) new String[0]);
        } catch (java.lang.reflect.InvocationTargetException failure) {
            Throwable cause = failure.getCause();
            cause.setStackTrace(java.util.Arrays.stream(cause.getStackTrace())
                    .takeWhile(frame -> !frame.getClassName().startsWith("jdk.internal.reflect."))
                    .toArray(StackTraceElement[]::new));
            throw cause;
        }
        String completion = %s;
        if (!completion.isEmpty()) {
            try (java.io.FileOutputStream channel = new java.io.FileOutputStream("/proc/self/fd/3")) {
                channel.write(completion.getBytes());
            }
        }
    }
}
"""
# Fast start-up and small reservations: jobs are short, and the address space is capped.
_JVM_FLAGS = (
    "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
    "-XX:ReservedCodeCacheSize=64m", "-XX:CompressedClassSpaceSize=64m",
)  # fmt: skip
_JAVA_PUBLIC_TYPE = re.compile(
    r"^public\s+(?:(?:final|abstract|sealed|strictfp)\s+)*(?:class|interface|enum|record)\s+(\w+)", re.MULTILINE
)

_CPP_COMPLETION = """
// Added by the sandbox: report that main returned. exit() is wrapped at link time, so a
// program that calls it to end the run early does not count as finished.
#include <cstdlib>
#include <unistd.h>
static bool ledex_exit_called = false;
extern "C" [[noreturn]] void __real_exit(int status);
extern "C" [[noreturn]] void __wrap_exit(int status) {
    ledex_exit_called = true;
    __real_exit(status);
}
static void ledex_report_completion() {
    static const char line[] = %s;
    if (!ledex_exit_called && write(3, line, sizeof line - 1) < 0) {
        ledex_exit_called = true;
    }
}
__attribute__((constructor(101))) static void ledex_register_completion() {
    std::atexit(ledex_report_completion);
}
"""

_JS_COMPLETION = "\n;require('fs').writeSync(3, %s);\n"


class Build(NamedTuple):
    files: dict[str, str]  # name -> content, written to the working directory
    compile_argv: list[str] | None  # None: nothing to check before running
    compile_memory_mb: int | None  # address space of the compiler
    run_argv: Callable[[str], list[str]]  # given the working directory, after compiling
    run_memory_mb: int | None


def build(job: dict, toolchains: dict, compile_memory_mb: int, completion: str | None) -> Build:
    """How to compile and run `job`; `completion` is the report line for a test program (None for io)."""
    source = job["program"] if completion is None else f"{job['program']}\n{job['test_program']}\n"
    builders = {"cpp": _cpp, "java": _java, "js": _javascript}
    return builders[job["language"]](source, toolchains, compile_memory_mb, job["memory_mb"], completion)


def missing_toolchain(language: str, toolchains: dict) -> str | None:
    """The first executable or jar the language needs that does not exist, else None."""
    needed = {
        "cpp": [toolchains["gxx"]],
        "java": [toolchains["javac"], toolchains["java"], *toolchains["java_classpath"]],
        "js": [toolchains["node"]],
    }
    return next((path for path in needed[language] if not os.path.exists(path)), None)


def _string_literal(text: str) -> str:
    """A double-quoted literal valid in C++, Java and JavaScript (`text` is ASCII)."""
    return json.dumps(text)


def _cpp(source, toolchains, compile_memory_mb, memory_mb, completion) -> Build:
    argv = [toolchains["gxx"], "-std=c++17", "-O1", "-o", "main", "main.cpp"]
    if completion is not None:
        source += _CPP_COMPLETION % _string_literal(completion)
        argv.append("-Wl,--wrap=exit")
    return Build({"main.cpp": source}, argv, compile_memory_mb, lambda workdir: ["./main"], memory_mb)


def _java(source, toolchains, compile_memory_mb, memory_mb, completion) -> Build:
    public_type = _JAVA_PUBLIC_TYPE.search(source)
    main_file = f"{public_type.group(1) if public_type else 'Main'}.java"
    launcher = _JAVA_LAUNCHER % _string_literal(completion or "")
    classpath = ":".join([*toolchains["java_classpath"], "."])
    compile_argv = [
        toolchains["javac"], f"-J-Xmx{compile_memory_mb}m", *(f"-J{flag}" for flag in _JVM_FLAGS),
        "-encoding", "UTF-8", "-cp", classpath, "-d", ".", main_file, f"{_JAVA_LAUNCHER_CLASS}.java",
    ]  # fmt: skip

    def run_argv(workdir: str) -> list[str]:
        preferred = public_type.group(1) if public_type else None
        classes = sorted(
            (name[: -len(".class")] for name in os.listdir(workdir) if name.endswith(".class") and "$" not in name),
            key=lambda name: (name != preferred, name),
        )
        classes.remove(_JAVA_LAUNCHER_CLASS)
        heap = f"-Xmx{memory_mb}m"
        return [toolchains["java"], "-ea", heap, *_JVM_FLAGS, "-cp", classpath, _JAVA_LAUNCHER_CLASS, *classes]

    return Build(
        {main_file: source, f"{_JAVA_LAUNCHER_CLASS}.java": launcher},
        compile_argv,
        compile_memory_mb + JVM_RESERVED_MB,
        run_argv,
        memory_mb + JVM_RESERVED_MB,
    )


def _javascript(source, toolchains, compile_memory_mb, memory_mb, completion) -> Build:
    if completion is not None:
        source += _JS_COMPLETION % _string_literal(completion)
    node = toolchains["node"]
    return Build(
        {"main.js": source},
        [node, "--check", "main.js"],
        compile_memory_mb + V8_RESERVED_MB,
        lambda workdir: [node, f"--max-old-space-size={memory_mb}", "main.js"],
        memory_mb + V8_RESERVED_MB,
    )

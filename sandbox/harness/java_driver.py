"""Java: the test program's `main` moved to a test class of its own, in a JVM the program never runs in.

A MultiPL-E test program closes the method under test, declares `main`, and closes the
class; `main` becomes `LedexTests.main` in LedexTests.java, a subclass of the proxy of the
class it was in (`java_calls.py`: its unqualified calls still resolve, and reach the program
in a JVM of its own), and everything else stays with the program. In `main`, each `assert`
statement becomes a call to `LedexCheck.that`, which throws whatever the JVM's assertion
status, and a top-level `a.equals(b)` in it becomes `LedexCheck.equal(a, b)`, which compares
only values of JDK and javatuples classes. The launcher runs exactly `LedexTests.main` (never
another class's `main`); it reads the nonce from a pipe, and writes the completion record
after `main` returned. Everything compiles in one javac run; `arrange` then puts the tests'
classes and the program's in separate class-path directories.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from typing import NamedTuple

from . import java_calls
from .c_like_source import closing, function_body, masked, top_level

TESTS_CLASS, CHECK_CLASS, LAUNCHER_CLASS = "LedexTests", "LedexCheck", "LedexLauncher"
# The two JVMs' class paths: the tests' classes in a jar, which the tests' JVM keeps open (a
# program that writes a jar of that name later reaches nothing), the program's in a directory.
TESTS_JAR, PROGRAM_DIR = "tests.jar", "program"
_TESTS_SIDE = {TESTS_CLASS, CHECK_CLASS, LAUNCHER_CLASS, java_calls.PROXY_CLASS, java_calls.REMOTE_CLASS}
_BOTH_SIDES = {java_calls.CODEC_CLASS}

_MAIN = re.compile(
    r"\bpublic\s+static\s+void\s+main\s*\(\s*(?:final\s+)?String\s*(?:\[\]\s*\w+|\w+\s*\[\]|\.\.\.\s*\w+)\s*\)"
    r"\s*(?:throws\s+[\w.,\s]+?)?\{"
)
_CLASS = re.compile(r"\b(?:class|interface|enum|record)\s+(\w+)")
_PUBLIC_TOP_LEVEL = re.compile(r"^public\s+((?:(?:final|abstract)\s+)*(?:class|interface|enum|record)\b)", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*import\s+(?:static\s+)?[\w.]+(?:\.\*)?\s*;[ \t]*$", re.MULTILINE)
_ASSERT = re.compile(r"\bassert\b")
_EQUALS = re.compile(r"\.\s*equals\s*\(")
_ARGUMENT_SEPARATOR = re.compile(",")
_OPERATOR = re.compile(r"&&|\|\||\?|[=!]=|\binstanceof\b")

SUPPORT = {
    CHECK_CLASS: """\
// Added by the sandbox: checks for the tests that the program can neither disable nor fool.
final class LedexCheck {
    private static final java.util.Set<String> TRUSTED = java.util.Set.of(
        "java.lang.String", "java.lang.Long", "java.lang.Integer", "java.lang.Short", "java.lang.Byte",
        "java.lang.Character", "java.lang.Boolean", "java.lang.Double", "java.lang.Float",
        "java.math.BigInteger", "java.math.BigDecimal", "java.util.Optional",
        "java.util.ArrayList", "java.util.LinkedList", "java.util.HashMap", "java.util.LinkedHashMap",
        "java.util.HashSet", "java.util.LinkedHashSet", "java.util.TreeMap", "java.util.TreeSet",
        "java.util.Arrays$ArrayList", "java.util.ImmutableCollections$List12",
        "java.util.ImmutableCollections$ListN", "java.util.ImmutableCollections$Set12",
        "java.util.ImmutableCollections$SetN", "java.util.ImmutableCollections$Map1",
        "java.util.ImmutableCollections$MapN");

    static void that(boolean holds, String source) {
        if (!holds) {
            throw new AssertionError(source);
        }
    }

    static boolean holds(boolean condition) {
        return condition;
    }

    static boolean equal(Object left, Object right) {
        trusted(left, 0);
        trusted(right, 0);
        return left == null ? right == null : left.equals(right);
    }

    private static void trusted(Object value, int depth) {
        if (value == null) {
            return;
        }
        Class<?> kind = value.getClass();
        boolean jdk = kind.getClassLoader() == null && TRUSTED.contains(kind.getName());
        boolean tuple = kind.getName().startsWith("org.javatuples.")
                && kind.getClassLoader() == LedexCheck.class.getClassLoader()
                && java.lang.reflect.Modifier.isFinal(kind.getModifiers());
        if (!(jdk || tuple) || depth > 100
                || value instanceof java.util.SortedMap<?, ?> map && map.comparator() != null
                || value instanceof java.util.SortedSet<?> set && set.comparator() != null) {
            throw new AssertionError("a comparison with a value of type " + kind.getName()
                    + "; tests only trust JDK values, collections and javatuples");
        }
        if (value instanceof java.util.Map<?, ?> map) {
            for (java.util.Map.Entry<?, ?> entry : map.entrySet()) {
                trusted(entry.getKey(), depth + 1);
                trusted(entry.getValue(), depth + 1);
            }
        } else if (value instanceof java.util.Collection<?> items) {
            for (Object item : items) {
                trusted(item, depth + 1);
            }
        } else if (value instanceof org.javatuples.Tuple items) {
            for (Object item : items) {
                trusted(item, depth + 1);
            }
        } else if (value instanceof java.util.Optional<?> optional && optional.isPresent()) {
            trusted(optional.get(), depth + 1);
        }
    }
}
""",
    LAUNCHER_CLASS: """\
// Added by the sandbox: read the nonce and every class of the tests, let the program's JVM start, run
// LedexTests.main, and report when it returns.
public final class LedexLauncher {
    public static void main(String[] args) throws Throwable {
        StringBuilder nonce = new StringBuilder();
        try (java.io.FileInputStream secret = new java.io.FileInputStream("/proc/self/fd/4")) {
            for (int next = secret.read(); next >= 0; next = secret.read()) {
                nonce.append((char) next);
            }
        }
        ClassLoader loader = LedexLauncher.class.getClassLoader();
        try (java.util.zip.ZipFile jar = new java.util.zip.ZipFile("tests.jar")) {  // all, before the program starts
            for (java.util.zip.ZipEntry entry : java.util.Collections.list(jar.entries())) {
                String name = entry.getName();
                Class.forName(name.substring(0, name.length() - ".class".length()), false, loader);
            }
        }
        LedexRemote.connect();
        try (java.io.FileOutputStream ready = new java.io.FileOutputStream("/proc/self/fd/7")) {
            ready.write('r');
        }
        java.lang.reflect.Method main = Class.forName("LedexTests").getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) new String[0]);
        } catch (java.lang.reflect.InvocationTargetException failure) {
            Throwable cause = failure.getCause();
            cause.setStackTrace(java.util.Arrays.stream(cause.getStackTrace())
                    .takeWhile(frame -> !frame.getClassName().startsWith("jdk.internal.reflect."))
                    .toArray(StackTraceElement[]::new));
            throw cause;
        }
        try (java.io.FileOutputStream channel = new java.io.FileOutputStream("/proc/self/fd/3")) {
            channel.write((nonce + " complete 0 - -\\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
    }
}
""",
}


SUPPORT.update({  # the calls between the two JVMs
    java_calls.CODEC_CLASS: java_calls.CODEC,
    java_calls.REMOTE_CLASS: java_calls.REMOTE,
    java_calls.SERVE_CLASS: java_calls.SERVE,
})  # fmt: skip


class Split(NamedTuple):
    """A Java job with tests, as the files javac compiles."""

    sources: dict[str, str]  # file name -> source: the program's, the tests', the proxies'
    tests_classes: frozenset[str]  # top-level classes compiled for the tests' JVM


def split(program: str, test_program: str, program_file: str) -> Split | None:
    """The job's sources, the program's in `program_file`; None when the test program declares
    no `main` inside a class.

    Two shapes: a MultiPL-E test program closes the method and class the program left open,
    and its `main` becomes `LedexTests.main`, in a subclass of the proxy of that class; a test
    program with a class of its own (a task's `class Tests { ... }`) runs whole on the tests'
    side, started by `LedexTests.main`. Either way, its references to the program's classes
    go to their proxies."""
    span = function_body(masked(test_program), _MAIN)
    if span is None:
        return None
    main, body_start, end = span
    imports = "\n".join(dict.fromkeys(match.group().strip() for match in _IMPORT.finditer(masked(program))))
    proxy, main_header = java_calls.PROXY_CLASS, "public static void main(String[] args) throws Throwable"
    if _enclosing_class(masked(program)):
        before, body, after = test_program[: main.start()], test_program[body_start:end], test_program[end + 1 :]
        program_source = f"{program}\n{before}\n{after}"
        enclosing = _enclosing_class(masked(f"{program}\n{before}")).split(".")[0]
        program_classes, own_classes = java_calls.top_level_classes(program_source), []
        tests_body = java_calls.to_proxies(checked(body), program_classes)
        tests = f"public class {TESTS_CLASS} extends {proxy}.{enclosing} {{\n    {main_header} {{{tests_body}}}\n}}\n"
        sources = {program_file: program_source}
    else:
        enclosing = _enclosing_class(masked(test_program[: main.start()]))
        if not enclosing:
            return None
        program_classes, own_classes = java_calls.top_level_classes(program), java_calls.top_level_classes(test_program)
        own_source = _PUBLIC_TOP_LEVEL.sub(r"\1", java_calls.to_proxies(checked(test_program), program_classes))
        tests = f"public class {TESTS_CLASS} {{\n    {main_header} {{ {enclosing}.main(args); }}\n}}\n"
        sources = {program_file: program, "LedexTestProgram.java": f"{imports}\n{own_source}"}
    sources.update({
        f"{TESTS_CLASS}.java": f"{imports}\n{tests}",
        f"{proxy}.java": java_calls.proxy(sources[program_file], imports),
        **{f"{name}.java": source for name, source in SUPPORT.items()},
    })  # fmt: skip
    return Split(sources, frozenset(own_classes))


def arrange(workdir: str, tests_classes: frozenset[str]) -> None:
    """Put the compiled classes in `TESTS_JAR` and `PROGRAM_DIR`: the tests' JVM loads the tests'
    side only (the sandbox's classes and `tests_classes`), so no class of the program ever runs
    there."""
    program = os.path.join(workdir, PROGRAM_DIR)
    os.mkdir(program)
    with zipfile.ZipFile(os.path.join(workdir, TESTS_JAR), "w") as tests:
        for name in os.listdir(workdir):
            path = os.path.join(workdir, name)
            if name in (TESTS_JAR, PROGRAM_DIR) or name.endswith(".java"):
                continue
            owner = name.removesuffix(".class").split("$")[0] if name.endswith(".class") else None
            tests_only = owner in _TESTS_SIDE or owner in tests_classes
            if tests_only or owner in _BOTH_SIDES:
                tests.write(path, name)
            if tests_only:
                os.unlink(path)
            else:
                shutil.move(path, program)


def checked(body: str) -> str:
    """`body` with each `assert` statement turned into a `LedexCheck.that` call, or, for
    `assert condition : detail;`, a block that throws an AssertionError with the detail
    (evaluated only when the condition fails, as Java does)."""
    code, pieces, position = masked(body), [], 0
    for match in _ASSERT.finditer(code):
        if match.start() < position:
            continue
        statement_end = _statement_end(code, match.end())
        if statement_end < 0:
            break
        statement = body[match.end() : statement_end]
        colon = _detail_colon(masked(statement))
        condition = statement[:colon].strip() if colon >= 0 else statement.strip()
        check = f"{CHECK_CLASS}.that({_compared(condition)}, {_literal(condition)});"
        if colon >= 0:
            detail = statement[colon + 1 :].strip()
            failure = f"throw new AssertionError({_literal(condition + ': ')} + ({detail}));"
            check = f"{{ if (!{CHECK_CLASS}.holds({_compared(condition)})) {{ {failure} }} }}"
        pieces += [body[position : match.start()], check]
        position = statement_end + 1
    return "".join([*pieces, body[position:]])


def _detail_colon(code: str) -> int:
    """The index of the colon before an assert statement's detail message (in masked code),
    skipping `?:` and `::`; -1 if there is none."""
    depth, open_conditionals = 0, 0
    for index, char in enumerate(code):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and char == "?":
            open_conditionals += 1
        elif depth == 0 and char == ":" and ":" not in (code[index - 1 : index], code[index + 1 : index + 2]):
            if open_conditionals == 0:
                return index
            open_conditionals -= 1
    return -1


def _compared(condition: str) -> str:
    """`condition`, with a top-level `a.equals(b)` (the whole condition) as `LedexCheck.equal(a, b)`;
    any other condition (`Objects.equals(a, b)`, `a.equals(b) && ...`) unchanged."""
    code = masked(condition)
    while code.startswith("(") and closing(code, 0) == len(code) - 1:
        condition, code = condition[1:-1].strip(), masked(condition[1:-1].strip())
    calls = top_level(code, _EQUALS)
    if not calls:
        return f"({condition})"
    call = calls[-1]
    argument_end = closing(code, call.end() - 1)
    left_code = code[: call.start()]
    if (
        argument_end != len(code) - 1
        or top_level(code, _ARGUMENT_SEPARATOR, call.end(), argument_end)  # Objects.equals(a, b)
        or top_level(left_code, _OPERATOR)  # a.equals(b) && c.equals(d), !a.equals(b)
        or left_code.lstrip().startswith("!")
    ):
        return f"({condition})"
    left, right = condition[: call.start()], condition[call.end() : argument_end]
    return f"{CHECK_CLASS}.equal({left}, {right})"


def _statement_end(code: str, start: int) -> int:
    depth = 0
    for index in range(start, len(code)):
        if code[index] in "({[":
            depth += 1
        elif code[index] in ")}]":
            depth -= 1
        elif code[index] == ";" and depth == 0:
            return index
    return -1


def _enclosing_class(code: str) -> str:
    """The dotted name of the class whose body is still open at the end of `code`."""
    stack: list[str | None] = []
    pending = None
    index = 0
    while index < len(code):
        declaration = _CLASS.match(code, index)
        if declaration and (index == 0 or not (code[index - 1].isalnum() or code[index - 1] == "_")):
            pending, index = declaration.group(1), declaration.end()
            continue
        if code[index] == "{":
            stack.append(pending)
            pending = None
        elif code[index] == "}" and stack:
            stack.pop()
        index += 1
    return ".".join(name for name in stack if name)


def main_class(program: str) -> str:
    """The class declaring `main` in a whole program (standard-input problems); "Main" if none."""
    code = masked(program)
    main = _MAIN.search(code)
    return (_enclosing_class(code[: main.start()]) if main else "") or "Main"


def _literal(text: str) -> str:
    """A Java string literal showing `text` (printable ASCII only: Java reads \\u escapes before strings)."""
    escaped = "".join(("\\" + char if char in '"\\' else char) if 32 <= ord(char) < 127 else "?" for char in text)
    return f'"{escaped}"'

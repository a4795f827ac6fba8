"""Java, C++ and JavaScript: passing, failing, not compiling, exiting early, and stdin cases."""

from __future__ import annotations

import os
from textwrap import dedent

import pytest

from sandbox import Job, SandboxConfig, Status

CONFIG = SandboxConfig()
TOOLCHAINS = {
    "cpp": [CONFIG.gxx],
    "java": [CONFIG.javac, CONFIG.java, *CONFIG.java_classpath],
    "js": [CONFIG.node],
}
# Per language: a correct program, the same program broken, a program that does not
# compile, a program that exits with status 0 before the tests finish, the test program
# (MultiPL-E style), and a standard-input program printing the sum of two numbers.
CPP = {
    "correct": "#include <cstdlib>\nlong add(long a, long b) { return a + b; }\n",
    "wrong": "#include <cstdlib>\nlong add(long a, long b) { return a - b; }\n",
    "not compiling": "long add(long a, long b) { return a + ; }\n",
    "exiting early": "#include <cstdlib>\nlong add(long a, long b) { std::exit(0); }\n",
    "test": dedent("""\
        #include <cassert>
        int main() {
            assert(add(1, 2) == 3);
            assert(add(-1, 1) == 0);
        }
    """),
    "stdin": "#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; }\n",
    "memory bomb": "#include <vector>\nint main() { std::vector<char*> v; for (;;) v.push_back(new char[1 << 24]); }\n",
}
JAVA_HEADER = "import java.util.*;\nimport org.javatuples.*;\nclass Problem {\n"
JAVA = {
    "correct": JAVA_HEADER + "    static Pair<Long, Long> add(long a, long b) { return Pair.with(a + b, 0l); }\n",
    "wrong": JAVA_HEADER + "    static Pair<Long, Long> add(long a, long b) { return Pair.with(a - b, 0l); }\n",
    "not compiling": JAVA_HEADER + "    static Pair<Long, Long> add(long a, long b) { return Pair.with(a + b) }\n",
    "exiting early": JAVA_HEADER + "    static Pair<Long, Long> add(long a, long b) { System.exit(0); return null; }\n",
    "test": dedent("""\
            public static void main(String[] args) {
                assert(add(1l, 2l).equals(Pair.with(3l, 0l)));
                assert(add(-1l, 1l).equals(Pair.with(0l, 0l)));
            }
        }
    """),
    "memory bomb": dedent("""\
        import java.util.*;
        public class Main {
            public static void main(String[] args) {
                List<long[]> blocks = new ArrayList<>();
                while (true) blocks.add(new long[1 << 20]);
            }
        }
    """),
    "stdin": dedent("""\
        import java.util.*;
        public class Main {
            public static void main(String[] args) {
                Scanner in = new Scanner(System.in);
                System.out.println(in.nextLong() + in.nextLong());
            }
        }
    """),
}
JS = {
    "correct": "function add(a, b) { return a + b; }\n",
    "wrong": "function add(a, b) { return a - b; }\n",
    "not compiling": "function add(a, b) { return a + ; }\n",
    "exiting early": "function add(a, b) { process.exit(0); }\n",
    "test": dedent("""\
        const assert = require('node:assert');
        assert.deepEqual(add(1, 2), 3);
        assert.deepEqual(add(-1, 1), 0);
    """),
    "memory bomb": "const blocks = [];\nwhile (true) blocks.push(new Array(1e6).fill(1));\n",
    "stdin": dedent("""\
        const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);
        console.log(a + b);
    """),
}
PROGRAMS = {"cpp": CPP, "java": JAVA, "js": JS}
EXPECTED = {
    "correct": Status.PASSED,
    "wrong": Status.FAILED,
    "not compiling": Status.COMPILE_ERROR,
    "exiting early": Status.RUNTIME_ERROR,
}


def language(name: str):
    missing = [path for path in TOOLCHAINS[name] if not os.path.exists(path)]
    marks = [pytest.mark.skipif(bool(missing), reason=f"{name} toolchain missing: {', '.join(missing)}")]
    if name == "java":
        marks.append(pytest.mark.slow)  # javac takes seconds
    return pytest.param(name, marks=marks)


LANGUAGES = [language(name) for name in PROGRAMS]


@pytest.mark.parametrize("name", LANGUAGES)
def test_test_programs(sandbox, name):
    programs = PROGRAMS[name]
    verdicts = sandbox.run_many([Job(name, programs[kind], test_program=programs["test"]) for kind in EXPECTED])
    assert [verdict.status for verdict in verdicts] == list(EXPECTED.values()), [v.message for v in verdicts]
    assert [verdict.passed for verdict in verdicts] == [True, False, False, False]
    _, wrong, not_compiling, exiting_early = verdicts
    assert "ssert" in wrong.message  # the language's own report of the failed assertion
    assert "error" in not_compiling.message.lower()
    if name == "cpp":
        assert "exit status 0" in exiting_early.message, exiting_early.message
    if name == "java":  # the program exits its own JVM, not the tests'
        assert "the program's process ended" in exiting_early.message, exiting_early.message


@pytest.mark.parametrize("name", LANGUAGES)
def test_stdin_cases(sandbox, name):
    cases = (("1 2\n", "3\n"), ("20 22", "42"), ("1 1", "3"))
    verdict = sandbox.run(Job(name, PROGRAMS[name]["stdin"], io_cases=cases))
    assert verdict.status is Status.FAILED
    assert [test.passed for test in verdict.tests] == [True, True, False]
    assert "expected: '3'" in verdict.tests[2].message


@pytest.mark.parametrize("name", LANGUAGES)
def test_memory_bombs(sandbox, name):
    verdict = sandbox.run(Job(name, PROGRAMS[name]["memory bomb"], io_cases=(("", ""),), memory_mb=256))
    assert verdict.status is Status.MEMORY and not verdict.passed, verdict.message


def test_other_languages_take_a_test_program_not_test_cases():
    with pytest.raises(ValueError, match="test_program"):
        Job("cpp", "int main() {}", test_cases=("assert(1);",))

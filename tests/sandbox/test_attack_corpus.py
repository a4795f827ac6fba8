"""The attack corpus (tests/sandbox/attacks/): no attack passes, and a correct program run
right after it, on the same worker, still does."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from textwrap import dedent

import pytest

from sandbox import Job, Status
from tests.sandbox.test_languages import language

ATTACKS = Path(__file__).parent / "attacks"
OPEN_ATTACKS = ATTACKS / "open"  # attacks that still pass: the gaps the threat model names
EXTENSIONS = {"python": "py", "cpp": "cpp", "java": "java", "js": "js"}

# Per language: the tests of `add(a, b)` and `twice(values)`, and a correct program.
PYTHON_TESTS = (
    "assert add(1, 2) == 3",
    "assert abs(add(1, 2) - 3) < 1e-9 and add(-1, 1) == 0",
    "assert len(twice([1, 2])) == 2 and tuple(twice([1, 2])) == (2, 4)",
    "assert isinstance(add(1, 2), int) and str(add(1, 2)) == '3' and sum(range(add(1, 2))) == 3",
    "import random\nrng = random.Random(7)\nxs = [rng.randrange(100) for _ in range(5)]\n"
    "assert twice(xs) == [2 * x for x in xs]",
)
CORRECT = {
    "python": "def add(a, b):\n    return a + b\n\n\ndef twice(values):\n    return [2 * value for value in values]\n",
    "cpp": dedent("""\
        #include <vector>
        long add(long a, long b) { return a + b; }
        std::vector<long> twice(std::vector<long> values) {
            for (auto &value : values) value *= 2;
            return values;
        }
    """),
    "java": dedent("""\
        class Problem {
            public static long add(long a, long b) { return a + b; }
            public static ArrayList<Long> twice(ArrayList<Long> values) {
                ArrayList<Long> doubled = new ArrayList<>();
                for (long value : values) doubled.add(2 * value);
                return doubled;
            }
    """),
    "js": "function add(a, b) { return a + b; }\nfunction twice(values) { return values.map((value) => 2 * value); }\n",
}
TEST_PROGRAMS = {
    "cpp": dedent("""\
        #include <cassert>
        #include <vector>
        int main() {
            assert(add(1, 2) == 3);
            assert(add(-1, 1) == 0);
            assert(twice({1, 2}) == std::vector<long>({2, 4}));
        }
    """),
    "java": dedent("""\
            public static void main(String[] args) {
            assert(add(1l, 2l) == 3l);
            assert(add(-1l, 1l) == 0l);
            ArrayList<Long> doubled = new ArrayList<Long>(Arrays.asList(2l, 4l));
            assert(twice(new ArrayList<Long>(Arrays.asList(1l, 2l))).equals(doubled));
            }
        }
    """),
    "js": dedent("""\
        const assert = require('node:assert');

        function test() {
          let candidate = add;
          assert.deepEqual(candidate(1, 2), 3);
          assert.deepEqual(candidate(-1, 1), 0);
          assert.deepEqual(twice([1, 2]), [2, 4]);
        }

        test();
    """),
}
JAVA_IMPORTS = "import java.util.*;\nimport org.javatuples.*;\n"


def job(name: str, program: str) -> Job:
    if name == "python":
        return Job("python", program, test_cases=PYTHON_TESTS)
    if name == "java":
        program = JAVA_IMPORTS + program
    return Job(name, program, test_program=TEST_PROGRAMS[name])


def attacks(folder: Path = ATTACKS) -> list:
    cases = []
    for name, extension in EXTENSIONS.items():
        (marks,) = [param.marks for param in [language(name)]] if name != "python" else [()]
        for path in sorted((folder / name).glob(f"*.{extension}")):
            cases.append(pytest.param(name, path, marks=marks, id=f"{name}/{path.stem}"))
    return cases


@pytest.mark.parametrize("name", ["python", language("cpp"), language("java"), language("js")])
def test_the_correct_programs_pass(sandbox, name):
    verdict = sandbox.run(job(name, CORRECT[name]))
    assert verdict.passed, verdict.message


@pytest.mark.parametrize(("name", "path"), attacks())
def test_no_attack_passes_and_the_next_program_is_scored_right(lone_sandbox, name, path):
    attack = lone_sandbox.run(job(name, path.read_text()))
    assert not attack.passed and attack.status is not Status.PASSED, attack
    assert not all(test.passed for test in attack.tests)
    after = lone_sandbox.run(job(name, CORRECT[name]))
    assert after.passed, after.message


@pytest.mark.xfail(strict=True, reason="an open gap of the threat model; move the file to attacks/ once it is closed")
@pytest.mark.parametrize(("name", "path"), attacks(OPEN_ATTACKS))
def test_open_attacks_still_pass(lone_sandbox, name, path):
    attack = lone_sandbox.run(dataclasses.replace(job(name, path.read_text()), timeout_s=60))  # memory scans are slow
    assert not attack.passed

"""The evaluation's parts: hallucinations read off real sandbox verdicts, instruct answers turned
into MultiPL-E completions that really run, and the scores of the self-debugging loop."""

from __future__ import annotations

import pytest

from ledex.evaluation.self_debug import Attempt, score
from ledex.execution.completions import completion_for, function_body
from ledex.execution.hallucination import classify
from ledex.execution.jobs import build_job
from ledex.problems import Problem
from sandbox import Job, Sandbox, SandboxConfig

JAVA = Problem(  # tests/fixtures/benchmarks/multipl-e/mbpp-java-reworded.jsonl
    id="mbpp_1_add_two",
    benchmark="multipl-e-mbpp-java",
    language="java",
    prompt="import java.util.*;\nclass Problem {\n    // Add two to a number.\n"
    "    public static long addTwo(long n) {\n",
    entry_point="addTwo",
    test_program="    }\n    public static void main(String[] args) {\n    assert(addTwo((1l)) == (3l));\n    }\n\n}\n",
    stop_tokens=("\n    }\n",),
    evaluation_only=True,
)
CPP = Problem(
    id="HumanEval_0_double",
    benchmark="multipl-e-humaneval-cpp",
    language="cpp",
    prompt="#include<assert.h>\n#include<bits/stdc++.h>\nlong double_it(long n) {\n",
    entry_point="double_it",
    test_program="}\nint main() {\n    assert(double_it(2) == 4);\n}\n",
    stop_tokens=("\n}",),
    evaluation_only=True,
)
JS = Problem(
    id="HumanEval_0_double",
    benchmark="multipl-e-humaneval-js",
    language="js",
    prompt="//Twice n.\nfunction double_it(n){\n",
    entry_point="double_it",
    test_program="const assert = require('node:assert');\nassert.deepEqual(double_it(2), 4);\n",
    stop_tokens=("\nfunction ", "\n/*", "\n//", "\nconsole.log"),
    evaluation_only=True,
)
HUMANEVAL_TESTS = {"test_cases": ("assert f(1) == 2",)}


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxConfig(workers=2, timeout_s=20.0)) as shared:
        yield shared


def python_job(program: str) -> Job:
    return Job("python", program, **HUMANEVAL_TESTS)


def java_job(imports: str, body: str) -> Job:
    program = f"{imports}class Problem {{\n    public static long f(long n) {{\n        {body}\n"
    return Job("java", program, test_program=JAVA.test_program.replace("addTwo((1l)) == (3l)", "f(1l) == 2l"))


HALLUCINATIONS = [
    (python_job("def f(x):\n    return double(x)\n"), "name"),
    (python_job("import math\ndef f(x):\n    return math.twice(x)\n"), "attribute"),
    (python_job("def f(x):\n    return x.doubled()\n"), "attribute"),
    (python_job("import numpie\ndef f(x):\n    return 2 * x\n"), "module"),
    (python_job("from math import twice\ndef f(x):\n    return twice(x)\n"), "module"),
    (python_job("def f(x):\n    return x + 2\n"), ""),  # a wrong answer
    (python_job("def f(x):\n    return None.real\n"), ""),  # a bug on None, not a made-up API
    (python_job("def g(x):\n    return 2 * x\n"), ""),  # the entry point is missing: not a hallucination
    (Job("js", "function f(n){\n  return twice(n);\n}\n", test_program="f(1);\n"), "name"),
    (Job("js", "function f(n){\n  return Math.twice(n);\n}\n", test_program="f(1);\n"), "attribute"),
    (
        Job(
            "cpp",
            "#include <vector>\nint f(int n) {\n  return twice(n);\n}\n",
            test_program="int main() { return f(1); }\n",
        ),
        "name",
    ),
    (
        Job(
            "cpp",
            "#include <string>\nint f(std::string s) {\n  return s.length_of();\n}\n",
            test_program='int main() { return f("a"); }\n',
        ),
        "attribute",
    ),
    (
        Job(
            "cpp",
            "#include <magic_numbers.h>\nint f(int n) { return n; }\n",
            test_program="int main() { return f(1); }\n",
        ),
        "module",
    ),
    (java_job("", "return n + offset;"), "name"),
    (java_job("", "return Math.twice(n);"), "attribute"),
    (java_job("import org.magic.Numbers;\n", "return n;"), "module"),
]


def test_hallucinations_are_read_off_real_verdicts(sandbox):
    verdicts = sandbox.run_many([job for job, _ in HALLUCINATIONS])
    assert all(not verdict.passed for verdict in verdicts)
    found = [classify(verdict, job.language, entry_point="f") for (job, _), verdict in zip(HALLUCINATIONS, verdicts)]
    assert found == [category for _, category in HALLUCINATIONS]


RESTATED = {
    "python": "import math\n\n\ndef double_it(n):\n    return 2 * n\n\n\n"
    "print(double_it(int(input())))\nassert double_it(1) == 3\n",
    "java": "import java.util.*;\nclass Problem {\n    // Adds two.\n    public static long addTwo(long n) {\n"
    '        String braces = "}{";  // a brace in a string and a comment: }\n        return n + 2;\n    }\n\n'
    "    public static void main(String[] args) {\n        System.out.println(addTwo(1));\n    }\n}\n",
    "cpp": "#include <bits/stdc++.h>\nlong double_it(long n);\n\n"
    "long double_it(long n) {\n    if (n < 0) { return -double_it(-n); }\n"
    "    return 2 * n;\n}\n\nint main() {\n    std::cout << double_it(3);\n}\n",
    "js": "function double_it(n) {\n  const twice = `${n}{`.length > 0 ? 2 * n : 0;\n  return twice;\n}\n"
    "console.log(double_it(2));\n",
}


PYTHON = Problem(
    id="HumanEval/0",
    benchmark="humaneval",
    language="python",
    prompt='def double_it(n):\n    """Twice n."""\n',
    entry_point="double_it",
    test_program="",
    test_cases=("assert candidate(2) == 4",),
    test_setup="candidate = double_it",
)


def test_restated_functions_and_classes_run_as_completions(sandbox):
    problems = {"python": PYTHON, "java": JAVA, "cpp": CPP, "js": JS}
    jobs = [
        build_job(problems[language], completion_for(problems[language], code)) for language, code in RESTATED.items()
    ]
    continuation = build_job(CPP, completion_for(CPP, "    return n * 2;\n}\n\nint unused() { return 0; }\n"))
    verdicts = sandbox.run_many([*jobs, continuation])
    assert [v.passed for v in verdicts] == [True] * 5, [v.message for v in verdicts]


def test_function_body_skips_calls_and_declarations():
    assert (
        function_body("int g() { return f(1); }\nint f(int n);\nint f(int n) {\n  return n;\n}\n", "f")
        == "\n  return n;\n"
    )
    assert function_body("f(1);\n", "f") is None


def test_python_keeps_definitions_and_drops_demo_code():
    code = (
        "import math\n\nLIMIT = 10\n\n@functools.cache\ndef f(x):\n    return x\n\n"
        "y = f(1)\nprint(y)\nif __name__ == '__main__':\n    f(int(input()))\n"
    )
    assert completion_for(PYTHON, code) == "import math\nLIMIT = 10\n@functools.cache\ndef f(x):\n    return x\n"
    assert completion_for(PYTHON, "    return 2 * n\n") == "    return 2 * n\n"  # a continuation: as it is
    standard_input = Problem(
        id="apps/1",
        benchmark="apps",
        language="python",
        prompt="Print twice the input.",
        entry_point=None,
        test_program="",
        io_cases=(("1\n", "2\n"),),
        completion_style=False,
    )
    assert completion_for(standard_input, code) == code  # a stdin program is its module-level code


def attempts(rows):
    return [
        Attempt(
            "m",
            benchmark,
            problem,
            language,
            sample,
            kind,
            round_number,
            "",
            "code",
            passed,
            "",
            0.0,
            "",
            hallucination,
        )
        for benchmark, problem, language, sample, kind, round_number, passed, hallucination in rows
    ]


def test_languages_and_their_gap():
    scores = score(
        attempts(
            [
                ("py", "p1", "python", 0, "init", 0, True, ""),
                ("py", "p1", "python", 1, "init", 0, False, ""),
                ("py", "p1", "python", 1, "refine", 1, True, ""),
                ("py", "p1", "python", 1, "explain_refine", 1, False, "module"),
                ("js", "j1", "js", 0, "init", 0, False, ""),
                ("js", "j1", "js", 1, "init", 0, False, ""),
                ("js", "j1", "js", 0, "refine", 1, False, "name"),
                ("js", "j1", "js", 1, "refine", 1, False, ""),
                ("js", "j1", "js", 0, "explain_refine", 1, True, ""),
                ("js", "j1", "js", 1, "explain_refine", 1, False, ""),
            ]
        ),
        ks=[1, 2],
        rounds=1,
    )
    assert scores["languages"] == {
        "js": {"init": 0.0, "refine": 0.0, "explain_refine": 0.5},
        "python": {"init": 0.5, "refine": 1.0, "explain_refine": 0.5},
    }
    assert scores["cross_language_gap"] == {"init": 0.5, "refine": 1.0, "explain_refine": 0.0}
    python = scores["benchmarks"]["py"]
    assert python["explain_refine"]["hallucination_rate"] == 1.0
    assert python["refine"]["round_1"] == {"pass_at_1": 1.0, "pass_at_2": 1.0, "refinement_rate": 1.0}
    assert scores["benchmarks"]["js"]["refine"]["hallucinations"] == {"name": 1, "attribute": 0, "module": 0}


def test_no_wrong_sample_has_no_refinement_rate():
    scores = score(attempts([("py", "p1", "python", 0, "init", 0, True, "")]), ks=[1], rounds=2)
    benchmark = scores["benchmarks"]["py"]
    assert benchmark["refine"]["round_2"] == {"pass_at_1": 1.0, "refinement_rate": None}
    assert benchmark["refine"]["hallucination_rate"] is None and "cross_language_gap" not in scores

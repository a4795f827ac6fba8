"""Convert QuixBugs (github.com/jkoppel/QuixBugs, MIT) bugs into debugging tasks (docs/tasks.md).

Each chosen program becomes a Python task, a Java task, or both: its buggy version, its correct
version as the `fix`, and tests written from QuixBugs' JSON test cases (HumanEval's `check` in
Python, asserts in a Java `main`). The description is the docstring of QuixBugs' Python version.
Programs are chosen, not sampled: ones whose tests run fast and compare plain values (no
generators, no floats; not levenshtein, whose correct version is exponential on its tests).

    git clone https://github.com/jkoppel/QuixBugs /tmp/quixbugs
    .venv/bin/python scripts/quixbugs_tasks.py /tmp/quixbugs --commit <sha> > data/tasks/quixbugs.jsonl
"""

from __future__ import annotations

import argparse
import ast
import json
import re
from pathlib import Path

PYTHON = (
    "gcd",
    "bitcount",
    "is_valid_parenthesization",
    "to_base",
    "find_in_sorted",
    "find_first_in_sorted",
    "max_sublist_sum",
    "lis",
    "lcs_length",
    "get_factors",
    "sieve",
    "pascal",
    "possible_change",
)
# Java class -> (method, parameter types, return type): the types the test literals are written in.
JAVA = {
    "GCD": ("gcd", ("int", "int"), "int"),
    "BITCOUNT": ("bitcount", ("int",), "int"),
    "IS_VALID_PARENTHESIZATION": ("is_valid_parenthesization", ("String",), "Boolean"),
    "TO_BASE": ("to_base", ("int", "int"), "String"),
    "FIND_IN_SORTED": ("find_in_sorted", ("int[]", "int"), "int"),
    "MAX_SUBLIST_SUM": ("max_sublist_sum", ("int[]",), "int"),
    "LIS": ("lis", ("int[]",), "int"),
    "GET_FACTORS": ("get_factors", ("int",), "ArrayList<Integer>"),
}
REPOSITORY = "https://github.com/jkoppel/QuixBugs/blob"


def python_task(root: Path, name: str, commit: str) -> dict:
    buggy = (root / "python_programs" / f"{name}.py").read_text()
    code, description = _code_and_docstring(buggy)
    signature = next(line for line in code.splitlines() if line.startswith(f"def {name}("))
    checks = "\n".join(
        f"    assert candidate({', '.join(map(repr, args))}) == {expected!r}" for args, expected in _cases(root, name)
    )
    fix, _ = _code_and_docstring((root / "correct_python_programs" / f"{name}.py").read_text())
    return {
        "id": f"quixbugs/python/{name}",
        "language": "python",
        "prompt": f"Write the Python function `{signature.removesuffix(':')}`.\n\n{description}",
        "entry_point": name,
        "test": f"def check(candidate):\n{checks}\n",
        "buggy_code": code,
        "fix": fix,
        "source": f"{REPOSITORY}/{commit}/python_programs/{name}.py",
    }


def java_task(root: Path, cls: str, commit: str) -> dict:
    method, parameters, returns = JAVA[cls]
    _, description = _code_and_docstring((root / "python_programs" / f"{method}.py").read_text())
    signature = f"public static {returns} {method}({', '.join(parameters)})"
    asserts = "\n".join(
        f"        assert {_java_check(f'{cls}.{method}({_java_args(args, parameters)})', expected, returns)};"
        for args, expected in _cases(root, method)
    )
    return {
        "id": f"quixbugs/java/{cls}",
        "language": "java",
        "prompt": f"Write the Java class `public class {cls}` with `{signature}`.\n\n{description}",
        "entry_point": method,
        "test": f"class Tests {{\n    public static void main(String[] args) {{\n{asserts}\n    }}\n}}\n",
        "buggy_code": _without_package((root / "java_programs" / f"{cls}.java").read_text()),
        "fix": _without_package((root / "correct_java_programs" / f"{cls}.java").read_text()),
        "source": f"{REPOSITORY}/{commit}/java_programs/{cls}.java",
    }


def _cases(root: Path, name: str) -> list[tuple[list, object]]:
    lines = (root / "json_testcases" / f"{name}.json").read_text().splitlines()
    return [tuple(json.loads(line)) for line in lines if line.strip()]


def _code_and_docstring(source: str) -> tuple[str, str]:
    """A QuixBugs Python file's code without its module-level string, and that string (its description)."""
    module = ast.parse(source)
    docstrings = [node for node in module.body if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)]
    lines = source.splitlines(keepends=True)
    for node in reversed(docstrings):
        del lines[node.lineno - 1 : node.end_lineno]
    description = "\n".join(node.value.value.strip() for node in docstrings)
    return "".join(lines).strip() + "\n", description


def _without_package(source: str) -> str:
    return re.sub(r"^package [\w.]+;\n", "", source, flags=re.MULTILINE)


def _java_args(args: list, parameters: tuple[str, ...]) -> str:
    return ", ".join(_java_value(value, kind) for value, kind in zip(args, parameters, strict=True))


def _java_value(value: object, kind: str) -> str:
    if kind == "int[]":
        return f"new int[] {{{', '.join(map(str, value))}}}"
    if kind == "ArrayList<Integer>":
        return f"new java.util.ArrayList<Integer>(java.util.List.of({', '.join(map(str, value))}))"
    return json.dumps(value)  # int, String, Boolean: JSON's literals are Java's


def _java_check(call: str, expected: object, returns: str) -> str:
    if returns == "int":
        return f"{call} == {expected}"
    return f"{call}.equals({_java_value(expected, returns)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("quixbugs", type=Path, help="a checkout of github.com/jkoppel/QuixBugs")
    parser.add_argument("--commit", required=True, help="the checkout's commit, for the `source` URLs")
    args = parser.parse_args()
    tasks = [python_task(args.quixbugs, name, args.commit) for name in PYTHON]
    tasks += [java_task(args.quixbugs, cls, args.commit) for cls in JAVA]
    for task in tasks:
        print(json.dumps(task, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""An instruct model's code as what the tests should run: the completion the prompt expects.

`execution.build_job` appends a completion to a completion-style prompt. Instruct models
restate the whole function (or, in Java, the whole class) instead of continuing it, and often
add demo code (prints, asserts, a `__main__` block).
- Python: a restated function replaces the prompt's, so the code stays whole, less its
  module-level demo code when the tests call functions (not for stdin programs): only imports,
  definitions and assignments that call none of the code's own functions remain, as
  EvalPlus's sanitizer does for chat models. Code that does not parse is left as it is.
- Java, C++, JavaScript: MultiPL-E's prompt opens the function, so only its body may follow,
  and its closing brace where the test program does not bring one (JavaScript's). The body of
  the entry point's definition is cut out of the code; code that does not define the entry
  point is taken as a continuation and cut at the problem's stop tokens, as MultiPL-E's own
  harness does. Helpers the model defines beside the entry point are lost.
"""

from __future__ import annotations

import ast
import re

from ledex.generation import truncate_at_stop
from ledex.problems import Problem

BRACE_LANGUAGES = ("java", "cpp", "js")


def completion_for(problem: Problem, code: str) -> str:
    """What `build_job` should take (appended to the prompt when completion-style) for `code`."""
    if problem.language == "python":
        return code if problem.io_cases else without_demo_code(code)
    if not problem.completion_style:
        return code
    body = function_body(code, problem.entry_point) if problem.entry_point else None
    if body is None:
        return truncate_at_stop(code, problem.stop_tokens)
    closes_function = problem.test_program.lstrip().startswith("}")
    return body.rstrip() + ("\n" if closes_function else "\n}\n")


def without_demo_code(code: str) -> str:
    """Python `code` keeping only imports, definitions and assignments that call none of its functions."""
    try:
        module = ast.parse(code)
    except SyntaxError:
        return code
    defined = {node.name for node in module.body if isinstance(node, _DEFINITIONS)}
    lines = code.splitlines(keepends=True)
    kept = [
        "".join(lines[_first_line(node) - 1 : node.end_lineno])
        for node in module.body
        if isinstance(node, (ast.Import, ast.ImportFrom, *_DEFINITIONS))
        or (isinstance(node, (ast.Assign, ast.AnnAssign)) and not _calls(node, defined))
    ]
    return "".join(part if part.endswith("\n") else part + "\n" for part in kept)


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _first_line(node: ast.stmt) -> int:
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])


def _calls(node: ast.stmt, names: set[str]) -> bool:
    return any(
        isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in names
        for call in ast.walk(node)
    )


def function_body(code: str, name: str) -> str | None:
    """The text between the braces of the first definition of `name` in C-like `code`, or None."""
    for call in re.finditer(rf"\b{re.escape(name)}\s*\(", code):
        after_parameters = _matching(code, call.end() - 1, "(", ")")
        if after_parameters is None:
            return None
        opening = re.compile(r"\s*(?:throws\s+[\w.,\s]+?)?\s*\{").match(code, after_parameters)
        if opening is None:  # a call or a declaration, not the definition
            continue
        closing = _matching(code, opening.end() - 1, "{", "}")
        return code[opening.end() : (closing - 1) if closing else len(code)]
    return None


def _matching(code: str, start: int, open_char: str, close_char: str) -> int | None:
    """The index just past the bracket closing the one at `start`, skipping strings and comments."""
    depth = 0
    i = start
    while i < len(code):
        char = code[i]
        if code.startswith("//", i):
            i = _end_of(code, "\n", i)
            continue
        if code.startswith("/*", i):
            i = _end_of(code, "*/", i + 2)
            continue
        if char in "\"'`":
            i = _end_of_string(code, i)
            continue
        if char == open_char:
            depth += 1
        elif char == close_char:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _end_of(code: str, terminator: str, start: int) -> int:
    end = code.find(terminator, start)
    return len(code) if end == -1 else end + len(terminator)


def _end_of_string(code: str, start: int) -> int:
    quote = code[start]
    i = start + 1
    while i < len(code) and code[i] != quote:
        i += 2 if code[i] == "\\" else 1
    return i + 1

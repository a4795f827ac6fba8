"""Just enough of C++, Java and JavaScript source structure to split a test program from the code under test.

Strings, character literals and comments are masked (same length, spaces), so braces,
parentheses and keywords are found only in code.
"""

from __future__ import annotations

import re

_MASKED = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|`(?:\\.|[^`\\])*`|//[^\n]*|/\*.*?\*/', re.DOTALL)
_PAIRS = {"(": ")", "{": "}", "[": "]"}


def masked(source: str) -> str:
    """`source` with literals and comments blanked out (newlines kept)."""
    return _MASKED.sub(lambda match: re.sub(r"[^\n]", " ", match.group()), source)


def closing(code: str, start: int) -> int:
    """The index of the bracket closing the one at `code[start]` (in masked code); -1 if none."""
    opener, depth = code[start], 0
    for index in range(start, len(code)):
        if code[index] == opener:
            depth += 1
        elif code[index] == _PAIRS[opener]:
            depth -= 1
            if depth == 0:
                return index
    return -1


def top_level(code: str, pattern: re.Pattern, start: int = 0, end: int | None = None) -> list[re.Match]:
    """Matches of `pattern` in masked `code[start:end]` outside any bracket opened in that span."""
    end = len(code) if end is None else end
    depth, found = 0, []
    index = start
    while index < end:
        if depth == 0:
            match = pattern.match(code, index, end)
            if match and match.end() > index:
                found.append(match)
        char = code[index]
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        index += 1
    return found


def function_body(code: str, header: re.Pattern) -> tuple[re.Match, int, int] | None:
    """The first match of `header` (ending at an opening brace) and its body's span (braces excluded)."""
    match = header.search(code)
    if match is None:
        return None
    brace = code.index("{", match.end() - 1)
    end = closing(code, brace)
    return None if end < 0 else (match, brace + 1, end)

"""APPS (Hendrycks et al., 2021): programming problems tested through stdin/stdout or calls.

`input_output` (a JSON string) holds `inputs` and `outputs`; with `fn_name` the problem is
call-based: each input is an argument list for that function (a method of `Solution` when
the starter code declares that class), otherwise each input is a program's standard input.
"""

from __future__ import annotations

import json

from ledex.problems.record import Problem
from ledex.problems.sources import SourceRow

# The prompt format of the APPS paper's generation script.
PROMPT_TEMPLATE = "\nQUESTION:\n{question}\n{starter_code}\n\nUse {test_format} format\nANSWER:\n"

# The imports APPS's harness puts before every program, less its third-party `numpy`.
PREAMBLE = """\
import sys
import time
import itertools
from itertools import accumulate, product, permutations, combinations
import collections
from collections import Counter, OrderedDict, deque, defaultdict, ChainMap
from functools import lru_cache
import math
from math import sqrt, sin, cos, tan, ceil, fabs, floor, gcd, exp, log, log2
import fractions
from typing import List, Tuple
import random
import heapq
from heapq import *
"""

# APPS's own comparison for call-based tests: tuples compare as lists, and an expected value
# may come wrapped in a one-item list.
_CALL_BASED_SETUP = """\
def matches_expected(actual, expected):
    if isinstance(actual, tuple):
        actual = list(actual)
    return actual == expected or (isinstance(expected, list) and expected != [] and actual == expected[0])
"""


def to_problem(row: SourceRow, benchmark: str) -> Problem:
    fields = row.data
    tests = _json_field(fields, "input_output") or {}
    solutions = _json_field(fields, "solutions") or []
    inputs, outputs = tests.get("inputs", []), tests.get("outputs", [])
    if len(inputs) != len(outputs):
        raise ValueError(f"input_output has {len(inputs)} inputs but {len(outputs)} outputs")
    function = tests.get("fn_name")
    if function:
        test_setup, test_cases = _call_cases(function, fields["starter_code"], inputs, outputs)
        io_cases = ()
    else:
        test_setup, test_cases = "", ()
        io_cases = tuple((_text(stdin), _text(stdout)) for stdin, stdout in zip(inputs, outputs))
    prompt = PROMPT_TEMPLATE.format(
        question=fields["question"],
        starter_code=fields["starter_code"],
        test_format="Call-Based" if function else "Standard Input",
    )
    return Problem(
        id=f"apps/{fields['problem_id']}",
        benchmark=benchmark,
        language="python",
        prompt=prompt,
        entry_point=function,
        test_program="",
        test_cases=test_cases,
        test_setup=test_setup,
        io_cases=io_cases,
        canonical_solution=solutions[0] if solutions else None,
        completion_style=False,
        preamble=PREAMBLE,
        split=row.split,
        source=row.location,
    )


def _json_field(fields: dict, name: str):
    """The value of a field holding JSON text; None when the text is empty."""
    if not fields[name]:
        return None
    try:
        return json.loads(fields[name])
    except json.JSONDecodeError as error:
        raise ValueError(f"{name} is not valid JSON ({error})") from None


def _call_cases(function: str, starter_code: str, inputs: list, outputs: list) -> tuple[str, tuple[str, ...]]:
    """Setup binding `candidate` to the function under test, and one assert per call."""
    callee = f"Solution().{function}" if "class Solution" in starter_code else function
    setup = f"{_CALL_BASED_SETUP}\ncandidate = {callee}\n"
    cases = tuple(
        f"assert matches_expected(candidate(*{arguments!r}), {expected!r})"
        for arguments, expected in zip(inputs, outputs)
    )
    return setup, cases


def _text(value: str | list) -> str:
    """A standard input or output; APPS sometimes gives one as a list of lines."""
    return value if isinstance(value, str) else "\n".join(map(str, value))

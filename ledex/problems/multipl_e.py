"""MultiPL-E (Cassano et al., 2023): HumanEval and MBPP translated to Java, C++ and JavaScript.

Evaluation only: the MultiPL-E repository's licence forbids using it as training data.
"""

from __future__ import annotations

import re

from ledex.problems.record import Problem
from ledex.problems.sources import SourceRow

LANGUAGES = ("java", "cpp", "js")

_CALLED_NAME = re.compile(r"(\w+)\s*\(")


def to_problem(row: SourceRow, benchmark: str) -> Problem:
    fields = row.data
    language = fields["language"]
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {LANGUAGES}")
    prompt = fields["prompt"]
    return Problem(
        id=fields["name"],
        benchmark=benchmark,
        language=language,
        prompt=prompt,
        entry_point=signature_name(prompt),
        test_program=fields["tests"],
        stop_tokens=tuple(fields["stop_tokens"]),
        split=row.split,
        evaluation_only=True,
        source=row.location,
    )


def signature_name(prompt: str) -> str:
    """The function the prompt opens, named on its last line (the name in the row's `name`
    field is not always it: C++ renames HumanEval_23_strlen to string_length)."""
    signature = prompt.rstrip().splitlines()[-1]
    match = _CALLED_NAME.search(signature)
    if match is None:
        raise ValueError(f"the prompt's last line is not a function signature: {signature!r}")
    return match.group(1)

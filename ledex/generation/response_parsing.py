"""Split a model's answer into its explanation and its code, surviving formatting drift.

Handles fenced code (a fence opens at the start of a line, with or without a language tag; an
unclosed last fence runs to the end), several blocks (for Python the last one that parses wins,
for other languages the longest), and unfenced code after prose. `fenced_code` is the same rule
for text that may or may not be fenced (a benchmark's samples), so the project has one parser.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_FENCE = re.compile(r"^```[ \t]*([\w+#-]*)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.MULTILINE)
_CODE_START = {
    "python": re.compile(r"^(def |class |import |from |@)", re.MULTILINE),
    "java": re.compile(r"^\s*(import |public |class |static )", re.MULTILINE),
    "cpp": re.compile(r"^\s*(#include|using |int |bool |std::|long |float |double |void |template)", re.MULTILINE),
    "js": re.compile(r"^\s*(function |const |let |var |class )", re.MULTILINE),
}
_EXPLANATION_LABEL = re.compile(r"^\s*\**\s*explanation\s*\**\s*:?\s*\**\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedAnswer:
    explanation: str
    code: str | None  # None: no code could be found

    @property
    def parsed(self) -> bool:
        return self.code is not None


def parse_answer(text: str, language: str = "python") -> ParsedAnswer:
    blocks = list(_FENCE.finditer(text))
    if blocks:
        chosen = _pick_block(blocks, language)
        explanation = text[: chosen.start()]
        return ParsedAnswer(_clean_explanation(explanation), chosen.group(2).strip("\n") or None)
    start = _CODE_START[language].search(text)
    if start is None:
        return ParsedAnswer(_clean_explanation(text), None)
    return ParsedAnswer(_clean_explanation(text[: start.start()]), text[start.start() :].strip("\n"))


def fenced_code(text: str, language: str = "python") -> str | None:
    """The code of the chosen fenced block, as it stands between the fences; None when there is none."""
    blocks = list(_FENCE.finditer(text))
    return _pick_block(blocks, language).group(2) if blocks else None


def extract_code(text: str, language: str = "python") -> str:
    """The code of an answer, or the whole text when nothing looks like code."""
    code = parse_answer(text, language).code
    return text if code is None else code


def _pick_block(blocks: list[re.Match], language: str) -> re.Match:
    if language != "python":
        return max(blocks, key=lambda block: len(block.group(2)))
    for block in reversed(blocks):
        if _is_python(block.group(2)):
            return block
    return blocks[-1]


def _is_python(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def _clean_explanation(text: str) -> str:
    return _EXPLANATION_LABEL.sub("", text.strip(), count=1).strip()

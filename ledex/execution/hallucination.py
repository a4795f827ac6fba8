"""Failures caused by code that calls what does not exist: a hallucinated name, attribute or module.

Read off the sandbox's error text in each language:
- name: Python NameError, Java "cannot find symbol" (unqualified), C++ "was not declared" /
  "undeclared identifier", JavaScript ReferenceError;
- attribute: Python AttributeError on a module, class or object (not None), Java "cannot find
  symbol" of a qualified member, C++ "no member named" / "is not a member of",
  JavaScript "x.y is not a function";
- module: Python ImportError / ModuleNotFoundError, Java "package ... does not exist", C++ a
  missing #include file, JavaScript "Cannot find module".
A NameError on the problem's own entry point is not a hallucination: the model did not define
the function the tests call.
"""

from __future__ import annotations

import re

from sandbox import Verdict

NAME, ATTRIBUTE, MODULE = "name", "attribute", "module"
CATEGORIES = (NAME, ATTRIBUTE, MODULE)

_PYTHON = (
    (MODULE, re.compile(r"^(?:ModuleNotFoundError|ImportError): ", re.MULTILINE)),
    (ATTRIBUTE, re.compile(r"^AttributeError: (?!'NoneType' object)", re.MULTILINE)),
    (NAME, re.compile(r"^NameError: .*?'(?P<name>\w+)'", re.MULTILINE)),
)
_CPP = (
    (MODULE, re.compile(r"fatal error: .*: No such file or directory")),
    (ATTRIBUTE, re.compile(r"error: .*(?:no member named|is not a member of)")),  # g++, clang
    (NAME, re.compile(r"error: (?:[‘'](?P<name>\w+)[’'] was not declared|use of undeclared identifier)")),
)
_JS = (
    (MODULE, re.compile(r"Error: Cannot find module")),
    (ATTRIBUTE, re.compile(r"TypeError: \S+\.\w+ is not a function")),
    (NAME, re.compile(r"ReferenceError: (?P<name>\w+) is not defined")),
)
_JAVA_MODULE = re.compile(r"error: package \S+ does not exist")
# javac: "cannot find symbol", the offending line, a caret under the symbol, then "symbol: kind name"
_JAVA_SYMBOL = re.compile(
    r"error: cannot find symbol\n(?P<line>[^\n]*)\n[ \t]*\^[^\n]*\n\s*symbol:\s+\w+ (?P<name>\w+)", re.MULTILINE
)


def classify(verdict: Verdict, language: str, entry_point: str | None = None) -> str:
    """The hallucination behind a failed verdict ("name", "attribute", "module"), or "" if none."""
    if verdict.passed:
        return ""
    texts = [verdict.message, *(test.message for test in verdict.tests if not test.passed)]
    for text in texts:
        category = _classify_text(text, language, entry_point)
        if category:
            return category
    return ""


def _classify_text(text: str, language: str, entry_point: str | None) -> str:
    if language == "java":
        return _classify_java(text, entry_point)
    patterns = {"python": _PYTHON, "cpp": _CPP, "js": _JS}[language]
    for category, pattern in patterns:
        match = pattern.search(text)
        if match and not (category == NAME and match.groupdict().get("name") == entry_point):
            return category
    return ""


def _classify_java(text: str, entry_point: str | None) -> str:
    if _JAVA_MODULE.search(text):
        return MODULE
    for match in _JAVA_SYMBOL.finditer(text):
        name = match.group("name")
        if re.search(rf"\.\s*{re.escape(name)}\b", match.group("line")):
            return ATTRIBUTE
        if name != entry_point:
            return NAME
    return ""

"""The line diff of the wrong code and the model's refinement, as the item page shows it."""

from __future__ import annotations

import difflib
import enum


class Change(str, enum.Enum):
    """A diff line's kind, also its CSS class."""

    HUNK = "hunk"
    REMOVED = "removed"
    ADDED = "added"
    KEPT = "kept"


MARKS = {"@": Change.HUNK, "-": Change.REMOVED, "+": Change.ADDED, " ": Change.KEPT}


def code_diff(before: str, after: str, context: int = 3) -> list[tuple[Change, str]]:
    """Unified-diff lines (without the file header), each with its kind; the template escapes them.

    >>> code_diff("a\\nb\\n", "a\\nc\\n")
    [(<Change.HUNK: 'hunk'>, '@@ -1,2 +1,2 @@'), (<Change.KEPT: 'kept'>, ' a'), \
(<Change.REMOVED: 'removed'>, '-b'), (<Change.ADDED: 'added'>, '+c')]
    """
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=context)
    return [(MARKS[line[0]], line) for line in list(lines)[2:]]

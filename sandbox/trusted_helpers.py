"""The benchmark's own helper code in a Python prompt, for `Job.trusted_helpers`."""

from __future__ import annotations

import ast


def prompt_helpers(prompt: str, entry_point: str) -> str:
    """The top-level statements of `prompt` (imports, helper functions, constants) except the
    definition of `entry_point`, the function the completion writes; "" if `prompt` does not
    parse.

    >>> prompt_helpers("import math\\n\\ndef helper():\\n    return 1\\n\\ndef f(x):\\n    '''doc'''\\n", "f")
    'import math\\ndef helper():\\n    return 1'
    """
    try:
        module = ast.parse(prompt)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""
    kept = [
        ast.get_source_segment(prompt, node)
        for node in module.body
        if not (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry_point)
    ]
    return "\n".join(segment for segment in kept if segment)

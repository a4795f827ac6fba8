"""Comparisons and truth tests in test code, checked so that failures say what went wrong.

Test code (setup, test cases, test programs) runs in the trusted driver, on values the
program's process returned as plain data (see `plain_data.py`). It is rewritten before it runs:

- `assert left OP right` becomes a strict comparison that, when it does not hold, raises an
  AssertionError showing the source and both values (actual and expected where one side is
  a literal);
- every other comparison becomes a strict comparison returning a real bool (`is` and
  `is not` stay);
- truth tests (`assert`, `if`, `while`, `not`, `and`/`or` operands, conditional
  expressions, comprehension filters) accept only values of trusted types.

A value is trusted when its exact type (not a subclass) is a built-in value type, or a
built-in container whose contents are trusted, recursively. A `Handle` (a value the program
kept in its process) has only a truth value; comparing it fails with a message naming the
program's type. Instances of classes the test itself defines are not trusted either; such
tests must compare built-in values.

The helpers reach the test as arguments of a wrapper function, so test code holds them in
local variables and closure cells.
"""

from __future__ import annotations

import ast
import collections
import functools
import importlib
import operator
import re
from collections.abc import Callable
from types import CodeType
from typing import NamedTuple

from .plain_data import Handle
from .text import truncate

TEST_FUNCTION = "_ledex_test"
HELPER_NAMES = (
    "_ledex_compare",
    "_ledex_chain",
    "_ledex_truth",
    "_ledex_checked",
    "_ledex_expect",
    "_ledex_expect_compare",
    "_ledex_import_star",
)

# re.Match is a C type that cannot be subclassed or patched; its truth value is always True.
TRUSTED_SCALARS = (type(None), bool, int, float, complex, str, bytes, bytearray, range, type, re.Match)
TRUSTED_SEQUENCES = (list, tuple, set, frozenset, collections.deque)
TRUSTED_MAPPINGS = (dict, collections.OrderedDict, collections.defaultdict)
# Value types of these modules are trusted when the tests import the module (then it is
# imported before the program runs, so the types are the genuine ones); importing them for
# every job would make each fork slower.
TRUSTED_MODULE_SCALARS = {"decimal": ("Decimal",), "datetime": ("date", "time", "datetime", "timedelta")}

_SYMBOLS = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip
_IDENTITY = ("is", "is not")
_TRUSTED_KINDS = "built-in values (None, bool, int, float, str, bytes, list, tuple, dict, set, ...)"
_VALUE_REPR_LIMIT = 500


class CompiledTest(NamedTuple):
    code: CodeType  # a module defining TEST_FUNCTION(*HELPER_NAMES)
    imports: frozenset[str]  # modules the test imports
    names: frozenset[str]  # every name and attribute name the test mentions


@functools.lru_cache(maxsize=256)
def compile_test(source: str, filename: str) -> CompiledTest:
    """Rewrite test code and compile it as the body of `TEST_FUNCTION(*HELPER_NAMES)`.

    Names the test binds at its top level are declared global, so they land in the shared
    namespace as they would had the code run as a module. Results are cached: the same
    tests usually run against many samples.
    """
    rewriter = _StrictRewriter(source)
    module = rewriter.visit(ast.parse(source, filename))
    statements = [_without_annotation(statement) for statement in module.body if not isinstance(statement, ast.Global)]
    statements = [statement for statement in statements if statement is not None] or [ast.Pass(**_START)]
    bound = _TopLevelBindings.of(statements) - set(HELPER_NAMES)
    if bound:
        statements.insert(0, ast.Global(names=sorted(bound), **_START))
    function = ast.FunctionDef(
        name=TEST_FUNCTION,
        args=_arguments([ast.arg(arg=name, **_START) for name in HELPER_NAMES]),
        body=statements,
        decorator_list=[],
        returns=None,
        type_comment=None,
        **_START,
    )
    code = compile(ast.Module(body=[function], type_ignores=[]), filename, "exec", dont_inherit=True)
    return CompiledTest(code, frozenset(rewriter.imports), frozenset(rewriter.names))


def make_helpers(namespace: dict, test_imports: frozenset[str]) -> tuple[Callable, ...]:
    """The functions rewritten test code calls, in `HELPER_NAMES` order.

    Everything they use is bound here, before the program runs, so patching builtins or
    modules later does not reach them. `namespace` receives star imports.
    """
    scalars = list(TRUSTED_SCALARS)
    for module_name in test_imports & TRUSTED_MODULE_SCALARS.keys():
        module = importlib.import_module(module_name)
        scalars += [getattr(module, name) for name in TRUSTED_MODULE_SCALARS[module_name]]
    type_, id_, bool_, str_, repr_, zip_, vars_, getattr_ = type, id, bool, str, repr, zip, vars, getattr
    assertion_error, base_exception = AssertionError, BaseException
    keys, values, items, dict_ = dict.keys, dict.values, dict.items, dict
    counter, handle = collections.Counter, Handle  # held here, so their identities cannot be reused
    import_module, shorten = importlib.import_module, truncate
    eq, ne, lt, le, gt, ge, contains = (
        operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge, operator.contains,
    )  # fmt: skip
    operations = {
        "==": eq, "!=": ne, "<": lt, "<=": le, ">": gt, ">=": ge,
        "in": lambda item, container: contains(container, item),
        "not in": lambda item, container: not contains(container, item),
    }  # fmt: skip
    # Types are looked up by id, since a metaclass can make a class compare equal to `int`;
    # the dicts' values keep the types alive, so that no other object can take their ids.
    scalar_ids = {id(kind): kind for kind in scalars}
    mapping_ids = {id(kind): kind for kind in TRUSTED_MAPPINGS}
    container_ids = {id(kind): kind for kind in TRUSTED_SEQUENCES + TRUSTED_MAPPINGS}
    trusted = object()

    def untrusted_part(value: object) -> object:
        """The first value inside `value` of an untrusted type, or `trusted`."""
        pending, seen = [value], set()
        while pending:
            item = pending.pop()
            kind = id_(type_(item))
            if kind in scalar_ids:
                continue
            if kind not in container_ids:
                return item
            if id_(item) not in seen:
                seen.add(id_(item))
                if kind in mapping_ids:
                    pending += keys(item)
                    pending += values(item)
                else:
                    pending += item
        return trusted

    def describe_untrusted(value: object, use: str) -> str:
        try:
            name = value.type_name if type_(value) is handle else str_(type_(value).__qualname__)
        except base_exception:
            name = "unnamed type"
        return f"a value of type {name}; tests only trust {use} of {_TRUSTED_KINDS}"

    def value_repr(value: object) -> str:
        return shorten(repr_(value), _VALUE_REPR_LIMIT)

    def plain(value: object) -> object:
        """An exact Counter (a Python class, so patchable) compares as the dict it holds,
        read through dict's own C methods; like `Counter == dict` does, zero counts count."""
        return dict_(items(value)) if type_(value) is counter else value

    def compare(symbol: str, left: object, right: object) -> bool:
        if symbol == "is":
            return left is right
        if symbol == "is not":
            return left is not right
        left, right = plain(left), plain(right)
        for operand in (left, right):
            part = untrusted_part(operand)
            if part is not trusted:
                raise assertion_error(f"comparison with {describe_untrusted(part, 'comparisons')}")
        return bool_(operations[symbol](left, right))

    def chain(left: object, symbols: tuple[str, ...], operands: tuple[Callable[[], object], ...]) -> bool:
        for symbol, operand in zip_(symbols, operands):
            right = operand()
            if not compare(symbol, left, right):
                return False
            left = right
        return True

    def checked(value: object) -> object:
        kind = id_(type_(value))
        if kind in scalar_ids or kind in container_ids or kind == id_(handle):
            return value
        raise assertion_error(f"truth test of {describe_untrusted(value, 'the truth value')}")

    def truth(value: object) -> bool:
        return bool_(checked(value))

    def failure(source: str, message: Callable[[], object] | None, details: str = "") -> AssertionError:
        text = f"assert {source}{details}"
        if message is not None:
            text += f"\n  message: {message()}"
        return assertion_error(text)

    def expect(value: object, source: str, message: Callable[[], object] | None) -> None:
        if not truth(value):
            raise failure(source, message)

    def expect_compare(left, symbol, right, source, labels, message) -> None:
        left, right = plain(left), plain(right)
        for label, operand in zip_(labels, (left, right)):
            part = untrusted_part(operand)
            if part is not trusted:
                raise failure(source, message, f"\n  {label}: {describe_untrusted(part, 'comparisons')}")
        if not bool_(operations[symbol](left, right)):
            details = f"\n  {labels[0]}: {value_repr(left)}\n  {labels[1]}: {value_repr(right)}"
            raise failure(source, message, details)

    def import_star(module_name: str) -> None:
        module = import_module(module_name)
        names = getattr_(module, "__all__", None)
        if names is None:
            names = [name for name in vars_(module) if not name.startswith("_")]
        for name in names:
            namespace[name] = getattr_(module, name)

    return compare, chain, truth, checked, expect, expect_compare, import_star


_START = {"lineno": 1, "col_offset": 0}


def _at(node: ast.AST, origin: ast.AST) -> ast.AST:
    """`node`, a new node, placed where `origin` is in the source (cheaper than fixing
    locations over the whole tree)."""
    node.lineno, node.col_offset = origin.lineno, origin.col_offset
    node.end_lineno, node.end_col_offset = origin.end_lineno, origin.end_col_offset
    return node


def _call(helper: str, origin: ast.AST, *args: ast.expr) -> ast.Call:
    return _at(ast.Call(func=_at(ast.Name(id=helper, ctx=ast.Load()), origin), args=list(args), keywords=[]), origin)


def _constant(value: object, origin: ast.AST) -> ast.Constant:
    return _at(ast.Constant(value=value), origin)


def _arguments(args: list[ast.arg]) -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=args, kwonlyargs=[], kw_defaults=[], defaults=[])


def _thunk(expression: ast.expr) -> ast.Lambda:
    return _at(ast.Lambda(args=_arguments([]), body=expression), expression)


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except Exception:
        return False
    return True


def _labels(left: ast.expr, right: ast.expr) -> tuple[str, str]:
    """How to name the two sides of a failed comparison in its message."""
    if _is_literal(right) and not _is_literal(left):
        return ("actual", "expected")
    if _is_literal(left) and not _is_literal(right):
        return ("expected", "actual")
    return ("left", "right")


class _StrictRewriter(ast.NodeTransformer):
    def __init__(self, source: str) -> None:
        self._lines = source.encode().splitlines(keepends=True)  # column offsets count UTF-8 bytes
        self.imports: set[str] = set()
        self.names: set[str] = set()

    def source_of(self, node: ast.expr) -> str:
        """The source text of `node` (ast.get_source_segment re-splits the source per call)."""
        lines = self._lines[node.lineno - 1 : node.end_lineno]
        lines[-1] = lines[-1][: node.end_col_offset]
        lines[0] = lines[0][node.col_offset :]
        return b"".join(lines).decode("utf-8", "replace")

    def visit_Name(self, node: ast.Name) -> ast.Name:
        self.names.add(node.id)
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.Attribute:
        self.names.add(node.attr)
        node.value = self.visit(node.value)
        return node

    def visit_Assert(self, node: ast.Assert) -> ast.Expr:
        source = self.source_of(node.test)
        message = _thunk(self.visit(node.msg)) if node.msg else _constant(None, node)
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and _SYMBOLS[type(test.ops[0])] not in _IDENTITY:
            left, right = test.left, test.comparators[0]
            call = _call(
                "_ledex_expect_compare",
                node,
                self.visit(left),
                _constant(_SYMBOLS[type(test.ops[0])], node),
                self.visit(right),
                _constant(source, node),
                _constant(_labels(left, right), node),
                message,
            )
        else:
            call = _call("_ledex_expect", node, self.visit(test), _constant(source, node), message)
        return _at(ast.Expr(value=call), node)

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        symbols = tuple(_SYMBOLS[type(op)] for op in node.ops)
        if len(symbols) == 1:
            if symbols[0] in _IDENTITY:
                return node
            return _call("_ledex_compare", node, _constant(symbols[0], node), node.left, node.comparators[0])
        operands = _at(ast.Tuple(elts=[_thunk(operand) for operand in node.comparators], ctx=ast.Load()), node)
        return _call("_ledex_chain", node, node.left, _constant(symbols, node), operands)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.UnaryOp:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            node.operand = _call("_ledex_truth", node.operand, node.operand)
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.BoolOp:
        self.generic_visit(node)
        node.values = [_call("_ledex_checked", value, value) for value in node.values[:-1]] + node.values[-1:]
        return node

    def _visit_test(self, node):
        self.generic_visit(node)
        node.test = _call("_ledex_truth", node.test, node.test)
        return node

    visit_If = visit_While = visit_IfExp = _visit_test

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        self.generic_visit(node)
        node.ifs = [_call("_ledex_truth", condition, condition) for condition in node.ifs]
        return node

    def visit_Import(self, node: ast.Import) -> ast.Import:
        self.imports.update(alias.name for alias in node.names)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.stmt:
        if node.level != 0:
            return node
        self.imports.add(node.module)
        self.names.update(alias.name for alias in node.names)
        if [alias.name for alias in node.names] == ["*"]:
            return _at(ast.Expr(value=_call("_ledex_import_star", node, _constant(node.module, node))), node)
        return node


class _TopLevelBindings(ast.NodeVisitor):
    """Names that statements at module level bind, without looking into nested scopes."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    @classmethod
    def of(cls, statements: list[ast.stmt]) -> set[str]:
        visitor = cls()
        for statement in statements:
            visitor.visit(statement)
        return visitor.names

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            self.names.add(node.id)

    def visit_FunctionDef(self, node) -> None:
        self.names.add(node.name)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        pass

    def visit_Import(self, node) -> None:
        self.names.update(alias.asname or alias.name.partition(".")[0] for alias in node.names if alias.name != "*")

    visit_ImportFrom = visit_Import

    def _visit_capture(self, node) -> None:
        for name in (getattr(node, "name", None), getattr(node, "rest", None)):
            if name:
                self.names.add(name)
        self.generic_visit(node)

    visit_ExceptHandler = visit_MatchAs = visit_MatchStar = visit_MatchMapping = _visit_capture


def _without_annotation(statement: ast.stmt) -> ast.stmt | None:
    """Annotated names cannot be declared global; keep only the assignment."""
    if not isinstance(statement, ast.AnnAssign):
        return statement
    if statement.value is None:
        return None
    return ast.copy_location(ast.Assign(targets=[statement.target], value=statement.value), statement)

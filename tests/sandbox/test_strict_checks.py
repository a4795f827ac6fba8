"""The rewritten comparisons and truth tests, run in this process (no sandbox needed)."""

from __future__ import annotations

import pytest

from sandbox.harness.strict_checks import (
    TEST_FUNCTION,
    TRUSTED_MAPPINGS,
    TRUSTED_SCALARS,
    TRUSTED_SEQUENCES,
    compile_test,
    make_helpers,
)

FAKES = """
class AlwaysEqual:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __hash__(self): return 0

class Truthy:
    def __bool__(self): return True

class SneakyInt(int):
    def __eq__(self, other): return True

class EqualMeta(type):
    def __eq__(cls, other): return True
    def __hash__(cls): return hash(int)

class Impostor(metaclass=EqualMeta):
    pass
"""


def run_test(source: str, namespace: dict | None = None) -> dict:
    """Run test code the way the harness does; returns the namespace."""
    namespace = {} if namespace is None else namespace
    compiled = compile_test(source, "test.py")
    scratch: dict = {}
    exec(compiled.code, namespace, scratch)
    scratch[TEST_FUNCTION](*make_helpers(namespace, compiled.imports))
    return namespace


@pytest.fixture
def fakes() -> dict:
    namespace: dict = {}
    exec(FAKES, namespace)
    return namespace


@pytest.mark.parametrize(
    "test",
    [
        "assert 1 + 1 == 2",
        "assert [1, (2, 3.0)] == [1, (2, 3)]",
        "assert {'a': {1, 2}} == {'a': {2, 1}}",
        "assert 1 < 2 <= 2 != 3",
        "assert 'b' in 'abc' and 4 not in [1, 2]",
        "x = []\nassert x is x and x is not None",
        "assert type(3) == int",
        "assert not []",
        "assert [x for x in range(5) if x % 2] == [1, 3]",
        "x = 3 if 0 else 4\nassert x == 4",
    ],
)
def test_builtin_values_compare_as_usual(test):
    run_test(test)


@pytest.mark.parametrize(
    "test",
    [
        "assert 1 + 1 == 3",
        "assert 3 < 2 < 4",
        "assert not [1]",
        "assert 'z' in 'abc'",
    ],
)
def test_false_checks_fail(test):
    with pytest.raises(AssertionError):
        run_test(test)


@pytest.mark.parametrize(
    "test",
    [
        "assert AlwaysEqual() == 3",
        "assert 3 == AlwaysEqual()",
        "assert not AlwaysEqual() != 3",
        "assert AlwaysEqual() < 3",
        "assert 0 < AlwaysEqual() < 3",
        "assert [AlwaysEqual()] == [3]",
        "assert {AlwaysEqual(): 1} == {3: 1}",
        "assert (1, [AlwaysEqual()]) == (1, [3])",
        "assert AlwaysEqual() in [3]",
        "assert SneakyInt(5) == 3",
        "assert Impostor == int",
        "assert Truthy()",
        "assert not not Truthy()",
        "assert Truthy() and True",
        "if Truthy():\n    pass",
    ],
)
def test_untrusted_values_fail_every_check(test, fakes):
    with pytest.raises(AssertionError, match="tests only trust"):
        run_test(test, fakes)


def test_failed_comparison_names_actual_and_expected_values():
    with pytest.raises(AssertionError) as failure:
        run_test("def f(x):\n    return x + 1\nassert f(1) == 3, 'f is off by one'")
    assert str(failure.value) == "assert f(1) == 3\n  actual: 2\n  expected: 3\n  message: f is off by one"


def test_names_bound_at_top_level_land_in_the_namespace():
    source = (
        "import math\nfrom os import path as p\nx: int = 1\nfor i in range(2):\n    pass\n"
        "def f():\n    return x + i\nclass C:\n    pass\ny = f()\n"
    )
    namespace = run_test(source)
    assert {"math", "p", "x", "i", "f", "C", "y"} <= namespace.keys()
    assert namespace["y"] == 2


def test_star_imports_work_in_test_code():
    assert run_test("from math import *\nroot = sqrt(16)")["root"] == 4.0


def test_decimal_and_datetime_are_trusted_when_the_tests_import_them():
    run_test("import decimal\nassert decimal.Decimal('1.5') == decimal.Decimal('1.50')")
    run_test("import datetime\nassert datetime.date(2024, 1, 2) > datetime.date(2024, 1, 1)")


@pytest.mark.parametrize("kind", TRUSTED_SCALARS + TRUSTED_SEQUENCES + TRUSTED_MAPPINGS)
def test_trusted_types_cannot_be_patched(kind):
    with pytest.raises(TypeError):
        kind.__eq__ = lambda self, other: True

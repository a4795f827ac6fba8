# Shadows builtins the tests use, at module level and in builtins itself.
# ruff: noqa (deliberately hostile code)
import builtins

abs = lambda value: 0  # noqa: E731
range = lambda *args: []  # noqa: E731
tuple = list
str = lambda value="": "3"  # noqa: E731
len = lambda value: 2  # noqa: E731
isinstance = lambda *args: True  # noqa: E731
builtins.isinstance = isinstance
builtins.len = len
builtins.abs = abs


def add(a, b):
    return 0


def twice(values):
    return values

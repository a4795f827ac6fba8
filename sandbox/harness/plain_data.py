"""The only values that cross from the untrusted Python program to the trusted driver.

A value is plain data when its exact type (not a subclass) is None, bool, int, float,
complex, str, bytes, list, tuple, dict, set or frozenset, and everything it contains is
plain data. `encode` turns such a value into a tree JSON can carry (containers as lists led
by a tag); `decode` rebuilds it from the driver's own built-in types, so nothing the program
defined survives the trip. An exact Counter, OrderedDict or defaultdict crosses as the plain
dict it holds, and those built-in types themselves cross by name. Any other value crosses as
a `Handle`: an opaque reference the driver may pass back to the program, that fails every
other use (comparison, hashing, iteration, arithmetic) except a truth test, which gives the
truth value the program's process computed (as returning a bool would).

    >>> decode(json.loads(json.dumps(encode({"a": (1, 2.5, None)}))))
    {'a': (1, 2.5, None)}
"""

from __future__ import annotations

import collections
import math

MAX_DEPTH = 100  # deeper values are not plain data (and would exhaust the decoder's stack)
_JSON_SCALARS = frozenset({type(None), bool, int, str})
_TRUTHS = (bool, type(None))  # of a handle: computed in the program's process, or None
_FROM_TEXT = {"F": float, "Y": bytes.fromhex, "C": complex}
# Built-in types themselves cross by name (tests pass them: `remove_datatype(values, int)`).
_TYPES = {
    kind.__name__: kind
    for kind in (type(None), bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset)
}
_CONTAINERS = {list: "L", tuple: "T", set: "E", frozenset: "Z"}
_BUILD = {"L": list, "T": tuple, "E": set, "Z": frozenset}
_DICTS = (dict, collections.Counter, collections.OrderedDict, collections.defaultdict)


class NotPlainData(TypeError):
    """A value, or part of it, is of a type other than the built-in plain-data types."""


class Handle:
    """A reference to a value that stays in the program's process (see the module docstring)."""

    __slots__ = ("index", "truth", "type_name")

    def __init__(self, index: int, type_name: str, truth: bool | None = None) -> None:
        self.index = index
        self.type_name = type_name
        self.truth = truth

    def _refuse(self, *args, **kwargs):
        raise NotPlainData(f"the program returned a value of type {self.type_name}, which is not plain data")

    def __bool__(self) -> bool:
        if self.truth is None:
            self._refuse()
        return self.truth

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __len__ = __iter__ = __hash__ = _refuse
    __contains__ = __getitem__ = __add__ = __sub__ = __mul__ = __abs__ = __neg__ = __index__ = __int__ = _refuse
    __float__ = __str__ = _refuse

    def __repr__(self) -> str:
        return f"<{self.type_name} object in the program's process>"


def encode(value: object, handle_of=None) -> object:
    """A JSON-serialisable tree for `value`. A value that is not plain data is encoded as a
    handle when `handle_of(value) -> int` is given (the program's side), else raises NotPlainData."""
    try:
        return _tagged(value, 0)
    except NotPlainData:
        if handle_of is None:
            raise
        return ["H", handle_of(value), _type_name(value), _truth(value)]


def decode(tree: object) -> object:
    """The value `encode` produced, from the driver's own types (raises ValueError if malformed)."""
    return _untagged(tree, 0)


def _tagged(value: object, depth: int) -> object:
    """JSON's own scalars stand for themselves; every other value is a list led by a tag."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return value
    if kind is float:
        return value if math.isfinite(value) else ["F", repr(value)]
    if depth > MAX_DEPTH:
        raise NotPlainData("the value is nested too deeply")
    if kind in _CONTAINERS:
        return [_CONTAINERS[kind], *[_tagged(item, depth + 1) for item in value]]
    if kind in _DICTS:
        tree = ["D"]
        for key, item in value.items():
            tree += (_tagged(key, depth + 1), _tagged(item, depth + 1))
        return tree
    if kind is bytes:
        return ["Y", value.hex()]
    if kind is complex:
        return ["C", repr(value)]
    if kind is Handle:
        return ["H", value.index, value.type_name, value.truth]
    if kind is type and _TYPES.get(getattr(value, "__name__", None)) is value:
        return ["K", value.__name__]
    raise NotPlainData(f"a value of type {_type_name(value)} is not plain data")


def _untagged(tree: object, depth: int) -> object:
    kind = type(tree)
    if kind in _JSON_SCALARS or kind is float:
        return tree
    if kind is not list or not tree or depth > MAX_DEPTH:
        raise ValueError("malformed plain data")
    tag = tree[0]
    if tag in _BUILD:
        return _BUILD[tag](_untagged(item, depth + 1) for item in tree[1:])
    if tag == "D" and len(tree) % 2 == 1:
        items = [_untagged(item, depth + 1) for item in tree[1:]]
        return dict(zip(items[::2], items[1::2]))
    if len(tree) == 2 and type(tree[1]) is str and tag in _FROM_TEXT:
        return _FROM_TEXT[tag](tree[1])
    if tag == "K" and len(tree) == 2 and tree[1] in _TYPES:
        return _TYPES[tree[1]]
    if tag == "H" and len(tree) == 4 and type(tree[1]) is int and type(tree[2]) is str and type(tree[3]) in _TRUTHS:
        return Handle(tree[1], tree[2], tree[3])
    raise ValueError("malformed plain data")


def _truth(value: object) -> bool | None:
    try:
        return bool(value)
    except Exception:
        return None


def _type_name(value: object) -> str:
    try:
        return str(type(value).__qualname__)
    except Exception:
        return "an unnamed type"

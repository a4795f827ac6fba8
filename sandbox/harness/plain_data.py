"""The only values that cross from the untrusted Python program to the trusted driver.

A value is plain data when its exact type (not a subclass) is None, bool, int, float,
complex, str, bytes, list, tuple, dict, set or frozenset, and everything it contains is
plain data. `encode` turns such a value into JSON text of tagged lists; `decode` rebuilds
it from the driver's own built-in types, so nothing the program defined survives the trip.
An exact Counter, OrderedDict or defaultdict crosses as the plain dict it holds. Any other
value crosses as a `Handle`: an opaque reference the driver may pass back to the program,
that fails every other use (comparison, hashing, iteration, arithmetic) except a truth test,
which gives the truth value the program's process computed (as returning a bool would).

    >>> decode(encode({"a": (1, 2.5, None)}))
    {'a': (1, 2.5, None)}
"""

from __future__ import annotations

import collections
import json
import math

MAX_DEPTH = 100  # deeper values are not plain data (and would exhaust the decoder's stack)
_SCALARS = {type(None): "N", bool: "B", int: "I", str: "S"}
_PLAIN_PAYLOADS = {("N", type(None)), ("B", bool), ("I", int), ("S", str)}
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


def encode(value: object, handle_of=None) -> str:
    """JSON text for `value`. A value that is not plain data is encoded as a handle when
    `handle_of(value) -> int` is given (the program's side), else raises NotPlainData."""
    try:
        return json.dumps(_tagged(value, 0))
    except NotPlainData:
        if handle_of is None:
            raise
        return json.dumps(["H", handle_of(value), _type_name(value), _truth(value)])


def decode(text: str | bytes) -> object:
    """The value `encode` produced (raises ValueError on malformed text)."""
    return _untagged(json.loads(text), 0)


def _tagged(value: object, depth: int) -> object:
    if depth > MAX_DEPTH:
        raise NotPlainData("the value is nested too deeply")
    kind = type(value)
    if kind in _SCALARS:
        return [_SCALARS[kind], value]
    if kind is float:
        return ["F", value if math.isfinite(value) else repr(value)]
    if kind is complex:
        return ["C", repr(value)]
    if kind is bytes:
        return ["Y", value.hex()]
    if kind in _CONTAINERS:
        return [_CONTAINERS[kind], [_tagged(item, depth + 1) for item in value]]
    if kind in _DICTS:
        return ["D", [[_tagged(key, depth + 1), _tagged(item, depth + 1)] for key, item in value.items()]]
    if kind is Handle:
        return ["H", value.index, value.type_name, value.truth]
    raise NotPlainData(f"a value of type {_type_name(value)} is not plain data")


def _untagged(node: object, depth: int) -> object:
    if type(node) is not list or len(node) not in (2, 4) or depth > MAX_DEPTH:
        raise ValueError("malformed plain data")
    tag, payload = node[0], node[1]
    if (tag, type(payload)) in _PLAIN_PAYLOADS:
        return payload
    if tag == "F" and type(payload) in (float, int, str):
        return float(payload)
    if tag == "C" and type(payload) is str:
        return complex(payload)
    if tag == "Y" and type(payload) is str:
        return bytes.fromhex(payload)
    if tag in _BUILD and type(payload) is list:
        return _BUILD[tag](_untagged(item, depth + 1) for item in payload)
    if tag == "D" and type(payload) is list:
        pairs = [item for item in payload if type(item) is list and len(item) == 2]
        if len(pairs) != len(payload):
            raise ValueError("malformed plain data")
        return {_untagged(key, depth + 1): _untagged(item, depth + 1) for key, item in pairs}
    if tag == "H" and type(payload) is int and len(node) == 4 and type(node[2]) is str:
        if node[3] is None or type(node[3]) is bool:
            return Handle(payload, node[2], node[3])
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

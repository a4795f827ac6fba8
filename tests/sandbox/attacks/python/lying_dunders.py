# Returns objects whose dunder methods lie in computed expressions, not only in ==.
# ruff: noqa (deliberately hostile code)
class Liar:
    def __eq__(self, other):
        return True

    __ne__ = lambda self, other: False  # noqa: E731
    __sub__ = __rsub__ = __add__ = __radd__ = lambda self, other: 0
    __abs__ = lambda self: 0  # noqa: E731
    __lt__ = __le__ = __gt__ = __ge__ = lambda self, other: True
    __len__ = lambda self: 2  # noqa: E731
    __iter__ = lambda self: iter([2, 4])  # noqa: E731
    __hash__ = lambda self: hash(3)  # noqa: E731
    __bool__ = lambda self: True  # noqa: E731
    __index__ = __int__ = lambda self: 3


class Three(int):
    __eq__ = lambda self, other: True  # noqa: E731
    __hash__ = int.__hash__


def add(a, b):
    return Liar()


def twice(values):
    return [Three(0), Liar()]

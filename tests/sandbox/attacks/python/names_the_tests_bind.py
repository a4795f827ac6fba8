# Defines the names test code binds or calls (check, candidate, assert helpers) so that they do nothing.
# ruff: noqa (deliberately hostile code)
def check(candidate):
    return None


candidate = None
_ledex_expect = _ledex_expect_compare = _ledex_truth = lambda *args, **kwargs: True


def add(a, b):
    return 0


def twice(values):
    return values

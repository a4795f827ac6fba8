"""Sign-in throttling: a key is refused after too many failures within the window, until they age out."""

from __future__ import annotations

from review.throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_refused_until_its_oldest_failure_leaves_the_window():
    clock = Clock()
    throttle = Throttle(max_failures=3, window_s=60, clock=clock)
    for step in range(3):
        assert throttle.retry_after("account:bo") is None
        throttle.fail("account:bo")
        clock.now += 10 * (step < 2)  # failures at 1000, 1010, 1020
    assert throttle.retry_after("account:bo") == 40.0  # the first failure leaves the window at 1060
    assert throttle.retry_after("account:ada") is None  # other keys are not affected
    assert throttle.retry_after("account:ada", "account:bo") == 40.0
    clock.now = 1060.0
    assert throttle.retry_after("account:bo") is None


def test_forgiving_a_key_forgets_its_failures():
    throttle = Throttle(max_failures=1, window_s=60, clock=Clock())
    throttle.fail("account:bo", "client:10.0.0.1")
    throttle.forgive("account:bo")
    assert throttle.retry_after("account:bo") is None and throttle.retry_after("client:10.0.0.1") == 60.0

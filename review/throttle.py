"""Sign-in throttling: too many failed attempts on a key (an account, a client address) within a
sliding window, and further attempts on it are refused until the oldest failure leaves the window.

Counts live in the serving process's memory: a restart forgets them, and several server processes
count apart (the app is served by one). Behind a reverse proxy the client address is the proxy's
unless uvicorn is told to trust its forwarded headers.

    >>> throttle = Throttle(max_failures=2, window_s=60, clock=lambda: 0.0)
    >>> throttle.fail("account:ada"); throttle.fail("account:ada")
    >>> throttle.retry_after("account:ada", "client:10.0.0.1")
    60.0
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class Throttle:
    def __init__(self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self.failures: dict[str, deque[float]] = {}  # key -> times of its failures in the window, oldest first

    def retry_after(self, *keys: str) -> float | None:
        """Seconds until every key may try again; None when none is throttled."""
        self._forget_expired()
        waits = [
            times[-self.max_failures] + self.window_s - self.clock()
            for key in keys
            if len(times := self.failures.get(key, ())) >= self.max_failures
        ]
        return max(waits) if waits else None

    def fail(self, *keys: str) -> None:
        for key in keys:
            self.failures.setdefault(key, deque()).append(self.clock())

    def forgive(self, key: str) -> None:
        """Forget a key's failures (an account after its owner signed in)."""
        self.failures.pop(key, None)

    def _forget_expired(self) -> None:
        horizon = self.clock() - self.window_s
        for key in list(self.failures):
            times = self.failures[key]
            while times and times[0] <= horizon:
                times.popleft()
            if not times:
                del self.failures[key]

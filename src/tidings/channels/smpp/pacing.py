"""Pure pacing helpers with an injected clock: a token bucket and an exponential backoff."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    """At most `rate` acquisitions per second, `burst` of them back to back.

    Implemented as GCRA ("virtual scheduling"): each acquisition reserves the next free slot and
    is told how long to wait for it, so concurrent callers queue fairly without a lock.
    A rate of 0 means unlimited.
    """

    def __init__(self, rate: float, burst: int = 1, clock: Clock = time.monotonic) -> None:
        if rate < 0 or burst < 1:
            raise ValueError("rate must be >= 0 and burst >= 1")
        self._interval = 1.0 / rate if rate else 0.0
        self._burst = burst
        self._clock = clock
        self._tat = clock()  # theoretical arrival time of the next slot

    def reserve(self) -> float:
        """Take the next slot; returns the seconds to wait before using it."""
        if not self._interval:
            return 0.0
        now = self._clock()
        self._tat = max(self._tat, now) + self._interval
        return max(0.0, self._tat - now - self._burst * self._interval)

    async def acquire(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


class Backoff:
    """min, 2·min, 4·min, … capped at max; `reset` after things went well again."""

    def __init__(self, minimum: float, maximum: float) -> None:
        if minimum <= 0 or maximum < minimum:
            raise ValueError("need 0 < minimum <= maximum")
        self._min = minimum
        self._max = maximum
        self._next = minimum

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self._max)
        return delay

    def reset(self) -> None:
        self._next = self._min

    @property
    def current(self) -> float:
        """The delay `next` would return, without advancing."""
        return self._next

"""The guards of one process, in memory: the default, and the Redis guards' fallback."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from tidings.domain.clock import Clock
from tidings.errors import TooManyRequests


class MemoryRateGuard:
    """RateGuard of one process. jobs.php and send.php allow 1 identical request a minute,
    phones.php 3 identical ones, balance.php 10 balance requests (smsc-api.md §1.5).
    """

    def __init__(self, limit: int, window_s: float, description: str, clock: Clock) -> None:
        self._limit = limit
        self._window = window_s
        self._description = description
        self._clock = clock
        self._hits: dict[bytes, deque[float]] = {}
        # Every hit in time order: keys are forgotten as their hits leave the window, a few
        # per request. (Scanning all keys once there were many cost O(keys) per request while
        # they were all still in the window: send.php fell from 2,400 to 340 req/s.)
        self._order: deque[tuple[float, bytes]] = deque()
        self._lock = threading.Lock()

    @contextmanager
    def hit(self, key: bytes) -> Iterator[None]:
        now = self._clock.now().timestamp()
        with self._lock:
            self._forget_until(now - self._window)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self._window:
                hits.popleft()
            if len(hits) >= self._limit:
                raise TooManyRequests(self._description)
            hits.append(now)
            self._order.append((now, key))
        try:
            yield
        except BaseException:
            with self._lock:
                counted = self._hits.get(key)
                if counted and now in counted:
                    counted.remove(now)
            raise

    def _forget_until(self, cutoff: float) -> None:
        order = self._order
        while order and order[0][0] <= cutoff:
            _at, key = order.popleft()
            hits = self._hits.get(key)
            if hits is None:
                continue
            while hits and hits[0] <= cutoff:
                hits.popleft()
            if not hits:
                del self._hits[key]

    @property
    def keys_held(self) -> int:
        return len(self._hits)


class MemoryConcurrencyGuard:
    """ConcurrencyGuard of one process."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, login: str) -> None:
        with self._lock:
            count = self._in_flight.get(login, 0)
            if count >= self._limit:
                raise TooManyRequests("too many concurrent requests")
            self._in_flight[login] = count + 1

    def leave(self, login: str) -> None:
        with self._lock:
            count = self._in_flight.get(login, 0) - 1
            if count > 0:
                self._in_flight[login] = count
            else:
                self._in_flight.pop(login, None)

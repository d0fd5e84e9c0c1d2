"""Per-process request guards of the HTTP edge (API error 9): duplicates and concurrency.

Counters live in memory: one API process is the default deployment. Several API processes
behind a balancer would share them through Redis (DESIGN §3); the interface stays the same.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from tidings.domain.clock import Clock
from tidings.errors import TooManyRequests

# Credentials are not part of what makes two requests "the same" (jobs.md §2, error 9).
_NOT_IN_IDENTITY = frozenset({"login", "psw", "apikey"})


def request_identity(account_id: int, script: str, params: Mapping[str, str]) -> bytes:
    """What makes two requests "the same": the account, the script and every parameter but
    the credentials."""
    digest = hashlib.sha256(f"{account_id}\x00{script}".encode())
    for name in sorted(params):
        if name not in _NOT_IN_IDENTITY:
            digest.update(f"\x00{name}\x01{params[name]}".encode())
    return digest.digest()


class RateGuard:
    """At most `limit` requests per key within a sliding window (error 9 beyond it).

    A request that fails is not counted (its hit is taken back), so a corrected retry goes
    through. jobs.php and send.php allow 1 identical request a minute, phones.php 3 identical
    ones, balance.php 10 balance requests (smsc-api.md §1.5).
    """

    def __init__(self, limit: int, window_s: float, description: str, clock: Clock) -> None:
        self._limit = limit
        self._window = window_s
        self._description = description
        self._clock = clock
        self._hits: dict[bytes, deque[float]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def hit(self, key: bytes) -> Iterator[None]:
        now = self._clock.now().timestamp()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self._window:
                hits.popleft()
            if len(hits) >= self._limit:
                raise TooManyRequests(self._description)
            hits.append(now)
            if len(self._hits) > 50_000:
                self._expire(now)
        try:
            yield
        except BaseException:
            with self._lock:
                counted = self._hits.get(key)
                if counted and now in counted:
                    counted.remove(now)
            raise

    def _expire(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self._window]:
            del self._hits[key]


class ConcurrencyGuard:
    """At most `limit` requests in flight under one login (the 15th concurrent one is refused)."""

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

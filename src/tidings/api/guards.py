"""Per-process request guards of the HTTP edge (API error 9): duplicates and concurrency.

Counters live in memory: one API process is the default deployment. Several API processes
behind a balancer would share them through Redis (DESIGN §3); the interface stays the same.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from tidings.domain.clock import Clock
from tidings.errors import TooManyRequests

# Credentials are not part of what makes two requests "the same" (jobs.md §2, error 9).
_NOT_IN_IDENTITY = frozenset({"login", "psw", "apikey"})


class DuplicateGuard:
    """Refuses the same state-changing request (account + parameters) within a window."""

    def __init__(self, window_s: float, clock: Clock) -> None:
        self._window = window_s
        self._clock = clock
        self._seen: dict[bytes, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def identity(account_id: int, script: str, params: Mapping[str, str]) -> bytes:
        digest = hashlib.sha256(f"{account_id}\x00{script}".encode())
        for name in sorted(params):
            if name not in _NOT_IN_IDENTITY:
                digest.update(f"\x00{name}\x01{params[name]}".encode())
        return digest.digest()

    @contextmanager
    def once(self, key: bytes) -> Iterator[None]:
        """Hold `key` for the window if the body succeeds; release it at once if it fails."""
        now = self._clock.now().timestamp()
        with self._lock:
            if self._seen.get(key, 0.0) > now:
                raise TooManyRequests("duplicate request, wait a minute")
            self._seen[key] = now + self._window
            if len(self._seen) > 50_000:
                self._expire(now)
        try:
            yield
        except BaseException:
            with self._lock:
                self._seen.pop(key, None)
            raise

    def _expire(self, now: float) -> None:
        for key in [k for k, until in self._seen.items() if until <= now]:
            del self._seen[key]


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

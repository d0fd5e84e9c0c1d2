"""Abuse protection by client IP (jobs.md §5): error 4 while an IP is blocked.

Authentication failures are counted in the store, so every API process sees them; the
streak of failed requests is per process (it only needs to catch a runaway client).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from tidings.domain.clock import Clock, to_ts
from tidings.errors import IpBlocked

BLOCK_CACHE_S = 1.0


@dataclass(frozen=True)
class IpBlock:
    ip: str
    until: int  # Unix seconds
    reason: str


class GuardStore(Protocol):
    def ip_blocked_until(self, ip: str) -> int | None: ...

    def record_auth_failure(self, ip: str, at: int, window_start: int) -> int:
        """Record one failure; return the failures of this IP since window_start."""

    def block_ip(self, ip: str, until: int, reason: str) -> None: ...

    def ip_blocks(self, now: int) -> list[IpBlock]:
        """The blocks still in force."""

    def lift_ip_block(self, ip: str) -> bool:
        """End the block and forget the IP's failures; False when it had none."""


@dataclass(frozen=True)
class GuardLimits:
    auth_failures_max: int
    auth_failures_window_s: int
    auth_block_s: int
    error_streak_max: int
    error_streak_window_s: int
    error_block_s: int


class AbuseGuard:
    def __init__(self, store: GuardStore, limits: GuardLimits, clock: Clock) -> None:
        self._store = store
        self._limits = limits
        self._clock = clock
        self._streaks: dict[str, deque[int]] = {}
        self._blocks: dict[str, tuple[float, int | None]] = {}
        self._lock = threading.Lock()

    def check(self, ip: str) -> None:
        until = self._blocked_until(ip)
        if until is not None and until > to_ts(self._clock.now()):
            raise IpBlocked("ip is blocked")

    def check_cached(self, ip: str) -> bool:
        """`check` from the cache alone: True when the cache knew the answer (raising
        IpBlocked if blocked), False when only the store can tell. Lets the event loop skip
        a thread hop for the usual case."""
        now = time.monotonic()
        with self._lock:
            cached = self._blocks.get(ip)
        if cached is None or cached[0] <= now:
            return False
        if cached[1] is not None and cached[1] > to_ts(self._clock.now()):
            raise IpBlocked("ip is blocked")
        return True

    def _blocked_until(self, ip: str) -> int | None:
        """The store's answer, reused for a second: blocks made by another process are seen
        within that second, this process's own at once (see _block)."""
        now = time.monotonic()
        with self._lock:
            cached = self._blocks.get(ip)
        if cached is not None and cached[0] > now:
            return cached[1]
        until = self._store.ip_blocked_until(ip)
        with self._lock:
            if len(self._blocks) > 100_000:
                self._blocks.clear()
            self._blocks[ip] = (now + BLOCK_CACHE_S, until)
        return until

    def _block(self, ip: str, until: int, reason: str) -> None:
        self._store.block_ip(ip, until, reason)
        with self._lock:
            self._blocks[ip] = (time.monotonic() + BLOCK_CACHE_S, until)

    def auth_failed(self, ip: str) -> None:
        now = to_ts(self._clock.now())
        limits = self._limits
        count = self._store.record_auth_failure(ip, now, now - limits.auth_failures_window_s)
        if count >= limits.auth_failures_max:
            self._block(ip, now + limits.auth_block_s, "auth failures")

    def request_failed(self, ip: str) -> None:
        """A request that ended in an error; 100 in a row within 10 minutes block the IP."""
        now = to_ts(self._clock.now())
        limits = self._limits
        with self._lock:
            streak = self._streaks.setdefault(ip, deque())
            streak.append(now)
            while streak and streak[0] < now - limits.error_streak_window_s:
                streak.popleft()
            blocked = len(streak) >= limits.error_streak_max
            if blocked:
                streak.clear()
        if blocked:
            self._block(ip, now + limits.error_block_s, "error streak")

    def blocks(self) -> list[IpBlock]:
        return self._store.ip_blocks(to_ts(self._clock.now()))

    def lift(self, ip: str) -> bool:
        """An operator ends the IP's block (this process forgets it at once, the others
        within BLOCK_CACHE_S); its streak of errors starts afresh. False: it had none."""
        lifted = self._store.lift_ip_block(ip)
        with self._lock:
            self._blocks.pop(ip, None)
            self._streaks.pop(ip, None)
        return lifted

    def request_succeeded(self, ip: str) -> None:
        with self._lock:
            self._streaks.pop(ip, None)

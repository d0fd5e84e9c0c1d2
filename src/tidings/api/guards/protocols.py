"""What the API edge sees of a request guard: the two protocols, implemented in memory
(`memory`) and in Redis (`redis_rate`, `redis_concurrency`)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol


class RateGuard(Protocol):
    """At most `limit` requests per key within a sliding window (error 9 beyond it).

    `hit(key)` wraps the guarded action: it raises TooManyRequests when the key is over its
    limit; a request that fails inside it is not counted (its hit is taken back), so a
    corrected retry goes through.
    """

    def hit(self, key: bytes) -> AbstractContextManager[None]: ...


class ConcurrencyGuard(Protocol):
    """At most `limit` requests in flight under one login (the 15th concurrent one is
    refused with TooManyRequests). Every successful `enter` is paired with one `leave`."""

    def enter(self, login: str) -> None: ...

    def leave(self, login: str) -> None: ...

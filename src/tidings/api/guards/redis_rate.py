"""RateGuard in Redis: a sliding window per key in a sorted set, one Lua call per hit."""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from tidings.api.guards.memory import MemoryRateGuard
from tidings.api.guards.redis_link import KEY_PREFIX, REDIS_FAILURES, RedisLink
from tidings.domain.clock import Clock
from tidings.errors import TooManyRequests

# Sliding window in a sorted set: one member per admitted hit, scored with its time.
# KEYS[1] the key; ARGV: now, window (s), limit, a member unique to this hit, key TTL (ms).
_HIT_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisRateGuard:
    """RateGuard shared through Redis: a sliding window per key in a sorted set
    `<prefix>:<name>:<key hex>`, checked and counted by one Lua script (atomic, one round
    trip); taking a hit back is one ZREM of exactly that hit. The key expires with the window.

    Time is the application clock's, not Redis's (TIME): the score of a hit is `clock.now()`,
    as in the in-memory guard, so both behave the same under a FakeClock, and the hosts' clocks
    only need to agree to well under the 60 s window (NTP gives milliseconds; the database's
    timestamps already rely on it). The key's PEXPIRE runs on Redis's own clock; it only
    collects keys nobody used for a window, and never decides a limit.

    Not taken from `limits`: its Redis moving window reads `time.time()` (no clock to inject)
    and has no way to take one hit back.
    """

    def __init__(
        self,
        link: RedisLink,
        name: str,
        limit: int,
        window_s: float,
        description: str,
        clock: Clock,
        *,
        prefix: str = KEY_PREFIX,
    ) -> None:
        self._link = link
        self._namespace = f"{prefix}:{name}:"
        self._limit = limit
        self._window = window_s
        self._ttl_ms = int(window_s * 1000) + 1000
        self._description = description
        self._clock = clock
        self._script = link.client.register_script(_HIT_SCRIPT)
        self._member_prefix = secrets.token_hex(4)
        self._seq = itertools.count()
        self.fallback = MemoryRateGuard(limit, window_s, description, clock)

    def redis_key(self, key: bytes) -> str:
        return self._namespace + key.hex()

    @contextmanager
    def hit(self, key: bytes) -> Iterator[None]:
        if not self._link.available():
            with self.fallback.hit(key):
                yield
            return
        now = self._clock.now().timestamp()
        name = self.redis_key(key)
        # Unique across processes (pid), guard instances and forked children (random), hits.
        member = f"{now!r}:{os.getpid()}:{self._member_prefix}:{next(self._seq)}"
        try:
            admitted = self._script(
                keys=[name], args=[repr(now), self._window, self._limit, member, self._ttl_ms]
            )
        except REDIS_FAILURES as error:
            self._link.failed(error)
            with self.fallback.hit(key):
                yield
            return
        if not admitted:
            raise TooManyRequests(self._description)
        try:
            yield
        except BaseException:
            try:
                self._link.client.zrem(name, member)
            except REDIS_FAILURES as error:
                self._link.failed(error)  # the hit stays counted until the window ends
            raise

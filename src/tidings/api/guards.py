"""Request guards of the HTTP edge (API error 9): duplicates, repeats, balance requests and
concurrency.

Two implementations behind one interface (the `RateGuard` and `ConcurrencyGuard` protocols):

* in memory, per process — the default (one API process);
* in Redis, shared by every API process (`guards.redis_url`, DESIGN §3).

The Redis guards fail open: when Redis does not answer they use an in-memory guard of their
own (per-process limits) and try Redis again a few seconds later, logging a warning at most
once a minute, so an outage of Redis never stops sending (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import secrets
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from typing import Protocol

import redis
import structlog
from redis.backoff import NoBackoff
from redis.retry import Retry

from tidings.config import GuardSettings
from tidings.domain.clock import Clock
from tidings.errors import TooManyRequests

log = structlog.get_logger("tidings.guards")

# Credentials are not part of what makes two requests "the same" (jobs.md §2, error 9).
_NOT_IN_IDENTITY = frozenset({"login", "psw", "apikey"})

# Every Redis key of the guards starts with this (then `:<guard name>:<hex>`).
KEY_PREFIX = "tidings:guard"


def request_identity(account_id: int, script: str, params: Mapping[str, str]) -> bytes:
    """What makes two requests "the same": the account, the script and every parameter but
    the credentials."""
    digest = hashlib.sha256(f"{account_id}\x00{script}".encode())
    for name in sorted(params):
        if name not in _NOT_IN_IDENTITY:
            digest.update(f"\x00{name}\x01{params[name]}".encode())
    return digest.digest()


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


# ---- in memory ------------------------------------------------------------------------------


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


# ---- in Redis -------------------------------------------------------------------------------

# What a Redis outage looks like from here: refused/timed-out connections, a server that is
# loading or read-only, anything the client raises.
_REDIS_FAILURES = (redis.RedisError, OSError)


class RedisLink:
    """One Redis client shared by the guards of a process, and what it knows of Redis's health.

    Calls time out after `timeout_s` (the concurrency guard is asked on the event loop, so a
    hung Redis must not stall it for long) and are never retried by the client. After a
    failure Redis is not asked again for `retry_s`: the guards use their in-memory fallback
    meanwhile, at no cost. The warning is logged at most once per `warn_every_s`.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 0.25,
        retry_s: float = 5.0,
        warn_every_s: float = 60.0,
    ) -> None:
        self.url = url
        self.client: redis.Redis = redis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
        )
        self._retry_s = retry_s
        self._warn_every_s = warn_every_s
        self._down_until = 0.0
        self._warned_at: float | None = None
        self._lock = threading.Lock()

    def available(self) -> bool:
        """False for `retry_s` after a failure (then Redis is tried again)."""
        return time.monotonic() >= self._down_until

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            self._down_until = now + self._retry_s
            warn = self._warned_at is None or now - self._warned_at >= self._warn_every_s
            if warn:
                self._warned_at = now
        if warn:
            log.warning(
                "redis not answering: request guards fall back to per-process memory",
                redis=_redacted(self.url),
                error=f"{type(error).__name__}: {error}",
                retry_s=self._retry_s,
            )


def _redacted(url: str) -> str:
    """The URL without a password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return scheme + sep + rest


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
        except _REDIS_FAILURES as error:
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
            except _REDIS_FAILURES as error:
                self._link.failed(error)  # the hit stays counted until the window ends
            raise


# Requests in flight per login: a hash `<prefix>:concurrency:<login hash>` with one field per
# API process ("epoch", below) holding how many of that login's requests it is serving.
#
# Why not one INCR/DECR counter with an EXPIRE: a process that crashes with slots held would
# leave the counter too high, and the EXPIRE (refreshed by every other request of a busy
# login) would never clear it; letting it expire anyway would forget the slots of requests
# still running elsewhere. With a field per process, the slots of a process are counted only
# while its liveness key `<prefix>:alive:<epoch>` exists: every enter refreshes it and a
# heartbeat thread refreshes it every `heartbeat_s` while the process lives, so a crashed
# process's slots stop counting `alive_ttl_s` after its last sign of life (and its field is
# deleted by the next enter for that login). The hash itself expires `idle_ttl_s` after the
# last admitted enter, only to collect logins nobody uses any more.
#
# enter: KEYS[1] the hash; ARGV: limit, epoch, liveness-key prefix, hash TTL (s), liveness
# TTL (s). (The liveness keys are not in KEYS: one Redis server, not Redis Cluster.)
_ENTER_SCRIPT = """
redis.call('SET', ARGV[3] .. ARGV[2], '1', 'EX', ARGV[5])
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  local owner = fields[i]
  if owner == ARGV[2] or redis.call('EXISTS', ARGV[3] .. owner) == 1 then
    total = total + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[1], owner)
  end
end
if total >= tonumber(ARGV[1]) then
  return 0
end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""
# leave: KEYS[1] the hash; ARGV[1] the epoch.
_LEAVE_SCRIPT = """
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return 1
"""
_MEMORY = ""  # the "epoch" of a slot held in the in-memory fallback


class RedisConcurrencyGuard:
    """ConcurrencyGuard shared through Redis: enter and leave are one Lua call each.

    The process remembers, per login, where each slot it holds was taken (the Redis epoch
    or the in-memory fallback), so a leave goes back to the same place. A Redis failure
    starts a new epoch: slots taken in Redis before it are left to expire with the old
    epoch's liveness key rather than decremented blindly (a DECR that did not arrive would
    otherwise keep a slot taken for as long as the process lives).
    """

    def __init__(
        self,
        link: RedisLink,
        limit: int,
        *,
        prefix: str = KEY_PREFIX,
        alive_ttl_s: int = 30,
        heartbeat_s: float = 10.0,
        idle_ttl_s: int = 3600,
    ) -> None:
        self._link = link
        self._limit = limit
        self._namespace = f"{prefix}:concurrency:"
        self._alive_prefix = f"{prefix}:alive:"
        self._alive_ttl_s = alive_ttl_s
        self._heartbeat_s = heartbeat_s
        self._idle_ttl_s = idle_ttl_s
        self._enter = link.client.register_script(_ENTER_SCRIPT)
        self._leave = link.client.register_script(_LEAVE_SCRIPT)
        self.fallback = MemoryConcurrencyGuard(limit)
        self._lock = threading.Lock()
        self._held: dict[str, list[str]] = {}
        self._pid = 0
        self._epoch = ""
        self._stop = threading.Event()
        self._heart: threading.Thread | None = None

    def redis_key(self, login: str) -> str:
        return self._namespace + hashlib.sha256(login.encode()).hexdigest()[:32]

    @property
    def epoch(self) -> str:
        """This process's current field name (a forked child gets its own)."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._pid = os.getpid()
                    self._epoch = f"{self._pid}-{secrets.token_hex(6)}"
                    self._held = {}
                    self._heart = None
        return self._epoch

    def enter(self, login: str) -> None:
        epoch = self.epoch
        if self._link.available():
            try:
                admitted = self._enter(
                    keys=[self.redis_key(login)],
                    args=[
                        self._limit,
                        epoch,
                        self._alive_prefix,
                        self._idle_ttl_s,
                        self._alive_ttl_s,
                    ],
                )
            except _REDIS_FAILURES as error:
                self._redis_failed(error)
            else:
                if not admitted:
                    raise TooManyRequests("too many concurrent requests")
                self._remember(login, epoch)
                if self._heart is None:
                    self._start_heartbeat()
                return
        self.fallback.enter(login)
        self._remember(login, _MEMORY)

    def leave(self, login: str) -> None:
        with self._lock:
            held = self._held.get(login)
            where = held.pop() if held else _MEMORY
            if held is not None and not held:
                del self._held[login]
        if where == _MEMORY:
            self.fallback.leave(login)
        elif where != self._epoch:
            pass  # taken under an epoch that has ended: it stops counting with that epoch
        elif not self._link.available():
            self._new_epoch()  # Redis failed elsewhere meanwhile: do not wait for it here
        else:
            try:
                self._leave(keys=[self.redis_key(login)], args=[where])
            except _REDIS_FAILURES as error:
                self._redis_failed(error)

    def held(self, login: str) -> int:
        """How many slots of `login` this process holds (Redis and fallback)."""
        with self._lock:
            return len(self._held.get(login, ()))

    def close(self) -> None:
        """Stop the heartbeat and give this process's slots up at once (tests, shutdown)."""
        self._stop.set()
        with suppress(*_REDIS_FAILURES):
            self._link.client.delete(self._alive_prefix + self._epoch)

    def beat(self) -> None:
        """Tell Redis this process is alive (the heartbeat thread does, every `heartbeat_s`)."""
        if not self._link.available():
            return
        try:
            self._link.client.set(self._alive_prefix + self.epoch, "1", ex=self._alive_ttl_s)
        except _REDIS_FAILURES as error:
            self._redis_failed(error)

    def _remember(self, login: str, where: str) -> None:
        with self._lock:
            self._held.setdefault(login, []).append(where)

    def _redis_failed(self, error: BaseException) -> None:
        self._link.failed(error)
        self._new_epoch()

    def _new_epoch(self) -> None:
        with self._lock:
            self._epoch = f"{self._pid}-{secrets.token_hex(6)}"

    def _start_heartbeat(self) -> None:
        with self._lock:
            if self._heart is not None:
                return
            self._heart = threading.Thread(
                target=_heartbeat,
                args=(weakref.ref(self), self._stop, self._heartbeat_s),
                name="tidings-guard-heartbeat",
                daemon=True,
            )
        self._heart.start()


def _heartbeat(
    ref: weakref.ref[RedisConcurrencyGuard], stop: threading.Event, every_s: float
) -> None:
    # Holds the guard only weakly: a guard nobody uses any more ends its thread.
    while not stop.wait(every_s):
        guard = ref()
        if guard is None:
            return
        guard.beat()
        del guard


# ---- what the API uses -----------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeGuards:
    duplicates: RateGuard
    phone_repeats: RateGuard
    balance_requests: RateGuard
    concurrency: ConcurrencyGuard


def edge_guards(settings: GuardSettings, clock: Clock, prefix: str | None = None) -> EdgeGuards:
    """The error-9 guards the settings ask for: in Redis when `redis_url` is set (keys under
    `prefix`, by default KEY_PREFIX), in memory otherwise."""
    g = settings
    duplicate = "duplicate request, wait a minute"
    balance = "too many balance requests, wait a minute"
    if not g.redis_url:
        return EdgeGuards(
            duplicates=MemoryRateGuard(1, g.duplicate_window_s, duplicate, clock),
            phone_repeats=MemoryRateGuard(
                g.phones_identical_max, g.duplicate_window_s, duplicate, clock
            ),
            balance_requests=MemoryRateGuard(
                g.balance_requests_max, g.duplicate_window_s, balance, clock
            ),
            concurrency=MemoryConcurrencyGuard(g.max_concurrent_per_login),
        )
    link = RedisLink(g.redis_url)
    prefix = prefix or KEY_PREFIX
    return EdgeGuards(
        duplicates=RedisRateGuard(
            link, "duplicates", 1, g.duplicate_window_s, duplicate, clock, prefix=prefix
        ),
        phone_repeats=RedisRateGuard(
            link,
            "phones",
            g.phones_identical_max,
            g.duplicate_window_s,
            duplicate,
            clock,
            prefix=prefix,
        ),
        balance_requests=RedisRateGuard(
            link,
            "balance",
            g.balance_requests_max,
            g.duplicate_window_s,
            balance,
            clock,
            prefix=prefix,
        ),
        concurrency=RedisConcurrencyGuard(link, g.max_concurrent_per_login, prefix=prefix),
    )

"""ConcurrencyGuard in Redis: one hash field per process and login, counted only while the
process's liveness key lives (a heartbeat thread keeps it), so a crashed process cannot hold
slots."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import weakref
from contextlib import suppress

from tidings.api.guards.memory import MemoryConcurrencyGuard
from tidings.api.guards.redis_link import KEY_PREFIX, REDIS_FAILURES, RedisLink
from tidings.errors import TooManyRequests

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
            except REDIS_FAILURES as error:
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
            except REDIS_FAILURES as error:
                self._redis_failed(error)

    def held(self, login: str) -> int:
        """How many slots of `login` this process holds (Redis and fallback)."""
        with self._lock:
            return len(self._held.get(login, ()))

    def close(self) -> None:
        """Stop the heartbeat and give this process's slots up at once (tests, shutdown)."""
        self._stop.set()
        with suppress(*REDIS_FAILURES):
            self._link.client.delete(self._alive_prefix + self._epoch)

    def beat(self) -> None:
        """Tell Redis this process is alive (the heartbeat thread does, every `heartbeat_s`)."""
        if not self._link.available():
            return
        try:
            self._link.client.set(self._alive_prefix + self.epoch, "1", ex=self._alive_ttl_s)
        except REDIS_FAILURES as error:
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

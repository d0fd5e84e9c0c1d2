"""The Redis client the guards of a process share, and what it knows of Redis's health: after
a failure the guards use their in-memory fallback for a few seconds (fail open)."""

from __future__ import annotations

import threading
import time

import redis
import structlog
from redis.backoff import NoBackoff
from redis.retry import Retry

log = structlog.get_logger("tidings.guards")

# Every Redis key of the guards starts with this (then `:<guard name>:<hex>`).
KEY_PREFIX = "tidings:guard"

# What a Redis outage looks like from here: refused/timed-out connections, a server that is
# loading or read-only, anything the client raises.
REDIS_FAILURES = (redis.RedisError, OSError)


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

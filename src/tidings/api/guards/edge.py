"""The error-9 guards the API uses, as the settings ask for them: in Redis or in memory."""

from __future__ import annotations

from dataclasses import dataclass

from tidings.api.guards.memory import MemoryConcurrencyGuard, MemoryRateGuard
from tidings.api.guards.protocols import ConcurrencyGuard, RateGuard
from tidings.api.guards.redis_concurrency import RedisConcurrencyGuard
from tidings.api.guards.redis_link import KEY_PREFIX, RedisLink
from tidings.api.guards.redis_rate import RedisRateGuard
from tidings.config import GuardSettings
from tidings.domain.clock import Clock


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

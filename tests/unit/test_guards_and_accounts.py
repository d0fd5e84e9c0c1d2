"""Credentials, allowlists, abuse limits and request guards (pure, fake clock)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from tidings.api.guards.identity import request_identity
from tidings.api.guards.memory import MemoryConcurrencyGuard, MemoryRateGuard
from tidings.domain.accounts import (
    CredentialCache,
    hash_password,
    ip_allowed,
    parse_cidr,
    verify_password,
)
from tidings.domain.clock import FakeClock
from tidings.domain.guards import AbuseGuard, GuardLimits, IpBlock
from tidings.domain.money import format_money, to_minor
from tidings.errors import AuthenticationFailed, InvalidParameter, IpBlocked, TooManyRequests


def test_each_password_form_verifies_and_nothing_else_does() -> None:
    hashes = hash_password("s3cret")
    md5 = hashlib.md5(b"s3cret").hexdigest()
    sha1 = hashlib.sha1(b"s3cret").hexdigest()
    assert verify_password(hashes, "s3cret")
    assert verify_password(hashes, md5)
    assert verify_password(hashes, sha1) and verify_password(hashes, sha1.upper())
    assert not verify_password(hashes, "S3cret")
    assert not verify_password(hashes, hashlib.md5(b"other").hexdigest())


def test_allowlist_matches_addresses_and_networks() -> None:
    assert ip_allowed([], "203.0.113.5")
    assert ip_allowed(["203.0.113.0/24"], "203.0.113.5")
    assert not ip_allowed(["203.0.113.0/24"], "198.51.100.5")
    assert ip_allowed(["2001:db8::/32"], "2001:db8::1")
    assert not ip_allowed(["203.0.113.0/24"], "not-an-ip")
    assert parse_cidr("203.0.113.7") == "203.0.113.7/32"
    with pytest.raises(InvalidParameter):
        parse_cidr("300.1.1.1")


def test_credential_cache_forgets_after_its_ttl() -> None:
    cache = CredentialCache(ttl_s=0.0)
    cache.put(7, "login", "psw")
    assert cache.get("login", "psw") is None
    cache = CredentialCache(ttl_s=60)
    cache.put(7, "login", "psw")
    assert cache.get("login", "psw") == 7
    assert cache.get("login", "other") is None


def _at_once(count: int, call: Callable[[], int]) -> list[int | BaseException]:
    """`call` from `count` threads released together; each one's result or error."""
    start = threading.Barrier(count)

    def run() -> int | BaseException:
        start.wait()
        try:
            return call()
        except AuthenticationFailed as error:
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _i: run(), range(count)))


def test_concurrent_requests_with_the_same_credentials_pay_one_hash() -> None:
    cache = CredentialCache(ttl_s=60)
    hashes: list[str] = []

    def verify() -> int:
        hashes.append("argon2")
        time.sleep(0.2)  # a slow hash: every other caller arrives while it runs
        return 7

    results = _at_once(16, lambda: cache.verified_once(verify, "login", "psw"))
    assert results == [7] * 16
    assert len(hashes) == 1
    assert cache.get("login", "psw") == 7


def test_a_refused_password_is_refused_to_every_waiter_and_not_remembered() -> None:
    cache = CredentialCache(ttl_s=60)
    hashes: list[str] = []

    def wrong() -> int:
        hashes.append("argon2")
        time.sleep(0.2)
        raise AuthenticationFailed("authorise error")

    results = _at_once(8, lambda: cache.verified_once(wrong, "login", "bad"))
    assert all(isinstance(r, AuthenticationFailed) for r in results)
    assert len(hashes) == 1
    assert cache.get("login", "bad") is None
    # The next attempt is verified afresh (a failure is never cached).
    with pytest.raises(AuthenticationFailed):
        cache.verified_once(wrong, "login", "bad")
    assert len(hashes) == 2


class MemoryGuardStore:
    def __init__(self) -> None:
        self.failures: dict[str, list[int]] = {}
        self.blocks: dict[str, int] = {}

    def ip_blocked_until(self, ip: str) -> int | None:
        return self.blocks.get(ip)

    def record_auth_failure(self, ip: str, at: int, window_start: int) -> int:
        kept = [t for t in self.failures.get(ip, []) if t >= window_start] + [at]
        self.failures[ip] = kept
        return len(kept)

    def block_ip(self, ip: str, until: int, reason: str) -> None:
        self.blocks[ip] = until

    def ip_blocks(self, now: int) -> list[IpBlock]:
        return [IpBlock(ip, until, "") for ip, until in self.blocks.items() if until > now]

    def lift_ip_block(self, ip: str) -> bool:
        self.failures.pop(ip, None)
        return self.blocks.pop(ip, None) is not None


LIMITS = GuardLimits(
    auth_failures_max=5,
    auth_failures_window_s=1800,
    auth_block_s=1800,
    error_streak_max=3,
    error_streak_window_s=600,
    error_block_s=600,
)


def test_fifth_auth_failure_blocks_for_the_configured_time() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    guard = AbuseGuard(MemoryGuardStore(), LIMITS, clock)
    for _ in range(4):
        guard.auth_failed("a")
    guard.check("a")
    guard.auth_failed("a")
    with pytest.raises(IpBlocked):
        guard.check("a")
    guard.check("b")
    clock.advance(1801)
    guard.check("a")


def test_error_streak_blocks_and_success_resets_it() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    guard = AbuseGuard(MemoryGuardStore(), LIMITS, clock)
    guard.request_failed("a")
    guard.request_failed("a")
    guard.request_succeeded("a")
    guard.request_failed("a")
    guard.request_failed("a")
    guard.check("a")
    guard.request_failed("a")
    with pytest.raises(IpBlocked):
        guard.check("a")


def test_rate_guard_releases_a_hit_when_the_action_fails() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    guard = MemoryRateGuard(1, 60, "duplicate request, wait a minute", clock)
    key = request_identity(1, "jobs", {"add": "1", "psw": "p1"})
    assert key == request_identity(1, "jobs", {"add": "1", "psw": "p2"})  # credentials aside
    assert key != request_identity(2, "jobs", {"add": "1"})
    with pytest.raises(ValueError), guard.hit(key):
        raise ValueError("failed")
    with guard.hit(key):
        pass
    with pytest.raises(TooManyRequests), guard.hit(key):
        pass
    clock.advance(61)
    with guard.hit(key):
        pass


def test_rate_guard_allows_its_limit_within_the_window() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    guard = MemoryRateGuard(3, 60, "too many", clock)
    for _ in range(3):
        with guard.hit(b"k"):
            clock.advance(10)
    with pytest.raises(TooManyRequests, match="too many"), guard.hit(b"k"):
        pass
    clock.advance(31)  # the first hit has left the window
    with guard.hit(b"k"):
        pass


def test_rate_guard_forgets_keys_whose_hits_left_the_window() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    guard = MemoryRateGuard(1, 60, "duplicate", clock)
    for n in range(1000):
        with guard.hit(b"k%d" % n):
            pass
    assert guard.keys_held == 1000
    clock.advance(30)
    with guard.hit(b"late"):
        pass
    assert guard.keys_held == 1001  # all still within the minute
    clock.advance(31)
    with guard.hit(b"new"):
        pass
    assert guard.keys_held == 2  # the first thousand are gone; "late" is not
    with pytest.raises(TooManyRequests), guard.hit(b"late"):
        pass


def test_rate_guard_cost_does_not_grow_with_the_keys_it_holds() -> None:
    """A busy minute of distinct requests (send.php at 2,000/s holds 120,000 keys): the last
    hits cost what the first did. (An O(keys) sweep per hit made them ~1,000× dearer.)"""
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    guard = MemoryRateGuard(1, 60, "duplicate", clock)

    def thousand_hits(start: int) -> float:
        began = time.perf_counter()
        for n in range(start, start + 1000):
            with guard.hit(b"%d" % n):
                pass
        return time.perf_counter() - began

    first = thousand_hits(0)
    for start in range(1000, 80_000, 1000):
        thousand_hits(start)
    last = thousand_hits(80_000)
    assert guard.keys_held == 81_000
    assert last < first * 20 + 0.05


def test_concurrency_guard_counts_per_login() -> None:
    guard = MemoryConcurrencyGuard(2)
    guard.enter("a")
    guard.enter("a")
    with pytest.raises(TooManyRequests):
        guard.enter("a")
    guard.enter("b")
    guard.leave("a")
    guard.enter("a")


def test_money_round_trips_in_minor_units() -> None:
    assert to_minor("12.345") == 1235
    assert to_minor("1,5") == 150
    assert format_money(1235) == "12.35"
    assert format_money(-5) == "-0.05"
    with pytest.raises(InvalidParameter):
        to_minor("lots")


def test_a_lifted_block_ends_at_once_and_its_failures_are_forgotten() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    store = MemoryGuardStore()
    guard = AbuseGuard(store, LIMITS, clock)
    for _ in range(LIMITS.auth_failures_max):
        guard.auth_failed("198.51.100.9")
    with pytest.raises(IpBlocked):
        guard.check("198.51.100.9")  # cached now
    assert [b.ip for b in guard.blocks()] == ["198.51.100.9"]
    assert guard.lift("198.51.100.9")
    guard.check("198.51.100.9")
    assert guard.blocks() == [] and not guard.lift("198.51.100.9")
    guard.auth_failed("198.51.100.9")  # one failure: far from a new block
    guard.check("198.51.100.9")

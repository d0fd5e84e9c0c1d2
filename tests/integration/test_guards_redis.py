"""The error-9 guards in Redis (guards.redis_url): shared by several API processes, against the
real Redis on 127.0.0.1:6379 (TIDINGS_TEST_REDIS to change it). Without Redis these tests skip,
unless CI is set: then they fail.

Every test namespaces its keys under a prefix of its own, so runs never see each other's
counters. Time: the guards score hits with the application clock, so a FakeClock moves the
window here exactly as in production time (Redis's own clock only expires idle keys).
"""

from __future__ import annotations

import os
import secrets
import select
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import structlog

from tests.conftest import CLOCK_START, Server, start_server
from tidings.api.guards import edge
from tidings.api.guards.edge import edge_guards
from tidings.api.guards.identity import request_identity
from tidings.api.guards.memory import MemoryRateGuard
from tidings.api.guards.redis_concurrency import RedisConcurrencyGuard
from tidings.api.guards.redis_link import RedisLink
from tidings.api.guards.redis_rate import RedisRateGuard
from tidings.config import GuardSettings
from tidings.domain.clock import FakeClock
from tidings.errors import TooManyRequests

REDIS_URL = os.environ.get("TIDINGS_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _redis_problem() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
        return None
    except Exception as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"


_REDIS_PROBLEM = _redis_problem()


@pytest.fixture(scope="module")
def redis_url() -> str:
    if _REDIS_PROBLEM:
        if os.environ.get("CI"):
            pytest.fail(_REDIS_PROBLEM)
        pytest.skip(_REDIS_PROBLEM)
    return REDIS_URL


def _new_prefix() -> str:
    return f"tidings-test:{os.getpid()}-{secrets.token_hex(4)}:guard"


def _drop(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = _new_prefix()
    yield name
    _drop(name)


@pytest.fixture
def link(redis_url: str) -> RedisLink:
    return RedisLink(redis_url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 1, tzinfo=UTC))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RoundTrips:
    """Counts the commands a client sends (each is one request/response)."""

    def __init__(self, client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = client.execute_command

        def counted(*args: object, **kwargs: object) -> object:
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(client, "execute_command", counted)

    def take(self) -> int:
        count, self.count = self.count, 0
        return count


# ---- RedisRateGuard ---------------------------------------------------------------------------


def test_rate_guard_allows_its_limit_in_a_sliding_window(
    link: RedisLink, prefix: str, clock: FakeClock
) -> None:
    guard = RedisRateGuard(link, "balance", 3, 60, "too many", clock, prefix=prefix)
    for _ in range(3):
        with guard.hit(b"k"):
            clock.advance(10)
    with pytest.raises(TooManyRequests, match="too many"), guard.hit(b"k"):
        pass
    clock.advance(30)  # 60 s after the first hit: it has left the window (as in memory)
    with guard.hit(b"k"):
        pass
    with pytest.raises(TooManyRequests), guard.hit(b"k"):
        pass
    with guard.hit(b"other key"):
        pass


def test_two_processes_share_one_window(link: RedisLink, prefix: str, clock: FakeClock) -> None:
    # Two guards on two clients = two API processes.
    a = RedisRateGuard(link, "duplicates", 1, 60, "duplicate", clock, prefix=prefix)
    b = RedisRateGuard(RedisLink(REDIS_URL), "duplicates", 1, 60, "duplicate", clock, prefix=prefix)
    key = request_identity(7, "jobs", {"add": "1", "mes": "Hi"})
    with a.hit(key):
        pass
    with pytest.raises(TooManyRequests), b.hit(key):
        pass
    clock.advance(60.001)
    with b.hit(key):
        pass
    with pytest.raises(TooManyRequests), a.hit(key):
        pass


def test_a_failed_request_takes_its_hit_back(
    link: RedisLink, prefix: str, clock: FakeClock
) -> None:
    a = RedisRateGuard(link, "phones", 2, 60, "duplicate", clock, prefix=prefix)
    b = RedisRateGuard(RedisLink(REDIS_URL), "phones", 2, 60, "duplicate", clock, prefix=prefix)
    with a.hit(b"k"):
        pass
    for _ in range(3):  # same instant, another process: only its own hit is taken back
        with pytest.raises(ValueError), b.hit(b"k"):
            raise ValueError("failed")
    assert link.client.zcard(a.redis_key(b"k")) == 1
    with b.hit(b"k"):
        pass
    with pytest.raises(TooManyRequests), a.hit(b"k"):
        pass


def test_keys_are_namespaced_and_expire_with_the_window(
    link: RedisLink, prefix: str, clock: FakeClock
) -> None:
    guard = RedisRateGuard(link, "duplicates", 1, 60, "duplicate", clock, prefix=prefix)
    key = bytes.fromhex("00ff10")
    with guard.hit(key):
        pass
    assert guard.redis_key(key) == f"{prefix}:duplicates:00ff10"
    assert [k.decode() for k in link.client.scan_iter(match=f"{prefix}:*")] == [
        f"{prefix}:duplicates:00ff10"
    ]
    assert 59_000 < link.client.pttl(guard.redis_key(key)) <= 61_000


def test_one_round_trip_per_hit_and_per_take_back(
    link: RedisLink, prefix: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = RedisRateGuard(link, "balance", 100, 60, "too many", clock, prefix=prefix)
    with guard.hit(b"warm"):  # the first call loads the script (EVALSHA, SCRIPT LOAD, EVALSHA)
        pass
    trips = RoundTrips(link.client, monkeypatch)
    with guard.hit(b"k"):
        pass
    assert trips.take() == 1
    with pytest.raises(ValueError), guard.hit(b"k"):
        raise ValueError
    assert trips.take() == 2  # the hit, then its ZREM


def test_a_window_shorter_than_real_time_expires_in_redis_too(link: RedisLink, prefix: str) -> None:
    # With the real clock (as in production): hits leave a 1-second window after a second,
    # and the key itself is gone from Redis soon after.
    from tidings.domain.clock import SystemClock

    guard = RedisRateGuard(link, "duplicates", 1, 1, "duplicate", SystemClock(), prefix=prefix)
    with guard.hit(b"k"):
        pass
    with pytest.raises(TooManyRequests), guard.hit(b"k"):
        pass
    time.sleep(1.05)
    with guard.hit(b"k"):
        pass
    time.sleep(2.1)  # PEXPIRE = window + 1 s
    assert link.client.exists(guard.redis_key(b"k")) == 0


# ---- RedisConcurrencyGuard ----------------------------------------------------------------------


def test_processes_share_the_concurrency_limit(link: RedisLink, prefix: str) -> None:
    a = RedisConcurrencyGuard(link, 14, prefix=prefix)
    b = RedisConcurrencyGuard(RedisLink(REDIS_URL), 14, prefix=prefix)
    try:
        for i in range(14):
            (a if i % 2 else b).enter("alice")
        for guard in (a, b):
            with pytest.raises(TooManyRequests, match="too many concurrent requests"):
                guard.enter("alice")
        b.enter("bob")  # other logins have their own count
        a.leave("alice")
        b.enter("alice")  # a slot freed in one process is free in the other
        with pytest.raises(TooManyRequests):
            a.enter("alice")
        assert a.held("alice") == 6 and b.held("alice") == 8
        for _ in range(6):
            a.leave("alice")
        for _ in range(8):
            b.leave("alice")
        b.leave("bob")
        assert link.client.exists(a.redis_key("alice"), a.redis_key("bob")) == 0
    finally:
        a.close()
        b.close()


def test_one_round_trip_per_enter_and_per_leave(
    link: RedisLink, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = RedisConcurrencyGuard(link, 14, prefix=prefix)
    try:
        guard.enter("warm")  # loads the scripts, starts the heartbeat
        guard.leave("warm")
        trips = RoundTrips(link.client, monkeypatch)
        guard.enter("alice")
        assert trips.take() == 1
        guard.leave("alice")
        assert trips.take() == 1
    finally:
        guard.close()


def test_a_crashed_process_gives_its_slots_up_after_its_liveness_ttl(
    link: RedisLink, prefix: str
) -> None:
    crashed = RedisConcurrencyGuard(link, 3, prefix=prefix, alive_ttl_s=1, heartbeat_s=60)
    alive = RedisConcurrencyGuard(
        RedisLink(REDIS_URL), 3, prefix=prefix, alive_ttl_s=1, heartbeat_s=0.2
    )
    try:
        crashed.enter("alice")
        crashed.enter("alice")
        alive.enter("alice")  # held across the wait below: the heartbeat keeps it counted
        crashed._stop.set()  # "crash": no leave, no heartbeat any more
        with pytest.raises(TooManyRequests):
            alive.enter("alice")
        time.sleep(1.6)
        alive.enter("alice")
        alive.enter("alice")
        with pytest.raises(TooManyRequests):  # alive's first slot still counts
            alive.enter("alice")
        fields = link.client.hgetall(alive.redis_key("alice"))
        assert list(fields.values()) == [b"3"]  # the crashed process's field was deleted
    finally:
        crashed.close()
        alive.close()


def test_a_long_request_keeps_its_slot_while_its_process_lives(
    link: RedisLink, prefix: str
) -> None:
    slow = RedisConcurrencyGuard(link, 1, prefix=prefix, alive_ttl_s=1, heartbeat_s=0.2)
    other = RedisConcurrencyGuard(RedisLink(REDIS_URL), 1, prefix=prefix, alive_ttl_s=1)
    try:
        slow.enter("alice")
        time.sleep(1.6)  # longer than the liveness TTL: only the heartbeat keeps it
        with pytest.raises(TooManyRequests):
            other.enter("alice")
        slow.leave("alice")
        other.enter("alice")
        other.leave("alice")
    finally:
        slow.close()
        other.close()


# ---- Redis not answering: fail open -----------------------------------------------------------


def test_rate_guard_falls_back_to_memory_and_warns_once(clock: FakeClock) -> None:
    link = RedisLink(f"redis://127.0.0.1:{_closed_port()}/0")
    guard = RedisRateGuard(link, "duplicates", 1, 60, "duplicate", clock)
    concurrency = RedisConcurrencyGuard(link, 1)
    with structlog.testing.capture_logs() as logs:
        with guard.hit(b"k"):
            pass
        with pytest.raises(TooManyRequests), guard.hit(b"k"):  # still enforced, per process
            pass
        concurrency.enter("alice")
        with pytest.raises(TooManyRequests):
            concurrency.enter("alice")
        concurrency.leave("alice")
        concurrency.enter("alice")
        concurrency.leave("alice")
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1
    assert "fall back" in warnings[0]["event"] and "ConnectionError" in warnings[0]["error"]
    assert not link.available()  # not asked again for a while: no cost per request


def test_a_hung_redis_costs_at_most_the_timeout_then_nothing(clock: FakeClock) -> None:
    # A server that accepts connections and never answers.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        link = RedisLink(f"redis://127.0.0.1:{hung.getsockname()[1]}/0", timeout_s=0.2)
        guard = RedisRateGuard(link, "duplicates", 1, 60, "duplicate", clock)
        started = time.monotonic()
        with guard.hit(b"k"):
            pass
        first = time.monotonic() - started
        started = time.monotonic()
        for i in range(100):
            with guard.hit(str(i).encode()):
                pass
        rest = time.monotonic() - started
    assert 0.15 < first < 1.0
    assert rest < 0.05


def test_guards_go_back_to_redis_when_it_answers_again(
    prefix: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = RedisLink(REDIS_URL, retry_s=0.1)
    guard = RedisRateGuard(link, "duplicates", 1, 60, "duplicate", clock, prefix=prefix)
    concurrency = RedisConcurrencyGuard(link, 2, prefix=prefix)
    original = link.client.execute_command

    def down(*args: object, **kwargs: object) -> object:
        raise redis.ConnectionError("Connection refused")

    try:
        concurrency.enter("alice")  # in Redis
        monkeypatch.setattr(link.client, "execute_command", down)
        with guard.hit(b"k"):  # in memory
            pass
        concurrency.leave("alice")  # its DECR cannot be sent: the slot goes with the epoch
        concurrency.enter("alice")  # in memory
        time.sleep(0.15)
        monkeypatch.setattr(link.client, "execute_command", original)
        with guard.hit(b"k"):  # Redis again: the hit taken in memory is not there
            pass
        assert link.client.zcard(guard.redis_key(b"k")) == 1
        concurrency.leave("alice")  # back to memory, where it was taken
        assert concurrency.held("alice") == 0
        # Redis, under a new epoch; the slot of the old one counts until its liveness key
        # expires (its DECR was lost): conservative, never more than the limit.
        concurrency.enter("alice")
        with pytest.raises(TooManyRequests):
            concurrency.enter("alice")
    finally:
        concurrency.close()


def test_edge_guards_follow_the_setting(redis_url: str, clock: FakeClock) -> None:
    memory = edge_guards(GuardSettings(), clock)
    assert isinstance(memory.duplicates, MemoryRateGuard)
    shared = edge_guards(GuardSettings(redis_url=redis_url), clock)
    assert isinstance(shared.duplicates, RedisRateGuard)
    assert isinstance(shared.concurrency, RedisConcurrencyGuard)
    assert shared.duplicates.redis_key(b"\x01") == "tidings:guard:duplicates:01"
    assert shared.balance_requests.redis_key(b"\x01") == "tidings:guard:balance:01"
    assert shared.phone_repeats.redis_key(b"\x01") == "tidings:guard:phones:01"


# ---- two API servers, one Redis -----------------------------------------------------------------


class Pair:
    def __init__(self, a: Server, b: Server, prefix: str) -> None:
        self.a, self.b, self.prefix = a, b, prefix


@pytest.fixture(scope="module")
def pair(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Two API servers (two Services, two uvicorns) on one SQLite database and one Redis."""
    database = f"sqlite:///{Path(tmp_path_factory.mktemp('pair')) / 'tidings.db'}"
    clock = FakeClock(CLOCK_START)
    name = _new_prefix()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(edge, "KEY_PREFIX", name)
        started = [start_server(database, clock, guards={"redis_url": redis_url}) for _ in "ab"]
    yield Pair(started[0][2], started[1][2], name)
    for uv, thread, server in started:
        server.client.close()
        uv.should_exit = True
        thread.join(10)
        server.store.close()
    _drop(name)


ADD = {"add": 1, "name": "Promo", "phones": "79161234567", "mes": "Hello"}
DUPLICATE = "ERROR = 9 (duplicate request, wait a minute)"


def test_the_servers_use_redis_under_the_test_prefix(pair: Pair, ip: str) -> None:
    acc, psw = pair.a.account()
    assert pair.a.jobs(ip, login=acc.login, psw=psw, **ADD) == "OK, ID - 1"
    keys = redis.Redis.from_url(REDIS_URL).keys(f"{pair.prefix}:duplicates:*")
    assert len(keys) >= 1


def test_identical_add_on_another_server_is_error_9(pair: Pair, ip: str) -> None:
    acc, psw = pair.a.account()
    assert pair.a.jobs(ip, login=acc.login, psw=psw, **ADD) == "OK, ID - 1"
    assert pair.b.jobs(ip, login=acc.login, psw=psw, **ADD) == DUPLICATE
    assert pair.b.jobs(ip, login=acc.login, psw=psw, **{**ADD, "mes": "Other"}) == "OK, ID - 2"
    one = {"phones": "79161234567", "mes": "Hello"}
    assert pair.b.call("send", ip, login=acc.login, psw=psw, **one).startswith("OK")
    assert pair.a.call("send", ip, login=acc.login, psw=psw, **one) == DUPLICATE


def test_a_failed_request_does_not_count_on_either_server(pair: Pair, ip: str) -> None:
    acc, psw = pair.a.account()
    bad = {**ADD, "time": "garbage"}
    assert pair.a.jobs(ip, login=acc.login, psw=psw, **bad).startswith("ERROR = 5")
    assert pair.b.jobs(ip, login=acc.login, psw=psw, **bad).startswith("ERROR = 5")
    assert pair.a.jobs(ip, login=acc.login, psw=psw, **ADD) == "OK, ID - 1"
    assert pair.b.jobs(ip, login=acc.login, psw=psw, **ADD) == DUPLICATE


def test_fourth_identical_phones_request_across_servers_is_error_9(pair: Pair, ip: str) -> None:
    acc, psw = pair.a.account()
    login = {"login": acc.login, "psw": psw}
    assert pair.a.call("phones", ip, **login, get=1) == "NO CONTACTS"
    assert pair.b.call("phones", ip, **login, get=1) == "NO CONTACTS"
    assert pair.a.call("phones", ip, **login, get=1) == "NO CONTACTS"
    assert pair.b.call("phones", ip, **login, get=1) == DUPLICATE


def test_eleventh_balance_request_across_servers_is_error_9(pair: Pair, ip: str) -> None:
    acc, psw = pair.a.account()
    for n in range(10):
        server = pair.a if n % 2 else pair.b
        assert server.call("balance", ip, login=acc.login, psw=psw) == "100.00", n
    for server in (pair.a, pair.b):
        assert server.call("balance", ip, login=acc.login, psw=psw) == (
            "ERROR = 9 (too many balance requests, wait a minute)"
        )
    pair.a.clock.advance(61)  # one clock for both servers, as NTP gives real hosts
    assert pair.b.call("balance", ip, login=acc.login, psw=psw) == "100.00"


def _slow_request(server: Server, login: str, psw: str) -> socket.socket:
    """A POST whose body never finishes: it holds its slot until the socket is closed."""
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    head = (
        f"POST /sys/jobs.php?login={login}&psw={psw}&get_all=1 HTTP/1.1\r\n"
        f"Host: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 100\r\n\r\nfmt=0"
    )
    sock.sendall(head.encode())
    return sock


def test_fifteenth_concurrent_request_across_servers_is_error_9(pair: Pair, ip: str) -> None:
    acc, psw = pair.a.account()
    slow = [_slow_request(pair.a if i % 2 else pair.b, acc.login, psw) for i in range(14)]
    try:
        time.sleep(0.5)  # let all 14 reach their server; none is answered (all in flight)
        assert select.select(slow, [], [], 0)[0] == []
        for server in (pair.a, pair.b):
            assert server.jobs(ip, login=acc.login, psw=psw, get_all=1) == (
                "ERROR = 9 (too many concurrent requests)"
            )
        other, other_psw = pair.a.account()
        assert pair.b.jobs(ip, login=other.login, psw=other_psw, get_all=1) == "NO JOBS"
        slow.pop().close()  # one slot freed on one server is free on both
        deadline = time.monotonic() + 5
        while pair.a.jobs(ip, login=acc.login, psw=psw, get_all=1) != "NO JOBS":
            assert time.monotonic() < deadline, "the freed slot did not come back"
            time.sleep(0.05)
    finally:
        for sock in slow:
            sock.close()


def test_fifteen_concurrent_requests_race_for_fourteen_slots(pair: Pair, ip: str) -> None:
    """All 15 at once, spread over both servers: exactly one is refused."""
    acc, psw = pair.a.account()
    answers: list[str] = []
    gate = threading.Barrier(15)
    socks: list[socket.socket] = []

    def hold(i: int) -> None:
        server = pair.a if i % 2 else pair.b
        gate.wait()
        sock = _slow_request(server, acc.login, psw)
        socks.append(sock)
        # A refused request is answered at once; an admitted one waits for its body.
        if select.select([sock], [], [], 1.0)[0]:
            answers.append(sock.recv(4096).decode("latin-1").rsplit("\r\n", 1)[-1])
        else:
            answers.append("in flight")

    threads = [threading.Thread(target=hold, args=(i,)) for i in range(15)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    for sock in socks:
        sock.close()
    assert sorted(answers) == ["ERROR = 9 (too many concurrent requests)"] + ["in flight"] * 14


# ---- two servers, Redis down ------------------------------------------------------------------


def test_with_redis_down_both_servers_still_serve(
    tmp_path: Path, ip: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"sqlite:///{tmp_path / 'tidings.db'}"
    clock = FakeClock(CLOCK_START)
    down = f"redis://127.0.0.1:{_closed_port()}/0"
    started = [start_server(database, clock, guards={"redis_url": down}) for _ in "ab"]
    a, b = started[0][2], started[1][2]
    try:
        acc, psw = a.account()
        assert a.jobs(ip, login=acc.login, psw=psw, **ADD) == "OK, ID - 1"
        assert a.jobs(ip, login=acc.login, psw=psw, **ADD) == DUPLICATE  # memory, per process
        assert b.jobs(ip, login=acc.login, psw=psw, **ADD) == "OK, ID - 2"  # not shared now
        for _ in range(10):
            assert b.call("balance", ip, login=acc.login, psw=psw) == "100.00"
        assert b.call("balance", ip, login=acc.login, psw=psw).startswith("ERROR = 9")
        assert not a.jobs(ip, login=acc.login, psw=psw, get_all=1).startswith("ERROR")
    finally:
        for uv, thread, server in started:
            server.client.close()
            uv.should_exit = True
            thread.join(10)
            server.store.close()

"""Slow clients at the HTTP edge (issue 11, items 6-8), with real sockets against the real
server: a request's head and body have deadlines, an unauthenticated request holds no
concurrency slot, and a body over the limit is refused before it is read."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CLOCK_START, Server, served
from tidings.domain.clock import FakeClock

DEADLINE_S = 1.0
# Generous: a loaded machine may be slow to close, never early.
CLOSED_WITHIN_S = 15.0


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with short deadlines and a small body limit."""
    url = f"sqlite:///{tmp_path_factory.mktemp('strict') / 'tidings.db'}"
    http = {
        "trusted_proxies": ["127.0.0.1"],
        "header_timeout_s": DEADLINE_S,
        "body_timeout_s": DEADLINE_S,
        "max_body_bytes": 64 * 1024,
    }
    with served(url, FakeClock(CLOCK_START), http=http) as srv:
        yield srv


def _connect(server: Server, data: bytes) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    if data:
        sock.sendall(data)
    return sock


def _read_all(sock: socket.socket, within_s: float) -> tuple[bytes, bool]:
    """What the server sent until it closed the connection, and whether it closed it."""
    sock.setblocking(False)
    received = b""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not select.select([sock], [], [], 0.1)[0]:
            continue
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received, True
        if not chunk:
            return received, True
        received += chunk
    return received, False


def _slow_body(server: Server, query: str) -> socket.socket:
    head = (
        f"POST /sys/balance.php?{query} HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nfmt=0"
    )
    return _connect(server, head.encode())


# ---- item 6: nobody locks an account out without its password ------------------------------


def test_slow_requests_naming_a_login_without_its_password_take_none_of_its_slots(
    server: Server, ip: str
) -> None:
    victim, psw = server.account()
    slow = [_slow_body(server, f"login={victim.login}") for _ in range(20)]
    slow += [_slow_body(server, f"login={victim.login}&psw=wrong") for _ in range(5)]
    try:
        time.sleep(0.5)  # let them all reach the server
        assert server.call("balance", ip, login=victim.login, psw=psw) == "100.00"
        answer = server.jobs(ip, login=victim.login, psw=psw, get_all=1)
        assert answer == "NO JOBS"
    finally:
        for sock in slow:
            sock.close()


def test_a_slow_body_is_closed_at_its_deadline_and_gives_its_slot_back(
    strict: Server, ip: str
) -> None:
    acc, psw = strict.account()
    slow = [_slow_body(strict, f"login={acc.login}&psw={psw}") for _ in range(14)]
    try:
        time.sleep(0.3)
        for sock in slow:
            received, closed = _read_all(sock, CLOSED_WITHIN_S)
            assert closed and received == b""
        # Their slots are free again.
        assert strict.call("balance", ip, login=acc.login, psw=psw) == "100.00"
    finally:
        for sock in slow:
            sock.close()


# ---- item 7: heads and bodies have deadlines ---------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        b"",
        b"GET /sys/balance.php?login=a HTT",
        b"GET /sys/balance.php?login=a HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        b"POST /sys/balance.php HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nfmt",
    ],
    ids=["nothing", "request line", "headers", "body"],
)
def test_a_request_that_does_not_arrive_in_time_is_closed(strict: Server, sent: bytes) -> None:
    started = time.monotonic()
    sock = _connect(strict, sent)
    try:
        received, closed = _read_all(sock, CLOSED_WITHIN_S)
        assert closed and received == b""
        assert time.monotonic() - started >= DEADLINE_S * 0.9
    finally:
        sock.close()


def test_a_head_trickled_byte_by_byte_is_closed_at_the_deadline(strict: Server) -> None:
    """The head's deadline counts from its first byte, not from the latest one."""
    sock = _connect(strict, b"G")
    try:
        deadline = time.monotonic() + CLOSED_WITHIN_S
        for byte in b"ET /healthz HTTP/1.1\r\nX-A: " + b"a" * 1000:
            assert time.monotonic() < deadline, "the trickled head was never closed"
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                return
            if select.select([sock], [], [], 0.05)[0] and sock.recv(100) == b"":
                return
        pytest.fail("a head sent over more than its deadline was answered or left open")
    finally:
        sock.close()


def test_a_keep_alive_connection_serves_several_requests(strict: Server, ip: str) -> None:
    acc, psw = strict.account()
    for n in range(3):
        response = strict.client.get(
            "/sys/balance.php",
            params={"login": acc.login, "psw": psw, "n": n},
            headers={"X-Forwarded-For": ip},
        )
        assert response.text == "100.00"
        time.sleep(DEADLINE_S * 0.6)  # between requests the keep-alive timeout applies


# ---- item 8: the body limit -------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_by_its_length_before_it_is_read(
    strict: Server,
) -> None:
    head = (
        "POST /sys/jobs.php?fmt=3 HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {400 * 1024 * 1024}\r\n\r\n"
    )
    sock = _connect(strict, head.encode())
    try:
        received, _closed = _read_all(sock, 3.0)
        status, _, body = received.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 200")
        assert json.loads(body) == {"error": "request body is too large", "error_code": 1}
    finally:
        sock.close()


def test_a_streamed_body_over_the_limit_is_refused_as_it_passes_it(strict: Server, ip: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"fmt=1&mes="
        for _ in range(40):
            yield b"x" * 4096

    response = strict.client.post(
        "/sys/jobs.php",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": ip},
    )
    assert response.status_code == 200
    assert response.text == "0,-1"
    acc, psw = strict.account()
    # Under the limit, a streamed body is read as any other.
    small = iter([f"login={acc.login}&psw={psw}".encode(), b"&fmt=3"])
    response = strict.client.post(
        "/sys/balance.php",
        content=small,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": ip},
    )
    assert json.loads(response.text) == {"balance": "100.00"}


def test_the_body_limit_default_and_its_setting(tmp_path: Path) -> None:
    from tidings.config import Settings

    http = Settings().http
    assert http.max_body_bytes == 64 * 1024 * 1024
    assert (http.header_timeout_s, http.body_timeout_s) == (10.0, 60.0)


def test_a_connection_idle_after_a_refused_body_is_closed(strict: Server) -> None:
    """The rest of a refused body is read and dropped; then the connection waits for its
    next request like any other, and not forever."""
    body = b"fmt=1&mes=" + b"x" * (100 * 1024)
    head = (
        "POST /sys/jobs.php HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    sock = _connect(strict, head.encode() + body)
    try:
        received, closed = _read_all(sock, CLOSED_WITHIN_S)
        assert received.endswith(b"\r\n\r\nERROR = 1 (request body is too large)")
        assert closed
    finally:
        sock.close()

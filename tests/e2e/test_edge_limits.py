"""`tidings api` as a process under hostile clients (issue 11, items 7 and 8): 1,100 slow
connections under a 1,024 open-files limit leave room for others, and a 400 MB body is
refused without the process growing."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tidings.app import open_store
from tidings.config import Settings
from tidings.domain.accounts import hash_password
from tidings.domain.money import to_minor

from .test_serve import _free_port

TIDINGS = Path(sys.executable).with_name("tidings")
SRC = Path(__file__).resolve().parents[2] / "src"
FILES_LIMIT = 1024


@contextmanager
def api_process(
    tmp_path: Path, files_limit: int | None = None, **env: str
) -> Iterator[tuple[int, int]]:
    """`tidings api` on a fresh SQLite store with one account (`user`/`pw`); yields its
    port and pid. `files_limit` sets RLIMIT_NOFILE, as systemd's default of 1,024 would."""
    url = f"sqlite:///{tmp_path / 'tidings.db'}"
    store = open_store(Settings(database_url=url))
    acc = store.create_account("user", hash_password("pw"), datetime.now(UTC), test_mode=True)
    store.add_ledger_entry(acc.id, to_minor("100"), "credit", "test", datetime.now(UTC))
    store.close()
    port = _free_port()

    def limit_files() -> None:
        if files_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (files_limit, files_limit))

    proc = subprocess.Popen(
        [str(TIDINGS), "api", "--db", url, "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(SRC), "TIDINGS_LOG_LEVEL": "warning", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=limit_files,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "the API process exited"
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the API did not answer"
                time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _lists(port: int) -> str:
    """jobs.php get_all: no per-minute limit, unlike balance.php."""
    response = httpx.get(
        f"http://127.0.0.1:{port}/sys/jobs.php",
        params={"login": "user", "psw": "pw", "get_all": 1},
        timeout=30,
    )
    return response.text


# ---- item 7 -----------------------------------------------------------------------------


SLOW = [
    b"GET /sys/balance.php?login=user HTT",
    b"GET /sys/balance.php?login=user&psw=pw HTTP/1.1\r\nHost: x\r\nX-Slow: ",
    b"POST /sys/balance.php?login=user HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nfmt=0",
]


@pytest.mark.timeout(300)
def test_1100_slow_connections_under_1024_files_leave_room_for_others(tmp_path: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2000:
        pytest.skip("this test needs 1,100 sockets of its own")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2000), hard))
    # Deadlines far longer than the test: the connection cap alone must keep the room.
    env = {"TIDINGS_HTTP__HEADER_TIMEOUT_S": "600", "TIDINGS_HTTP__BODY_TIMEOUT_S": "600"}
    slow: list[socket.socket] = []
    try:
        with api_process(tmp_path, files_limit=FILES_LIMIT, **env) as (port, _pid):
            for n in range(1100):
                sock = socket.socket()
                sock.settimeout(10)
                sock.connect(("127.0.0.1", port))
                slow.append(sock)
                # One closed already to make room is still one of the 1,100.
                with contextlib.suppress(OSError):
                    sock.sendall(SLOW[n % len(SLOW)])
            time.sleep(1)
            started = time.monotonic()
            answers: list[str] = []
            for _ in range(30):
                answers.append(_lists(port))
            assert answers == ["NO JOBS"] * 30
            assert time.monotonic() - started < 120
            # Thirty at once, too.
            results: list[str] = []
            threads = [
                threading.Thread(target=lambda: results.append(_lists(port))) for _ in range(30)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            assert results == ["NO JOBS"] * 30
    finally:
        for sock in slow:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# ---- item 8 -----------------------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


HUGE = 400 * 1024 * 1024
MIB = b"x" * (1024 * 1024)


def _stream(port: int, pid: int, head: bytes, chunked: bool) -> tuple[bytes, int]:
    """Send `head` and 400 MB of body as fast as the server takes it; (the answer, the
    largest RSS of the server seen meanwhile, KiB)."""
    peak = _rss_kib(pid)
    sock = socket.create_connection(("127.0.0.1", port))
    done = threading.Event()

    def send() -> None:
        try:
            sock.sendall(head)
            for _ in range(HUGE // len(MIB)):
                sock.sendall(b"100000\r\n" + MIB + b"\r\n" if chunked else MIB)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may close the connection: the body was refused
        finally:
            done.set()

    sender = threading.Thread(target=send)
    sender.start()
    while not done.wait(0.05):
        peak = max(peak, _rss_kib(pid))
    sender.join()
    sock.settimeout(10)
    answer = b""
    try:
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    except OSError:
        pass
    finally:
        sock.close()
    return answer, max(peak, _rss_kib(pid))


@pytest.mark.timeout(300)
def test_a_400_mb_body_is_refused_without_the_process_growing(tmp_path: Path) -> None:
    env = {"TIDINGS_HTTP__MAX_BODY_BYTES": str(8 * 1024 * 1024)}
    with api_process(tmp_path, **env) as (port, pid):
        assert _lists(port) == "NO JOBS"
        base = _rss_kib(pid)
        declared = (
            "POST /sys/jobs.php?fmt=3 HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {HUGE}\r\n\r\n"
        ).encode()
        answer, peak = _stream(port, pid, declared, chunked=False)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert answer.endswith(b'{"error": "request body is too large", "error_code": 1}')
        assert peak - base < 100 * 1024, (base, peak)
        streamed = (
            b"POST /sys/jobs.php?fmt=3 HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        answer, peak = _stream(port, pid, streamed, chunked=True)
        assert answer.endswith(b'{"error": "request body is too large", "error_code": 1}')
        assert peak - base < 100 * 1024, (base, peak)
        assert _lists(port) == "NO JOBS"

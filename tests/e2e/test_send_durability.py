"""An answered send is stored: `tidings serve` killed (-9) right after answering OKs keeps
every message it answered for, once — sends are written together (group commit), and each
is answered only after its transaction commits."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import drop_database, fresh_database_url
from tidings.store.db import open_database

TIDINGS = Path(sys.executable).with_name("tidings")
CONCURRENT = 32


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tidings(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(TIDINGS), *args], env=env, check=True, capture_output=True)


async def _send_until_killed(port: int, proc: subprocess.Popen[bytes], kill_after: int) -> set[str]:
    """Sends from CONCURRENT clients at once; the server is killed the moment `kill_after`
    OKs have come back. Returns the client ids of every send answered OK."""
    answered: set[str] = set()
    counter = iter(range(1_000_000))

    async def client(http: httpx.AsyncClient) -> None:
        while True:
            n = next(counter)
            params = {
                "login": "durable",
                "psw": "durable-pw",
                "phones": f"7916{n:07d}",
                "mes": f"message {n}",
                "id": f"c{n}",
            }
            try:
                body = (await http.get(f"http://127.0.0.1:{port}/sys/send.php", params=params)).text
            except httpx.TransportError:
                return  # the server is gone
            if body.startswith("OK"):
                answered.add(f"c{n}")
                if len(answered) >= kill_after and proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
            else:
                raise AssertionError(f"send refused: {body}")

    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(limits=limits, timeout=10) as http:
        await asyncio.gather(*(client(http) for _ in range(CONCURRENT)))
    return answered


@pytest.mark.parametrize("kill_after", [1, 300])
def test_every_answered_send_survives_a_kill_9(
    backend: str, tmp_path: Path, kill_after: int
) -> None:
    url = fresh_database_url(backend, tmp_path)
    try:
        env = {
            **os.environ,
            "TIDINGS_DATABASE_URL": url,
            "TIDINGS_CONFIG": str(tmp_path / "t.toml"),
        }
        (tmp_path / "t.toml").write_text(
            'log_level = "warning"\n[guards]\nmax_concurrent_per_login = 100\n', encoding="utf-8"
        )
        _tidings("db", "upgrade", env=env)
        _tidings(
            "accounts",
            "create",
            "durable",
            "--password",
            "durable-pw",
            "--balance",
            "1000000",
            "--test-mode",
            env=env,
        )
        port = _free_port()
        proc = subprocess.Popen(
            [str(TIDINGS), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.1)
            answered = asyncio.run(_send_until_killed(port, proc, kill_after))
            assert proc.wait(10) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        assert len(answered) >= kill_after
        db = open_database(url)
        try:
            with db.tx(write=False) as tx:
                rows = tx.all("SELECT client_id, COUNT(*) FROM messages GROUP BY client_id")
        finally:
            db.close()
        stored = dict(rows)
        missing = answered - stored.keys()
        assert not missing, f"{len(missing)} answered sends were lost, e.g. {sorted(missing)[:3]}"
        assert all(count == 1 for count in stored.values())
    finally:
        drop_database(url)

"""`tidings api --workers 2`: two API processes on one port, one SQLite store, and a separate
dispatcher process writing to the same file — the cross-process writer lock keeps every
write, and every list reaches its final status."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tidings.app import open_store
from tidings.config import Settings
from tidings.domain.accounts import hash_password

from .test_serve import _free_port

TIDINGS = Path(sys.executable).with_name("tidings")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _wait_until_answering(proc: subprocess.Popen[bytes], port: int) -> None:
    # Each worker is a fresh interpreter importing everything: slow on a busy 2-core machine.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the API process exited"
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the API did not answer")


@pytest.mark.timeout(240)
def test_two_api_workers_and_a_dispatcher_share_one_sqlite_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tidings.db'}"
    store = open_store(Settings(database_url=url))
    for n in range(4):
        store.create_account(f"user{n}", hash_password("pw"), datetime.now(UTC), test_mode=True)
    store.close()
    port = _free_port()
    env = {**os.environ, "TIDINGS_LOG_LEVEL": "warning", "TIDINGS_VIRTUAL__DELAY_MS": "10"}
    api = subprocess.Popen(
        [str(TIDINGS), "api", "--db", url, "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    dispatcher = subprocess.Popen(
        [str(TIDINGS), "dispatcher", "--db", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_answering(api, port)
        assert len(_children(api.pid)) >= 2, "two worker processes under the supervisor"

        def send(n: int) -> str:
            return httpx.get(
                f"http://127.0.0.1:{port}/sys/send.php",
                params={
                    "login": f"user{n % 4}",
                    "psw": "pw",
                    "phones": f"7916{n:07d}",
                    "mes": "Привет",
                    "id": str(n + 1),  # id=0 would mean "assign one"
                },
                timeout=30,
            ).text

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(send, range(200)))
        assert answers == [f"OK - 1 SMS, ID - {n + 1}" for n in range(200)]

        # Every message is delivered by the dispatcher process meanwhile writing the same file.
        deadline = time.monotonic() + 60
        delivered = 0
        while time.monotonic() < deadline:
            delivered = sum(
                httpx.get(
                    f"http://127.0.0.1:{port}/sys/get.php",
                    params={"get_stat": "1", "login": f"user{n}", "psw": "pw", "fmt": "3"},
                ).json()[0]["delivered"]
                for n in range(4)
            )
            if delivered == 200:
                break
            time.sleep(0.5)
        assert delivered == 200
    finally:
        for proc in (api, dispatcher):
            proc.terminate()
            proc.wait(30)

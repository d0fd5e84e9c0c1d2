"""Benchmark: one 1,000,000-recipient mailing list through a real `tidings serve` process to
the loopback SMSC (node-smpp). Prints the time for jobs.php to accept the list, the time until
every message is handed over, and the server's peak RSS.

Targets (issue 3): accepted ≤ 15 s, all handed over ≤ 5 min, RSS ≤ 250 MB.

    .venv/bin/python bench/fanout.py [--recipients 1000000] [--pg postgresql://…/db]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sim import Simulator

from tidings.app import default_tariff
from tidings.config import Settings
from tidings.domain.accounts import hash_password
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.repository import Store

TIDINGS = str(Path(sys.executable).with_name("tidings"))


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--pg", default="", help="a PostgreSQL URL instead of SQLite")
    args = parser.parse_args()
    sim = Simulator()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite:///{Path(tmp) / 'fanout.db'}"
        migrate.upgrade(url)
        store = Store(open_database(url), default_tariff(Settings()))
        account = store.create_account("fanout", hash_password("fanout"), _now())
        store.add_ledger_entry(account.id, 10**10, "credit", "benchmark", _now())
        store.close()
        config = Path(tmp) / "tidings.toml"
        config.write_text(
            f'log_level = "warning"\n[[smpp]]\nname = "sim"\nhost = "127.0.0.1"\n'
            f'port = {sim.port}\nsystem_id = "tidings"\npassword = "secret"\nwindow = 50\n',
            encoding="utf-8",
        )
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen(
            [TIDINGS, "serve", "--db", url, "--config", str(config), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _run(args.recipients, port, url, server.pid, sim)
        finally:
            server.terminate()
            server.wait(60)
            sim.stop()


def _run(count: int, port: int, url: str, pid: int, sim: Simulator) -> None:
    base = f"http://127.0.0.1:{port}/sys/jobs.php"
    _wait_up(base)
    phones = ",".join(f"7{9160000000 + n}" for n in range(count))
    started = time.perf_counter()
    answer = httpx.post(
        base,
        data={
            "login": "fanout",
            "psw": "fanout",
            "add": "1",
            "name": "fanout",
            "mes": "Fan-out benchmark",
            "phones": phones,
        },
        timeout=300,
    ).text
    accepted = time.perf_counter() - started
    assert answer.startswith("OK"), answer
    print(f"{count:,} recipients accepted by jobs.php in {accepted:.1f} s")
    store = Store(open_database(url), default_tariff(Settings()))
    try:
        while True:
            with store.db.tx(write=False) as tx:
                row = tx.one("SELECT COUNT(*) FROM messages WHERE status <> -1")
            handed = int(row[0]) if row else 0
            if handed >= count:
                break
            time.sleep(1)
    finally:
        store.close()
    total = time.perf_counter() - started
    print(
        f"all handed over after {total:.0f} s ({count / (total - accepted):,.0f} msg/s); "
        f"the SMSC received {sim.submits:,} submit_sm"
    )
    print(f"peak RSS of the tidings serve process: {peak_rss_mb(pid):.0f} MB")


def _wait_up(base: str) -> None:
    for _ in range(100):
        try:
            httpx.get(base, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)


def _now() -> datetime:
    return datetime.now(UTC)


if __name__ == "__main__":
    main()

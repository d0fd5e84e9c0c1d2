"""Benchmark: messages/s end to end — store → dispatcher → SMPP (node-smpp SMSC on loopback)
→ receipt → final status — for window 1, 10 and 50; the same without receipts (until every
message is handed over); and window 50 with a 20 ms SMSC reply delay against window/RTT.

Targets (issue 3, 2-core machine): ≥ 5,000 submits/s and ≥ 3,000 with receipts at window 50;
≥ 90 % of window/RTT with a 20 ms delay.

    .venv/bin/python bench/smpp_dispatch.py [--messages 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sim import Simulator

from tidings.app import build_dispatcher, configure_logging, default_tariff
from tidings.config import Settings
from tidings.domain.accounts import hash_password
from tidings.domain.jobs import JobService, MessageFormat, NewJob
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.repository import Store


def run_once(count: int, window: int, receipts: bool, delay_ms: int) -> float:
    sim = Simulator(reply_delay_ms=delay_ms)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        settings = Settings.model_validate(
            {
                "database_url": url,
                "dispatch": {"tick_s": 0.05},
                "smpp": [
                    {
                        "name": "sim",
                        "host": "127.0.0.1",
                        "port": sim.port,
                        "system_id": "tidings",
                        "password": "secret",
                        "window": window,
                        "request_receipts": receipts,
                    }
                ],
            }
        )
        store = Store(open_database(url), default_tariff(settings))
        now = datetime.now(UTC)
        account = store.create_account("bench", hash_password("bench"), now)
        store.add_ledger_entry(account.id, 10**12, "credit", "bench", now)
        addresses = [f"7916{n:07d}" for n in range(count)]
        job = NewJob(
            name="bench",
            phones_text="",
            addresses=addresses,
            texts=None,
            groups=[],
            message="Benchmark message",
            fmt=MessageFormat.SMS,
            first_run=now,
            zone="Europe/Moscow",
        )
        JobService(store).create(account, job, now, with_cost=False)
        wanted = "status IN (1, 3, 20, 22, 23, 24)" if receipts else "status <> -1"
        elapsed = asyncio.run(_drive(settings, store, wanted, count))
        store.close()
    sim.stop()
    return count / elapsed


async def _drive(settings: Settings, store: Store, wanted: str, count: int) -> float:
    worker = build_dispatcher(settings, store, worker_id="bench")
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(worker.run(stop))

    def done() -> bool:
        with store.db.tx(write=False) as tx:
            row = tx.one(f"SELECT COUNT(*) FROM messages WHERE {wanted}")
        return row is not None and int(row[0]) >= count

    while not await asyncio.to_thread(done):
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    configure_logging("error")
    n = args.messages
    print(f"{n:,} messages, SQLite store, node-smpp SMSC on loopback (store → final status)")
    for window in (1, 10, 50):
        count = min(n, 3000) if window == 1 else n
        with_receipts = run_once(count, window, True, 0)
        without = run_once(count, window, False, 0)
        print(
            f"window {window:>2}: {with_receipts:8,.0f} msg/s with receipts | "
            f"{without:8,.0f} submits/s without receipts"
        )
    delayed = run_once(min(n, 10_000), 50, True, 20)
    # One submit's whole round trip, measured alone (window 1): the SMSC's 20 ms plus the
    # loopback, the simulator's timer and our own record-and-refill of the slot.
    rtt = 1 / run_once(300, 1, False, 20)
    nominal, measured = 50 / 0.020, 50 / rtt
    print(
        f"window 50, SMSC delay 20 ms: {delayed:,.0f} msg/s = {delayed / nominal:.0%} of "
        f"window/20 ms ({nominal:,.0f}/s); one submit alone takes {rtt * 1000:.1f} ms: "
        f"{delayed / measured:.0%} of window/RTT ({measured:,.0f}/s)"
    )


if __name__ == "__main__":
    main()

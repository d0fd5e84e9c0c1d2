"""Helpers for engine tests: a store, accounts, lists created through the job service, and a
dispatcher driven on the test's own event loop."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.conftest import drop_database, fresh_database_url
from tidings.app import build_dispatcher, default_tariff
from tidings.channels.base import Channel
from tidings.channels.virtual import VirtualChannel
from tidings.config import Settings
from tidings.dispatch.sender import Dispatcher
from tidings.domain.accounts import Account, hash_password
from tidings.domain.clock import Clock, to_ts
from tidings.domain.jobs import JobService, JobView, MessageFormat, NewJob
from tidings.domain.money import to_minor
from tidings.domain.phones import parse_recipients
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.repository import Store

# Live (charged) accounts go through the virtual upstream in the engine tests: they follow
# money and statuses without an SMSC unless a test gives its own lanes.
FAST = {"dispatch": {"tick_s": 0.02}, "virtual": {"delay_ms": 20, "serves_live_accounts": True}}


@contextmanager
def engine_store(backend: str, tmp: Path) -> Iterator[Store]:
    url = fresh_database_url(backend, tmp)
    migrate.upgrade(url)
    store = Store(open_database(url), default_tariff(Settings()))
    try:
        yield store
    finally:
        store.close()
        drop_database(url)


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {key: dict(value) for key, value in FAST.items()}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key].update(value)
        else:
            values[key] = value
    return Settings.model_validate(values)


def account(
    store: Store, now: datetime, *, balance: str = "1000", test_mode: bool = False, credit: int = 0
) -> Account:
    acc = store.create_account(
        f"e{secrets.token_hex(5)}", hash_password("pw"), now, test_mode=test_mode
    )
    if balance != "0":
        store.add_ledger_entry(acc.id, to_minor(balance), "credit", "test", now)
    if credit:
        with store.db.tx() as tx:
            tx.execute("UPDATE accounts SET credit_limit_minor = ? WHERE id = ?", (credit, acc.id))
    found = store.account(acc.id)
    assert found is not None
    return found


def create_list(
    store: Store,
    acc: Account,
    phones: str,
    now: datetime,
    *,
    message: str = "Hello",
    mail: bool = False,
    **fields: Any,
) -> int:
    parsed = parse_recipients(phones, mail=mail)
    job = NewJob(
        name="Engine",
        phones_text=phones,
        addresses=parsed.recipients,
        texts=None,
        groups=parsed.groups,
        message=message,
        fmt=MessageFormat.MAIL if mail else MessageFormat.SMS,
        first_run=fields.pop("first_run", now),
        zone=fields.pop("zone", "Europe/Moscow"),
        subject="Subject" if mail else "",
        **fields,
    )
    return JobService(store).create(acc, job, now, with_cost=False).job_id


def view(store: Store, acc: Account, job_id: int) -> JobView:
    found = store.get_job(acc.id, job_id)
    assert found is not None
    return found


def statuses(store: Store, acc: Account) -> dict[int, int]:
    """Message status → count for the account."""
    with store.db.tx(write=False) as tx:
        rows = tx.all(
            "SELECT status, COUNT(*) FROM messages WHERE account_id = ? GROUP BY status", (acc.id,)
        )
    return {int(s): int(n) for s, n in rows}


def dispatcher(
    store: Store,
    clock: Clock,
    cfg: Settings | None = None,
    lanes: list[tuple[Channel, int]] | None = None,
    worker_id: str = "test-worker",
) -> Dispatcher:
    cfg = cfg or settings()
    if lanes is None:
        lanes = [
            (VirtualChannel(cfg.virtual.delay_ms, cfg.virtual.failures, seed=7), cfg.virtual.window)
        ]
    return build_dispatcher(cfg, store, clock, lanes=lanes, worker_id=worker_id)


async def drive(
    worker: Dispatcher,
    until: Callable[[], bool],
    timeout: float = 20.0,
    during: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run the dispatcher until `until()` holds (checked off the event loop), then stop it
    gracefully."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not await asyncio.to_thread(until):
            if task.done():
                task.result()
            assert loop.time() < deadline, "condition not reached in time"
            if during is not None:
                await during()
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        done, _pending = await asyncio.wait({task}, timeout=30)
        if not done:
            for other in asyncio.all_tasks():
                other.print_stack(limit=4)
            raise AssertionError("the dispatcher did not stop")
        task.result()


def ts(moment: datetime) -> int:
    return to_ts(moment)

"""Inbound messages through the whole engine against the node-smpp SMSC, on SQLite and
PostgreSQL: stored before they are answered, owned by an assigned number or as a reply to a
list's message, long ones joined from parts in any order or kept with a part missing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.engine_support import (
    account,
    create_list,
    drive,
    engine_store,
    settings,
    view,
)
from tests.integration.smsc_sim import SmscSim, StartSim, start_sim_fixture  # noqa: F401
from tidings.app import build_dispatcher
from tidings.config import Settings
from tidings.domain.clock import SystemClock
from tidings.domain.inbound import InboundService, Route
from tidings.store.inbound_reads import InboundQueries
from tidings.store.repository import Store

NUMBER = "79001112233"
PHONE = "79161234567"
UDHI = 0x40


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with engine_store(backend, tmp_path_factory.mktemp("inbound")) as s:
        yield s


def smpp_settings(sim: SmscSim, **inbound: Any) -> Settings:
    upstream = {
        "name": "sim",
        "host": "127.0.0.1",
        "port": sim.port,
        "system_id": "tidings",
        "password": "secret",
    }
    return settings(smpp=[upstream], inbound=inbound)


def inbound_rows(store: Store) -> list[dict[str, Any]]:
    with store.db.tx(write=False) as tx:
        rows = tx.all(
            "SELECT account_id, upstream, phone, to_phone, text, route, stop, message_id, "
            "job_pk, parts, missing FROM inbound_messages ORDER BY id"
        )
    keys = "account_id upstream phone to_phone text route stop message_id job_pk parts missing"
    return [dict(zip(keys.split(), r, strict=True)) for r in rows]


def ucs2_parts(text: str, size: int) -> list[bytes]:
    return [text[i : i + size].encode("utf-16-be") for i in range(0, len(text), size)]


def udh(ref: int, total: int, seq: int) -> bytes:
    return bytes((5, 0, 3, ref, total, seq))


def test_an_mo_to_an_assigned_number_is_answered_only_once_stored(
    store: Store, start_sim: StartSim, backend: str
) -> None:
    sim = start_sim(commands=True)
    clock = SystemClock()
    acc = account(store, clock.now())
    InboundService(InboundQueries(store.db)).assign("+" + NUMBER, acc, clock.now())
    worker = build_dispatcher(smpp_settings(sim), store, clock, worker_id="w1")
    # Another connection holds the tables the MO is written to: until it lets go, the MO
    # cannot be stored, so it must not be answered.
    blocker = store.db  # a transaction of its own, in another thread
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with blocker.tx() as tx:
            if backend == "postgresql":
                tx.execute("LOCK TABLE inbound_messages IN EXCLUSIVE MODE")
            else:
                tx.execute("UPDATE accounts SET region = region WHERE id = ?", (acc.id,))
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)

    async def scenario() -> None:
        await asyncio.to_thread(sim.wait_for, lambda e: e["event"] == "bind")
        holder.start()
        await asyncio.to_thread(held.wait, 10)
        sim.mo("Привет".encode("utf-16-be"), destination=NUMBER, data_coding=8)
        await asyncio.to_thread(sim.wait_for, lambda e: e["event"] == "mo_sent")
        await asyncio.sleep(1.0)
        assert sim.of("mo_resp") == [], "answered before it was stored"
        release.set()
        await sim.until(lambda: bool(sim.of("mo_resp")))

    stop = asyncio.Event()

    async def main() -> None:
        task = asyncio.create_task(worker.run(stop))
        try:
            await asyncio.wait_for(scenario(), 60)
        finally:
            release.set()
            stop.set()
            await asyncio.wait_for(task, 30)

    asyncio.run(main())
    holder.join(10)
    assert sim.of("mo_resp")[0]["status"] == 0
    [row] = inbound_rows(store)
    assert row["account_id"] == acc.id and row["route"] == Route.NUMBER
    assert (row["phone"], row["to_phone"], row["text"], row["upstream"]) == (
        PHONE,
        NUMBER,
        "Привет",
        "sim",
    )


def test_replies_to_a_list_message_whole_in_parts_out_of_order_and_with_a_part_missing(
    store: Store, start_sim: StartSim
) -> None:
    sim = start_sim(commands=True)
    clock = SystemClock()
    acc = account(store, clock.now())
    other = account(store, clock.now())
    job_id = create_list(store, acc, PHONE, clock.now(), sender=NUMBER)
    cfg = smpp_settings(sim, part_timeout_s=1)
    worker = build_dispatcher(cfg, store, clock, worker_id="w1")
    long_text = "Спасибо, получили ваше сообщение! " * 5  # 170 characters: 3 UCS-2 parts
    parts = ucs2_parts(long_text, 67)
    assert len(parts) == 3

    async def scenario() -> None:
        while view(store, acc, job_id).status != 1:
            await asyncio.sleep(0.05)
        sim.mo(b"OK", source=PHONE, destination=NUMBER)
        for seq in (3, 1, 2):
            sim.mo(udh(7, 3, seq) + parts[seq - 1], source=PHONE, destination=NUMBER,
                   data_coding=8, esm_class=UDHI)  # fmt: skip
        # Parts 1 and 3 of another message; part 2 never comes (SAR this time).
        for seq in (1, 3):
            sim.mo(parts[seq - 1], source=PHONE, destination=NUMBER, data_coding=8,
                   sar=(700, 3, seq))  # fmt: skip
        # From a phone nobody wrote to: nobody's.
        sim.mo(b"who?", source="79169999999", destination=NUMBER)
        await sim.until(lambda: len(sim.of("mo_resp")) == 7, timeout=20)

    def settled() -> bool:
        return len(inbound_rows(store)) == 4

    asyncio.run(drive(worker, settled, timeout=60, during=_once(scenario)))
    assert [e["status"] for e in sim.of("mo_resp")] == [0] * 7
    rows = inbound_rows(store)
    by_text = {r["text"]: r for r in rows}
    with store.db.tx(write=False) as tx:
        sent = tx.one("SELECT id, job_pk FROM messages WHERE account_id = ?", (acc.id,))
    assert sent is not None
    for text in ("OK", long_text):
        row = by_text[text]
        assert (row["account_id"], row["route"], row["message_id"], row["job_pk"]) == (
            acc.id, Route.REPLY, sent[0], sent[1],
        )  # fmt: skip
    assert by_text[long_text]["parts"] == 3 and by_text[long_text]["missing"] == 0
    gap = next(r for r in rows if r["missing"])
    assert gap["text"] == parts[0].decode("utf-16-be") + "[…]" + parts[2].decode("utf-16-be")
    assert (gap["account_id"], gap["route"], gap["parts"], gap["missing"]) == (
        acc.id, Route.REPLY, 3, 1,
    )  # fmt: skip
    nobody = by_text["who?"]
    assert (nobody["account_id"], nobody["route"]) == (None, Route.UNASSIGNED)
    assert all(r["account_id"] != other.id for r in rows)


def _once(scenario: Any) -> Any:
    """`drive`'s `during`, running the scenario once, beside the dispatcher."""
    started: list[asyncio.Task[None]] = []

    async def during() -> None:
        if not started:
            started.append(asyncio.create_task(scenario()))
        elif started[0].done():
            started[0].result()

    return during

"""The whole engine against a real SMSC (the node-smpp simulator): store → SMPP → receipt →
final status, with money, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.integration.engine_support import (
    account,
    create_list,
    drive,
    engine_store,
    settings,
    statuses,
    view,
)
from tests.integration.smsc_sim import SmscSim, StartSim, start_sim_fixture  # noqa: F401
from tidings.app import build_dispatcher
from tidings.config import Settings
from tidings.domain.clock import SystemClock
from tidings.store.repository import Store


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with engine_store(backend, tmp_path_factory.mktemp("smpp")) as s:
        yield s


def smpp_settings(sim: SmscSim, **upstream: object) -> Settings:
    return settings(
        smpp=[
            {
                "name": "sim",
                "host": "127.0.0.1",
                "port": sim.port,
                "system_id": "tidings",
                "password": "secret",
                **upstream,
            }
        ]
    )


def phones(n: int) -> str:
    return ",".join(f"7916{i:07d}" for i in range(n))


def test_a_thousand_recipient_list_is_sent_and_every_receipt_lands(
    store: Store, start_sim: StartSim
) -> None:
    sim = start_sim()
    clock = SystemClock()
    acc = account(store, clock.now(), balance="5000")
    job_id = create_list(store, acc, phones(1000), clock.now())
    worker = build_dispatcher(smpp_settings(sim), store, clock, worker_id="w1")
    asyncio.run(drive(worker, lambda: view(store, acc, job_id).status == 1, timeout=60))
    got = view(store, acc, job_id)
    assert (got.status, got.sms_sent, got.sms_ok, got.phones_cnt) == (1, 1000, 1000, 1000)
    assert got.cost_minor == 1000 * 180
    assert statuses(store, acc) == {1: 1000}
    assert store.balance(acc.id) == 500_000 - 180_000 == store.ledger_sum(acc.id)
    sim.stop()
    destinations = Counter(s["destination_addr"] for s in sim.submits)
    assert len(destinations) == 1000 and max(destinations.values()) == 1
    # Each receipt answered once, after it was recorded.
    assert [r["status"] for r in sim.of("deliver_sm_resp")] == [0] * 1000


def test_receipts_that_overtake_their_submit_response_still_match(
    store: Store, start_sim: StartSim
) -> None:
    sim = start_sim(receipt_first=True)
    clock = SystemClock()
    acc = account(store, clock.now())
    job_id = create_list(store, acc, phones(50), clock.now())
    worker = build_dispatcher(smpp_settings(sim), store, clock, worker_id="w1")
    asyncio.run(drive(worker, lambda: view(store, acc, job_id).status == 1, timeout=60))
    assert statuses(store, acc) == {1: 50}
    sim.stop()
    # Stored (or applied) before they were answered: none left with the SMSC.
    assert len(sim.of("deliver_sm_resp")) == 50


def test_undeliverable_receipts_and_rejected_numbers_are_final_failures(
    store: Store, start_sim: StartSim
) -> None:
    sim = start_sim(receipt_stat="UNDELIV", reject_dest="79160000003")
    clock = SystemClock()
    acc = account(store, clock.now())
    job_id = create_list(store, acc, phones(5), clock.now())
    worker = build_dispatcher(smpp_settings(sim), store, clock, worker_id="w1")
    asyncio.run(drive(worker, lambda: view(store, acc, job_id).status == 1, timeout=60))
    assert statuses(store, acc) == {20: 4, 22: 1}
    got = view(store, acc, job_id)
    # The rejected number was never handed over: it is refunded; the others are charged.
    assert (got.sms_sent, got.sms_ok, got.cost_minor) == (4, 0, 4 * 180)
    assert store.balance(acc.id) == 100_000 - 4 * 180 == store.ledger_sum(acc.id)


def test_long_cyrillic_list_messages_go_out_in_parts_and_are_charged_per_part(
    store: Store, start_sim: StartSim
) -> None:
    sim = start_sim()
    clock = SystemClock()
    acc = account(store, clock.now())
    text = "Привет! " * 25  # 200 characters: 3 UCS-2 parts
    job_id = create_list(store, acc, phones(2), clock.now(), message=text)
    worker = build_dispatcher(smpp_settings(sim), store, clock, worker_id="w1")
    asyncio.run(drive(worker, lambda: view(store, acc, job_id).status == 1, timeout=60))
    assert statuses(store, acc) == {1: 2}
    assert view(store, acc, job_id).cost_minor == 2 * 3 * 180
    sim.stop()
    parts = [s for s in sim.submits if s["destination_addr"] == "79160000000"]
    assert len(parts) == 3
    headers = [bytes.fromhex(p["short_message_hex"])[:6] for p in parts]
    assert [h[:3] for h in headers] == [b"\x05\x00\x03"] * 3
    assert [h[4:] for h in headers] == [b"\x03\x01", b"\x03\x02", b"\x03\x03"]
    body = b"".join(bytes.fromhex(p["short_message_hex"])[6:] for p in parts)
    assert body.decode("utf-16-be") == text

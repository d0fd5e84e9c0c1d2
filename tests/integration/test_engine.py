"""The sending engine on the virtual upstream, on SQLite and PostgreSQL: runs, money,
cancellation, repeats, groups, stop lists, expiry, windows and portions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.integration.engine_support import (
    account,
    create_list,
    dispatcher,
    drive,
    engine_store,
    settings,
    statuses,
    ts,
    view,
)
from tidings.app import build_dispatcher
from tidings.channels.base import (
    OutboundMessage,
    Receipt,
    ReceiptHandler,
    SubmitResult,
    accepted,
)
from tidings.domain.accounts import Account
from tidings.domain.clock import FakeClock, SystemClock
from tidings.domain.lifecycle import MessageStatus
from tidings.domain.schedule import HourWindow
from tidings.store.repository import Store


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with engine_store(backend, tmp_path_factory.mktemp("engine")) as s:
        yield s


def phones(n: int, start: int = 0) -> str:
    return ",".join(f"7916{i:07d}" for i in range(start, start + n))


def test_a_list_runs_to_the_end_and_is_charged_exactly(store: Store) -> None:
    clock = SystemClock()
    acc = account(store, clock.now(), balance="1000")
    job_id = create_list(store, acc, phones(100), clock.now())
    asyncio.run(drive(dispatcher(store, clock), lambda: view(store, acc, job_id).status == 1))
    got = view(store, acc, job_id)
    assert (got.sms_sent, got.sms_ok, got.phones_cnt) == (100, 100, 100)
    assert got.cost_minor == 100 * 180
    assert got.last_sent is not None
    assert statuses(store, acc) == {1: 100}
    assert store.balance(acc.id) == 100_000 - 18_000
    assert store.ledger_sum(acc.id) == store.balance(acc.id)


def test_test_mode_is_priced_but_not_charged(store: Store) -> None:
    clock = SystemClock()
    acc = account(store, clock.now(), balance="10", test_mode=True)
    job_id = create_list(store, acc, phones(20), clock.now())
    asyncio.run(drive(dispatcher(store, clock), lambda: view(store, acc, job_id).status == 1))
    assert view(store, acc, job_id).cost_minor == 20 * 180
    assert store.balance(acc.id) == 1000 == store.ledger_sum(acc.id)


def test_messages_beyond_the_balance_and_credit_get_status_24(store: Store) -> None:
    clock = SystemClock()
    acc = account(store, clock.now(), balance="5.00", credit=200)  # 7.00 to spend: 3 SMS
    job_id = create_list(store, acc, phones(5), clock.now())
    asyncio.run(drive(dispatcher(store, clock), lambda: view(store, acc, job_id).status == 1))
    assert statuses(store, acc) == {1: 3, 24: 2}
    assert store.balance(acc.id) == 500 - 3 * 180
    assert store.balance(acc.id) >= -200
    got = view(store, acc, job_id)
    assert (got.sms_sent, got.sms_ok, got.cost_minor) == (3, 3, 540)


def test_cancel_mid_run_stops_the_unsent_without_charging_them(store: Store) -> None:
    clock = SystemClock()
    acc = account(store, clock.now(), balance="1000")
    # 12 recipients over 3 portions 60 minutes apart: only the first portion is due now.
    job_id = create_list(store, acc, phones(12), clock.now(), period="3", freq=60)
    worker = dispatcher(store, clock)
    asyncio.run(drive(worker, lambda: statuses(store, acc).get(1, 0) == 4))
    store.cancel_job(acc.id, job_id, clock.now())
    assert statuses(store, acc) == {1: 4, -2: 8}
    asyncio.run(
        drive(dispatcher(store, clock), lambda: store.db is not None and _run_finished(store, acc))
    )
    got = view(store, acc, job_id)
    assert got.status == -2
    assert got.cost_minor == 4 * 180
    assert store.balance(acc.id) == 100_000 - 4 * 180 == store.ledger_sum(acc.id)


def _run_finished(store: Store, acc: object) -> bool:
    with store.db.tx(write=False) as tx:
        row = tx.one("SELECT COUNT(*) FROM runs WHERE status = 0")
    return row == (0,)


def test_portions_spread_a_run_over_its_period(store: Store) -> None:
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc = account(store, clock.now())
    create_list(store, acc, phones(10), clock.now(), period="1", freq=15)
    dispatcher(store, clock)._scheduler.tick()
    with store.db.tx(write=False) as tx:
        rows = tx.all("SELECT due_at, COUNT(*) FROM messages GROUP BY due_at ORDER BY due_at")
    start = ts(clock.now())
    assert [(d - start, n) for d, n in rows] == [(0, 3), (900, 3), (1800, 2), (2700, 2)]


def test_groups_are_resolved_at_each_run_minus_the_stop_list(store: Store) -> None:
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc = account(store, clock.now())
    group = _group(store, acc.id, 5, ["79160000001", "79160000002", "79160000003"])
    _blacklist(store, acc.id, "79160000002")
    job_id = create_list(store, acc, "G5,79160000009", clock.now(), rpt=1, rptn=2)
    asyncio.run(drive(dispatcher(store, clock), lambda: _settled(store, acc, job_id, 3)))
    first = view(store, acc, job_id)
    assert first.status == -1
    assert (first.phones_cnt, first.sms_ok) == (3, 3)  # 0001, 0003 and 0009
    _add_member(store, acc.id, group, "79160000004")
    clock.advance(3600)
    asyncio.run(drive(dispatcher(store, clock), lambda: view(store, acc, job_id).status == 1))
    second = view(store, acc, job_id)
    assert (second.phones_cnt, second.sms_ok, second.sms_sent) == (4, 7, 7)
    with store.db.tx(write=False) as tx:
        sent = {r[0] for r in tx.all("SELECT address FROM messages")}
    assert "79160000002" not in sent and "79160000004" in sent


def _settled(store: Store, acc: Account, job_id: int, delivered: int) -> bool:
    """The list delivered that many in all and is between runs (or done)."""
    got = view(store, acc, job_id)
    return got.sms_ok == delivered and got.status in (-1, 1)


def _group(store: Store, account_id: int, num: int, members: list[str]) -> int:
    with store.db.tx() as tx:
        row = tx.one(
            "INSERT INTO contact_groups (account_id, num, name, created_at) "
            "VALUES (?, ?, ?, 0) RETURNING id",
            (account_id, num, f"g{num}"),
        )
        assert row is not None
    for phone in members:
        _add_member(store, account_id, int(row[0]), phone)
    return int(row[0])


def _add_member(store: Store, account_id: int, group_id: int, phone: str) -> None:
    with store.db.tx() as tx:
        contact = tx.one(
            "INSERT INTO contacts (account_id, phone, created_at) VALUES (?, ?, 0) RETURNING id",
            (account_id, phone),
        )
        assert contact is not None
        tx.execute(
            "INSERT INTO group_members (group_id, contact_id) VALUES (?, ?)", (group_id, contact[0])
        )


def _blacklist(store: Store, account_id: int, phone: str) -> None:
    with store.db.tx() as tx:
        tx.execute(
            "INSERT INTO blacklist (account_id, address, type, created_at) VALUES (?, ?, 0, 0)",
            (account_id, phone),
        )


def test_repeats_keep_local_time_across_dst_and_stop_after_rptn(store: Store) -> None:
    berlin_9am = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # 09:00 CET, the day before DST
    clock = FakeClock(berlin_9am)
    acc = account(store, clock.now())
    job_id = create_list(store, acc, phones(2), clock.now(), rpt=2, rptn=3, zone="Europe/Berlin")
    needs = []
    for run in range(3):
        asyncio.run(
            drive(
                dispatcher(store, clock),
                lambda run=run: _settled(store, acc, job_id, 2 * (run + 1)),
            )
        )
        got = view(store, acc, job_id)
        needs.append(got.need_date)
        if got.status == 1:
            break
        assert got.need_date is not None
        clock.set(got.need_date)
    assert needs[0] == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert needs[1] == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    final = view(store, acc, job_id)
    assert (final.status, final.sms_sent, final.sms_ok) == (1, 6, 6)


def test_unsent_messages_expire_when_their_validity_runs_out(store: Store) -> None:
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc = account(store, clock.now())
    job_id = create_list(store, acc, phones(4), clock.now(), validity_min=60)
    worker = dispatcher(store, clock)
    worker._scheduler.tick()
    clock.advance(2 * 3600)
    asyncio.run(drive(worker, lambda: view(store, acc, job_id).status == 1))
    assert statuses(store, acc) == {3: 4}
    assert store.balance(acc.id) == 100_000  # never handed over, never charged


def test_hour_window_follows_each_recipients_local_time(store: Store) -> None:
    # 12:00 UTC: 15:00 in Moscow (open 9-18) and 22:00 in Vladivostok (closed).
    clock = FakeClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    acc = account(store, clock.now())
    moscow, vladivostok = "79161234567", "74232223344"
    job_id = create_list(
        store, acc, f"{moscow},{vladivostok}", clock.now(), window=HourWindow(9, 18)
    )
    worker = dispatcher(store, clock)
    asyncio.run(drive(worker, lambda: statuses(store, acc).get(1) == 1))
    with store.db.tx(write=False) as tx:
        held = tx.one("SELECT status, due_at FROM messages WHERE address = ?", (vladivostok,))
    # Held until 09:00 in Vladivostok (UTC+10) the next morning: 23:00 UTC.
    assert held == (-1, ts(datetime(2026, 6, 1, 23, 0, tzinfo=UTC)))
    clock.set(datetime(2026, 6, 1, 23, 0, 1, tzinfo=UTC))
    asyncio.run(drive(dispatcher(store, clock), lambda: view(store, acc, job_id).status == 1))
    assert statuses(store, acc) == {1: 2}


def test_virtual_failures_are_final_and_not_counted_as_delivered(store: Store) -> None:
    clock = SystemClock()
    acc = account(store, clock.now())
    job_id = create_list(store, acc, phones(10), clock.now())
    cfg = settings(virtual={"failures": {20: 1.0}})
    asyncio.run(
        drive(
            build_dispatcher(cfg, store, clock, worker_id="w"),
            lambda: view(store, acc, job_id).status == 1,
        )
    )
    got = view(store, acc, job_id)
    assert (got.sms_sent, got.sms_ok) == (10, 0)
    assert statuses(store, acc) == {20: 10}
    # Handed over, so charged even though not delivered.
    assert got.cost_minor == 10 * 180


def test_long_messages_are_charged_per_part(store: Store) -> None:
    clock = SystemClock()
    acc = account(store, clock.now())
    job_id = create_list(store, acc, phones(3), clock.now(), message="Ж" * 100)  # 2 parts
    asyncio.run(drive(dispatcher(store, clock), lambda: view(store, acc, job_id).status == 1))
    assert view(store, acc, job_id).cost_minor == 3 * 2 * 180
    assert Decimal(store.balance(acc.id)) == 100_000 - 1080


def test_a_failed_run_start_leaves_the_list_waiting(store: Store) -> None:
    """A run opens in one transaction: if it fails half-way, nothing of it remains."""
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc = account(store, clock.now())
    job_id = create_list(store, acc, phones(5), clock.now())
    worker = dispatcher(store, clock)
    original = worker._scheduler._plan

    def broken(*args: object) -> object:
        raise RuntimeError("boom")

    worker._scheduler._plan = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        worker._scheduler.tick()
    worker._scheduler._plan = original  # type: ignore[method-assign]
    assert view(store, acc, job_id).status == -1
    with store.db.tx(write=False) as tx:
        assert tx.one("SELECT COUNT(*) FROM runs") == (0,)
        assert tx.one("SELECT COUNT(*) FROM messages") == (0,)


def _held_and_armed(
    store: Store, clock: FakeClock, held: int, armed: int, **fields: object
) -> tuple[Account, int]:
    """A crashed dispatcher's state: `held` messages claimed (charged, never written) and
    `armed` of them marked as possibly written."""
    acc = account(store, clock.now())
    job_id = create_list(store, acc, phones(held), clock.now(), **fields)
    worker = dispatcher(store, clock, worker_id="crashy")
    worker._scheduler.tick()
    claimed = worker._claim_tx("virtual", held)
    assert len(claimed) == held
    assert worker._settle_tx("virtual", [], claimed[:armed]) == claimed[:armed]
    return acc, job_id


def test_after_a_crash_held_messages_are_released_and_only_armed_ones_are_ambiguous(
    store: Store,
) -> None:
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc, job_id = _held_and_armed(store, clock, held=10, armed=4)
    restarted = dispatcher(store, clock, worker_id="crashy")
    restarted._recover_own_leases()
    assert statuses(store, acc) == {20: 4, -1: 6}
    with store.db.tx(write=False) as tx:
        assert tx.one("SELECT COUNT(*) FROM messages WHERE lease_owner IS NOT NULL") == (0,)
    # The released ones go out once, charged once (on their first claim).
    asyncio.run(drive(restarted, lambda: view(store, acc, job_id).status == 1))
    assert statuses(store, acc) == {20: 4, 1: 6}
    assert store.balance(acc.id) == 100_000 - 10 * 180 == store.ledger_sum(acc.id)


def test_another_dispatcher_releases_held_messages_of_an_expired_lease(store: Store) -> None:
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc, _job_id = _held_and_armed(store, clock, held=5, armed=2)
    clock.advance(settings().dispatch.lease_s + 1)
    dispatcher(store, clock, worker_id="other")._sweep()
    assert statuses(store, acc) == {20: 2, -1: 3}


def test_held_messages_of_a_cancelled_list_are_stopped_and_refunded(store: Store) -> None:
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc = account(store, clock.now())
    job_id = create_list(store, acc, phones(6), clock.now())
    worker = dispatcher(store, clock)
    worker._scheduler.tick()
    claimed = worker._claim_tx("virtual", 6)
    assert store.balance(acc.id) == 100_000 - 6 * 180
    store.cancel_job(acc.id, job_id, clock.now())  # held messages are leased: not stopped yet
    assert worker._settle_tx("virtual", [], claimed) == []
    assert statuses(store, acc) == {-2: 6}
    assert view(store, acc, job_id).cost_minor == 0
    assert store.balance(acc.id) == 100_000 == store.ledger_sum(acc.id)


def test_cancelling_a_list_refunds_released_messages_charged_before(store: Store) -> None:
    """A held message released by a restart keeps its one charge for when it goes out; if
    its list is cancelled first, that charge comes back."""
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc, job_id = _held_and_armed(store, clock, held=6, armed=2)
    dispatcher(store, clock, worker_id="crashy")._recover_own_leases()
    assert statuses(store, acc) == {20: 2, -1: 4}
    assert store.balance(acc.id) == 100_000 - 6 * 180
    store.cancel_job(acc.id, job_id, clock.now())
    assert statuses(store, acc) == {20: 2, -2: 4}
    # The two possibly sent stay charged; the four never sent are given back.
    assert store.balance(acc.id) == 100_000 - 2 * 180 == store.ledger_sum(acc.id)
    assert view(store, acc, job_id).cost_minor == 2 * 180


def test_a_dead_dispatchers_armed_message_out_of_time_is_given_up_not_refunded(
    store: Store,
) -> None:
    """Found by the lifecycle property test: the sweep expired (and refunded) a message the
    dead dispatcher had armed when its validity ran out before its lease, though it may have
    been written; on_ambiguous=skip keeps such a message charged as 20, err 1001."""
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc, _job_id = _held_and_armed(store, clock, held=2, armed=1, validity_min=1)
    clock.advance(settings().dispatch.lease_s + 1)  # past the lease and the validity
    dispatcher(store, clock, worker_id="other")._sweep()
    assert statuses(store, acc) == {20: 1, 3: 1}  # the held one never went out: refunded
    assert store.balance(acc.id) == 100_000 - 180 == store.ledger_sum(acc.id)


def test_a_claim_leaves_a_dead_dispatchers_armed_message_to_on_ambiguous(store: Store) -> None:
    """Found by the lifecycle property test: once the lease of a dead dispatcher ran out,
    another one's claim took its armed messages like any waiting one — sent again although
    on_ambiguous=skip promises no duplicate (or, out of time, expired and refunded)."""
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc, _job_id = _held_and_armed(store, clock, held=2, armed=1)
    clock.advance(settings().dispatch.lease_s + 1)
    other = dispatcher(store, clock, worker_id="other")
    with store.db.tx(write=False) as tx:
        held = tx.one("SELECT id FROM messages WHERE upstream = ''")
    assert held is not None
    assert [c.row.id for c in other._claim_tx("virtual", 5)] == [held[0]]
    other._sweep()
    assert statuses(store, acc) == {20: 1, -1: 1}


def test_cancelling_a_list_leaves_a_dead_dispatchers_armed_message_to_on_ambiguous(
    store: Store,
) -> None:
    """Found by the lifecycle property test: a cancel stopped and refunded a message the
    dead dispatcher had armed (its lease ran out), though it may have been written."""
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc, job_id = _held_and_armed(store, clock, held=2, armed=1)
    clock.advance(settings().dispatch.lease_s + 1)
    store.cancel_job(acc.id, job_id, clock.now())
    assert statuses(store, acc) == {-2: 1, -1: 1}  # the held one, never written, is stopped
    dispatcher(store, clock, worker_id="other")._sweep()
    assert statuses(store, acc) == {-2: 1, 20: 1}
    assert store.balance(acc.id) == 100_000 - 180 == store.ledger_sum(acc.id)
    assert view(store, acc, job_id).cost_minor == 180


class SilentUpstream:
    """Takes every message (an upstream id per part) and sends no receipt: the test hands
    the receipts over itself."""

    name = "virtual"

    async def start(self, on_receipt: ReceiptHandler) -> None:
        pass

    async def submit(self, message: OutboundMessage) -> SubmitResult:
        parts = range(1, message.parts + 1)
        return accepted(tuple(f"s{message.message_id}.{p}" for p in parts))

    async def stop(self, *, drain: bool = True) -> None:
        pass


def test_a_part_receipt_sent_again_later_counts_once(store: Store) -> None:
    """The SMSC sends a receipt again when ours was not acknowledged before a crash: the
    first part of a long message delivered twice must not make the message delivered."""
    clock = SystemClock()
    acc = account(store, clock.now())
    job_id = create_list(store, acc, phones(1), clock.now(), message="Ж" * 100)  # 2 parts
    worker = dispatcher(store, clock, lanes=[(SilentUpstream(), 10)])
    asyncio.run(drive(worker, lambda: view(store, acc, job_id).sms_sent == 1))
    with store.db.tx(write=False) as tx:
        row = tx.one("SELECT id FROM messages WHERE account_id = ?", (acc.id,))
    assert row is not None
    first, second = (Receipt("virtual", f"s{row[0]}.{p}", MessageStatus.DELIVERED) for p in (1, 2))
    assert worker._record_receipts([first]) == []
    assert worker._record_receipts([first]) == []  # the resend, in a later batch
    assert worker._record_receipts([first, first]) == []  # and twice in one batch
    assert statuses(store, acc) == {0: 1}  # still waiting for its second part
    worker._record_receipts([second])
    assert statuses(store, acc) == {1: 1}
    assert view(store, acc, job_id).sms_ok == 1

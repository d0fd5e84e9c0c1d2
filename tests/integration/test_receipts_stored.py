"""Receipts that overtake their submit's result are stored in the transaction that lets them be
acknowledged, and matched later: with the result, by the periodic retry, or dropped (counted)
after the retention. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import structlog

from tests.integration.engine_support import (
    account,
    create_list,
    dispatcher,
    engine_store,
    settings,
    statuses,
)
from tidings.channels.base import Receipt, accepted
from tidings.dispatch.claims import Claimed
from tidings.dispatch.sender import Dispatcher
from tidings.domain.accounts import Account
from tidings.domain.clock import FakeClock
from tidings.domain.lifecycle import MessageStatus
from tidings.store.repository import Store


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with engine_store(backend, tmp_path_factory.mktemp("receipts")) as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))


def armed(store: Store, clock: FakeClock, worker: Dispatcher, count: int) -> list[Claimed]:
    """`count` messages claimed and armed, as if written to the upstream."""
    worker._scheduler.tick()
    claimed = worker._claim_tx("virtual", count)
    assert len(claimed) == count
    assert worker._settle_tx("virtual", [], claimed) == claimed
    return claimed


def upstream_id(item: Claimed) -> str:
    return f"u{item.row.id}"


def delivered(item: Claimed) -> Receipt:
    return Receipt("virtual", upstream_id(item), MessageStatus.DELIVERED)


def stored(store: Store) -> int:
    with store.db.tx(write=False) as tx:
        row = tx.one("SELECT COUNT(*) FROM unmatched_receipts")
    assert row is not None
    return int(row[0])


def new_list(store: Store, clock: FakeClock, count: int) -> Account:
    acc = account(store, clock.now())
    create_list(store, acc, ",".join(f"7916{i:07d}" for i in range(count)), clock.now())
    return acc


def test_a_receipt_before_its_result_is_stored_and_applied_with_the_result(
    store: Store, clock: FakeClock
) -> None:
    acc = new_list(store, clock, 3)
    worker = dispatcher(store, clock)
    items = armed(store, clock, worker, 3)
    early = delivered(items[0])
    # Not known yet: stored (so it may be acknowledged), not lost.
    assert worker._record_receipts([early]) == [early]
    assert stored(store) == 1
    worker._settle_tx("virtual", [(c, accepted((upstream_id(c),))) for c in items], [])
    # Matched in the transaction that recorded its upstream id.
    assert statuses(store, acc) == {1: 1, 0: 2}
    assert stored(store) == 0


def test_a_receipt_resent_before_its_result_is_stored_once(store: Store, clock: FakeClock) -> None:
    acc = new_list(store, clock, 1)
    worker = dispatcher(store, clock)
    (item,) = armed(store, clock, worker, 1)
    worker._record_receipts([delivered(item), delivered(item)])
    worker._record_receipts([delivered(item)])
    assert stored(store) == 1
    worker._settle_tx("virtual", [(item, accepted((upstream_id(item),)))], [])
    assert statuses(store, acc) == {1: 1}


def test_a_receipt_stored_by_another_dispatcher_is_matched_by_the_periodic_retry(
    store: Store, clock: FakeClock
) -> None:
    acc = new_list(store, clock, 2)
    sender = dispatcher(store, clock, worker_id="sender")
    items = armed(store, clock, sender, 2)
    # The receipt came on the other dispatcher's bind, before the sender recorded its result.
    other = dispatcher(store, clock, worker_id="other")
    other._record_receipts([delivered(items[1])])
    sender._settle_tx("virtual", [(c, accepted((upstream_id(c),))) for c in items], [])
    assert statuses(store, acc) == {0: 2}
    sender._receipts.match_stored()
    assert statuses(store, acc) == {0: 1, 1: 1}
    assert stored(store) == 0


def test_a_receipt_never_matched_is_dropped_after_the_retention_and_counted(
    store: Store, clock: FakeClock
) -> None:
    keep_min = settings().dispatch.unmatched_receipt_keep_min
    worker = dispatcher(store, clock)
    unknown = [Receipt("virtual", f"gone{i}", MessageStatus.DELIVERED) for i in range(3)]
    worker._record_receipts(unknown)
    clock.advance(keep_min * 60 - 1)
    worker._receipts.match_stored()
    assert stored(store) == 3
    clock.advance(2)
    worker._record_receipts([Receipt("virtual", "fresh", MessageStatus.DELIVERED)])
    with structlog.testing.capture_logs() as logs:
        worker._receipts.match_stored()
    assert stored(store) == 1  # the fresh one stays
    dropped = [e for e in logs if e["event"] == "receipts for unknown messages dropped"]
    assert [(e["count"], e["log_level"]) for e in dropped] == [(3, "warning")]

"""The message lifecycle's money on real stores: the same history leaves the same balance,
whichever code path finds the message first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Literal

import pytest

from tests.integration.engine_support import (
    account,
    create_list,
    dispatcher,
    engine_store,
    settings,
    statuses,
)
from tidings.app import routes_for
from tidings.channels.base import refused, retry_later
from tidings.domain.accounts import Account
from tidings.domain.clock import FakeClock
from tidings.domain.contacts import BlacklistType
from tidings.domain.jobs import MessageFormat
from tidings.domain.lifecycle import MessageStatus
from tidings.domain.sends import NewSend, PreparedSend, SendService, Sent
from tidings.domain.templates import TemplateValues
from tidings.errors import InsufficientFunds, Undeliverable
from tidings.store.contacts import ContactStore
from tidings.store.messages import MessageStore
from tidings.store.repository import Store


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with engine_store(backend, tmp_path_factory.mktemp("lifecycle")) as s:
        yield s


@pytest.mark.parametrize("found_by", ["claim", "sweep"])
def test_a_charged_message_retried_and_out_of_validity_is_refunded(
    store: Store, found_by: Literal["claim", "sweep"]
) -> None:
    """Charged on its claim, refused for now (retry later), then its validity ends before
    the retry: it never reached the upstream, so its charge comes back — whether the next
    claim or the expiry sweep finds it first."""
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc = account(store, clock.now())
    create_list(store, acc, "79161234567", clock.now(), validity_min=1)
    worker = dispatcher(store, clock)
    worker._scheduler.tick()
    claimed = worker._claim_tx("virtual", 5)
    assert store.balance(acc.id) == 100_000 - 180
    assert worker._settle_tx("virtual", [], claimed) == claimed
    worker._settle_tx("virtual", [(claimed[0], retry_later("throttled"))], [])
    assert statuses(store, acc) == {-1: 1}
    clock.advance(3600)  # past its validity and past its retry time
    if found_by == "claim":
        assert worker._claim_tx("virtual", 5) == []
    else:
        worker._sweep()
    assert statuses(store, acc) == {3: 1}
    assert store.balance(acc.id) == 100_000 == store.ledger_sum(acc.id)


def test_a_deleted_messages_id_is_never_given_to_a_new_one(store: Store) -> None:
    """Found by the lifecycle property test: on SQLite the next message took the id of the
    newest one deleted by status.php del, met its ledger entries, and its charge broke the
    one-charge-per-message rule — the claim failed, every time, and nothing went out."""
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    acc = account(store, clock.now())
    messages = MessageStore(store, routes_for(settings()))
    sends = SendService(messages, 60)
    one = NewSend(["79161234567"], None, (), "Hello", MessageFormat.SMS, clock.now())
    sends.send(acc, one, clock.now())
    worker = dispatcher(store, clock)
    (first,) = worker._claim_tx("virtual", 5)
    assert worker._settle_tx("virtual", [], [first]) == [first]
    worker._settle_tx("virtual", [(first, refused(MessageStatus.BAD_NUMBER, "no", 22))], [])
    assert messages.delete(acc.id, first.row.id)  # refunded and final: it may leave
    sends.send(acc, one, clock.now())
    (second,) = worker._claim_tx("virtual", 5)
    assert second.row.id > first.row.id
    assert store.balance(acc.id) == 100_000 - 180 == store.ledger_sum(acc.id)


def test_sends_stored_together_each_stand_or_fall_alone(store: Store) -> None:
    """The API's group commit stores the sends of concurrent requests in one transaction: a
    send the balance refuses is refused alone, the others are stored with their own ids,
    and a send without a client id is known by its first message's id."""
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    rich, poor = account(store, clock.now()), account(store, clock.now(), balance="1")
    messages = MessageStore(store, routes_for(settings()))
    sends = SendService(messages, 60)

    def prepared(acc: Account, phones: list[str], client: str | None = None) -> PreparedSend:
        new = NewSend(phones, None, (), "Hello", MessageFormat.SMS, clock.now(), client_id=client)
        return sends.prepare(acc, new, clock.now())

    batch = [
        prepared(rich, ["79161234567", "79161234568"]),
        prepared(poor, ["79161234569", "79161234570"]),  # 3.60 due, 1.00 on the balance
        prepared(rich, ["79161234571"], client="mine-1"),
    ]
    first, refused_send, third = sends.store(batch)
    assert isinstance(refused_send, InsufficientFunds)
    assert isinstance(first, Sent) and isinstance(third, Sent)
    assert (first.parts, first.cost, first.balance) == (2, 360, 100_000 - 360)
    assert third.send_id == "mine-1" and third.quote is not None
    assert [r.address for r in third.quote.recipients] == ["79161234571"]
    with store.db.tx(write=False) as tx:
        rows = tx.all("SELECT id, account_id, address, client_id FROM messages ORDER BY id")
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (rich.id, "79161234567", first.send_id),
        (rich.id, "79161234568", first.send_id),
        (rich.id, "79161234571", "mine-1"),
    ]
    assert first.send_id == str(rows[0][0])
    # A send alone after the batch gets an id after every id the batch took.
    alone = sends.send(
        rich, NewSend(["79161234572"], None, (), "Hi", MessageFormat.SMS, clock.now()), clock.now()
    )
    assert int(alone.send_id) > rows[-1][0]
    assert store.balance(poor.id) == 100 == store.ledger_sum(poor.id)  # nothing charged yet


def test_sends_stored_together_get_their_own_account_s_signature_and_stop_list(
    store: Store,
) -> None:
    """The signatures and stop lists of a batch are read once for all its sends: each send
    still gets its own account's signature, and loses only its own account's stop-listed
    numbers; a send whose every number is stop-listed is refused alone."""
    clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    signed, plain = account(store, clock.now()), account(store, clock.now())
    store.add_template(signed.id, TemplateValues("sig", "-- Shop", "", "", True), clock.now())
    contacts = ContactStore(store.db)
    contacts.add_blacklist(signed.id, ["79161230001"], BlacklistType.SINGLE, clock.now())
    contacts.add_blacklist(plain.id, ["79161230002"], BlacklistType.ALL, clock.now())
    sends = SendService(MessageStore(store, routes_for(settings())), 60)

    def prepared(acc: Account, phones: list[str]) -> PreparedSend:
        new = NewSend(phones, None, (), "Hello", MessageFormat.SMS, clock.now())
        return sends.prepare(acc, new, clock.now())

    first, second, refused = sends.store(
        [
            prepared(signed, ["79161230001", "79161230002"]),
            prepared(plain, ["79161230001", "79161230002"]),
            prepared(plain, ["79161230002"]),
        ]
    )
    assert isinstance(refused, Undeliverable)
    assert isinstance(first, Sent) and isinstance(second, Sent)
    assert first.quote is not None and second.quote is not None
    assert [(r.address, r.text) for r in first.quote.recipients] == [
        ("79161230002", "Hello\n-- Shop")
    ]
    assert [(r.address, r.error) for r in first.quote.refused] == [("79161230001", 8)]
    assert [(r.address, r.text) for r in second.quote.recipients] == [("79161230001", "Hello")]
    assert [(r.address, r.error) for r in second.quote.refused] == [("79161230002", 8)]
    with store.db.tx(write=False) as tx:
        rows = tx.all("SELECT account_id, address, text FROM messages ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (signed.id, "79161230002", "Hello\n-- Shop"),
        (plain.id, "79161230001", "Hello"),
    ]

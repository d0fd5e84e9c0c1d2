"""Store methods the cabinet's contact and admin pages call, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.conftest import drop_database, fresh_database_url
from tidings.app import default_tariff
from tidings.config import Settings
from tidings.domain import pricing
from tidings.domain.accounts import PasswordHashes
from tidings.domain.contacts import ContactKeys, GroupType, MoveMode, NewContact
from tidings.domain.pricing import Tariff
from tidings.errors import InvalidParameter, NotFound, RecordError
from tidings.store import migrate
from tidings.store.contacts import ContactStore
from tidings.store.db import open_database
from tidings.store.repository import Store

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
HASHES = PasswordHashes("x", "y", "z")


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("cabinet"))
    migrate.upgrade(url)
    s = Store(open_database(url), default_tariff(Settings()))
    yield s
    s.close()
    drop_database(url)


def test_one_contact_and_one_group_only_of_their_account(store: Store) -> None:
    contacts = ContactStore(store.db)
    mine = store.create_account("mine", HASHES, NOW).id
    other = store.create_account("other", HASHES, NOW).id
    group = contacts.add_group(mine, "Друзья", None, GroupType.PHONE, NOW)
    [cid] = contacts.add_contacts(mine, [NewContact("79161234567", None, "Иван")], [group], NOW)

    view = contacts.contact(mine, cid)
    assert view is not None
    assert (view.phone, view.email, view.name, view.group_ids) == (
        "79161234567",
        "",
        "Иван",
        (group,),
    )
    assert contacts.contact(other, cid) is None
    found = contacts.group(mine, group)
    assert found is not None
    assert (found.name, found.members) == ("Друзья", 1)
    assert contacts.group(other, group) is None
    assert contacts.count_contacts(mine) == 1
    assert contacts.count_contacts(other) == 0


def test_iter_contacts_reads_everything_in_batches(store: Store) -> None:
    contacts = ContactStore(store.db)
    acc = store.create_account("many", HASHES, NOW).id
    group = contacts.add_group(acc, "G", None, GroupType.PHONE, NOW)
    ids = contacts.add_contacts(
        acc, [NewContact(f"7916{i:07d}", None, f"n{i}") for i in range(25)], [], NOW
    )
    contacts.move(acc, ContactKeys(ids=tuple(ids[:7])), [group], MoveMode.ADD)

    assert [c.id for c in contacts.iter_contacts(acc, batch=10)] == ids
    assert [c.id for c in contacts.iter_contacts(acc, [group], batch=3)] == ids[:7]
    assert list(contacts.iter_contacts(store.create_account("none", HASHES, NOW).id)) == []


def test_test_mode_and_tariffs(store: Store) -> None:
    acc = store.create_account("acc", HASHES, NOW)
    store.set_test_mode(acc.id, True)
    assert store.account(acc.id).test_mode  # type: ignore[union-attr]
    store.set_test_mode(acc.id, False)
    assert not store.account(acc.id).test_mode  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        store.set_test_mode(acc.id + 100, True)

    assert store.tariffs() == []
    tid = store.create_tariff("Опт", Tariff("RUB", 150, 5, {"RU": 120}))
    with pytest.raises(RecordError):
        store.create_tariff("Опт", Tariff("RUB", 1, 1))
    store.change_tariff(tid, default_price_minor=160, email_price_minor=6)
    store.set_country_price(tid, "KZ", 300)
    store.set_country_price(tid, "RU", 110)
    store.set_account_tariff(acc.id, tid)
    [record] = store.tariffs()
    assert (record.id, record.name, record.accounts) == (tid, "Опт", 1)
    assert record.tariff.default_price_minor == 160
    assert record.tariff.email_price_minor == 6
    assert dict(record.tariff.country_prices) == {"KZ": 300, "RU": 110}
    account = store.account(acc.id)
    assert account is not None
    assert store.tariff_for(account).sms_part_price("79161234567") == 110

    store.set_country_price(tid, "RU", None)
    assert dict(store.tariffs()[0].tariff.country_prices) == {"KZ": 300}
    store.set_account_tariff(acc.id, None)
    assert store.tariffs()[0].accounts == 0
    assert store.default_tariff == default_tariff(Settings())
    with pytest.raises(NotFound):
        store.set_account_tariff(acc.id, tid + 100)
    with pytest.raises(NotFound):
        store.change_tariff(tid + 100, default_price_minor=1, email_price_minor=1)
    with pytest.raises(NotFound):
        store.set_country_price(tid + 100, "RU", 1)


def test_tariff_form_rules() -> None:
    assert pricing.country_code(" kz ") == "KZ"
    assert pricing.price("1,5", "price") == 150
    assert pricing.tariff_name("  Опт ") == "Опт"
    for bad in ("R", "RUS", "1A", ""):
        with pytest.raises(InvalidParameter):
            pricing.country_code(bad)
    for bad_price in ("", "-1", "abc", "inf"):
        with pytest.raises(InvalidParameter):
            pricing.price(bad_price, "price")
    with pytest.raises(InvalidParameter):
        pricing.tariff_name("x" * 65)

"""The store suite: the same tests on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.conftest import drop_database, fresh_database_url
from tidings.app import default_tariff
from tidings.config import Settings
from tidings.domain.accounts import PasswordHashes, hash_password, verify_password
from tidings.domain.jobs import MessageFormat, NewJob
from tidings.domain.lifecycle import JobStatus
from tidings.errors import RecordError
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.repository import Store

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
HASHES = PasswordHashes("x", "y", "z")  # the store keeps hashes opaque


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("store"))
    migrate.upgrade(url)
    s = Store(open_database(url), default_tariff(Settings()))
    yield s
    s.close()
    drop_database(url)


def job(**overrides: object) -> NewJob:
    values: dict[str, object] = {
        "name": "List",
        "phones_text": "79161234567",
        "addresses": ["79161234567"],
        "texts": None,
        "groups": [],
        "message": "Hi",
        "fmt": MessageFormat.SMS,
        "first_run": NOW,
        "zone": "Europe/Moscow",
    }
    values.update(overrides)
    return NewJob(**values)  # type: ignore[arg-type]


def test_migrations_go_down_and_up_again(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("mig"), migrated=False)
    try:
        migrate.upgrade(url)
        migrate.downgrade(url, "base")
        migrate.upgrade(url)
        s = Store(open_database(url), default_tariff(Settings()))
        assert s.count_accounts() == 0
        s.close()
    finally:
        drop_database(url)


def test_the_migrations_build_the_schema_the_code_declares(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """schema.py is the one definition: the migrations must arrive at exactly it."""
    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from tidings.store.schema import metadata

    url = fresh_database_url(backend, tmp_path_factory.mktemp("drift"), migrated=False)
    engine = sa.create_engine(migrate.sqlalchemy_url(url))
    try:
        migrate.upgrade(url)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()
        drop_database(url)


def test_accounts_are_unique_by_login_and_keep_their_settings(store: Store) -> None:
    hashes = hash_password("secret")
    acc = store.create_account("alice", hashes, NOW, timezone="Asia/Yekaterinburg", test_mode=True)
    assert acc.login == "alice" and acc.timezone == "Asia/Yekaterinburg" and acc.test_mode
    with pytest.raises(RecordError):
        store.create_account("alice", hashes, NOW)
    found = store.password_hashes("alice")
    assert found is not None and found[0] == acc.id
    assert verify_password(found[1], "secret")
    assert "secret" not in found[1].plain  # only a hash is stored
    assert store.account_by_login("alice") == acc
    assert store.account(acc.id) == acc
    assert store.account_by_login("bob") is None


def test_balance_is_the_sum_of_the_ledger(store: Store) -> None:
    acc = store.create_account("alice", HASHES, NOW)
    assert store.balance(acc.id) == 0
    assert store.add_ledger_entry(acc.id, 10_000, "credit", "", NOW) == 10_000
    assert store.add_ledger_entry(acc.id, -250, "charge", "", NOW) == 9_750
    other = store.create_account("bob", HASHES, NOW)
    store.add_ledger_entry(other.id, 1, "credit", "", NOW)
    assert store.balance(acc.id) == 9_750
    assert dict((a.login, b) for a, b in store.list_accounts()) == {"alice": 9_750, "bob": 1}


def test_api_keys_and_ip_allowlist(store: Store) -> None:
    acc = store.create_account("alice", HASHES, NOW)
    store.add_api_key(acc.id, "h" * 64, "tk_abcde", NOW)
    assert store.account_id_by_key_hash("h" * 64) == acc.id
    assert store.account_id_by_key_hash("g" * 64) is None
    assert store.allow_ip(acc.id, "203.0.113.0/24") is True
    assert store.allow_ip(acc.id, "203.0.113.0/24") is False
    assert store.allowed_ips(acc.id) == ["203.0.113.0/24"]
    assert store.deny_ip(acc.id, "203.0.113.0/24") is True
    assert store.allowed_ips(acc.id) == []


def test_auth_failures_count_within_the_window_and_blocks_overwrite(store: Store) -> None:
    for at in (100, 200, 300):
        store.record_auth_failure("198.51.100.1", at, 0)
    assert store.record_auth_failure("198.51.100.1", 400, 250) == 2  # 300 and 400
    assert store.record_auth_failure("198.51.100.2", 400, 0) == 1
    store.block_ip("198.51.100.1", 1000, "auth failures")
    store.block_ip("198.51.100.1", 2000, "error streak")
    assert store.ip_blocked_until("198.51.100.1") == 2000
    assert store.ip_blocked_until("198.51.100.9") is None


def test_jobs_get_ids_store_recipients_and_list_newest_first(store: Store) -> None:
    acc = store.create_account("alice", HASHES, NOW)
    first = store.insert_job(acc.id, job(name="first"), NOW)
    second = store.insert_job(acc.id, job(name="second", job_id=500), NOW + timedelta(hours=1))
    third = store.insert_job(acc.id, job(name="third"), NOW + timedelta(hours=2))
    assert (first, second, third) == (1, 500, 501)
    with pytest.raises(RecordError):
        store.insert_job(acc.id, job(job_id=500), NOW)
    names = [v.name for v in store.list_jobs(acc.id, None, None, "Europe/Moscow")]
    assert names == ["third", "second", "first"]
    view = store.get_job(acc.id, 500)
    assert view is not None and view.status == JobStatus.WAITING and view.phones_cnt == 1


def test_get_all_date_range_is_inclusive_in_the_account_zone(store: Store) -> None:
    acc = store.create_account("alice", HASHES, NOW)
    # 20:59 UTC on 1 March is 23:59 in Moscow; 21:00 UTC is already 2 March there.
    store.insert_job(acc.id, job(name="late"), datetime(2026, 3, 1, 20, 59, tzinfo=UTC))
    store.insert_job(acc.id, job(name="next"), datetime(2026, 3, 1, 21, 0, tzinfo=UTC))
    day = date(2026, 3, 1)
    assert [v.name for v in store.list_jobs(acc.id, day, day, "Europe/Moscow")] == ["late"]
    assert [v.name for v in store.list_jobs(acc.id, day, day, "UTC")] == ["next", "late"]
    assert [v.name for v in store.list_jobs(acc.id, date(2026, 3, 2), None, "Europe/Moscow")] == [
        "next"
    ]


def test_cancel_stops_waiting_messages_and_delete_hides_the_list(store: Store) -> None:
    acc = store.create_account("alice", HASHES, NOW)
    job_id = store.insert_job(acc.id, job(), NOW)
    with store.db.tx() as tx:
        row = tx.one("SELECT id FROM jobs WHERE job_id = ?", (job_id,))
        assert row is not None
        for status in (-1, 0, 1):
            tx.execute(
                "INSERT INTO messages (account_id, job_pk, address, text, status, due_at, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (acc.id, row[0], "79161234567", "Hi", status, 0, 0),
            )
    assert store.cancel_job(acc.id, job_id, NOW) == JobStatus.WAITING
    with store.db.tx(write=False) as tx:
        statuses = sorted(r[0] for r in tx.all("SELECT status FROM messages"))
    assert statuses == [-2, 0, 1]  # only the waiting message was stopped
    assert store.cancel_job(acc.id, job_id, NOW) == JobStatus.DISABLED
    assert store.delete_job(acc.id, job_id, NOW) is True
    assert store.get_job(acc.id, job_id) is None
    assert store.delete_job(acc.id, job_id, NOW) is False
    with store.db.tx(write=False) as tx:
        kept = tx.one("SELECT COUNT(*) FROM messages")
    assert kept == (3,)  # messages stay queryable after the list is deleted


def test_other_accounts_cannot_reach_a_list(store: Store) -> None:
    alice = store.create_account("alice", HASHES, NOW)
    bob = store.create_account("bob", HASHES, NOW)
    job_id = store.insert_job(alice.id, job(), NOW)
    assert store.get_job(bob.id, job_id) is None
    assert store.cancel_job(bob.id, job_id, NOW) is None
    assert store.delete_job(bob.id, job_id, NOW) is False
    assert store.list_jobs(bob.id, None, None, "UTC") == []
    view = store.get_job(alice.id, job_id)
    assert view is not None and view.status == JobStatus.WAITING


def test_bulk_recipients_are_streamed_in(store: Store) -> None:
    acc = store.create_account("alice", HASHES, NOW)
    addresses = [f"7916{n:07d}" for n in range(100_000)]
    job_id = store.insert_job(acc.id, job(addresses=addresses, groups=[3, 9]), NOW)
    stored = store.job_recipients(acc.id, job_id)
    assert len(stored) == 100_002
    assert stored[0] == ("79160000000", None, None)
    assert stored[-2:] == [(None, 3, None), (None, 9, None)]


def test_tariff_per_account_with_country_and_prefix_prices(store: Store) -> None:
    with store.db.tx() as tx:
        tx.execute(
            "INSERT INTO tariffs (id, name, currency, default_price_minor, "
            "email_price_minor) VALUES (?, ?, ?, ?, ?)",
            (7, "vip", "RUB", 500, 3),
        )
        for country, prefix, price in (("RU", "", 150), ("RU", "7916", 120)):
            tx.execute(
                "INSERT INTO tariff_prices (tariff_id, country, prefix, price_minor) "
                "VALUES (?, ?, ?, ?)",
                (7, country, prefix, price),
            )
    acc = store.create_account("alice", HASHES, NOW)
    assert store.tariff_for(acc).sms_part_price("79161234567") == 180  # default tariff
    with store.db.tx() as tx:
        tx.execute("UPDATE accounts SET tariff_id = 7 WHERE id = ?", (acc.id,))
    acc = store.account(acc.id)
    assert acc is not None
    tariff = store.tariff_for(acc)
    assert tariff.sms_part_price("79161234567") == 120  # operator prefix
    assert tariff.sms_part_price("79031234567") == 150  # country
    assert tariff.sms_part_price("4930123456") == 500  # default
    assert tariff.email_cost() == 3


def test_migrations_match_the_schema(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`alembic check`: the newest migration builds exactly the schema the code declares."""
    from alembic import command

    url = fresh_database_url(backend, tmp_path_factory.mktemp("drift"), migrated=False)
    try:
        migrate.upgrade(url)
        command.check(migrate.alembic_config(url))
    finally:
        drop_database(url)


def test_an_audited_change_and_its_entry_commit_or_roll_back_together(store: Store) -> None:
    from tidings.domain.audit import CLI, AuditAction, AuditLog
    from tidings.store.audit import AuditQueries

    acc = store.create_account("audited", HASHES, NOW, test_mode=True)
    log = AuditLog(AuditQueries(store.db))
    with pytest.raises(RuntimeError), log.recorded(CLI, AuditAction.TEST_MODE, NOW) as note:
        store.set_test_mode(acc.id, False)  # its own `tx()` joins the audited transaction
        note.account_id = acc.id
        raise RuntimeError("the action fails after its change")
    assert store.account(acc.id).test_mode  # type: ignore[union-attr]
    assert AuditQueries(store.db).audit_entries(acc.id, 0, 10) == []

    with log.recorded(CLI, AuditAction.TEST_MODE, NOW, account_id=acc.id, details="off"):
        store.set_test_mode(acc.id, False)
        # Reads inside see the transaction's own writes.
        assert not store.account(acc.id).test_mode  # type: ignore[union-attr]
    [entry] = AuditQueries(store.db).audit_entries(acc.id, 0, 10)
    assert (entry.action, entry.actor, entry.details) == ("test_mode", "cli", "off")
    assert not store.account(acc.id).test_mode  # type: ignore[union-attr]


def test_a_read_snapshot_does_not_see_a_write_committed_during_it(store: Store) -> None:
    """The reads a list's page shows side by side (store/reports.py live_list) agree: a
    commit from another connection between two of them is not seen until the snapshot ends."""
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    acc = store.create_account("snap", hash_password("pw"), now)

    def balance() -> int:
        with store.db.tx(write=False) as tx:
            row = tx.one("SELECT balance_minor FROM accounts WHERE id = ?", (acc.id,))
        assert row is not None
        return int(row[0])

    def credit() -> None:
        store.add_ledger_entry(acc.id, 500, "credit", "test", now)

    with store.db.read_snapshot():
        before = balance()
        writer = threading.Thread(target=credit)
        writer.start()
        writer.join(30)
        assert balance() == before
    assert balance() == before + 500

"""The cabinet's read models and account settings, on SQLite and PostgreSQL: list progress,
the delivery timeline, recipients, the ledger, API keys, callback URL, the cost preview."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.conftest import drop_database, fresh_database_url
from tidings.app import default_tariff
from tidings.config import Settings
from tidings.domain.accounts import Account, PasswordHashes, api_key_hash
from tidings.domain.clock import to_ts
from tidings.domain.job_request import new_job
from tidings.domain.jobs import JobService
from tidings.domain.profile import ProfileService
from tidings.domain.progress import Progress, progress
from tidings.domain.sms import Encoding
from tidings.errors import InvalidParameter, NotFound, RecordError
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.profile import ProfileStore
from tidings.store.reports import ReportStore
from tidings.store.repository import Store

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
HASHES = PasswordHashes("x", "y", "z")


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("reports"))
    migrate.upgrade(url)
    s = Store(open_database(url), default_tariff(Settings()))
    yield s
    s.close()
    drop_database(url)


def _list(store: Store, account: Account, name: str, phones: str) -> int:
    params = {"name": name, "phones": phones, "mes": "Hi"}
    return (
        JobService(store)
        .create(account, new_job(params, account, NOW), NOW, with_cost=False)
        .job_id
    )


def _messages(
    store: Store, account: Account, job_id: int, rows: list[tuple[str, int, int]]
) -> None:
    """(address, status, seconds after NOW it was done) as the dispatcher would leave them."""
    with store.db.tx() as tx:
        found = tx.one(
            "SELECT id FROM jobs WHERE account_id = ? AND job_id = ?", (account.id, job_id)
        )
        assert found is not None
        for address, status, after in rows:
            tx.execute(
                "INSERT INTO messages (account_id, job_pk, address, status, due_at, created_at, "
                "done_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    account.id,
                    found[0],
                    address,
                    status,
                    to_ts(NOW),
                    to_ts(NOW),
                    to_ts(NOW) + after if status > 0 else None,
                ),
            )


def test_progress_groups_statuses() -> None:
    assert progress({}, 5) == Progress(waiting=5, sent=0, delivered=0, failed=0)
    p = progress({-1: 1, 0: 2, 1: 3, 2: 1, 20: 1, -2: 2}, 99)
    assert (p.waiting, p.sent, p.delivered, p.failed) == (1, 2, 4, 3)
    assert p.total == 10 and p.percent_done == 70
    assert progress({1: 2, 0: 1}, 3).percent_done == 66  # never rounded up to done


def test_status_counts_timeline_and_recipients_of_own_lists_only(store: Store) -> None:
    mine = store.create_account("mine", HASHES, NOW)
    other = store.create_account("other", HASHES, NOW)
    _list(store, mine, "First", "79161234567")
    # List numbers are per account: the other account has a #1 but no #2.
    job = _list(store, mine, "A", "79161234567,79161234568,79261234569")
    theirs = _list(store, other, "B", "79161234567")
    assert (job, theirs) == (2, 1)
    _messages(
        store, mine, job, [("79161234567", 1, 10), ("79161234568", 1, 70), ("79261234569", 20, 80)]
    )
    _messages(store, other, theirs, [("79161234567", 1, 5)])
    reports = ReportStore(store.db)
    assert reports.status_counts(mine.id, [job, theirs]) == {job: {1: 2, 20: 1}}
    timeline = reports.delivery_timeline(mine.id, job)
    assert timeline is not None
    # Deliveries 10 s and 70 s after NOW: 61 s over 48 buckets of 2 s, the second in bucket 30.
    assert timeline.start == datetime.fromtimestamp(to_ts(NOW) + 10, UTC)
    assert timeline.bucket_s == 2 and len(timeline.counts) == 48
    assert timeline.counts[0] == 1 and timeline.counts[30] == 1 and timeline.total == 2
    assert reports.delivery_timeline(other.id, job) is None
    assert [r.address for r in reports.recipients(mine.id, job, "", 0, 2)] == [
        "79161234567",
        "79161234568",
    ]
    assert [r.address for r in reports.recipients(mine.id, job, "", 2, 2)] == ["79261234569"]
    assert [r.address for r in reports.recipients(mine.id, job, "7926", 0, 10)] == ["79261234569"]
    assert reports.recipients(mine.id, job, "%", 0, 10) == []  # LIKE wildcards are literal
    assert reports.recipients(other.id, job, "", 0, 10) == []
    assert len(list(reports.iter_recipients(mine.id, job))) == 3
    assert list(reports.iter_recipients(other.id, job)) == []


def test_ledger_newest_first_in_pages(store: Store) -> None:
    acc = store.create_account("payer", HASHES, NOW)
    for amount in (1000, -180, -360):
        store.add_ledger_entry(acc.id, amount, "credit" if amount > 0 else "charge", "", NOW)
    reports = ReportStore(store.db)
    assert [r.amount_minor for r in reports.ledger(acc.id, 0, 2)] == [-360, -180]
    assert [r.amount_minor for r in reports.ledger(acc.id, 2, 2)] == [1000]


def test_api_keys_issued_listed_and_revoked_per_account(store: Store) -> None:
    profile = ProfileService(ProfileStore(store))
    mine = store.create_account("mine", HASHES, NOW)
    other = store.create_account("other", HASHES, NOW)
    key = profile.issue_api_key(mine, NOW)
    assert store.account_id_by_key_hash(api_key_hash(key)) == mine.id
    [view] = profile.api_keys(mine)
    assert view.prefix == key[:8] and view.revoked_at is None
    with pytest.raises(NotFound):
        profile.revoke_api_key(other, view.id, NOW)
    profile.revoke_api_key(mine, view.id, NOW)
    assert store.account_id_by_key_hash(api_key_hash(key)) is None
    assert profile.api_keys(mine)[0].revoked_at == NOW
    with pytest.raises(NotFound):
        profile.revoke_api_key(mine, view.id, NOW)


def test_allowed_ips_and_callback(store: Store) -> None:
    profile = ProfileService(ProfileStore(store))
    acc = store.create_account("mine", HASHES, NOW)
    assert profile.allow_ip(acc, " 203.0.113.7/24 ") == "203.0.113.0/24"
    with pytest.raises(RecordError):
        profile.allow_ip(acc, "203.0.113.0/24")
    with pytest.raises(InvalidParameter):
        profile.allow_ip(acc, "not an ip")
    profile.deny_ip(acc, "203.0.113.0/24")
    with pytest.raises(NotFound):
        profile.deny_ip(acc, "203.0.113.0/24")
    with pytest.raises(InvalidParameter):
        profile.set_callback(acc, "javascript:alert(1)")
    secret = profile.set_callback(acc, "https://hooks.example/x")
    assert len(secret) == 64 and profile.callback_url(acc) == "https://hooks.example/x"
    assert profile.set_callback(acc, "") == "" and profile.callback_url(acc) == ""


def test_preview_checks_like_create_and_prices_like_cost_1(store: Store) -> None:
    acc = store.create_account("mine", HASHES, NOW)
    jobs = JobService(store)
    params = {"name": "Акция", "phones": "79161234567,77011234567,G3", "mes": "Привет! " * 10}
    job = new_job(params, acc, NOW)
    preview = jobs.preview(acc, job)
    assert (preview.recipients, tuple(preview.groups)) == (2, (3,))
    assert (preview.characters, preview.encoding, preview.parts) == (80, Encoding.UCS2, 2)
    created = jobs.create(acc, job, NOW, with_cost=True)
    assert preview.cost_minor == created.cost_minor == 2 * (180 + 350)
    store.add_sender(acc.id, "Shop", True, NOW)
    with_sender = new_job({**params, "sender": "Other"}, acc, NOW)
    with pytest.raises(InvalidParameter):
        jobs.preview(acc, with_sender)


def test_job_page_newest_first_without_deleted_or_others(store: Store) -> None:
    mine = store.create_account("mine", HASHES, NOW)
    other = store.create_account("other", HASHES, NOW)
    for name in ("one", "two", "three"):
        _list(store, mine, name, "79161234567")
    _list(store, other, "theirs", "79161234567")
    JobService(store).delete(mine, 2, NOW)
    reports = ReportStore(store.db)
    page = reports.job_page(mine.id, 0, 10)
    assert [(j.job_id, j.name, j.status, j.phones_cnt) for j in page] == [
        (3, "three", -1, 1),
        (1, "one", -1, 1),
    ]
    assert [j.name for j in reports.job_page(mine.id, 1, 1)] == ["one"]

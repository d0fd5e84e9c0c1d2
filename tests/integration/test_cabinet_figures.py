"""The dashboard's figures and the history's search, on SQLite and PostgreSQL: counted by
the store in the account's calendar, scoped by the account, paged by id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import drop_database, fresh_database_url
from tidings.app import default_tariff
from tidings.config import Settings
from tidings.domain.accounts import Account, PasswordHashes
from tidings.domain.clock import to_ts
from tidings.domain.job_request import new_job
from tidings.domain.jobs import JobService
from tidings.domain.lifecycle import JobStatus, MessageStatus
from tidings.domain.messages import HistoryQuery, MessageService, days_period
from tidings.domain.reports import PeriodFigures, ReportService, day_and_month
from tidings.domain.routing import Routes
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.messages import MessageStore
from tidings.store.reports import ReportStore
from tidings.store.repository import Store

# 13:00 in Moscow on 15 March 2026.
NOW = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
HASHES = PasswordHashes("x", "y", "z")
S = MessageStatus


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("figures"))
    migrate.upgrade(url)
    s = Store(open_database(url), default_tariff(Settings()))
    yield s
    s.close()
    drop_database(url)


def _message(
    store: Store,
    account: Account,
    at: datetime,
    status: int,
    cost: int,
    address: str = "79161234567",
) -> int:
    with store.db.tx() as tx:
        tx.execute(
            "INSERT INTO messages (account_id, address, text, status, due_at, created_at, "
            "cost_minor) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (account.id, address, "Hi", status, to_ts(at), to_ts(at), cost),
        )
        row = tx.one("SELECT MAX(id) FROM messages")
    assert row is not None
    return int(row[0])


def test_day_and_month_follow_the_accounts_calendar() -> None:
    day, month = day_and_month(NOW, ZoneInfo("Europe/Moscow"))
    assert day == (
        to_ts(datetime(2026, 3, 14, 21, tzinfo=UTC)),
        to_ts(datetime(2026, 3, 15, 21, tzinfo=UTC)),
    )
    assert month == (
        to_ts(datetime(2026, 2, 28, 21, tzinfo=UTC)),
        to_ts(datetime(2026, 3, 31, 21, tzinfo=UTC)),
    )
    # A day across a DST change: 23 hours in Berlin on 29 March 2026.
    (start, end), _ = day_and_month(
        datetime(2026, 3, 29, 12, tzinfo=UTC), ZoneInfo("Europe/Berlin")
    )
    assert end - start == 23 * 3600


def test_dashboard_counts_today_and_this_month_in_sql(store: Store) -> None:
    mine = store.create_account("mine", HASHES, NOW)
    other = store.create_account("other", HASHES, NOW)
    hour = timedelta(hours=1)
    _message(store, mine, NOW - hour, S.DELIVERED, 180)
    _message(store, mine, NOW - 2 * hour, S.UNDELIVERABLE, 0)
    _message(store, mine, NOW - 12 * hour, S.DELIVERED, 180)  # 01:00 today in Moscow
    _message(store, mine, datetime(2026, 3, 2, 9, tzinfo=UTC), S.HANDED_OVER, 180)
    _message(store, mine, datetime(2026, 2, 28, 21, 30, tzinfo=UTC), S.READ, 180)  # 1 March
    _message(store, mine, datetime(2026, 2, 28, 20, 30, tzinfo=UTC), S.DELIVERED, 180)  # Feb
    _message(store, other, NOW - hour, S.DELIVERED, 180)
    jobs = JobService(store)
    params = {"name": "Running", "phones": "79161234567,79161234568", "mes": "Hi"}
    running = jobs.create(mine, new_job(params, mine, NOW), NOW, with_cost=False).job_id
    jobs.create(mine, new_job({**params, "name": "Later"}, mine, NOW), NOW, with_cost=False)
    with store.db.tx() as tx:
        tx.execute(
            "UPDATE jobs SET status = ? WHERE account_id = ? AND job_id = ?",
            (int(JobStatus.SENDING), mine.id, running),
        )
    board = ReportService(ReportStore(store.db)).dashboard(mine, NOW)
    assert board.today == PeriodFigures(messages=3, delivered=2, failed=1, cost_minor=360)
    assert board.month == PeriodFigures(messages=5, delivered=3, failed=1, cost_minor=720)
    assert board.month.delivered_percent == 60
    assert [(job.job_id, job.name, p.waiting) for job, p in board.running] == [
        (running, "Running", 2)
    ]
    empty = ReportService(ReportStore(store.db)).dashboard(other, NOW + timedelta(days=40))
    assert empty.today == PeriodFigures(0, 0, 0, 0) and empty.running == []
    assert empty.today.delivered_percent == 0


def test_history_searches_by_phone_status_and_days_newest_first_by_keyset(store: Store) -> None:
    mine = store.create_account("mine", HASHES, NOW)
    other = store.create_account("other", HASHES, NOW)
    day = timedelta(days=1)
    given = [
        (S.DELIVERED, "79161234567"),  # today
        (S.UNDELIVERABLE, "79161234567"),  # yesterday, 14 March
        (S.DELIVERED, "79161234568"),  # 13 March
        (S.DELIVERED, "79161234567"),  # 12 March
    ]
    # Stored oldest first, as time goes: ids[0] is the newest.
    ids = [
        _message(store, mine, NOW - n * day, status, 0, phone)
        for n, (status, phone) in reversed(list(enumerate(given)))
    ][::-1]
    _message(store, other, NOW, S.DELIVERED, 0, "79161234567")
    service = MessageService(MessageStore(store, Routes()))
    zone = ZoneInfo("Europe/Moscow")
    start, end = days_period(None, None, zone)

    def found(**given: object) -> list[int]:
        query = HistoryQuery(account_id=mine.id, start_ts=start, end_ts=end, limit=10)
        for name, value in given.items():
            query = HistoryQuery(**{**query.__dict__, name: value})
        return [m.id for m in service.history(query)]

    assert found() == ids  # newest first
    assert found(addresses=("79161234567",)) == [ids[0], ids[1], ids[3]]
    assert found(statuses=(int(S.DELIVERED),)) == [ids[0], ids[2], ids[3]]
    assert found(addresses=("79161234567",), statuses=(int(S.UNDELIVERABLE),)) == [ids[1]]
    assert found(limit=2) == ids[:2] and found(limit=2, before_id=ids[1]) == ids[2:]
    # 13 and 14 March, Moscow days.
    start, end = days_period(date(2026, 3, 13), date(2026, 3, 14), zone)
    assert found(start_ts=start, end_ts=end) == [ids[1], ids[2]]
    everything = list(
        service.iter_history(HistoryQuery(account_id=mine.id, start_ts=0, end_ts=2**62))
    )
    assert [m.id for m in everything] == ids


def test_iter_history_reads_past_a_batch(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from tidings.domain import messages

    monkeypatch.setattr(messages, "HISTORY_BATCH", 2)
    acc = store.create_account("mine", HASHES, NOW)
    ids = [_message(store, acc, NOW, S.DELIVERED, 0) for _ in range(5)]
    service = MessageService(MessageStore(store, Routes()))
    query = HistoryQuery(account_id=acc.id, start_ts=0, end_ts=2**62)
    assert [m.id for m in service.iter_history(query)] == ids[::-1]

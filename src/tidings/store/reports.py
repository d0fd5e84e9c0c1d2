"""Read models of the web cabinet and `tidings jobs`: progress of mailing lists, their
recipients, the ledger (domain/reports.py and domain/balance.py are their services).

Every query is scoped by account_id, so another account's list reads as empty.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from tidings.domain.balance import LedgerRow
from tidings.domain.clock import from_ts
from tidings.domain.lifecycle import DELIVERED_OR_READ, FAILED, JobStatus
from tidings.domain.operations import JobProgress
from tidings.domain.progress import progress_bucket
from tidings.domain.reports import (
    JobSummary,
    LiveList,
    PeriodFigures,
    RecipientRow,
    Timeline,
)
from tidings.store.db import Database, Tx
from tidings.store.jobs import read_job_view
from tidings.store.sql import sql_in

# A list's messages belong to its row; the row is found by the account's own list number.
_JOB_PK = "(SELECT id FROM jobs WHERE account_id = ? AND job_id = ? AND deleted_at IS NULL)"
_CSV_BATCH = 2000
_CHART_BUCKETS = 48


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ReportStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def live_list(
        self, account_id: int, job_id: int, search: str, offset: int, limit: int
    ) -> LiveList | None:
        """The row, the counts, the timeline and the recipients' page in one snapshot: read
        one after the other without it, a dispatcher's commit between two reads made the
        page say "5 sent" beside "Last sent —"."""
        with self._db.read_snapshot():
            job = read_job_view(self._db, account_id, job_id)
            if job is None:
                return None
            by_status = self.status_counts(account_id, [job_id]).get(job_id, {})
            timeline = self.delivery_timeline(account_id, job_id)
            recipients = self.recipients(account_id, job_id, search, offset, limit)
        return LiveList(job, by_status, timeline, recipients)

    def job_page(self, account_id: int, offset: int, limit: int) -> list[JobSummary]:
        """One page of the account's live lists, newest first (as get_all orders them).

        Not JobService.list: that reads every list with its recipients as given (megabytes
        for a big list), and this table is polled every 2 s."""
        with self._db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT job_id, name, status, need_date, rpt, phones_cnt FROM jobs "
                "WHERE account_id = ? AND deleted_at IS NULL "
                "ORDER BY created_at DESC, job_id DESC LIMIT ? OFFSET ?",
                (account_id, limit, offset),
            )
        return [
            JobSummary(int(r[0]), r[1], int(r[2]), from_ts(r[3]), int(r[4]), int(r[5]))
            for r in rows
        ]

    def status_counts(self, account_id: int, job_ids: Sequence[int]) -> dict[int, dict[int, int]]:
        """Messages per status of each list (list number → status → count)."""
        if not job_ids:
            return {}
        marks = ", ".join("?" * len(job_ids))
        with self._db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT j.job_id, m.status, COUNT(*) FROM messages m "
                "JOIN jobs j ON j.id = m.job_pk "
                f"WHERE j.account_id = ? AND j.job_id IN ({marks}) AND j.deleted_at IS NULL "
                "GROUP BY j.job_id, m.status",
                (account_id, *job_ids),
            )
        counts: dict[int, dict[int, int]] = {}
        for job_id, status, count in rows:
            counts.setdefault(int(job_id), {})[int(status)] = int(count)
        return counts

    def delivery_timeline(self, account_id: int, job_id: int) -> Timeline | None:
        """Deliveries over time in 48 equal buckets (at least a second each); None before
        the first delivery."""
        where = (
            f"m.job_pk = {_JOB_PK} AND m.status IN {sql_in(DELIVERED_OR_READ)} "
            "AND m.done_at IS NOT NULL"
        )
        params: tuple[Any, ...] = (account_id, job_id)
        with self._db.tx(write=False) as tx:
            span = tx.one(
                f"SELECT MIN(m.done_at), MAX(m.done_at) FROM messages m WHERE {where}", params
            )
            if span is None or span[0] is None:
                return None
            first, last = int(span[0]), int(span[1])
            width = max(1, -(-(last - first + 1) // _CHART_BUCKETS))
            rows = tx.all(
                f"SELECT (m.done_at - ?) / ?, COUNT(*) FROM messages m WHERE {where} "
                "GROUP BY 1 ORDER BY 1",
                (first, width, *params),
            )
        counts = [0] * _CHART_BUCKETS
        for bucket, count in rows:
            counts[int(bucket)] = int(count)
        start = from_ts(first)
        assert start is not None
        return Timeline(start, width, counts)

    def recipients(
        self, account_id: int, job_id: int, search: str, offset: int, limit: int
    ) -> list[RecipientRow]:
        """One page of a list's messages, optionally only addresses containing `search`."""
        sql = (
            "SELECT id, address, status, err, parts, cost_minor, sent_at, done_at "
            f"FROM messages WHERE job_pk = {_JOB_PK} AND account_id = ?"
        )
        params: list[Any] = [account_id, job_id, account_id]
        if search:
            sql += " AND address LIKE ? ESCAPE '\\'"
            params.append(f"%{_like_escaped(search)}%")
        sql += " ORDER BY id LIMIT ? OFFSET ?"
        params += [limit, offset]
        with self._db.tx(write=False) as tx:
            rows = tx.all(sql, params)
        return [_recipient(r) for r in rows]

    def iter_recipients(self, account_id: int, job_id: int) -> Iterator[RecipientRow]:
        """Every message of a list in batches (for the CSV export: memory stays flat)."""
        after = 0
        while True:
            with self._db.tx(write=False) as tx:
                rows = tx.all(
                    "SELECT id, address, status, err, parts, cost_minor, sent_at, done_at "
                    f"FROM messages WHERE job_pk = {_JOB_PK} AND account_id = ? AND id > ? "
                    "ORDER BY id LIMIT ?",
                    (account_id, job_id, account_id, after, _CSV_BATCH),
                )
            if not rows:
                return
            for row in rows:
                yield _recipient(row)
            after = int(rows[-1][0])

    def job_progress(self, account_id: int, limit: int = 1000) -> list[JobProgress]:
        """The account's live lists, newest first, with their messages counted per status
        (one grouped query over the (job_pk, status) index)."""
        with self._db.tx(write=False) as tx:
            jobs = tx.all(
                "SELECT id, job_id, name, status, phones_cnt FROM jobs "
                "WHERE account_id = ? AND deleted_at IS NULL "
                "ORDER BY created_at DESC, job_id DESC LIMIT ?",
                (account_id, limit),
            )
            counts = _status_counts(tx, [int(j[0]) for j in jobs])
        result = []
        for pk, job_id, name, status, recipients in jobs:
            buckets = counts.get(int(pk), {})
            result.append(
                JobProgress(
                    job_id=int(job_id),
                    name=name,
                    status=int(status),
                    recipients=int(recipients),
                    waiting=buckets.get("waiting", 0),
                    sent=buckets.get("sent", 0),
                    delivered=buckets.get("delivered", 0),
                    failed=buckets.get("failed", 0),
                )
            )
        return result

    def period_figures(
        self, account_id: int, periods: Sequence[tuple[int, int]]
    ) -> list[PeriodFigures]:
        """Each period's figures as SQL aggregates in one pass over the account's messages
        of the widest span: the rows never leave the database, however many there are."""
        if not periods:
            return []
        columns: list[str] = []
        params: list[Any] = []
        for start, end in periods:
            within = "m.created_at >= ? AND m.created_at < ?"
            columns += [
                f"COALESCE(SUM(CASE WHEN {within} THEN 1 ELSE 0 END), 0)",
                f"COALESCE(SUM(CASE WHEN {within} AND m.status IN {sql_in(DELIVERED_OR_READ)} "
                "THEN 1 ELSE 0 END), 0)",
                f"COALESCE(SUM(CASE WHEN {within} AND m.status IN {sql_in(FAILED)} "
                "THEN 1 ELSE 0 END), 0)",
                f"COALESCE(SUM(CASE WHEN {within} THEN m.cost_minor ELSE 0 END), 0)",
            ]
            params += [start, end] * 4
        params += [account_id, min(s for s, _ in periods), max(e for _, e in periods)]
        with self._db.tx(write=False) as tx:
            row = tx.one(
                f"SELECT {', '.join(columns)} FROM messages m "
                "WHERE m.account_id = ? AND m.created_at >= ? AND m.created_at < ?",
                params,
            )
        assert row is not None
        values = [int(v) for v in row]
        return [PeriodFigures(*values[i : i + 4]) for i in range(0, len(values), 4)]

    def running_jobs(self, account_id: int, limit: int) -> list[JobSummary]:
        """The account's lists sending now, newest first."""
        with self._db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT job_id, name, status, need_date, rpt, phones_cnt FROM jobs "
                "WHERE account_id = ? AND status = ? AND deleted_at IS NULL "
                "ORDER BY created_at DESC, job_id DESC LIMIT ?",
                (account_id, int(JobStatus.SENDING), limit),
            )
        return [
            JobSummary(int(r[0]), r[1], int(r[2]), from_ts(r[3]), int(r[4]), int(r[5]))
            for r in rows
        ]

    def ledger(self, account_id: int, offset: int, limit: int) -> list[LedgerRow]:
        """One page of the account's ledger, newest first."""
        with self._db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT id, created_at, amount_minor, kind, memo FROM ledger "
                "WHERE account_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                (account_id, limit, offset),
            )
        out = []
        for r in rows:
            at = from_ts(r[1])
            assert at is not None
            out.append(LedgerRow(int(r[0]), at, int(r[2]), r[3], r[4]))
        return out


def _status_counts(tx: Tx, job_pks: Sequence[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    for start in range(0, len(job_pks), 500):
        chunk = job_pks[start : start + 500]
        rows = tx.all(
            "SELECT job_pk, status, COUNT(*) FROM messages "
            f"WHERE job_pk IN ({', '.join('?' * len(chunk))}) GROUP BY job_pk, status",
            chunk,
        )
        for pk, status, n in rows:
            bucket = counts.setdefault(int(pk), {})
            key = progress_bucket(int(status))
            bucket[key] = bucket.get(key, 0) + int(n)
    return counts


def _recipient(row: Sequence[Any]) -> RecipientRow:
    return RecipientRow(
        message_id=int(row[0]),
        address=row[1],
        status=int(row[2]),
        err=int(row[3]),
        parts=int(row[4]),
        cost_minor=int(row[5]),
        sent_at=from_ts(row[6]),
        done_at=from_ts(row[7]),
    )

"""Mailing lists (jobs.php): a list's row, its recipients as given and as parsed, its id
per account, and cancelling or deleting it (its unsent messages are stopped and refunded)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tidings.domain.clock import from_ts, to_ts
from tidings.domain.jobs import MAX_JOB_ID, JobView, NewJob
from tidings.domain.lifecycle import JobStatus, MessageStatus, RunStatus
from tidings.errors import RecordError
from tidings.store import ledger, outcomes, queue
from tidings.store.db import Database, Row, Tx

_JOB_VIEW_COLUMNS = (
    "j.job_id, j.name, j.subject, j.rpt, j.rptn, j.created_at, j.changed_at, j.need_date, "
    "j.last_sent, p.phones_text, j.message, j.format, j.validity_min, j.period, j.freq, "
    "j.status, j.sender, j.phones_cnt, j.cost_minor, j.sms_sent, j.sms_ok, j.is_mail"
)
_JOB_VIEW_FROM = "FROM jobs j JOIN job_phones p ON p.job_pk = j.id"


class JobQueries:
    """The `Store`'s queries of jobs, job_phones and job_recipients."""

    db: Database

    def group_addresses(self, account_id: int, groups: Sequence[int], mail: bool) -> list[str]:
        """Every contact address of the account's groups `G<n>` now (a send's recipients,
        a list's cost before its run)."""
        column = "c.email" if mail else "c.phone"
        with self.db.tx(write=False) as tx:
            rows = tx.all(
                f"SELECT DISTINCT {column} FROM contacts c "
                "JOIN group_members gm ON gm.contact_id = c.id "
                "JOIN contact_groups g ON g.id = gm.group_id "
                f"WHERE g.account_id = ? AND g.num IN ({', '.join('?' * len(groups))}) "
                f"AND {column} IS NOT NULL ORDER BY {column}",
                (account_id, *groups),
            )
        return [r[0] for r in rows]

    def insert_job(self, account_id: int, job: NewJob, now: datetime) -> int:
        with self.db.tx() as tx:
            job_id = self._claim_job_id(tx, account_id, job.job_id)
            row = tx.one(
                "INSERT INTO jobs (account_id, job_id, name, message, subject, "
                "sender, sender2, is_mail, format, rpt, rptn, zone, window_start, window_end, "
                "period, freq, validity_min, translit, resend, extra, status, created_at, "
                "changed_at, need_date, phones_cnt) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                _job_row(account_id, job_id, job, now),
            )
            assert row is not None
            tx.execute(
                "INSERT INTO job_phones (job_pk, phones_text) VALUES (?, ?)",
                (row[0], job.phones_text),
            )
            tx.insert_rows(
                "job_recipients",
                ("job_pk", "seq", "address", "group_num", "text"),
                _recipient_rows(int(row[0]), job),
            )
        return job_id

    def _claim_job_id(self, tx: Tx, account_id: int, wanted: int | None) -> int:
        if wanted is not None:
            taken = tx.one(
                "SELECT 1 FROM jobs WHERE account_id = ? AND job_id = ? AND deleted_at IS NULL",
                (account_id, wanted),
            )
            if taken:
                raise RecordError("mailing list id is taken")
            return wanted
        # Server-assigned ids follow the account's highest id (deleted lists included, so an
        # id is never handed out twice). The insert holds the write lock, so this is race-free
        # on SQLite; on PostgreSQL the unique index turns a race into a clean error.
        row = tx.one("SELECT MAX(job_id) FROM jobs WHERE account_id = ?", (account_id,))
        next_id = int(row[0]) + 1 if row and row[0] is not None else 1
        if next_id > MAX_JOB_ID:
            raise RecordError("no free mailing list id")
        return next_id

    def get_job(self, account_id: int, job_id: int) -> JobView | None:
        return read_job_view(self.db, account_id, job_id)

    def list_jobs(
        self, account_id: int, start: date | None, end: date | None, zone: str
    ) -> list[JobView]:
        sql = (
            f"SELECT {_JOB_VIEW_COLUMNS} {_JOB_VIEW_FROM} "
            "WHERE j.account_id = ? AND j.deleted_at IS NULL"
        )
        params: list[Any] = [account_id]
        tz = ZoneInfo(zone)
        if start is not None:
            sql += " AND j.created_at >= ?"
            params.append(to_ts(datetime.combine(start, datetime.min.time(), tz)))
        if end is not None:
            sql += " AND j.created_at < ?"
            params.append(to_ts(datetime.combine(end + timedelta(days=1), datetime.min.time(), tz)))
        sql += " ORDER BY j.created_at DESC, j.job_id DESC"
        with self.db.tx(write=False) as tx:
            rows = tx.all(sql, params)
        return [_job_view(r) for r in rows]

    def cancel_job(self, account_id: int, job_id: int, now: datetime) -> JobStatus | None:
        with self.db.tx() as tx:
            row = tx.one(
                "SELECT id, status FROM jobs "
                "WHERE account_id = ? AND job_id = ? AND deleted_at IS NULL",
                (account_id, job_id),
            )
            if row is None:
                return None
            before = JobStatus(int(row[1]))
            if before in (JobStatus.WAITING, JobStatus.SENDING):
                _disable(tx, int(row[0]), now)
        return before

    def delete_job(self, account_id: int, job_id: int, now: datetime) -> bool:
        with self.db.tx() as tx:
            row = tx.one(
                "SELECT id, status FROM jobs "
                "WHERE account_id = ? AND job_id = ? AND deleted_at IS NULL",
                (account_id, job_id),
            )
            if row is None:
                return False
            if JobStatus(int(row[1])) in (JobStatus.WAITING, JobStatus.SENDING):
                _disable(tx, int(row[0]), now)
            tx.execute("UPDATE jobs SET deleted_at = ? WHERE id = ?", (to_ts(now), row[0]))
        return True

    def job_recipients(
        self, account_id: int, job_id: int
    ) -> list[tuple[str | None, int | None, str | None]]:
        """The stored recipients of a live list, in order (address, group, per-recipient text)."""
        with self.db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT r.address, r.group_num, r.text FROM job_recipients r "
                "JOIN jobs j ON j.id = r.job_pk "
                "WHERE j.account_id = ? AND j.job_id = ? AND j.deleted_at IS NULL ORDER BY r.seq",
                (account_id, job_id),
            )
        return [(r[0], r[1], r[2]) for r in rows]


def _disable(tx: Tx, job_pk: int, now: datetime) -> None:
    """Disable a list: messages not yet handed over are stopped, and so never charged.

    Messages a dispatcher holds a live lease on are being handed over right now; they finish
    normally (the upstream already has them or is about to). So do armed ones of a dispatcher
    that died: they may have been written, and its `on_ambiguous` policy decides them.
    """
    ts = to_ts(now)
    tx.execute(
        "UPDATE jobs SET status = ?, changed_at = ? WHERE id = ?",
        (int(JobStatus.DISABLED), ts, job_pk),
    )
    # Never leased, released, or HELD by a dead dispatcher (never written).
    unleased = "(m.lease_until IS NULL OR (m.lease_until < ? AND m.upstream = ?))"
    stoppable = f"m.job_pk = ? AND m.status = ? AND {unleased}"
    tx.execute(
        "INSERT INTO callbacks (account_id, message_id, status, err, at, next_at) "
        "SELECT m.account_id, m.id, ?, 0, ?, ? FROM messages m "
        f"JOIN accounts a ON a.id = m.account_id WHERE a.callback_url <> '' AND {stoppable}",
        (MessageStatus.STOPPED, ts, ts, job_pk, MessageStatus.WAITING, ts, queue.HELD),
    )
    # A message charged when claimed and released again (a restart, a retry) keeps its one
    # charge for when it goes out; stopped instead, it never will: give that charge back.
    charged = tx.all(
        "SELECT m.id, m.account_id, m.job_pk, m.run_id, m.cost_minor FROM messages m "
        f"JOIN accounts a ON a.id = m.account_id WHERE {stoppable} AND m.cost_minor > 0 "
        "AND a.test_mode = ?",
        (job_pk, MessageStatus.WAITING, ts, queue.HELD, False),
    )
    ledger.refund(
        tx,
        [
            outcomes.Finalised(int(r[0]), int(r[1]), r[2], r[3], int(r[4]), MessageStatus.STOPPED)
            for r in charged
        ],
        ts,
    )
    # Stopped messages are final: count them towards their runs before stopping them.
    tx.execute(
        "UPDATE runs SET final_cnt = final_cnt + (SELECT COUNT(*) FROM messages m "
        f"WHERE m.run_id = runs.id AND {stoppable}) WHERE job_pk = ? AND status = ?",
        (job_pk, MessageStatus.WAITING, ts, queue.HELD, job_pk, RunStatus.OPEN),
    )
    tx.execute(
        f"UPDATE messages AS m SET status = ?, done_at = ? WHERE {stoppable}",
        (MessageStatus.STOPPED, ts, job_pk, MessageStatus.WAITING, ts, queue.HELD),
    )


def _job_row(account_id: int, job_id: int, job: NewJob, now: datetime) -> tuple[Any, ...]:
    ts = to_ts(now)
    window = job.window
    return (
        account_id,
        job_id,
        job.name,
        job.message,
        job.subject,
        job.sender,
        job.sender2,
        job.is_mail,
        int(job.fmt),
        job.rpt,
        job.rptn,
        job.zone,
        window.start_hour if window else None,
        window.end_hour if window else None,
        job.period,
        job.freq,
        job.validity_min,
        job.translit,
        job.resend,
        json.dumps(job.extra, ensure_ascii=False),
        int(JobStatus.WAITING),
        ts,
        ts,
        to_ts(job.first_run),
        len(job.addresses),
    )


def _recipient_rows(job_pk: int, job: NewJob) -> Iterator[Sequence[Any]]:
    texts = job.texts
    seq = 0
    for seq, address in enumerate(job.addresses):
        yield (job_pk, seq, address, None, texts[seq] if texts is not None else None)
    start = seq + 1 if job.addresses else 0
    for offset, group in enumerate(job.groups):
        yield (job_pk, start + offset, None, group, None)


def read_job_view(db: Database, account_id: int, job_id: int) -> JobView | None:
    """One of the account's live lists (also read by store/reports.py with its progress)."""
    with db.tx(write=False) as tx:
        row = tx.one(
            f"SELECT {_JOB_VIEW_COLUMNS} {_JOB_VIEW_FROM} "
            "WHERE j.account_id = ? AND j.job_id = ? AND j.deleted_at IS NULL",
            (account_id, job_id),
        )
    return _job_view(row) if row else None


def _job_view(row: Row) -> JobView:
    created = from_ts(row[5])
    changed = from_ts(row[6])
    assert created is not None and changed is not None
    return JobView(
        job_id=int(row[0]),
        name=row[1],
        subject=row[2],
        rpt=int(row[3]),
        rptn=int(row[4]),
        created_at=created,
        changed_at=changed,
        need_date=from_ts(row[7]),
        last_sent=from_ts(row[8]),
        phones_text=row[9],
        message=row[10],
        fmt=int(row[11]),
        validity_min=int(row[12]),
        period=row[13],
        freq=int(row[14]),
        status=int(row[15]),
        sender=row[16],
        phones_cnt=int(row[17]),
        cost_minor=int(row[18]),
        sms_sent=int(row[19]),
        sms_ok=int(row[20]),
        is_mail=bool(row[21]),
    )

"""Runs of mailing lists, as the scheduler opens and ends them.

Opening: a due list moves from waiting to sending (a compare-and-set, so two dispatchers
never both take it), its run row and every message are written in the caller's transaction;
a list's own recipients in one `INSERT … SELECT`, per-recipient texts and groups streamed.
Ending: a run whose messages are all final is finished and its list waits for the next run
or is finished too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tidings.domain.lifecycle import JobStatus, MessageStatus, RunStatus
from tidings.store.db import Tx


@dataclass(frozen=True)
class RunJob:
    """What the scheduler needs of a due mailing list."""

    job_pk: int
    account_id: int
    test_mode: bool
    message: str
    fmt: int
    translit: int
    sender: str
    is_mail: bool
    period: str
    freq: int
    validity_min: int
    rpt: int
    rptn: int
    zone: str
    need_date: int
    runs_done: int
    has_texts: bool
    groups: tuple[int, ...]
    direct_count: int


@dataclass(frozen=True)
class RunPlan:
    """How to materialise one run (computed by the scheduler from domain rules)."""

    run_no: int
    start: int
    # Seconds between portions and how many there are (1 = everything at `start`).
    portion_s: int
    portions: int
    validity_s: int
    # The channel of every message, or None: ask `channel_for` per recipient.
    channel: str | None
    parts: int


def due_jobs(tx: Tx, now: int, limit: int) -> list[int]:
    rows = tx.all(
        "SELECT id FROM jobs WHERE status = ? AND need_date <= ? AND deleted_at IS NULL "
        "ORDER BY need_date LIMIT ?",
        (JobStatus.WAITING, now, limit),
    )
    return [int(r[0]) for r in rows]


def take_job(tx: Tx, job_pk: int, now: int) -> RunJob | None:
    """Move a due list from waiting to sending; None if another dispatcher took it."""
    changed = tx.execute(
        "UPDATE jobs SET status = ?, changed_at = ? WHERE id = ? AND status = ? "
        "AND need_date <= ? AND deleted_at IS NULL",
        (JobStatus.SENDING, now, job_pk, JobStatus.WAITING, now),
    )
    if changed != 1:
        return None
    row = tx.one(
        "SELECT j.id, j.account_id, a.test_mode, j.message, j.format, j.translit, "
        "CASE WHEN j.sender = '' THEN a.default_sender ELSE j.sender END, j.is_mail, j.period, "
        "j.freq, j.validity_min, j.rpt, j.rptn, j.zone, j.need_date, j.runs_done "
        "FROM jobs j JOIN accounts a ON a.id = j.account_id WHERE j.id = ?",
        (job_pk,),
    )
    assert row is not None
    texts = tx.one(
        "SELECT COUNT(*), COUNT(text) FROM job_recipients WHERE job_pk = ? AND address IS NOT NULL",
        (job_pk,),
    )
    groups = tx.all(
        "SELECT group_num FROM job_recipients WHERE job_pk = ? AND group_num IS NOT NULL",
        (job_pk,),
    )
    assert texts is not None
    return RunJob(
        job_pk=int(row[0]),
        account_id=int(row[1]),
        test_mode=bool(row[2]),
        message=row[3],
        fmt=int(row[4]),
        translit=int(row[5]),
        sender=row[6],
        is_mail=bool(row[7]),
        period=row[8],
        freq=int(row[9]),
        validity_min=int(row[10]),
        rpt=int(row[11]),
        rptn=int(row[12]),
        zone=row[13],
        need_date=int(row[14]),
        runs_done=int(row[15]),
        has_texts=int(texts[1]) > 0,
        groups=tuple(int(g[0]) for g in groups),
        direct_count=int(texts[0]),
    )


def open_run(tx: Tx, job: RunJob, plan: RunPlan, now: int) -> int:
    row = tx.one(
        "INSERT INTO runs (job_pk, run_no, scheduled_at, started_at, status) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id",
        (job.job_pk, plan.run_no, job.need_date, now, RunStatus.OPEN),
    )
    assert row is not None
    return int(row[0])


_STOP_LISTED = (
    "EXISTS (SELECT 1 FROM blacklist b WHERE b.account_id = ? AND b.address = {col} "
    "AND b.type IN (0, 1))"
)


def insert_direct_messages(tx: Tx, job: RunJob, run_id: int, plan: RunPlan, now: int) -> int:
    """All the list's own recipients in one INSERT … SELECT: no row passes through Python.

    Portions: the same split as `schedule.portion_index` (larger portions first), in SQL.
    """
    assert plan.channel is not None
    size, larger = divmod(max(job.direct_count, 1), plan.portions)
    cut = larger * (size + 1)
    portion = (
        f"CASE WHEN r.seq < {cut} THEN r.seq / {size + 1} "
        f"ELSE {larger} + (r.seq - {cut}) / {max(size, 1)} END"
    )
    due = f"? + ({portion}) * ?"
    return tx.execute(
        "INSERT INTO messages (account_id, job_pk, run_id, address, text, sender, channel, "
        "format, parts, status, due_at, valid_until, created_at) "
        f"SELECT ?, r.job_pk, ?, r.address, r.text, ?, ?, ?, ?, ?, {due}, {due} + ?, ? "
        "FROM job_recipients r WHERE r.job_pk = ? AND r.address IS NOT NULL "
        f"AND NOT {_STOP_LISTED.format(col='r.address')}",
        (
            job.account_id,
            run_id,
            job.sender,
            plan.channel,
            job.fmt,
            plan.parts,
            MessageStatus.WAITING,
            plan.start,
            plan.portion_s,
            plan.start,
            plan.portion_s,
            plan.validity_s,
            now,
            job.job_pk,
            job.account_id,
        ),
    )


def direct_recipients(tx: Tx, job_pk: int, account_id: int) -> list[tuple[int, str, str | None]]:
    """(seq, address, text) of the list's own recipients, stop list removed (the slow path,
    for per-recipient texts or per-recipient routing)."""
    rows = tx.all(
        "SELECT r.seq, r.address, r.text FROM job_recipients r WHERE r.job_pk = ? "
        f"AND r.address IS NOT NULL AND NOT {_STOP_LISTED.format(col='r.address')} "
        "ORDER BY r.seq",
        (job_pk, account_id),
    )
    return [(int(r[0]), r[1], r[2]) for r in rows]


def group_recipients(tx: Tx, job: RunJob) -> list[str]:
    """Contacts of the list's groups now (G<n> is resolved at each run), distinct, stop list
    and the list's own recipients removed."""
    if not job.groups:
        return []
    column = "c.email" if job.is_mail else "c.phone"
    marks = ", ".join("?" * len(job.groups))
    rows = tx.all(
        f"SELECT DISTINCT {column} FROM contacts c "
        "JOIN group_members gm ON gm.contact_id = c.id "
        "JOIN contact_groups g ON g.id = gm.group_id "
        f"WHERE g.account_id = ? AND g.num IN ({marks}) AND {column} IS NOT NULL "
        f"AND NOT {_STOP_LISTED.format(col=column)} "
        "AND NOT EXISTS (SELECT 1 FROM job_recipients r WHERE r.job_pk = ? "
        f"AND r.address = {column}) ORDER BY {column}",
        (job.account_id, *job.groups, job.account_id, job.job_pk),
    )
    return [r[0] for r in rows]


MESSAGE_COLUMNS = (
    "account_id",
    "job_pk",
    "run_id",
    "address",
    "text",
    "sender",
    "channel",
    "format",
    "parts",
    "status",
    "due_at",
    "valid_until",
    "created_at",
)


def insert_messages(tx: Tx, rows: Iterable[Sequence[Any]]) -> int:
    return tx.insert_rows("messages", MESSAGE_COLUMNS, rows)


def close_run_opening(tx: Tx, job: RunJob, run_id: int, run_no: int, count: int, now: int) -> None:
    tx.execute("UPDATE runs SET recipients_cnt = ? WHERE id = ?", (count, run_id))
    tx.execute(
        "UPDATE jobs SET phones_cnt = ?, runs_done = ?, changed_at = ? WHERE id = ?",
        (count, run_no, now, job.job_pk),
    )


def finished_runs(tx: Tx) -> list[tuple[int, int]]:
    rows = tx.all(
        f"SELECT id, job_pk FROM runs WHERE status = {int(RunStatus.OPEN)} "
        "AND final_cnt >= recipients_cnt"
    )
    return [(int(r[0]), int(r[1])) for r in rows]


def lock_job(tx: Tx, job_pk: int) -> None:
    """Take the list's row lock first (PostgreSQL), keeping the lock order lists → runs."""
    if tx.dialect == "postgresql":
        tx.one("SELECT id FROM jobs WHERE id = ? FOR UPDATE", (job_pk,))


def finish_run(tx: Tx, run_id: int, now: int) -> bool:
    return (
        tx.execute(
            "UPDATE runs SET status = ?, finished_at = ? WHERE id = ? AND status = ?",
            (RunStatus.FINISHED, now, run_id, RunStatus.OPEN),
        )
        == 1
    )


def job_after_run(tx: Tx, job_pk: int) -> tuple[int, int, int, str, int, int] | None:
    """(status, rpt, rptn, zone, need_date, runs_done) of a list whose run just ended."""
    row = tx.one(
        "SELECT status, rpt, rptn, zone, need_date, runs_done FROM jobs WHERE id = ?",
        (job_pk,),
    )
    return (
        None
        if row is None
        else (int(row[0]), int(row[1]), int(row[2]), row[3], int(row[4]), int(row[5]))
    )


def set_job_state(tx: Tx, job_pk: int, status: int, need_date: int | None, now: int) -> None:
    tx.execute(
        "UPDATE jobs SET status = ?, need_date = COALESCE(?, need_date), changed_at = ? "
        "WHERE id = ? AND status = ?",
        (status, need_date, now, job_pk, JobStatus.SENDING),
    )

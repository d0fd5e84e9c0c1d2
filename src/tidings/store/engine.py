"""Queries of the sending engine: runs, claims with leases, results, receipts, expiry.

Each function runs inside the caller's transaction (`tx`), so the dispatcher can make one
state change and its ledger entry atomic. SQL is shared by SQLite and PostgreSQL; only the
claim adds `FOR UPDATE … SKIP LOCKED` on PostgreSQL so several dispatchers never take the
same message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tidings.domain.lifecycle import TRANSITIONS, Change, MessageStatus
from tidings.store.db import Row, Tx

WAITING, HANDED_OVER, DELIVERED, STOPPED = -1, 0, 1, -2
JOB_WAITING, JOB_SENDING, JOB_FINISHED, JOB_DISABLED = -1, 0, 1, -2


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


@dataclass(frozen=True)
class ClaimRow:
    id: int
    account_id: int
    job_pk: int | None
    run_id: int | None
    address: str
    text: str
    sender: str
    fmt: int
    parts: int
    valid_until: int | None
    attempts: int
    window_start: int | None
    window_end: int | None
    subject: str
    translit: int
    validity_min: int


_CLAIM_COLUMNS = (
    "m.id, m.account_id, m.job_pk, m.run_id, m.address, COALESCE(m.text, j.message, ''), "
    "m.sender, m.format, m.parts, m.valid_until, m.attempts, j.window_start, j.window_end, "
    "COALESCE(j.subject, ''), COALESCE(j.translit, 0), COALESCE(j.validity_min, 0)"
)


# ---- scheduler ---------------------------------------------------------------------------


def due_jobs(tx: Tx, now: int, limit: int) -> list[int]:
    rows = tx.all(
        "SELECT id FROM jobs WHERE status = ? AND need_date <= ? AND deleted_at IS NULL "
        "ORDER BY need_date LIMIT ?",
        (JOB_WAITING, now, limit),
    )
    return [int(r[0]) for r in rows]


def take_job(tx: Tx, job_pk: int, now: int) -> RunJob | None:
    """Move a due list from waiting to sending; None if another dispatcher took it."""
    changed = tx.execute(
        "UPDATE jobs SET status = ?, changed_at = ? WHERE id = ? AND status = ? "
        "AND need_date <= ? AND deleted_at IS NULL",
        (JOB_SENDING, now, job_pk, JOB_WAITING, now),
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
        "VALUES (?, ?, ?, ?, 0) RETURNING id",
        (job.job_pk, plan.run_no, job.need_date, now),
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
            WAITING,
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


# ---- claims ------------------------------------------------------------------------------


def claimable(tx: Tx, channel: str, now: int, limit: int) -> list[ClaimRow]:
    """Due messages nobody holds. A lease that ran out is taken over only if it was HELD:
    an armed one may have been written, and `on_ambiguous` decides it (the sweep)."""
    lock = " FOR UPDATE OF m SKIP LOCKED" if tx.dialect == "postgresql" else ""
    rows = tx.all(
        f"SELECT {_CLAIM_COLUMNS} FROM messages m LEFT JOIN jobs j ON j.id = m.job_pk "
        "WHERE m.channel = ? AND m.status = ? AND m.due_at <= ? "
        "AND (m.lease_until IS NULL OR (m.lease_until < ? AND m.upstream = ?)) "
        "ORDER BY m.due_at LIMIT ?" + lock,
        (channel, WAITING, now, now, HELD, limit),
    )
    return [_claim_row(r) for r in rows]


def _claim_row(r: tuple[Any, ...]) -> ClaimRow:
    return ClaimRow(
        id=int(r[0]),
        account_id=int(r[1]),
        job_pk=r[2],
        run_id=r[3],
        address=r[4],
        text=r[5],
        sender=r[6],
        fmt=int(r[7]),
        parts=int(r[8]),
        valid_until=r[9],
        attempts=int(r[10]),
        window_start=r[11],
        window_end=r[12],
        subject=r[13],
        translit=int(r[14]),
        validity_min=int(r[15]),
    )


@dataclass
class AccountMoney:
    balance: int
    credit_limit: int
    test_mode: bool
    tariff_id: int | None


def lock_accounts(tx: Tx, account_ids: Iterable[int]) -> dict[int, AccountMoney]:
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    lock = " FOR UPDATE" if tx.dialect == "postgresql" else ""
    rows = tx.all(
        "SELECT id, balance_minor, credit_limit_minor, test_mode, tariff_id FROM accounts "
        f"WHERE id IN ({_marks(ids)}) ORDER BY id" + lock,
        ids,
    )
    return {int(r[0]): AccountMoney(int(r[1]), int(r[2]), bool(r[3]), r[4]) for r in rows}


# A leased, waiting message is in one of two states, told apart by `upstream`:
# * HELD (upstream = ''): claimed and charged, queued inside the dispatcher, provably never
#   written to any socket. After a crash it is simply released (not ambiguous).
# * armed (upstream NULL): the dispatcher may have written it to the upstream. After a crash
#   its fate is unknown and `on_ambiguous` decides. A dispatcher keeps at most `window` armed
#   messages per upstream (claimed rows from before this marker existed read as armed: safe).
# `upstream` is set to the real upstream's name when the message is handed over.
HELD = ""


def lease(tx: Tx, ids: Sequence[int], owner: str, until: int) -> None:
    """Take claimed messages as HELD (see above): leased, counted as an attempt, not armed."""
    for chunk in _chunks(ids, 500):
        tx.execute(
            "UPDATE messages SET lease_owner = ?, lease_until = ?, attempts = attempts + 1, "
            f"upstream = ? WHERE id IN ({_marks(chunk)})",
            (owner, until, HELD, *chunk),
        )


_HELD_BY = "+status = ? AND lease_owner = ? AND upstream || '' = ?"
_LIST_DISABLED = "EXISTS (SELECT 1 FROM jobs j WHERE j.id = messages.job_pk AND j.status = ?)"


def arm(tx: Tx, ids: Sequence[int], owner: str, until: int) -> list[int]:
    """HELD → armed for messages this dispatcher still holds, with a fresh lease; returns the
    ids it changed. Not armed: a held message whose lease ran out (released meanwhile), or
    one whose list was cancelled while it was held (see `stop_held`)."""
    rows = _update_by_chunks(
        tx,
        "UPDATE messages SET upstream = NULL, lease_until = ? "
        f"WHERE id IN ({{ids}}) AND {_HELD_BY} AND NOT {_LIST_DISABLED} RETURNING id",
        (until,),
        ids,
        (WAITING, owner, HELD, JOB_DISABLED),
    )
    return [int(r[0]) for r in rows]


def stop_held(tx: Tx, ids: Sequence[int], owner: str, now: int) -> list[Finalised]:
    """Held messages of a list cancelled meanwhile: stopped (-2) like the rest of the list;
    the caller refunds them (they were charged when claimed, and never sent)."""
    rows = _update_by_chunks(
        tx,
        "UPDATE messages SET status = ?, done_at = ?, lease_owner = NULL, "
        "lease_until = NULL, upstream = NULL WHERE id IN ({ids}) "
        f"AND {_HELD_BY} AND {_LIST_DISABLED} RETURNING {_FINALISED}",
        (STOPPED, now),
        ids,
        (WAITING, owner, HELD, JOB_DISABLED),
    )
    return [
        Finalised(int(r[0]), int(r[1]), r[2], r[3], int(r[4]), STOPPED, not bool(r[5]))
        for r in rows
    ]


def charge(tx: Tx, entries: Sequence[tuple[int, int, int, int | None]], ts: int) -> None:
    """(account id, cost, message id, list pk): one ledger charge per message, and each
    account's balance moved by the sum, in the caller's transaction."""
    if not entries:
        return
    tx.insert_rows(
        "ledger",
        ("account_id", "amount_minor", "kind", "memo", "created_at", "message_id", "job_pk"),
        ((acc, -cost, "charge", "", ts, msg, job) for acc, cost, msg, job in entries),
    )
    _move_balances(tx, ((acc, -cost) for acc, cost, _m, _j in entries))
    tx.execute_many(
        "UPDATE messages SET cost_minor = ? WHERE id = ?",
        [(cost, msg) for _acc, cost, msg, _job in entries],
    )
    per_job: dict[int, int] = {}
    for _acc, cost, _msg, job in entries:
        if job is not None:
            per_job[job] = per_job.get(job, 0) + cost
    add_job_cost(tx, per_job)


def refund(tx: Tx, finals: Sequence[Finalised], ts: int) -> None:
    """Give back what was charged for messages that never reached the upstream."""
    paid = [f for f in finals if f.cost and f.charged]
    if not paid:
        return
    tx.insert_rows(
        "ledger",
        ("account_id", "amount_minor", "kind", "memo", "created_at", "message_id", "job_pk"),
        ((f.account_id, f.cost, "refund", "", ts, f.message_id, f.job_pk) for f in paid),
    )
    _move_balances(tx, ((f.account_id, f.cost) for f in paid))
    tx.execute_many(
        "UPDATE messages SET cost_minor = 0 WHERE id = ?", [(f.message_id,) for f in paid]
    )
    per_job: dict[int, int] = {}
    for f in paid:
        if f.job_pk is not None:
            per_job[f.job_pk] = per_job.get(f.job_pk, 0) - f.cost
    add_job_cost(tx, per_job)


def _move_balances(tx: Tx, amounts: Iterable[tuple[int, int]]) -> None:
    per_account: dict[int, int] = {}
    for account_id, amount in amounts:
        per_account[account_id] = per_account.get(account_id, 0) + amount
    tx.execute_many(
        "UPDATE accounts SET balance_minor = balance_minor + ? WHERE id = ?",
        [(amount, account_id) for account_id, amount in per_account.items()],
    )


def set_costs(tx: Tx, costs: Sequence[tuple[int, int]]) -> None:
    """(message id, cost) of messages priced but not charged (test mode)."""
    tx.execute_many(
        "UPDATE messages SET cost_minor = ? WHERE id = ?",
        [(cost, message_id) for message_id, cost in costs],
    )


def postpone(tx: Tx, due: Sequence[tuple[int, int]]) -> None:
    """(message id, new due time): held back (a closed h1-h2 window, a retry)."""
    tx.execute_many(
        "UPDATE messages SET due_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?",
        [(due_at, message_id) for message_id, due_at in due],
    )


def add_job_cost(tx: Tx, per_job: dict[int, int]) -> None:
    tx.execute_many(
        "UPDATE jobs SET cost_minor = cost_minor + ? WHERE id = ?",
        [(amount, job_pk) for job_pk, amount in per_job.items() if amount],
    )


# ---- results -----------------------------------------------------------------------------


def mark_handed_over(tx: Tx, ids: Sequence[int], upstream: str, owner: str, now: int) -> list[int]:
    """Status 0 for messages this dispatcher still holds; returns the ids it changed.

    `+status` (the same value) keeps SQLite from walking a status index — a million waiting
    messages — when the row ids in hand are the fast way in; finalise does the same."""
    rows = _update_by_chunks(
        tx,
        "UPDATE messages SET status = ?, upstream = ?, sent_at = ?, lease_owner = NULL, "
        "lease_until = NULL WHERE id IN ({ids}) AND +status = ? AND lease_owner = ? RETURNING id",
        (HANDED_OVER, upstream, now),
        ids,
        (WAITING, owner),
    )
    return [int(r[0]) for r in rows]


def record_upstream_ids(tx: Tx, rows: Sequence[tuple[str, str, int, int]]) -> None:
    """(upstream, upstream id, message id, part number). An upstream that restarted may hand
    out an id again: the newest message wins."""
    tx.execute_many(
        "INSERT INTO upstream_ids (upstream, upstream_msg_id, message_id, part_no) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (upstream, upstream_msg_id) DO UPDATE SET "
        "message_id = excluded.message_id, part_no = excluded.part_no",
        rows,
    )


@dataclass(frozen=True)
class Finalised:
    message_id: int
    account_id: int
    job_pk: int | None
    run_id: int | None
    cost: int
    status: int
    # False for test-mode messages: priced, never charged, so nothing to give back.
    charged: bool = True
    err: int = 0


def finalise(
    tx: Tx,
    message_ids: Sequence[int],
    status: int,
    err: int,
    now: int,
    *,
    from_statuses: tuple[int, ...],
) -> list[Finalised]:
    """Move messages to a final status if they are still in one of `from_statuses`."""
    rows = _update_by_chunks(
        tx,
        "UPDATE messages SET status = ?, err = ?, done_at = ?, lease_owner = NULL, "
        "lease_until = NULL WHERE id IN ({ids}) "
        f"AND +status IN ({_marks(from_statuses)}) RETURNING {_FINALISED}",
        (status, err, now),
        message_ids,
        from_statuses,
    )
    return [
        Finalised(int(r[0]), int(r[1]), r[2], r[3], int(r[4]), status, not bool(r[5]), err)
        for r in rows
    ]


def apply_change(
    tx: Tx,
    change: Change,
    message_ids: Sequence[int],
    now: int,
    *,
    status: MessageStatus | None = None,
    err: int = 0,
) -> list[Finalised]:
    """Finish messages by one transition of the lifecycle table: they move to its target if
    they are still in one of its sources, and get their charge back when it says so. Their
    counters and callbacks follow in `count_finals`, which callers batch per transaction."""
    transition = TRANSITIONS[change]
    done = finalise(
        tx,
        message_ids,
        int(transition.target(status)),
        err,
        now,
        from_statuses=tuple(int(s) for s in transition.sources),
    )
    if transition.refund:
        refund(tx, done, now)
    return done


def count_finals(tx: Tx, finals: Sequence[Finalised]) -> None:
    """Keep run and list counters in step with messages that became final, and queue their
    status callbacks."""
    per_run: dict[int, int] = {}
    delivered: dict[int, int] = {}
    for f in finals:
        if f.run_id is not None:
            per_run[f.run_id] = per_run.get(f.run_id, 0) + 1
        if f.status == DELIVERED and f.job_pk is not None:
            delivered[f.job_pk] = delivered.get(f.job_pk, 0) + 1
    tx.execute_many(
        "UPDATE jobs SET sms_ok = sms_ok + ? WHERE id = ?",
        [(n, job_pk) for job_pk, n in delivered.items()],
    )
    # Lists before runs: the order every transaction takes its row locks in.
    tx.execute_many(
        "UPDATE runs SET final_cnt = final_cnt + ? WHERE id = ?",
        [(n, run_id) for run_id, n in per_run.items()],
    )
    by_change: dict[tuple[int, int], list[int]] = {}
    for f in finals:
        by_change.setdefault((f.status, f.err), []).append(f.message_id)
    for (status, err), ids in by_change.items():
        enqueue_callbacks(tx, ids, status, err)


def count_sent(tx: Tx, per_job: dict[int, int], now: int) -> None:
    tx.execute_many(
        "UPDATE jobs SET sms_sent = sms_sent + ?, last_sent = ? WHERE id = ?",
        [(n, now, job_pk) for job_pk, n in per_job.items()],
    )


@dataclass(frozen=True)
class ReceiptTarget:
    message_id: int
    status: int
    parts: int
    parts_done: int
    receipted: bool  # this part's DELIVERED receipt was counted already


def receipt_targets(tx: Tx, upstream: str, upstream_ids: Sequence[str]) -> dict[str, ReceiptTarget]:
    """upstream id → its message's state, for the ids known so far."""
    found: dict[str, ReceiptTarget] = {}
    for chunk in _chunks(upstream_ids, 500):
        rows = tx.all(
            "SELECT u.upstream_msg_id, m.id, m.status, m.parts, m.parts_done, u.receipted "
            "FROM upstream_ids u JOIN messages m ON m.id = u.message_id "
            f"WHERE u.upstream = ? AND u.upstream_msg_id IN ({_marks(chunk)})",
            (upstream, *chunk),
        )
        for r in rows:
            found[r[0]] = ReceiptTarget(int(r[1]), int(r[2]), int(r[3]), int(r[4]), bool(r[5]))
    return found


def mark_receipted(tx: Tx, upstream: str, upstream_ids: Sequence[str]) -> None:
    """Parts whose DELIVERED receipt was just counted."""
    tx.execute_many(
        "UPDATE upstream_ids SET receipted = ? WHERE upstream = ? AND upstream_msg_id = ?",
        [(True, upstream, uid) for uid in upstream_ids],
    )


def add_parts_done(tx: Tx, increments: Sequence[tuple[int, int]]) -> None:
    """(parts delivered now, message id)."""
    tx.execute_many("UPDATE messages SET parts_done = parts_done + ? WHERE id = ?", increments)


# ---- sweeping and finishing ------------------------------------------------------------


def expired_ids(tx: Tx, now: int, grace_s: int, limit: int) -> tuple[list[int], list[int]]:
    """(never handed over and out of time, handed over with no receipt well past time)."""
    waiting = tx.all(
        "SELECT id FROM messages WHERE status = ? AND valid_until < ? "
        "AND (lease_until IS NULL OR lease_until < ?) LIMIT ?",
        (WAITING, now, now, limit),
    )
    sent = tx.all(
        "SELECT id FROM messages WHERE status = ? AND valid_until < ? LIMIT ?",
        (HANDED_OVER, now - grace_s, limit),
    )
    return [int(r[0]) for r in waiting], [int(r[0]) for r in sent]


@dataclass(frozen=True)
class StaleLeases:
    held: list[int]  # never written: release them
    armed: list[int]  # may have reached the upstream: ambiguous


def stale_leases(tx: Tx, owner: str | None, now: int, limit: int) -> StaleLeases:
    """Messages leased but never resolved: by `owner` (any lease time), or anybody's expired
    lease (owner None). Both walk the small index of leased rows."""
    if owner is not None:
        rows = tx.all(
            "SELECT id, upstream FROM messages WHERE lease_until IS NOT NULL AND +status = ? "
            "AND lease_owner = ? LIMIT ?",
            (WAITING, owner, limit),
        )
    else:
        rows = tx.all(
            "SELECT id, upstream FROM messages WHERE lease_until IS NOT NULL "
            "AND lease_until < ? AND +status = ? LIMIT ?",
            (now, WAITING, limit),
        )
    return StaleLeases(
        held=[int(r[0]) for r in rows if r[1] == HELD],
        armed=[int(r[0]) for r in rows if r[1] != HELD],
    )


def release(tx: Tx, ids: Sequence[int], owner: str | None = None) -> None:
    """Give leased messages back to the queue (to any dispatcher), as never armed; with
    `owner`, only those it still holds."""
    still_held = "" if owner is None else " AND +status = ? AND lease_owner = ?"
    for chunk in _chunks(ids, 500):
        tx.execute(
            "UPDATE messages SET lease_owner = NULL, lease_until = NULL, upstream = NULL "
            f"WHERE id IN ({_marks(chunk)}){still_held}",
            (*chunk, *(() if owner is None else (WAITING, owner))),
        )


def finished_runs(tx: Tx) -> list[tuple[int, int]]:
    rows = tx.all("SELECT id, job_pk FROM runs WHERE status = 0 AND final_cnt >= recipients_cnt")
    return [(int(r[0]), int(r[1])) for r in rows]


def lock_job(tx: Tx, job_pk: int) -> None:
    """Take the list's row lock first (PostgreSQL), keeping the lock order lists → runs."""
    if tx.dialect == "postgresql":
        tx.one("SELECT id FROM jobs WHERE id = ? FOR UPDATE", (job_pk,))


def finish_run(tx: Tx, run_id: int, now: int) -> bool:
    return (
        tx.execute(
            "UPDATE runs SET status = 1, finished_at = ? WHERE id = ? AND status = 0",
            (now, run_id),
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
        (status, need_date, now, job_pk, JOB_SENDING),
    )


def _marks(items: Sequence[Any]) -> str:
    return ", ".join("?" * len(items))


# What an UPDATE … RETURNING gives for a `Finalised`.
_FINALISED = (
    "id, account_id, job_pk, run_id, cost_minor, "
    "(SELECT test_mode FROM accounts a WHERE a.id = messages.account_id)"
)


def _update_by_chunks(
    tx: Tx, sql: str, before: Sequence[Any], ids: Sequence[int], after: Sequence[Any]
) -> list[Row]:
    """An UPDATE … RETURNING over `ids`, 500 at a time (`{ids}` in `sql` marks their place,
    between the parameters `before` and `after`); the rows of every chunk."""
    rows: list[Row] = []
    for chunk in _chunks(ids, 500):
        rows += tx.all(sql.replace("{ids}", _marks(chunk)), (*before, *chunk, *after))
    return rows


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def set_parts(tx: Tx, rows: Sequence[tuple[int, int]]) -> None:
    """(parts, message id): the upstream split a message differently from our count."""
    tx.execute_many("UPDATE messages SET parts = ? WHERE id = ?", rows)


def enqueue_callbacks(tx: Tx, message_ids: Sequence[int], status: int, err: int) -> None:
    """Queue a status callback for each message whose account has a callback URL (one
    statement per batch; accounts without a URL cost nothing more)."""
    for chunk in _chunks(message_ids, 500):
        tx.execute(
            "INSERT INTO callbacks (account_id, message_id, status, err, at, next_at) "
            "SELECT m.account_id, m.id, ?, ?, COALESCE(m.done_at, m.sent_at, m.created_at), "
            "COALESCE(m.done_at, m.sent_at, m.created_at) FROM messages m "
            "JOIN accounts a ON a.id = m.account_id "
            f"WHERE m.id IN ({_marks(chunk)}) AND a.callback_url <> ''",
            (status, err, *chunk),
        )

"""What becomes of a claimed message: handed over, or finished by a lifecycle transition.

`apply_change` is the one way a message reaches a final status on the sending path: it
applies a transition of `tidings.domain.lifecycle.TRANSITIONS` (sources → target, refund or
not); `count_finals` then moves the run and list counters and queues the status callbacks (and
the receipts a door's client asked for).
All in the caller's transaction, so a status change and its money move together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tidings.domain.lifecycle import TRANSITIONS, Change, MessageStatus
from tidings.store import door_receipts, ledger
from tidings.store.db import Tx
from tidings.store.sql import chunks, marks, update_by_chunks


def mark_handed_over(tx: Tx, ids: Sequence[int], upstream: str, owner: str, now: int) -> list[int]:
    """Status 0 for messages this dispatcher still holds; returns the ids it changed.

    `+status` (the same value) keeps SQLite from walking a status index — a million waiting
    messages — when the row ids in hand are the fast way in; finalise does the same."""
    rows = update_by_chunks(
        tx,
        "UPDATE messages SET status = ?, upstream = ?, sent_at = ?, lease_owner = NULL, "
        "lease_until = NULL WHERE id IN ({ids}) AND +status = ? AND lease_owner = ? RETURNING id",
        (MessageStatus.HANDED_OVER, upstream, now),
        ids,
        (MessageStatus.WAITING, owner),
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


def set_parts(tx: Tx, rows: Sequence[tuple[int, int]]) -> None:
    """(parts, message id): the upstream split a message differently from our count."""
    tx.execute_many("UPDATE messages SET parts = ? WHERE id = ?", rows)


def count_sent(tx: Tx, per_job: dict[int, int], now: int) -> None:
    tx.execute_many(
        "UPDATE jobs SET sms_sent = sms_sent + ?, last_sent = ? WHERE id = ?",
        [(n, now, job_pk) for job_pk, n in per_job.items()],
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


# What an UPDATE … RETURNING gives for a `Finalised`.
FINALISED_COLUMNS = (
    "id, account_id, job_pk, run_id, cost_minor, "
    "(SELECT test_mode FROM accounts a WHERE a.id = messages.account_id)"
)


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
    rows = update_by_chunks(
        tx,
        "UPDATE messages SET status = ?, err = ?, done_at = ?, lease_owner = NULL, "
        "lease_until = NULL WHERE id IN ({ids}) "
        f"AND +status IN ({marks(from_statuses)}) RETURNING {FINALISED_COLUMNS}",
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
        ledger.refund(tx, done, now)
    return done


def count_finals(tx: Tx, finals: Sequence[Finalised]) -> None:
    """Keep run and list counters in step with messages that became final, and queue their
    status callbacks."""
    per_run: dict[int, int] = {}
    delivered: dict[int, int] = {}
    for f in finals:
        if f.run_id is not None:
            per_run[f.run_id] = per_run.get(f.run_id, 0) + 1
        if f.status == MessageStatus.DELIVERED and f.job_pk is not None:
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
        # A door's client that asked for this message's receipt gets it (doors/smpp).
        door_receipts.mark_final(tx, ids, status)


def enqueue_callbacks(tx: Tx, message_ids: Sequence[int], status: int, err: int) -> None:
    """Queue a status callback for each message whose account has a callback URL (one
    statement per batch; accounts without a URL cost nothing more)."""
    for chunk in chunks(message_ids, 500):
        tx.execute(
            "INSERT INTO callbacks (account_id, message_id, status, err, at, next_at) "
            "SELECT m.account_id, m.id, ?, ?, COALESCE(m.done_at, m.sent_at, m.created_at), "
            "COALESCE(m.done_at, m.sent_at, m.created_at) FROM messages m "
            "JOIN accounts a ON a.id = m.account_id "
            f"WHERE m.id IN ({marks(chunk)}) AND a.callback_url <> ''",
            (status, err, *chunk),
        )

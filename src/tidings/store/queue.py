"""The lease queue: due messages claimed by a dispatcher, held, armed, released.

Each function runs inside the caller's transaction. The claim adds `FOR UPDATE … SKIP
LOCKED` on PostgreSQL, so several dispatchers never take the same message; SQLite
serialises writers with `BEGIN IMMEDIATE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tidings.domain.lifecycle import JobStatus, MessageStatus
from tidings.store.db import Tx
from tidings.store.outcomes import FINALISED_COLUMNS, Finalised
from tidings.store.sql import chunks, marks, update_by_chunks


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


def claimable(tx: Tx, channel: str, now: int, limit: int) -> list[ClaimRow]:
    """Due messages nobody holds. A lease that ran out is taken over only if it was HELD:
    an armed one may have been written, and `on_ambiguous` decides it (the sweep)."""
    lock = " FOR UPDATE OF m SKIP LOCKED" if tx.dialect == "postgresql" else ""
    rows = tx.all(
        f"SELECT {_CLAIM_COLUMNS} FROM messages m LEFT JOIN jobs j ON j.id = m.job_pk "
        "WHERE m.channel = ? AND m.status = ? AND m.due_at <= ? "
        "AND (m.lease_until IS NULL OR (m.lease_until < ? AND m.upstream = ?)) "
        "ORDER BY m.due_at LIMIT ?" + lock,
        (channel, MessageStatus.WAITING, now, now, HELD, limit),
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
    for chunk in chunks(ids, 500):
        tx.execute(
            "UPDATE messages SET lease_owner = ?, lease_until = ?, attempts = attempts + 1, "
            f"upstream = ? WHERE id IN ({marks(chunk)})",
            (owner, until, HELD, *chunk),
        )


_HELD_BY = "+status = ? AND lease_owner = ? AND upstream || '' = ?"


_LIST_DISABLED = "EXISTS (SELECT 1 FROM jobs j WHERE j.id = messages.job_pk AND j.status = ?)"


def arm(tx: Tx, ids: Sequence[int], owner: str, until: int) -> list[int]:
    """HELD → armed for messages this dispatcher still holds, with a fresh lease; returns the
    ids it changed. Not armed: a held message whose lease ran out (released meanwhile), or
    one whose list was cancelled while it was held (see `stop_held`)."""
    rows = update_by_chunks(
        tx,
        "UPDATE messages SET upstream = NULL, lease_until = ? "
        f"WHERE id IN ({{ids}}) AND {_HELD_BY} AND NOT {_LIST_DISABLED} RETURNING id",
        (until,),
        ids,
        (MessageStatus.WAITING, owner, HELD, JobStatus.DISABLED),
    )
    return [int(r[0]) for r in rows]


def stop_held(tx: Tx, ids: Sequence[int], owner: str, now: int) -> list[Finalised]:
    """Held messages of a list cancelled meanwhile: stopped (-2) like the rest of the list;
    the caller refunds them (they were charged when claimed, and never sent)."""
    rows = update_by_chunks(
        tx,
        "UPDATE messages SET status = ?, done_at = ?, lease_owner = NULL, "
        "lease_until = NULL, upstream = NULL WHERE id IN ({ids}) "
        f"AND {_HELD_BY} AND {_LIST_DISABLED} RETURNING {FINALISED_COLUMNS}",
        (MessageStatus.STOPPED, now),
        ids,
        (MessageStatus.WAITING, owner, HELD, JobStatus.DISABLED),
    )
    stopped = MessageStatus.STOPPED
    return [
        Finalised(int(r[0]), int(r[1]), r[2], r[3], int(r[4]), stopped, not bool(r[5]))
        for r in rows
    ]


def postpone(tx: Tx, due: Sequence[tuple[int, int]]) -> None:
    """(message id, new due time): held back (a closed h1-h2 window, a retry)."""
    tx.execute_many(
        "UPDATE messages SET due_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?",
        [(due_at, message_id) for message_id, due_at in due],
    )


def expired_ids(tx: Tx, now: int, grace_s: int, limit: int) -> tuple[list[int], list[int]]:
    """(never handed over and out of time, handed over with no receipt well past time)."""
    waiting = tx.all(
        "SELECT id FROM messages WHERE status = ? AND valid_until < ? "
        "AND (lease_until IS NULL OR lease_until < ?) LIMIT ?",
        (MessageStatus.WAITING, now, now, limit),
    )
    sent = tx.all(
        "SELECT id FROM messages WHERE status = ? AND valid_until < ? LIMIT ?",
        (MessageStatus.HANDED_OVER, now - grace_s, limit),
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
            (MessageStatus.WAITING, owner, limit),
        )
    else:
        rows = tx.all(
            "SELECT id, upstream FROM messages WHERE lease_until IS NOT NULL "
            "AND lease_until < ? AND +status = ? LIMIT ?",
            (now, MessageStatus.WAITING, limit),
        )
    return StaleLeases(
        held=[int(r[0]) for r in rows if r[1] == HELD],
        armed=[int(r[0]) for r in rows if r[1] != HELD],
    )


def release(tx: Tx, ids: Sequence[int], owner: str | None = None) -> None:
    """Give leased messages back to the queue (to any dispatcher), as never armed; with
    `owner`, only those it still holds."""
    still_held = "" if owner is None else " AND +status = ? AND lease_owner = ?"
    for chunk in chunks(ids, 500):
        tx.execute(
            "UPDATE messages SET lease_owner = NULL, lease_until = NULL, upstream = NULL "
            f"WHERE id IN ({marks(chunk)}){still_held}",
            (*chunk, *(() if owner is None else (MessageStatus.WAITING, owner))),
        )

"""Delivery receipts: the messages behind upstream ids, and the parts delivered so far."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tidings.store.db import Row, Tx
from tidings.store.sql import chunks, marks


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
    for chunk in chunks(upstream_ids, 500):
        rows = tx.all(
            "SELECT u.upstream_msg_id, m.id, m.status, m.parts, m.parts_done, u.receipted "
            "FROM upstream_ids u JOIN messages m ON m.id = u.message_id "
            f"WHERE u.upstream = ? AND u.upstream_msg_id IN ({marks(chunk)})",
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


@dataclass(frozen=True)
class StoredReceipt:
    """A receipt kept until its upstream id is recorded (see `unmatched_receipts`)."""

    upstream: str
    upstream_id: str
    status: int
    err: int
    done_at: int | None


_STORED_COLUMNS = "upstream, upstream_msg_id, status, err, done_at"


def store_unmatched(tx: Tx, receipts: Sequence[StoredReceipt], now: int) -> None:
    """Keep receipts whose upstream id is not known yet. A resent one is kept once."""
    tx.execute_many(
        "INSERT INTO unmatched_receipts "
        "(upstream, upstream_msg_id, status, err, done_at, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (upstream, upstream_msg_id) DO NOTHING",
        [(r.upstream, r.upstream_id, r.status, r.err, r.done_at, now) for r in receipts],
    )


def take_stored(tx: Tx, upstream: str, upstream_ids: Sequence[str]) -> list[StoredReceipt]:
    """The kept receipts of these upstream ids, deleted as they are read: of two dispatchers
    matching the same receipt, only the one whose DELETE found it applies it."""
    found: list[StoredReceipt] = []
    for chunk in chunks(upstream_ids, 500):
        found += _stored(
            tx.all(
                "DELETE FROM unmatched_receipts WHERE upstream = ? "
                f"AND upstream_msg_id IN ({marks(chunk)}) RETURNING {_STORED_COLUMNS}",
                (upstream, *chunk),
            )
        )
    return found


def stored_now_known(tx: Tx, limit: int) -> list[tuple[str, str]]:
    """(upstream, upstream id) of kept receipts whose id has been recorded since."""
    rows = tx.all(
        "SELECT r.upstream, r.upstream_msg_id FROM unmatched_receipts r JOIN upstream_ids u "
        "ON u.upstream = r.upstream AND u.upstream_msg_id = r.upstream_msg_id LIMIT ?",
        (limit,),
    )
    return [(r[0], r[1]) for r in rows]


def stored_before(tx: Tx, before: int) -> int:
    """How many kept receipts arrived before `before` (read before deleting them)."""
    row = tx.one("SELECT COUNT(*) FROM unmatched_receipts WHERE received_at < ?", (before,))
    return int(row[0]) if row else 0


def drop_stored_before(tx: Tx, before: int) -> int:
    return tx.execute("DELETE FROM unmatched_receipts WHERE received_at < ?", (before,))


def _stored(rows: Sequence[Row]) -> list[StoredReceipt]:
    return [
        StoredReceipt(r[0], r[1], int(r[2]), int(r[3]), None if r[4] is None else int(r[4]))
        for r in rows
    ]

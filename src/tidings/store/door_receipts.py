"""door_receipts: final statuses owed to a door's client (domain/door_receipts.py).

Rows are written with their send (`queue_requests`, in queue_sends' transaction), made due
when the message becomes final (`mark_final`, in the transaction of that change, called by
outcomes.count_finals), leased to a door that offers them to its client, and deleted when
the client acknowledged them.
"""

from __future__ import annotations

from collections.abc import Sequence

from tidings.domain.door_receipts import DoorReceipt
from tidings.domain.lifecycle import MessageStatus
from tidings.domain.sends import PricedSend
from tidings.store.db import Database, Row, Tx
from tidings.store.sql import chunks, marks


def queue_requests(tx: Tx, prepared: PricedSend, send_id: str, message_ids: Sequence[int]) -> None:
    """Remember that the door which took this send wants its messages' final statuses; each
    receipt names the send by `send_id`, the id its client was answered with."""
    wanted = prepared.receipts
    if wanted is None or not message_ids:
        return
    tx.insert_rows(
        "door_receipts",
        ("message_id", "account_id", "door", "reference", "source", "failures_only"),
        [
            (
                mid,
                prepared.account.id,
                wanted.door,
                send_id,
                wanted.source[:64],
                wanted.failures_only,
            )
            for mid in message_ids
        ],
    )


def mark_final(tx: Tx, message_ids: Sequence[int], status: int) -> None:
    """These messages became final with `status`: their receipts are due now (a delivery
    is no receipt for a client that asked for failures only)."""
    for chunk in chunks(message_ids, 500):
        if status in (MessageStatus.DELIVERED, MessageStatus.READ):
            tx.execute(
                f"DELETE FROM door_receipts WHERE message_id IN ({marks(chunk)}) AND failures_only",
                chunk,
            )
        tx.execute(
            "UPDATE door_receipts SET status = m.status, err = m.err, "
            "done_at = COALESCE(m.done_at, m.sent_at, m.created_at), "
            "next_at = COALESCE(m.done_at, m.sent_at, m.created_at) "
            f"FROM messages m WHERE m.id = door_receipts.message_id "
            f"AND door_receipts.message_id IN ({marks(chunk)}) AND door_receipts.status IS NULL",
            chunk,
        )


_CLAIMED = (
    "m.id, d.reference, m.account_id, m.address, d.source, d.status, d.err, m.created_at, "
    "d.done_at, COALESCE(m.text, ''), m.parts, d.attempts"
)


class DoorReceiptQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    def claim_receipts(
        self, door: str, account_ids: Sequence[int], now: int, lease_s: int, limit: int
    ) -> list[DoorReceipt]:
        due = (
            f"door = ? AND account_id IN ({marks(account_ids)}) AND status IS NOT NULL "
            "AND next_at <= ?"
        )
        # Read first: the usual answer is "none", and a write transaction would take
        # SQLite's writer lock from the dispatcher every poll for it.
        with self._db.tx(write=False) as tx:
            if (
                tx.one(
                    f"SELECT 1 FROM door_receipts WHERE {due} LIMIT 1", (door, *account_ids, now)
                )
                is None
            ):
                return []
        with self._db.tx() as tx:
            # `next_at <= ?` again outside: a second process's claim waiting on the same
            # rows (PostgreSQL) re-checks it after the first commits and takes none of them.
            rows = tx.all(
                "UPDATE door_receipts SET next_at = ?, attempts = attempts + 1 "
                f"WHERE message_id IN (SELECT message_id FROM door_receipts WHERE {due} "
                "ORDER BY next_at LIMIT ?) AND next_at <= ? RETURNING message_id",
                # +1: times are whole seconds, and a lease lasts at least lease_s.
                (now + lease_s + 1, door, *account_ids, now, limit, now),
            )
            ids = [int(r[0]) for r in rows]
            found = []
            for chunk in chunks(ids, 500):
                found += tx.all(
                    f"SELECT {_CLAIMED} FROM door_receipts d JOIN messages m "
                    f"ON m.id = d.message_id WHERE d.message_id IN ({marks(chunk)}) "
                    "ORDER BY d.done_at, m.id",
                    chunk,
                )
        return [_receipt(row) for row in found]

    def receipts_acknowledged(self, message_ids: Sequence[int]) -> None:
        with self._db.tx() as tx:
            for chunk in chunks(message_ids, 500):
                tx.execute(f"DELETE FROM door_receipts WHERE message_id IN ({marks(chunk)})", chunk)

    def drop_old_receipts(self, door: str, done_before: int) -> int:
        with self._db.tx() as tx:
            return tx.execute(
                "DELETE FROM door_receipts WHERE door = ? AND done_at < ?", (door, done_before)
            )


def _receipt(row: Row) -> DoorReceipt:
    mid, reference, account, address, source, status, err, created, done, text, parts, attempts = (
        row
    )
    return DoorReceipt(
        message_id=int(mid),
        reference=reference,
        account_id=int(account),
        address=address,
        source=source,
        status=MessageStatus(int(status)),
        err=int(err),
        submitted_at=int(created),
        done_at=int(done),
        text=text,
        parts=int(parts),
        attempts=int(attempts),
    )

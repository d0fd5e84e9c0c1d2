"""door_inbound: inbound messages owed to a door's clients (domain/door_inbound.py).

Rows are written with their inbound message (`queue`, in the recording transaction of
dispatch/inbound.py) for an account that has had a receiver bound, leased to a door that
offers them to its client, deleted when the client acknowledged them.
"""

from __future__ import annotations

from collections.abc import Sequence

from tidings.domain.door_inbound import DoorInbound
from tidings.store.db import Database, Row, Tx
from tidings.store.sql import chunks, marks


def queue(tx: Tx, door: str, account_id: int, inbound_id: int, now: int) -> None:
    tx.execute(
        "INSERT INTO door_inbound (inbound_id, door, account_id, received_at, next_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (inbound_id, door, account_id, now, now),
    )


_CLAIMED = "d.inbound_id, d.account_id, i.phone, i.to_phone, i.text, i.received_at, d.attempts"


class DoorInboundQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    def receiver_bound(self, account_id: int, now: int) -> None:
        with self._db.tx() as tx:
            tx.execute("UPDATE accounts SET smpp_receiver_at = ? WHERE id = ?", (now, account_id))

    def claim_inbound(
        self, door: str, account_ids: Sequence[int], now: int, lease_s: int, limit: int
    ) -> list[DoorInbound]:
        due = f"door = ? AND account_id IN ({marks(account_ids)}) AND next_at <= ?"
        # Read first: the usual answer is "none", and a write transaction would take
        # SQLite's writer lock from the dispatcher every poll for it.
        with self._db.tx(write=False) as tx:
            probe = f"SELECT 1 FROM door_inbound WHERE {due} LIMIT 1"
            if tx.one(probe, (door, *account_ids, now)) is None:
                return []
        with self._db.tx() as tx:
            # `next_at <= ?` again outside: a second process's claim waiting on the same
            # rows (PostgreSQL) re-checks it after the first commits and takes none of them.
            rows = tx.all(
                "UPDATE door_inbound SET next_at = ?, attempts = attempts + 1 "
                f"WHERE door = ? AND inbound_id IN (SELECT inbound_id FROM door_inbound "
                f"WHERE {due} ORDER BY next_at, inbound_id LIMIT ?) AND next_at <= ? "
                "RETURNING inbound_id",
                # +1: times are whole seconds, and a lease lasts at least lease_s.
                (now + lease_s + 1, door, door, *account_ids, now, limit, now),
            )
            ids = [int(r[0]) for r in rows]
            found: list[Row] = []
            for chunk in chunks(ids, 500):
                found += tx.all(
                    f"SELECT {_CLAIMED} FROM door_inbound d JOIN inbound_messages i "
                    f"ON i.id = d.inbound_id WHERE d.door = ? AND d.inbound_id IN "
                    f"({marks(chunk)}) ORDER BY d.inbound_id",
                    (door, *chunk),
                )
        return [_inbound(row) for row in found]

    def inbound_acknowledged(self, door: str, inbound_ids: Sequence[int]) -> None:
        with self._db.tx() as tx:
            for chunk in chunks(inbound_ids, 500):
                tx.execute(
                    f"DELETE FROM door_inbound WHERE door = ? AND inbound_id IN ({marks(chunk)})",
                    (door, *chunk),
                )

    def drop_old_inbound(self, door: str, received_before: int) -> int:
        with self._db.tx() as tx:
            return tx.execute(
                "DELETE FROM door_inbound WHERE door = ? AND received_at < ?",
                (door, received_before),
            )


def _inbound(row: Row) -> DoorInbound:
    inbound_id, account, phone, to_phone, text, received, attempts = row
    return DoorInbound(
        inbound_id=int(inbound_id),
        account_id=int(account),
        phone=phone,
        to_phone=to_phone,
        text=text,
        received_at=int(received),
        attempts=int(attempts),
    )

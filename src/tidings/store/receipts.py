"""Delivery receipts: the messages behind upstream ids, and the parts delivered so far."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tidings.store.db import Tx
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

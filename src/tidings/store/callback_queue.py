"""The queue of status callbacks and forwarded inbound messages (table `callbacks`): the
dispatcher's claims, leases and outcomes (dispatch/callbacks.py decides when and how many)."""

from __future__ import annotations

from collections.abc import Sequence

from tidings.store.db import Row, Tx

# What a delivery needs: the callback, its account's endpoint, and the message (or the
# inbound message) it tells of — in the order dispatch/callback_payloads.due_from reads.
_DUE_COLUMNS = (
    "c.id, c.account_id, a.callback_url, a.callback_secret, a.timezone, "
    "COALESCE(m.client_id, ''), c.message_id, COALESCE(m.address, ''), c.status, "
    "c.err, c.at, c.attempts, COALESCE(m.parts, 1), COALESCE(m.cost_minor, 0), "
    "i.id, i.phone, i.to_phone, i.text, i.received_at, i.message_id, j.job_id, i.stop"
)


def due(
    tx: Tx, now: int, *, limit: int, of: int | None = None, not_of: Sequence[int] = ()
) -> list[Row]:
    """Due, unleased callbacks in id order: of one account (through ix_callbacks_account),
    or of all accounts but some."""
    if of is not None:
        which, params = "AND c.account_id = ? ", [of]
    elif not_of:
        which, params = f"AND c.account_id NOT IN ({', '.join('?' * len(not_of))}) ", [*not_of]
    else:
        which, params = "", []
    return tx.all(
        f"SELECT {_DUE_COLUMNS} "
        "FROM callbacks c "
        "JOIN accounts a ON a.id = c.account_id "
        "LEFT JOIN messages m ON m.id = c.message_id "
        "LEFT JOIN inbound_messages i ON i.id = c.inbound_id "
        "LEFT JOIN jobs j ON j.id = i.job_pk "
        "WHERE c.done_at IS NULL AND c.next_at <= ? "
        "AND (c.lease_until IS NULL OR c.lease_until < ?) "
        + which
        + "ORDER BY c.id LIMIT ?"
        + (" FOR UPDATE OF c SKIP LOCKED" if tx.dialect == "postgresql" else ""),
        (now, now, *params, limit),
    )


def lease(tx: Tx, ids: Sequence[int], until: int) -> None:
    tx.execute_many("UPDATE callbacks SET lease_until = ? WHERE id = ?", [(until, i) for i in ids])


def release(tx: Tx, ids: Sequence[int]) -> None:
    """Claimable again at once (claimed, never started)."""
    tx.execute_many("UPDATE callbacks SET lease_until = NULL WHERE id = ?", [(i,) for i in ids])


def record(
    tx: Tx,
    done: Sequence[tuple[int, int, str, int]],
    retried: Sequence[tuple[int, int, str, int]],
) -> None:
    """Outcomes: `done` rows (done_at, attempts, last_error, id) are finished — delivered or
    given up; `retried` rows (next_at, attempts, last_error, id) wait for their next try."""
    tx.execute_many(
        "UPDATE callbacks SET done_at = ?, attempts = ?, last_error = ?, "
        "lease_until = NULL WHERE id = ?",
        done,
    )
    tx.execute_many(
        "UPDATE callbacks SET next_at = ?, attempts = ?, last_error = ?, "
        "lease_until = NULL WHERE id = ?",
        retried,
    )

"""Dispatcher processes: identities, heartbeats, and the leases of the dead ones.

A dispatcher is live while its row has a heartbeat newer than the caller's bound and no
`stopped_at`. Every check that decides whose leases may be taken is one statement, so it
sees a dispatcher's row whenever it sees that dispatcher's leases (a row is written before
its first claim).
"""

from __future__ import annotations

from dataclasses import dataclass

from tidings.domain.lifecycle import MessageStatus
from tidings.store.db import Row, Tx
from tidings.store.queue import HELD, StaleLeases


@dataclass(frozen=True)
class DispatcherRow:
    worker_id: str
    host: str
    pid: int
    node: str
    started_at: int
    heartbeat_at: int
    stopped_at: int | None = None


_COLUMNS = "worker_id, host, pid, node, started_at, heartbeat_at, stopped_at"
# This incarnation of a worker id (a configured id is taken over by the next process).
_MINE = "worker_id = ? AND host = ? AND pid = ? AND started_at = ?"
_LIVE = "stopped_at IS NULL AND heartbeat_at >= ?"


def _mine(me: DispatcherRow) -> tuple[str, str, int, int]:
    return (me.worker_id, me.host, me.pid, me.started_at)


def _row(r: Row) -> DispatcherRow:
    return DispatcherRow(r[0], r[1], int(r[2]), r[3], int(r[4]), int(r[5]), r[6])


def claim_identity(tx: Tx, me: DispatcherRow, live_after: int) -> bool:
    """Write this dispatcher's row; False when its worker id belongs to a live one (a row
    with a heartbeat at or after `live_after`, not stopped)."""
    row = tx.one(
        f"INSERT INTO dispatchers ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL) "
        "ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, "
        "node = excluded.node, started_at = excluded.started_at, "
        "heartbeat_at = excluded.heartbeat_at, stopped_at = NULL "
        "WHERE dispatchers.stopped_at IS NOT NULL OR dispatchers.heartbeat_at < ? "
        "RETURNING worker_id",
        (me.worker_id, me.host, me.pid, me.node, me.started_at, me.heartbeat_at, live_after),
    )
    return row is not None


def find(tx: Tx, worker_id: str) -> DispatcherRow | None:
    row = tx.one(f"SELECT {_COLUMNS} FROM dispatchers WHERE worker_id = ?", (worker_id,))
    return None if row is None else _row(row)


def beat(tx: Tx, me: DispatcherRow, now: int) -> int | None:
    """Renew this dispatcher's heartbeat; returns the previous one, or None when the row is
    no longer this process's (another took the worker id over, or it was pruned)."""
    row = tx.one(f"SELECT heartbeat_at FROM dispatchers WHERE {_MINE}", _mine(me))
    if row is None:
        return None
    tx.execute(f"UPDATE dispatchers SET heartbeat_at = ? WHERE {_MINE}", (now, *_mine(me)))
    return int(row[0])


def live_on(tx: Tx, node: str, live_after: int) -> list[DispatcherRow]:
    """Dispatchers that look live and run on `node` (whose pids the caller can check)."""
    rows = tx.all(
        f"SELECT {_COLUMNS} FROM dispatchers WHERE node = ? AND {_LIVE}", (node, live_after)
    )
    return [_row(r) for r in rows]


def declare_dead(tx: Tx, row: DispatcherRow, now: int) -> bool:
    """A dispatcher proven dead (its process is gone): stopped now, if its row is still the
    one that was read (not renewed, not taken over meanwhile)."""
    changed = tx.execute(
        f"UPDATE dispatchers SET stopped_at = ? WHERE {_MINE} AND heartbeat_at = ? "
        "AND stopped_at IS NULL",
        (now, *_mine(row), row.heartbeat_at),
    )
    return changed > 0


def leave(tx: Tx, me: DispatcherRow, now: int) -> None:
    """A graceful stop: dead at once (nothing it still leases waits for the bound)."""
    tx.execute(f"UPDATE dispatchers SET stopped_at = ? WHERE {_MINE}", (now, *_mine(me)))


def prune(tx: Tx, before: int) -> None:
    """Forget dispatchers dead or stopped before `before`, with their live-state rows."""
    gone = "COALESCE(stopped_at, heartbeat_at) < ?"
    tx.execute(
        f"DELETE FROM upstream_states WHERE worker_id IN (SELECT worker_id FROM dispatchers "
        f"WHERE {gone})",
        (before,),
    )
    tx.execute(f"DELETE FROM dispatchers WHERE {gone}", (before,))


def dead_owners_leases(tx: Tx, me: str, live_after: int, limit: int) -> StaleLeases:
    """Leases whose owner is not a live dispatcher (not `me`: a process is never dead to
    itself), at any lease time. Walks the small index of leased rows."""
    rows = tx.all(
        "SELECT id, upstream FROM messages WHERE lease_until IS NOT NULL AND +status = ? "
        "AND lease_owner <> ? AND lease_owner NOT IN "
        f"(SELECT worker_id FROM dispatchers WHERE {_LIVE}) LIMIT ?",
        (MessageStatus.WAITING, me, live_after, limit),
    )
    return StaleLeases(
        held=[int(r[0]) for r in rows if r[1] == HELD],
        armed=[int(r[0]) for r in rows if r[1] != HELD],
    )

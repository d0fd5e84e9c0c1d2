"""Queries of the operator's tools: live upstream state, readiness, and the store-side figures
of /metrics. Kept apart from the hot paths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tidings.domain.clock import from_ts
from tidings.domain.lifecycle import IN_PROGRESS, MessageStatus
from tidings.domain.operations import (
    LiveFigures,
    TotalFigures,
    UpstreamState,
)
from tidings.store.db import Database, Row
from tidings.store.sql import sql_in

_STATE_COLUMNS = (
    "upstream, worker_id, kind, bound, binds_live, binds_total, in_flight, window_size, rate, "
    "submitted, last_error, last_error_at, updated_at"
)


@dataclass(frozen=True)
class StateReport:
    """What a dispatcher writes about one of its upstreams (times in unix seconds)."""

    upstream: str
    worker_id: str
    kind: str
    bound: bool
    binds_live: int
    binds_total: int
    in_flight: int
    window: int
    rate: float
    submitted: int
    last_error: str
    last_error_at: int | None
    updated_at: int


def write_upstream_states(db: Database, reports: Sequence[StateReport]) -> None:
    """One upsert per upstream, all in one short transaction."""
    if not reports:
        return
    with db.tx() as tx:
        tx.execute_many(
            f"INSERT INTO upstream_states ({_STATE_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (upstream, worker_id) DO UPDATE SET kind = excluded.kind, "
            "bound = excluded.bound, binds_live = excluded.binds_live, "
            "binds_total = excluded.binds_total, in_flight = excluded.in_flight, "
            "window_size = excluded.window_size, rate = excluded.rate, "
            "submitted = excluded.submitted, last_error = excluded.last_error, "
            "last_error_at = excluded.last_error_at, updated_at = excluded.updated_at",
            [
                (
                    r.upstream,
                    r.worker_id,
                    r.kind,
                    r.bound,
                    r.binds_live,
                    r.binds_total,
                    r.in_flight,
                    r.window,
                    r.rate,
                    r.submitted,
                    r.last_error[:500],
                    r.last_error_at,
                    r.updated_at,
                )
                for r in reports
            ],
        )


def upstream_states(db: Database) -> list[UpstreamState]:
    with db.tx(write=False) as tx:
        rows = tx.all(f"SELECT {_STATE_COLUMNS} FROM upstream_states ORDER BY upstream, worker_id")
    return [_state(r) for r in rows]


def _state(r: Row) -> UpstreamState:
    updated = from_ts(r[12])
    assert updated is not None
    return UpstreamState(
        upstream=r[0],
        worker_id=r[1],
        kind=r[2],
        bound=bool(r[3]),
        binds_live=int(r[4]),
        binds_total=int(r[5]),
        in_flight=int(r[6]),
        window=int(r[7]),
        rate=float(r[8]),
        submitted=int(r[9]),
        last_error=r[10],
        last_error_at=from_ts(r[11]),
        updated_at=updated,
    )


def schema_revision(db: Database) -> str | None:
    """The Alembic revision the database is at (None: never migrated)."""
    with db.tx(write=False) as tx:
        table = tx.one(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'alembic_version'"
            if tx.dialect == "postgresql"
            else "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        )
        if table is None:
            return None
        row = tx.one("SELECT version_num FROM alembic_version")
    return str(row[0]) if row else None


def live_figures(db: Database, now: int) -> LiveFigures:
    with db.tx(write=False) as tx:
        pending = tx.all(
            f"SELECT status, COUNT(*) FROM messages WHERE status IN {sql_in(IN_PROGRESS)} "
            "GROUP BY status"
        )
        queue = tx.all(
            "SELECT channel, COUNT(*) FROM messages "
            f"WHERE status = {int(MessageStatus.WAITING)} AND due_at <= ? "
            "AND (lease_until IS NULL OR lease_until < ?) GROUP BY channel",
            (now, now),
        )
        balances = tx.one("SELECT COALESCE(SUM(balance_minor), 0) FROM accounts")
    return LiveFigures(
        pending={int(s): int(n) for s, n in pending},
        queue={str(c): int(n) for c, n in queue},
        balances=int(balances[0]) if balances else 0,
    )


def total_figures(db: Database) -> TotalFigures:
    with db.tx(write=False) as tx:
        final = tx.all(
            f"SELECT status, COUNT(*) FROM messages WHERE status NOT IN {sql_in(IN_PROGRESS)} "
            "GROUP BY status"
        )
        ledger = tx.all("SELECT kind, SUM(amount_minor), COUNT(*) FROM ledger GROUP BY kind")
    return TotalFigures(
        final={int(s): int(n) for s, n in final},
        ledger={str(k): (int(a or 0), int(n)) for k, a, n in ledger},
    )

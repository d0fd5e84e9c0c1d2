"""The audit log's table: entries written in the transaction of the action they record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tidings.domain.audit import AuditEntry, AuditRecord
from tidings.domain.clock import to_ts
from tidings.store.db import Database


class AuditQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    @contextmanager
    def audited(self, record: Callable[[], AuditRecord]) -> Iterator[None]:
        """Store calls inside join this transaction (store/db.py); the entry is its last
        statement."""
        with self._db.tx() as tx:
            yield
            entry = record()
            tx.execute(
                "INSERT INTO audit_log (at, actor, ip, action, account_id, target, details) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    to_ts(entry.at),
                    entry.actor,
                    entry.ip,
                    str(entry.action),
                    entry.account_id,
                    entry.target,
                    entry.details,
                ),
            )

    def audit_entries(self, account_id: int | None, offset: int, limit: int) -> list[AuditEntry]:
        sql = "SELECT id, at, actor, ip, action, account_id, target, details FROM audit_log"
        params: list[Any] = []
        if account_id is not None:
            sql += " WHERE account_id = ?"
            params.append(account_id)
        with self._db.tx(write=False) as tx:
            rows = tx.all(sql + " ORDER BY id DESC LIMIT ? OFFSET ?", [*params, limit, offset])
        return [
            AuditEntry(
                id=int(r[0]),
                at=int(r[1]),
                actor=r[2],
                ip=r[3],
                action=r[4],
                account_id=None if r[5] is None else int(r[5]),
                target=r[6],
                details=r[7],
            )
            for r in rows
        ]

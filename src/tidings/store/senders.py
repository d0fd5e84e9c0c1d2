"""What an account may send as: its approved sender names (templates are templates.py).

(The cabinet's and the API's management of sender names is `ContactStore`'s, in
contacts.py, behind the per-account write lock it takes.)"""

from __future__ import annotations

from datetime import datetime

from tidings.domain.clock import to_ts
from tidings.domain.senders import SenderRequest
from tidings.store.db import Database


class SenderQueries:
    """The `Store`'s reads of senders for a send or a list."""

    db: Database

    def approved_senders(self, account_id: int) -> list[str]:
        with self.db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT name FROM senders WHERE account_id = ? AND approved = ?",
                (account_id, True),
            )
        return [r[0] for r in rows]

    def add_sender(self, account_id: int, name: str, approved: bool, now: datetime) -> None:
        with self.db.tx() as tx:
            tx.execute(
                "INSERT INTO senders (account_id, name, approved, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (account_id, name) DO UPDATE SET approved = excluded.approved",
                (account_id, name, approved, to_ts(now)),
            )

    def sender_requests(self, *, approved: bool, limit: int) -> list[SenderRequest]:
        """Every account's names in one state (the operator's page), the oldest first."""
        with self.db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT s.id, s.account_id, a.login, s.name, s.created_at FROM senders s "
                "JOIN accounts a ON a.id = s.account_id WHERE s.approved = ? "
                "ORDER BY s.id LIMIT ?",
                (approved, limit),
            )
        return [SenderRequest(int(r[0]), int(r[1]), r[2], r[3], int(r[4])) for r in rows]

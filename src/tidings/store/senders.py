"""What an account may send as: its approved sender names (templates are templates.py).

(The cabinet's and the API's management of sender names is `ContactStore`'s, in
contacts.py, behind the per-account write lock it takes.)"""

from __future__ import annotations

from datetime import datetime

from tidings.domain.clock import to_ts
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

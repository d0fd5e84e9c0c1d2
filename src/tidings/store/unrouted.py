"""Messages of live accounts that no configured upstream takes (channel UNROUTED): how many
wait, and moving them to an upstream once one of their kind is configured."""

from __future__ import annotations

from tidings.domain.jobs import MessageFormat
from tidings.domain.lifecycle import MessageStatus
from tidings.domain.routing import UNROUTED, Routes
from tidings.store.db import Database

_BATCH = 5_000
_WAITING = int(MessageStatus.WAITING)


class UnroutedStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def unrouted_waiting(self) -> dict[bool, int]:
        """Waiting messages with no upstream, by kind (True = e-mail)."""
        with self._db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT format, COUNT(*) FROM messages WHERE channel = ? AND status = ? "
                "GROUP BY format",
                (UNROUTED, _WAITING),
            )
        counts: dict[bool, int] = {}
        for fmt, count in rows:
            mail = int(fmt) == MessageFormat.MAIL
            counts[mail] = counts.get(mail, 0) + int(count)
        return counts

    def live_accounts(self) -> int:
        with self._db.tx(write=False) as tx:
            row = tx.one("SELECT COUNT(*) FROM accounts WHERE NOT test_mode")
        return int(row[0]) if row else 0

    def reroute(self, routes: Routes) -> int:
        """Give every waiting unrouted message the upstream `routes` now choose for it, in
        batches (a million waiting messages are never one transaction or one list). Returns
        how many moved."""
        moved, after = 0, 0
        while True:
            with self._db.tx() as tx:
                rows = tx.all(
                    "SELECT id, address, format FROM messages "
                    "WHERE channel = ? AND status = ? AND id > ? ORDER BY id LIMIT ?",
                    (UNROUTED, _WAITING, after, _BATCH),
                )
                if not rows:
                    return moved
                after = int(rows[-1][0])
                updates = [
                    (channel, int(msg_id), _WAITING)
                    for msg_id, address, fmt in rows
                    if (
                        channel := routes.channel_for(
                            str(address), mail=int(fmt) == MessageFormat.MAIL, test_mode=False
                        )
                    )
                    != UNROUTED
                ]
                tx.execute_many(
                    "UPDATE messages SET channel = ? WHERE id = ? AND status = ?", updates
                )
                moved += len(updates)

"""Sign-in abuse, shared by every API process: authentication failures per IP, IP blocks."""

from __future__ import annotations

from tidings.domain.guards import IpBlock
from tidings.store.db import Database


class AbuseQueries:
    """The `Store`'s queries of auth_failures and ip_blocks."""

    db: Database

    def ip_blocked_until(self, ip: str) -> int | None:
        with self.db.tx(write=False) as tx:
            row = tx.one("SELECT until FROM ip_blocks WHERE ip = ?", (ip,))
        return int(row[0]) if row else None

    def record_auth_failure(self, ip: str, at: int, window_start: int) -> int:
        with self.db.tx() as tx:
            tx.execute("DELETE FROM auth_failures WHERE ip = ? AND at < ?", (ip, window_start))
            tx.execute("INSERT INTO auth_failures (ip, at) VALUES (?, ?)", (ip, at))
            row = tx.one("SELECT COUNT(*) FROM auth_failures WHERE ip = ?", (ip,))
        return int(row[0]) if row else 0

    def block_ip(self, ip: str, until: int, reason: str) -> None:
        with self.db.tx() as tx:
            tx.execute(
                "INSERT INTO ip_blocks (ip, until, reason) VALUES (?, ?, ?) "
                "ON CONFLICT (ip) DO UPDATE SET until = excluded.until, reason = excluded.reason",
                (ip, until, reason),
            )
            tx.execute("DELETE FROM auth_failures WHERE ip = ?", (ip,))

    def ip_blocks(self, now: int) -> list[IpBlock]:
        """The blocks still in force, the longest first."""
        with self.db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT ip, until, reason FROM ip_blocks WHERE until > ? ORDER BY until DESC, ip",
                (now,),
            )
        return [IpBlock(r[0], int(r[1]), r[2]) for r in rows]

    def lift_ip_block(self, ip: str) -> bool:
        """End the IP's block and forget its failures; False when it had no block."""
        with self.db.tx() as tx:
            lifted = tx.execute("DELETE FROM ip_blocks WHERE ip = ?", (ip,))
            tx.execute("DELETE FROM auth_failures WHERE ip = ?", (ip,))
        return lifted > 0

"""Cabinet sessions (domain/sessions.py): one row per signed-in browser, by token hash."""

from __future__ import annotations

from datetime import datetime

from tidings.domain.accounts import PasswordHashes
from tidings.domain.clock import to_ts
from tidings.store.db import Database


class SessionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add_session(self, key: str, account_id: int, now: datetime, expires: datetime) -> None:
        with self._db.tx() as tx:
            # Expired sessions go when a new one starts: the table holds live ones only.
            tx.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (to_ts(now),))
            tx.execute(
                "INSERT INTO web_sessions (token_hash, account_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (key, account_id, to_ts(now), to_ts(expires)),
            )

    def session_account(self, key: str, now: datetime) -> int | None:
        with self._db.tx(write=False) as tx:
            row = tx.one(
                "SELECT account_id FROM web_sessions WHERE token_hash = ? AND expires_at > ?",
                (key, to_ts(now)),
            )
        return int(row[0]) if row else None

    def end_session(self, key: str) -> None:
        with self._db.tx() as tx:
            tx.execute("DELETE FROM web_sessions WHERE token_hash = ?", (key,))

    def end_account_sessions(self, account_id: int) -> None:
        with self._db.tx() as tx:
            tx.execute("DELETE FROM web_sessions WHERE account_id = ?", (account_id,))

    def password_hashes_of(self, account_id: int) -> PasswordHashes | None:
        with self._db.tx(write=False) as tx:
            row = tx.one(
                "SELECT password_hash, password_md5_hash, password_sha1_hash FROM accounts "
                "WHERE id = ?",
                (account_id,),
            )
        return PasswordHashes(str(row[0]), str(row[1]), str(row[2])) if row else None

    def set_password(self, account_id: int, hashes: PasswordHashes, keep_key: str) -> None:
        with self._db.tx() as tx:
            tx.execute(
                "UPDATE accounts SET password_hash = ?, password_md5_hash = ?, "
                "password_sha1_hash = ? WHERE id = ?",
                (hashes.plain, hashes.md5, hashes.sha1, account_id),
            )
            tx.execute(
                "DELETE FROM web_sessions WHERE account_id = ? AND token_hash <> ?",
                (account_id, keep_key),
            )

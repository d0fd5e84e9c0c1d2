"""The account settings a signed-in person manages: API keys, allowed IPs, callback URL."""

from __future__ import annotations

from datetime import datetime

from tidings.domain.clock import from_ts, to_ts
from tidings.domain.profile import ApiKeyView
from tidings.store.repository import Store


class ProfileStore:
    """Account settings; what the accounts store already has is used from there."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._db = store.db

    def api_keys(self, account_id: int) -> list[ApiKeyView]:
        with self._db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT id, key_prefix, created_at, revoked_at FROM api_keys "
                "WHERE account_id = ? ORDER BY id DESC",
                (account_id,),
            )
        out = []
        for r in rows:
            created = from_ts(r[2])
            assert created is not None
            out.append(ApiKeyView(int(r[0]), r[1], created, from_ts(r[3])))
        return out

    def add_api_key(self, account_id: int, key_hash: str, prefix: str, now: datetime) -> None:
        self._store.add_api_key(account_id, key_hash, prefix, now)

    def revoke_api_key(self, account_id: int, key_id: int, now: datetime) -> bool:
        with self._db.tx() as tx:
            changed = tx.execute(
                "UPDATE api_keys SET revoked_at = ? "
                "WHERE id = ? AND account_id = ? AND revoked_at IS NULL",
                (to_ts(now), key_id, account_id),
            )
        return changed > 0

    def allowed_ips(self, account_id: int) -> list[str]:
        return self._store.allowed_ips(account_id)

    def allow_ip(self, account_id: int, cidr: str) -> bool:
        return self._store.allow_ip(account_id, cidr)

    def deny_ip(self, account_id: int, cidr: str) -> bool:
        return self._store.deny_ip(account_id, cidr)

    def callback_url(self, account_id: int) -> str:
        with self._db.tx(write=False) as tx:
            row = tx.one("SELECT callback_url FROM accounts WHERE id = ?", (account_id,))
        return str(row[0]) if row else ""

    def set_callback(self, account_id: int, url: str, secret: str) -> None:
        self._store.set_callback(account_id, url, secret)

    def forward_inbound(self, account_id: int) -> bool:
        with self._db.tx(write=False) as tx:
            row = tx.one("SELECT forward_inbound FROM accounts WHERE id = ?", (account_id,))
        return bool(row[0]) if row else False

    def set_forward_inbound(self, account_id: int, on: bool) -> None:
        with self._db.tx() as tx:
            tx.execute("UPDATE accounts SET forward_inbound = ? WHERE id = ?", (on, account_id))

    def set_language(self, account_id: int, language: str | None) -> None:
        with self._db.tx() as tx:
            tx.execute("UPDATE accounts SET language = ? WHERE id = ?", (language, account_id))

    def set_smpp_password_hash(self, account_id: int, stored: str | None) -> None:
        self._store.set_smpp_password_hash(account_id, stored)

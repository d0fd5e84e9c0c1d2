"""Accounts and what hangs off them: logins and password hashes, API keys, the IP
allowlist, the callback URL, test mode."""

from __future__ import annotations

from datetime import datetime

from tidings.domain.accounts import Account, PasswordHashes
from tidings.domain.clock import to_ts
from tidings.errors import NotFound, RecordError
from tidings.store.db import Database, Row

_ACCOUNT_COLUMNS = (
    "id, login, timezone, region, currency, credit_limit_minor, test_mode, is_operator, "
    "tariff_id, default_sender, disabled, language"
)


class AccountQueries:
    """The `Store`'s queries of accounts, api_keys and account_ips."""

    db: Database

    def create_account(
        self,
        login: str,
        hashes: PasswordHashes,
        now: datetime,
        *,
        timezone: str = "Europe/Moscow",
        region: str = "RU",
        currency: str = "RUB",
        test_mode: bool = False,
        is_operator: bool = False,
    ) -> Account:
        with self.db.tx() as tx:
            if tx.one("SELECT 1 FROM accounts WHERE login = ?", (login,)):
                raise RecordError("account %(login)r exists", login=login)
            row = tx.one(
                "INSERT INTO accounts (login, password_hash, password_md5_hash, "
                "password_sha1_hash, timezone, region, currency, test_mode, is_operator, "
                f"created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_ACCOUNT_COLUMNS}",
                (
                    login,
                    hashes.plain,
                    hashes.md5,
                    hashes.sha1,
                    timezone,
                    region,
                    currency,
                    test_mode,
                    is_operator,
                    to_ts(now),
                ),
            )
        assert row is not None
        return _account(row)

    def count_accounts(self) -> int:
        with self.db.tx(write=False) as tx:
            row = tx.one("SELECT COUNT(*) FROM accounts")
        return int(row[0]) if row else 0

    def account(self, account_id: int) -> Account | None:
        with self.db.tx(write=False) as tx:
            row = tx.one(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = ?", (account_id,))
        return _account(row) if row else None

    def account_by_login(self, login: str) -> Account | None:
        with self.db.tx(write=False) as tx:
            row = tx.one(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE login = ?", (login,))
        return _account(row) if row else None

    def password_hashes(self, login: str) -> tuple[int, PasswordHashes] | None:
        with self.db.tx(write=False) as tx:
            row = tx.one(
                "SELECT id, password_hash, password_md5_hash, password_sha1_hash "
                "FROM accounts WHERE login = ?",
                (login,),
            )
        if row is None:
            return None
        return int(row[0]), PasswordHashes(row[1], row[2], row[3])

    def account_id_by_key_hash(self, key_hash: str) -> int | None:
        with self.db.tx(write=False) as tx:
            row = tx.one(
                "SELECT account_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                (key_hash,),
            )
        return int(row[0]) if row else None

    def list_accounts(self) -> list[tuple[Account, int]]:
        """Every account with its balance (sum of its ledger)."""
        with self.db.tx(write=False) as tx:
            rows = tx.all(f"SELECT {_ACCOUNT_COLUMNS}, balance_minor FROM accounts ORDER BY login")
        width = _ACCOUNT_COLUMNS.count(",") + 1
        return [(_account(r[:width]), int(r[width])) for r in rows]

    def add_api_key(self, account_id: int, key_hash: str, prefix: str, now: datetime) -> None:
        with self.db.tx() as tx:
            tx.execute(
                "INSERT INTO api_keys (account_id, key_hash, key_prefix, created_at) "
                "VALUES (?, ?, ?, ?)",
                (account_id, key_hash, prefix, to_ts(now)),
            )

    def smpp_password_hash(self, account_id: int) -> str | None:
        with self.db.tx(write=False) as tx:
            row = tx.one("SELECT smpp_password_hash FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else row[0]

    def set_smpp_password_hash(self, account_id: int, stored: str | None) -> None:
        with self.db.tx() as tx:
            tx.execute(
                "UPDATE accounts SET smpp_password_hash = ? WHERE id = ?", (stored, account_id)
            )

    def allowed_ips(self, account_id: int) -> list[str]:
        with self.db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT cidr FROM account_ips WHERE account_id = ? ORDER BY cidr", (account_id,)
            )
        return [r[0] for r in rows]

    def allow_ip(self, account_id: int, cidr: str) -> bool:
        with self.db.tx() as tx:
            if tx.one(
                "SELECT 1 FROM account_ips WHERE account_id = ? AND cidr = ?", (account_id, cidr)
            ):
                return False
            tx.execute(
                "INSERT INTO account_ips (account_id, cidr) VALUES (?, ?)", (account_id, cidr)
            )
        return True

    def deny_ip(self, account_id: int, cidr: str) -> bool:
        with self.db.tx() as tx:
            changed = tx.execute(
                "DELETE FROM account_ips WHERE account_id = ? AND cidr = ?", (account_id, cidr)
            )
        return changed > 0

    def set_callback(self, account_id: int, url: str, secret: str) -> None:
        with self.db.tx() as tx:
            tx.execute(
                "UPDATE accounts SET callback_url = ?, callback_secret = ? WHERE id = ?",
                (url, secret, account_id),
            )

    def set_test_mode(self, account_id: int, on: bool) -> None:
        """Test mode: the account's messages go to the virtual upstream only."""
        with self.db.tx() as tx:
            changed = tx.execute("UPDATE accounts SET test_mode = ? WHERE id = ?", (on, account_id))
        if changed == 0:
            raise NotFound("account not found")

    def set_operator(self, account_id: int, on: bool) -> None:
        with self.db.tx() as tx:
            changed = tx.execute(
                "UPDATE accounts SET is_operator = ? WHERE id = ?", (on, account_id)
            )
        if changed == 0:
            raise NotFound("account not found")

    def set_disabled(self, account_id: int, disabled: bool) -> None:
        with self.db.tx() as tx:
            changed = tx.execute(
                "UPDATE accounts SET disabled = ? WHERE id = ?", (disabled, account_id)
            )
        if changed == 0:
            raise NotFound("account not found")


def _account(row: Row) -> Account:
    return Account(
        id=int(row[0]),
        login=row[1],
        timezone=row[2],
        region=row[3],
        currency=row[4],
        credit_limit_minor=int(row[5]),
        test_mode=bool(row[6]),
        is_operator=bool(row[7]),
        tariff_id=None if row[8] is None else int(row[8]),
        default_sender=row[9],
        disabled=bool(row[10]),
        language=row[11],
    )

"""Money: the ledger and the balances it moves (a message's charge and refund included).

Every entry is a ledger row and the same amount on the account's `balance_minor`, in one
transaction, so the balance always equals the sum of the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tidings.domain.clock import to_ts
from tidings.store.db import Database, Tx
from tidings.store.sql import marks

if TYPE_CHECKING:  # outcomes imports this module to refund what it finalises
    from tidings.store.outcomes import Finalised


@dataclass
class AccountMoney:
    balance: int
    credit_limit: int
    test_mode: bool
    tariff_id: int | None


def lock_accounts(tx: Tx, account_ids: Iterable[int]) -> dict[int, AccountMoney]:
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    # NO KEY UPDATE: the balance changes, never the key. Every message row written checks
    # its foreign key to `accounts` with FOR KEY SHARE, which FOR UPDATE would wait for —
    # send.php's batches and the dispatcher's result writes deadlocked so under load.
    lock = " FOR NO KEY UPDATE" if tx.dialect == "postgresql" else ""
    rows = tx.all(
        "SELECT id, balance_minor, credit_limit_minor, test_mode, tariff_id FROM accounts "
        f"WHERE id IN ({marks(ids)}) ORDER BY id" + lock,
        ids,
    )
    return {int(r[0]): AccountMoney(int(r[1]), int(r[2]), bool(r[3]), r[4]) for r in rows}


def charge(tx: Tx, entries: Sequence[tuple[int, int, int, int | None]], ts: int) -> None:
    """(account id, cost, message id, list pk): one ledger charge per message, and each
    account's balance moved by the sum, in the caller's transaction."""
    if not entries:
        return
    tx.insert_rows(
        "ledger",
        ("account_id", "amount_minor", "kind", "memo", "created_at", "message_id", "job_pk"),
        ((acc, -cost, "charge", "", ts, msg, job) for acc, cost, msg, job in entries),
    )
    _move_balances(tx, ((acc, -cost) for acc, cost, _m, _j in entries))
    tx.execute_many(
        "UPDATE messages SET cost_minor = ? WHERE id = ?",
        [(cost, msg) for _acc, cost, msg, _job in entries],
    )
    per_job: dict[int, int] = {}
    for _acc, cost, _msg, job in entries:
        if job is not None:
            per_job[job] = per_job.get(job, 0) + cost
    add_job_cost(tx, per_job)


def refund(tx: Tx, finals: Sequence[Finalised], ts: int) -> None:
    """Give back what was charged for messages that never reached the upstream."""
    paid = [f for f in finals if f.cost and f.charged]
    if not paid:
        return
    tx.insert_rows(
        "ledger",
        ("account_id", "amount_minor", "kind", "memo", "created_at", "message_id", "job_pk"),
        ((f.account_id, f.cost, "refund", "", ts, f.message_id, f.job_pk) for f in paid),
    )
    _move_balances(tx, ((f.account_id, f.cost) for f in paid))
    tx.execute_many(
        "UPDATE messages SET cost_minor = 0 WHERE id = ?", [(f.message_id,) for f in paid]
    )
    per_job: dict[int, int] = {}
    for f in paid:
        if f.job_pk is not None:
            per_job[f.job_pk] = per_job.get(f.job_pk, 0) - f.cost
    add_job_cost(tx, per_job)


def _move_balances(tx: Tx, amounts: Iterable[tuple[int, int]]) -> None:
    per_account: dict[int, int] = {}
    for account_id, amount in amounts:
        per_account[account_id] = per_account.get(account_id, 0) + amount
    tx.execute_many(
        "UPDATE accounts SET balance_minor = balance_minor + ? WHERE id = ?",
        [(amount, account_id) for account_id, amount in per_account.items()],
    )


def set_costs(tx: Tx, costs: Sequence[tuple[int, int]]) -> None:
    """(message id, cost) of messages priced but not charged (test mode)."""
    tx.execute_many(
        "UPDATE messages SET cost_minor = ? WHERE id = ?",
        [(cost, message_id) for message_id, cost in costs],
    )


def add_job_cost(tx: Tx, per_job: dict[int, int]) -> None:
    tx.execute_many(
        "UPDATE jobs SET cost_minor = cost_minor + ? WHERE id = ?",
        [(amount, job_pk) for job_pk, amount in per_job.items() if amount],
    )


class LedgerQueries:
    """The `Store`'s ledger entries and balances."""

    db: Database

    def add_ledger_entry(
        self, account_id: int, amount_minor: int, kind: str, memo: str, now: datetime
    ) -> int:
        """Append one entry; return the new balance."""
        with self.db.tx() as tx:
            return ledger_entry(tx, account_id, amount_minor, kind, memo, to_ts(now))

    def balance(self, account_id: int) -> int:
        with self.db.tx(write=False) as tx:
            row = tx.one("SELECT balance_minor FROM accounts WHERE id = ?", (account_id,))
        return int(row[0]) if row else 0

    def ledger_sum(self, account_id: int) -> int:
        """The balance recomputed from the ledger (it must equal `balance`)."""
        with self.db.tx(write=False) as tx:
            row = tx.one(
                "SELECT COALESCE(SUM(amount_minor), 0) FROM ledger WHERE account_id = ?",
                (account_id,),
            )
        return int(row[0]) if row else 0


def ledger_entry(
    tx: Tx,
    account_id: int,
    amount_minor: int,
    kind: str,
    memo: str,
    ts: int,
    *,
    message_id: int | None = None,
    job_pk: int | None = None,
) -> int:
    """Append to the ledger and move the account's balance with it, in the caller's
    transaction; return the new balance."""
    tx.execute(
        "INSERT INTO ledger (account_id, amount_minor, kind, memo, created_at, message_id, "
        "job_pk) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (account_id, amount_minor, kind, memo, ts, message_id, job_pk),
    )
    row = tx.one(
        "UPDATE accounts SET balance_minor = balance_minor + ? WHERE id = ? "
        "RETURNING balance_minor",
        (amount_minor, account_id),
    )
    return int(row[0]) if row else 0

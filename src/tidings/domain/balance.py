"""An account's money as balance.php and the cabinet show it: the balance and its ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tidings.domain.accounts import Account


@dataclass(frozen=True)
class LedgerRow:
    id: int
    created_at: datetime
    amount_minor: int
    kind: str
    memo: str


class BalanceStore(Protocol):
    def balance(self, account_id: int) -> int:
        """The account's balance in minor units (0 for an unknown account)."""


class LedgerStore(Protocol):
    def ledger(self, account_id: int, offset: int, limit: int) -> list[LedgerRow]:
        """One page of the account's ledger, newest first."""


class BalanceService:
    def __init__(self, balances: BalanceStore, ledger: LedgerStore) -> None:
        self._balances = balances
        self._ledger = ledger

    def balance(self, account: Account) -> int:
        return self._balances.balance(account.id)

    def ledger(self, account: Account, offset: int, limit: int) -> list[LedgerRow]:
        return self._ledger.ledger(account.id, offset, limit)

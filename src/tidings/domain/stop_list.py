"""The stop list (phones.php `add_black`/`del_black`/`get_black`, the cabinet's blacklist):
addresses that receive nothing, or only some kinds of messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from tidings.domain.accounts import Account
from tidings.domain.contacts import BlacklistType, BlacklistView


class StopListStore(Protocol):
    def add_blacklist(
        self, account_id: int, addresses: Sequence[str], kind: BlacklistType, now: datetime
    ) -> list[int]:
        """Stop-list the addresses; one already listed takes the new type and keeps its id."""

    def delete_blacklist(self, account_id: int, addresses: Sequence[str]) -> None:
        """Take them all off, or none (NotFound) when one is not listed."""

    def list_blacklist(self, account_id: int, after_id: int, limit: int) -> list[BlacklistView]: ...


class StopListService:
    def __init__(self, store: StopListStore) -> None:
        self._store = store

    def add(
        self, account: Account, addresses: Sequence[str], kind: BlacklistType, now: datetime
    ) -> list[int]:
        return self._store.add_blacklist(account.id, addresses, kind, now)

    def remove(self, account: Account, addresses: Sequence[str]) -> None:
        self._store.delete_blacklist(account.id, addresses)

    def page(self, account: Account, after_id: int, limit: int) -> list[BlacklistView]:
        """Entries with an id above `after_id`, in id order, at most `limit`."""
        return self._store.list_blacklist(account.id, after_id, limit)

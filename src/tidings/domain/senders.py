"""Sender names (senders.php, the cabinet's senders page, `tidings senders approve`). A new
name waits for an operator; jobs.php and send.php accept only approved ones once the account
has any."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tidings.domain.accounts import Account
from tidings.domain.contacts import SenderView
from tidings.domain.message_rules import sender_name
from tidings.errors import InvalidParameter, NotFound


@dataclass(frozen=True)
class SenderRequest:
    """A name an account has asked for, as the operator sees it."""

    id: int
    account_id: int
    login: str
    name: str
    created_at: int  # Unix seconds


class SenderStore(Protocol):
    def senders(self, account_id: int, *, approved_only: bool) -> list[SenderView]: ...

    def add_sender(self, account_id: int, name: str, now: datetime) -> int:
        """A pending name; RecordError when the account has it already."""

    def delete_sender(
        self, account_id: int, *, sender_id: int | None = ..., name: str | None = ...
    ) -> None:
        """NotFound when the account has no such sender."""

    def approve_sender(self, account_id: int, name: str, approved: bool = ...) -> bool:
        """False when the account has no such sender."""


class SenderService:
    def __init__(self, store: SenderStore) -> None:
        self._store = store

    def names(self, account: Account, *, approved_only: bool) -> list[SenderView]:
        return self._store.senders(account.id, approved_only=approved_only)

    def request(
        self, account: Account, raw: str, now: datetime, *, mail: bool, param: str = "sender"
    ) -> SenderView:
        """Ask for a sender name, checked as jobs.php checks `sender` (`param` names the
        field it came in); it waits for an operator's approval."""
        name = sender_name(raw, mail, param)
        if not name:
            raise InvalidParameter("%(field)s: required", field="sender")
        return SenderView(self._store.add_sender(account.id, name, now), name, approved=False)

    def delete(self, account: Account, sender_id: int) -> None:
        self._store.delete_sender(account.id, sender_id=sender_id)

    def delete_named(self, account: Account, name: str) -> None:
        """By the name as stored."""
        self._store.delete_sender(account.id, name=name)

    def approve(self, account: Account, name: str, *, approved: bool = True) -> None:
        """The operator's decision on a name the account asked for (False: pending again)."""
        if not self._store.approve_sender(account.id, name.strip(), approved):
            raise NotFound("sender not found")

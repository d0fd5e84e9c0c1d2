"""Messages as status.php and get.php show them: one looked up by the client's id, removed
from the history, listed for a period, totalled."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from tidings.domain import phones as phone_rules
from tidings.domain.accounts import Account
from tidings.domain.clock import to_ts
from tidings.errors import OperationFailed


@dataclass(frozen=True)
class MessageInfo:
    """One message as status.php and history show it."""

    id: int
    client_id: str | None
    address: str
    status: int
    err: int
    text: str
    sender: str
    fmt: int
    parts: int
    cost_minor: int
    created_at: int
    sent_at: int | None
    done_at: int | None
    job_id: int | None


@dataclass(frozen=True)
class HistoryQuery:
    account_id: int
    start_ts: int
    end_ts: int
    addresses: tuple[str, ...] = ()
    fmt: int | None = None
    before_id: int | None = None
    limit: int = 100
    # Only messages in one of these statuses (none given: any).
    statuses: tuple[int, ...] = ()


# Created before this (unix seconds): no end to a period.
NO_END = 2**62
# Messages read per query when the whole history is read (the cabinet's CSV export).
HISTORY_BATCH = 1000


@dataclass(frozen=True)
class Totals:
    messages: int
    parts: int
    cost_minor: int
    delivered: int
    failed: int
    in_progress: int


class MessageStore(Protocol):
    def find(self, account_id: int, client_id: str, address: str | None) -> MessageInfo | None:
        """The newest message of the account with this id (and address, when given)."""

    def delete(self, account_id: int, message_id: int) -> bool:
        """Remove a message no longer in flight; False when there is none such."""

    def history(self, query: HistoryQuery) -> list[MessageInfo]:
        """Newest first, created in [start, end), below `before_id` when given."""

    def totals(self, account_id: int, start_ts: int, end_ts: int) -> Totals: ...


def days_period(start: date | None, end: date | None, zone: ZoneInfo) -> tuple[int, int]:
    """[start, end) in unix seconds of the days from `start` to `end`, both inclusive, on the
    zone's calendar; an open side is unbounded."""

    def midnight(day: date) -> int:
        return to_ts(datetime.combine(day, time.min, zone))

    first = 0 if start is None else midnight(start)
    last = NO_END if end is None else midnight(end + timedelta(days=1))
    return first, last


def lookup_address(raw: str, region: str) -> str:
    """A number or e-mail address as the client wrote it, as messages are stored; what cannot
    be normalised is looked up as written (and so finds nothing)."""
    if "@" in raw:
        normal = phone_rules.normalize_email(raw)
    else:
        normal = phone_rules.normalize_phone(raw, region)
    return normal or raw


class MessageService:
    def __init__(self, store: MessageStore) -> None:
        self._store = store

    def find(self, account: Account, client_id: str, phone: str) -> MessageInfo | None:
        """The message the client knows by `client_id` (and `phone`, when it gives one)."""
        address = lookup_address(phone, account.region) if phone else None
        return self._store.find(account.id, client_id, address)

    def delete(self, account: Account, client_id: str, phone: str) -> None:
        found = self.find(account, client_id, phone)
        if found is None or not self._store.delete(account.id, found.id):
            raise OperationFailed("message cannot be deleted")

    def history(self, query: HistoryQuery) -> list[MessageInfo]:
        return self._store.history(query)

    def iter_history(self, query: HistoryQuery) -> Iterator[MessageInfo]:
        """Every message the query finds, newest first, read a batch at a time by id (a
        keyset: a million messages never sit in memory, and no OFFSET is counted through)."""
        query = replace(query, limit=HISTORY_BATCH)
        while True:
            batch = self._store.history(query)
            yield from batch
            if len(batch) < HISTORY_BATCH:
                return
            query = replace(query, before_id=batch[-1].id)

    def totals(self, account: Account, start_ts: int, end_ts: int) -> Totals:
        return self._store.totals(account.id, start_ts, end_ts)

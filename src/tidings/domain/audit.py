"""The audit log: who (an operator's or an account's login, or "cli"), when, from which IP,
what (an action, the account and the thing it concerns, a few details). Cabinet sign-ins,
money moved by hand and every operator action write one entry, in the transaction of the
action itself: the action and its entry are kept together or not at all.

Details never carry a secret (a password, a key) or a message's text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

MAX_TARGET = 255
MAX_DETAILS = 500
MAX_ACTOR = 64
PAGE_SIZE = 50
MAX_OFFSET = 10_000_000


class AuditAction(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    CREDIT = "credit"
    DEBIT = "debit"
    ACCOUNT_CREATED = "account_created"
    TEST_MODE = "test_mode"
    OPERATOR_FLAG = "operator_flag"
    ACCOUNT_DISABLED = "account_disabled"
    ACCOUNT_ENABLED = "account_enabled"
    PASSWORD_RESET = "password_reset"
    ACCOUNT_TARIFF = "account_tariff"
    TARIFF_CREATED = "tariff_created"
    TARIFF_CHANGED = "tariff_changed"
    COUNTRY_PRICE = "country_price"
    COUNTRY_PRICE_REMOVED = "country_price_removed"
    SENDER_APPROVED = "sender_approved"
    SENDER_PENDING = "sender_pending"
    SENDER_REJECTED = "sender_rejected"
    IP_UNBLOCKED = "ip_unblocked"
    NUMBER_ASSIGNED = "number_assigned"
    NUMBER_RELEASED = "number_released"


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in login with the client's IP, or the command line."""

    name: str
    ip: str = ""
    # The acting account (None: the command line): an operator cannot lock itself out.
    account_id: int | None = None


CLI = Actor("cli")


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    actor: str
    ip: str
    action: AuditAction
    account_id: int | None
    target: str
    details: str


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: int  # Unix seconds
    actor: str
    ip: str
    action: str
    account_id: int | None
    target: str
    details: str


@dataclass
class AuditNote:
    """What an action adds to its entry while it runs (the new account's id, a balance)."""

    account_id: int | None
    target: str
    details: str


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    offset: int
    limit: int
    has_next: bool


class AuditStore(Protocol):
    def audited(self, record: Callable[[], AuditRecord]) -> AbstractContextManager[None]:
        """A write transaction that store calls made inside join; `record()` is written at
        its end, with them. An error inside rolls back both and writes nothing."""

    def audit_entries(
        self, account_id: int | None, offset: int, limit: int
    ) -> list[AuditEntry]: ...


class AuditLog:
    def __init__(self, store: AuditStore) -> None:
        self._store = store

    @contextmanager
    def recorded(
        self,
        actor: Actor,
        action: AuditAction,
        now: datetime,
        *,
        account_id: int | None = None,
        target: str = "",
        details: str = "",
    ) -> Iterator[AuditNote]:
        """Run an action and write its entry in one transaction."""
        note = AuditNote(account_id, target, details)

        def record() -> AuditRecord:
            return AuditRecord(
                at=now,
                actor=actor.name[:MAX_ACTOR],
                ip=actor.ip[:64],
                action=action,
                account_id=note.account_id,
                target=note.target[:MAX_TARGET],
                details=note.details[:MAX_DETAILS],
            )

        with self._store.audited(record):
            yield note

    def page(self, account_id: int | None, offset: int = 0) -> AuditPage:
        """PAGE_SIZE entries from `offset`, the newest first (all accounts' with None)."""
        start = min(max(offset, 0), MAX_OFFSET)
        found = self._store.audit_entries(account_id, start, PAGE_SIZE + 1)
        return AuditPage(found[:PAGE_SIZE], start, PAGE_SIZE, len(found) > PAGE_SIZE)

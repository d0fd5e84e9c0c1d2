"""The operator's actions on accounts (the cabinet's admin pages and the command line alike):
sender names asked for, disabling and enabling an account, resetting its password, the
operator flag, IP blocks, inbound numbers. Each one writes its audit entry in its own
transaction (domain/audit.py).

Values arrive raw; the rules here clean them and raise InvalidParameter naming the field.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tidings.domain.accounts import (
    Account,
    check_new_password,
    require_account,
    require_account_by_login,
)
from tidings.domain.audit import Actor, AuditAction, AuditLog
from tidings.domain.guards import AbuseGuard, IpBlock
from tidings.domain.inbound import InboundNumber, InboundService, assigned_number
from tidings.domain.senders import SenderRequest, SenderService
from tidings.domain.sessions import SessionService
from tidings.errors import InvalidParameter, NotFound

# [choice] Names listed per state on the operator's page (the oldest first).
SENDERS_SHOWN = 200
# A generated password: 12 characters of the URL-safe alphabet (72 random bits).
GENERATED_PASSWORD_BYTES = 9


@dataclass(frozen=True)
class NewPassword:
    login: str
    password: str
    generated: bool


class OperatorStore(Protocol):
    def account(self, account_id: int) -> Account | None: ...

    def account_by_login(self, login: str) -> Account | None: ...

    def set_disabled(self, account_id: int, disabled: bool) -> None: ...

    def set_operator(self, account_id: int, on: bool) -> None: ...

    def sender_requests(self, *, approved: bool, limit: int) -> list[SenderRequest]: ...


class OperatorService:
    def __init__(
        self,
        store: OperatorStore,
        audit: AuditLog,
        *,
        senders: SenderService,
        sessions: SessionService,
        abuse: AbuseGuard,
        inbound: InboundService,
        forget: Callable[[int], None],
    ) -> None:
        """`forget(account_id)`: drop what this process cached about the account's
        credentials check (Authenticator.forget), so a change applies at once here."""
        self._store = store
        self._audit = audit
        self._senders = senders
        self._sessions = sessions
        self._abuse = abuse
        self._inbound = inbound
        self._forget = forget

    def account(self, account_id: int) -> Account:
        return require_account(self._store, account_id)

    def account_by_login(self, login: str) -> Account:
        return require_account_by_login(self._store, login)

    # ---- sender names ---------------------------------------------------------------------

    def sender_requests(self, *, approved: bool) -> list[SenderRequest]:
        return self._store.sender_requests(approved=approved, limit=SENDERS_SHOWN)

    def approve_sender(
        self, account_id: int, name: str, now: datetime, actor: Actor, *, approved: bool = True
    ) -> str:
        """Approve a name the account asked for (`approved` False: pending again)."""
        account, clean = self.account(account_id), name.strip()
        action = AuditAction.SENDER_APPROVED if approved else AuditAction.SENDER_PENDING
        with self._audit.recorded(
            actor, action, now, account_id=account.id, target=account.login, details=clean
        ):
            self._senders.approve(account, clean, approved=approved)
        return clean

    def reject_sender(self, account_id: int, name: str, now: datetime, actor: Actor) -> str:
        """Refuse a name: the request is removed (the account may ask again)."""
        account, clean = self.account(account_id), name.strip()
        with self._audit.recorded(
            actor,
            AuditAction.SENDER_REJECTED,
            now,
            account_id=account.id,
            target=account.login,
            details=clean,
        ):
            self._senders.delete_named(account, clean)
        return clean

    # ---- the account itself ---------------------------------------------------------------

    def set_disabled(self, account_id: int, disabled: bool, now: datetime, actor: Actor) -> Account:
        """A disabled account can neither sign in nor call the API nor bind; its cabinet
        sessions end at once. Returns the account as it was."""
        account = self.account(account_id)
        if disabled and actor.account_id == account.id:
            raise InvalidParameter("account: an operator cannot disable its own account")
        action = AuditAction.ACCOUNT_DISABLED if disabled else AuditAction.ACCOUNT_ENABLED
        with self._audit.recorded(actor, action, now, account_id=account.id, target=account.login):
            self._store.set_disabled(account.id, disabled)
            if disabled:
                self._sessions.end_all(account.id)
        self._forget(account.id)
        return account

    def set_operator(self, account_id: int, on: bool, now: datetime, actor: Actor) -> Account:
        """The flag that opens the admin pages. Returns the account as it was."""
        account = self.account(account_id)
        if not on and actor.account_id == account.id:
            raise InvalidParameter("operator: an operator cannot take its own flag away")
        with self._audit.recorded(
            actor,
            AuditAction.OPERATOR_FLAG,
            now,
            account_id=account.id,
            target=account.login,
            details="on" if on else "off",
        ):
            self._store.set_operator(account.id, on)
        self._forget(account.id)
        return account

    def reset_password(self, account_id: int, raw: str, now: datetime, actor: Actor) -> NewPassword:
        """Set the password given, or a generated one when none is (returned, to be shown
        once); every cabinet session of the account ends. The password is never logged."""
        account = self.account(account_id)
        password = raw or secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
        check_new_password(password)
        with self._audit.recorded(
            actor,
            AuditAction.PASSWORD_RESET,
            now,
            account_id=account.id,
            target=account.login,
            details="generated" if not raw else "set by the operator",
        ):
            self._sessions.reset_password(account, password)
        return NewPassword(account.login, password, generated=not raw)

    # ---- IP blocks ------------------------------------------------------------------------

    def ip_blocks(self) -> list[IpBlock]:
        return self._abuse.blocks()

    def lift_block(self, raw_ip: str, now: datetime, actor: Actor) -> str:
        ip = raw_ip.strip()
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise InvalidParameter("ip: not an IP address: %(ip)r", ip=ip[:64]) from None
        with self._audit.recorded(actor, AuditAction.IP_UNBLOCKED, now, target=ip):
            if not self._abuse.lift(ip):
                raise NotFound("ip %(ip)s is not blocked", ip=ip)
        return ip

    # ---- inbound numbers ------------------------------------------------------------------

    def assign_number(self, raw: str, login: str, now: datetime, actor: Actor) -> str:
        account = self.account_by_login(login)
        with self._audit.recorded(
            actor, AuditAction.NUMBER_ASSIGNED, now, account_id=account.id, target=account.login
        ) as note:
            number = self._inbound.assign(raw, account, now)
            note.details = number
        return number

    def release_number(self, raw: str, now: datetime, actor: Actor) -> str:
        """Take a number back; the entry names the account that had it."""
        with self._audit.recorded(actor, AuditAction.NUMBER_RELEASED, now) as note:
            owner = self._owner(raw)
            number = self._inbound.release(raw)
            note.details = number
            if owner is not None:
                note.account_id, note.target = owner.account_id, owner.login
        return number

    def _owner(self, raw: str) -> InboundNumber | None:
        try:
            number = assigned_number(raw)
        except InvalidParameter:
            return None  # release() says why
        return next((n for n in self._inbound.numbers(None) if n.number == number), None)

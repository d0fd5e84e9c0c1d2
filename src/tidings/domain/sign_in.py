"""Signing in to the cabinet: the API's order of checks (a blocked IP, the credentials — a
failure counts against the IP unless the IP is on the account's allowlist — then the
allowlist), a server-side session, and an audit entry for every attempt the checks reached.

[choice] An attempt from an IP that is blocked is refused before anything is checked and
writes no entry: a brute-force run then costs one row per failure before its block, not one
per request for the block's whole length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tidings.domain.accounts import Account
from tidings.domain.audit import Actor, AuditAction, AuditLog
from tidings.domain.auth import Authenticator
from tidings.domain.guards import AbuseGuard
from tidings.domain.sessions import SessionService
from tidings.errors import (
    AccountDisabled,
    AuthenticationFailed,
    DomainError,
    IpNotAllowed,
)

MAX_LOGIN_SHOWN = 64


class AccountFinder(Protocol):
    def account_by_login(self, login: str) -> Account | None: ...


@dataclass(frozen=True)
class SignedIn:
    account: Account
    token: str  # the session's, for the cookie


class SignInService:
    def __init__(
        self,
        auth: Authenticator,
        abuse: AbuseGuard,
        sessions: SessionService,
        audit: AuditLog,
        find: AccountFinder,
    ) -> None:
        self._auth = auth
        self._abuse = abuse
        self._sessions = sessions
        self._audit = audit
        self._find = find

    def sign_in(self, login: str, password: str, ip: str, now: datetime) -> SignedIn:
        """Raises IpBlocked, IpNotAllowed, AccountDisabled or AuthenticationFailed."""
        self._abuse.check(ip)
        try:
            account = self._checked(login, password, ip)
        except DomainError as error:
            self._refused(login, ip, now, error)
            raise
        with self._audit.recorded(
            Actor(account.login, ip, account.id),
            AuditAction.SIGN_IN,
            now,
            account_id=account.id,
            target=account.login,
        ):
            token = self._sessions.start(account.id, now)
        return SignedIn(account, token)

    def _checked(self, login: str, password: str, ip: str) -> Account:
        if not login or not password:
            raise AuthenticationFailed("authorise error")
        account = self._auth.authenticate(login, password, "")
        self._auth.check_ip(account, ip)
        return account

    def _refused(self, login: str, ip: str, now: datetime, error: DomainError) -> None:
        """The failed attempt's entry; a wrong password also counts against the IP (in the
        same transaction)."""
        known = self._find.account_by_login(login) if login else None
        shown = login[:MAX_LOGIN_SHOWN]
        with self._audit.recorded(
            Actor(shown or "?", ip),
            AuditAction.SIGN_IN_FAILED,
            now,
            account_id=known.id if known else None,
            target=shown,
            details=_reason(error),
        ):
            counts = not isinstance(error, AccountDisabled | IpNotAllowed)
            if counts and not self._auth.is_allowlisted(login, ip):
                self._abuse.auth_failed(ip)


def _reason(error: DomainError) -> str:
    if isinstance(error, AccountDisabled):
        return "account disabled"
    if isinstance(error, IpNotAllowed):
        return "IP not on the account's allowlist"
    return "wrong login or password"

"""Cabinet sessions, ended on the server: signing out ends that session, a password change
ends every other session of the account.

The cookie carries a random token (signed by web/session.py as well); the store keeps only
its SHA-256 with the account and an absolute expiry. A copied cookie therefore opens
nothing once its session has ended, however long the cookie itself would be accepted.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Protocol

from tidings.domain.accounts import (
    Account,
    CredentialCache,
    PasswordHashes,
    check_new_password,
    hash_password,
    verify_password,
)
from tidings.errors import InvalidParameter


class SessionStore(Protocol):
    def add_session(self, key: str, account_id: int, now: datetime, expires: datetime) -> None:
        """Keep a new session (and forget the expired ones)."""

    def session_account(self, key: str, now: datetime) -> int | None:
        """The account of a live session; None if it ended or expired."""

    def end_session(self, key: str) -> None: ...

    def end_account_sessions(self, account_id: int) -> None: ...

    def password_hashes_of(self, account_id: int) -> PasswordHashes | None: ...

    def set_password(self, account_id: int, hashes: PasswordHashes, keep_key: str) -> None:
        """Store the new password and end the account's sessions but `keep_key`, at once."""


def session_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionService:
    def __init__(
        self, store: SessionStore, max_age_s: int, credentials: CredentialCache | None = None
    ) -> None:
        self._store = store
        self._max_age = timedelta(seconds=max_age_s)
        # This process's cache of verified passwords: emptied of the account's on a change.
        self._credentials = credentials

    def start(self, account_id: int, now: datetime) -> str:
        """A new session for the account; its token goes into the cookie."""
        token = secrets.token_urlsafe(32)
        self._store.add_session(session_key(token), account_id, now, now + self._max_age)
        return token

    def account_for(self, token: str, now: datetime) -> int | None:
        return self._store.session_account(session_key(token), now) if token else None

    def end(self, token: str) -> None:
        if token:
            self._store.end_session(session_key(token))

    def end_all(self, account_id: int) -> None:
        """Every cabinet session of the account ends (it was disabled)."""
        self._store.end_account_sessions(account_id)

    def change_password(
        self, account: Account, current: str, new: str, repeated: str, token: str
    ) -> None:
        """Check the current password and the new one; store it and end every session of the
        account but this one (`token`)."""
        hashes = self._store.password_hashes_of(account.id)
        if hashes is None or not verify_password(hashes, current):
            raise InvalidParameter("current password: not the account's password")
        check_new_password(new)
        if new != repeated:
            raise InvalidParameter("new password: the two entries differ")
        self._store.set_password(account.id, hash_password(new), session_key(token))
        if self._credentials is not None:
            self._credentials.forget(account.id)

    def reset_password(self, account: Account, new: str) -> None:
        """The operator sets a new password (domain/operator.py): every session of the
        account ends, the old password is forgotten here."""
        check_new_password(new)
        self._store.set_password(account.id, hash_password(new), keep_key="")
        if self._credentials is not None:
            self._credentials.forget(account.id)

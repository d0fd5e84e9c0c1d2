"""Who is calling: login + password (plain, MD5 or SHA-1 form), or an API key."""

from __future__ import annotations

import functools
import secrets
import threading
import time
from collections.abc import Callable
from typing import Protocol

from tidings.domain.accounts import (
    Account,
    CredentialCache,
    PasswordHashes,
    api_key_hash,
    hash_password,
    ip_allowed,
    verify_password,
    verify_secret,
)
from tidings.errors import AccountDisabled, AuthenticationFailed, IpNotAllowed


class AuthStore(Protocol):
    def account(self, account_id: int) -> Account | None: ...

    def password_hashes(self, login: str) -> tuple[int, PasswordHashes] | None: ...

    def account_id_by_key_hash(self, key_hash: str) -> int | None: ...

    def allowed_ips(self, account_id: int) -> list[str]: ...

    def smpp_password_hash(self, account_id: int) -> str | None:
        """The account's SMPP password (argon2), None when it has set none."""


# [choice] A disabled account's right credentials: error 2 with this description.
DISABLED = "account is blocked"

# An account's settings and allowlist are reused this long (seconds): a request does not pay
# two more queries, and an operator's change still applies within moments.
PROFILE_TTL_S = 5.0


@functools.cache
def _decoy_hashes() -> PasswordHashes:
    """Hashes of a password nobody knows, made like every account's."""
    return hash_password(secrets.token_urlsafe(16))


def _go_ahead() -> None:
    """Slow work may run here (the CLI, a worker thread)."""


class Authenticator:
    def __init__(
        self,
        store: AuthStore,
        cache: CredentialCache,
        before_slow_work: Callable[[], None] = _go_ahead,
    ) -> None:
        """`before_slow_work` is called before a password hash is verified (tens of ms); it
        may raise to refuse, and nothing has been done yet. The composition root passes
        tidings.waiting.refuse_to_wait: on the API's event loop the request then runs again
        in a thread."""
        self._store = store
        self._cache = cache
        self._before_slow_work = before_slow_work
        self._profiles: dict[int, tuple[float, Account, list[str]]] = {}
        self._lock = threading.Lock()

    def _profile(self, account_id: int) -> tuple[Account, list[str]] | None:
        now = time.monotonic()
        with self._lock:
            cached = self._profiles.get(account_id)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        account = self._store.account(account_id)
        if account is None:
            return None
        cidrs = self._store.allowed_ips(account_id)
        with self._lock:
            if len(self._profiles) > 100_000:
                self._profiles.clear()
            self._profiles[account_id] = (now + PROFILE_TTL_S, account, cidrs)
        return account, cidrs

    def authenticate(self, login: str, psw: str, apikey: str) -> Account:
        """An `apikey`, or an empty login with the key in `psw`, or login + password."""
        if apikey:
            account_id = self._by_key(apikey)
        elif not login and psw:
            account_id = self._by_key(psw)
        elif login and psw:
            account_id = self._by_password(login, psw)
        else:
            raise AuthenticationFailed("authorise error")
        return self.usable(account_id)

    def usable(self, account_id: int) -> Account:
        """The account of verified credentials, unless it is gone or disabled (read afresh
        within PROFILE_TTL_S: a bound SMPP client asks at each submit)."""
        profile = self._profile(account_id)
        if profile is None:
            raise AuthenticationFailed("authorise error")
        if profile[0].disabled:
            raise AccountDisabled(DISABLED)
        return profile[0]

    def forget(self, account_id: int) -> None:
        """Read the account afresh at its next request (an operator changed it)."""
        with self._lock:
            self._profiles.pop(account_id, None)

    def authenticate_smpp(self, login: str, password: str) -> Account:
        """An SMPP bind: the account's SMPP password when it has one, or its password (an
        8-character one fits SMPP's password field)."""
        if not login or not password:
            raise AuthenticationFailed("authorise error")
        # "smpp:" cannot begin a login (no colon in logins): its own cache entries.
        account_id = self._cache.get("smpp:" + login, password)
        if account_id is None:
            account_id = self._by_smpp_password(login, password)
            self._cache.put(account_id, "smpp:" + login, password)
        return self.usable(account_id)

    def _by_smpp_password(self, login: str, password: str) -> int:
        self._before_slow_work()
        found = self._store.password_hashes(login)
        if found is None:
            verify_password(_decoy_hashes(), password)  # the time of a known login's check
            raise AuthenticationFailed("authorise error")
        stored = self._store.smpp_password_hash(found[0])
        if stored is not None and verify_secret(stored, password):
            return found[0]
        if not verify_password(found[1], password):
            raise AuthenticationFailed("authorise error")
        return found[0]

    def signed_in(self, account_id: int) -> Account | None:
        """The account a cabinet session names, read afresh (None: it no longer exists or
        is disabled)."""
        account = self._store.account(account_id)
        return None if account is None or account.disabled else account

    def check_ip(self, account: Account, client_ip: str) -> bool:
        """Raise if the account has an allowlist without this IP; True if the IP is on it."""
        profile = self._profile(account.id)
        cidrs = profile[1] if profile else []
        if not ip_allowed(cidrs, client_ip):
            raise IpNotAllowed("authorise error")
        return bool(cidrs)

    def is_allowlisted(self, login: str, client_ip: str) -> bool:
        """IPs on an account's own allowlist are exempt from blocking (jobs.md §5)."""
        found = self._store.password_hashes(login) if login else None
        if found is None:
            return False
        cidrs = self._store.allowed_ips(found[0])
        return bool(cidrs) and ip_allowed(cidrs, client_ip)

    def _by_key(self, key: str) -> int:
        account_id = self._store.account_id_by_key_hash(api_key_hash(key))
        if account_id is None:
            raise AuthenticationFailed("authorise error")
        return account_id

    def _by_password(self, login: str, psw: str) -> int:
        cached = self._cache.get(login, psw)
        if cached is not None:
            return cached
        # A password hash takes milliseconds, and waiting for another request's: never on
        # the event loop.
        self._before_slow_work()
        return self._cache.verified_once(
            functools.partial(self._verify_password, login, psw), login, psw
        )

    def _verify_password(self, login: str, psw: str) -> int:
        found = self._store.password_hashes(login)
        if found is None:
            # An unknown login costs what a wrong password costs: were it answered at once,
            # the time of the answer would tell which logins exist.
            verify_password(_decoy_hashes(), psw)
            raise AuthenticationFailed("authorise error")
        if not verify_password(found[1], psw):
            raise AuthenticationFailed("authorise error")
        return found[0]

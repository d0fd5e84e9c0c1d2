"""Who is calling: login + password (plain, MD5 or SHA-1 form), or an API key."""

from __future__ import annotations

from typing import Protocol

from tidings.domain.accounts import (
    Account,
    CredentialCache,
    PasswordHashes,
    api_key_hash,
    ip_allowed,
    verify_password,
)
from tidings.errors import AuthenticationFailed, IpNotAllowed


class AuthStore(Protocol):
    def account(self, account_id: int) -> Account | None: ...

    def password_hashes(self, login: str) -> tuple[int, PasswordHashes] | None: ...

    def account_id_by_key_hash(self, key_hash: str) -> int | None: ...

    def allowed_ips(self, account_id: int) -> list[str]: ...


class Authenticator:
    def __init__(self, store: AuthStore, cache: CredentialCache) -> None:
        self._store = store
        self._cache = cache

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
        account = self._store.account(account_id)
        if account is None:
            raise AuthenticationFailed("authorise error")
        return account

    def check_ip(self, account: Account, client_ip: str) -> bool:
        """Raise if the account has an allowlist without this IP; True if the IP is on it."""
        cidrs = self._store.allowed_ips(account.id)
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
        found = self._store.password_hashes(login)
        if found is None or not verify_password(found[1], psw):
            raise AuthenticationFailed("authorise error")
        self._cache.put(found[0], login, psw)
        return found[0]

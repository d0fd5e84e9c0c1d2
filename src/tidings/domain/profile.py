"""An account's own settings in the cabinet: API keys, allowed IPs, the callback URL."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tidings.domain.accounts import (
    Account,
    CredentialCache,
    api_key_hash,
    check_smpp_password,
    generate_api_key,
    hash_secret,
    parse_cidr,
)
from tidings.domain.callback_urls import (
    CallbackPolicy,
    Resolver,
    check_callback_url,
    resolve_host,
)
from tidings.errors import InvalidParameter, NotFound, RecordError

# The languages the cabinet speaks; an account may choose one of them or none (its
# browser's, else the default setting).
LANGUAGES = ("ru", "en")


@dataclass(frozen=True)
class ApiKeyView:
    id: int
    # The first characters of the key, so its owner can tell keys apart; never the key.
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ProfileStore(Protocol):
    def api_keys(self, account_id: int) -> list[ApiKeyView]: ...

    def add_api_key(self, account_id: int, key_hash: str, prefix: str, now: datetime) -> None: ...

    def revoke_api_key(self, account_id: int, key_id: int, now: datetime) -> bool:
        """Revoke a live key of the account; False if it has no such live key."""

    def allowed_ips(self, account_id: int) -> list[str]: ...

    def allow_ip(self, account_id: int, cidr: str) -> bool: ...

    def deny_ip(self, account_id: int, cidr: str) -> bool: ...

    def callback_url(self, account_id: int) -> str: ...

    def set_callback(self, account_id: int, url: str, secret: str) -> None: ...

    def forward_inbound(self, account_id: int) -> bool: ...

    def set_forward_inbound(self, account_id: int, on: bool) -> None: ...

    def set_language(self, account_id: int, language: str | None) -> None: ...

    def set_smpp_password_hash(self, account_id: int, stored: str | None) -> None: ...


class ProfileService:
    def __init__(
        self,
        store: ProfileStore,
        callbacks: CallbackPolicy | None = None,
        resolve: Resolver | None = resolve_host,
        credentials: CredentialCache | None = None,
    ) -> None:
        self._store = store
        # Credentials verified recently (this process's): a replaced SMPP password is
        # forgotten there at once. Other processes' caches forget it within their TTL.
        self._credentials = credentials
        # Where callbacks may go (the operator's allowed ranges) and how names are resolved
        # to check that at save time.
        self._callbacks = callbacks or CallbackPolicy()
        self._resolve = resolve

    def api_keys(self, account: Account) -> list[ApiKeyView]:
        return self._store.api_keys(account.id)

    def issue_api_key(self, account: Account, now: datetime) -> str:
        """A new key; only its hash is kept, so this is the one time it can be shown."""
        key = generate_api_key()
        self._store.add_api_key(account.id, api_key_hash(key), key[:8], now)
        return key

    def revoke_api_key(self, account: Account, key_id: int, now: datetime) -> None:
        if not self._store.revoke_api_key(account.id, key_id, now):
            raise NotFound("API key not found")

    def allowed_ips(self, account: Account) -> list[str]:
        return self._store.allowed_ips(account.id)

    def allow_ip(self, account: Account, value: str) -> str:
        cidr = parse_cidr(value)
        if not self._store.allow_ip(account.id, cidr):
            raise RecordError("%(cidr)s is already allowed", cidr=cidr)
        return cidr

    def deny_ip(self, account: Account, cidr: str) -> None:
        if not self._store.deny_ip(account.id, cidr):
            raise NotFound("address not found")

    def set_smpp_password(self, account: Account, password: str | None) -> str | None:
        """Set the account's SMPP password (None: a new random one; "": none, binds take the
        account's password only); returns the one set."""
        chosen = new_smpp_password() if password is None else password
        if chosen:
            check_smpp_password(chosen)
        self._store.set_smpp_password_hash(account.id, hash_secret(chosen) if chosen else None)
        if self._credentials is not None:
            self._credentials.forget(account.id)
        return chosen or None

    def set_language(self, account: Account, language: str | None) -> None:
        """The cabinet's language for the account; None: follow the browser."""
        if language is not None and language not in LANGUAGES:
            raise InvalidParameter(
                "language must be one of %(languages)s", languages=", ".join(LANGUAGES)
            )
        self._store.set_language(account.id, language)

    def callback_url(self, account: Account) -> str:
        return self._store.callback_url(account.id)

    def set_callback(self, account: Account, url: str) -> str:
        """Set (or, with an empty URL, switch off) status callbacks; return the new signing
        secret ("" when switched off)."""
        url = url.strip()
        if url:
            check_callback_url(url, self._callbacks, self._resolve)
        secret = secrets.token_hex(32) if url else ""
        self._store.set_callback(account.id, url, secret)
        return secret

    def forwards_inbound(self, account: Account) -> bool:
        """Whether the account's incoming SMS go to its callback URL too (SMS Center's
        `fl[11]`). They go only while a URL is set."""
        return self._store.forward_inbound(account.id)

    def set_forward_inbound(self, account: Account, on: bool) -> None:
        self._store.set_forward_inbound(account.id, on)


def new_smpp_password() -> str:
    """8 random letters and digits: the most SMPP 3.4 carries."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))

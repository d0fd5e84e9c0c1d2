"""Accounts and their credentials: passwords (argon2), API keys, IP allowlists."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tidings.errors import InvalidParameter, NotFound

# OWASP's argon2id minimum (19 MiB, t=2): a few ms here; verified credentials are cached anyway.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_MD5_HEX = re.compile(r"^[0-9a-f]{32}$")
_SHA1_HEX = re.compile(r"^[0-9a-fA-F]{40}$")
_LOGIN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


@dataclass(frozen=True)
class Account:
    id: int
    login: str
    timezone: str
    region: str
    currency: str
    credit_limit_minor: int
    test_mode: bool
    is_operator: bool
    tariff_id: int | None
    default_sender: str
    # Disabled by an operator: it can neither sign in nor call the API nor bind.
    disabled: bool = False
    # The cabinet's language it chose ("ru", "en"); None: the browser's, else the default.
    language: str | None = None


@dataclass(frozen=True)
class PasswordHashes:
    """The password is kept only as argon2 hashes of the forms a client may send (jobs.md §1)."""

    plain: str
    md5: str
    sha1: str


def validate_login(login: str) -> str:
    if not _LOGIN.match(login):
        raise InvalidParameter("login must be 1-64 characters: Latin letters, digits, _ . @ -")
    return login


MIN_PASSWORD = 8


def check_new_password(password: str) -> None:
    """The rule for a password being set (the API also takes older, shorter ones)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidParameter("password: at least %(n)s characters", n=MIN_PASSWORD)


def hash_password(password: str) -> PasswordHashes:
    if not password:
        raise InvalidParameter("password must not be empty")
    md5_hex = hashlib.md5(password.encode()).hexdigest()
    sha1_hex = hashlib.sha1(password.encode()).hexdigest()
    return PasswordHashes(
        plain=_HASHER.hash(password), md5=_HASHER.hash(md5_hex), sha1=_HASHER.hash(sha1_hex)
    )


def verify_password(hashes: PasswordHashes, psw: str) -> bool:
    """True if `psw` is the password, its lower-case MD5 hex or its SHA-1 hex."""
    if _argon2_matches(hashes.plain, psw):
        return True
    if _MD5_HEX.match(psw) and _argon2_matches(hashes.md5, psw):
        return True
    return bool(_SHA1_HEX.match(psw)) and _argon2_matches(hashes.sha1, psw.lower())


# An SMPP password (smsc.ru's "access password"): SMPP 3.4 carries at most 8 octets, and
# only printable ASCII survives every client.
_SMPP_PASSWORD = re.compile(r"^[\x21-\x7e]{1,8}$")


def check_smpp_password(password: str) -> None:
    if not _SMPP_PASSWORD.match(password):
        raise InvalidParameter("SMPP password: 1 to 8 printable ASCII characters, no spaces")


def hash_secret(secret: str) -> str:
    """An argon2 hash of a secret sent as it is (no MD5/SHA-1 forms: the SMPP password)."""
    return _HASHER.hash(secret)


def verify_secret(stored: str, secret: str) -> bool:
    return _argon2_matches(stored, secret)


def _argon2_matches(stored: str, secret: str) -> bool:
    try:
        return _HASHER.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def generate_api_key() -> str:
    return "tk_" + secrets.token_urlsafe(30)


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError as exc:
        raise InvalidParameter("not an IP address or network: %(value)r", value=value) from exc


def ip_allowed(cidrs: Iterable[str], client_ip: str) -> bool:
    """An empty allowlist allows every IP."""
    networks = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in net for net in networks)


class CredentialCache:
    """Remembers credentials verified recently so a request does not pay a slow hash each time.

    Keys are HMACs of the credentials under a per-process secret: the cache itself holds no
    password, and a memory dump does not reveal one.
    """

    def __init__(self, ttl_s: float, max_entries: int = 100_000) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._secret = secrets.token_bytes(32)
        self._entries: dict[bytes, tuple[int, float]] = {}
        self._running: dict[bytes, Future[int]] = {}
        self._lock = threading.Lock()

    def _key(self, *parts: str) -> bytes:
        # Keyed BLAKE2b is a MAC as HMAC-SHA-256 is, at a third of its cost (0.6 µs against
        # 1.6 per request's credentials on this kind of machine).
        return hashlib.blake2b("\x00".join(parts).encode(), key=self._secret).digest()

    def get(self, *parts: str) -> int | None:
        key = self._key(*parts)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            account_id, expires = entry
            if expires < time.monotonic():
                del self._entries[key]
                return None
            return account_id

    def verified_once(self, verify: Callable[[], int], *parts: str) -> int:
        """`verify()`'s account id for these credentials, run by one caller at a time: the
        others asking for the same credentials meanwhile wait for its answer (or its error)
        instead of paying the hash again. Without this, the first burst after a start — 32
        connections under one login — paid 32 hashes per process, seconds of CPU."""
        key = self._key(*parts)
        with self._lock:
            running = self._running.get(key)
            first = running is None
            if running is None:
                running = self._running[key] = Future()
        if not first:
            return running.result()
        try:
            account_id = verify()
        except BaseException as error:
            running.set_exception(error)
            raise
        else:
            self.put(account_id, *parts)
            running.set_result(account_id)
            return account_id
        finally:
            with self._lock:
                del self._running[key]

    def put(self, account_id: int, *parts: str) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[self._key(*parts)] = (account_id, time.monotonic() + self._ttl)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def forget(self, account_id: int) -> None:
        """Drop the account's entries (its password changed: the old one must stop working)."""
        with self._lock:
            for key in [k for k, (owner, _) in self._entries.items() if owner == account_id]:
                del self._entries[key]


class AccountsByKey(Protocol):
    """What finding one account needs from a store."""

    def account(self, account_id: int) -> Account | None: ...

    def account_by_login(self, login: str) -> Account | None: ...


def require_account(store: AccountsByKey, account_id: int) -> Account:
    found = store.account(account_id)
    if found is None:
        raise NotFound("account not found")
    return found


def require_account_by_login(store: AccountsByKey, login: str) -> Account:
    found = store.account_by_login(login.strip())
    if found is None:
        raise NotFound("no account %(login)r", login=login.strip())
    return found

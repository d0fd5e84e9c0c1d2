"""Taking a request in: its body within the size limit, and its credentials before the body.

The body is refused by its Content-Length before a byte of it is read, and a streamed
(chunked) body is counted as it arrives, so an oversized one never sits in memory.

A request is in flight while its body arrives, and every login may have 14 requests in flight
(error 9). When the body does not come in one piece, the slot is therefore taken before the
rest of it is awaited — but only for credentials that authenticate: the query string's
`login` alone must not let anyone hold another account's slots. The answer of that check is
kept for the request, so a password is verified once even when it is checked before the body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from starlette.requests import ClientDisconnect, Request

from tidings.api.params import RawPairs, query_pairs, settings_in_unreadable_body
from tidings.domain.accounts import Account
from tidings.domain.services import Services
from tidings.errors import DomainError, InvalidParameter

TOO_LARGE = "request body is too large"


# How much of a refused body is searched for `fmt` and `charset`, to answer as they ask.
_HINTS_IN = 64 * 1024


class BodyTooLarge(InvalidParameter):
    """A body over `http.max_body_bytes` (API error 1, as any bad parameter). `start` is the
    beginning of it that was read, if any."""

    def __init__(self, start: bytes = b"") -> None:
        super().__init__(TOO_LARGE)
        self.start = start[:_HINTS_IN]

    def hints(self, content_type: str) -> RawPairs:
        """`fmt` and `charset` found in the start of the body."""
        if "multipart/" in content_type:
            return settings_in_unreadable_body(self.start)
        complete = self.start.rpartition(b"&")[0]
        return [(k, v) for k, v in query_pairs(complete) if k in ("fmt", "charset")]


def check_declared_length(request: Request, limit: int) -> None:
    """Refuse a body by its Content-Length, before reading it."""
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()


async def read_body(
    request: Request, limit: int, while_waiting: Callable[[], Awaitable[None]]
) -> bytes:
    """The body, counted as it arrives: refused the moment it passes `limit`. When it does
    not come in one piece, `while_waiting` runs (once) before the rest is awaited."""
    chunks: list[bytes] = []
    size = 0
    waited = False
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            start = b"".join(_first(chunks, _HINTS_IN)) if chunks else chunk
            raise BodyTooLarge(start)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
        if not waited:
            waited = True
            await while_waiting()


def _first(chunks: list[bytes], size: int) -> Iterator[bytes]:
    """The chunks that hold the first `size` bytes."""
    for chunk in chunks:
        yield chunk
        size -= len(chunk)
        if size <= 0:
            return


@dataclass(frozen=True)
class Credentials:
    login: str
    psw: str
    apikey: str

    @classmethod
    def of(cls, values: dict[str, str]) -> Credentials:
        return cls(
            values.get("login", "").strip(),
            values.get("psw", ""),
            values.get("apikey", "").strip(),
        )

    @property
    def given(self) -> bool:
        return bool(self.apikey or self.psw)


@dataclass(frozen=True)
class Probe:
    """The query string's credentials checked before the body: the account, or the error."""

    credentials: Credentials
    account: Account | None
    error: DomainError | None

    def answers(self, credentials: Credentials) -> bool:
        """True if the request's final credentials are the ones checked here."""
        return credentials == self.credentials


def query_credentials(query: RawPairs) -> Credentials | None:
    """The query string's credentials, if it has any (decoded as the body may not change)."""
    values = {name: raw.decode("utf-8", "replace") for name, raw in query}
    found = Credentials.of(values)
    return found if found.given else None


def probe(services: Services, credentials: Credentials, client_ip: str) -> Probe:
    """Authenticate `credentials` (a worker thread: a password hash takes tens of ms). An
    account whose allowlist lacks the client IP is not an authenticated caller here."""
    try:
        account = services.auth.authenticate(credentials.login, credentials.psw, credentials.apikey)
    except DomainError as error:
        return Probe(credentials, None, error)
    try:
        services.auth.check_ip(account, client_ip)
    except DomainError:
        return Probe(credentials, None, None)
    return Probe(credentials, account, None)

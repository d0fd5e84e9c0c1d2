"""The one table from domain errors to API error codes (jobs.md §2)."""

from __future__ import annotations

from tidings.errors import (
    AuthenticationFailed,
    DomainError,
    InsufficientFunds,
    InvalidDate,
    InvalidNumber,
    InvalidParameter,
    IpBlocked,
    IpNotAllowed,
    MessageDenied,
    OperationFailed,
    RecordError,
    TooManyRequests,
    Undeliverable,
)

_CODES: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidDate, 5),
    (OperationFailed, 5),
    (InvalidParameter, 1),
    (AuthenticationFailed, 2),
    (IpNotAllowed, 2),
    (RecordError, 3),
    (InsufficientFunds, 3),
    (MessageDenied, 6),
    (InvalidNumber, 7),
    (Undeliverable, 8),
    (IpBlocked, 4),
    (TooManyRequests, 9),
)


def error_code(error: DomainError) -> int:
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return 1

"""Domain errors → SMPP command_status: the one table of this door (api/errors.py is the
HTTP API's)."""

from __future__ import annotations

from tidings.channels.smpp import pdu
from tidings.errors import (
    AccountDisabled,
    AuthenticationFailed,
    DomainError,
    InsufficientFunds,
    InvalidDate,
    InvalidNumber,
    IpBlocked,
    IpNotAllowed,
    MessageDenied,
    Undeliverable,
)

# Most specific first. An unknown login and a wrong password are one answer: which logins
# exist is not told (as on HTTP).
BIND_STATUS: list[tuple[type[DomainError], int]] = [
    # The right password of a disabled account: the bind fails, the password was not wrong.
    (AccountDisabled, pdu.ESME_RBINDFAIL),
    (AuthenticationFailed, pdu.ESME_RINVPASWD),
    (IpNotAllowed, pdu.ESME_RBINDFAIL),
    (IpBlocked, pdu.ESME_RBINDFAIL),
]
SUBMIT_STATUS: list[tuple[type[DomainError], int]] = [
    (InvalidNumber, pdu.ESME_RINVDSTADR),
    (MessageDenied, pdu.ESME_RINVSRCADR),
    (InvalidDate, pdu.ESME_RINVSCHED),
    # The stop list, or nobody can receive it: a permanent refusal by the application.
    (Undeliverable, pdu.ESME_RX_P_APPN),
    (InsufficientFunds, pdu.ESME_RSUBMITFAIL),
]


def bind_status(error: DomainError) -> int:
    return _lookup(BIND_STATUS, error, pdu.ESME_RBINDFAIL)


def submit_status(error: DomainError) -> int:
    return _lookup(SUBMIT_STATUS, error, pdu.ESME_RSUBMITFAIL)


def _lookup(table: list[tuple[type[DomainError], int]], error: DomainError, default: int) -> int:
    return next((status for kind, status in table if isinstance(error, kind)), default)

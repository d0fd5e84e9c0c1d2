"""SMPP client failures, kept apart so the channel can tell "the SMSC said no" from "we do not
know what the SMSC did" (the latter makes a submit ambiguous)."""

from __future__ import annotations

from tidings.channels.smpp.pdu import status_name


class SmppError(Exception):
    """Base of every SMPP client failure."""


class SmppStatusError(SmppError):
    """The SMSC answered with a non-zero command_status."""

    def __init__(self, status: int, command: str = "submit_sm") -> None:
        super().__init__(f"{command} answered {status_name(status)} (0x{status:02X})")
        self.status = status


class SmppBindError(SmppStatusError):
    """The SMSC refused bind_transceiver (wrong credentials, too many binds, ...)."""

    def __init__(self, status: int) -> None:
        super().__init__(status, "bind_transceiver")


class SmppTimeout(SmppError):
    """No response within the response timeout; the request may or may not have been acted on."""


class SmppDisconnected(SmppError):
    """The connection is gone. `sent` tells whether the request had been written to the socket:
    if it had, the SMSC may have accepted it, so the outcome is unknown."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent

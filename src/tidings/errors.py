"""Domain errors: transport-neutral. Each edge (HTTP API, CLI, web) maps them in one table."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a domain service raises on purpose.

    Raised as a template and the values that fill it, `InvalidParameter("%(field)s: at most
    %(n)s characters", field="name", n=64)`: the description is the English the API and the
    CLI answer with ("name: at most 64 characters"), and the template, a constant, is the
    refusal's stable shape, which the cabinet looks up in its catalogue to say it in the
    visit's language (web/refusals.py) — never an f-string, so that every refusal can be
    listed (tests/unit/test_refusals.py). A template without values is its own description
    (a literal % needs no doubling); one with values is filled with `%`."""

    def __init__(self, template: str, /, **values: object) -> None:
        description = template % values if values else template
        super().__init__(description)
        self.description = description
        self.template = template
        self.values: dict[str, object] = values
        # The client's id of the request, echoed in the error where a script does that
        # (send.php: `ERROR = N (…), ID - <id>`).
        self.reference: str | None = None


class InvalidParameter(DomainError):
    """A parameter is missing, malformed or out of range (API error 1)."""


class NotProvided(InvalidParameter):
    """A script or action of the SMS Center API that Tidings does not provide (API error 1;
    docs/api.md, "What Tidings provides")."""


class UnsupportedFormat(InvalidParameter):
    """A message format flag the project does not send (API error 1)."""


class AuthenticationFailed(DomainError):
    """Bad login, password or API key (API error 2)."""


class AccountDisabled(AuthenticationFailed):
    """The credentials are right but an operator has disabled the account (API error 2,
    `account is blocked`)."""


class IpNotAllowed(DomainError):
    """The client IP is not in the account's allowlist (API error 2)."""


class RecordError(DomainError):
    """Saving failed, an id is taken, or a record is missing or in the wrong state (API error 3)."""


class NotFound(RecordError):
    """The record does not exist or belongs to another account (API error 3)."""


class IpBlocked(DomainError):
    """The client IP is temporarily blocked after repeated errors (API error 4)."""


class InvalidDate(DomainError):
    """A date, time or time zone could not be parsed (API error 5)."""


class TooManyRequests(DomainError):
    """A duplicate request within the window or too many concurrent requests (API error 9)."""


class InsufficientFunds(DomainError):
    """The balance (with the credit limit) does not cover the cost (send.php error 3)."""


class MessageDenied(DomainError):
    """The text or the sender is not allowed (send.php error 6)."""


class InvalidNumber(DomainError):
    """No recipient number could be understood (send.php error 7)."""


class Undeliverable(DomainError):
    """No recipient can receive the message, e.g. all are stop-listed (send.php error 8)."""


class OperationFailed(DomainError):
    """An operation on existing records could not be done (status.php and phones.php error 5)."""


class StartupError(Exception):
    """The service cannot start: the store cannot be reached or migrated. The message says
    why in the operator's terms; it is not a domain error and never reaches an API client."""

"""Request rules shared by everything that sends: jobs.php `add`, send.php and the cabinet's
create-list form (jobs.md §1, smsc-api.md §3). They read plain text values by parameter name
(`Fields`); the edges hand over what they parsed, in whatever transport it came."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tidings.domain import phones as phone_rules
from tidings.domain.jobs import MessageFormat
from tidings.errors import InvalidParameter, UnsupportedFormat

MAX_MES = 1000
MAX_SUBJECT = 255
# Recipients of one request (setting `max_recipients`): a 50 MB body would otherwise make a
# list of millions, each priced, stored and scheduled.
MAX_RECIPIENTS = 1_000_000
# [choice] formats we do not send: any of these set → error 1 "format not supported".
UNSUPPORTED_FLAGS = ("push", "hlr", "mms", "viber", "call", "soc")
_SENDER_ALPHA = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 .\-_&!']{1,11}$")
_SENDER_DIGITS = re.compile(r"^\+?\d{1,15}$")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})*$")


@dataclass(frozen=True)
class RequestLimits:
    """The operator's limits on what one request may ask for (the settings set them)."""

    max_recipients: int = MAX_RECIPIENTS


class Fields:
    """A request's text values by parameter name; an absent one reads as empty."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def text(self, name: str) -> str:
        return self._values.get(name, "")

    def flag(self, name: str) -> bool:
        return self._values.get(name, "").strip() == "1"


def message_format(p: Fields) -> MessageFormat:
    for flag in UNSUPPORTED_FLAGS:
        if p.text(flag).strip() not in ("", "0"):
            raise UnsupportedFormat("format not supported")
    chosen: list[MessageFormat] = []
    if p.flag("flash"):
        chosen.append(MessageFormat.FLASH)
    binary = p.text("bin").strip()
    if binary not in ("", "0", "1", "2"):
        raise InvalidParameter("bin must be 0, 1 or 2")
    if binary in ("1", "2"):
        chosen.append(MessageFormat.BIN if binary == "1" else MessageFormat.BIN_HEX)
    if p.flag("ping"):
        chosen.append(MessageFormat.PING)
    if p.flag("mail"):
        chosen.append(MessageFormat.MAIL)
    if len(chosen) > 1:
        raise InvalidParameter("only one message format flag may be given")
    return chosen[0] if chosen else MessageFormat.SMS


def check_text(text: str, fmt: MessageFormat, param: str) -> None:
    check_no_nul(text, param)
    if len(text) > MAX_MES:
        raise InvalidParameter(f"{param}: at most {MAX_MES} characters")
    if fmt is MessageFormat.BIN_HEX and not _HEX.match(text.split("~~~")[0].strip()):
        raise InvalidParameter(f"{param}: bin=2 needs an even number of hex digits")


def check_recipient_count(count: int, limit: int, param: str) -> None:
    if count > limit:
        raise InvalidParameter(f"{param}: at most {limit} recipients")


def check_no_nul(value: str, param: str) -> None:
    """A NUL character is never text: PostgreSQL refuses it and SQLite would store it."""
    if "\x00" in value:
        raise InvalidParameter(f"{param}: must not contain a NUL character")


def list_recipients(
    listing: str, mail: bool, region: str
) -> tuple[str, list[str], list[str], list[int]]:
    """`list` (`recipient:text` lines): (recipients as given, normalised addresses,
    per-recipient texts, groups: none)."""
    fmt = MessageFormat.MAIL if mail else MessageFormat.SMS
    given: list[str] = []
    addresses: list[str] = []
    texts: list[str] = []
    seen: set[str] = set()
    for line in listing.splitlines():
        if not line.strip():
            continue
        recipient, sep, text = line.partition(":")
        if not sep or not text.strip():
            raise InvalidParameter("list: each line must be recipient:text")
        check_text(text, fmt, "list")
        given.append(recipient.strip())
        address = (
            phone_rules.normalize_email(recipient.strip())
            if mail
            else phone_rules.normalize_phone(recipient, region)
        )
        if address is not None and address not in seen:
            seen.add(address)
            addresses.append(address)
            texts.append(text)
    if not addresses:
        raise InvalidParameter("list: no valid recipient")
    return ",".join(given), addresses, texts, []


def sender_name(value: str | None, mail: bool, param: str) -> str:
    """A sender ID (≤ 11 Latin alphanumerics or ≤ 15 digits) or, for e-mail, the From
    address; "" when none is given."""
    sender = (value or "").strip()
    if not sender:
        return ""
    if mail:
        if phone_rules.normalize_email(sender) is None:
            raise InvalidParameter(f"{param}: an e-mail address")
        return sender
    if not (_SENDER_ALPHA.match(sender) or _SENDER_DIGITS.match(sender)):
        raise InvalidParameter(f"{param}: up to 11 Latin letters and digits, or up to 15 digits")
    return sender


def subject(value: str | None, mail: bool, required_for: str) -> str:
    """`subj`: required for e-mail; a longer one than MAX_SUBJECT is refused, never cut
    (jobs.md §1: a bad input gets error 1 and changes nothing)."""
    text = (value or "").strip()
    if mail and not text:
        raise InvalidParameter(f"subj: required for {required_for}")
    if len(text) > MAX_SUBJECT:
        raise InvalidParameter(f"subj: at most {MAX_SUBJECT} characters")
    return text


def translit(value: str | None) -> int:
    text = (value or "").strip()
    if text not in ("", "0", "1", "2"):
        raise InvalidParameter("translit must be 0, 1 or 2")
    return int(text or 0)

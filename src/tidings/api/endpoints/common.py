"""Parameter rules shared by the sending scripts (jobs.php, send.php)."""

from __future__ import annotations

import re

from tidings.api.params import Params
from tidings.domain import phones as phone_rules
from tidings.domain.jobs import MessageFormat
from tidings.errors import InvalidParameter, UnsupportedFormat

MAX_MES = 1000
# [choice] formats we do not send: any of these set → error 1 "format not supported".
UNSUPPORTED_FLAGS = ("push", "hlr", "mms", "viber", "call", "soc")
_SENDER_ALPHA = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 .\-_&!']{1,11}$")
_SENDER_DIGITS = re.compile(r"^\+?\d{1,15}$")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})*$")


# The largest integer a number parameter may name (a 64-bit row id); more is never a record.
MAX_NUMBER = 2**63 - 1


def parse_uint(text: str, limit: int = MAX_NUMBER) -> int | None:
    """An ASCII decimal 0…limit, else None. `str.isdigit` alone lets in `²` and `٣` (which
    int() rejects or reads) and 5000-digit numbers (int() refuses over 4300 digits)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(limit)):
        return None
    number = int(text)
    return number if number <= limit else None


def message_format(p: Params) -> MessageFormat:
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
    if len(text) > MAX_MES:
        raise InvalidParameter(f"{param}: at most {MAX_MES} characters")
    if fmt is MessageFormat.BIN_HEX and not _HEX.match(text.split("~~~")[0].strip()):
        raise InvalidParameter(f"{param}: bin=2 needs an even number of hex digits")


def list_recipients(
    listing: str, mail: bool, region: str
) -> tuple[str, list[str], list[str], list[int]]:
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


def sender(value: str | None, mail: bool, param: str) -> str:
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


def translit(value: str | None) -> int:
    text = (value or "").strip()
    if text not in ("", "0", "1", "2"):
        raise InvalidParameter("translit must be 0, 1 or 2")
    return int(text or 0)

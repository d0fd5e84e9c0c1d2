"""Request rules shared by everything that sends: jobs.php `add`, send.php and the cabinet's
create-list form (jobs.md §1, smsc-api.md §3). They read plain text values by parameter name
(`Fields`); the edges hand over what they parsed, in whatever transport it came."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tidings.domain import phones as phone_rules
from tidings.domain.jobs import MessageFormat
from tidings.domain.numbers import parse_uint
from tidings.errors import InvalidParameter, UnsupportedFormat

MAX_MES = 1000
MAX_SUBJECT = 255
# Recipients of one request (setting `max_recipients`): a 50 MB body would otherwise make a
# list of millions, each priced, stored and scheduled.
MAX_RECIPIENTS = 1_000_000
# Message types no upstream of ours delivers: any of these flags set (to anything but 0) is
# error 1 naming it, never an SMS sent instead. (No upstream does HLR lookups either.)
UNDELIVERABLE: dict[str, str] = {
    "push": "WAP-push messages",
    "hlr": "HLR requests (no upstream does HLR)",
    "mms": "MMS messages",
    "viber": "Viber messages",
    "whatsapp": "WhatsApp messages",
    "tg": "Telegram messages",
    "telegram": "Telegram messages",
    "call": "voice calls",
    "soc": "social network messages",
}
UNSUPPORTED_FLAGS = tuple(UNDELIVERABLE)
# The text may name its type instead of a flag (smsc-api.md §3.2). `__PING__` is a type we
# send; the others would otherwise go out as an SMS reading "__VIBER__ …".
TEXT_PREFIXES: dict[str, str] = {
    "__CALL__": "call",
    "__VIBER__": "viber",
    "__SOC__": "soc",
    "__HLR__": "hlr",
    "__PING__": "ping",
}
# Options of types we do not send (links, attachments, Viber fallbacks, voice): refused with
# error 1 when given a value, so nothing is silently ignored.
UNSUPPORTED_OPTIONS: dict[str, str] = {
    "tinyurl": "link shortening is not supported",
    "fileurl": "attachments are not supported",
    "mes2": "a fallback text needs Viber messages, which are not supported",
    "voice": "voice calls are not supported",
    "param": "voice calls are not supported",
}
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


def refuse_undeliverable(flag: str) -> None:
    raise UnsupportedFormat(
        "%(field)s: %(kind)s cannot be sent here, format not supported",
        field=flag,
        kind=UNDELIVERABLE[flag],
    )


def check_options(p: Fields) -> None:
    """Refuse the options of message types we do not send (`tinyurl=0` and empty values are
    the same as absent)."""
    for name, why in UNSUPPORTED_OPTIONS.items():
        if p.text(name).strip() not in ("", "0"):
            raise InvalidParameter("%(field)s: %(why)s", field=name, why=why)


def text_prefix(text: str) -> str | None:
    """The type a text names by its prefix (`__VIBER__ Hello` → "viber"), None if none."""
    head = text.lstrip()
    for prefix, kind in TEXT_PREFIXES.items():
        if head.startswith(prefix):
            return kind
    return None


def message_format(p: Fields) -> MessageFormat:
    for flag in UNSUPPORTED_FLAGS:
        if p.text(flag).strip() not in ("", "0"):
            refuse_undeliverable(flag)
    check_options(p)
    chosen: list[MessageFormat] = []
    if p.flag("flash"):
        chosen.append(MessageFormat.FLASH)
    binary = p.text("bin").strip()
    if binary not in ("", "0", "1", "2"):
        raise InvalidParameter("bin must be 0, 1 or 2")
    if binary in ("1", "2"):
        chosen.append(MessageFormat.BIN if binary == "1" else MessageFormat.BIN_HEX)
    prefixed = text_prefix(p.text("mes"))
    if prefixed is not None and prefixed != "ping":
        refuse_undeliverable(prefixed)
    if p.flag("ping") or prefixed == "ping":
        chosen.append(MessageFormat.PING)
    if p.flag("mail"):
        chosen.append(MessageFormat.MAIL)
    if len(chosen) > 1:
        raise InvalidParameter("only one message format flag may be given")
    return chosen[0] if chosen else MessageFormat.SMS


def check_text(text: str, fmt: MessageFormat, param: str) -> None:
    check_no_nul(text, param)
    kind = text_prefix(text)
    if kind is not None and not (kind == "ping" and fmt is MessageFormat.PING):
        if kind in UNDELIVERABLE:
            refuse_undeliverable(kind)
        raise InvalidParameter(
            "%(field)s: __PING__ only as the text of a ping message", field=param
        )
    if len(text) > MAX_MES:
        raise InvalidParameter("%(field)s: at most %(n)s characters", field=param, n=MAX_MES)
    if fmt is MessageFormat.BIN_HEX and not _HEX.match(text.split("~~~")[0].strip()):
        raise InvalidParameter("%(field)s: bin=2 needs an even number of hex digits", field=param)


def check_recipient_count(count: int, limit: int, param: str) -> None:
    if count > limit:
        raise InvalidParameter("%(field)s: at most %(n)s recipients", field=param, n=limit)


def check_no_nul(value: str, param: str) -> None:
    """A NUL character is never text: PostgreSQL refuses it and SQLite would store it."""
    if "\x00" in value:
        raise InvalidParameter("%(field)s: must not contain a NUL character", field=param)


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
        raise InvalidParameter("%(field)s: no valid recipient", field="list")
    return ",".join(given), addresses, texts, []


def refuse_messenger_recipients(rejected: Sequence[str], param: str) -> None:
    """`#ID` recipients are Telegram chats (smsc-api.md §3.2): not numbers we failed to read,
    a type we do not send."""
    if any(item.startswith("#") for item in rejected):
        raise UnsupportedFormat(
            "%(field)s: Telegram chats (#ID) cannot be sent to here, format not supported",
            field=param,
        )


def template_ref(p: Fields, max_id: int) -> int | None:
    """`tpl`: a stored template's id used as the text; it replaces `mes` and `list`."""
    tpl = p.text("tpl").strip()
    if not tpl:
        return None
    if p.text("mes") or p.text("list").strip():
        raise InvalidParameter("tpl: cannot be combined with mes or list")
    template_id = parse_uint(tpl, max_id)
    if not template_id:
        raise InvalidParameter("tpl: a template id")
    return template_id


def sender_name(value: str | None, mail: bool, param: str) -> str:
    """A sender ID (≤ 11 Latin alphanumerics or ≤ 15 digits) or, for e-mail, the From
    address; "" when none is given."""
    sender = (value or "").strip()
    if not sender:
        return ""
    if mail:
        if phone_rules.normalize_email(sender) is None:
            raise InvalidParameter("%(field)s: an e-mail address", field=param)
        return sender
    if not (_SENDER_ALPHA.match(sender) or _SENDER_DIGITS.match(sender)):
        raise InvalidParameter(
            "%(field)s: up to 11 Latin letters and digits, or up to 15 digits", field=param
        )
    return sender


def subject(value: str | None, mail: bool, required_for: str) -> str:
    """`subj`: required for e-mail; a longer one than MAX_SUBJECT is refused, never cut
    (jobs.md §1: a bad input gets error 1 and changes nothing)."""
    text = (value or "").strip()
    if mail and not text:
        raise InvalidParameter("%(field)s: required for %(what)s", field="subj", what=required_for)
    if len(text) > MAX_SUBJECT:
        raise InvalidParameter("%(field)s: at most %(n)s characters", field="subj", n=MAX_SUBJECT)
    return text


def translit(value: str | None) -> int:
    text = (value or "").strip()
    if text not in ("", "0", "1", "2"):
        raise InvalidParameter("translit must be 0, 1 or 2")
    return int(text or 0)

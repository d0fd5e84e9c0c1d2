"""A send.php request (smsc-api.md §3) as a NewSend: every parameter checked, nothing queued."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from tidings.domain import phones as phone_rules
from tidings.domain.accounts import Account
from tidings.domain.jobs import MAX_JOB_ID, MessageFormat
from tidings.domain.message_rules import (
    MAX_MES,
    MAX_RECIPIENTS,
    Fields,
    check_recipient_count,
    check_text,
    list_recipients,
    message_format,
    refuse_messenger_recipients,
    sender_name,
    subject,
    template_ref,
    translit,
)
from tidings.domain.numbers import parse_uint
from tidings.domain.schedule import (
    parse_freq,
    parse_period,
    parse_time,
    parse_tz,
    parse_valid,
    validate_spread,
)
from tidings.domain.sends import NewSend
from tidings.errors import InvalidNumber, InvalidParameter

# [choice] a client id: an integer 1…2147483647 or up to 40 of [A-Za-z0-9._-] (UUIDs too).
SEND_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


def client_id(value: str | None) -> str | None:
    """The client's own id of a send (`id`), None when it gives none. `id=0` is "none" too:
    the official PHP and Python libraries send it with every message when the caller gives
    no id, and taking it as an id would give all their messages the same one."""
    text = (value or "").strip()
    if not text or _is_zero(text):
        return None
    if not SEND_ID.match(text):
        raise InvalidParameter("id: up to 40 characters A-Z a-z 0-9 . _ -")
    return text


def echoed_id(value: str | None) -> str | None:
    """The id an error of send.php echoes: the client's own, when it gave a usable one."""
    try:
        return client_id(value)
    except InvalidParameter:
        return None


def _is_zero(text: str) -> bool:
    return not text.strip("0")  # "0", "00"…: no int() of a possibly huge value


def new_send(
    values: Mapping[str, str],
    account: Account,
    now: datetime,
    reference: str | None,
    *,
    max_recipients: int = MAX_RECIPIENTS,
) -> NewSend:
    """The send.php parameters as a NewSend; raises the first rule they break."""
    p = Fields(values)
    fmt = message_format(p)
    mail = fmt is MessageFormat.MAIL
    zone = parse_tz(p.get("tz"), ZoneInfo(account.timezone))
    first = parse_time(p.get("time"), zone, now)
    period, freq = parse_period(p.get("period")), parse_freq(p.get("freq"))
    validate_spread(period, freq)
    template_id = template_ref(p, MAX_JOB_ID)
    addresses, texts, groups, rejected = _recipients(p, account.region, mail)
    check_recipient_count(len(addresses), max_recipients, "list" if texts else "phones")
    message = p.text("mes")
    if texts is None and template_id is None:
        if not message.strip() and fmt is not MessageFormat.PING:
            raise InvalidParameter("%(field)s: required", field="mes")
        check_text(message, fmt, "mes")
    subj = subject(p.get("subj"), mail, "an e-mail")
    return NewSend(
        addresses=addresses,
        texts=texts,
        groups=groups,
        message=message,
        fmt=fmt,
        due=first.at,
        window=first.window,
        template_id=template_id,
        client_id=reference,
        sender=sender_name(p.get("sender"), mail, "sender"),
        translit=translit(p.get("translit")),
        subject=subj,
        period=period,
        freq=freq,
        validity_min=parse_valid(p.get("valid")),
        maxsms=_maxsms(p.get("maxsms")),
        rejected=rejected,
    )


def _recipients(
    p: Fields, region: str, mail: bool
) -> tuple[list[str], list[str] | None, list[int], list[str]]:
    listing = p.text("list")
    if listing.strip():
        if p.text("mes").strip():
            raise InvalidParameter("mes: cannot be combined with list")
        _given, addresses, texts, _groups = list_recipients(listing, mail, region)
        return addresses, texts, [], []
    raw = p.text("phones")
    if not raw.strip():
        raise InvalidParameter("%(field)s: required", field="phones")
    parsed = phone_rules.parse_recipients(raw, mail=mail, default_region=region)
    refuse_messenger_recipients(parsed.rejected, "phones")
    if not parsed.recipients and not parsed.groups:
        raise InvalidNumber("invalid number")
    return parsed.recipients, None, parsed.groups, parsed.rejected


def _maxsms(value: str | None) -> int:
    text = (value or "").strip()
    if not text:
        return 0
    number = parse_uint(text, MAX_MES)
    if number is None:
        raise InvalidParameter("maxsms: a number of parts")
    return number

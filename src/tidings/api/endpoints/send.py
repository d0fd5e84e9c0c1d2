"""/sys/send.php — single and bulk one-off messages (smsc-api.md §3)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from tidings.api.context import Call
from tidings.api.endpoints.common import (
    MAX_MES,
    check_text,
    list_recipients,
    message_format,
    parse_uint,
    sender,
    translit,
)
from tidings.api.formats import Record
from tidings.domain import phones as phone_rules
from tidings.domain.jobs import MessageFormat
from tidings.domain.money import format_money
from tidings.domain.schedule import (
    parse_freq,
    parse_period,
    parse_time,
    parse_tz,
    parse_valid,
    validate_spread,
)
from tidings.domain.sends import NewSend, Quote, SendService
from tidings.errors import DomainError, InvalidNumber, InvalidParameter

# [choice] a client id: an integer 1…2147483647 or up to 40 of [A-Za-z0-9._-] (UUIDs too).
SEND_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


def handle_send(call: Call) -> str:
    reference = _client_id(call.params.get("id"))
    try:
        return _send(call, reference)
    except DomainError as error:
        error.reference = reference
        raise


def _send(call: Call, reference: str | None) -> str:
    cost_mode = _cost_mode(call.params.get("cost"))
    send = parse_send(call, reference)
    service: SendService = call.services.sends
    if cost_mode == 1:
        quote = service.quote(call.account, send)
        return _answer_cost(call, quote)
    sent = service.send(call.account, send, call.now)
    record: Record = [("id", _id_value(sent.send_id)), ("cnt", sent.parts)]
    text = f"OK - {sent.parts} SMS, ID - {sent.send_id}"
    if cost_mode >= 2:
        record.append(("cost", format_money(sent.cost)))
        text += f", COST - {format_money(sent.cost)}"
    if cost_mode == 3:
        record.append(("balance", format_money(sent.balance)))
        text += f", BALANCE - {format_money(sent.balance)}"
    return call.renderer.result(record if call.fmt != 2 else _xml_order(record), text)


def _answer_cost(call: Call, quote: Quote) -> str:
    cost = format_money(quote.cost)
    record: Record = [("cost", cost), ("cnt", quote.parts)]
    return call.renderer.result(record, f"{cost} ({quote.parts} SMS)")


def _xml_order(record: Record) -> Record:
    """[choice] fmt 2 lists cnt before id (smsc-api.md §3.4)."""
    first = [pair for pair in record if pair[0] == "cnt"]
    return first + [pair for pair in record if pair[0] != "cnt"]


def _id_value(send_id: str) -> str | int:
    return int(send_id) if send_id.isdigit() else send_id


def _cost_mode(value: str | None) -> int:
    text = (value or "").strip()
    if text not in ("", "0", "1", "2", "3"):
        raise InvalidParameter("cost must be 0, 1, 2 or 3")
    return int(text or 0)


def _client_id(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not SEND_ID.match(text):
        raise InvalidParameter("id: up to 40 characters A-Z a-z 0-9 . _ -")
    return text


def parse_send(call: Call, reference: str | None) -> NewSend:
    p = call.params
    fmt = message_format(p)
    mail = fmt is MessageFormat.MAIL
    zone = parse_tz(p.get("tz"), ZoneInfo(call.account.timezone))
    first = parse_time(p.get("time"), zone, call.now)
    period, freq = parse_period(p.get("period")), parse_freq(p.get("freq"))
    validate_spread(period, freq)
    addresses, texts, groups, rejected = _recipients(call, mail)
    message = p.text("mes")
    if texts is None:
        if not message.strip() and fmt is not MessageFormat.PING:
            raise InvalidParameter("mes: required")
        check_text(message, fmt, "mes")
    subject = p.text("subj").strip()
    if mail and not subject:
        raise InvalidParameter("subj: required for an e-mail")
    return NewSend(
        addresses=addresses,
        texts=texts,
        groups=groups,
        message=message,
        fmt=fmt,
        due=first.at,
        client_id=reference,
        sender=sender(p.get("sender"), mail, "sender"),
        translit=translit(p.get("translit")),
        subject=subject[:255],
        period=period,
        freq=freq,
        validity_min=parse_valid(p.get("valid")),
        maxsms=_maxsms(p.get("maxsms")),
        rejected=rejected,
    )


def _recipients(call: Call, mail: bool) -> tuple[list[str], list[str] | None, list[int], list[str]]:
    p = call.params
    region = call.account.region
    listing = p.text("list")
    if listing.strip():
        if p.text("mes").strip():
            raise InvalidParameter("mes: cannot be combined with list")
        _given, addresses, texts, _groups = list_recipients(listing, mail, region)
        return addresses, texts, [], []
    raw = p.text("phones")
    if not raw.strip():
        raise InvalidParameter("phones: required")
    parsed = phone_rules.parse_recipients(raw, mail=mail, default_region=region)
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

"""A submit_sm as the send.php request it amounts to.

Decisions:
* The octets come from short_message, or from message_payload when short_message is empty.
* A long message arrives as parts, named by a UDH (IE 0x00 or 0x08) or by the SAR TLVs
  (channels/smpp/mo.py reads both, as it does for inbound parts); its parts' octets are
  joined before decoding, so a character cut between two parts survives. Other UDH elements
  (ports, …) are not kept.
* data_coding: GSM-7 (0, unpacked), IA5, Latin-1 and UCS-2 are text; the 8-bit codings
  (2, 4 and the class groups' 8-bit alphabet) are send.php `bin=1` (the octets as Latin-1);
  message class 0 is `flash=1`.
* validity_period and schedule_delivery_time (absolute or relative) become send.php's
  `valid` (whole minutes, clipped to its 24 hours) and `time` (`0<unix time>`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from tidings.channels.smpp import pdu, pdu_smsc
from tidings.channels.smpp.mo import decode_text, split_udh
from tidings.channels.smpp.pdu import (
    ESM_UDHI,
    TAG_MESSAGE_PAYLOAD,
    TAG_SAR_MSG_REF_NUM,
    TAG_SAR_SEGMENT_SEQNUM,
    TAG_SAR_TOTAL_SEGMENTS,
    ShortMessage,
)
from tidings.domain.sends import REFUSED_INVALID, Sent
from tidings.doors.smpp.times import BadTime, parse_smpp_time

# send.php's `valid` is at most 24 hours.
MAX_VALID_MIN = 24 * 60


class BadValidity(BadTime):
    """validity_period is neither SMPP time form (schedule_delivery_time: BadTime)."""


@dataclass(frozen=True)
class SubmitPart:
    """One submit_sm: a whole message, or a part of a long one (`concat`)."""

    source: str
    destination: str
    octets: bytes
    data_coding: int
    # (reference, total, sequence) of a part of a long message.
    concat: tuple[int, int, int] | None
    registered_delivery: int
    validity_period: str
    schedule_delivery_time: str


def read_submit(message: ShortMessage) -> SubmitPart:
    octets = message.short_message
    if not octets:
        payload = message.tlv(TAG_MESSAGE_PAYLOAD)
        octets = payload.value if payload is not None else b""
    concat: tuple[int, int, int] | None = None
    if message.esm_class & ESM_UDHI:
        concat, octets = split_udh(octets)
    if concat is None:
        concat = _sar(message)
    return SubmitPart(
        source=message.source_addr,
        destination=message.destination_addr,
        octets=octets,
        data_coding=message.data_coding,
        concat=_plausible(concat),
        registered_delivery=message.registered_delivery & 0x03,
        validity_period=message.validity_period,
        schedule_delivery_time=message.schedule_delivery_time,
    )


def _sar(message: ShortMessage) -> tuple[int, int, int] | None:
    tags = (TAG_SAR_MSG_REF_NUM, TAG_SAR_TOTAL_SEGMENTS, TAG_SAR_SEGMENT_SEQNUM)
    found = [message.tlv(tag) for tag in tags]
    if any(tlv is None for tlv in found):
        return None
    ref, total, seq = (tlv.as_int() for tlv in found if tlv is not None)
    return ref, total, seq


def _plausible(concat: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
    """A header naming an impossible part is read as a whole message: nothing waits for
    parts that cannot come."""
    if concat is None:
        return None
    _ref, total, seq = concat
    return concat if total >= 2 and 1 <= seq <= total else None


def is_binary(data_coding: int) -> bool:
    group = data_coding & 0xF0
    if group == 0x00:
        return data_coding in (0x02, 0x04)
    if group == 0xF0:
        return bool(data_coding & 0x04)
    if group in (0x10, 0x30) or group & 0xC0 == 0x40:
        return (data_coding >> 2) & 0x03 == 1
    return False


def is_flash(data_coding: int) -> bool:
    """Message class 0 (shown at once, not stored)."""
    group = data_coding & 0xF0
    has_class = group in (0x10, 0x30, 0xF0) or group & 0xC0 == 0x40
    return has_class and data_coding & 0x03 == 0


def send_values(parts: list[SubmitPart], now: datetime) -> dict[str, str]:
    """The send.php parameters of a whole message (its parts in order)."""
    first = parts[0]
    octets = b"".join(p.octets for p in parts)
    values = {"phones": first.destination.strip(), "sender": first.source.strip()}
    if is_binary(first.data_coding):
        values["bin"] = "1"
        values["mes"] = octets.decode("latin-1")
    else:
        values["mes"] = decode_text(octets, first.data_coding)
        if is_flash(first.data_coding):
            values["flash"] = "1"
    try:
        valid_until = parse_smpp_time(first.validity_period, now)
    except BadTime as error:
        raise BadValidity(str(error)) from None
    if valid_until is not None:
        minutes = math.ceil((valid_until - now).total_seconds() / 60)
        minutes = min(max(minutes, 1), MAX_VALID_MIN)
        values["valid"] = f"{minutes // 60}:{minutes % 60:02d}"
    due = parse_smpp_time(first.schedule_delivery_time, now)  # BadTime: the schedule
    if due is not None and due > now:
        values["time"] = f"0{int(due.timestamp())}"
    return values


@dataclass(frozen=True)
class Submitted:
    message_id: str
    status: int
    # submit_multi: each destination that got no message, with its command_status.
    refused: tuple[tuple[pdu_smsc.MultiDestination, int], ...] = ()


def unsuccessful(
    sent: Sent, destinations: tuple[pdu_smsc.MultiDestination, ...]
) -> tuple[tuple[pdu_smsc.MultiDestination, int], ...]:
    """The destinations of a submit_multi that got no message: distribution lists (we keep
    none), numbers that are none, and numbers on the stop list."""
    by_address = {d.address.lstrip("+"): d for d in destinations if d.address}
    refused: dict[pdu_smsc.MultiDestination, int] = {
        d: pdu.ESME_RINVDLNAME for d in destinations if not d.address
    }
    for r in [] if sent.quote is None else sent.quote.refused:
        dest = by_address.get(r.address.lstrip("+"), pdu_smsc.MultiDestination(1, 1, r.address))
        refused[dest] = pdu.ESME_RINVDSTADR if r.error == REFUSED_INVALID else pdu.ESME_RX_P_APPN
    # In the order they were given.
    order = {d: n for n, d in enumerate(destinations)}
    return tuple(sorted(refused.items(), key=lambda item: order.get(item[0], len(order))))

"""Mobile-originated messages: a deliver_sm (or data_sm) that is not a receipt → InboundPart.

Decisions:
* The text is decoded by data_coding (GSM 03.38 §4): 0 the SMSC default alphabet, read as
  unpacked GSM-7 (what SMSCs send over SMPP, and what we send); 1 IA5 (ASCII); 3 and the 8-bit
  codings 2/4 Latin-1 (8-bit data has no alphabet: Latin-1 keeps every octet visible and
  reversible); 8 UCS-2, read as UTF-16-BE so a surrogate pair survives. The message-class
  groups (0x1X, 0xFX) name their alphabet in bits 2-3.
* The octets come from short_message, or from the message_payload TLV when short_message is
  empty (data_sm always, deliver_sm for long texts).
* A part of a long message is named by the UDH (IE 0x00, 8-bit reference, or IE 0x08,
  16-bit) or, without a UDH, by the SAR TLVs. A header naming an impossible part (total < 2,
  sequence outside 1..total) is read as a whole message, so nothing waits for parts that
  cannot come.
* The fingerprint is a digest of every field the SMSC sent that makes the message what it is
  (addresses, esm_class, data_coding, octets, SAR values): the same deliver_sm delivered again
  after a lost answer has the same one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from tidings.channels.base import InboundPart
from tidings.channels.smpp.pdu import (
    ESM_UDHI,
    TAG_MESSAGE_PAYLOAD,
    TAG_SAR_MSG_REF_NUM,
    TAG_SAR_SEGMENT_SEQNUM,
    TAG_SAR_TOTAL_SEGMENTS,
    ShortMessage,
)
from tidings.domain.sms import gsm7_decode

IE_CONCAT_8 = 0x00
IE_CONCAT_16 = 0x08


def alphabet(data_coding: int) -> str:
    """ "gsm7", "ascii", "latin1" or "ucs2" for a data_coding octet."""
    group = data_coding & 0xF0
    if group in (0x10, 0xF0) or group & 0xC0 == 0x40:
        # Message class present: bits 2-3 (0xF0 group: bit 2 only) say the alphabet.
        bits = (data_coding >> 2) & (0x01 if group == 0xF0 else 0x03)
        return {0: "gsm7", 1: "latin1", 2: "ucs2"}.get(bits, "latin1")
    low = data_coding & 0x0F if group == 0 else -1
    return {0: "gsm7", 1: "ascii", 8: "ucs2"}.get(low, "latin1")


def decode_text(octets: bytes, data_coding: int) -> str:
    kind = alphabet(data_coding)
    if kind == "gsm7":
        return gsm7_decode(octets)
    if kind == "ucs2":
        return octets.decode("utf-16-be", errors="replace")
    if kind == "ascii":
        return octets.decode("ascii", errors="replace")
    return octets.decode("latin-1")


def split_udh(octets: bytes) -> tuple[tuple[int, int, int] | None, bytes]:
    """(reference, total, sequence) from a UDH's concatenation IE, and the octets after it."""
    if not octets:
        return None, octets
    length = octets[0]
    header, body = octets[1 : 1 + length], octets[1 + length :]
    concat: tuple[int, int, int] | None = None
    offset = 0
    while offset + 2 <= len(header):
        iei, size = header[offset], header[offset + 1]
        value = header[offset + 2 : offset + 2 + size]
        if iei == IE_CONCAT_8 and size == 3 and len(value) == 3:
            concat = (value[0], value[1], value[2])
        elif iei == IE_CONCAT_16 and size == 4 and len(value) == 4:
            concat = (int.from_bytes(value[:2], "big"), value[2], value[3])
        offset += 2 + size
    return concat, body


def _sar(message: ShortMessage) -> tuple[int, int, int] | None:
    ref = message.tlv(TAG_SAR_MSG_REF_NUM)
    total = message.tlv(TAG_SAR_TOTAL_SEGMENTS)
    seq = message.tlv(TAG_SAR_SEGMENT_SEQNUM)
    if ref is None or total is None or seq is None:
        return None
    return ref.as_int(), total.as_int(), seq.as_int()


def _plausible(concat: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
    if concat is None:
        return None
    _ref, total, seq = concat
    return concat if total >= 2 and 1 <= seq <= total else None


def fingerprint(message: ShortMessage, octets: bytes) -> str:
    digest = hashlib.sha256()
    for value in (message.source_addr, message.destination_addr):
        digest.update(value.encode("latin-1") + b"\x00")
    digest.update(bytes((message.esm_class & 0xFF, message.data_coding & 0xFF)))
    sar = _sar(message)
    if sar is not None:
        digest.update(b"sar%d:%d:%d" % sar)
    digest.update(octets)
    return digest.hexdigest()[:40]


def inbound_part(message: ShortMessage, upstream: str, now: datetime | None = None) -> InboundPart:
    """The inbound message (or part) a non-receipt deliver_sm / data_sm carries."""
    octets = message.short_message
    if not octets:
        payload = message.tlv(TAG_MESSAGE_PAYLOAD)
        octets = payload.value if payload is not None else b""
    concat: tuple[int, int, int] | None = None
    body = octets
    if message.esm_class & ESM_UDHI:
        concat, body = split_udh(octets)
    if concat is None:
        concat = _sar(message)
    return InboundPart(
        upstream=upstream,
        source=message.source_addr,
        destination=message.destination_addr,
        text=decode_text(body, message.data_coding),
        fingerprint=fingerprint(message, octets),
        concat=_plausible(concat),
        sent_at=now or datetime.now(UTC),
    )

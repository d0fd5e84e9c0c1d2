"""OutboundMessage → the submit_sm PDUs that carry it (one per SMS part).

Text rules (alphabet choice, where to cut long texts) come from tidings.domain.sms, so the parts
sent are exactly the parts the customer was billed for.

Decisions:
* GSM-7 is sent unpacked, one septet per octet, data_coding 0 (the SMSC default alphabet);
  anything else is UTF-16-BE with data_coding 8. Flash (fmt 1) sets message class 0:
  data_coding 0x10 / 0x18.
* bin=1 (fmt 4) sends the text's Latin-1 octets, bin=2 (fmt 5) the octets of the hex text,
  both with data_coding 4 (8-bit data).
* ping (fmt 6) is a "silent" SMS: protocol_id 0x40 (GSM 03.40 short message type 0), empty text,
  data_coding 0. A handset acknowledges a type 0 message without showing or storing it, so the
  delivery receipt tells whether the number is live. (data_coding 0xC0 is a message-waiting
  indication group, not a silent SMS, so it is not used.)
* Long messages: either a UDH (esm_class 0x40, `05 00 03 ref total seq` before the payload) or
  the SAR TLVs, per upstream. The reference is derived from the message id, so a resubmitted
  message reuses its reference and the handset can still join parts of one attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from tidings.channels.base import OutboundMessage
from tidings.channels.smpp.pdu import (
    ESM_UDHI,
    TAG_SAR_MSG_REF_NUM,
    TAG_SAR_SEGMENT_SEQNUM,
    TAG_SAR_TOTAL_SEGMENTS,
    ShortMessage,
    Tlv,
    tlv_u8,
    tlv_u16,
)
from tidings.config import LongMode
from tidings.domain.jobs import MessageFormat
from tidings.domain.sms import Encoding, detect_encoding, gsm7_encode, split_parts, ucs2_encode

DC_DEFAULT = 0x00
DC_BINARY = 0x04
DC_UCS2 = 0x08
DC_FLASH_FLAG = 0x10  # "message class present, class 0" (GSM 03.38 coding group 00x1)
PID_SILENT = 0x40
TON_UNKNOWN, TON_INTERNATIONAL, TON_ALPHANUMERIC = 0, 1, 5
NPI_UNKNOWN, NPI_ISDN = 0, 1
# Binary parts: a whole SMS carries 140 octets, a concatenated part 134 (6 go to the UDH).
# Same figures as tidings.domain.sms.binary_segment_count, which bills them.
BINARY_SINGLE, BINARY_MULTI = 140, 134
# The relative validity format has two digits of days; longer lifetimes are clipped.
MAX_VALIDITY_MIN = 99 * 1440 + 23 * 60 + 59


class EncodingError(ValueError):
    """The message cannot be expressed as SMPP submits (e.g. bad hex, an e-mail)."""


@dataclass(frozen=True)
class EncodingOptions:
    """Per-upstream choices. source_ton/npi override only numeric senders: an alphanumeric
    sender is always TON 5 / NPI 0, the only combination that means "letters"."""

    long_mode: LongMode = "udh"
    source_ton: int | None = None
    source_npi: int | None = None
    dest_ton: int = TON_INTERNATIONAL
    dest_npi: int = NPI_ISDN
    service_type: str = ""


@dataclass(frozen=True)
class _Payload:
    data_coding: int
    parts: tuple[bytes, ...]
    protocol_id: int = 0


def encode_message(message: OutboundMessage, options: EncodingOptions) -> list[ShortMessage]:
    payload = _payload(message)
    src_ton, src_npi, source = source_address(message.sender, options)
    template = ShortMessage(
        source_addr=source,
        destination_addr=message.address.lstrip("+"),
        service_type=options.service_type,
        source_addr_ton=src_ton,
        source_addr_npi=src_npi,
        dest_addr_ton=options.dest_ton,
        dest_addr_npi=options.dest_npi,
        protocol_id=payload.protocol_id,
        validity_period=relative_validity(message.validity_min),
        registered_delivery=1 if message.registered_delivery else 0,
        data_coding=payload.data_coding,
    )
    total = len(payload.parts)
    if total == 1:
        return [replace(template, short_message=payload.parts[0])]
    if options.long_mode == "sar":
        ref = message.message_id & 0xFFFF
        return [_sar_part(template, part, ref, total, i) for i, part in enumerate(payload.parts, 1)]
    ref = message.message_id & 0xFF
    return [_udh_part(template, part, ref, total, i) for i, part in enumerate(payload.parts, 1)]


def concat_udh(ref: int, total: int, seq: int) -> bytes:
    """UDH with one IE 0x00 (concatenated SMS, 8-bit reference)."""
    return bytes((0x05, 0x00, 0x03, ref, total, seq))


def _udh_part(template: ShortMessage, part: bytes, ref: int, total: int, seq: int) -> ShortMessage:
    octets = concat_udh(ref, total, seq) + part
    return replace(template, short_message=octets, esm_class=template.esm_class | ESM_UDHI)


def sar_tlvs(ref: int, total: int, seq: int) -> tuple[Tlv, ...]:
    return (
        tlv_u16(TAG_SAR_MSG_REF_NUM, ref),
        tlv_u8(TAG_SAR_TOTAL_SEGMENTS, total),
        tlv_u8(TAG_SAR_SEGMENT_SEQNUM, seq),
    )


def _sar_part(template: ShortMessage, part: bytes, ref: int, total: int, seq: int) -> ShortMessage:
    return replace(template, short_message=part, tlvs=template.tlvs + sar_tlvs(ref, total, seq))


def _payload(message: OutboundMessage) -> _Payload:
    fmt = message.fmt
    if fmt == MessageFormat.PING:
        return _Payload(DC_DEFAULT, (b"",), PID_SILENT)
    if fmt == MessageFormat.BIN:
        return _Payload(DC_BINARY, binary_parts(message.text.encode("latin-1", errors="replace")))
    if fmt == MessageFormat.BIN_HEX:
        return _Payload(DC_BINARY, binary_parts(_from_hex(message.text)))
    if fmt in (MessageFormat.SMS, MessageFormat.FLASH):
        return _text_payload(message.text, flash=fmt == MessageFormat.FLASH)
    raise EncodingError(f"format {fmt} is not an SMS format")


@lru_cache(maxsize=256)
def _text_payload(text: str, *, flash: bool) -> _Payload:
    """Cached: every recipient of a list gets the same text, split and encoded once."""
    parts = split_parts(text)
    if detect_encoding(text) is Encoding.GSM7:
        coding, octets = DC_DEFAULT, tuple(gsm7_encode(p) for p in parts)
    else:
        coding, octets = DC_UCS2, tuple(ucs2_encode(p) for p in parts)
    return _Payload(coding | DC_FLASH_FLAG if flash else coding, octets)


def _from_hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise EncodingError("bin=2 text is not hex") from exc


def binary_parts(payload: bytes) -> tuple[bytes, ...]:
    if len(payload) <= BINARY_SINGLE:
        return (payload,)
    return tuple(payload[i : i + BINARY_MULTI] for i in range(0, len(payload), BINARY_MULTI))


def source_address(sender: str, options: EncodingOptions) -> tuple[int, int, str]:
    """(TON, NPI, address) for the sender: empty → the SMSC's default sender."""
    if not sender:
        return TON_UNKNOWN, NPI_UNKNOWN, ""
    digits = sender.removeprefix("+")
    if digits.isdigit() and digits.isascii():
        ton = TON_INTERNATIONAL if options.source_ton is None else options.source_ton
        npi = NPI_ISDN if options.source_npi is None else options.source_npi
        return ton, npi, digits
    return TON_ALPHANUMERIC, NPI_UNKNOWN, sender


def relative_validity(minutes: int) -> str:
    """SMPP relative time `YYMMDDhhmmss000R`; 0 minutes → "" (the SMSC's default)."""
    if minutes <= 0:
        return ""
    minutes = min(minutes, MAX_VALIDITY_MIN)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    return f"0000{days:02d}{hours:02d}{mins:02d}00000R"

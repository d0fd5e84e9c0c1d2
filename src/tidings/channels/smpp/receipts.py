"""Delivery receipts: a deliver_sm with the receipt bit → id, final status, error, dates.

Two sources carry the same facts: the de-facto text format of SMPP 3.4 Appendix B
(`id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…`) and the TLVs
receipted_message_id (0x001E), message_state (0x0427) and network_error_code (0x0423).
Where both are present the TLVs win: they are typed, while the text format is only a convention
and SMSCs vary in how they fill it.

Message ids. SMSCs disagree with themselves: many answer submit_sm_resp with a hex id and put the
same id in decimal into the receipt text ("1a" vs "26"). Which form each place uses is a property
of the upstream, so it is configured (`IdFormat`), as Kannel's `msg-id-type` does, and every id is
reduced to one canonical form by `normalise_id`:
* "hex" / "dec": the id is a number in that base; canonical = its decimal value without leading
  zeros ("1A", "001a" hex and "26" dec all become "26");
* "str" (the default): an opaque token; canonical = the id with surrounding blanks removed.
An id that does not parse in its declared base falls back to the "str" rule, so a wrong setting
degrades to exact matching instead of failing. receipted_message_id is by definition the id that
submit_sm_resp returned, so it is read with the submit_sm_resp format; only the text id uses
the receipt format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from tidings.channels.smpp.pdu import (
    TAG_MESSAGE_PAYLOAD,
    TAG_MESSAGE_STATE,
    TAG_NETWORK_ERROR_CODE,
    TAG_RECEIPTED_MESSAGE_ID,
    ShortMessage,
)
from tidings.config import IdFormat
from tidings.domain.lifecycle import MessageStatus

# esm_class bits 2-5 carry the message type (SMPP 3.4 §5.2.12).
ESM_TYPE_MASK = 0x3C
ESM_DELIVERY_RECEIPT = 0x04
ESM_INTERMEDIATE_NOTIFICATION = 0x20

# stat → final status; ENROUTE/ACCEPTD (and anything unrecognised) are not final: the message
# keeps its "handed over" status rather than being given a wrong end.
STAT_STATUS: dict[str, MessageStatus] = {
    "DELIVRD": MessageStatus.DELIVERED,
    "DELIVERED": MessageStatus.DELIVERED,
    "EXPIRED": MessageStatus.EXPIRED,
    "UNDELIV": MessageStatus.UNDELIVERABLE,
    "UNDELIVERABLE": MessageStatus.UNDELIVERABLE,
    "REJECTD": MessageStatus.PROHIBITED,
    "REJECTED": MessageStatus.PROHIBITED,
    "DELETED": MessageStatus.UNDELIVERABLE,
    "UNKNOWN": MessageStatus.UNDELIVERABLE,
}
# message_state TLV values (SMPP 3.4 §5.2.28) and their receipt-text names.
MESSAGE_STATE_STAT: dict[int, str] = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}

_FIELD = re.compile(r"(?i)(?<![\w])(id|sub|dlvrd|submit date|done date|stat|err|text)\s*:")
_DATE = re.compile(r"^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$")


class ReceiptError(ValueError):
    """A deliver_sm marked as a receipt that names no message id."""


@dataclass(frozen=True)
class DeliveryReceipt:
    message_id: str
    # Where the id came from: the TLV uses the submit_sm_resp form, the text its own.
    id_from_tlv: bool
    stat: str
    # None: not a final state (ENROUTE, ACCEPTD, unknown words).
    status: MessageStatus | None
    err: int
    submitted_at: datetime | None
    done_at: datetime | None
    text: str


def normalise_id(raw: str, fmt: IdFormat = "str") -> str:
    """The canonical form of an SMSC message id (rule in the module docstring)."""
    token = raw.strip()
    if fmt == "str" or not token:
        return token
    try:
        return str(int(token, 16 if fmt == "hex" else 10))
    except ValueError:
        return token


def is_receipt(message: ShortMessage) -> bool:
    kind = message.esm_class & ESM_TYPE_MASK
    return kind in (ESM_DELIVERY_RECEIPT, ESM_INTERMEDIATE_NOTIFICATION)


def parse_receipt_text(text: str) -> dict[str, str]:
    """Split receipt text into its fields, keys lower-cased; `text:` takes the rest."""
    fields: dict[str, str] = {}
    matches = list(_FIELD.finditer(text))
    for i, match in enumerate(matches):
        key = match.group(1).lower()
        if key == "text":
            fields[key] = text[match.end() :].strip()
            break
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        fields.setdefault(key, text[match.end() : end].strip())
    return fields


def parse_date(value: str, tz: tzinfo = UTC) -> datetime | None:
    """`YYMMDDhhmm[ss]` in the SMSC's zone → aware UTC; None if absent or malformed."""
    match = _DATE.match(value.strip())
    if match is None:
        return None
    yy, mo, dd, hh, mi, ss = (int(g) if g else 0 for g in match.groups())
    try:
        return datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=tz).astimezone(UTC)
    except ValueError:
        return None


def _error_code(message: ShortMessage, text_err: str) -> int:
    tlv = message.tlv(TAG_NETWORK_ERROR_CODE)
    if tlv is not None and len(tlv.value) == 3:
        # network type (1 octet) + error code (2 octets): the code is what operators quote.
        return int.from_bytes(tlv.value[1:], "big")
    token = text_err.strip()
    if token.isdigit():
        return int(token)
    try:
        return int(token, 16)
    except ValueError:
        return 0


def _receipt_text(message: ShortMessage) -> str:
    raw = message.short_message
    if not raw:
        payload = message.tlv(TAG_MESSAGE_PAYLOAD)
        raw = payload.value if payload is not None else b""
    # Receipt text is ASCII in practice; latin-1 never fails on a stray octet.
    return raw.decode("latin-1")


def _message_id(message: ShortMessage, fields: dict[str, str]) -> tuple[str, bool]:
    tlv = message.tlv(TAG_RECEIPTED_MESSAGE_ID)
    if tlv is not None and tlv.as_cstring().strip():
        return tlv.as_cstring().strip(), True
    text_id = fields.get("id", "").split()
    if text_id:
        return text_id[0], False
    raise ReceiptError("delivery receipt without a message id")


def _stat(message: ShortMessage, fields: dict[str, str]) -> str:
    tlv = message.tlv(TAG_MESSAGE_STATE)
    if tlv is not None and tlv.as_int() in MESSAGE_STATE_STAT:
        return MESSAGE_STATE_STAT[tlv.as_int()]
    words = fields.get("stat", "").split()
    return words[0].upper() if words else ""


def parse_receipt(message: ShortMessage, tz: tzinfo = UTC) -> DeliveryReceipt | None:
    """The receipt carried by a deliver_sm, or None if it is a mobile-originated message."""
    if not is_receipt(message):
        return None
    text = _receipt_text(message)
    fields = parse_receipt_text(text)
    message_id, from_tlv = _message_id(message, fields)
    stat = _stat(message, fields)
    return DeliveryReceipt(
        message_id=message_id,
        id_from_tlv=from_tlv,
        stat=stat,
        status=STAT_STATUS.get(stat),
        err=_error_code(message, fields.get("err", "")),
        submitted_at=parse_date(fields.get("submit date", ""), tz),
        done_at=parse_date(fields.get("done date", ""), tz),
        text=fields.get("text", ""),
    )

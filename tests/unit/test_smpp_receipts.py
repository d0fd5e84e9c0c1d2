"""Delivery receipt parsing: text and TLV forms, id canonicalisation, status mapping."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tidings.channels.smpp import pdu as P
from tidings.channels.smpp.receipts import (
    ReceiptError,
    normalise_id,
    parse_date,
    parse_receipt,
    parse_receipt_text,
)
from tidings.domain.lifecycle import MessageStatus

TEXT = (
    "id:1a2b sub:001 dlvrd:001 submit date:2601151200 done date:2601151205 "
    "stat:DELIVRD err:000 text:Hello id:zz stat:UNDELIV"
)


def deliver(text: str = TEXT, *tlvs: P.Tlv, esm_class: int = 0x04) -> P.ShortMessage:
    message = P.ShortMessage("79161234567", "Shop", text.encode(), esm_class=esm_class, tlvs=tlvs)
    # Through the codec, as the session sees it.
    return P.ShortMessage.decode_body(message.encode_body())


def test_text_receipt() -> None:
    receipt = parse_receipt(deliver())
    assert receipt is not None
    assert (receipt.message_id, receipt.id_from_tlv) == ("1a2b", False)
    assert (receipt.stat, receipt.status, receipt.err) == ("DELIVRD", MessageStatus.DELIVERED, 0)
    assert receipt.submitted_at == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert receipt.done_at == datetime(2026, 1, 15, 12, 5, tzinfo=UTC)
    # Everything after text: is the text, even words that look like fields.
    assert receipt.text == "Hello id:zz stat:UNDELIV"


def test_text_fields_are_case_insensitive_and_may_have_seconds() -> None:
    fields = parse_receipt_text("ID:77 Sub:1 DLVRD:1 Submit Date:260115120030 Stat:EXPIRED Text:")
    assert fields == {
        "id": "77",
        "sub": "1",
        "dlvrd": "1",
        "submit date": "260115120030",
        "stat": "EXPIRED",
        "text": "",
    }
    assert parse_date(fields["submit date"]) == datetime(2026, 1, 15, 12, 0, 30, tzinfo=UTC)


def test_tlvs_win_over_the_text() -> None:
    receipt = parse_receipt(
        deliver(
            TEXT,
            P.tlv_cstring(P.TAG_RECEIPTED_MESSAGE_ID, "6699"),
            P.tlv_u8(P.TAG_MESSAGE_STATE, 5),
            P.Tlv(P.TAG_NETWORK_ERROR_CODE, bytes((0x03, 0x00, 0x1B))),
        )
    )
    assert receipt is not None
    assert (receipt.message_id, receipt.id_from_tlv) == ("6699", True)
    assert (receipt.stat, receipt.status, receipt.err) == (
        "UNDELIV",
        MessageStatus.UNDELIVERABLE,
        27,
    )


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        ("DELIVRD", MessageStatus.DELIVERED),
        ("EXPIRED", MessageStatus.EXPIRED),
        ("UNDELIV", MessageStatus.UNDELIVERABLE),
        ("REJECTD", MessageStatus.PROHIBITED),
        ("DELETED", MessageStatus.UNDELIVERABLE),
        ("UNKNOWN", MessageStatus.UNDELIVERABLE),
        ("ACCEPTD", None),
        ("ENROUTE", None),
        ("SOMETHING", None),
    ],
)
def test_stat_mapping(stat: str, status: MessageStatus | None) -> None:
    receipt = parse_receipt(deliver(f"id:1 stat:{stat} err:000 text:"))
    assert receipt is not None and receipt.status == status


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (2, MessageStatus.DELIVERED),
        (3, MessageStatus.EXPIRED),
        (4, MessageStatus.UNDELIVERABLE),
        (5, MessageStatus.UNDELIVERABLE),
        (6, None),
        (7, MessageStatus.UNDELIVERABLE),
        (8, MessageStatus.PROHIBITED),
    ],
)
def test_message_state_tlv_mapping(state: int, status: MessageStatus | None) -> None:
    tlv = P.tlv_u8(P.TAG_MESSAGE_STATE, state)
    receipt = parse_receipt(deliver("id:1 stat:DELIVRD err:000 text:", tlv))
    assert receipt is not None and receipt.status == status


def test_error_code_from_the_text() -> None:
    for err, expected in (("000", 0), ("034", 34), ("0A1", 0xA1), ("x", 0)):
        receipt = parse_receipt(deliver(f"id:1 stat:UNDELIV err:{err} text:"))
        assert receipt is not None and receipt.err == expected


def test_mobile_originated_message_is_not_a_receipt() -> None:
    assert parse_receipt(deliver("id:1 stat:DELIVRD", esm_class=0x00)) is None


def test_intermediate_notification_is_parsed_but_not_final() -> None:
    receipt = parse_receipt(deliver("id:9 stat:ENROUTE err:0 text:", esm_class=0x20))
    assert receipt is not None and receipt.status is None


def test_receipt_without_id_is_an_error() -> None:
    with pytest.raises(ReceiptError):
        parse_receipt(deliver("sub:001 stat:DELIVRD"))


def test_receipt_text_in_message_payload() -> None:
    message = P.ShortMessage(
        "7916", "Shop", b"", esm_class=4, tlvs=(P.Tlv(P.TAG_MESSAGE_PAYLOAD, TEXT.encode()),)
    )
    receipt = parse_receipt(message)
    assert receipt is not None and receipt.message_id == "1a2b"


def test_dates_in_the_smsc_zone() -> None:
    receipt = parse_receipt(deliver(), ZoneInfo("Europe/Moscow"))
    assert receipt is not None
    assert receipt.done_at == datetime(2026, 1, 15, 9, 5, tzinfo=UTC)
    assert parse_date("2613451200") is None
    assert parse_date("") is None


@pytest.mark.parametrize(
    ("raw", "fmt", "canonical"),
    [
        ("1a", "hex", "26"),
        ("001A", "hex", "26"),
        ("26", "dec", "26"),
        ("0026", "dec", "26"),
        ("ffffffffffffffff", "hex", str(2**64 - 1)),
        (" 1a ", "str", "1a"),
        ("1A", "str", "1A"),
        ("3f2c-77", "hex", "3f2c-77"),  # not hex after all: kept as an opaque token
        ("abc", "dec", "abc"),
        ("", "hex", ""),
    ],
)
def test_normalise_id(raw: str, fmt: str, canonical: str) -> None:
    assert normalise_id(raw, fmt) == canonical  # type: ignore[arg-type]


def test_hex_submit_id_matches_decimal_receipt_id() -> None:
    submit_id = normalise_id("1a", "hex")
    receipt = parse_receipt(deliver("id:26 stat:DELIVRD err:000 text:"))
    assert receipt is not None
    assert normalise_id(receipt.message_id, "dec") == submit_id

"""Inbound (MO) deliver_sm decoding: alphabets, UDH and SAR parts, fingerprints — exact octets."""

from __future__ import annotations

import pytest

from tidings.channels.smpp import pdu as P
from tidings.channels.smpp.mo import alphabet, decode_text, inbound_part, split_udh
from tidings.domain.sms import gsm7_decode, gsm7_encode


def mo(octets: bytes, **kw: object) -> P.ShortMessage:
    return P.ShortMessage("79161234567", "79001112233", octets, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("coding", "expected"),
    [(0x00, "gsm7"), (0x01, "ascii"), (0x03, "latin1"), (0x04, "latin1"), (0x08, "ucs2"),
     (0x18, "ucs2"), (0x10, "gsm7"), (0x14, "latin1"), (0xF0, "gsm7"), (0xF4, "latin1")],
)  # fmt: skip
def test_alphabet_by_data_coding(coding: int, expected: str) -> None:
    assert alphabet(coding) == expected


def test_gsm7_round_trip_with_the_extension_table() -> None:
    text = "Price: 5€ {ok} [x] ~ ^ | \\ @£$"
    assert gsm7_decode(gsm7_encode(text)) == text
    assert gsm7_decode(bytes((0x1B, 0x7F, 0x41))) == "?A"  # unknown escape: kept, not refused


def test_ucs2_keeps_surrogate_pairs() -> None:
    assert decode_text("стоп 👍".encode("utf-16-be"), 8) == "стоп 👍"


def test_udh_8_and_16_bit_references() -> None:
    assert split_udh(bytes((5, 0, 3, 7, 3, 2)) + b"ab") == ((7, 3, 2), b"ab")
    assert split_udh(bytes((6, 8, 4, 1, 2, 3, 1)) + b"x") == ((258, 3, 1), b"x")
    # another IE first (application port addressing), then the concatenation IE
    header = bytes((5, 4, 0x0B, 0x84, 0x23, 0xF0, 0, 3, 1, 2, 1))
    assert split_udh(bytes((len(header),)) + header + b"z") == ((1, 2, 1), b"z")


def test_udh_part_is_decoded_after_its_header() -> None:
    part = inbound_part(
        mo(
            bytes((5, 0, 3, 0x11, 3, 1)) + "Прив".encode("utf-16-be"), esm_class=0x40, data_coding=8
        ),
        "up",
    )
    assert (part.text, part.concat) == ("Прив", (0x11, 3, 1))


def test_sar_part_and_message_payload() -> None:
    message = mo(
        b"",
        data_coding=0,
        tlvs=(
            P.Tlv(P.TAG_MESSAGE_PAYLOAD, gsm7_encode("long text")),
            P.tlv_u16(P.TAG_SAR_MSG_REF_NUM, 513),
            P.tlv_u8(P.TAG_SAR_TOTAL_SEGMENTS, 2),
            P.tlv_u8(P.TAG_SAR_SEGMENT_SEQNUM, 2),
        ),
    )
    part = inbound_part(message, "up")
    assert (part.text, part.concat) == ("long text", (513, 2, 2))


def test_an_impossible_part_header_is_a_whole_message() -> None:
    part = inbound_part(mo(bytes((5, 0, 3, 1, 1, 1)) + b"hi", esm_class=0x40), "up")
    assert part.concat is None and part.text == "hi"
    part = inbound_part(mo(bytes((5, 0, 3, 1, 2, 3)) + b"hi", esm_class=0x40), "up")
    assert part.concat is None


def test_the_same_deliver_sm_has_the_same_fingerprint_and_another_does_not() -> None:
    a = inbound_part(mo(b"STOP"), "up")
    assert inbound_part(mo(b"STOP"), "up").fingerprint == a.fingerprint
    assert inbound_part(mo(b"STOP", data_coding=3), "up").fingerprint != a.fingerprint
    other = P.ShortMessage("79161234568", "79001112233", b"STOP")
    assert inbound_part(other, "up").fingerprint != a.fingerprint


def test_data_sm_body_decodes() -> None:
    body = (
        b"\x00" + bytes((1, 1)) + b"79161234567\x00" + bytes((0, 0)) + b"Shop\x00"
        + bytes((0, 0, 8)) + P.Tlv(P.TAG_MESSAGE_PAYLOAD, "да".encode("utf-16-be")).encode()
    )  # fmt: skip
    message = P.decode_data_sm(body)
    assert (message.source_addr, message.destination_addr, message.data_coding) == (
        "79161234567", "Shop", 8,
    )  # fmt: skip
    assert inbound_part(message, "up").text == "да"
    with pytest.raises(P.PduError):
        P.decode_data_sm(b"\x00\x01")

"""OutboundMessage → submit_sm fields: alphabets, flash, binary, ping, long messages (UDH and
SAR), validity and addresses, checked on exact octets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.channels.base import OutboundMessage
from tidings.channels.smpp import pdu as P
from tidings.channels.smpp.encoding import (
    EncodingError,
    EncodingOptions,
    encode_message,
    relative_validity,
)
from tidings.domain.jobs import MessageFormat
from tidings.domain.sms import binary_segment_count, segment_count

UDH = EncodingOptions()
SAR = EncodingOptions(long_mode="sar")
CYRILLIC_200 = ("Съешь же ещё этих мягких французских булок, да выпей чаю. " * 4)[:200]


def msg(
    text: str, fmt: int = MessageFormat.SMS, *, message_id: int = 0x1234, **kw: object
) -> OutboundMessage:
    return OutboundMessage(message_id, "79161234567", text, "Shop", int(fmt), **kw)  # type: ignore[arg-type]


def test_gsm7_is_unpacked_septets_with_escapes() -> None:
    (part,) = encode_message(msg("Hi {€} @"), UDH)
    assert part.data_coding == 0
    assert part.short_message == b"Hi \x1b\x28\x1b\x65\x1b\x29 \x00"
    assert part.esm_class == 0 and part.tlvs == ()


def test_cyrillic_is_ucs2_big_endian() -> None:
    (part,) = encode_message(msg("Привет"), UDH)
    assert part.data_coding == 8
    assert part.short_message == bytes.fromhex("041f04400438043204350442")


def test_flash_sets_message_class_zero() -> None:
    (latin,) = encode_message(msg("Alert", MessageFormat.FLASH), UDH)
    (cyr,) = encode_message(msg("Тревога", MessageFormat.FLASH), UDH)
    assert (latin.data_coding, latin.short_message) == (0x10, b"Alert")
    assert (cyr.data_coding, cyr.short_message) == (0x18, "Тревога".encode("utf-16-be"))


def test_long_cyrillic_with_udh() -> None:
    parts = encode_message(msg(CYRILLIC_200), UDH)
    assert len(parts) == 3 == segment_count(CYRILLIC_200).parts
    decoded = []
    for seq, part in enumerate(parts, 1):
        assert part.esm_class == 0x40 and part.data_coding == 8 and part.tlvs == ()
        assert part.short_message[:6] == bytes((0x05, 0x00, 0x03, 0x34, 0x03, seq))
        decoded.append(part.short_message[6:].decode("utf-16-be"))
    assert [len(d) for d in decoded] == [67, 67, 66]
    assert "".join(decoded) == CYRILLIC_200


def test_long_cyrillic_with_sar_tlvs() -> None:
    parts = encode_message(msg(CYRILLIC_200), SAR)
    assert len(parts) == 3
    for seq, part in enumerate(parts, 1):
        assert part.esm_class == 0 and part.data_coding == 8
        assert P.encode_tlvs(part.tlvs).hex() == (f"020c00021234020e000103020f00010{seq}")
    assert b"".join(p.short_message for p in parts).decode("utf-16-be") == CYRILLIC_200


def test_long_gsm7_is_153_septets_per_part_and_keeps_escapes_whole() -> None:
    text = "a" * 152 + "€" + "b" * 10
    parts = encode_message(msg(text), UDH)
    payloads = [p.short_message[6:] for p in parts]
    # The euro sign (ESC 0x65) would straddle parts at 152+2 septets: it moves to part 2.
    assert payloads == [b"a" * 152, b"\x1b\x65" + b"b" * 10]
    assert parts[0].short_message[:6] == bytes.fromhex("050003340201")


def test_udh_reference_comes_from_the_message_id() -> None:
    first = encode_message(msg(CYRILLIC_200, message_id=0x1FF), UDH)[0]
    again = encode_message(msg(CYRILLIC_200, message_id=0x1FF), UDH)[0]
    assert first.short_message[3] == again.short_message[3] == 0xFF


def test_binary_formats() -> None:
    (raw,) = encode_message(msg("\x01\x02ÿ", MessageFormat.BIN), UDH)
    (hexed,) = encode_message(msg("0A0B0C", MessageFormat.BIN_HEX), UDH)
    assert (raw.data_coding, raw.short_message) == (4, b"\x01\x02\xff")
    assert (hexed.data_coding, hexed.short_message) == (4, b"\x0a\x0b\x0c")


def test_long_binary_is_split_like_it_is_billed() -> None:
    payload = bytes(range(256)) + bytes(44)
    parts = encode_message(msg(payload.hex(), MessageFormat.BIN_HEX), UDH)
    assert len(parts) == binary_segment_count(payload).parts == 3
    assert [len(p.short_message) for p in parts] == [140, 140, 38]
    assert b"".join(p.short_message[6:] for p in parts) == payload
    assert all(p.esm_class == 0x40 and p.data_coding == 4 for p in parts)


def test_ping_is_a_silent_type0_message() -> None:
    (part,) = encode_message(msg("", MessageFormat.PING), UDH)
    assert (part.protocol_id, part.data_coding, part.short_message) == (0x40, 0, b"")
    assert part.registered_delivery == 1


@pytest.mark.parametrize(
    ("fmt", "text"), [(MessageFormat.MAIL, "hello"), (MessageFormat.BIN_HEX, "0G")]
)
def test_what_cannot_be_an_sms_is_refused(fmt: int, text: str) -> None:
    with pytest.raises(EncodingError):
        encode_message(msg(text, fmt), UDH)


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, ""),
        (1, "000000000100000R"),
        (90, "000000013000000R"),
        (24 * 60, "000001000000000R"),
        (2 * 1440 + 5, "000002000500000R"),
        (10**7, "000099235900000R"),
    ],
)
def test_relative_validity(minutes: int, expected: str) -> None:
    assert relative_validity(minutes) == expected


def test_validity_and_registered_delivery_reach_the_fields() -> None:
    (part,) = encode_message(msg("x", validity_min=90, registered_delivery=False), UDH)
    assert (part.validity_period, part.registered_delivery) == ("000000013000000R", 0)
    (part,) = encode_message(msg("x"), UDH)
    assert (part.validity_period, part.registered_delivery) == ("", 1)


@pytest.mark.parametrize(
    ("sender", "options", "expected"),
    [
        ("Shop", UDH, (5, 0, "Shop")),
        ("+79001234567", UDH, (1, 1, "79001234567")),
        ("1234", EncodingOptions(source_ton=3, source_npi=0), (3, 0, "1234")),
        ("Shop", EncodingOptions(source_ton=3, source_npi=0), (5, 0, "Shop")),
        ("", UDH, (0, 0, "")),
    ],
)
def test_source_address(
    sender: str, options: EncodingOptions, expected: tuple[int, int, str]
) -> None:
    message = OutboundMessage(1, "+79161234567", "x", sender, 0)
    (part,) = encode_message(message, options)
    assert (part.source_addr_ton, part.source_addr_npi, part.source_addr) == expected
    assert (part.dest_addr_ton, part.dest_addr_npi, part.destination_addr) == (
        1,
        1,
        "79161234567",
    )


def test_destination_ton_npi_from_options() -> None:
    (part,) = encode_message(msg("x"), EncodingOptions(dest_ton=0, dest_npi=0))
    assert (part.dest_addr_ton, part.dest_addr_npi) == (0, 0)


_texts = st.text(
    st.sampled_from("abcXYZ 019{}[]€^\nабвгдеЖЗЮЯ😀"),
    max_size=500,
)


@settings(max_examples=300, deadline=None)
@given(_texts, st.sampled_from([UDH, SAR]))
def test_every_part_fits_and_parts_match_billing(text: str, options: EncodingOptions) -> None:
    parts = encode_message(msg(text), options)
    assert len(parts) == segment_count(text).parts
    for part in parts:
        assert len(part.short_message) <= 140
        part.encode_body()  # valid PDU fields

"""The doors' pure parts on exact values: the SMSC side of the PDU codec (smpp34 as the
oracle), SMPP time fields, a submit_sm as send.php values, the receipt deliver_sm, and the
SMTP door's body."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import smpp34

from tidings.channels.smpp import pdu as P
from tidings.channels.smpp import pdu_smsc as S
from tidings.domain.door_receipts import DoorReceipt
from tidings.domain.lifecycle import MessageStatus
from tidings.doors.smpp.receipts import receipt_message
from tidings.doors.smpp.submit import BadValidity, is_binary, is_flash, read_submit, send_values
from tidings.doors.smpp.times import BadTime, format_receipt_date, parse_smpp_time
from tidings.doors.smtp.body import mail_text, parse_request
from tidings.errors import InvalidParameter

NOW = datetime(2026, 12, 3, 9, 0, 0, tzinfo=UTC)


def test_a_bind_is_read_back_and_a_long_password_is_kept_for_the_account_to_judge() -> None:
    bind = P.Bind("shop", "secret12", "", 0x34, 5, 0, "")
    assert P.Bind.decode_body(bind.encode_body()) == bind
    body = b"shop\x00" + b"p" * 20 + b"\x00\x00\x34\x00\x00\x00"
    assert P.Bind.decode_body(body).password == "p" * 20
    with pytest.raises(P.PduError):
        P.Bind.decode_body(b"shop\x00secret")


def test_bind_resp_exact_bytes() -> None:
    ok = S.encode_bind_resp(P.BIND_TRANSCEIVER, 1, "Tidings")
    body = b"Tidings\x00" + bytes.fromhex("0210 0001 34")
    assert ok == bytes.fromhex(f"{16 + len(body):08x}80000009 00000000 00000001") + body
    refused = S.encode_bind_resp(P.BIND_RECEIVER, 2, "Tidings", P.ESME_RINVPASWD)
    assert refused == bytes.fromhex("00000018 80000001 0000000e 00000002") + b"Tidings\x00"


def test_submit_sm_resp_carries_the_id_only_when_accepted() -> None:
    assert (
        S.encode_submit_sm_resp(3, "42")
        == bytes.fromhex("00000013800000040000000000000003") + b"42\x00"
    )
    assert S.encode_submit_sm_resp(4, "", P.ESME_RTHROTTLED).hex() == (
        "00000010800000040000005800000004"
    )


def receipt(status: MessageStatus, source: str = "Shop") -> DoorReceipt:
    return DoorReceipt(
        message_id=1234,
        reference="1234",
        account_id=1,
        address="79161234567",
        source=source,
        status=status,
        err=0 if status == MessageStatus.DELIVERED else 20,
        submitted_at=int(datetime(2026, 12, 3, 8, 59, tzinfo=UTC).timestamp()),
        done_at=int(datetime(2026, 12, 3, 9, 1, tzinfo=UTC).timestamp()),
        text="Привет, hello world and more",
        parts=1,
        attempts=1,
    )


def test_the_receipt_deliver_sm_as_an_independent_codec_reads_it() -> None:
    decoded = smpp34.decode(
        S.encode_deliver_sm(7, receipt_message(receipt(MessageStatus.DELIVERED)))
    )
    assert isinstance(decoded, smpp34.DeliverSm)
    assert (decoded.sequence_number, decoded.esm_class) == (7, 0x04)
    assert (decoded.source_addr, decoded.destination_addr) == ("79161234567", "Shop")
    assert (decoded.dest_addr_ton, decoded.source_addr_ton) == (5, 1)
    assert decoded.short_message == (
        b"id:1234 sub:001 dlvrd:001 submit date:2612030859 done date:2612030901 "
        b"stat:DELIVRD err:000 text:??????, hello world "
    )
    tlvs = {t.tag: bytes(t.value) for t in decoded.tlvs}
    assert tlvs == {P.TAG_RECEIPTED_MESSAGE_ID: b"1234\x00", P.TAG_MESSAGE_STATE: b"\x02"}


@pytest.mark.parametrize(
    ("status", "stat", "state"),
    [
        (MessageStatus.UNDELIVERABLE, "UNDELIV", 5),
        (MessageStatus.EXPIRED, "EXPIRED", 3),
        (MessageStatus.PROHIBITED, "REJECTD", 8),
        (MessageStatus.NO_MONEY, "UNDELIV", 5),
    ],
)
def test_failures_have_their_stat_and_state(status: MessageStatus, stat: str, state: int) -> None:
    message = receipt_message(receipt(status, source="79990001122"))
    assert "dlvrd:000 " in message.short_message.decode() and f"stat:{stat} err:020" in (
        message.short_message.decode()
    )
    state_tlv = message.tlv(P.TAG_MESSAGE_STATE)
    assert state_tlv is not None and state_tlv.as_int() == state
    assert (message.dest_addr_ton, message.dest_addr_npi) == (1, 1)  # a numeric source


def test_smpp_times_absolute_and_relative() -> None:
    assert parse_smpp_time("", NOW) is None
    assert parse_smpp_time("000000013000000R", NOW) == datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
    assert parse_smpp_time("000001000000000R", NOW) == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    # 12:00 at UTC+3 (12 quarter hours) is 09:00 UTC; at UTC-1 it is 13:00.
    assert parse_smpp_time("261203120000012+", NOW) == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert parse_smpp_time("261203120000004-", NOW) == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    for bad in ("tomorrow", "261303120000012+", "2612031200000"):
        with pytest.raises(BadTime):
            parse_smpp_time(bad, NOW)
    assert format_receipt_date(int(NOW.timestamp())) == "2612030900"


def test_data_coding_kinds() -> None:
    assert [is_binary(dc) for dc in (0x00, 0x02, 0x04, 0x08, 0xF4, 0xF0, 0x14)] == [
        False, True, True, False, True, False, True,
    ]  # fmt: skip
    assert [is_flash(dc) for dc in (0x00, 0x10, 0x18, 0xF0, 0x11)] == [
        False, True, True, True, False,
    ]  # fmt: skip


def test_a_submit_as_send_php_values() -> None:
    message = P.ShortMessage(
        "Shop",
        "79161234567",
        "Привет".encode("utf-16-be"),
        data_coding=0x18,
        validity_period="000000003000000R",
        schedule_delivery_time="000000000500000R",
        registered_delivery=0x11,  # the intermediate bit is not ours to keep
    )
    part = read_submit(message)
    assert (part.concat, part.registered_delivery) == (None, 1)
    assert send_values([part], NOW) == {
        "phones": "79161234567",
        "sender": "Shop",
        "mes": "Привет",
        "flash": "1",
        "valid": "0:30",
        "time": f"0{int(NOW.timestamp()) + 300}",
    }
    long_valid = read_submit(P.ShortMessage("", "7916", b"x", validity_period="000003000000000R"))
    assert send_values([long_valid], NOW)["valid"] == "24:00"  # send.php's most
    with pytest.raises(BadValidity):
        send_values([read_submit(P.ShortMessage("", "7916", b"x", validity_period="x"))], NOW)


def test_parts_are_named_by_udh_or_sar_and_impossible_ones_are_whole() -> None:
    udh = P.ShortMessage("", "7916", bytes.fromhex("050003aa0302") + b"two", esm_class=0x40)
    assert (read_submit(udh).concat, read_submit(udh).octets) == ((0xAA, 3, 2), b"two")
    sar = P.ShortMessage(
        "", "7916", b"one", tlvs=(P.tlv_u16(0x020C, 7), P.tlv_u8(0x020E, 2), P.tlv_u8(0x020F, 1))
    )
    assert read_submit(sar).concat == (7, 2, 1)
    impossible = P.ShortMessage("", "7916", bytes.fromhex("050003aa0304") + b"x", esm_class=0x40)
    assert read_submit(impossible).concat is None


def test_the_mail_body_as_send_php_values() -> None:
    request = parse_request("shop:pw:42:0123456789,3:1,1,Shop,0:79161234567:Time 10:30, ok")
    assert (request.login, request.psw, request.test) == ("shop", "pw", False)
    assert request.values == {
        "id": "42",
        "time": "0123456789",
        "tz": "3",
        "translit": "1",
        "sender": "Shop",
        "flash": "1",
        "phones": "79161234567",
        "mes": "Time 10:30, ok",
    }
    listed = parse_request(":tk_key:::0,5,,1::79161234567:0a0b\n79161234568:0c")
    assert (listed.login, listed.psw, listed.test) == ("", "tk_key", True)
    assert listed.values == {
        "translit": "0",
        "bin": "2",
        "list": "79161234567:0a0b\n79161234568:0c",
    }
    for bad in ("no fields", "a:b:c:d:e,f,g,h:79161234567", "a:b:::0,12,,0:7916:x"):
        with pytest.raises(InvalidParameter):
            parse_request(bad)


def test_the_mail_text_by_its_charset() -> None:
    head = b"Content-Type: text/plain\r\n\r\n"
    assert mail_text(head + "Привет".encode("koi8-r") + b"\r\n") == "Привет"
    utf8 = b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "Привет".encode()
    assert mail_text(utf8) == "Привет"
    marked = b"Content-Type: text/plain; charset=utf-8\r\n\r\nHi!\r\n[text]a:b[/text]\r\nBye"
    assert mail_text(marked) == "a:b"
    with pytest.raises(InvalidParameter):
        mail_text(b"Content-Type: text/plain; charset=utf-8\r\n\r\n\xff\xfe")


def test_submit_multi_is_read_and_answered_on_exact_bytes() -> None:
    body = (
        b"\x00" + b"\x05\x00Shop\x00" + b"\x02"
        + b"\x01\x01\x0179161234567\x00" + b"\x02friends\x00"
        + b"\x00\x00\x00" + b"\x00\x00" + b"\x01\x00\x08\x00\x04" + "Да".encode("utf-16-be")
    )  # fmt: skip
    message, destinations = S.decode_submit_multi(body)
    assert destinations == (
        S.MultiDestination(1, 1, "79161234567"),
        S.MultiDestination(0, 0, "", "friends"),
    )
    assert (message.source_addr, message.destination_addr, message.data_coding) == ("Shop", "", 8)
    assert (message.registered_delivery, message.short_message) == (1, "Да".encode("utf-16-be"))
    answer = S.encode_submit_multi_resp(3, "77", [(destinations[1], P.ESME_RINVDLNAME)])
    assert answer == (
        bytes.fromhex("00000022 80000021 00000000 00000003")
        + b"77\x00\x01" + b"\x00\x00friends\x00" + bytes.fromhex("00000034")
    )  # fmt: skip
    with pytest.raises(P.PduError):
        S.decode_submit_multi(b"\x00\x05\x00Shop\x00\x01\x07")

"""SMPP PDU codec on exact bytes, with smpp34 (an independent Rust codec) as the oracle."""

from __future__ import annotations

from dataclasses import replace

import pytest
import smpp34
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit import smpp_peer as peer
from tidings.channels.smpp import pdu as P

# --- header-only PDUs: bytes written out by hand from SMPP 3.4 §4 ----------------------------


def test_enquire_link_is_a_bare_header() -> None:
    assert P.encode_enquire_link(1) == bytes.fromhex("00000010000000150000000000000001")


def test_responses_and_nack_carry_their_command_ids() -> None:
    assert P.encode_enquire_link_resp(7).hex() == "00000010800000150000000000000007"
    assert P.encode_unbind(2).hex() == "00000010000000060000000000000002"
    assert P.encode_unbind_resp(2).hex() == "00000010800000060000000000000002"
    nack = P.encode_generic_nack(9, P.ESME_RINVCMDID)
    assert nack.hex() == "00000010800000000000000300000009"


def test_bind_transceiver_exact_bytes() -> None:
    data = peer.encode_bind_transceiver(P.Bind("tidings", "secret", "SMS"), 1)
    body = b"tidings\x00" + b"secret\x00" + b"SMS\x00" + bytes((0x34, 0, 0)) + b"\x00"
    assert (
        data
        == (16 + len(body)).to_bytes(4, "big") + bytes.fromhex("000000090000000000000001") + body
    )
    assert peer.decode_bind(P.decode_pdu(data).body) == P.Bind("tidings", "secret", "SMS")


def test_bind_resp_ok_and_refused() -> None:
    ok = P.decode_pdu(peer.encode_bind_transceiver_resp("SMSC", 1))
    assert (ok.command_id, ok.status, peer.decode_bind_resp(ok.body)) == (
        P.BIND_TRANSCEIVER_RESP,
        0,
        ("SMSC", ()),
    )
    refused = peer.encode_bind_transceiver_resp("SMSC", 1, status=P.ESME_RBINDFAIL)
    assert refused.hex() == "00000010800000090000000d00000001"
    assert peer.decode_bind_resp(b"") == ("", ())


def test_submit_sm_resp_with_and_without_id() -> None:
    data = peer.encode_submit_sm_resp("1a2b", 5)
    assert data.hex() == "000000158000000400000000000000053161326200"
    assert P.decode_message_id(P.decode_pdu(data).body) == "1a2b"
    error = P.decode_pdu(peer.encode_submit_sm_resp("", 5, P.ESME_RTHROTTLED))
    assert (error.status, error.body, P.decode_message_id(error.body)) == (0x58, b"", "")


def test_deliver_sm_resp_has_an_empty_message_id() -> None:
    assert P.encode_deliver_sm_resp(4).hex() == "0000001180000005000000000000000400"


def test_submit_sm_exact_bytes() -> None:
    message = P.ShortMessage(
        source_addr="Shop",
        destination_addr="79161234567",
        short_message=b"Hi",
        source_addr_ton=5,
        dest_addr_ton=1,
        dest_addr_npi=1,
        registered_delivery=1,
        tlvs=(P.tlv_u16(P.TAG_SAR_MSG_REF_NUM, 0x0102),),
    )
    expected_body = (
        b"\x00"  # service_type
        + b"\x05\x00Shop\x00"
        + b"\x01\x0179161234567\x00"
        + b"\x00\x00\x00"  # esm_class, protocol_id, priority_flag
        + b"\x00\x00"  # schedule_delivery_time, validity_period
        + b"\x01\x00"  # registered_delivery, replace_if_present_flag
        + b"\x00\x00\x02Hi"  # data_coding, sm_default_msg_id, sm_length, short_message
        + b"\x02\x0c\x00\x02\x01\x02"
    )
    data = peer.encode_submit_sm(message, 3)
    assert data[16:] == expected_body
    assert data[:16] == P.HEADER.pack(16 + len(expected_body), P.SUBMIT_SM, 0, 3)


def test_status_names() -> None:
    assert P.status_name(P.ESME_RTHROTTLED) == "ESME_RTHROTTLED"
    assert P.status_name(P.ESME_RMSGQFUL) == "ESME_RMSGQFUL"
    assert P.status_name(0x401) == "0x00000401"
    assert (P.ESME_RTHROTTLED, P.ESME_RMSGQFUL, P.ESME_RBINDFAIL, P.ESME_RINVDSTADR) == (
        0x58,
        0x14,
        0x0D,
        0x0B,
    )


# --- strings and TLVs -----------------------------------------------------------------------


def test_cstring_limits_count_the_nul() -> None:
    assert P.encode_cstring("a" * 15, 16) == b"a" * 15 + b"\x00"
    with pytest.raises(P.PduError):
        P.encode_cstring("a" * 16, 16)
    with pytest.raises(P.PduError):
        P.encode_cstring("Магазин", 21)
    with pytest.raises(P.PduError):
        P.read_cstring(b"abc", 0, 3)


def test_tlvs_round_trip_and_truncation() -> None:
    tlvs = (P.tlv_u8(P.TAG_MESSAGE_STATE, 2), P.tlv_cstring(P.TAG_RECEIPTED_MESSAGE_ID, "1a"))
    raw = P.encode_tlvs(tlvs)
    assert raw.hex() == "0427000102001e0003316100"
    assert P.decode_tlvs(raw, 0) == tlvs
    assert tlvs[1].as_cstring() == "1a" and tlvs[0].as_int() == 2
    with pytest.raises(P.PduError):
        P.decode_tlvs(raw[:-1], 0)
    with pytest.raises(P.PduError):
        P.decode_tlvs(b"\x04\x27\x00", 0)


def test_truncated_short_message_body_is_a_pdu_error() -> None:
    body = P.ShortMessage("a", "b", b"xyz").encode_body()
    for cut in (3, 8, len(body) - 5, len(body) - 1):
        with pytest.raises(P.PduError):
            P.ShortMessage.decode_body(body[:cut])


# --- framing --------------------------------------------------------------------------------


def test_frame_reader_reassembles_any_split() -> None:
    stream = P.encode_enquire_link(1) + peer.encode_submit_sm_resp("ff", 2) + P.encode_unbind(3)
    reader = P.FrameReader()
    pdus: list[P.Pdu] = []
    for octet in stream:
        pdus += reader.feed(bytes((octet,)))
    assert [(p.command_id, p.sequence) for p in pdus] == [
        (P.ENQUIRE_LINK, 1),
        (P.SUBMIT_SM_RESP, 2),
        (P.UNBIND, 3),
    ]
    assert reader.pending == 0
    assert len(P.FrameReader().feed(stream)) == 3


def test_frame_reader_keeps_a_partial_pdu() -> None:
    reader = P.FrameReader()
    data = peer.encode_submit_sm_resp("abc", 4)
    assert reader.feed(data[:10]) == []
    assert reader.pending == 10
    (pdu,) = reader.feed(data[10:])
    assert P.decode_message_id(pdu.body) == "abc"


@pytest.mark.parametrize("length", [0, 15, P.MAX_PDU_SIZE + 1])
def test_frame_reader_rejects_impossible_lengths(length: int) -> None:
    with pytest.raises(P.PduError):
        P.FrameReader().feed(length.to_bytes(4, "big") + bytes(12))


def test_decode_pdu_checks_the_length() -> None:
    with pytest.raises(P.PduError):
        P.decode_pdu(bytes(8))
    with pytest.raises(P.PduError):
        P.decode_pdu(P.encode_enquire_link(1) + b"x")


# --- property tests and the smpp34 oracle ---------------------------------------------------

_ascii = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
_octet = st.integers(0, 255)
_tlv = st.builds(
    P.Tlv,
    st.integers(0x0001, 0xFFFF),
    st.binary(max_size=12),
)
_messages = st.builds(
    P.ShortMessage,
    source_addr=_ascii,
    destination_addr=_ascii,
    short_message=st.binary(max_size=254),
    service_type=st.text(st.sampled_from("ABCXYZ"), max_size=5),
    source_addr_ton=_octet,
    source_addr_npi=_octet,
    dest_addr_ton=_octet,
    dest_addr_npi=_octet,
    esm_class=_octet,
    protocol_id=_octet,
    priority_flag=_octet,
    schedule_delivery_time=st.sampled_from(["", "260115120000000+"]),
    validity_period=st.sampled_from(["", "000000013000000R"]),
    registered_delivery=_octet,
    replace_if_present_flag=_octet,
    data_coding=_octet,
    sm_default_msg_id=_octet,
    tlvs=st.lists(_tlv, max_size=4).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(_messages, st.integers(1, 0x7FFFFFFF))
def test_short_message_round_trip(message: P.ShortMessage, sequence: int) -> None:
    (pdu,) = P.FrameReader().feed(peer.encode_submit_sm(message, sequence))
    assert (pdu.command_id, pdu.sequence) == (P.SUBMIT_SM, sequence)
    assert P.ShortMessage.decode_body(pdu.body) == message


def _from_oracle(pdu: smpp34.SubmitSm | smpp34.DeliverSm) -> P.ShortMessage:
    return P.ShortMessage(
        source_addr=pdu.source_addr,
        destination_addr=pdu.destination_addr,
        short_message=pdu.short_message,
        service_type=pdu.service_type,
        source_addr_ton=pdu.source_addr_ton,
        source_addr_npi=pdu.source_addr_npi,
        dest_addr_ton=pdu.dest_addr_ton,
        dest_addr_npi=pdu.dest_addr_npi,
        esm_class=pdu.esm_class,
        protocol_id=pdu.protocol_id,
        priority_flag=pdu.priority_flag,
        schedule_delivery_time=pdu.schedule_delivery_time,
        validity_period=pdu.validity_period,
        registered_delivery=pdu.registered_delivery,
        replace_if_present_flag=pdu.replace_if_present_flag,
        data_coding=pdu.data_coding,
        sm_default_msg_id=pdu.sm_default_msg_id,
        tlvs=tuple(P.Tlv(t.tag, t.value) for t in pdu.tlvs),
    )


def _oracle_submit(m: P.ShortMessage, sequence: int) -> smpp34.SubmitSm:
    return smpp34.SubmitSm(
        m.source_addr,
        m.destination_addr,
        m.short_message,
        service_type=m.service_type,
        source_addr_ton=m.source_addr_ton,
        source_addr_npi=m.source_addr_npi,
        dest_addr_ton=m.dest_addr_ton,
        dest_addr_npi=m.dest_addr_npi,
        esm_class=m.esm_class,
        protocol_id=m.protocol_id,
        priority_flag=m.priority_flag,
        schedule_delivery_time=m.schedule_delivery_time,
        validity_period=m.validity_period,
        registered_delivery=m.registered_delivery,
        replace_if_present_flag=m.replace_if_present_flag,
        data_coding=m.data_coding,
        sm_default_msg_id=m.sm_default_msg_id,
        tlvs=[smpp34.Tlv(t.tag, t.value) for t in m.tlvs],
        sequence_number=sequence,
    )


# smpp34 validates the TLVs it knows, so the oracle gets well-formed SMPP 3.4 values.
_oracle_tlvs = st.lists(
    st.one_of(
        st.builds(P.tlv_u16, st.just(P.TAG_SAR_MSG_REF_NUM), st.integers(0, 0xFFFF)),
        st.builds(P.tlv_u8, st.just(P.TAG_SAR_TOTAL_SEGMENTS), st.integers(1, 255)),
        st.builds(P.tlv_u8, st.just(P.TAG_SAR_SEGMENT_SEQNUM), st.integers(1, 255)),
        st.builds(P.tlv_u8, st.just(P.TAG_MESSAGE_STATE), st.integers(1, 8)),
        st.builds(P.tlv_cstring, st.just(P.TAG_RECEIPTED_MESSAGE_ID), st.text("0123456789abcdef")),
    ),
    max_size=3,
).map(tuple)
_oracle_messages = st.builds(replace, _messages, tlvs=_oracle_tlvs)


@settings(max_examples=300, deadline=None)
@given(_oracle_messages, st.integers(1, 0x7FFFFFFF))
def test_smpp34_decodes_our_submit_sm_and_deliver_sm(message: P.ShortMessage, seq: int) -> None:
    decoded = smpp34.decode(peer.encode_submit_sm(message, seq))
    assert isinstance(decoded, smpp34.SubmitSm)
    assert decoded.sequence_number == seq
    assert _from_oracle(decoded) == message
    delivered = smpp34.decode(peer.encode_deliver_sm(message, seq))
    assert isinstance(delivered, smpp34.DeliverSm)
    assert _from_oracle(delivered) == message


@settings(max_examples=300, deadline=None)
@given(_oracle_messages, st.integers(1, 0x7FFFFFFF))
def test_smpp34_encodes_the_bytes_we_encode(message: P.ShortMessage, seq: int) -> None:
    assert _oracle_submit(message, seq).encode() == peer.encode_submit_sm(message, seq)


def test_we_read_a_deliver_sm_that_smpp34_wrote() -> None:
    text = b"id:1a sub:001 dlvrd:001 submit date:2601151200 done date:2601151201 stat:DELIVRD"
    deliver = smpp34.DeliverSm(
        "79161234567",
        "Shop",
        text,
        esm_class=4,
        tlvs=[smpp34.Tlv(P.TAG_RECEIPTED_MESSAGE_ID, b"1a\x00")],
        sequence_number=42,
    )
    (pdu,) = P.FrameReader().feed(deliver.encode())
    assert (pdu.command_id, pdu.sequence) == (P.DELIVER_SM, 42)
    parsed = P.ShortMessage.decode_body(pdu.body)
    assert (parsed.source_addr, parsed.destination_addr) == ("79161234567", "Shop")
    assert (parsed.short_message, parsed.esm_class) == (text, 4)
    assert parsed.tlv(P.TAG_RECEIPTED_MESSAGE_ID) == P.Tlv(P.TAG_RECEIPTED_MESSAGE_ID, b"1a\x00")


def test_smpp34_reads_our_header_only_pdus() -> None:
    for data, command_id in (
        (P.encode_enquire_link(11), P.ENQUIRE_LINK),
        (P.encode_unbind(12), P.UNBIND),
        (P.encode_generic_nack(13, P.ESME_RTHROTTLED), P.GENERIC_NACK),
        (peer.encode_submit_sm_resp("2a", 14), P.SUBMIT_SM_RESP),
        (peer.encode_bind_transceiver(P.Bind("tidings", "secret"), 15), P.BIND_TRANSCEIVER),
    ):
        raw = smpp34.decode(data)
        assert isinstance(raw, smpp34.RawPdu)
        assert (raw.command_id, raw.command_length) == (command_id, len(data))
        assert raw.body == data[16:]

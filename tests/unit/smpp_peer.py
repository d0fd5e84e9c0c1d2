"""The SMSC's half of the SMPP codec, for the codec's tests: whole frames of what Tidings
writes (the session encodes a bind's or a submit's body first and frames it per attempt), and
what an SMSC answers and delivers. Tidings never plays the SMSC, so this is not in src."""

from __future__ import annotations

from collections.abc import Iterable

from tidings.channels.smpp.pdu import (
    BIND_TRANSCEIVER,
    BIND_TRANSCEIVER_RESP,
    DELIVER_SM,
    ESME_ROK,
    PASSWORD_MAX,
    SUBMIT_SM,
    SUBMIT_SM_RESP,
    SYSTEM_ID_MAX,
    SYSTEM_TYPE_MAX,
    Bind,
    PduError,
    ShortMessage,
    Tlv,
    decode_tlvs,
    encode_cstring,
    encode_message_id_resp,
    encode_pdu,
    encode_tlvs,
    read_cstring,
)


def decode_bind(body: bytes) -> Bind:
    """A bind_transceiver's body, as the SMSC reads it."""
    system_id, off = read_cstring(body, 0, SYSTEM_ID_MAX, "system_id")
    password, off = read_cstring(body, off, PASSWORD_MAX, "password")
    system_type, off = read_cstring(body, off, SYSTEM_TYPE_MAX, "system_type")
    if len(body) < off + 3:
        raise PduError("bind body truncated")
    version, ton, npi = body[off : off + 3]
    address_range, _ = read_cstring(body, off + 3, 41, "address_range")
    return Bind(system_id, password, system_type, version, ton, npi, address_range)


def encode_bind_transceiver(bind: Bind, sequence: int) -> bytes:
    return encode_pdu(BIND_TRANSCEIVER, sequence, bind.encode_body())


def encode_bind_transceiver_resp(
    system_id: str, sequence: int, status: int = ESME_ROK, tlvs: Iterable[Tlv] = ()
) -> bytes:
    # An error response may carry no body at all (SMPP 3.4 §4.1.6 note).
    if status != ESME_ROK:
        return encode_pdu(BIND_TRANSCEIVER_RESP, sequence, b"", status)
    body = encode_cstring(system_id, SYSTEM_ID_MAX, "system_id") + encode_tlvs(tlvs)
    return encode_pdu(BIND_TRANSCEIVER_RESP, sequence, body, status)


def decode_bind_resp(body: bytes) -> tuple[str, tuple[Tlv, ...]]:
    """(system_id, TLVs) of a bind_*_resp; an empty body (error responses) gives ("", ())."""
    if not body:
        return "", ()
    system_id, off = read_cstring(body, 0, SYSTEM_ID_MAX, "system_id")
    return system_id, decode_tlvs(body, off)


def encode_submit_sm(message: ShortMessage, sequence: int) -> bytes:
    return encode_pdu(SUBMIT_SM, sequence, message.encode_body())


def encode_deliver_sm(message: ShortMessage, sequence: int) -> bytes:
    return encode_pdu(DELIVER_SM, sequence, message.encode_body())


def encode_submit_sm_resp(message_id: str, sequence: int, status: int = ESME_ROK) -> bytes:
    return encode_message_id_resp(SUBMIT_SM_RESP, message_id, sequence, status)

"""SMPP 3.4 PDUs of the SMSC's half, for the SMPP server clients bind to (doors/smpp): bind
responses, submit_sm_resp, submit_multi and its response, deliver_sm. Pure functions on the
values and framing of pdu.py, tested on exact bytes."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from tidings.channels.smpp.pdu import (
    ADDRESS_MAX,
    DELIVER_SM,
    ESME_ROK,
    INTERFACE_VERSION,
    MESSAGE_ID_MAX,
    RESPONSE_BIT,
    SERVICE_TYPE_MAX,
    SUBMIT_MULTI_RESP,
    SUBMIT_SM_RESP,
    SYSTEM_ID_MAX,
    TAG_SC_INTERFACE_VERSION,
    PduError,
    ShortMessage,
    encode_cstring,
    encode_message_id_resp,
    encode_pdu,
    read_cstring,
    tlv_u8,
)


def encode_bind_resp(
    command_id: int, sequence: int, system_id: str, status: int = ESME_ROK
) -> bytes:
    """bind_*_resp: our system_id, and sc_interface_version (3.4) when the bind succeeded."""
    body = encode_cstring(system_id, SYSTEM_ID_MAX, "system_id")
    if status == ESME_ROK:
        body += tlv_u8(TAG_SC_INTERFACE_VERSION, INTERFACE_VERSION).encode()
    return encode_pdu(command_id | RESPONSE_BIT, sequence, body, status)


def encode_submit_sm_resp(sequence: int, message_id: str, status: int = ESME_ROK) -> bytes:
    return encode_message_id_resp(SUBMIT_SM_RESP, message_id, sequence, status)


def encode_deliver_sm(sequence: int, message: ShortMessage) -> bytes:
    return encode_pdu(DELIVER_SM, sequence, message.encode_body())


@dataclass(frozen=True)
class MultiDestination:
    """One destination of a submit_multi: an SME address, or a distribution list's name."""

    ton: int
    npi: int
    address: str
    list_name: str = ""


def decode_submit_multi(body: bytes) -> tuple[ShortMessage, tuple[MultiDestination, ...]]:
    """submit_multi (SMPP 3.4 §4.5.1): the message (destination_addr empty) and its
    destinations. The fields after the destinations are submit_sm's, read by its decoder."""
    try:
        _service_type, off = read_cstring(body, 0, SERVICE_TYPE_MAX, "service_type")
        _source, off = read_cstring(body, off + 2, ADDRESS_MAX, "source_addr")
        head_end, count = off, body[off]
        off += 1
        destinations: list[MultiDestination] = []
        for _ in range(count):
            flag, off = body[off], off + 1
            if flag == 1:
                ton, npi = body[off], body[off + 1]
                address, off = read_cstring(body, off + 2, ADDRESS_MAX, "destination_addr")
                destinations.append(MultiDestination(ton, npi, address))
            elif flag == 2:
                name, off = read_cstring(body, off, ADDRESS_MAX, "dl_name")
                destinations.append(MultiDestination(0, 0, "", name))
            else:
                raise PduError(f"dest_flag {flag}")
    except IndexError as exc:
        raise PduError("submit_multi body truncated") from exc
    as_submit_sm = body[:head_end] + b"\x00\x00\x00" + body[off:]
    return ShortMessage.decode_body(as_submit_sm), tuple(destinations)


def encode_submit_multi_resp(
    sequence: int,
    message_id: str,
    unsuccessful: Iterable[tuple[MultiDestination, int]] = (),
    status: int = ESME_ROK,
) -> bytes:
    """submit_multi_resp: the message id and each destination refused with its status."""
    refused = list(unsuccessful)
    body = encode_cstring(message_id, MESSAGE_ID_MAX, "message_id") + bytes((len(refused),))
    for dest, error in refused:
        body += bytes((dest.ton, dest.npi)) + encode_cstring(dest.address or dest.list_name, 21)
        body += struct.pack(">I", error)
    return encode_pdu(SUBMIT_MULTI_RESP, sequence, body, status)

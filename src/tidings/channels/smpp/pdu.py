"""SMPP 3.4 PDU codec: pure functions from values to the exact octets on the wire and back.

The PDUs of a transceiver bind are modelled: binds, submit_sm, deliver_sm, enquire_link, unbind,
generic_nack and their responses. Everything else is read as a header and a raw body, so an
unexpected PDU can still be answered with generic_nack. Both halves use it: the ESME towards
upstreams (channels/smpp) and the SMPP server clients bind to (doors/smpp), which reads binds
here and writes its answers with pdu_smsc.py (the SMSC's half).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

HEADER = struct.Struct(">IIII")
HEADER_SIZE = HEADER.size
# The SMPP spec sets no upper bound; a real submit_sm is well under 1 KiB, so anything this large
# is a framing error (or a peer that is not speaking SMPP) and the connection must be dropped.
MAX_PDU_SIZE = 64 * 1024
RESPONSE_BIT = 0x80000000
INTERFACE_VERSION = 0x34

# command_id
GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_RECEIVER_RESP = 0x80000001
BIND_TRANSMITTER = 0x00000002
BIND_TRANSMITTER_RESP = 0x80000002
QUERY_SM = 0x00000003
SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
DELIVER_SM = 0x00000005
DELIVER_SM_RESP = 0x80000005
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
BIND_TRANSCEIVER = 0x00000009
BIND_TRANSCEIVER_RESP = 0x80000009
OUTBIND = 0x0000000B
SUBMIT_MULTI = 0x00000021
SUBMIT_MULTI_RESP = 0x80000021
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015
DATA_SM = 0x00000103
DATA_SM_RESP = 0x80000103

# command_status (SMPP 3.4 §5.1.3)
ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RINVPRTFLG = 0x06
ESME_RINVREGDLVFLG = 0x07
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RINVMSGID = 0x0C
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RINVSERTYP = 0x15
ESME_RINVNUMDESTS = 0x33
ESME_RINVDLNAME = 0x34
ESME_RINVESMCLASS = 0x43
ESME_RSUBMITFAIL = 0x45
ESME_RINVSRCTON = 0x48
ESME_RINVSRCNPI = 0x49
ESME_RINVDSTTON = 0x50
ESME_RINVDSTNPI = 0x51
ESME_RINVSYSTYP = 0x53
ESME_RTHROTTLED = 0x58
ESME_RINVSCHED = 0x61
ESME_RINVEXPIRY = 0x62
ESME_RX_T_APPN = 0x64
ESME_RX_P_APPN = 0x65
ESME_RX_R_APPN = 0x66
ESME_RINVOPTPARSTREAM = 0xC0
ESME_ROPTPARNOTALLWD = 0xC1
ESME_RINVPARLEN = 0xC2
ESME_RMISSINGOPTPARAM = 0xC3
ESME_RINVOPTPARAMVAL = 0xC4
ESME_RDELIVERYFAILURE = 0xFE
ESME_RUNKNOWNERR = 0xFF

STATUS_NAMES: dict[int, str] = {
    value: name for name, value in globals().items() if name.startswith("ESME_R")
}

# TLV tags (SMPP 3.4 §5.3.2)
TAG_RECEIPTED_MESSAGE_ID = 0x001E
TAG_SAR_MSG_REF_NUM = 0x020C
TAG_SAR_TOTAL_SEGMENTS = 0x020E
TAG_SAR_SEGMENT_SEQNUM = 0x020F
TAG_NETWORK_ERROR_CODE = 0x0423
TAG_MESSAGE_PAYLOAD = 0x0424
# esm_class bit: the short message starts with a user data header (long messages' parts).
ESM_UDHI = 0x40
TAG_MESSAGE_STATE = 0x0427
TAG_SC_INTERFACE_VERSION = 0x0210

# Maximum C-octet string sizes including the terminating NUL (SMPP 3.4 §4).
SYSTEM_ID_MAX = 16
PASSWORD_MAX = 9
SYSTEM_TYPE_MAX = 13
SERVICE_TYPE_MAX = 6
ADDRESS_MAX = 21
TIME_MAX = 17
MESSAGE_ID_MAX = 65
SHORT_MESSAGE_MAX = 254
# What the server side reads of a client's C-octet strings (Bind.decode_body).
LENIENT_MAX = 65


class PduError(ValueError):
    """Octets that are not a well-formed PDU (or values that cannot become one)."""


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, f"0x{status:08X}")


@dataclass(frozen=True)
class Pdu:
    """One whole PDU as framed off the wire: the header fields and the undecoded body."""

    command_id: int
    status: int
    sequence: int
    body: bytes = b""

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)


def encode_pdu(command_id: int, sequence: int, body: bytes = b"", status: int = ESME_ROK) -> bytes:
    return HEADER.pack(HEADER_SIZE + len(body), command_id, status, sequence) + body


def decode_pdu(data: bytes) -> Pdu:
    """Decode exactly one PDU; `data` must be the whole frame."""
    if len(data) < HEADER_SIZE:
        raise PduError(f"PDU shorter than its header: {len(data)} octets")
    length, command_id, status, sequence = HEADER.unpack_from(data)
    if length != len(data):
        raise PduError(f"command_length {length} but {len(data)} octets given")
    return Pdu(command_id, status, sequence, bytes(data[HEADER_SIZE:]))


class FrameReader:
    """Streaming framer: feed it whatever the socket returned, get whole PDUs back."""

    def __init__(self, max_size: int = MAX_PDU_SIZE) -> None:
        self._buffer = bytearray()
        self._max_size = max_size

    def feed(self, data: bytes) -> list[Pdu]:
        self._buffer += data
        return list(self._drain())

    def _drain(self) -> Iterator[Pdu]:
        buf = self._buffer
        offset = 0
        while len(buf) - offset >= 4:
            (length,) = struct.unpack_from(">I", buf, offset)
            if length < HEADER_SIZE or length > self._max_size:
                raise PduError(f"impossible command_length {length}")
            if len(buf) - offset < length:
                break
            yield decode_pdu(bytes(buf[offset : offset + length]))
            offset += length
        del buf[:offset]

    @property
    def pending(self) -> int:
        """Octets received that do not yet make a whole PDU."""
        return len(self._buffer)


# --- C-octet strings and TLVs ---------------------------------------------------------------


def encode_cstring(value: str, max_size: int, name: str = "field") -> bytes:
    """ASCII text plus NUL; `max_size` counts the NUL, as the spec's field sizes do."""
    try:
        raw = value.encode("ascii")
    except UnicodeEncodeError as exc:
        raise PduError(f"{name} must be ASCII: {value!r}") from exc
    if b"\x00" in raw or len(raw) + 1 > max_size:
        raise PduError(f"{name} does not fit a C-octet string of {max_size}: {value!r}")
    return raw + b"\x00"


def read_cstring(data: bytes, offset: int, max_size: int, name: str = "field") -> tuple[str, int]:
    end = data.find(b"\x00", offset, offset + max_size)
    if end < 0:
        raise PduError(f"{name}: no NUL within {max_size} octets at offset {offset}")
    # latin-1 never fails: a peer's stray 8-bit octet is kept visible instead of killing the bind.
    return data[offset:end].decode("latin-1"), end + 1


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes

    def encode(self) -> bytes:
        return struct.pack(">HH", self.tag, len(self.value)) + self.value

    def as_int(self) -> int:
        return int.from_bytes(self.value, "big")

    def as_cstring(self) -> str:
        return self.value.split(b"\x00", 1)[0].decode("latin-1")


def tlv_u8(tag: int, value: int) -> Tlv:
    return Tlv(tag, value.to_bytes(1, "big"))


def tlv_u16(tag: int, value: int) -> Tlv:
    return Tlv(tag, value.to_bytes(2, "big"))


def tlv_cstring(tag: int, value: str) -> Tlv:
    return Tlv(tag, value.encode("ascii") + b"\x00")


def encode_tlvs(tlvs: Iterable[Tlv]) -> bytes:
    return b"".join(tlv.encode() for tlv in tlvs)


def decode_tlvs(data: bytes, offset: int) -> tuple[Tlv, ...]:
    out: list[Tlv] = []
    while offset < len(data):
        if len(data) - offset < 4:
            raise PduError(f"truncated TLV header at offset {offset}")
        tag, length = struct.unpack_from(">HH", data, offset)
        offset += 4
        if len(data) - offset < length:
            raise PduError(f"TLV 0x{tag:04X} claims {length} octets, {len(data) - offset} left")
        out.append(Tlv(tag, bytes(data[offset : offset + length])))
        offset += length
    return tuple(out)


def find_tlv(tlvs: Iterable[Tlv], tag: int) -> Tlv | None:
    return next((tlv for tlv in tlvs if tlv.tag == tag), None)


# --- bind -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bind:
    """bind_transceiver (or _transmitter/_receiver: same body)."""

    system_id: str
    password: str
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""

    @classmethod
    def decode_body(cls, body: bytes) -> Bind:
        """A bind as a client sent it. Lenient on lengths (up to 64 octets a field): clients
        differ from the spec's sizes, and the password is judged by the account, not here."""
        try:
            system_id, off = read_cstring(body, 0, LENIENT_MAX, "system_id")
            password, off = read_cstring(body, off, LENIENT_MAX, "password")
            system_type, off = read_cstring(body, off, LENIENT_MAX, "system_type")
            version, ton, npi = body[off], body[off + 1], body[off + 2]
            address_range, _ = read_cstring(body, off + 3, LENIENT_MAX, "address_range")
        except IndexError as exc:
            raise PduError("bind body truncated") from exc
        return cls(system_id, password, system_type, version, ton, npi, address_range)

    def encode_body(self) -> bytes:
        return b"".join(
            (
                encode_cstring(self.system_id, SYSTEM_ID_MAX, "system_id"),
                encode_cstring(self.password, PASSWORD_MAX, "password"),
                encode_cstring(self.system_type, SYSTEM_TYPE_MAX, "system_type"),
                bytes((self.interface_version, self.addr_ton, self.addr_npi)),
                encode_cstring(self.address_range, 41, "address_range"),
            )
        )


# --- submit_sm / deliver_sm -----------------------------------------------------------------


@dataclass(frozen=True)
class ShortMessage:
    """The body shared by submit_sm and deliver_sm (SMPP 3.4 §4.4.1 and §4.6.1)."""

    source_addr: str
    destination_addr: str
    short_message: bytes = b""
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    tlvs: tuple[Tlv, ...] = field(default=())

    def tlv(self, tag: int) -> Tlv | None:
        return find_tlv(self.tlvs, tag)

    def encode_body(self) -> bytes:
        if len(self.short_message) > SHORT_MESSAGE_MAX:
            raise PduError(f"short_message of {len(self.short_message)} octets (max 254)")
        return b"".join(
            (
                encode_cstring(self.service_type, SERVICE_TYPE_MAX, "service_type"),
                bytes((self.source_addr_ton, self.source_addr_npi)),
                encode_cstring(self.source_addr, ADDRESS_MAX, "source_addr"),
                bytes((self.dest_addr_ton, self.dest_addr_npi)),
                encode_cstring(self.destination_addr, ADDRESS_MAX, "destination_addr"),
                bytes((self.esm_class, self.protocol_id, self.priority_flag)),
                encode_cstring(self.schedule_delivery_time, TIME_MAX, "schedule_delivery_time"),
                encode_cstring(self.validity_period, TIME_MAX, "validity_period"),
                bytes((self.registered_delivery, self.replace_if_present_flag)),
                bytes((self.data_coding, self.sm_default_msg_id, len(self.short_message))),
                self.short_message,
                encode_tlvs(self.tlvs),
            )
        )

    @classmethod
    def decode_body(cls, body: bytes) -> ShortMessage:
        try:
            return cls._decode(body)
        except IndexError as exc:
            raise PduError("short message body truncated") from exc

    @classmethod
    def _decode(cls, body: bytes) -> ShortMessage:
        service_type, off = read_cstring(body, 0, SERVICE_TYPE_MAX, "service_type")
        src_ton, src_npi = body[off], body[off + 1]
        source_addr, off = read_cstring(body, off + 2, ADDRESS_MAX, "source_addr")
        dst_ton, dst_npi = body[off], body[off + 1]
        destination_addr, off = read_cstring(body, off + 2, ADDRESS_MAX, "destination_addr")
        esm_class, protocol_id, priority = body[off], body[off + 1], body[off + 2]
        schedule, off = read_cstring(body, off + 3, TIME_MAX, "schedule_delivery_time")
        validity, off = read_cstring(body, off, TIME_MAX, "validity_period")
        if len(body) < off + 5:
            raise IndexError(off)
        registered, replace, coding, default_id, sm_length = body[off : off + 5]
        off += 5
        if len(body) < off + sm_length:
            raise PduError(f"sm_length {sm_length} beyond the end of the body")
        message = bytes(body[off : off + sm_length])
        tlvs = decode_tlvs(body, off + sm_length)
        return cls(
            source_addr, destination_addr, message, service_type, src_ton, src_npi,
            dst_ton, dst_npi, esm_class, protocol_id, priority, schedule, validity,
            registered, replace, coding, default_id, tlvs,
        )  # fmt: skip


def encode_message_id_resp(
    command_id: int, message_id: str, sequence: int, status: int = ESME_ROK
) -> bytes:
    """submit_sm_resp / deliver_sm_resp: a message_id C-string, absent on errors."""
    if status != ESME_ROK:
        return encode_pdu(command_id, sequence, b"", status)
    return encode_pdu(command_id, sequence, encode_cstring(message_id, MESSAGE_ID_MAX), status)


def encode_deliver_sm_resp(sequence: int, status: int = ESME_ROK) -> bytes:
    return encode_message_id_resp(DELIVER_SM_RESP, "", sequence, status)


def encode_data_sm_resp(sequence: int, status: int = ESME_ROK) -> bytes:
    return encode_message_id_resp(DATA_SM_RESP, "", sequence, status)


def decode_data_sm(body: bytes) -> ShortMessage:
    """data_sm (SMPP 3.4 §4.7.1) as the ShortMessage it amounts to: no short_message field,
    the text in the message_payload TLV, the other deliver_sm fields left at their zeros."""
    try:
        service_type, off = read_cstring(body, 0, SERVICE_TYPE_MAX, "service_type")
        src_ton, src_npi = body[off], body[off + 1]
        source_addr, off = read_cstring(body, off + 2, 65, "source_addr")
        dst_ton, dst_npi = body[off], body[off + 1]
        destination_addr, off = read_cstring(body, off + 2, 65, "destination_addr")
        esm_class, registered, coding = body[off], body[off + 1], body[off + 2]
    except IndexError as exc:
        raise PduError("data_sm body truncated") from exc
    return ShortMessage(
        source_addr,
        destination_addr,
        service_type=service_type,
        source_addr_ton=src_ton,
        source_addr_npi=src_npi,
        dest_addr_ton=dst_ton,
        dest_addr_npi=dst_npi,
        esm_class=esm_class,
        registered_delivery=registered,
        data_coding=coding,
        tlvs=decode_tlvs(body, off + 3),
    )


def decode_message_id(body: bytes) -> str:
    """The message_id of a submit_sm_resp; "" for the empty body of an error response."""
    if not body:
        return ""
    return read_cstring(body, 0, MESSAGE_ID_MAX, "message_id")[0]


# --- header-only PDUs -----------------------------------------------------------------------


def encode_enquire_link(sequence: int) -> bytes:
    return encode_pdu(ENQUIRE_LINK, sequence)


def encode_enquire_link_resp(sequence: int) -> bytes:
    return encode_pdu(ENQUIRE_LINK_RESP, sequence)


def encode_unbind(sequence: int) -> bytes:
    return encode_pdu(UNBIND, sequence)


def encode_unbind_resp(sequence: int) -> bytes:
    return encode_pdu(UNBIND_RESP, sequence)


def encode_generic_nack(sequence: int, status: int) -> bytes:
    return encode_pdu(GENERIC_NACK, sequence, b"", status)

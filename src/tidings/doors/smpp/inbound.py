"""An inbound message as the deliver_sm an SMPP client's receiver gets (esm_class 0: a
message, not a receipt).

The text goes as GSM-7 (data_coding 0, unpacked, as the server takes it) when every character
is in the GSM alphabet, else as UTF-16-BE (data_coding 8). A text that fits one SMS travels in
short_message; a longer one whole in the message_payload TLV (SMPP 3.4 §5.3.2.32), which
spares the client joining parts the server has already joined.
"""

from __future__ import annotations

from tidings.channels.smpp import pdu
from tidings.domain.door_inbound import DoorInbound
from tidings.domain.sms import Encoding, detect_encoding, gsm7_encode, ucs2_encode

DC_DEFAULT, DC_UCS2 = 0x00, 0x08
TON_INTERNATIONAL, TON_ALPHANUMERIC, NPI_ISDN = 1, 5, 1
# What one SMS holds: 160 GSM-7 septets (one octet each, unpacked) or 140 octets of UCS-2.
SINGLE_OCTETS = {DC_DEFAULT: 160, DC_UCS2: 140}


def inbound_message(message: DoorInbound) -> pdu.ShortMessage:
    """From the handset to the number (or name) of ours it wrote to."""
    if detect_encoding(message.text) is Encoding.GSM7:
        coding, octets = DC_DEFAULT, gsm7_encode(message.text)
    else:
        coding, octets = DC_UCS2, ucs2_encode(message.text)
    to = message.to_phone
    alphanumeric = bool(to) and not to.lstrip("+").isdigit()
    fits = len(octets) <= SINGLE_OCTETS[coding]
    return pdu.ShortMessage(
        source_addr=message.phone.lstrip("+")[:20],
        destination_addr=to.lstrip("+")[:20],
        source_addr_ton=TON_INTERNATIONAL,
        source_addr_npi=NPI_ISDN,
        dest_addr_ton=TON_ALPHANUMERIC if alphanumeric else TON_INTERNATIONAL,
        dest_addr_npi=0 if alphanumeric else NPI_ISDN,
        data_coding=coding,
        short_message=octets if fits else b"",
        tlvs=() if fits else (pdu.Tlv(pdu.TAG_MESSAGE_PAYLOAD, octets),),
    )

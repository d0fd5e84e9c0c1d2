"""Our own asyncio SMPP 3.4 ESME: PDU codec, one bind (session), and the Channel over an
upstream with several binds. (Which upstream a message takes: tidings.domain.routing.)"""

from tidings.channels.smpp.channel import SmppChannel, final_status_for
from tidings.channels.smpp.encoding import EncodingError, EncodingOptions, encode_message
from tidings.channels.smpp.errors import (
    SmppBindError,
    SmppDisconnected,
    SmppError,
    SmppStatusError,
    SmppTimeout,
)
from tidings.channels.smpp.pdu import PduError
from tidings.channels.smpp.receipts import (
    DeliveryReceipt,
    normalise_id,
    parse_receipt,
)
from tidings.channels.smpp.session import SessionConfig, SmppSession
from tidings.config import IdFormat, SmppUpstream

__all__ = [
    "DeliveryReceipt",
    "EncodingError",
    "EncodingOptions",
    "IdFormat",
    "PduError",
    "SessionConfig",
    "SmppBindError",
    "SmppChannel",
    "SmppDisconnected",
    "SmppError",
    "SmppSession",
    "SmppStatusError",
    "SmppTimeout",
    "SmppUpstream",
    "encode_message",
    "final_status_for",
    "normalise_id",
    "parse_receipt",
]

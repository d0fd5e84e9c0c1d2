"""A receipt for the SMPP server's clients: a final status as the deliver_sm its receiver gets
(receipt text, receipted_message_id and message_state). doors/smpp/deliveries.py sends them."""

from __future__ import annotations

from tidings.channels.smpp import pdu
from tidings.domain.door_receipts import DoorReceipt
from tidings.domain.lifecycle import MessageStatus
from tidings.doors.smpp.times import format_receipt_date

ESM_DELIVERY_RECEIPT = 0x04
TON_INTERNATIONAL, TON_ALPHANUMERIC, NPI_ISDN = 1, 5, 1
# A final status as the receipt text's `stat` and the message_state TLV (SMPP 3.4 §5.2.28).
STATES: dict[MessageStatus, tuple[str, int]] = {
    MessageStatus.DELIVERED: ("DELIVRD", 2),
    MessageStatus.READ: ("DELIVRD", 2),
    MessageStatus.EXPIRED: ("EXPIRED", 3),
    MessageStatus.STOPPED: ("DELETED", 4),
    MessageStatus.PROHIBITED: ("REJECTD", 8),
}
UNDELIVERABLE = ("UNDELIV", 5)
# The first characters of the text a receipt quotes (SMPP 3.4 Appendix B: `text:`).
QUOTED_CHARS = 20


def receipt_message(receipt: DoorReceipt) -> pdu.ShortMessage:
    """The deliver_sm of a receipt: from the recipient to the client's source address."""
    stat, state = STATES.get(receipt.status, UNDELIVERABLE)
    delivered = "001" if state == 2 else "000"
    text = (
        f"id:{receipt.reference} sub:001 dlvrd:{delivered} "
        f"submit date:{format_receipt_date(receipt.submitted_at)} "
        f"done date:{format_receipt_date(receipt.done_at)} "
        f"stat:{stat} err:{receipt.err % 1000:03d} text:{receipt.text[:QUOTED_CHARS]}"
    )
    source = receipt.source
    alphanumeric = bool(source) and not source.lstrip("+").isdigit()
    return pdu.ShortMessage(
        source_addr=receipt.address.lstrip("+")[:20],
        destination_addr=source[:20],
        source_addr_ton=TON_INTERNATIONAL,
        source_addr_npi=NPI_ISDN,
        dest_addr_ton=TON_ALPHANUMERIC if alphanumeric else TON_INTERNATIONAL,
        dest_addr_npi=0 if alphanumeric else NPI_ISDN,
        esm_class=ESM_DELIVERY_RECEIPT,
        short_message=text.encode("ascii", "replace")[: pdu.SHORT_MESSAGE_MAX],
        tlvs=(
            pdu.tlv_cstring(pdu.TAG_RECEIPTED_MESSAGE_ID, receipt.reference),
            pdu.tlv_u8(pdu.TAG_MESSAGE_STATE, state),
        ),
    )

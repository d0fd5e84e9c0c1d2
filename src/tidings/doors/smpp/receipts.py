"""Receipts for the SMPP server's clients: final statuses → deliver_sm on their receiver binds.

The receipts live in the store (domain/door_receipts.py) until a client acknowledges them, so
they wait while no receiver of the account is bound and survive a restart. While receivers
are bound, the due ones of their accounts are leased (`receipt_retry_s`) and written to the
receiver with the most free room (one that left receipts unanswered last), at most
`deliver_window` unacknowledged per bind. An acknowledged receipt is deleted; one refused,
unanswered or on a bind that went away is offered again when its lease ends — to any
receiver of the account, so a client that never answers holds only its own window, never
another bind's or account's receipts.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import structlog

from tidings.channels.smpp import pdu, pdu_smsc
from tidings.domain.clock import Clock, to_ts
from tidings.domain.door_receipts import DoorReceipt, DoorReceiptService
from tidings.domain.lifecycle import MessageStatus
from tidings.doors.smpp.times import format_receipt_date
from tidings.ops.metrics import record_smpp_pdu

if TYPE_CHECKING:
    from tidings.doors.smpp.session import Session

log = structlog.get_logger("tidings.smpp_server")

DOOR = "smpp"
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
# Old receipts nobody came for are looked for this often.
EXPIRE_EVERY_S = 60.0
Run = Callable[..., Awaitable[Any]]


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


class ReceiptPump:
    def __init__(
        self,
        service: DoorReceiptService,
        clock: Clock,
        run: Run,
        receivers: Callable[[], dict[int, list[Session]]],
        *,
        window: int,
        retry_s: int,
        poll_s: float,
    ) -> None:
        self._service = service
        self._clock = clock
        self._run = run
        self._receivers = receivers
        self._window = window
        self._retry_s = retry_s
        self._poll_s = poll_s
        # Per bind: deliver_sm sequence → (message id, when it is given up on).
        self._pending: dict[Session, dict[int, tuple[int, float]]] = {}
        self._acknowledged: list[int] = []
        # Per bind: receipts it left unanswered since it last answered one. The receipts of
        # an account go to its binds that answer first.
        self._unanswered: dict[Session, int] = {}
        self._wake = asyncio.Event()
        self._expired_at = 0.0

    def wake(self) -> None:
        self._wake.set()

    def in_flight(self, session: Session) -> int:
        return len(self._pending.get(session, {}))

    def answered(self, session: Session, sequence: int, status: int) -> None:
        entry = self._pending.get(session, {}).pop(sequence, None)
        if entry is None:
            return
        self._unanswered.pop(session, None)
        if status == pdu.ESME_ROK:
            self._acknowledged.append(entry[0])
        self.wake()

    def forget(self, session: Session) -> None:
        """A bind went away: what it had not acknowledged is offered again after its lease."""
        self._pending.pop(session, None)
        self._unanswered.pop(session, None)

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)
            self._wake.clear()
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("smpp receipts: round failed")
                await asyncio.sleep(self._poll_s)

    async def _round(self) -> None:
        await self.flush()
        self._give_up_unanswered()
        if await self._offer():
            self.wake()  # a full batch: there may be more
        if time.monotonic() - self._expired_at > EXPIRE_EVERY_S:
            self._expired_at = time.monotonic()
            dropped = await self._run(self._service.expire, DOOR, to_ts(self._clock.now()))
            if dropped:
                log.info("smpp receipts nobody took: dropped", count=dropped)

    async def flush(self) -> None:
        """Forget the receipts the clients acknowledged."""
        done, self._acknowledged = self._acknowledged, []
        if done:
            await self._run(self._service.acknowledged, done)

    def _give_up_unanswered(self) -> None:
        now = time.monotonic()
        for session, pending in self._pending.items():
            for sequence in [s for s, (_mid, until) in pending.items() if until <= now]:
                del pending[sequence]
                self._unanswered[session] = self._unanswered.get(session, 0) + 1

    async def _offer(self) -> bool:
        """Write the due receipts of every account with a receiver bound; True if some
        account had more due than its receivers had room for."""
        more = False
        for account_id, sessions in self._receivers().items():
            room = sum(max(self._window - self.in_flight(s), 0) for s in sessions)
            if room == 0:
                continue
            now = to_ts(self._clock.now())
            due = await self._run(self._service.due, DOOR, [account_id], now, self._retry_s, room)
            for receipt in due:
                self._deliver(receipt, sessions)
            more = more or len(due) == room
        return more

    def _deliver(self, receipt: DoorReceipt, sessions: list[Session]) -> None:
        open_ = [s for s in sessions if not s.closed]
        if not open_:
            return  # offered again after its lease
        session = min(open_, key=lambda s: (self._unanswered.get(s, 0), self.in_flight(s)))
        sequence = session.next_sequence()
        until = time.monotonic() + self._retry_s
        self._pending.setdefault(session, {})[sequence] = (receipt.message_id, until)
        record_smpp_pdu("deliver_sm", "request")
        session.write(pdu_smsc.encode_deliver_sm(sequence, receipt_message(receipt)))

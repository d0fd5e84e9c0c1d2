"""What the SMPP server owes its clients' receivers: receipts (final statuses of what they
submitted) and the account's inbound messages, each written as deliver_sm.

Both live in the store (domain/door_receipts.py, domain/door_inbound.py) until a client
acknowledges them, so they wait while no receiver of the account is bound and survive a
restart. While receivers are bound, the due ones of their accounts are leased
(`receipt_retry_s`) — receipts first, inbound messages in the room left — and written to
the receiver with the most free room (one that left deliveries unanswered last), at most
`deliver_window` unacknowledged per bind. An acknowledged one is deleted; one refused,
unanswered or on a bind that went away is offered again when its lease ends — to any
receiver of the account, so a client that never answers holds only its own window, never
another bind's or account's deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from tidings.channels.smpp import pdu, pdu_smsc
from tidings.domain.clock import Clock, to_ts
from tidings.domain.door_inbound import SMPP_DOOR, DoorInboundService
from tidings.domain.door_receipts import DoorReceiptService
from tidings.doors.smpp.inbound import inbound_message
from tidings.doors.smpp.receipts import receipt_message
from tidings.ops.metrics import record_smpp_pdu

if TYPE_CHECKING:
    from tidings.doors.smpp.session import Session

log = structlog.get_logger("tidings.smpp_server")

DOOR = SMPP_DOOR
# Old deliveries nobody came for are looked for this often.
EXPIRE_EVERY_S = 60.0
Run = Callable[..., Awaitable[Any]]


class Kind(enum.Enum):
    RECEIPT = "receipt"
    INBOUND = "inbound"


@dataclass(frozen=True)
class Pending:
    """A deliver_sm written and not answered yet."""

    kind: Kind
    # The message id of a receipt, the inbound message's id of an inbound message.
    key: int
    # When it is given up on (monotonic).
    until: float


class DeliveryPump:
    def __init__(
        self,
        receipts: DoorReceiptService,
        inbound: DoorInboundService,
        clock: Clock,
        run: Run,
        receivers: Callable[[], dict[int, list[Session]]],
        *,
        window: int,
        retry_s: int,
        poll_s: float,
    ) -> None:
        self._receipts = receipts
        self._inbound = inbound
        self._clock = clock
        self._run = run
        self._receivers = receivers
        self._window = window
        self._retry_s = retry_s
        self._poll_s = poll_s
        # Per bind: deliver_sm sequence → what it carries.
        self._pending: dict[Session, dict[int, Pending]] = {}
        self._acknowledged: dict[Kind, list[int]] = {kind: [] for kind in Kind}
        # Per bind: deliveries it left unanswered since it last answered one. The
        # deliveries of an account go to its binds that answer first.
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
            self._acknowledged[entry.kind].append(entry.key)
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
                log.exception("smpp deliveries: round failed")
                await asyncio.sleep(self._poll_s)

    async def _round(self) -> None:
        await self.flush()
        self._give_up_unanswered()
        if await self._offer():
            self.wake()  # a full batch: there may be more
        if time.monotonic() - self._expired_at > EXPIRE_EVERY_S:
            self._expired_at = time.monotonic()
            await self._expire()

    async def _expire(self) -> None:
        now = to_ts(self._clock.now())
        receipts = await self._run(self._receipts.expire, DOOR, now)
        inbound = await self._run(self._inbound.expire, DOOR, now)
        if receipts or inbound:
            log.info("smpp deliveries nobody took: dropped", receipts=receipts, inbound=inbound)

    async def flush(self) -> None:
        """Forget what the clients acknowledged."""
        receipts, inbound = self._acknowledged[Kind.RECEIPT], self._acknowledged[Kind.INBOUND]
        self._acknowledged = {kind: [] for kind in Kind}
        if receipts:
            await self._run(self._receipts.acknowledged, receipts)
        if inbound:
            await self._run(self._inbound.acknowledged, DOOR, inbound)

    def _give_up_unanswered(self) -> None:
        now = time.monotonic()
        for session, pending in self._pending.items():
            for sequence in [s for s, entry in pending.items() if entry.until <= now]:
                del pending[sequence]
                self._unanswered[session] = self._unanswered.get(session, 0) + 1

    async def _offer(self) -> bool:
        """Write what is due to every account with a receiver bound; True if some account
        had more due than its receivers had room for."""
        more = False
        for account_id, sessions in self._receivers().items():
            room = sum(max(self._window - self.in_flight(s), 0) for s in sessions)
            if room == 0:
                continue
            now = to_ts(self._clock.now())
            args = (DOOR, [account_id], now, self._retry_s)
            receipts = await self._run(self._receipts.due, *args, room)
            for receipt in receipts:
                self._deliver(Kind.RECEIPT, receipt.message_id, receipt_message(receipt), sessions)
            left = room - len(receipts)
            inbound = await self._run(self._inbound.due, *args, left) if left else []
            for message in inbound:
                self._deliver(Kind.INBOUND, message.inbound_id, inbound_message(message), sessions)
            more = more or len(receipts) + len(inbound) == room
        return more

    def _deliver(
        self, kind: Kind, key: int, message: pdu.ShortMessage, sessions: list[Session]
    ) -> None:
        open_ = [s for s in sessions if not s.closed]
        if not open_:
            return  # offered again after its lease
        session = min(open_, key=lambda s: (self._unanswered.get(s, 0), self.in_flight(s)))
        sequence = session.next_sequence()
        until = time.monotonic() + self._retry_s
        self._pending.setdefault(session, {})[sequence] = Pending(kind, key, until)
        record_smpp_pdu("deliver_sm", "request")
        session.write(pdu_smsc.encode_deliver_sm(sequence, message))

"""The Channel port: how the dispatcher hands a message to an upstream (SMPP, SMTP, virtual).

A channel knows nothing of the store or of money. It submits one message and reports what the
upstream said; delivery receipts that arrive later are pushed to the dispatcher's callback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from tidings.domain.lifecycle import MessageStatus


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int
    # E.164 digits without '+' for SMS; an address for e-mail.
    address: str
    # The text as sent: comment removed, transliterated; hex for bin=2.
    text: str
    sender: str
    # tidings.domain.jobs.MessageFormat value: 0 SMS, 1 flash, 4 bin, 5 bin-hex, 6 ping, 8 mail.
    fmt: int
    # Lifetime in minutes; 0 = the upstream's default.
    validity_min: int = 0
    # SMS parts as Tidings counted them (a channel that splits by itself may differ).
    parts: int = 1
    subject: str = ""
    # For e-mail lists: a key shared by every message of one list, so the MIME template is
    # built once per list and only the recipient is substituted.
    template_key: str = ""
    registered_delivery: bool = True


@dataclass(frozen=True)
class SubmitResult:
    """What the upstream answered to one submit.

    accepted: handed over; `upstream_ids` are the upstream's ids, one per part, for receipts.
    Not accepted and `retry`: a transient failure (throttling, 4xx, connection lost before
    the upstream answered); the dispatcher tries again later.
    Not accepted and not `retry`: a final failure; `final_status` and `err` say which.
    `final_status` on an accepted submit means the channel already knows the end (e-mail
    accepted by the relay counts as delivered; the virtual channel may decide at once).
    """

    accepted: bool
    upstream_ids: tuple[str, ...] = ()
    final_status: MessageStatus | None = None
    err: int = 0
    retry: bool = False
    detail: str = ""


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt for one upstream id (one part of a message)."""

    upstream: str
    upstream_id: str
    status: MessageStatus
    err: int = 0
    done_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # Tells the upstream the receipt is ours (SMPP: the deliver_sm_resp); called once it is
    # recorded. None: nothing to answer (virtual upstream).
    ack: Callable[[], None] | None = field(default=None, compare=False, repr=False)


# Called on the event loop as receipts arrive; it hands the receipt on and must not block.
ReceiptHandler = Callable[[Receipt], None]


class Channel(Protocol):
    """One upstream. `submit` may be called concurrently; the channel applies its own window
    and throughput limits (it awaits rather than refuses when they are reached)."""

    name: str

    async def start(self, on_receipt: ReceiptHandler) -> None: ...

    async def submit(self, message: OutboundMessage) -> SubmitResult: ...

    async def stop(self, *, drain: bool = True) -> None:
        """Stop: with drain, wait for submits in flight to be answered first."""

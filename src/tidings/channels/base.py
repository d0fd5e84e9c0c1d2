"""The Channel port: how the dispatcher hands a message to an upstream (SMPP, SMTP, virtual).

A channel knows nothing of the store or of money. It submits one message and reports what the
upstream said; delivery receipts that arrive later are pushed to the dispatcher's callback.
"""

from __future__ import annotations

import enum
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


class SubmitOutcome(enum.Enum):
    """What became of one submit, as far as the upstream let us know."""

    # Handed over: `upstream_ids` are the upstream's ids, one per part, for receipts.
    ACCEPTED = "accepted"
    # Not taken for now (throttling, a 4xx, no live connection, never written): try again.
    RETRY = "retry"
    # Written but never answered (timeout, connection lost): it may have reached the
    # upstream. The dispatcher's `on_ambiguous` policy decides: resend, or fail unrefunded.
    AMBIGUOUS = "ambiguous"
    # Refused for good: `final_status` and `err` say how.
    REFUSED = "refused"


@dataclass(frozen=True)
class SubmitResult:
    """What the upstream answered to one submit.

    `final_status` on an accepted submit means the channel already knows the end (e-mail
    accepted by the relay counts as delivered; the virtual channel may decide at once); on a
    refusal, the status it ends in (None: undeliverable). `upstream_ids` of a result that is
    not accepted are the parts the upstream took before it stopped (for the log).
    """

    outcome: SubmitOutcome
    upstream_ids: tuple[str, ...] = ()
    final_status: MessageStatus | None = None
    err: int = 0
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome is SubmitOutcome.ACCEPTED

    @property
    def retry(self) -> bool:
        """Not final: the upstream may take it on another try."""
        return self.outcome in (SubmitOutcome.RETRY, SubmitOutcome.AMBIGUOUS)


def accepted(
    upstream_ids: tuple[str, ...], final_status: MessageStatus | None = None, detail: str = ""
) -> SubmitResult:
    return SubmitResult(SubmitOutcome.ACCEPTED, upstream_ids, final_status, detail=detail)


def retry_later(detail: str, err: int = 0, done: tuple[str, ...] = ()) -> SubmitResult:
    return SubmitResult(SubmitOutcome.RETRY, done, err=err, detail=detail)


def ambiguous(detail: str, done: tuple[str, ...] = ()) -> SubmitResult:
    return SubmitResult(SubmitOutcome.AMBIGUOUS, done, detail=detail)


def refused(
    status: MessageStatus, detail: str, err: int = 0, done: tuple[str, ...] = ()
) -> SubmitResult:
    return SubmitResult(SubmitOutcome.REFUSED, done, status, err, detail)


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


@dataclass(frozen=True)
class InboundPart:
    """A mobile-originated message (or one part of a long one) as an upstream delivered it.

    `concat` is (reference, total, sequence) for a part of a long message (UDH or SAR), None
    for a whole one. `fingerprint` names the octets received, so a message the upstream
    delivers again (our answer was lost) is recognised and kept once.
    """

    upstream: str
    source: str
    destination: str
    text: str
    fingerprint: str
    concat: tuple[int, int, int] | None = None
    sent_at: datetime | None = None
    # As for Receipt: answers the upstream once the part is stored. None: nothing to answer.
    ack: Callable[[], None] | None = field(default=None, compare=False, repr=False)


# What an upstream hands to the dispatcher: a delivery receipt or an inbound message.
Arrival = Receipt | InboundPart
# Called on the event loop as receipts and inbound messages arrive; it hands them on and must
# not block.
ReceiptHandler = Callable[[Arrival], None]


class Channel(Protocol):
    """One upstream. `submit` may be called concurrently; the channel applies its own window
    and throughput limits (it awaits rather than refuses when they are reached)."""

    name: str

    async def start(self, on_receipt: ReceiptHandler) -> None: ...

    async def submit(self, message: OutboundMessage) -> SubmitResult: ...

    async def stop(self, *, drain: bool = True) -> None:
        """Stop: with drain, wait for submits in flight to be answered first."""

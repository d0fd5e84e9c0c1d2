"""The life of a message, a run and a mailing list: their states, declared once.

Every status number of the SMS Center API lives here and nowhere else; the table of message
transitions (`TRANSITIONS`) says, for each event, from which states a message may move, to
which, whether its charge comes back, and how it counts. The store applies a transition in
one transaction (`tidings.store.outcomes.apply_change`); nothing else changes a status or moves
money for a message.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class MessageStatus(enum.IntEnum):
    """Message statuses of the SMS Center API (status.php)."""

    NOT_FOUND = -3
    STOPPED = -2
    WAITING = -1
    HANDED_OVER = 0
    DELIVERED = 1
    READ = 2
    EXPIRED = 3
    UNDELIVERABLE = 20
    BAD_NUMBER = 22
    PROHIBITED = 23
    NO_MONEY = 24
    UNAVAILABLE = 25


# status.php's status 4, "link clicked": smsc.ru reports it, Tidings never produces it (not a
# MessageStatus); named so the API's table of status names can list it.
LINK_CLICKED = 4

FINAL_STATUSES = frozenset(
    {
        MessageStatus.STOPPED,
        MessageStatus.DELIVERED,
        MessageStatus.READ,
        MessageStatus.EXPIRED,
        MessageStatus.UNDELIVERABLE,
        MessageStatus.BAD_NUMBER,
        MessageStatus.PROHIBITED,
        MessageStatus.NO_MONEY,
        MessageStatus.UNAVAILABLE,
    }
)
# Not final yet: waiting for its turn, or with the upstream and waiting for a receipt.
IN_PROGRESS = frozenset({MessageStatus.WAITING, MessageStatus.HANDED_OVER})
# Final failures an upstream can report in a receipt.
FAILED_RECEIPT = frozenset(
    {
        MessageStatus.EXPIRED,
        MessageStatus.UNDELIVERABLE,
        MessageStatus.BAD_NUMBER,
        MessageStatus.PROHIBITED,
        MessageStatus.UNAVAILABLE,
    }
)
# Final statuses that count as delivered in reports.
DELIVERED_OR_READ = frozenset({MessageStatus.DELIVERED, MessageStatus.READ})
# Final statuses that count as failures in reports.
FAILED = FINAL_STATUSES - {MessageStatus.STOPPED, MessageStatus.DELIVERED, MessageStatus.READ}

# err of a message that may have reached the upstream before a crash (on_ambiguous = skip).
AMBIGUOUS_ERR = 1001
# err shown for a waiting message of a live account that no configured upstream takes: it
# waits, uncharged, until one is configured (or its validity ends).
NO_UPSTREAM_ERR = 1002


class JobStatus(enum.IntEnum):
    """[choice] jobs.md §3: the mailing-list status values."""

    WAITING = -1
    SENDING = 0
    FINISHED = 1
    DISABLED = -2


class RunStatus(enum.IntEnum):
    """One run of a mailing list: open while its messages are not all final."""

    OPEN = 0
    FINISHED = 1


class Change(enum.Enum):
    """Everything that can happen to a message once it is queued."""

    # A claim or the sweep finds it out of time before it was ever handed over.
    EXPIRED_UNSENT = "expired unsent"
    # Its first claim finds the balance plus credit short of its price.
    NO_MONEY = "no money"
    # The upstream took it.
    HANDED_OVER = "handed over"
    # The upstream refused it for good.
    REFUSED = "refused"
    # It may have reached the upstream (a submit never answered, or armed at a crash) and
    # the `on_ambiguous` policy is "skip": it may have been sent, so it stays paid for.
    GAVE_UP_AMBIGUOUS = "gave up, ambiguous"
    # The channel knew its end at once (e-mail taken by the relay; the virtual upstream).
    FINISHED_BY_UPSTREAM = "finished by the upstream"
    # A delivery receipt: delivered, or a final failure.
    RECEIPTED = "receipted"
    # Handed over, and no receipt came within its validity plus the receipt grace.
    EXPIRED_UNRECEIPTED = "expired without a receipt"
    # Its list was cancelled (or deleted) before it went out.
    STOPPED = "stopped"


class Counts(enum.Enum):
    """How a change moves the counters of its run and list."""

    # Handed over: the list's `sms_sent` and `last_sent`.
    SENT = "sent"
    # Final: the run's `final_cnt` (the run ends when every message is final), and the
    # list's `sms_ok` when delivered.
    FINAL = "final"


@dataclass(frozen=True)
class Transition:
    change: Change
    sources: frozenset[MessageStatus]
    targets: frozenset[MessageStatus]
    # The message's charge comes back: it provably never reached an upstream.
    refund: bool
    counts: Counts
    # A status callback is queued for the account (when it has a callback URL).
    callback: bool = True

    def target(self, status: MessageStatus | None = None) -> MessageStatus:
        """The status this change leads to (`status` where it may lead to several)."""
        if status is None:
            if len(self.targets) != 1:
                raise ValueError(f"{self.change.value}: which status?")
            (status,) = self.targets
        if status not in self.targets:
            raise ValueError(f"{self.change.value} cannot lead to {status.name}")
        return status


_W = frozenset({MessageStatus.WAITING})
_H = frozenset({MessageStatus.HANDED_OVER})
S = MessageStatus
# Final statuses an upstream reports (as a refusal, at once, or in a receipt).
UPSTREAM_FINAL = FAILED_RECEIPT | {S.DELIVERED, S.READ}

TRANSITIONS: dict[Change, Transition] = {
    t.change: t
    for t in (
        Transition(Change.EXPIRED_UNSENT, _W, frozenset({S.EXPIRED}), True, Counts.FINAL),
        Transition(Change.NO_MONEY, _W, frozenset({S.NO_MONEY}), True, Counts.FINAL),
        Transition(Change.HANDED_OVER, _W, _H, False, Counts.SENT),
        Transition(Change.REFUSED, _W, FAILED_RECEIPT, True, Counts.FINAL),
        Transition(Change.GAVE_UP_AMBIGUOUS, _W, frozenset({S.UNDELIVERABLE}), False, Counts.FINAL),
        Transition(Change.FINISHED_BY_UPSTREAM, _H, UPSTREAM_FINAL, False, Counts.FINAL),
        Transition(Change.RECEIPTED, _H, UPSTREAM_FINAL, False, Counts.FINAL),
        Transition(Change.EXPIRED_UNRECEIPTED, _H, frozenset({S.EXPIRED}), False, Counts.FINAL),
        Transition(Change.STOPPED, _W, frozenset({S.STOPPED}), True, Counts.FINAL),
    )
}

# status.php `del`: a message leaves the history only once nothing can change it any more.
# Its run and list keep their figures (they are the list's history, not a view of rows).
DELETABLE = FINAL_STATUSES


def is_paid_for(status: MessageStatus, handed_over: bool, err: int) -> bool:
    """Whether a final message keeps its charge: it reached an upstream, or may have."""
    if status not in FINAL_STATUSES:
        return True  # not final yet: charged when claimed, settled when it ends
    return handed_over or (status is S.UNDELIVERABLE and err == AMBIGUOUS_ERR)

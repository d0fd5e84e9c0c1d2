"""The life of a message, a run and a mailing list: their states, declared once.

Every status number of the SMS Center API lives here and nowhere else; the table of message
transitions (`TRANSITIONS`) says, for each event, from which states a message may move, to
which, whether its charge comes back, and how it counts. The store applies a transition in
one transaction (`tidings.store.outcomes.apply`); nothing else changes a status or moves
money for a message.
"""

from __future__ import annotations

import enum


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
# Final statuses that count as failures in reports.
FAILED = FINAL_STATUSES - {MessageStatus.STOPPED, MessageStatus.DELIVERED, MessageStatus.READ}

# err of a message that may have reached the upstream before a crash (on_ambiguous = fail).
AMBIGUOUS_ERR = 1001


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

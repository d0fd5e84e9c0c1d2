"""How far a mailing list has got: its messages' statuses in the four groups a person reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tidings.domain.lifecycle import DELIVERED_OR_READ, MessageStatus


@dataclass(frozen=True)
class Progress:
    waiting: int
    sent: int
    delivered: int
    failed: int

    @property
    def total(self) -> int:
        return self.waiting + self.sent + self.delivered + self.failed

    @property
    def finished(self) -> int:
        return self.delivered + self.failed

    def share(self, part: int) -> float:
        """`part` as a percentage of all messages (0 when there are none)."""
        return 100.0 * part / self.total if self.total else 0.0

    @property
    def percent_done(self) -> int:
        """Messages with a final status, as a whole percentage (100 only when all are)."""
        if not self.total:
            return 0
        return 100 * self.finished // self.total


def progress(counts: Mapping[int, int], recipients: int) -> Progress:
    """Group message counts by status; before the first run, every recipient is waiting."""
    if not counts:
        return Progress(waiting=recipients, sent=0, delivered=0, failed=0)
    buckets = {"waiting": 0, "sent": 0, "delivered": 0, "failed": 0}
    for status, count in counts.items():
        buckets[progress_bucket(status)] += count
    return Progress(**buckets)


def progress_bucket(status: int) -> str:
    """Which progress column a message status counts in: waiting, handed to the upstream,
    delivered (or read); every other status is final and not a delivery (expired,
    undeliverable, stopped, ...)."""
    if status == MessageStatus.WAITING:
        return "waiting"
    if status == MessageStatus.HANDED_OVER:
        return "sent"
    if status in DELIVERED_OR_READ:
        return "delivered"
    return "failed"

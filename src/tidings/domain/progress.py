"""How far a mailing list has got: its messages' statuses in the four groups a person reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Message statuses (status.php): -1 waiting, 0 handed to the upstream, 1 delivered, 2 read;
# every other status is final and not a delivery (expired, undeliverable, stopped, ...).
_WAITING = -1
_SENT = 0
_DELIVERED = (1, 2)


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
    waiting = sent = delivered = failed = 0
    for status, count in counts.items():
        if status == _WAITING:
            waiting += count
        elif status == _SENT:
            sent += count
        elif status in _DELIVERED:
            delivered += count
        else:
            failed += count
    return Progress(waiting=waiting, sent=sent, delivered=delivered, failed=failed)

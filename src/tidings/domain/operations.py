"""Values the operator's tools show: live upstream state, mailing-list progress, and the
store-side figures of /metrics.

Pure data: the store fills them, the CLI, /metrics and the web cabinet render them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# A dispatcher reports every ~2 s; a row older than this belongs to one that stopped or died.
STALE_AFTER_S = 10.0


@dataclass(frozen=True)
class UpstreamState:
    """One upstream as one dispatcher (worker) sees it."""

    upstream: str
    worker_id: str
    kind: str  # "virtual", "smpp", "smtp"
    bound: bool
    binds_live: int
    binds_total: int
    in_flight: int
    window: int
    rate: float  # messages handed over per second over the last interval
    submitted: int  # handed over since the dispatcher started
    last_error: str
    last_error_at: datetime | None
    updated_at: datetime

    def stale(self, now: datetime) -> bool:
        return (now - self.updated_at).total_seconds() > STALE_AFTER_S


@dataclass(frozen=True)
class JobProgress:
    """Per-status message counts of one mailing list (all its runs)."""

    job_id: int
    name: str
    status: int
    recipients: int
    waiting: int  # not handed over yet (-1)
    sent: int  # handed over, no final status yet (0)
    delivered: int  # 1, 2
    failed: int  # every other final status (stopped -2 included)

    @property
    def total(self) -> int:
        return self.waiting + self.sent + self.delivered + self.failed

    @property
    def done(self) -> int:
        return self.delivered + self.failed


@dataclass(frozen=True)
class LiveFigures:
    """Store-side series of /metrics that stay cheap at any size (index ranges over the
    messages not yet final, a scan of the small accounts table)."""

    pending: dict[int, int]  # status (-1 waiting, 0 handed over) → messages
    queue: dict[str, int]  # upstream → messages due and waiting to be claimed
    balances: int  # sum of every account's balance (minor units)


@dataclass(frozen=True)
class TotalFigures:
    """Store-side series that read every message and ledger row (measured on PostgreSQL,
    10M messages + 10M ledger rows, 2 busy cores: 1.7 s and 3.6 s)."""

    final: dict[int, int]  # final status → messages
    ledger: dict[str, tuple[int, int]]  # kind → (sum of amounts in minor units, entries)

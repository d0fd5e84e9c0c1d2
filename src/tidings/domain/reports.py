"""How mailing lists are doing, as the cabinet and `tidings jobs` show it: the table of lists
with their progress, one list's recipients and its delivery timeline.

Every read is scoped by the account: another account's list reads as empty.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tidings.domain.accounts import Account
from tidings.domain.jobs import JobView
from tidings.domain.operations import JobProgress
from tidings.domain.progress import Progress, progress


@dataclass(frozen=True)
class JobSummary:
    """A mailing list as its row in the cabinet's table (no recipients, no text)."""

    job_id: int
    name: str
    status: int
    need_date: datetime | None
    rpt: int
    phones_cnt: int


@dataclass(frozen=True)
class RecipientRow:
    message_id: int
    address: str
    status: int
    err: int
    parts: int
    cost_minor: int
    sent_at: datetime | None
    done_at: datetime | None


@dataclass(frozen=True)
class Timeline:
    """Deliveries counted in equal time buckets from the first delivery on."""

    start: datetime
    bucket_s: int
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class ListPage:
    """One page of the table of lists, each with its progress."""

    lines: list[tuple[JobSummary, Progress]]
    has_next: bool


class ReportStore(Protocol):
    def job_page(self, account_id: int, offset: int, limit: int) -> list[JobSummary]:
        """The account's live lists, newest first."""

    def status_counts(self, account_id: int, job_ids: Sequence[int]) -> dict[int, dict[int, int]]:
        """Messages per status of each list (list number → status → count)."""

    def delivery_timeline(self, account_id: int, job_id: int) -> Timeline | None: ...

    def recipients(
        self, account_id: int, job_id: int, search: str, offset: int, limit: int
    ) -> list[RecipientRow]: ...

    def iter_recipients(self, account_id: int, job_id: int) -> Iterator[RecipientRow]: ...

    def job_progress(self, account_id: int, limit: int) -> list[JobProgress]: ...


class ReportService:
    def __init__(self, store: ReportStore) -> None:
        self._store = store

    def list_page(self, account: Account, offset: int, limit: int) -> ListPage:
        """`limit` lists from `offset` on, with their progress."""
        jobs = self._store.job_page(account.id, offset, limit + 1)
        shown = jobs[:limit]
        # Counted for the lists on screen only: the cabinet polls this table every 2 s.
        counts = self._store.status_counts(account.id, [j.job_id for j in shown])
        lines = [(job, progress(counts.get(job.job_id, {}), job.phones_cnt)) for job in shown]
        return ListPage(lines, has_next=len(jobs) > limit)

    def list_progress(self, account: Account, job: JobView) -> tuple[Progress, dict[int, int]]:
        """One list's progress and its messages per status."""
        by_status = self._store.status_counts(account.id, [job.job_id]).get(job.job_id, {})
        return progress(by_status, job.phones_cnt), by_status

    def recipients(
        self, account: Account, job_id: int, search: str, offset: int, limit: int
    ) -> list[RecipientRow]:
        """One page of a list's messages, only addresses containing `search` when given."""
        return self._store.recipients(account.id, job_id, search, offset, limit)

    def iter_recipients(self, account: Account, job_id: int) -> Iterator[RecipientRow]:
        """Every message of a list, read in batches (an export of any size)."""
        return self._store.iter_recipients(account.id, job_id)

    def delivery_timeline(self, account: Account, job_id: int) -> Timeline | None:
        """Deliveries over time; None before the first one."""
        return self._store.delivery_timeline(account.id, job_id)

    def job_progress(self, account: Account, limit: int = 1000) -> list[JobProgress]:
        """The account's lists with waiting/sent/delivered/failed counts (`tidings jobs`)."""
        return self._store.job_progress(account.id, limit)

"""How mailing lists are doing, as the cabinet and `tidings jobs` show it: the table of lists
with their progress, one list's recipients and its delivery timeline.

Every read is scoped by the account: another account's list reads as empty.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from tidings.domain.accounts import Account
from tidings.domain.clock import to_ts
from tidings.domain.jobs import JobView
from tidings.domain.operations import JobProgress
from tidings.domain.progress import Progress, progress
from tidings.errors import NotFound


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


@dataclass(frozen=True)
class PeriodFigures:
    """The account's messages created in a period, counted by the store."""

    messages: int
    delivered: int
    failed: int
    cost_minor: int

    @property
    def delivered_percent(self) -> int:
        """Delivered (or read) messages as a whole percentage of all (0 when none)."""
        return 100 * self.delivered // self.messages if self.messages else 0


@dataclass(frozen=True)
class Dashboard:
    """The cabinet's landing page: today and this month in the account's zone, and the
    lists sending now with their progress."""

    today: PeriodFigures
    month: PeriodFigures
    running: list[tuple[JobSummary, Progress]]


# The lists a dashboard shows as running (the table of lists has them all).
RUNNING_SHOWN = 20


@dataclass(frozen=True)
class LiveList:
    """What a list's page shows changing while it sends, read at one moment so that each
    part agrees with the others: the list's row (status, cost so far, last sent), its
    messages per status, the deliveries over time and one page of its recipients."""

    job: JobView
    by_status: dict[int, int]
    timeline: Timeline | None
    recipients: list[RecipientRow]

    @property
    def progress(self) -> Progress:
        return progress(self.by_status, self.job.phones_cnt)


class ReportStore(Protocol):
    def live_list(
        self, account_id: int, job_id: int, search: str, offset: int, limit: int
    ) -> LiveList | None:
        """A list's live parts in one snapshot (`search`, `offset`, `limit`: the page of
        recipients); None when there is no such list."""

    def job_page(self, account_id: int, offset: int, limit: int) -> list[JobSummary]:
        """The account's live lists, newest first."""

    def status_counts(self, account_id: int, job_ids: Sequence[int]) -> dict[int, dict[int, int]]:
        """Messages per status of each list (list number → status → count)."""

    def iter_recipients(self, account_id: int, job_id: int) -> Iterator[RecipientRow]: ...

    def job_progress(self, account_id: int, limit: int) -> list[JobProgress]: ...

    def period_figures(
        self, account_id: int, periods: Sequence[tuple[int, int]]
    ) -> list[PeriodFigures]:
        """The figures of each [start, end) period (unix seconds), counted in one pass."""

    def running_jobs(self, account_id: int, limit: int) -> list[JobSummary]:
        """The account's lists sending now, newest first."""


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

    def live_list(
        self, account: Account, job_id: int, search: str, offset: int, limit: int
    ) -> LiveList:
        """A list's page as it changes while it sends, every part read at the same moment."""
        found = self._store.live_list(account.id, job_id, search, offset, limit)
        if found is None:
            raise NotFound("mailing list not found")
        return found

    def iter_recipients(self, account: Account, job_id: int) -> Iterator[RecipientRow]:
        """Every message of a list, read in batches (an export of any size)."""
        return self._store.iter_recipients(account.id, job_id)

    def dashboard(self, account: Account, now: datetime) -> Dashboard:
        """Today's and this month's figures (the account's calendar) and the running lists."""
        day, month = day_and_month(now, ZoneInfo(account.timezone))
        today, this_month = self._store.period_figures(account.id, [day, month])
        jobs = self._store.running_jobs(account.id, RUNNING_SHOWN)
        counts = self._store.status_counts(account.id, [j.job_id for j in jobs])
        running = [(job, progress(counts.get(job.job_id, {}), job.phones_cnt)) for job in jobs]
        return Dashboard(today, this_month, running)

    def job_progress(self, account: Account, limit: int = 1000) -> list[JobProgress]:
        """The account's lists with waiting/sent/delivered/failed counts (`tidings jobs`)."""
        return self._store.job_progress(account.id, limit)


def day_and_month(now: datetime, zone: ZoneInfo) -> tuple[tuple[int, int], tuple[int, int]]:
    """[start, end) of the day and of the month `now` falls in, on the zone's calendar, in
    unix seconds (a day across a DST change is 23 or 25 hours long)."""
    today = now.astimezone(zone).date()
    first = today.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)

    def midnight(day: date) -> int:
        return to_ts(datetime.combine(day, time.min, zone))

    return (midnight(today), midnight(today + timedelta(days=1))), (
        midnight(first),
        midnight(next_month),
    )

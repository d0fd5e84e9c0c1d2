"""The scheduler: turns due mailing lists into runs of messages, and ends runs.

A run is opened in one transaction: the list moves from waiting to sending, the run row and
every message are written together, so a crash leaves either the whole run or none of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import structlog

from tidings.config import DispatchSettings
from tidings.domain.clock import Clock, from_ts, to_ts
from tidings.domain.jobs import MessageFormat, message_parts
from tidings.domain.lifecycle import JobStatus, MessageStatus
from tidings.domain.routing import Routes
from tidings.domain.schedule import (
    Repeat,
    next_run,
    portion_index,
    portion_offsets,
    runs_remaining,
    zone_from_name,
)
from tidings.store import runs
from tidings.store.db import Database, Tx

log = structlog.get_logger("tidings.scheduler")


class Scheduler:
    def __init__(
        self, db: Database, routes: Routes, settings: DispatchSettings, clock: Clock
    ) -> None:
        self._db = db
        self._routes = routes
        self._settings = settings
        self._clock = clock

    def tick(self) -> int:
        """Open the runs that are due and close the runs that are over; returns runs opened."""
        now = to_ts(self._clock.now())
        with self._db.tx(write=False) as tx:
            due = runs.due_jobs(tx, now, 50)
        opened = sum(1 for job_pk in due if self.open_run(job_pk, now))
        self.finish_runs()
        return opened

    def open_run(self, job_pk: int, now: int) -> bool:
        with self._db.tx() as tx:
            job = runs.take_job(tx, job_pk, now)
            if job is None:
                return False
            plan = self._plan(job, now)
            run_id = runs.open_run(tx, job, plan, now)
            count = self._materialise(tx, job, run_id, plan, now)
            runs.close_run_opening(tx, job, run_id, plan.run_no, count, now)
        log.info("run opened", job=job_pk, run=plan.run_no, messages=count)
        return True

    def _plan(self, job: runs.RunJob, now: int) -> runs.RunPlan:
        fmt = MessageFormat(job.fmt)
        parts = 1 if job.is_mail else message_parts(job.message, fmt, job.translit)
        portions = len(portion_offsets(job.period, job.freq)) if job.freq else 1
        validity = job.validity_min or self._settings.default_validity_min
        return runs.RunPlan(
            run_no=job.runs_done + 1,
            start=now,
            portion_s=job.freq * 60,
            portions=portions,
            validity_s=validity * 60,
            channel=self._routes.uniform(mail=job.is_mail, test_mode=job.test_mode),
            parts=parts,
        )

    def _materialise(
        self, tx: Tx, job: runs.RunJob, run_id: int, plan: runs.RunPlan, now: int
    ) -> int:
        if plan.channel is not None and not job.has_texts:
            count = runs.insert_direct_messages(tx, job, run_id, plan, now)
        else:
            direct = runs.direct_recipients(tx, job.job_pk, job.account_id)
            total = max(job.direct_count, 1)
            rows = (
                self._row(
                    job, run_id, plan, address, text, portion_index(seq, total, plan.portions), now
                )
                for seq, address, text in direct
            )
            count = runs.insert_messages(tx, rows)
        members = runs.group_recipients(tx, job)
        if members:
            count += runs.insert_messages(tx, self._group_rows(job, run_id, plan, members, now))
        return count

    def _group_rows(
        self,
        job: runs.RunJob,
        run_id: int,
        plan: runs.RunPlan,
        members: Sequence[str],
        now: int,
    ) -> Iterator[Sequence[Any]]:
        total = len(members)
        for index, address in enumerate(members):
            yield self._row(
                job, run_id, plan, address, None, portion_index(index, total, plan.portions), now
            )

    def _row(
        self,
        job: runs.RunJob,
        run_id: int,
        plan: runs.RunPlan,
        address: str,
        text: str | None,
        portion: int,
        now: int,
    ) -> Sequence[Any]:
        channel = plan.channel or self._routes.channel_for(
            address, mail=job.is_mail, test_mode=job.test_mode
        )
        parts = plan.parts
        if text is not None and not job.is_mail:
            parts = message_parts(text, MessageFormat(job.fmt), job.translit)
        due = plan.start + portion * plan.portion_s
        return (
            job.account_id,
            job.job_pk,
            run_id,
            address,
            text,
            job.sender,
            channel,
            job.fmt,
            parts,
            int(MessageStatus.WAITING),
            due,
            due + plan.validity_s,
            now,
        )

    def finish_runs(self) -> int:
        """Close runs whose every message is final; schedule the list's next run or end it."""
        now = self._clock.now()
        with self._db.tx(write=False) as tx:
            over = runs.finished_runs(tx)
        for run_id, job_pk in over:
            with self._db.tx() as tx:
                runs.lock_job(tx, job_pk)
                if runs.finish_run(tx, run_id, to_ts(now)):
                    self._after_run(tx, job_pk, now)
        return len(over)

    def _after_run(self, tx: Tx, job_pk: int, now: datetime) -> None:
        state = runs.job_after_run(tx, job_pk)
        if state is None:
            return
        status, rpt, rptn, zone, need_date, runs_done = state
        if status != JobStatus.SENDING:
            return  # cancelled or deleted while it ran: it stays so
        upcoming = self._next_date(rpt, rptn, zone, need_date, runs_done, now)
        if upcoming is None:
            runs.set_job_state(tx, job_pk, JobStatus.FINISHED, None, to_ts(now))
        else:
            runs.set_job_state(tx, job_pk, JobStatus.WAITING, to_ts(upcoming), to_ts(now))
        log.info("run finished", job=job_pk, next=str(upcoming) if upcoming else None)

    @staticmethod
    def _next_date(
        rpt: int, rptn: int, zone: str, need_date: int, runs_done: int, now: datetime
    ) -> datetime | None:
        if rpt == Repeat.NONE or not runs_remaining(rptn, runs_done):
            return None
        previous = from_ts(need_date)
        assert previous is not None
        tz = zone_from_name(zone)
        upcoming = next_run(previous, Repeat(rpt), tz)
        # A run that overran its successor's time skips the occurrences already past.
        while upcoming is not None and upcoming <= now:
            upcoming = next_run(upcoming, Repeat(rpt), tz)
        return upcoming

"""Mailing lists (jobs): their values, states, and the service that creates and manages them."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from tidings.domain.accounts import Account
from tidings.domain.lifecycle import JobStatus
from tidings.domain.pricing import Tariff
from tidings.domain.schedule import HourWindow
from tidings.domain.sms import (
    Encoding,
    binary_segment_count,
    segment_count,
    split_comment,
    transliterate,
)
from tidings.errors import InvalidParameter, NotFound, RecordError

if TYPE_CHECKING:
    from tidings.domain.templates import Template

MAX_JOB_ID = 2_147_483_647


class MessageFormat(enum.IntEnum):
    """The official libraries' format index (jobs.md §3 `format`)."""

    SMS = 0
    FLASH = 1
    BIN = 4
    BIN_HEX = 5
    PING = 6
    MAIL = 8

    @property
    def is_binary(self) -> bool:
        return self in (MessageFormat.BIN, MessageFormat.BIN_HEX)


@dataclass(frozen=True)
class NewJob:
    """A validated `add` request. Recipients are normalised; `G<n>` codes are kept as groups."""

    name: str
    phones_text: str
    addresses: Sequence[str]
    # Per-recipient texts from `list`, aligned with `addresses`; None: all get `message`.
    texts: Sequence[str] | None
    groups: Sequence[int]
    message: str
    fmt: MessageFormat
    first_run: datetime
    zone: str
    job_id: int | None = None
    template_id: int | None = None
    subject: str = ""
    sender: str = ""
    sender2: str = ""
    window: HourWindow | None = None
    rpt: int = 0
    rptn: int = 0
    period: str = "0"
    freq: int = 0
    validity_min: int = 0
    translit: int = 0
    resend: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    # What was given as a recipient and is none (not a number or address): left out.
    rejected: Sequence[str] = ()

    @property
    def is_mail(self) -> bool:
        return self.fmt is MessageFormat.MAIL


@dataclass(frozen=True)
class JobView:
    """One mailing list as `get`/`get_all` show it."""

    job_id: int
    name: str
    subject: str
    rpt: int
    rptn: int
    created_at: datetime
    changed_at: datetime
    need_date: datetime | None
    last_sent: datetime | None
    phones_text: str
    message: str
    fmt: int
    validity_min: int
    period: str
    freq: int
    status: int
    sender: str
    phones_cnt: int
    cost_minor: int
    sms_sent: int
    sms_ok: int
    is_mail: bool


class JobStore(Protocol):
    """What the job service needs from the store."""

    def approved_senders(self, account_id: int) -> list[str]: ...

    def template(self, account_id: int, template_id: int) -> Template | None: ...

    def signature_template(self, account_id: int) -> Template | None: ...

    def group_addresses(self, account_id: int, groups: Sequence[int], mail: bool) -> list[str]:
        """Every contact address of these groups now."""

    def tariff_for(self, account: Account) -> Tariff: ...

    def insert_job(self, account_id: int, job: NewJob, now: datetime) -> int:
        """Store the list and its recipients; raise RecordError if the id is taken."""

    def get_job(self, account_id: int, job_id: int) -> JobView | None: ...

    def list_jobs(
        self, account_id: int, start: date | None, end: date | None, zone: str
    ) -> list[JobView]: ...

    def cancel_job(self, account_id: int, job_id: int, now: datetime) -> JobStatus | None:
        """Disable a waiting or sending list; return its status before, None if not found."""

    def delete_job(self, account_id: int, job_id: int, now: datetime) -> bool: ...


@dataclass(frozen=True)
class Created:
    job_id: int
    cost_minor: int | None


@dataclass(frozen=True)
class Preview:
    """What a list will be before it is created: its text as sent and one run's cost."""

    recipients: int
    groups: Sequence[int]
    characters: int
    encoding: Encoding
    parts: int
    cost_minor: int
    # Given as recipients and none (not a number or address): left out of the list.
    refused: Sequence[str] = ()


class JobService:
    def __init__(self, store: JobStore) -> None:
        self._store = store

    def create(self, account: Account, job: NewJob, now: datetime, *, with_cost: bool) -> Created:
        job = self._checked(account, job)
        cost = self.run_cost(account, job) if with_cost else None
        return Created(self._store.insert_job(account.id, job, now), cost)

    def preview(self, account: Account, job: NewJob) -> Preview:
        """Everything `create` checks, and the cost `cost=1` reports, without storing."""
        job = self._checked(account, job)
        body = transliterate(split_comment(job.message)[0], job.translit)
        return Preview(
            recipients=len(job.addresses),
            groups=job.groups,
            characters=len(body),
            encoding=Encoding.BINARY if job.fmt.is_binary else segment_count(body).encoding,
            parts=message_parts(job.message, job.fmt, job.translit),
            cost_minor=self.run_cost(account, job),
            refused=job.rejected,
        )

    def _checked(self, account: Account, job: NewJob) -> NewJob:
        # templates.py builds on the request rules, which build on this module's formats.
        from tidings.domain import templates

        if job.template_id is not None:
            found = self._store.template(account.id, job.template_id)
            used = templates.resolve(found, job.fmt, job.sender)
            job = replace(job, message=used.text, fmt=used.fmt, sender=used.sender)
        signature = self._store.signature_template(account.id)
        if signature is not None:
            job = replace(
                job,
                message=templates.signed(job.message, signature, job.fmt),
                texts=templates.signed_texts(job.texts, signature, job.fmt),
            )
        self._check_sender(account, job)
        return job

    def get(self, account: Account, job_id: int) -> JobView:
        view = self._store.get_job(account.id, job_id)
        if view is None:
            raise NotFound("mailing list not found")
        return view

    def list(self, account: Account, start: date | None, end: date | None) -> list[JobView]:
        return self._store.list_jobs(account.id, start, end, account.timezone)

    def cancel(self, account: Account, job_id: int, now: datetime) -> None:
        before = self._store.cancel_job(account.id, job_id, now)
        if before is None:
            raise NotFound("mailing list not found")
        if before not in (JobStatus.WAITING, JobStatus.SENDING):
            raise RecordError("mailing list cannot be cancelled")

    def delete(self, account: Account, job_id: int, now: datetime) -> None:
        if not self._store.delete_job(account.id, job_id, now):
            raise NotFound("mailing list not found")

    def run_cost(self, account: Account, job: NewJob) -> int:
        """The cost of one run if it went out now: the recipients given and the members of
        its `G<n>` groups as they are now (a group may change before the run)."""
        tariff = self._store.tariff_for(account)
        members = self._group_members(account, job)
        if job.is_mail:
            return tariff.email_cost() * (len(job.addresses) + len(members))
        parts_of = _PartsCounter(job)
        given = sum(tariff.sms_cost(address, parts_of(text)) for address, text in _pairs(job))
        parts = parts_of(job.message)
        return given + sum(tariff.sms_cost(address, parts) for address in members)

    def _group_members(self, account: Account, job: NewJob) -> Sequence[str]:
        """Group members not among the addresses given (a run sends each address once)."""
        if not job.groups:
            return []
        known = set(job.addresses)
        found = self._store.group_addresses(account.id, job.groups, job.is_mail)
        return [a for a in dict.fromkeys(found) if a not in known]

    def _check_sender(self, account: Account, job: NewJob) -> None:
        """[choice] A sender must be approved, unless the account has no senders configured."""
        approved = self._store.approved_senders(account.id)
        if not approved:
            return
        for sender in {job.sender, job.sender2} - {""}:
            if sender not in approved:
                raise InvalidParameter(
                    "sender: %(sender)r is not an approved sender", sender=sender
                )


def _pairs(job: NewJob) -> Iterator[tuple[str, str]]:
    if job.texts is None:
        for address in job.addresses:
            yield address, job.message
    else:
        yield from zip(job.addresses, job.texts, strict=True)


class _PartsCounter:
    """Parts per text, computed once per distinct text (a list usually has one)."""

    def __init__(self, job: NewJob) -> None:
        self._job = job
        self._cache: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        parts = self._cache.get(text)
        if parts is None:
            parts = message_parts(text, self._job.fmt, self._job.translit)
            self._cache[text] = parts
        return parts


def message_parts(text: str, fmt: MessageFormat, translit: int) -> int:
    """SMS parts of one message as it will be sent (comment removed, transliterated)."""
    body, _comment = split_comment(text)
    if fmt is MessageFormat.PING:
        return 1
    if fmt is MessageFormat.BIN_HEX:
        return binary_segment_count(bytes.fromhex(body)).parts
    if fmt is MessageFormat.BIN:
        return binary_segment_count(body.encode("latin-1", errors="replace")).parts
    return segment_count(transliterate(body, translit)).parts

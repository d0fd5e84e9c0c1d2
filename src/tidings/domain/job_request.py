"""A jobs.php `add` request (jobs.md §1) as a NewJob: every parameter checked, nothing stored.

The cabinet's create-list form sends fields of the same names, so both are held to the same
rules by the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from tidings.domain import phones as phone_rules
from tidings.domain.accounts import Account
from tidings.domain.jobs import MAX_JOB_ID, MessageFormat, NewJob
from tidings.domain.message_rules import (
    MAX_RECIPIENTS,
    Fields,
    check_no_nul,
    check_recipient_count,
    check_text,
    list_recipients,
    message_format,
    refuse_messenger_recipients,
    sender_name,
    subject,
    template_ref,
    translit,
)
from tidings.domain.numbers import parse_uint
from tidings.domain.schedule import (
    parse_freq,
    parse_period,
    parse_rpt,
    parse_rptn,
    parse_time,
    parse_tz,
    parse_valid,
    validate_spread,
    zone_name,
)
from tidings.errors import InvalidParameter

MAX_NAME = 100  # [choice] jobs.md §1


def new_job(
    values: Mapping[str, str],
    account: Account,
    now: datetime,
    *,
    max_recipients: int = MAX_RECIPIENTS,
) -> NewJob:
    """The `add` parameters as a NewJob; raises the first rule they break."""
    p = Fields(values)
    fmt = message_format(p)
    mail = fmt is MessageFormat.MAIL
    name = _name(p.get("name"))
    zone = parse_tz(p.get("tz"), ZoneInfo(account.timezone))
    first = parse_time(p.get("time"), zone, now)
    period, freq = parse_period(p.get("period")), parse_freq(p.get("freq"))
    validate_spread(period, freq)
    message, template_id = _message(p, fmt)
    phones_text, addresses, texts, groups, rejected = _recipients(p, account.region, mail)
    check_recipient_count(len(addresses), max_recipients, "list" if texts else "phones")
    subj = subject(p.get("subj"), mail, "an e-mail mailing list")
    return NewJob(
        name=name,
        phones_text=phones_text,
        addresses=addresses,
        rejected=rejected,
        texts=texts,
        groups=groups,
        message=message,
        fmt=fmt,
        first_run=first.at,
        zone=zone_name(zone),
        job_id=job_id(p.get("id"), required=False),
        template_id=template_id,
        subject=subj,
        sender=sender_name(p.get("sender"), mail, "sender"),
        sender2=sender_name(p.get("sender2"), mail, "sender2"),
        window=first.window,
        rpt=int(parse_rpt(p.get("rpt"))),
        rptn=parse_rptn(p.get("rptn")),
        period=period,
        freq=freq,
        validity_min=parse_valid(p.get("valid")),
        translit=translit(p.get("translit")),
        resend=p.flag("fl[5]"),
    )


def job_id(value: str | None, *, required: bool) -> int | None:
    """A mailing-list id, 1…2147483647."""
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidParameter("%(field)s: required", field="id")
        return None
    number = parse_uint(text, MAX_JOB_ID)
    if not number:
        raise InvalidParameter("id: an integer 1..%(n)s", n=MAX_JOB_ID)
    return number


def _name(value: str | None) -> str:
    name = (value or "").strip()
    check_no_nul(name, "name")
    if not name:
        raise InvalidParameter("%(field)s: required", field="name")
    if len(name) > MAX_NAME:
        raise InvalidParameter("%(field)s: at most %(n)s characters", field="name", n=MAX_NAME)
    return name


def _message(p: Fields, fmt: MessageFormat) -> tuple[str, int | None]:
    mes = p.text("mes")
    has_list = bool(p.text("list").strip())
    template_id = template_ref(p, MAX_JOB_ID)
    if template_id is not None:
        return "", template_id
    if has_list:
        if mes:
            raise InvalidParameter("mes: cannot be combined with list")
        return "", None
    if not mes.strip() and fmt is not MessageFormat.PING:
        raise InvalidParameter("%(field)s: required", field="mes")
    check_text(mes, fmt, "mes")
    return mes, None


def _recipients(
    p: Fields, region: str, mail: bool
) -> tuple[str, list[str], list[str] | None, list[int], list[str]]:
    """(phones as given, normalised addresses, per-recipient texts or None, group numbers,
    the items that are no recipient — left out, as jobs.php leaves them out)."""
    listing = p.text("list")
    if listing.strip():
        if p.text("phones").strip():
            raise InvalidParameter("phones: cannot be combined with list")
        return (*list_recipients(listing, mail, region), [])
    raw = p.text("phones")
    if not raw.strip():
        raise InvalidParameter("%(field)s: required", field="phones")
    parsed = phone_rules.parse_recipients(raw, mail=mail, default_region=region)
    refuse_messenger_recipients(parsed.rejected, "phones")
    if not parsed.recipients and not parsed.groups:
        raise InvalidParameter("%(field)s: no valid recipient", field="phones")
    joined = phone_rules.joined_as_given(raw)
    return joined, parsed.recipients, None, parsed.groups, parsed.rejected

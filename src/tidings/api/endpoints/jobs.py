"""/sys/jobs.php — mailing lists (jobs.md). Parse, call the job service, render."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tidings.api.context import Call
from tidings.api.endpoints.common import (
    check_text,
    list_recipients,
    message_format,
    parse_uint,
    sender,
    translit,
)
from tidings.api.formats import Record
from tidings.api.params import Params
from tidings.domain import phones as phone_rules
from tidings.domain.accounts import Account
from tidings.domain.jobs import MAX_JOB_ID, JobView, MessageFormat, NewJob
from tidings.domain.money import format_money
from tidings.domain.schedule import (
    format_local,
    parse_date,
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

ACTIONS = ("add", "del", "cancel", "get", "get_all")
MAX_NAME = 100  # [choice] jobs.md §1
# Accepted and stored with no effect yet ([choice] jobs.md §1).
STORED_ONLY = ("tinyurl", "fileurl", "mes2", "voice", "param")

# The response fields, in order (jobs.md §3). Text formats and XML carry fewer than JSON.
GET_FIELDS = (
    "id",
    "name",
    "subject",
    "repeat_send",
    "repeat_cnt",
    "created",
    "changed",
    "need_date",
    "last_sent",
    "phones",
    "message",
    "format",
    "validity",
    "period",
    "frequency",
    "status",
    "sender_id",
)
GET_JSON_FIELDS = (*GET_FIELDS[:-1], "cost", "sms_sent", "sms_ok", "sender_id")
LIST_FIELDS = (
    "id",
    "name",
    "changed",
    "need_date",
    "last_sent",
    "phones",
    "message",
    "phones_cnt",
    "cost",
    "status",
    "sender_id",
    "format",
)
LIST_JSON_FIELDS = (*LIST_FIELDS, "sms_sent", "sms_ok")
NO_JOBS = "NO JOBS"  # [choice] jobs.md §1: never an empty body


def handle_jobs(call: Call) -> str:
    action = _action(call)
    if action == "add":
        return _add(call)
    if action == "get_all":
        return _get_all(call)
    job_id = _job_id(call.params.get("id"), required=True)
    assert job_id is not None
    service = call.services.jobs
    if action == "get":
        view = service.get(call.account, job_id)
        fields = GET_JSON_FIELDS if call.fmt == 3 else GET_FIELDS
        return call.renderer.record(_record(view, fields, call), "job")
    if action == "cancel":
        service.cancel(call.account, job_id, call.now)
    else:
        service.delete(call.account, job_id, call.now)
    return call.renderer.ok()


def _action(call: Call) -> str:
    chosen = [a for a in ACTIONS if call.params.flag(a)]
    if len(chosen) != 1:
        raise InvalidParameter("exactly one of add, del, cancel, get, get_all must be 1")
    return chosen[0]


def _get_all(call: Call) -> str:
    start = _date(call.params.get("start"))
    end = _date(call.params.get("end"))
    views = call.services.jobs.list(call.account, start, end)
    fields = LIST_JSON_FIELDS if call.fmt == 3 else LIST_FIELDS
    records = [_record(v, fields, call) for v in views]
    return call.renderer.records(records, "sms_jobs", "job", NO_JOBS)


def _date(value: str | None) -> date | None:
    return parse_date(value) if value and value.strip() else None


def _add(call: Call) -> str:
    job = parse_new_job(call)
    with_cost = _cost_flag(call.params.get("cost"))
    created = call.services.jobs.create(call.account, job, call.now, with_cost=with_cost)
    cost = None if created.cost_minor is None else format_money(created.cost_minor)
    return call.renderer.add(created.job_id, cost)


def _cost_flag(value: str | None) -> bool:
    text = (value or "").strip()
    if text not in ("", "0", "1"):
        raise InvalidParameter("cost must be 0 or 1")
    return text == "1"


def parse_new_job(call: Call) -> NewJob:
    """Validate every `add` parameter (jobs.md §1); nothing is stored before this passes."""
    return new_job(call.params, call.account, call.now)


def new_job(p: Params, account: Account, now: datetime) -> NewJob:
    """The `add` parameters as a NewJob (the web cabinet's create form sends the same)."""
    fmt = message_format(p)
    mail = fmt is MessageFormat.MAIL
    name = _name(p.get("name"))
    zone = parse_tz(p.get("tz"), ZoneInfo(account.timezone))
    first = parse_time(p.get("time"), zone, now)
    period, freq = parse_period(p.get("period")), parse_freq(p.get("freq"))
    validate_spread(period, freq)
    message, template_id = _message(p, fmt)
    phones_text, addresses, texts, groups = _recipients(p, account.region, mail)
    subject = p.text("subj").strip()
    if mail and not subject:
        raise InvalidParameter("subj: required for an e-mail mailing list")
    if len(subject) > 255:
        raise InvalidParameter("subj: at most 255 characters")
    return NewJob(
        name=name,
        phones_text=phones_text,
        addresses=addresses,
        texts=texts,
        groups=groups,
        message=message,
        fmt=fmt,
        first_run=first.at,
        zone=zone_name(zone),
        job_id=_job_id(p.get("id"), required=False),
        template_id=template_id,
        subject=subject,
        sender=sender(p.get("sender"), mail, "sender"),
        sender2=sender(p.get("sender2"), mail, "sender2"),
        window=first.window,
        rpt=int(parse_rpt(p.get("rpt"))),
        rptn=parse_rptn(p.get("rptn")),
        period=period,
        freq=freq,
        validity_min=parse_valid(p.get("valid")),
        translit=translit(p.get("translit")),
        resend=p.flag("fl[5]"),
        extra={k: p.text(k) for k in STORED_ONLY if p.get(k)},
    )


def _name(value: str | None) -> str:
    name = (value or "").strip()
    if not name:
        raise InvalidParameter("name: required")
    if len(name) > MAX_NAME:
        raise InvalidParameter(f"name: at most {MAX_NAME} characters")
    return name


def _job_id(value: str | None, *, required: bool) -> int | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidParameter("id: required")
        return None
    number = parse_uint(text, MAX_JOB_ID)
    if not number:
        raise InvalidParameter(f"id: an integer 1..{MAX_JOB_ID}")
    return number


def _message(p: Params, fmt: MessageFormat) -> tuple[str, int | None]:
    mes = p.text("mes")
    tpl = p.text("tpl").strip()
    has_list = bool(p.text("list").strip())
    if tpl:
        if mes or has_list:
            raise InvalidParameter("tpl: cannot be combined with mes or list")
        template_id = parse_uint(tpl, MAX_JOB_ID)
        if template_id is None:
            raise InvalidParameter("tpl: a template id")
        return "", template_id
    if has_list:
        if mes:
            raise InvalidParameter("mes: cannot be combined with list")
        return "", None
    if not mes.strip() and fmt is not MessageFormat.PING:
        raise InvalidParameter("mes: required")
    check_text(mes, fmt, "mes")
    return mes, None


def _recipients(
    p: Params, region: str, mail: bool
) -> tuple[str, list[str], list[str] | None, list[int]]:
    """(phones as given, normalised addresses, per-recipient texts or None, group numbers)."""
    listing = p.text("list")
    if listing.strip():
        if p.text("phones").strip():
            raise InvalidParameter("phones: cannot be combined with list")
        return list_recipients(listing, mail, region)
    raw = p.text("phones")
    if not raw.strip():
        raise InvalidParameter("phones: required")
    parsed = phone_rules.parse_recipients(raw, mail=mail, default_region=region)
    if not parsed.recipients and not parsed.groups:
        raise InvalidParameter("phones: no valid recipient")
    return phone_rules.joined_as_given(raw), parsed.recipients, None, parsed.groups


def _record(view: JobView, fields: tuple[str, ...], call: Call) -> Record:
    zone = ZoneInfo(call.account.timezone)
    mail = view.is_mail or call.params.flag("mail")
    values: dict[str, str | int] = {
        "id": view.job_id,
        "name": view.name,
        "subject": view.subject,
        "repeat_send": view.rpt,
        "repeat_cnt": view.rptn,
        "created": format_local(view.created_at, zone),
        "changed": format_local(view.changed_at, zone),
        "need_date": format_local(view.need_date, zone),
        "last_sent": format_local(view.last_sent, zone),
        "phones": view.phones_text,
        "message": view.message,
        "format": view.fmt,
        "validity": view.validity_min,
        "period": view.period,
        "frequency": view.freq,
        "status": view.status,
        "cost": format_money(view.cost_minor),
        "sms_sent": view.sms_sent,
        "sms_ok": view.sms_ok,
        "sender_id": view.sender or call.account.default_sender,
        "phones_cnt": view.phones_cnt,
    }
    return [("emails" if mail and f == "phones" else f, values[f]) for f in fields]

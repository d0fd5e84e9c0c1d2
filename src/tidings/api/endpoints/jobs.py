"""/sys/jobs.php — mailing lists (jobs.md). Parse (the `add` rules are domain/job_request.py),
call the job service, render."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from tidings.api.context import Call
from tidings.api.formats import Record
from tidings.domain.job_request import job_id as parse_job_id
from tidings.domain.job_request import new_job
from tidings.domain.jobs import JobView
from tidings.domain.money import format_money
from tidings.domain.schedule import format_local, parse_date
from tidings.errors import InvalidParameter

ACTIONS = ("add", "del", "cancel", "get", "get_all")

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
    job_id = parse_job_id(call.params.get("id"), required=True)
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
    limit = call.services.limits.max_recipients
    job = new_job(call.params.values, call.account, call.now, max_recipients=limit)
    with_cost = _cost_flag(call.params.get("cost"))
    created = call.services.jobs.create(call.account, job, call.now, with_cost=with_cost)
    cost = None if created.cost_minor is None else format_money(created.cost_minor)
    return call.renderer.add(created.job_id, cost)


def _cost_flag(value: str | None) -> bool:
    text = (value or "").strip()
    if text not in ("", "0", "1"):
        raise InvalidParameter("cost must be 0 or 1")
    return text == "1"


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

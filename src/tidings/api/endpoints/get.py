"""/sys/get.php — message history (`get_messages`), totals (`get_stat`) and incoming messages
(`get_answers`, api/endpoints/answers.py), smsc-api.md §5.5."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tidings.api.context import Call
from tidings.api.endpoints.answers import handle_answers
from tidings.api.endpoints.not_provided import refuse_action
from tidings.api.endpoints.status import STATUS_NAMES
from tidings.api.formats import Record
from tidings.domain import phones as phone_rules
from tidings.domain.clock import from_ts, to_ts
from tidings.domain.messages import HistoryQuery, MessageInfo, lookup_address
from tidings.domain.money import format_money
from tidings.domain.numbers import optional_uint
from tidings.domain.schedule import format_local, parse_date
from tidings.errors import InvalidDate, InvalidParameter

MAX_CNT = 1000
DEFAULT_CNT = 100  # [choice]
MAX_PERIOD = timedelta(days=183)  # "at most six months"
NO_MESSAGES = "NO MESSAGES"  # [choice] never an empty body
# get.php actions of smsc.ru that Tidings does not provide (docs/api.md): it keeps no tariff
# zones of smsc.ru's kind, and has no Megafon accounts.
NOT_PROVIDED = ("get_price", "get_mega_accounts")


def handle_get(call: Call) -> str:
    p = call.params
    if p.flag("get_messages"):
        return _messages(call)
    if p.flag("get_stat"):
        return _stat(call)
    if p.flag("get_answers"):
        return handle_answers(call)
    for action in NOT_PROVIDED:
        if p.flag(action):
            refuse_action(action)
    raise InvalidParameter("get_messages, get_stat or get_answers must be 1")


def _period(call: Call) -> tuple[int, int]:
    """[start, end) in unix seconds from `start`/`end` (DD.MM.YYYY, inclusive) in the account's
    zone; no start = the last 6 months, no end = today."""
    zone = ZoneInfo(call.account.timezone)
    today = call.now.astimezone(zone).date()
    end_day = _day(call.params.get("end")) or today
    start_day = _day(call.params.get("start")) or end_day - MAX_PERIOD + timedelta(days=1)
    if start_day > end_day or end_day - start_day >= MAX_PERIOD:
        raise InvalidDate("invalid date format: the period must be at most six months")
    start = datetime.combine(start_day, datetime.min.time(), zone)
    end = datetime.combine(end_day + timedelta(days=1), datetime.min.time(), zone)
    return to_ts(start), to_ts(end)


def _day(value: str | None) -> date | None:
    return parse_date(value) if value and value.strip() else None


def _messages(call: Call) -> str:
    p = call.params
    start, end = _period(call)
    query = HistoryQuery(
        account_id=call.account.id,
        start_ts=start,
        end_ts=end,
        addresses=_addresses(call),
        fmt=_format(p.get("format")),
        before_id=optional_uint(p.get("prev_id"), "prev_id"),
        limit=_cnt(p.get("cnt")),
    )
    found = call.services.messages.history(query)
    zone = ZoneInfo(call.account.timezone)
    records = [_record(m, zone) for m in found]
    if call.fmt in (0, 1):
        separator = ", " if call.fmt == 0 else ","
        if not records:
            return NO_MESSAGES
        if call.fmt == 0:
            return "\n".join(separator.join(f"{k} = {v}" for k, v in r) for r in records)
        return "\n".join(separator.join(str(v) for _k, v in r) for r in records)
    return call.renderer.records(records, "messages", "message", NO_MESSAGES)


def _record(m: MessageInfo, zone: ZoneInfo) -> Record:
    last = m.done_at or m.sent_at or m.created_at
    sent = m.sent_at or m.created_at
    return [
        ("int_id", m.id),
        (
            "id",
            int(m.client_id)
            if m.client_id and m.client_id.isdigit()
            else (m.client_id or (m.job_id or m.id)),
        ),
        ("status", m.status),
        ("last_date", format_local(from_ts(last), zone)),
        ("last_timestamp", last),
        ("err", m.err),
        ("send_date", format_local(from_ts(sent), zone)),
        ("send_timestamp", sent),
        ("phone", m.address),
        ("cost", format_money(m.cost_minor)),
        ("sender_id", m.sender),
        ("status_name", STATUS_NAMES.get(m.status, "")),
        ("format", m.fmt),
        ("sms_cnt", m.parts),
        ("message", m.text),
    ]


def _addresses(call: Call) -> tuple[str, ...]:
    raw = call.params.text("phone") or call.params.text("email")
    region = call.account.region
    return tuple(lookup_address(item, region) for item in phone_rules.split_recipients(raw))


def _format(value: str | None) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if text not in ("0", "1", "4", "5", "6", "8"):
        raise InvalidParameter("format: 0 SMS, 1 flash, 4/5 binary, 6 ping or 8 e-mail")
    return int(text)


def _cnt(value: str | None) -> int:
    number = optional_uint(value, "cnt")
    if number is None:
        return DEFAULT_CNT
    if not 1 <= number <= MAX_CNT:
        raise InvalidParameter(f"cnt: 1..{MAX_CNT}")
    return number


def _stat(call: Call) -> str:
    start, end = _period(call)
    t = call.services.messages.totals(call.account, start, end)
    record: Record = [
        ("msg_cnt", t.messages),
        ("sms_cnt", t.parts),
        ("cost", format_money(t.cost_minor)),
        ("delivered", t.delivered),
        ("failed", t.failed),
        ("in_progress", t.in_progress),
    ]
    text = ", ".join(f"{k} = {v}" for k, v in record)
    if call.fmt == 3:
        # [choice] an array, as smsc.ru answers get_stat (node-smsc relies on it), of one
        # object: the totals of the period (smsc.ru's breakdown of the rows is not known).
        return call.renderer.records([record], "result", "stat", "[]")
    return call.renderer.result(record, text)

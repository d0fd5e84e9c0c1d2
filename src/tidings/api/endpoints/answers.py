"""get.php `get_answers=1` — the account's incoming messages (smsc-api.md §5.5), and
/sys/receive_phones.php — the account's inbound numbers (§1.1). docs/api.md, "Inbound
messages", has the shapes and every [choice]."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from tidings.api.context import Call
from tidings.api.endpoints.not_provided import refuse_action
from tidings.api.formats import Record
from tidings.api.formats.text import one_line
from tidings.domain.clock import from_ts
from tidings.domain.inbound import InboundNumber, InboundView
from tidings.domain.schedule import format_local

NO_ANSWERS = "NO ANSWERS"  # [choice] never an empty body
NO_PHONES = "NO PHONES"
# receive_phones.php actions of smsc.ru that rent or give back a number: the operator
# assigns numbers here (tidings inbound-numbers, the admin page).
NUMBER_ACTIONS_NOT_PROVIDED = ("add", "del", "chg")


def handle_answers(call: Call) -> str:
    p = call.params
    found = call.services.inbound.answers(
        call.account, call.now, p.get("hour"), p.get("after_id"), p.get("to_phone")
    )
    zone = ZoneInfo(call.account.timezone)
    records = [_answer(m, zone) for m in found]
    if call.fmt in (0, 1):
        if not records:
            return NO_ANSWERS
        # One message a line: its line breaks written as `\n`, as jobs.php does [choice].
        if call.fmt == 0:
            return "\n".join(", ".join(f"{k} = {one_line(v)}" for k, v in r) for r in records)
        return "\n".join(",".join(one_line(v) for _k, v in r) for r in records)
    return call.renderer.records(records, "answers", "answer", NO_ANSWERS)


def _answer(m: InboundView, zone: ZoneInfo) -> Record:
    sent = from_ts(m.reply_sent_at)
    return [
        ("id", m.id),
        ("received", format_local(from_ts(m.received_at), zone)),
        ("phone", m.phone),
        ("to_phone", m.to_phone),
        # [choice] when the message answers one of the account's: when that one was sent.
        ("sent", format_local(sent, zone)),
        ("message", m.text),
    ]


def handle_receive_phones(call: Call) -> str:
    for action in NUMBER_ACTIONS_NOT_PROVIDED:
        if call.params.flag(action):
            refuse_action(action)
    zone = ZoneInfo(call.account.timezone)
    records = [_number(n, zone) for n in call.services.inbound.numbers(call.account)]
    return call.renderer.records(records, "numbers", "number", NO_PHONES)


def _number(n: InboundNumber, zone: ZoneInfo) -> Record:
    return [("phone", n.number), ("created", format_local(from_ts(n.created_at), zone))]

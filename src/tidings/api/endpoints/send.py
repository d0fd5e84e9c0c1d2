"""/sys/send.php — single and bulk one-off messages (smsc-api.md §3). The request rules are
domain/send_request.py; this edge reads the answer's shape (`cost`, `op`, `err`) and renders."""

from __future__ import annotations

import json
from functools import partial

from tidings.api.context import Call, Deferred
from tidings.api.formats import Record
from tidings.domain.money import format_money
from tidings.domain.send_request import client_id, new_send
from tidings.domain.sends import REFUSED_INVALID, Quote, SendService, Sent
from tidings.errors import DomainError, InvalidParameter

# The description of a refused number's error, as the whole-request error would say it.
REFUSED_TEXT = {REFUSED_INVALID: "invalid number"}
REFUSED_DEFAULT = "can't to deliver"


def handle_send(call: Call) -> str | Deferred:
    reference = client_id(call.params.get("id"))
    try:
        return _send(call, reference)
    except DomainError as error:
        error.reference = reference
        raise


def _send(call: Call, reference: str | None) -> str | Deferred:
    cost_mode = _cost_mode(call.params.get("cost"))
    details = _Details(_flag(call, "op"), _flag(call, "err"))
    limit = call.services.limits.max_recipients
    send = new_send(call.params.values, call.account, call.now, reference, max_recipients=limit)
    service: SendService = call.services.sends
    if cost_mode == 1:
        quote = service.quote(call.account, send)
        cost = format_money(quote.cost)
        record: Record = [("cost", cost), ("cnt", quote.parts)]
        return details.render(call, record, f"{cost} ({quote.parts} SMS)", quote)
    # Stored by the edge, with the sends of the other requests in flight (group commit).
    prepared = service.prepare(call.account, send, call.now)
    return Deferred(prepared, partial(_render_sent, call, cost_mode, details), reference)


def _render_sent(call: Call, cost_mode: int, details: _Details, sent: Sent) -> str:
    record: Record = [("id", _id_value(sent.send_id)), ("cnt", sent.parts)]
    text = f"OK - {sent.parts} SMS, ID - {sent.send_id}"
    if cost_mode >= 2:
        record.append(("cost", format_money(sent.cost)))
        text += f", COST - {format_money(sent.cost)}"
    if cost_mode == 3:
        record.append(("balance", format_money(sent.balance)))
        text += f", BALANCE - {format_money(sent.balance)}"
    assert sent.quote is not None
    return details.render(call, record if call.fmt != 2 else _xml_order(record), text, sent.quote)


class _Details:
    """`op=1`: a line per number given (its cost and parts, or its error); `err=1`: a line
    per number refused. [choice] fmt 0/1 add the lines after the answer (`op` wins when both
    are asked: it holds the refused ones too); fmt 2 adds `<phones>` / `<errors>`, fmt 3
    `"phones"` / `"errors"` arrays of {phone, cost, cnt, error} (error 0: accepted; 7 not a
    number; 8 on the stop list)."""

    def __init__(self, op: bool, err: bool) -> None:
        self.op = op
        self.err = err

    def render(self, call: Call, record: Record, text: str, quote: Quote) -> str:
        if not (self.op or self.err):
            return call.renderer.result(record, text)
        everyone = _numbers(quote, accepted=True)
        refused = _numbers(quote, accepted=False)
        lines = everyone if self.op else refused
        if call.fmt == 0:
            return "\n".join([text, *(_text_line(n) for n in lines)])
        if call.fmt == 1:
            head = call.renderer.result(record, text)
            return "\n".join([head, *(",".join(str(v) for _k, v in n) for n in lines)])
        lists = ([("phones", everyone)] if self.op else []) + (
            [("errors", refused)] if self.err else []
        )
        if call.fmt == 2:
            head = call.renderer.result(record, text).removesuffix("</result>")
            nested = "".join(
                f"<{name}>{''.join(call.renderer.record(n, 'number') for n in items)}</{name}>"
                for name, items in lists
            )
            return f"{head}{nested}</result>"
        answer: dict[str, object] = dict(record)
        for name, items in lists:
            answer[name] = [dict(n) for n in items]
        return json.dumps(answer, ensure_ascii=False)


def _numbers(quote: Quote, *, accepted: bool) -> list[Record]:
    numbers: list[Record] = []
    if accepted:
        numbers = [
            [("phone", r.address), ("cost", format_money(r.cost)), ("cnt", r.parts), ("error", 0)]
            for r in quote.recipients
        ]
    numbers += [
        [("phone", r.address), ("cost", format_money(0)), ("cnt", 0), ("error", r.error)]
        for r in quote.refused
    ]
    return numbers


def _text_line(number: Record) -> str:
    values = dict(number)
    code = int(values["error"])
    if code:
        return f"{values['phone']} - ERROR = {code} ({REFUSED_TEXT.get(code, REFUSED_DEFAULT)})"
    return f"{values['phone']} - {values['cost']}, {values['cnt']} SMS"


def _xml_order(record: Record) -> Record:
    """[choice] fmt 2 lists cnt before id (smsc-api.md §3.4)."""
    first = [pair for pair in record if pair[0] == "cnt"]
    return first + [pair for pair in record if pair[0] != "cnt"]


def _id_value(send_id: str) -> str | int:
    return int(send_id) if send_id.isdigit() else send_id


def _flag(call: Call, name: str) -> bool:
    text = call.params.text(name).strip()
    if text not in ("", "0", "1"):
        raise InvalidParameter(f"{name} must be 0 or 1")
    return text == "1"


def _cost_mode(value: str | None) -> int:
    text = (value or "").strip()
    if text not in ("", "0", "1", "2", "3"):
        raise InvalidParameter("cost must be 0, 1, 2 or 3")
    return int(text or 0)

"""/sys/send.php — single and bulk one-off messages (smsc-api.md §3). The request rules are
domain/send_request.py; this edge reads the answer's shape (`cost`) and renders."""

from __future__ import annotations

from tidings.api.context import Call
from tidings.api.formats import Record
from tidings.domain.money import format_money
from tidings.domain.send_request import client_id, new_send
from tidings.domain.sends import Quote, SendService
from tidings.errors import DomainError, InvalidParameter


def handle_send(call: Call) -> str:
    reference = client_id(call.params.get("id"))
    try:
        return _send(call, reference)
    except DomainError as error:
        error.reference = reference
        raise


def _send(call: Call, reference: str | None) -> str:
    cost_mode = _cost_mode(call.params.get("cost"))
    limit = call.services.limits.max_recipients
    send = new_send(call.params.values, call.account, call.now, reference, max_recipients=limit)
    service: SendService = call.services.sends
    if cost_mode == 1:
        quote = service.quote(call.account, send)
        return _answer_cost(call, quote)
    sent = service.send(call.account, send, call.now)
    record: Record = [("id", _id_value(sent.send_id)), ("cnt", sent.parts)]
    text = f"OK - {sent.parts} SMS, ID - {sent.send_id}"
    if cost_mode >= 2:
        record.append(("cost", format_money(sent.cost)))
        text += f", COST - {format_money(sent.cost)}"
    if cost_mode == 3:
        record.append(("balance", format_money(sent.balance)))
        text += f", BALANCE - {format_money(sent.balance)}"
    return call.renderer.result(record if call.fmt != 2 else _xml_order(record), text)


def _answer_cost(call: Call, quote: Quote) -> str:
    cost = format_money(quote.cost)
    record: Record = [("cost", cost), ("cnt", quote.parts)]
    return call.renderer.result(record, f"{cost} ({quote.parts} SMS)")


def _xml_order(record: Record) -> Record:
    """[choice] fmt 2 lists cnt before id (smsc-api.md §3.4)."""
    first = [pair for pair in record if pair[0] == "cnt"]
    return first + [pair for pair in record if pair[0] != "cnt"]


def _id_value(send_id: str) -> str | int:
    return int(send_id) if send_id.isdigit() else send_id


def _cost_mode(value: str | None) -> int:
    text = (value or "").strip()
    if text not in ("", "0", "1", "2", "3"):
        raise InvalidParameter("cost must be 0, 1, 2 or 3")
    return int(text or 0)

"""/sys/balance.php — the account's balance (smsc-api.md §5.1)."""

from __future__ import annotations

import json

from tidings.api.context import Call
from tidings.api.guards.identity import request_identity
from tidings.domain.money import format_money
from tidings.errors import InvalidParameter


def handle_balance(call: Call) -> str:
    with_currency = _cur(call.params.get("cur"))
    # Any balance request counts, whatever its parameters (">10 balance requests a minute").
    key = request_identity(call.account.id, "balance", {})
    with call.guards.balance_requests.hit(key):
        balance = format_money(call.services.balances.balance(call.account))
    account = call.account
    if call.fmt in (0, 1):
        # [choice] fmt 0 and 1 never carry the credit: the official libraries read a body
        # with a comma as "<balance>,<currency>" (cur=1) or as an error ("0,-N").
        return f"{balance},{account.currency}" if with_currency else balance
    fields: list[tuple[str, str | int]] = [("balance", balance)]
    if with_currency:
        fields.append(("currency", account.currency))
    if account.credit_limit_minor > 0:
        fields.append(("credit", format_money(account.credit_limit_minor)))
    if call.fmt == 2:
        return call.renderer.record(fields, "result")
    return json.dumps(dict(fields), ensure_ascii=False)


def _cur(value: str | None) -> bool:
    text = (value or "").strip()
    if text not in ("", "0", "1"):
        raise InvalidParameter("cur must be 0 or 1")
    return text == "1"

"""What a callback POSTs, and how it is signed.

Payload (form-encoded): the fields an SMS Center handler reads (smsc-api.md §5.8) — id (the
client's id, or the message id), phone, status, err, ts (unix seconds), time (DD.MM.YYYY
hh:mm:ss in the account's zone), cnt (parts), cost, sha1 = SHA-1 hex of
"id:phone:status:secret" (SMS Center puts the account password where we put the callback
secret: we never keep a password) — next to ours: int_id and sign =
HMAC-SHA256(secret, "id:phone:status:err:ts") in hex. The header X-Tidings-Signature carries
"sha256=" + HMAC-SHA256(secret, raw body).

An incoming SMS of an account that forwards them (SMS Center's `fl[11]`) is queued in the
transaction that stores it (store/inbound.py) and delivered by the same loop, under the same
deadline, retries and signature rules, with SMS Center's inbound fields (§5.8): id and
sms_id (our inbound id), phone (who sent it), mes (the text), to (where it was sent), sent
(unix seconds it came), time, ts — and ours: type=inbound, reply_to (the id of the message
it answers, else empty), job_id (that message's list, else empty), stop (1 when it was a
stop keyword), sha1 = SHA-1 hex of "id:phone:to:secret", sign = HMAC-SHA256(secret,
"id:phone:to:ts").
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from tidings.domain.clock import from_ts
from tidings.domain.money import format_money
from tidings.domain.schedule import format_local
from tidings.store.db import Row


@dataclass(frozen=True)
class Due:
    id: int
    account_id: int
    url: str
    secret: str
    timezone: str
    client_id: str
    message_id: int
    phone: str
    status: int
    err: int
    at: int
    attempts: int
    parts: int = 1
    cost_minor: int = 0
    inbound: InboundDue | None = None


@dataclass(frozen=True)
class InboundDue:
    """The incoming SMS a callback forwards."""

    id: int
    to_phone: str
    text: str
    received_at: int
    reply_to: int | None
    job_id: int | None
    stop: bool


def sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def payload(due: Due) -> bytes:
    if due.inbound is not None:
        return inbound_payload(due, due.inbound)
    ident = due.client_id or str(due.message_id)
    fields = {
        "id": ident,
        "int_id": str(due.message_id),
        "phone": due.phone,
        "status": str(due.status),
        "err": str(due.err),
        "ts": str(due.at),
        "time": format_local(from_ts(due.at), ZoneInfo(due.timezone)),
    }
    fields["cnt"] = str(due.parts)
    fields["cost"] = format_money(due.cost_minor)
    # SMS Center's own check, for handlers written for it (see the module's docstring).
    fields["sha1"] = hashlib.sha1(
        f"{ident}:{due.phone}:{due.status}:{due.secret}".encode()
    ).hexdigest()
    fields["sign"] = sign(due.secret, f"{ident}:{due.phone}:{due.status}:{due.err}:{due.at}")
    return urlencode(fields).encode()


def inbound_payload(due: Due, mo: InboundDue) -> bytes:
    ident = str(mo.id)
    fields = {
        "type": "inbound",
        "id": ident,
        "sms_id": ident,
        "phone": due.phone,
        "mes": mo.text,
        "to": mo.to_phone,
        "sent": str(mo.received_at),
        "time": format_local(from_ts(mo.received_at), ZoneInfo(due.timezone)),
        "ts": str(mo.received_at),
        "reply_to": "" if mo.reply_to is None else str(mo.reply_to),
        "job_id": "" if mo.job_id is None else str(mo.job_id),
        "stop": "1" if mo.stop else "0",
    }
    fields["sha1"] = hashlib.sha1(
        f"{ident}:{due.phone}:{mo.to_phone}:{due.secret}".encode()
    ).hexdigest()
    fields["sign"] = sign(due.secret, f"{ident}:{due.phone}:{mo.to_phone}:{mo.received_at}")
    return urlencode(fields).encode()


def due_from(row: Row) -> Due:
    """A claimed row: the status callback's fields, then the inbound message's (NULL for a
    status callback)."""
    base = Due(*row[:14])
    i = row[14:]
    if i[0] is None:
        return base
    mo = InboundDue(
        id=int(i[0]),
        to_phone=i[2],
        text=i[3],
        received_at=int(i[4]),
        reply_to=None if i[5] is None else int(i[5]),
        job_id=None if i[6] is None else int(i[6]),
        stop=bool(i[7]),
    )
    return dataclasses.replace(base, phone=i[1], inbound=mo)

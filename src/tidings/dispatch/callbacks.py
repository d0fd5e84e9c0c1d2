"""Status callbacks: each status change of a message is POSTed to the account's URL.

Callbacks are queued in the same transaction as the status change, so none is lost; a
separate loop sends them, so a slow or dead endpoint never holds up the dispatcher. Failures
are retried with backoff, then given up and logged.

One tenant's endpoint cannot stall the others' (dispatch.callbacks, docs/operations.md):
each delivery has a total deadline, at most `max_answer_bytes` of the answer are read, no
redirect is followed, and deliveries run side by side with at most `per_account` in flight
for any one account, so a slow endpoint holds only its own account's share of the slots.
The host is checked against the callback rule again right before connecting
(callback_transport.py).

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

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import structlog

from tidings.config import CallbackSettings
from tidings.dispatch.callback_transport import AsyncResolver, callback_client, system_resolve
from tidings.domain.callback_urls import CallbackPolicy, check_callback_url
from tidings.domain.clock import Clock, from_ts, to_ts
from tidings.domain.money import format_money
from tidings.domain.schedule import format_local
from tidings.errors import InvalidParameter
from tidings.store.db import Database, Row

log = structlog.get_logger("tidings.callbacks")


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


def _due(row: Row) -> Due:
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


class CallbackSender:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        backoff_s: Sequence[int],
        max_attempts: int,
        *,
        limits: CallbackSettings | None = None,
        lease_s: int = 60,
        resolve: AsyncResolver = system_resolve,
    ) -> None:
        limits = limits or CallbackSettings()
        self._db = db
        self._backoff = tuple(backoff_s) or (60,)
        self._max_attempts = max_attempts
        self._clock = clock
        self._limits = limits
        self._policy = CallbackPolicy.allowing(limits.allow_networks)
        self._resolve = resolve
        # A claimed callback is not claimed again while its delivery may still run.
        self._lease = max(lease_s, int(limits.deadline_s) + 30)
        self._in_flight: dict[int, int] = {}  # account id → deliveries running

    async def run(self, stop: asyncio.Event, tick_s: float = 0.2) -> None:
        limits = self._limits
        running: set[asyncio.Task[None]] = set()
        finished = asyncio.Event()
        client = callback_client(self._policy, limits.deadline_s, limits.concurrency, self._resolve)
        async with client:
            while not stop.is_set():
                finished.clear()
                free = limits.concurrency - len(running)
                # The claim runs in a thread: it gets a copy of the counts the loop updates.
                busy = dict(self._in_flight)
                batch = await asyncio.to_thread(self._claim, free, busy) if free > 0 else []
                for due in batch:
                    self._in_flight[due.account_id] = self._in_flight.get(due.account_id, 0) + 1
                    task = asyncio.create_task(self._deliver(client, due))
                    running.add(task)
                    task.add_done_callback(functools.partial(self._done, due, running, finished))
                if batch and len(running) < limits.concurrency:
                    continue  # accounts that just filled up are skipped by the next claim
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop, finished), tick_s)
            # Each delivery ends within its deadline: let them finish and record.
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    def _done(
        self,
        due: Due,
        running: set[asyncio.Task[None]],
        finished: asyncio.Event,
        task: asyncio.Task[None],
    ) -> None:
        running.discard(task)
        left = self._in_flight.get(due.account_id, 1) - 1
        if left > 0:
            self._in_flight[due.account_id] = left
        else:
            self._in_flight.pop(due.account_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("callback delivery failed", callback=due.id, error=repr(task.exception()))
        finished.set()

    def _claim(self, free: int, busy: dict[int, int]) -> list[Due]:
        """Due callbacks for up to `free` deliveries, at most `per_account` in flight for any
        account: accounts already at their share are left out of the query, so a backlog of
        one account never fills the slots that others' callbacks need."""
        now = to_ts(self._clock.now())
        cap = self._limits.per_account
        full = [a for a, n in busy.items() if n >= cap]
        skip = f"AND c.account_id NOT IN ({', '.join('?' * len(full))}) " if full else ""
        with self._db.tx() as tx:
            rows = tx.all(
                "SELECT c.id, c.account_id, a.callback_url, a.callback_secret, a.timezone, "
                "COALESCE(m.client_id, ''), c.message_id, COALESCE(m.address, ''), c.status, "
                "c.err, c.at, c.attempts, COALESCE(m.parts, 1), COALESCE(m.cost_minor, 0), "
                "i.id, i.phone, i.to_phone, i.text, i.received_at, i.message_id, j.job_id, "
                "i.stop "
                "FROM callbacks c "
                "JOIN accounts a ON a.id = c.account_id "
                "LEFT JOIN messages m ON m.id = c.message_id "
                "LEFT JOIN inbound_messages i ON i.id = c.inbound_id "
                "LEFT JOIN jobs j ON j.id = i.job_pk "
                "WHERE c.done_at IS NULL AND c.next_at <= ? "
                "AND (c.lease_until IS NULL OR c.lease_until < ?) "
                + skip
                + "ORDER BY c.id LIMIT ?"
                + (" FOR UPDATE OF c SKIP LOCKED" if tx.dialect == "postgresql" else ""),
                (now, now, *full, max(free, cap) * 4),
            )
            taken: list[Due] = []
            counts = busy
            for row in rows:
                due = _due(row)
                if len(taken) < free and counts.get(due.account_id, 0) < cap:
                    counts[due.account_id] = counts.get(due.account_id, 0) + 1
                    taken.append(due)
            tx.execute_many(
                "UPDATE callbacks SET lease_until = ? WHERE id = ?",
                [(now + self._lease, due.id) for due in taken],
            )
        return taken

    async def _deliver(self, client: httpx.AsyncClient, due: Due) -> None:
        error = await self._post(client, due)
        await asyncio.to_thread(self._record, due, error)

    async def _post(self, client: httpx.AsyncClient, due: Due) -> str:
        """ "" when the endpoint answered 2xx, else what went wrong."""
        body = payload(due)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Tidings-Signature": "sha256=" + sign(due.secret, body.decode()),
        }
        try:
            # The rule as at save time (literal addresses, well-known names); what a name
            # resolves to is checked by the connection itself (callback_transport.py).
            check_callback_url(due.url, self._policy, None)
        except InvalidParameter as exc:
            return exc.description
        http_code = 0
        try:
            async with asyncio.timeout(self._limits.deadline_s):
                async with client.stream("POST", due.url, content=body, headers=headers) as answer:
                    http_code = answer.status_code
                    await self._read_some(answer)
        # Once the status line is in, the outcome is known: a body that is slow or breaks
        # off after it changes nothing.
        except TimeoutError:
            if not http_code:
                return f"no answer within {self._limits.deadline_s:g} s"
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            if not http_code:
                text = str(exc)
                return f"{type(exc).__name__}: {text}"[:250] if text else type(exc).__name__
        return "" if 200 <= http_code < 300 else f"HTTP {http_code}"

    async def _read_some(self, answer: httpx.Response) -> None:
        """Read (and drop) at most max_answer_bytes of the body, undecoded: a compressed
        answer is never inflated."""
        cap = self._limits.max_answer_bytes
        read = 0
        if cap > 0:
            async for chunk in answer.aiter_raw():
                read += len(chunk)
                if read >= cap:
                    break

    def _record(self, due: Due, error: str) -> None:
        now = to_ts(self._clock.now())
        attempts = due.attempts + 1
        with self._db.tx() as tx:
            if not error or attempts >= self._max_attempts:
                tx.execute(
                    "UPDATE callbacks SET done_at = ?, attempts = ?, last_error = ?, "
                    "lease_until = NULL WHERE id = ?",
                    (now, attempts, error, due.id),
                )
            else:
                delay = self._backoff[min(attempts - 1, len(self._backoff) - 1)]
                tx.execute(
                    "UPDATE callbacks SET next_at = ?, attempts = ?, last_error = ?, "
                    "lease_until = NULL WHERE id = ?",
                    (now + delay, attempts, error, due.id),
                )
        if error and attempts >= self._max_attempts:
            log.warning("callback given up", callback=due.id, error=error)


async def _first(*events: asyncio.Event) -> None:
    """Return when any of the events is set."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()

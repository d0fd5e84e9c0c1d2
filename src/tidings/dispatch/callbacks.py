"""Status callbacks: each status change of a message is POSTed to the account's URL.

Callbacks are queued in the same transaction as the status change, so none is lost; a
separate loop sends them with a few in flight, so a slow or dead endpoint never holds up the
dispatcher. Failures are retried with exponential backoff, then given up and logged.

Payload (form-encoded): id (the client's id, or the message id), int_id, phone, status, err,
ts (unix seconds), time (DD.MM.YYYY hh:mm:ss in the account's zone), sign =
HMAC-SHA256(secret, "id:phone:status:err:ts") in hex. The header X-Tidings-Signature carries
"sha256=" + HMAC-SHA256(secret, raw body).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import structlog

from tidings.domain.clock import Clock, from_ts, to_ts
from tidings.domain.schedule import format_local
from tidings.store.db import Database

log = structlog.get_logger("tidings.callbacks")


@dataclass(frozen=True)
class Due:
    id: int
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


def sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def payload(due: Due) -> bytes:
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
    fields["sign"] = sign(due.secret, f"{ident}:{due.phone}:{due.status}:{due.err}:{due.at}")
    return urlencode(fields).encode()


class CallbackSender:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        backoff_s: Sequence[int],
        max_attempts: int,
        *,
        concurrency: int = 8,
        timeout_s: float = 5.0,
        lease_s: int = 60,
    ) -> None:
        self._db = db
        self._backoff = tuple(backoff_s) or (60,)
        self._max_attempts = max_attempts
        self._clock = clock
        self._concurrency = concurrency
        self._timeout = timeout_s
        self._lease = lease_s

    async def run(self, stop: asyncio.Event, tick_s: float = 0.2) -> None:
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            while not stop.is_set():
                batch = await asyncio.to_thread(self._claim)
                if batch:
                    await asyncio.gather(*(self._deliver(client, due) for due in batch))
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), tick_s)

    def _claim(self) -> list[Due]:
        now = to_ts(self._clock.now())
        with self._db.tx() as tx:
            rows = tx.all(
                "SELECT c.id, a.callback_url, a.callback_secret, a.timezone, "
                "COALESCE(m.client_id, ''), c.message_id, COALESCE(m.address, ''), c.status, "
                "c.err, c.at, c.attempts FROM callbacks c "
                "JOIN accounts a ON a.id = c.account_id "
                "LEFT JOIN messages m ON m.id = c.message_id "
                "WHERE c.done_at IS NULL AND c.next_at <= ? "
                "AND (c.lease_until IS NULL OR c.lease_until < ?) ORDER BY c.id LIMIT ?"
                + (" FOR UPDATE OF c SKIP LOCKED" if tx.dialect == "postgresql" else ""),
                (now, now, self._concurrency),
            )
            tx.execute_many(
                "UPDATE callbacks SET lease_until = ? WHERE id = ?",
                [(now + self._lease, r[0]) for r in rows],
            )
        return [Due(*r) for r in rows]

    async def _deliver(self, client: httpx.AsyncClient, due: Due) -> None:
        body = payload(due)
        error = ""
        try:
            response = await client.post(
                due.url,
                content=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Tidings-Signature": "sha256=" + sign(due.secret, body.decode()),
                },
            )
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        await asyncio.to_thread(self._record, due, error)

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

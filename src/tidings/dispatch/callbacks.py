"""Status callbacks: each status change of a message is POSTed to the account's URL.

Callbacks are queued in the same transaction as the status change, so none is lost; a
separate loop sends them, so a slow or dead endpoint never holds up the dispatcher. Failures
are retried with backoff, then given up and logged.

One tenant's endpoint cannot stall the others' (dispatch.callbacks, docs/operations.md):
each delivery has a total deadline, at most `max_answer_bytes` of the answer are read, no
redirect is followed, and deliveries run side by side with at most `per_account` in flight
for any one account, so a slow endpoint holds only its own account's share of the slots.
Slots nobody else is waiting for are lent to an account whose endpoint answers fast (below
FAST_ANSWER_S on the average of its recent deliveries): one busy tenant's callbacks keep up
with its receipts instead of trickling out `per_account` at a time, and the lent slots come
back within one fast answer each once another account's callbacks wait.
The host is checked against the callback rule again right before connecting
(callback_transport.py).

What each POST carries and how it is signed: dispatch/callback_payloads.py; the queue's SQL:
store/callback_queue.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import deque
from collections.abc import Sequence

import aiohttp
import structlog

from tidings.config import CallbackSettings
from tidings.dispatch.callback_payloads import Due, due_from, payload, sign
from tidings.dispatch.callback_transport import (
    AsyncResolver,
    callback_session,
    failure_text,
    system_resolve,
)
from tidings.domain.callback_urls import CallbackPolicy, check_callback_url
from tidings.domain.clock import Clock, to_ts
from tidings.errors import InvalidParameter
from tidings.ops.metrics import count_callbacks
from tidings.store import callback_queue
from tidings.store.db import Database, Tx

log = structlog.get_logger("tidings.callbacks")


# An account's callbacks are claimed ahead, up to this many times its share of deliveries in
# flight, and delivered from memory as its slots free: a fast endpoint is fed without a
# transaction per callback. The lease covers the wait of the last one claimed.
PREFETCH = 8
# Claims are at least this far apart (a delivery finishing every millisecond would otherwise
# claim every millisecond); an account whose queue runs low waits at most this long.
CLAIM_INTERVAL_S = 0.01
DISCOVER, TOP_UP = "discover", "top up"
# An account whose deliveries take less than this on average (a moving average of its
# recent ones) may use slots no other account is waiting for, up to `concurrency`.
FAST_ANSWER_S = 0.25
_PACE_WEIGHT = 0.2  # the weight of the newest delivery in that average


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
        # A claimed callback is not claimed again while it waits in memory or its delivery
        # may still run: its account's PREFETCH queued deliveries, one deadline each.
        self._lease = max(lease_s, int(limits.deadline_s * PREFETCH) + 30)
        self._in_flight: dict[int, int] = {}  # account id → deliveries running
        self._queued: dict[int, deque[Due]] = {}  # account id → claimed, not yet started
        self._results: list[tuple[Due, str]] = []  # delivered, not yet recorded
        # Accounts whose last claim took all it could: more of theirs is due. Discovery
        # leaves them to their top-up even when nothing of theirs is held at the moment.
        self._backlogged: set[int] = set()
        # Account id → how long its deliveries take, a moving average (FAST_ANSWER_S).
        self._pace: dict[int, float] = {}
        self._claim_caps: dict[int, int] = {}  # set by _budgets for the next claim

    async def run(self, stop: asyncio.Event, tick_s: float = 0.2) -> None:
        limits = self._limits
        running: set[asyncio.Task[None]] = set()
        finished = asyncio.Event()
        client = callback_session(
            self._policy, limits.deadline_s, limits.concurrency, self._resolve
        )
        last_tx = last_discover = -tick_s
        try:
            async with client:
                while not stop.is_set():
                    finished.clear()
                    self._start(client, running, finished)
                    since = time.monotonic() - last_tx
                    tick_due = time.monotonic() - last_discover >= tick_s
                    claim = self._wanted_claim(running, tick_due)
                    wait_s = tick_s
                    if (claim or self._results) and since < CLAIM_INTERVAL_S:
                        wait_s = CLAIM_INTERVAL_S - since
                    elif claim or self._results:
                        last_tx = time.monotonic()
                        if claim is DISCOVER:
                            last_discover = last_tx
                        total, held = self._budgets(running) if claim else (0, {})
                        if claim is DISCOVER:
                            # Room to find the others even when an account lent every slot
                            # has claimed ahead all the budget allows (a share beyond it).
                            total = max(total, limits.per_account * PREFETCH)
                        batch = await self._settle(total, held, discover=claim is DISCOVER)
                        self._enqueue(batch)
                        self._start(client, running, finished)
                        if batch and self._wanted_claim(running, False):
                            continue  # more is due than this claim could take
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(_first(stop, finished), wait_s)
                # Each delivery ends within its deadline: let them finish and record.
                if running:
                    await asyncio.gather(*running, return_exceptions=True)
        finally:
            await self._settle(0, {}, release=True)

    async def _settle(
        self, total: int, held: dict[int, int], *, discover: bool = True, release: bool = False
    ) -> list[Due]:
        """One transaction, in a thread: the outcomes of the deliveries that ended since the
        last one, then a claim of up to `total` (or, at stop, the release of what was
        claimed and not started). Outcomes a failed transaction did not record are kept
        for the next."""
        outcomes, self._results = self._results, []
        unstarted = [due.id for waiting in self._queued.values() for due in waiting]
        if release:
            self._queued.clear()
        try:
            return await asyncio.to_thread(
                self._settle_tx, outcomes, total, held, discover, unstarted if release else []
            )
        except BaseException:
            self._results[:0] = outcomes
            raise

    def _settle_tx(
        self,
        outcomes: list[tuple[Due, str]],
        total: int,
        held: dict[int, int],
        discover: bool,
        free: list[int],
    ) -> list[Due]:
        with self._db.tx() as tx:
            tally = self._record(tx, outcomes)
            callback_queue.release(tx, free)
            claimed = self._claim(tx, total, held, discover)
        count_callbacks(tally)  # committed: counted once
        return claimed

    def _start(
        self,
        client: aiohttp.ClientSession,
        running: set[asyncio.Task[None]],
        finished: asyncio.Event,
    ) -> None:
        """Deliveries from the claimed queues, while slots are free overall and per account."""
        for account_id, waiting in list(self._queued.items()):
            cap = self._slots(account_id)
            while (
                waiting
                and len(running) < self._limits.concurrency
                and self._in_flight.get(account_id, 0) < cap
            ):
                due = waiting.popleft()
                self._in_flight[account_id] = self._in_flight.get(account_id, 0) + 1
                task = asyncio.create_task(self._deliver(client, due))
                running.add(task)
                task.add_done_callback(functools.partial(self._done, due, running, finished))
            if not waiting:
                del self._queued[account_id]

    def _slots(self, account_id: int) -> int:
        """Deliveries the account may have in flight now: its share, or every slot while
        its endpoint answers fast and no other account's callbacks wait for one."""
        share = self._limits.per_account
        pace = self._pace.get(account_id)
        if pace is None or pace >= FAST_ANSWER_S:
            return share
        if any(waiting for other, waiting in self._queued.items() if other != account_id):
            return share
        return max(share, self._limits.concurrency)

    def _wanted_claim(self, running: set[asyncio.Task[None]], tick_due: bool) -> str | None:
        """DISCOVER — look for every account's due callbacks — when a tick has passed or a
        slot is free with nothing queued to fill it; TOP_UP — only the accounts being
        served — when one of their queues runs low. Discovering reads every due callback
        of the accounts not being served, so it is not done at every claim."""
        if tick_due or (len(running) < self._limits.concurrency and not self._queued):
            return DISCOVER
        if any(
            len(self._queued.get(a, ())) <= self._slots(a) * PREFETCH // 2 for a in self._in_flight
        ):
            return TOP_UP
        return None

    def _budgets(self, running: set[asyncio.Task[None]]) -> tuple[int, dict[int, int]]:
        """How many to claim in all, and what each known account holds already."""
        held = dict(self._in_flight)
        for account_id, waiting in self._queued.items():
            held[account_id] = held.get(account_id, 0) + len(waiting)
        queued = sum(len(w) for w in self._queued.values())
        total = self._limits.concurrency * PREFETCH - len(running) - queued
        # The claim runs in a thread: what each account may be claimed up to is decided
        # here, on the loop, where `_queued` and `_pace` change.
        self._claim_caps = {a: self._slots(a) * PREFETCH for a in {*held, *self._backlogged}}
        return max(total, 0), held

    def _enqueue(self, batch: list[Due]) -> None:
        for due in batch:
            self._queued.setdefault(due.account_id, deque()).append(due)

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

    def _claim(self, tx: Tx, total: int, held: dict[int, int], discover: bool) -> list[Due]:
        """Due callbacks, up to `total`: first (when discovering) of the accounts holding
        less than their share of slots and not known to have a backlog — a backlog of one
        account never takes the claims others' callbacks need — then top-ups of the
        accounts being served or backlogged, each to PREFETCH times its share.

        "Backlogged" outlives the moment: deliveries to a fast endpoint often drain all an
        account holds between two claims, and a discovery that then took it for an account
        like any other read only its backlog's first rows and found nobody else."""
        if total <= 0:
            return []
        share = self._limits.per_account
        cap = share * PREFETCH
        caps = self._claim_caps
        now = to_ts(self._clock.now())
        counts = dict(held)
        served = {a for a, n in held.items() if n >= share} | self._backlogged
        taken: list[Due] = []
        found = (
            callback_queue.due(tx, now, not_of=sorted(served), limit=min(total, cap * 4))
            if discover
            else []
        )
        for row in found:
            due = due_from(row)
            if len(taken) < total and counts.get(due.account_id, 0) < caps.get(due.account_id, cap):
                counts[due.account_id] = counts.get(due.account_id, 0) + 1
                taken.append(due)
            else:
                self._backlogged.add(due.account_id)  # more of its are due than it took
        # Discovering took the others' (up to its limit); topping up alone, all it holds.
        topped = served if discover else set(held) | self._backlogged
        for account_id in sorted(topped, key=lambda a: counts.get(a, 0)):
            room = min(caps.get(account_id, cap) - counts.get(account_id, 0), total - len(taken))
            if room <= 0:
                continue
            rows = callback_queue.due(tx, now, of=account_id, limit=room)
            taken += [due_from(row) for row in rows]
            if len(rows) < room:
                self._backlogged.discard(account_id)
            else:
                self._backlogged.add(account_id)
        callback_queue.lease(tx, [due.id for due in taken], now + self._lease)
        return taken

    async def _deliver(self, client: aiohttp.ClientSession, due: Due) -> None:
        started = time.monotonic()
        error = await self._post(client, due)
        took = time.monotonic() - started if not error else self._limits.deadline_s
        before = self._pace.get(due.account_id, took)
        self._pace[due.account_id] = before + (took - before) * _PACE_WEIGHT
        self._results.append((due, error))  # recorded with the next claim (`_settle`)

    async def _post(self, client: aiohttp.ClientSession, due: Due) -> str:
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
                async with client.post(
                    due.url, data=body, headers=headers, allow_redirects=False
                ) as answer:
                    http_code = answer.status
                    await self._read_some(answer)
        # Once the status line is in, the outcome is known: a body that is slow or breaks
        # off after it changes nothing.
        except TimeoutError:
            if not http_code:
                return f"no answer within {self._limits.deadline_s:g} s"
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            if not http_code:
                return failure_text(exc)
        return "" if 200 <= http_code < 300 else f"HTTP {http_code}"

    async def _read_some(self, answer: aiohttp.ClientResponse) -> None:
        """Read (and drop) at most max_answer_bytes of the body, undecoded: a compressed
        answer is never inflated."""
        cap = self._limits.max_answer_bytes
        read = 0
        if cap > 0:
            async for chunk in answer.content.iter_any():
                read += len(chunk)
                if read >= cap:
                    break

    def _record(self, tx: Tx, outcomes: list[tuple[Due, str]]) -> dict[str, int]:
        """Record the outcomes; their tally by result (the metric's labels)."""
        now = to_ts(self._clock.now())
        done: list[tuple[int, int, str, int]] = []
        retried: list[tuple[int, int, str, int]] = []
        for due, error in outcomes:
            attempts = due.attempts + 1
            if not error or attempts >= self._max_attempts:
                done.append((now, attempts, error, due.id))
                if error:
                    log.warning("callback given up", callback=due.id, error=error)
            else:
                delay = self._backoff[min(attempts - 1, len(self._backoff) - 1)]
                retried.append((now + delay, attempts, error, due.id))
        callback_queue.record(tx, done, retried)
        given_up = sum(1 for _at, _attempts, error, _id in done if error)
        return {"delivered": len(done) - given_up, "given_up": given_up, "retry": len(retried)}


async def _first(*events: asyncio.Event) -> None:
    """Return when any of the events is set."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()

"""The dispatcher: claims due messages per upstream, hands them over within the upstream's
window, records results and receipts in batches, and recovers after a crash.

State lives in the database. Claimed messages are first HELD (charged, leased, provably not
written); a message is armed — marked as possibly written — in the same transaction that
records the results freeing its slot, and only then written. At most `window` messages per
upstream are armed and not yet recorded at any moment, so a hard kill leaves at most that
many whose fate is unknown (resolved by the `on_ambiguous` policy); held ones are released.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TypeVar

import structlog

from tidings.channels.base import Channel, Receipt, SubmitOutcome, SubmitResult, retry_later
from tidings.config import DispatchSettings
from tidings.dispatch.callbacks import CallbackSender
from tidings.dispatch.claims import Claimed, TariffLookup, claim
from tidings.dispatch.lane_state import REPORT_EVERY_S, LaneStats
from tidings.dispatch.scheduler import Scheduler
from tidings.domain.clock import Clock, to_ts
from tidings.domain.lifecycle import AMBIGUOUS_ERR, FAILED_RECEIPT, Change, MessageStatus
from tidings.store import engine, operations
from tidings.store.db import Database, Tx, retrying
from tidings.waiting import on_loop_first

log = structlog.get_logger("tidings.dispatcher")
T = TypeVar("T")
PARK_LIMIT_S = 600  # how long a receipt waits for its message's submit to be recorded
SWEEP_EVERY_S = 2.0  # expiry and dead dispatchers' leases: seconds matter, not milliseconds
# Messages a lane keeps claimed ahead: 2 windows, at least this many (claims of one message at
# window 1 would make every slot wait for a claim). Held ones are never written, so this does
# not widen the crash bound.
HELD_MIN = 20


@dataclass
class Lane:
    """One upstream: its channel, window, and the work in flight."""

    name: str
    channel: Channel
    window: int
    # Armed and not yet recorded (at most `window`): the messages a crash leaves unknown.
    in_flight: int = 0
    results: list[tuple[Claimed, SubmitResult]] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Claimed and HELD, in claim order: the next messages to arm.
    held: deque[Claimed] = field(default_factory=deque)
    claiming: asyncio.Task[None] | None = None
    # No claim before this (monotonic): the last one found less than it asked for.
    claim_after: float = 0.0
    stats: LaneStats = field(init=False)

    def __post_init__(self) -> None:
        self.stats = LaneStats(self.name, self.channel, self.window)


class Dispatcher:
    def __init__(
        self,
        db: Database,
        scheduler: Scheduler,
        lanes: Sequence[tuple[Channel, int]],
        settings: DispatchSettings,
        clock: Clock,
        worker_id: str,
        tariffs: TariffLookup,
    ) -> None:
        self._db = db
        self._scheduler = scheduler
        self._lanes = [Lane(ch.name, ch, window) for ch, window in lanes]
        self._settings = settings
        self._clock = clock
        self._worker = worker_id
        self._tariffs = tariffs
        self._receipts: list[Receipt] = []
        self._parked: list[tuple[float, Receipt]] = []
        self._receipt_wake = asyncio.Event()
        self._callbacks = CallbackSender(
            db, clock, settings.callback_backoff_s, settings.callback_attempts
        )
        self._stopping = False
        self._next_sweep = 0.0
        self._stop_seen = asyncio.Event()
        self._receipts_closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._inline = db.dialect == "sqlite"
        self.handed_over = 0

    async def run(self, stop: asyncio.Event) -> None:
        for lane in self._lanes:
            await lane.channel.start(self._on_receipt)
        await self._db_call(self._recover_own_leases)
        tasks = [asyncio.create_task(self._lane_loop(lane)) for lane in self._lanes]
        tasks.append(asyncio.create_task(self._receipt_loop()))
        tasks.append(asyncio.create_task(self._housekeeping_loop()))
        tasks.append(asyncio.create_task(self._callbacks.run(self._stop_seen)))
        tasks.append(asyncio.create_task(self._state_loop()))
        await stop.wait()
        self._stopping = True
        self._stop_seen.set()
        log.info("dispatcher draining")
        for lane in self._lanes:
            lane.wake.set()
        self._receipt_wake.set()
        await asyncio.gather(*tasks[: len(self._lanes)])
        for lane in self._lanes:
            await lane.channel.stop(drain=True)
        # The other loops end on the flag (not by cancellation: wait_for can swallow a
        # cancel on Python 3.11); the receipt loop flushes what the channels delivered last.
        self._receipts_closed = True
        self._receipt_wake.set()
        await asyncio.gather(*tasks[len(self._lanes) :])
        for lane in self._lanes:
            lane.stats.finished()
        await self._report_states()
        log.info("dispatcher stopped", handed_over=self.handed_over)

    async def _db_call(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(retrying, fn)

    async def _hot_call(self, fn: Callable[[], T]) -> T:
        """A short transaction on the sending path (claim, settle, receipts). On SQLite it
        runs on the loop's own thread when the writer lock is free: a thread hop costs a
        GIL hand-off per statement, more than the statement. Taken elsewhere, it waits for
        the lock in a thread, never on the loop."""
        if self._inline:
            return await on_loop_first(fn, self._db_call)
        return await self._db_call(fn)

    # ---- sending ---------------------------------------------------------------------------

    async def _lane_loop(self, lane: Lane) -> None:
        """Record the results that came back and arm as many held messages as that frees, in
        one short transaction, then write them at once; claiming (pricing, charging) runs
        beside it and keeps a couple of windows of messages held, off the slot's path.

        Why the crash bound holds: a message is written only after the transaction that armed
        it committed, and that transaction arms no more than the slots its own results free
        (`window - in_flight` counts every armed message whose result is not recorded, as
        recorded results and newly armed messages commit together). So at any instant at
        most `window` messages are armed and unrecorded — the ones a kill -9 leaves unknown.
        Held messages were never written: recovery releases them without calling them
        ambiguous, and they are not charged again (charged once, on their first claim)."""
        while True:
            self._refill(lane)
            batch, lane.results = lane.results, []
            free = 0 if self._stopping else lane.window - (lane.in_flight - len(batch))
            arm = [lane.held.popleft() for _ in range(min(free, len(lane.held)))]
            if batch or arm:
                try:
                    armed = await self._hot_call(partial(self._settle, lane.name, batch, arm))
                except Exception:  # rolled back: nothing of it happened
                    lane.results[:0] = batch
                    lane.held.extendleft(reversed(arm))
                    raise
                lane.in_flight += len(armed) - len(batch)
                lane.stats.results(batch, lane.in_flight)
                self.handed_over += sum(1 for _item, r in batch if r.accepted)
                if batch and self._parked:
                    self._receipt_wake.set()
                for item in armed:
                    task = asyncio.create_task(self._submit(lane, item))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                continue
            if self._stopping and lane.in_flight == 0:
                await self._release_held(lane)
                return
            lane.wake.clear()
            if lane.results or (lane.held and lane.in_flight < lane.window and not self._stopping):
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lane.wake.wait(), self._settings.tick_s)

    def _refill(self, lane: Lane) -> None:
        """Claim in the background when half of the held target is used up: a claim then has
        about a window's worth of sending to finish before the held messages run out."""
        if self._stopping or lane.claiming is not None:
            return
        target = max(2 * lane.window, HELD_MIN)
        budget = target - len(lane.held)
        if budget < target // 2 or time.monotonic() < lane.claim_after:
            return
        lane.claiming = asyncio.create_task(self._claim(lane, budget))

    async def _claim(self, lane: Lane, budget: int) -> None:
        try:
            claimed = await self._hot_call(partial(self._claim_tx, lane.name, budget))
        except Exception:
            log.exception("claiming failed", channel=lane.name)
            claimed = []
        finally:
            lane.claiming = None
        if len(claimed) < budget:  # the queue is (nearly) empty: poll again at the next tick
            lane.claim_after = time.monotonic() + self._settings.tick_s / 2
        lane.held.extend(claimed)
        lane.wake.set()

    async def _release_held(self, lane: Lane) -> None:
        """On the way out: held messages go back to the queue (charged already, so not
        charged again), for this or another dispatcher."""
        if lane.claiming is not None:
            await asyncio.gather(lane.claiming, return_exceptions=True)
        held = [item.row.id for item in lane.held]
        lane.held.clear()
        if held:
            await self._db_call(partial(self._release_tx, held))

    def _release_tx(self, ids: list[int]) -> None:
        with self._db.tx() as tx:
            engine.release(tx, ids, self._worker)

    def _settle(
        self, upstream: str, batch: list[tuple[Claimed, SubmitResult]], arm: list[Claimed]
    ) -> list[Claimed]:
        """One transaction, retried whole if PostgreSQL picks it as a deadlock victim: arm the
        held messages first (rows only this dispatcher holds), then record the results.
        Returns the messages armed (a held one whose lease ran out is dropped)."""
        return retrying(partial(self._settle_tx, upstream, batch, arm))

    def _settle_tx(
        self, upstream: str, batch: list[tuple[Claimed, SubmitResult]], arm: list[Claimed]
    ) -> list[Claimed]:
        with self._db.tx() as tx:
            armed: set[int] = set()
            stopped: list[engine.Finalised] = []
            if arm:
                now = to_ts(self._clock.now())
                ids = [c.row.id for c in arm]
                armed = set(engine.arm(tx, ids, self._worker, now + self._settings.lease_s))
                if len(armed) < len(ids):
                    rest = [i for i in ids if i not in armed]
                    stopped = engine.stop_held(tx, rest, self._worker, now)
                    engine.refund(tx, stopped, now)
                    engine.count_finals(tx, stopped)
            if batch:
                self._record_results(tx, upstream, batch)
        if len(armed) + len(stopped) < len(arm):
            log.warning(
                "held messages lost their lease", count=len(arm) - len(armed) - len(stopped)
            )
        out: list[Claimed] = []
        for item in arm:
            if item.row.id in armed:
                armed.discard(item.row.id)  # each message once, even if held twice
                out.append(item)
        return out

    def _claim_tx(self, upstream: str, budget: int) -> list[Claimed]:
        with self._db.tx() as tx:
            return claim(
                tx,
                upstream,
                self._worker,
                self._clock.now(),
                budget,
                self._settings.lease_s,
                self._tariffs,
            ).claimed

    async def _submit(self, lane: Lane, item: Claimed) -> None:
        try:
            result = await lane.channel.submit(item.outbound)
        except Exception as exc:  # a channel bug must not lose the message: retry it later
            log.exception("submit failed", channel=lane.name, message=item.row.id)
            result = retry_later(f"channel error: {exc}")
        lane.results.append((item, result))
        lane.wake.set()

    def _record_results(
        self, tx: Tx, upstream: str, batch: list[tuple[Claimed, SubmitResult]]
    ) -> None:
        now = to_ts(self._clock.now())
        accepted = [(c, r) for c, r in batch if r.accepted]
        failed = [(c, r) for c, r in batch if not r.accepted and not self._should_retry(r)]
        retried = [(c, r) for c, r in batch if not r.accepted and self._should_retry(r)]
        finals: list[engine.Finalised] = []
        # Refunds first: accounts before lists, the order every transaction keeps.
        for (change, status, err), ids_ in _group((c.row.id, r) for c, r in failed).items():
            finals += engine.apply_change(tx, change, ids_, now, status=status, err=err)
        handed = set(
            engine.mark_handed_over(
                tx, [c.row.id for c, _r in accepted], upstream, self._worker, now
            )
        )
        engine.enqueue_callbacks(tx, sorted(handed), engine.HANDED_OVER, 0)
        ids = [
            (upstream, uid, c.row.id, part)
            for c, r in accepted
            if c.row.id in handed
            for part, uid in enumerate(r.upstream_ids, 1)
        ]
        engine.record_upstream_ids(tx, ids)
        engine.set_parts(
            tx,
            [
                (len(r.upstream_ids), c.row.id)
                for c, r in accepted
                if c.row.id in handed and r.upstream_ids and len(r.upstream_ids) != c.row.parts
            ],
        )
        engine.count_sent(tx, _per_job(c for c, _r in accepted if c.row.id in handed), now)
        for (change, status, err), ids_ in _group(
            (c.row.id, r) for c, r in accepted if c.row.id in handed and r.final_status
        ).items():
            finals += engine.apply_change(tx, change, ids_, now, status=status, err=err)
        engine.postpone(tx, [(c.row.id, now + self._backoff(c.row.attempts)) for c, _r in retried])
        engine.count_finals(tx, finals)

    def _should_retry(self, result: SubmitResult) -> bool:
        if result.outcome is SubmitOutcome.AMBIGUOUS:
            return self._settings.on_ambiguous == "resend"
        return result.outcome is SubmitOutcome.RETRY

    def _backoff(self, attempts: int) -> int:
        s = self._settings
        return int(min(s.retry_max_s, s.retry_min_s * 2 ** max(attempts - 1, 0)))

    # ---- receipts --------------------------------------------------------------------------

    def _on_receipt(self, receipt: Receipt) -> None:
        self._receipts.append(receipt)
        # Recorded at once, with whatever else arrived meanwhile (batches form by themselves
        # under load): the SMSC waits for our answer, and many let only a few receipts go
        # unanswered — a receipt held back 50 ms would cap them at a few hundred a second.
        self._receipt_wake.set()

    async def _receipt_loop(self) -> None:
        while not self._receipts_closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._receipt_wake.wait(), 0.05)
            self._receipt_wake.clear()
            await self._flush_receipts_safely()
        await self._flush_receipts_safely()

    async def _flush_receipts_safely(self) -> None:
        """A failed flush keeps its receipts for the next round: none is dropped, and the
        loop never dies."""
        try:
            await self._flush_receipts()
        except Exception:
            log.exception("recording receipts failed; will retry")
            await asyncio.sleep(0.5)

    async def _flush_receipts(self) -> None:
        if not self._receipts and not self._parked:
            return
        batch, self._receipts = self._receipts, []
        parked, self._parked = self._parked, []
        batch.extend(r for _t, r in parked)
        first_seen = {id(r): t for t, r in parked}
        try:
            unmatched = await self._hot_call(lambda: self._record_receipts(batch))
        except Exception:
            self._receipts[:0] = batch  # keep them for the next round (not acknowledged)
            raise
        # Recorded (or parked): now the upstream may forget them. Before this, a crash leaves
        # them with the SMSC, which delivers them again on the next bind.
        for receipt in batch:
            if receipt.ack is not None:
                receipt.ack()
        now = time.monotonic()
        for receipt in unmatched:
            seen = first_seen.get(id(receipt), now)
            if now - seen < PARK_LIMIT_S:
                self._parked.append((seen, replace(receipt, ack=None)))
            else:
                log.warning("receipt for an unknown message dropped", upstream=receipt.upstream)

    def _record_receipts(self, batch: list[Receipt]) -> list[Receipt]:
        """Apply receipts; return those whose message is not recorded yet (a receipt may
        overtake its submit's result)."""
        now = to_ts(self._clock.now())
        unmatched: list[Receipt] = []
        with self._db.tx() as tx:
            by_upstream: dict[str, list[Receipt]] = defaultdict(list)
            for receipt in batch:
                by_upstream[receipt.upstream].append(receipt)
            finals: list[engine.Finalised] = []
            for upstream, receipts in by_upstream.items():
                targets = engine.receipt_targets(tx, upstream, [r.upstream_id for r in receipts])
                finals += self._apply(tx, upstream, receipts, targets, unmatched, now)
            engine.count_finals(tx, finals)
        return unmatched

    def _apply(
        self,
        tx: Tx,
        upstream: str,
        receipts: list[Receipt],
        targets: dict[str, engine.ReceiptTarget],
        unmatched: list[Receipt],
        now: int,
    ) -> list[engine.Finalised]:
        # Parts counted by their upstream ids, each once: the SMSC sends a receipt again when
        # ours was not acknowledged (a crash), and a long message must not be "delivered"
        # on two receipts for its first part.
        delivered_parts: dict[int, set[str]] = defaultdict(set)
        failures: dict[tuple[int, int], list[int]] = defaultdict(list)
        sizes: dict[int, tuple[int, int]] = {}
        for receipt in receipts:
            target = targets.get(receipt.upstream_id)
            if target is None:
                unmatched.append(receipt)
                continue
            if target.status != engine.HANDED_OVER:
                continue  # already final: a duplicate or late receipt
            if receipt.status is MessageStatus.DELIVERED:
                if not target.receipted:
                    delivered_parts[target.message_id].add(receipt.upstream_id)
                    sizes[target.message_id] = (target.parts, target.parts_done)
            elif receipt.status in FAILED_RECEIPT:
                failures[(int(receipt.status), receipt.err)].append(target.message_id)
        engine.add_parts_done(tx, [(len(n), m) for m, n in delivered_parts.items()])
        complete = [m for m, n in delivered_parts.items() if sizes[m][1] + len(n) >= sizes[m][0]]
        # Parts of messages still waiting for others: remembered as counted. (A complete
        # message turns final, which is what stops its duplicates.)
        engine.mark_receipted(
            tx,
            upstream,
            [uid for m, ids in delivered_parts.items() if m not in complete for uid in ids],
        )
        finals = engine.apply_change(
            tx, Change.RECEIPTED, complete, now, status=MessageStatus.DELIVERED
        )
        for (status, err), ids in failures.items():
            finals += engine.apply_change(
                tx, Change.RECEIPTED, ids, now, status=MessageStatus(status), err=err
            )
        return finals

    # ---- live state for the operator --------------------------------------------------------

    async def _state_loop(self) -> None:
        while not self._stopping:
            await self._report_states()
            await self._sleep(REPORT_EVERY_S)

    async def _report_states(self) -> None:
        """One upsert per lane into upstream_states (a failure only costs one report)."""
        reports = [lane.stats.report(self._worker, lane.in_flight) for lane in self._lanes]
        try:
            await asyncio.to_thread(operations.write_upstream_states, self._db, reports)
        except Exception:
            log.exception("writing the upstream states failed")

    # ---- housekeeping ----------------------------------------------------------------------

    async def _housekeeping_loop(self) -> None:
        while not self._stopping:
            try:
                await self._db_call(self._scheduler.tick)
                if time.monotonic() >= self._next_sweep:
                    self._next_sweep = time.monotonic() + SWEEP_EVERY_S
                    await self._db_call(self._sweep)
            except Exception:
                log.exception("housekeeping failed")
            for lane in self._lanes:
                lane.wake.set()
            await self._sleep(max(self._settings.tick_s, 0.05))

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the dispatcher is told to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_seen.wait(), seconds)

    def _sweep(self) -> None:
        """Expire what ran out of time; resolve leases of dispatchers that died. Looked up
        in a read transaction first: most sweeps find nothing and take no write lock."""
        now = to_ts(self._clock.now())
        grace = self._settings.receipt_grace_min * 60
        with self._db.tx(write=False) as tx:
            waiting, sent = engine.expired_ids(tx, now, grace, 1000)
            stale = engine.stale_leases(tx, None, now, 1000)
        if not (waiting or sent or stale.held or stale.armed):
            return
        with self._db.tx() as tx:
            # Dead dispatchers' leases first: a message one armed may have been written, so
            # `on_ambiguous` decides its fate even when its time ran out meanwhile (expired
            # unsent, it would be refunded). Only what is still waiting then expires.
            engine.release(tx, stale.held)
            finals = self._resolve_ambiguous(tx, stale.armed, now)
            finals += engine.apply_change(tx, Change.EXPIRED_UNSENT, waiting, now)
            finals += engine.apply_change(tx, Change.EXPIRED_UNRECEIPTED, sent, now)
            engine.count_finals(tx, finals)

    def _recover_own_leases(self) -> None:
        """After a crash this worker knows its leases are stale: release the held messages
        (never written), resolve the armed ones (at most a window per upstream) at once."""
        now = to_ts(self._clock.now())
        with self._db.tx() as tx:
            stale = engine.stale_leases(tx, self._worker, now, 100_000)
            engine.release(tx, stale.held)
            if stale.held:
                log.info("held messages released after a crash", count=len(stale.held))
            engine.count_finals(tx, self._resolve_ambiguous(tx, stale.armed, now))

    def _resolve_ambiguous(self, tx: Tx, ids: list[int], now: int) -> list[engine.Finalised]:
        """Apply `on_ambiguous` to armed messages of a dead dispatcher; returns those given
        up (the caller counts them with its other finals)."""
        if not ids:
            return []
        log.warning(
            "messages in flight at a crash", count=len(ids), policy=self._settings.on_ambiguous
        )
        if self._settings.on_ambiguous == "resend":
            engine.release(tx, ids)
            return []
        return engine.apply_change(tx, Change.GAVE_UP_AMBIGUOUS, ids, now, err=AMBIGUOUS_ERR)


def _per_job(items: Iterable[Claimed]) -> dict[int, int]:
    per_job: dict[int, int] = defaultdict(int)
    for claimed in items:
        if claimed.row.job_pk is not None:
            per_job[claimed.row.job_pk] += 1
    return dict(per_job)


def _group(
    pairs: Iterable[tuple[int, SubmitResult]],
) -> dict[tuple[Change, MessageStatus, int], list[int]]:
    """(message id, final result) → {(its lifecycle change, status, err): ids}."""
    grouped: dict[tuple[Change, MessageStatus, int], list[int]] = defaultdict(list)
    for message_id, result in pairs:
        status = result.final_status
        if status is None:
            status = MessageStatus.UNDELIVERABLE
        if result.outcome is SubmitOutcome.AMBIGUOUS:
            key = (Change.GAVE_UP_AMBIGUOUS, MessageStatus.UNDELIVERABLE, AMBIGUOUS_ERR)
        elif result.accepted:
            key = (Change.FINISHED_BY_UPSTREAM, status, result.err)
        else:
            key = (Change.REFUSED, status, result.err)
        grouped[key].append(message_id)
    return dict(grouped)

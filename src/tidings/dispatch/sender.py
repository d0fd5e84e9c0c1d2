"""The dispatcher: claims due messages per upstream, hands them over within the upstream's
window, records results and receipts in batches, and recovers after a crash.

State lives in the database. Claimed messages are first HELD (charged, leased, provably not
written); a message is armed — marked as possibly written — in the same transaction that
records the results freeing its slot, and only then written. At most `window` messages per
upstream are armed and not yet recorded at any moment, so a hard kill leaves at most that
many whose fate is unknown (resolved by the `on_ambiguous` policy); held ones are released.

`Dispatcher` composes the parts and runs their loops: the lanes' submit loops
(`lanes.py`), result recording (`results.py`), receipts (`receipts.py`), crash recovery and
expiry (`recovery.py`), the scheduler's runs (`scheduler.py`) and status callbacks
(`callbacks.py`); it reports each lane's live state for the operator.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

import structlog

from tidings.channels.base import Arrival, Channel, InboundPart, Receipt, SubmitResult
from tidings.config import DispatchSettings, InboundSettings
from tidings.dispatch.callbacks import CallbackSender
from tidings.dispatch.claims import Claimed, TariffLookup
from tidings.dispatch.db_calls import DbCalls
from tidings.dispatch.inbound import InboundRecorder
from tidings.dispatch.lane_state import REPORT_EVERY_S
from tidings.dispatch.lanes import Lane, LaneRunner
from tidings.dispatch.liveness import Liveness, WorkerIdTaken
from tidings.dispatch.receipts import ReceiptRecorder
from tidings.dispatch.recovery import Recovery
from tidings.dispatch.results import ResultRecorder
from tidings.dispatch.scheduler import Scheduler
from tidings.domain.clock import Clock
from tidings.domain.routing import Routes
from tidings.store import operations
from tidings.store.db import Database

log = structlog.get_logger("tidings.dispatcher")
SWEEP_EVERY_S = 2.0  # expiry and dead dispatchers' leases: seconds matter, not milliseconds


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
        inbound: InboundSettings | None = None,
        routes: Routes | None = None,
    ) -> None:
        self._db = db
        self._scheduler = scheduler
        self._lanes = [Lane(ch.name, ch, window) for ch, window in lanes]
        self._settings = settings
        self._worker = worker_id
        self._calls = DbCalls(db)
        self._liveness = Liveness(db, clock, worker_id, settings)
        self._receipts = ReceiptRecorder(
            db, clock, self._calls, settings.unmatched_receipt_keep_min
        )
        self._inbound = InboundRecorder(
            db,
            clock,
            self._calls,
            inbound or InboundSettings(),
            routes,
            settings.default_validity_min * 60,
        )
        self._results = ResultRecorder(db, clock, worker_id, settings, self._receipts)
        self._recovery = Recovery(db, clock, worker_id, settings)
        self._runner = LaneRunner(
            db, clock, worker_id, settings, tariffs, self._calls, self._results
        )
        self._callbacks = CallbackSender(
            db,
            clock,
            settings.callback_backoff_s,
            settings.callback_attempts,
            limits=settings.callbacks,
        )
        self._stopping = False
        self._next_sweep = 0.0
        self._stop_seen = asyncio.Event()
        self._left = asyncio.Event()
        self._taken_over = asyncio.Event()

    @property
    def handed_over(self) -> int:
        """Messages this dispatcher handed to an upstream since it started."""
        return self._runner.handed_over

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set, then drain. The dispatcher's row is written before
        anything is claimed and renewed until the drain is over (others must not take it for
        dead meanwhile); then it is marked stopped."""
        await self._calls.run(self._liveness.register)
        beating = asyncio.create_task(self._heartbeat_loop())
        try:
            await self._dispatch(stop)
        finally:
            self._left.set()
            await beating
            try:
                await self._calls.run(self._liveness.leave)
            except Exception:
                log.exception("marking this dispatcher stopped failed")
        if self._taken_over.is_set():
            raise WorkerIdTaken(
                f"worker id {self._worker!r} was taken over by another process while this "
                "one's heartbeat lapsed; this one stopped"
            )

    async def _dispatch(self, stop: asyncio.Event) -> None:
        for lane in self._lanes:
            await lane.channel.start(self._on_arrival)
        await self._calls.run(self._recovery.recover_own_leases)
        tasks = [asyncio.create_task(self._runner.run(lane)) for lane in self._lanes]
        tasks.append(asyncio.create_task(self._receipts.run()))
        tasks.append(asyncio.create_task(self._inbound.run()))
        tasks.append(asyncio.create_task(self._housekeeping_loop()))
        tasks.append(asyncio.create_task(self._callbacks.run(self._stop_seen)))
        tasks.append(asyncio.create_task(self._state_loop()))
        await _either(stop, self._taken_over)
        self._stopping = self._runner.stopping = True
        self._stop_seen.set()
        log.info("dispatcher draining")
        for lane in self._lanes:
            lane.wake.set()
        self._receipts.wake.set()
        self._inbound.wake.set()
        await asyncio.gather(*tasks[: len(self._lanes)])
        for lane in self._lanes:
            await lane.channel.stop(drain=True)
        # The other loops end on the flag (not by cancellation: wait_for can swallow a
        # cancel on Python 3.11); the receipt loop flushes what the channels delivered last.
        self._receipts.close()
        self._inbound.close()
        await asyncio.gather(*tasks[len(self._lanes) :])
        for lane in self._lanes:
            lane.stats.finished()
        await self._report_states()
        log.info("dispatcher stopped", handed_over=self.handed_over)

    def _on_arrival(self, arrival: Arrival) -> None:
        """What a channel hands over: a receipt, or an inbound message."""
        if isinstance(arrival, InboundPart):
            self._inbound.on_inbound(arrival)
        else:
            self._receipts.on_receipt(arrival)

    # ---- one transaction at a time (the tests drive the parts through these) ---------------

    def _claim_tx(self, upstream: str, budget: int) -> list[Claimed]:
        return self._runner.claim_tx(upstream, budget)

    def _settle_tx(
        self, upstream: str, batch: list[tuple[Claimed, SubmitResult]], arm: list[Claimed]
    ) -> list[Claimed]:
        return self._results.settle_tx(upstream, batch, arm)

    def _record_receipts(self, batch: list[Receipt]) -> list[Receipt]:
        return self._receipts.record(batch)

    def _sweep(self) -> None:
        self._recovery.sweep()

    def _record_inbound(self, batch: list[InboundPart]) -> object:
        return self._inbound.record(batch)

    def _sweep_inbound(self) -> object:
        return self._inbound.sweep()

    def _recover_own_leases(self) -> None:
        self._recovery.recover_own_leases()

    # ---- live state for the operator, housekeeping -----------------------------------------

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

    async def _housekeeping_loop(self) -> None:
        while not self._stopping:
            try:
                await self._calls.run(self._scheduler.tick)
                if time.monotonic() >= self._next_sweep:
                    self._next_sweep = time.monotonic() + SWEEP_EVERY_S
                    await self._calls.run(self._sweep)
                    await self._calls.run(self._receipts.match_stored)
                    await self._calls.run(self._inbound.sweep)
            except Exception:
                log.exception("housekeeping failed")
            for lane in self._lanes:
                lane.wake.set()
            await self._sleep(max(self._settings.tick_s, 0.05))

    async def _heartbeat_loop(self) -> None:
        while not self._left.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._left.wait(), self._settings.heartbeat_s)
            if self._left.is_set():
                return
            try:
                ours = await self._calls.run(self._liveness.beat)
            except Exception:
                log.exception("renewing the heartbeat failed")
                continue
            if not ours:
                log.error("another process took this dispatcher's worker id over: stopping")
                self._taken_over.set()
                return

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the dispatcher is told to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_seen.wait(), seconds)


async def _either(first: asyncio.Event, second: asyncio.Event) -> None:
    waits = [asyncio.create_task(first.wait()), asyncio.create_task(second.wait())]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in waits:
        task.cancel()
    await asyncio.gather(*waits, return_exceptions=True)

"""Lanes: one per upstream, each with its submit loop. Claimed messages are HELD ahead of
their turn; a slot freed by a recorded result arms the next one, which is then written."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial

import structlog

from tidings.channels.base import Channel, SubmitResult, retry_later
from tidings.config import DispatchSettings
from tidings.dispatch.claims import Claimed, TariffLookup, claim
from tidings.dispatch.db_calls import DbCalls
from tidings.dispatch.lane_state import LaneStats
from tidings.dispatch.results import ResultRecorder
from tidings.domain.clock import Clock
from tidings.store import queue
from tidings.store.db import Database

log = structlog.get_logger("tidings.dispatcher")


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


class LaneRunner:
    """The submit loops of one dispatcher's lanes, and the claims that feed them."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        worker_id: str,
        settings: DispatchSettings,
        tariffs: TariffLookup,
        calls: DbCalls,
        results: ResultRecorder,
    ) -> None:
        self._db = db
        self._clock = clock
        self._worker = worker_id
        self._settings = settings
        self._tariffs = tariffs
        self._calls = calls
        self._results = results
        self._tasks: set[asyncio.Task[None]] = set()
        self.stopping = False
        self.handed_over = 0

    async def run(self, lane: Lane) -> None:
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
            free = 0 if self.stopping else lane.window - (lane.in_flight - len(batch))
            arm = [lane.held.popleft() for _ in range(min(free, len(lane.held)))]
            if batch or arm:
                try:
                    armed = await self._calls.hot(
                        partial(self._results.settle, lane.name, batch, arm)
                    )
                except Exception:  # rolled back: nothing of it happened
                    lane.results[:0] = batch
                    lane.held.extendleft(reversed(arm))
                    raise
                lane.in_flight += len(armed) - len(batch)
                lane.stats.results(batch, lane.in_flight)
                self.handed_over += sum(1 for _item, r in batch if r.accepted)
                for item in armed:
                    task = asyncio.create_task(self._submit(lane, item))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                continue
            if self.stopping and lane.in_flight == 0:
                await self._release_held(lane)
                return
            lane.wake.clear()
            if lane.results or (lane.held and lane.in_flight < lane.window and not self.stopping):
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lane.wake.wait(), self._settings.tick_s)

    def _refill(self, lane: Lane) -> None:
        """Claim in the background when half of the held target is used up: a claim then has
        about a window's worth of sending to finish before the held messages run out."""
        if self.stopping or lane.claiming is not None:
            return
        target = max(2 * lane.window, HELD_MIN)
        budget = target - len(lane.held)
        if budget < target // 2 or time.monotonic() < lane.claim_after:
            return
        lane.claiming = asyncio.create_task(self._claim(lane, budget))

    async def _claim(self, lane: Lane, budget: int) -> None:
        try:
            claimed = await self._calls.hot(partial(self.claim_tx, lane.name, budget))
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
            await self._calls.run(partial(self._release_tx, held))

    def _release_tx(self, ids: list[int]) -> None:
        with self._db.tx() as tx:
            queue.release(tx, ids, self._worker)

    def claim_tx(self, upstream: str, budget: int) -> list[Claimed]:
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

"""Receipts: taken from the channels by a plain call, recorded in batches, acknowledged to
the upstream only once recorded; one that overtook its submit's result is parked a while."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from dataclasses import replace

import structlog

from tidings.channels.base import Receipt
from tidings.dispatch.db_calls import DbCalls
from tidings.domain.clock import Clock, to_ts
from tidings.domain.lifecycle import FAILED_RECEIPT, Change, MessageStatus
from tidings.store import outcomes
from tidings.store.db import Database, Tx
from tidings.store.receipts import ReceiptTarget, add_parts_done, mark_receipted, receipt_targets

log = structlog.get_logger("tidings.dispatcher")


PARK_LIMIT_S = 600  # how long a receipt waits for its message's submit to be recorded


class ReceiptRecorder:
    """The receipts of every lane of one dispatcher."""

    def __init__(self, db: Database, clock: Clock, calls: DbCalls) -> None:
        self._db = db
        self._clock = clock
        self._calls = calls
        self._receipts: list[Receipt] = []
        self._parked: list[tuple[float, Receipt]] = []
        self.wake = asyncio.Event()
        self._closed = False

    def submits_recorded(self) -> None:
        """Results were recorded: a parked receipt may find its message now."""
        if self._parked:
            self.wake.set()

    def close(self) -> None:
        """No more receipts come (the channels stopped): flush what is left and end `run`."""
        self._closed = True
        self.wake.set()

    def on_receipt(self, receipt: Receipt) -> None:
        self._receipts.append(receipt)
        # Recorded at once, with whatever else arrived meanwhile (batches form by themselves
        # under load): the SMSC waits for our answer, and many let only a few receipts go
        # unanswered — a receipt held back 50 ms would cap them at a few hundred a second.
        self.wake.set()

    async def run(self) -> None:
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), 0.05)
            self.wake.clear()
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
            unmatched = await self._calls.hot(lambda: self.record(batch))
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

    def record(self, batch: list[Receipt]) -> list[Receipt]:
        """Apply receipts; return those whose message is not recorded yet (a receipt may
        overtake its submit's result)."""
        now = to_ts(self._clock.now())
        unmatched: list[Receipt] = []
        with self._db.tx() as tx:
            by_upstream: dict[str, list[Receipt]] = defaultdict(list)
            for receipt in batch:
                by_upstream[receipt.upstream].append(receipt)
            finals: list[outcomes.Finalised] = []
            for upstream, receipts in by_upstream.items():
                targets = receipt_targets(tx, upstream, [r.upstream_id for r in receipts])
                finals += self._apply(tx, upstream, receipts, targets, unmatched, now)
            outcomes.count_finals(tx, finals)
        return unmatched

    def _apply(
        self,
        tx: Tx,
        upstream: str,
        receipts: list[Receipt],
        targets: dict[str, ReceiptTarget],
        unmatched: list[Receipt],
        now: int,
    ) -> list[outcomes.Finalised]:
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
            if target.status != MessageStatus.HANDED_OVER:
                continue  # already final: a duplicate or late receipt
            if receipt.status is MessageStatus.DELIVERED:
                if not target.receipted:
                    delivered_parts[target.message_id].add(receipt.upstream_id)
                    sizes[target.message_id] = (target.parts, target.parts_done)
            elif receipt.status in FAILED_RECEIPT:
                failures[(int(receipt.status), receipt.err)].append(target.message_id)
        add_parts_done(tx, [(len(n), m) for m, n in delivered_parts.items()])
        complete = [m for m, n in delivered_parts.items() if sizes[m][1] + len(n) >= sizes[m][0]]
        # Parts of messages still waiting for others: remembered as counted. (A complete
        # message turns final, which is what stops its duplicates.)
        mark_receipted(
            tx,
            upstream,
            [uid for m, ids in delivered_parts.items() if m not in complete for uid in ids],
        )
        finals = outcomes.apply_change(
            tx, Change.RECEIPTED, complete, now, status=MessageStatus.DELIVERED
        )
        for (status, err), ids in failures.items():
            finals += outcomes.apply_change(
                tx, Change.RECEIPTED, ids, now, status=MessageStatus(status), err=err
            )
        return finals

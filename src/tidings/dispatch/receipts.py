"""Receipts: taken from the channels by a plain call, recorded in batches, acknowledged to
the upstream only once durable. One that overtook its submit's result (or came on another
dispatcher's bind) is stored in `unmatched_receipts` in the batch's own transaction, and
matched when its upstream id is recorded, or by a periodic retry."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence

import structlog

from tidings.channels.base import Receipt
from tidings.dispatch.acked_batches import AckedBatches
from tidings.dispatch.db_calls import DbCalls
from tidings.domain.clock import Clock, to_ts
from tidings.domain.lifecycle import FAILED_RECEIPT, Change, MessageStatus
from tidings.store import outcomes
from tidings.store.db import Database, Tx
from tidings.store.receipts import (
    ReceiptTarget,
    StoredReceipt,
    add_parts_done,
    drop_stored_before,
    mark_receipted,
    receipt_targets,
    store_unmatched,
    stored_before,
    stored_now_known,
    take_stored,
)

log = structlog.get_logger("tidings.dispatcher")


# A receipt stored unmatched usually precedes its submit's result by milliseconds: for this
# long after storing one, the transactions recording results look for stored receipts of the
# ids they record. Otherwise (the common case) they pay nothing; the periodic retry finds
# the rest.
MATCH_WITH_RESULTS_S = 60.0
RETRY_BATCH = 1000


class ReceiptRecorder:
    """The receipts of every lane of one dispatcher."""

    def __init__(self, db: Database, clock: Clock, calls: DbCalls, keep_min: int) -> None:
        self._db = db
        self._clock = clock
        self._calls = calls
        self._keep_s = keep_min * 60
        self._stored_at = -math.inf  # monotonic time this process last stored one unmatched
        self._batches: AckedBatches[Receipt] = AckedBatches("receipts", calls, self.record)
        self.wake = self._batches.wake
        self.close = self._batches.close
        self.run = self._batches.run
        self.flush = self._batches.flush

    def on_receipt(self, receipt: Receipt) -> None:
        """Recorded with whatever else arrived meanwhile; answered once durable
        (dispatch/acked_batches.py)."""
        self._batches.add(receipt)

    def record(self, batch: Sequence[Receipt]) -> list[Receipt]:
        """Apply receipts in one transaction; those whose upstream id is not recorded yet (a
        receipt may overtake its submit's result) are stored in it. Returns those."""
        now = to_ts(self._clock.now())
        unmatched: list[Receipt] = []
        with self._db.tx() as tx:
            by_upstream: dict[str, list[Receipt]] = defaultdict(list)
            for receipt in batch:
                by_upstream[receipt.upstream].append(receipt)
            finals: list[outcomes.Finalised] = []
            for upstream, receipts in by_upstream.items():
                kept = [_kept(r) for r in receipts]
                targets = receipt_targets(tx, upstream, [r.upstream_id for r in receipts])
                done, missing = _apply(tx, upstream, kept, targets, now)
                finals += done
                unmatched += [receipts[i] for i in missing]
                store_unmatched(tx, [kept[i] for i in missing], now)
            outcomes.count_finals(tx, finals)
            if unmatched:
                # Before the commit: a result recorded meanwhile looks for them at once.
                self._stored_at = time.monotonic()
        return unmatched

    def match_recorded(
        self, tx: Tx, upstream: str, upstream_ids: Sequence[str], now: int
    ) -> list[outcomes.Finalised]:
        """In the transaction that records these upstream ids: the receipts stored for them
        are applied and forgotten. The caller counts the finals."""
        if not upstream_ids or time.monotonic() - self._stored_at > MATCH_WITH_RESULTS_S:
            return []
        stored = take_stored(tx, upstream, upstream_ids)
        if not stored:
            return []
        targets = receipt_targets(tx, upstream, [r.upstream_id for r in stored])
        return _apply(tx, upstream, stored, targets, now)[0]

    def match_stored(self) -> None:
        """The periodic retry: stored receipts whose upstream id was recorded since (a race
        between the two transactions, another dispatcher's submit) are applied; those kept
        longer than `unmatched_receipt_keep_min` are dropped and counted in the log. Looked
        up in a read transaction first: most rounds find nothing."""
        now = to_ts(self._clock.now())
        before = now - self._keep_s
        with self._db.tx(write=False) as tx:
            known = stored_now_known(tx, RETRY_BATCH)
            old = stored_before(tx, before)
        if not known and not old:
            return
        by_upstream: dict[str, list[str]] = defaultdict(list)
        for upstream, upstream_id in known:
            by_upstream[upstream].append(upstream_id)
        matched = dropped = 0
        with self._db.tx() as tx:
            finals: list[outcomes.Finalised] = []
            for upstream, ids in by_upstream.items():
                stored = take_stored(tx, upstream, ids)
                matched += len(stored)
                targets = receipt_targets(tx, upstream, [r.upstream_id for r in stored])
                finals += _apply(tx, upstream, stored, targets, now)[0]
            outcomes.count_finals(tx, finals)
            if old:
                dropped = drop_stored_before(tx, before)
        if matched:
            log.info("stored receipts matched", count=matched)
        if dropped:
            log.warning(
                "receipts for unknown messages dropped",
                count=dropped,
                kept_min=self._keep_s // 60,
            )


def _kept(receipt: Receipt) -> StoredReceipt:
    done_at = None if receipt.done_at is None else to_ts(receipt.done_at)
    return StoredReceipt(
        receipt.upstream, receipt.upstream_id, int(receipt.status), receipt.err, done_at
    )


def _apply(
    tx: Tx,
    upstream: str,
    receipts: Sequence[StoredReceipt],
    targets: dict[str, ReceiptTarget],
    now: int,
) -> tuple[list[outcomes.Finalised], list[int]]:
    """Apply receipts to their messages; returns the finals and the positions of the
    receipts whose upstream id is unknown."""
    # Parts counted by their upstream ids, each once: the SMSC sends a receipt again when
    # ours was not acknowledged (a crash), and a long message must not be "delivered"
    # on two receipts for its first part.
    delivered_parts: dict[int, set[str]] = defaultdict(set)
    failures: dict[tuple[int, int], list[int]] = defaultdict(list)
    sizes: dict[int, tuple[int, int]] = {}
    unmatched: list[int] = []
    for position, receipt in enumerate(receipts):
        target = targets.get(receipt.upstream_id)
        if target is None:
            unmatched.append(position)
            continue
        if target.status != MessageStatus.HANDED_OVER:
            continue  # already final: a duplicate or late receipt
        if receipt.status == MessageStatus.DELIVERED:
            if not target.receipted:
                delivered_parts[target.message_id].add(receipt.upstream_id)
                sizes[target.message_id] = (target.parts, target.parts_done)
        elif receipt.status in FAILED_RECEIPT:
            failures[(receipt.status, receipt.err)].append(target.message_id)
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
    return finals, unmatched

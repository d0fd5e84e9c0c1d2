"""Result recording: what came back from the upstreams, written in the transaction that
arms the held messages the results free (the crash bound's one transaction per slot)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import partial

import structlog

from tidings.channels.base import SubmitOutcome, SubmitResult
from tidings.config import DispatchSettings
from tidings.dispatch.claims import Claimed
from tidings.dispatch.receipts import ReceiptRecorder
from tidings.domain.clock import Clock, to_ts
from tidings.domain.lifecycle import AMBIGUOUS_ERR, Change, MessageStatus
from tidings.store import ledger, outcomes, queue
from tidings.store.db import Database, Tx, retrying

log = structlog.get_logger("tidings.dispatcher")


class ResultRecorder:
    """Settles one lane's batch: arms held messages, records results, counts, refunds."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        worker_id: str,
        settings: DispatchSettings,
        receipts: ReceiptRecorder,
    ) -> None:
        self._db = db
        self._clock = clock
        self._worker = worker_id
        self._settings = settings
        self._receipts = receipts

    def settle(
        self, upstream: str, batch: list[tuple[Claimed, SubmitResult]], arm: list[Claimed]
    ) -> list[Claimed]:
        """One transaction, retried whole if PostgreSQL picks it as a deadlock victim: arm the
        held messages first (rows only this dispatcher holds), then record the results.
        Returns the messages armed (a held one whose lease ran out is dropped)."""
        return retrying(partial(self.settle_tx, upstream, batch, arm))

    def settle_tx(
        self, upstream: str, batch: list[tuple[Claimed, SubmitResult]], arm: list[Claimed]
    ) -> list[Claimed]:
        with self._db.tx() as tx:
            armed: set[int] = set()
            stopped: list[outcomes.Finalised] = []
            if arm:
                now = to_ts(self._clock.now())
                ids = [c.row.id for c in arm]
                armed = set(queue.arm(tx, ids, self._worker, now + self._settings.lease_s))
                if len(armed) < len(ids):
                    rest = [i for i in ids if i not in armed]
                    stopped = queue.stop_held(tx, rest, self._worker, now)
                    ledger.refund(tx, stopped, now)
                    outcomes.count_finals(tx, stopped)
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

    def _record_results(
        self, tx: Tx, upstream: str, batch: list[tuple[Claimed, SubmitResult]]
    ) -> None:
        now = to_ts(self._clock.now())
        accepted = [(c, r) for c, r in batch if r.accepted]
        failed = [(c, r) for c, r in batch if not r.accepted and not self._should_retry(r)]
        retried = [(c, r) for c, r in batch if not r.accepted and self._should_retry(r)]
        finals: list[outcomes.Finalised] = []
        # Refunds first: accounts before lists, the order every transaction keeps.
        for (change, status, err), ids_ in _group((c.row.id, r) for c, r in failed).items():
            finals += outcomes.apply_change(tx, change, ids_, now, status=status, err=err)
        handed = set(
            outcomes.mark_handed_over(
                tx, [c.row.id for c, _r in accepted], upstream, self._worker, now
            )
        )
        outcomes.enqueue_callbacks(tx, sorted(handed), MessageStatus.HANDED_OVER, 0)
        ids = [
            (upstream, uid, c.row.id, part)
            for c, r in accepted
            if c.row.id in handed
            for part, uid in enumerate(r.upstream_ids, 1)
        ]
        outcomes.record_upstream_ids(tx, ids)
        outcomes.set_parts(
            tx,
            [
                (len(r.upstream_ids), c.row.id)
                for c, r in accepted
                if c.row.id in handed and r.upstream_ids and len(r.upstream_ids) != c.row.parts
            ],
        )
        # Receipts that overtook these results were stored unmatched: applied with them, and
        # before the list's counters. (Writing a message twice in one transaction makes
        # PostgreSQL check its foreign keys, a share lock on its account: accounts before
        # lists, the order every transaction keeps, or a claim deadlocks with this.)
        finals += self._receipts.match_recorded(tx, upstream, [row[1] for row in ids], now)
        outcomes.count_sent(tx, _per_job(c for c, _r in accepted if c.row.id in handed), now)
        for (change, status, err), ids_ in _group(
            (c.row.id, r) for c, r in accepted if c.row.id in handed and r.final_status
        ).items():
            finals += outcomes.apply_change(tx, change, ids_, now, status=status, err=err)
        queue.postpone(tx, [(c.row.id, now + self._backoff(c.row.attempts)) for c, _r in retried])
        outcomes.count_finals(tx, finals)

    def _should_retry(self, result: SubmitResult) -> bool:
        if result.outcome is SubmitOutcome.AMBIGUOUS:
            return self._settings.on_ambiguous == "resend"
        return result.outcome is SubmitOutcome.RETRY

    def _backoff(self, attempts: int) -> int:
        s = self._settings
        return int(min(s.retry_max_s, s.retry_min_s * 2 ** max(attempts - 1, 0)))


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

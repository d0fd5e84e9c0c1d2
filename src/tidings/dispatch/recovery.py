"""Crash recovery and expiry: a dispatcher's own leases after taking its worker id over,
dead dispatchers' leases and messages out of time (the sweep). Held messages are released
(never written); armed ones, which may have reached the upstream, follow the `on_ambiguous`
policy."""

from __future__ import annotations

import structlog

from tidings.config import DispatchSettings
from tidings.domain.clock import Clock, to_ts
from tidings.domain.lifecycle import AMBIGUOUS_ERR, Change
from tidings.store import dispatchers, outcomes, queue
from tidings.store.db import Database, Tx

log = structlog.get_logger("tidings.dispatcher")


class Recovery:
    def __init__(
        self, db: Database, clock: Clock, worker_id: str, settings: DispatchSettings
    ) -> None:
        self._db = db
        self._clock = clock
        self._worker = worker_id
        self._settings = settings

    def sweep(self) -> None:
        """Expire what ran out of time; resolve leases of dispatchers that died. Looked up
        in a read transaction first: most sweeps find nothing and take no write lock."""
        now = to_ts(self._clock.now())
        grace = self._settings.receipt_grace_min * 60
        with self._db.tx(write=False) as tx:
            waiting, sent = queue.expired_ids(tx, now, grace, 1000)
            # Only dead dispatchers' leases (dispatch/liveness.py): a live one's, however
            # old, are still in its hands.
            live_after = now - int(self._settings.dead_after_s)
            stale = dispatchers.dead_owners_leases(tx, self._worker, live_after, 1000)
        if not (waiting or sent or stale.held or stale.armed):
            return
        with self._db.tx() as tx:
            # Dead dispatchers' leases first: a message one armed may have been written, so
            # `on_ambiguous` decides its fate even when its time ran out meanwhile (expired
            # unsent, it would be refunded). Only what is still waiting then expires.
            queue.release(tx, stale.held)
            finals = self._resolve_ambiguous(tx, stale.armed, now)
            finals += outcomes.apply_change(tx, Change.EXPIRED_UNSENT, waiting, now)
            finals += outcomes.apply_change(tx, Change.EXPIRED_UNRECEIPTED, sent, now)
            outcomes.count_finals(tx, finals)

    def recover_own_leases(self) -> None:
        """After a crash this worker knows its leases are stale: release the held messages
        (never written), resolve the armed ones (at most a window per upstream) at once."""
        now = to_ts(self._clock.now())
        with self._db.tx() as tx:
            stale = queue.stale_leases(tx, self._worker, now, 100_000)
            queue.release(tx, stale.held)
            if stale.held:
                log.info("held messages released after a crash", count=len(stale.held))
            outcomes.count_finals(tx, self._resolve_ambiguous(tx, stale.armed, now))

    def _resolve_ambiguous(self, tx: Tx, ids: list[int], now: int) -> list[outcomes.Finalised]:
        """Apply `on_ambiguous` to armed messages of a dead dispatcher; returns those given
        up (the caller counts them with its other finals, keeping one lock order)."""
        if not ids:
            return []
        log.warning(
            "messages in flight at a crash", count=len(ids), policy=self._settings.on_ambiguous
        )
        if self._settings.on_ambiguous == "resend":
            queue.release(tx, ids)
            return []
        return outcomes.apply_change(tx, Change.GAVE_UP_AMBIGUOUS, ids, now, err=AMBIGUOUS_ERR)

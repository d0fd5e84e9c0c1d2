"""Inbound messages: taken from the channels like receipts, stored in batches, and only then
acknowledged to the upstream — until the commit the SMSC still holds them and, if we die,
delivers them again on the next bind. A message delivered again after its commit (our answer
was lost) is recognised by its fingerprint within `inbound.dedup_window_s` and kept once; a
part of a long message by its place in the message.

Parts of long messages are stored as they come (and answered: an SMSC will not wait minutes
for the missing one), joined in the transaction that stores the last of them, or by the
sweep after `inbound.part_timeout_s` with what came. Whose a message is, and what STOP
does, is tidings.domain.inbound's."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

import structlog

from tidings.channels.base import InboundPart
from tidings.config import InboundSettings
from tidings.dispatch.acked_batches import AckedBatches
from tidings.dispatch.db_calls import DbCalls
from tidings.domain.clock import Clock, to_ts
from tidings.domain.door_inbound import SMPP_DOOR
from tidings.domain.inbound import (
    ROUTE_NAMES,
    decide_owner,
    inbound_address,
    is_stop,
    join_parts,
    parse_keywords,
)
from tidings.domain.routing import Routes
from tidings.domain.sms import segment_count
from tidings.ops.metrics import count_inbound
from tidings.store import door_inbound
from tidings.store import inbound as q
from tidings.store.db import Database, Tx

log = structlog.get_logger("tidings.dispatcher")
SWEEP_BATCH = 500


class InboundRecorder:
    """The inbound messages of every lane of one dispatcher."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        calls: DbCalls,
        settings: InboundSettings,
        routes: Routes | None = None,
        validity_s: int = 24 * 3600,
    ) -> None:
        self._db = db
        # Where a stop confirmation goes, and how long it may wait (send.php's default).
        self._routes = routes or Routes()
        self._validity_s = validity_s
        self._clock = clock
        self._calls = calls
        self._settings = settings
        self._default_keywords = parse_keywords(None, settings.stop_keywords)
        self._batches: AckedBatches[InboundPart] = AckedBatches(
            "inbound messages", calls, self.record
        )
        self.wake = self._batches.wake
        self.close = self._batches.close
        self.run = self._batches.run

    def on_inbound(self, part: InboundPart) -> None:
        """Recorded with whatever else arrived meanwhile; answered once durable
        (dispatch/acked_batches.py)."""
        self._batches.add(part)

    def record(self, batch: Sequence[InboundPart]) -> Counter[str]:
        """Store a batch in one transaction. Returns how many were kept by outcome
        ("number", "reply", "unassigned", "stop", "duplicate", "part")."""
        now = to_ts(self._clock.now())
        since = now - self._settings.dedup_window_s
        outcomes: Counter[str] = Counter()
        tally: Counter[tuple[str, str]] = Counter()  # (upstream, outcome) → messages
        with self._db.tx() as tx:
            seen: set[str] = set()
            parts: list[q.StoredPart] = []
            for item in batch:
                if item.concat is not None:
                    parts.append(_stored_part(item))
                    continue
                duplicate = item.fingerprint in seen or q.seen_recently(
                    tx, item.upstream, item.fingerprint, since
                )
                seen.add(item.fingerprint)
                if duplicate:
                    outcomes["duplicate"] += 1
                    tally[(item.upstream, "duplicate")] += 1
                    continue
                message = q.NewInbound(
                    item.upstream,
                    inbound_address(item.source),
                    inbound_address(item.destination),
                    item.text,
                    item.fingerprint,
                )
                outcomes.update(self._keep(tx, message, now, tally)[1])
            if parts:
                q.store_parts(tx, parts, now)
                outcomes["part"] += len(parts)
                for key in dict.fromkeys(p.key for p in parts):
                    stored = q.open_parts(tx, key)
                    if len(stored) >= key[4]:
                        outcomes.update(self._join(tx, key, stored, now, tally))
        count_inbound(tally)  # committed: counted once
        return outcomes

    def sweep(self) -> Counter[str]:
        """Long messages whose missing parts did not come in time are kept with what came;
        joined parts past the dedup window are forgotten."""
        now = to_ts(self._clock.now())
        outcomes: Counter[str] = Counter()
        tally: Counter[tuple[str, str]] = Counter()
        forget_before = now - max(self._settings.dedup_window_s, 1)
        with self._db.tx(write=False) as tx:
            due = q.overdue_sets(tx, now - self._settings.part_timeout_s, SWEEP_BATCH)
            old = q.joined_parts_before(tx, forget_before)
        if not due and not old:
            return outcomes  # the usual round: a read, no write
        with self._db.tx() as tx:
            for key in due:
                stored = q.open_parts(tx, key)
                if stored:  # another dispatcher may have joined it meanwhile
                    outcomes.update(self._join(tx, key, stored, now, tally))
            q.forget_joined_parts(tx, forget_before)
        count_inbound(tally)
        if outcomes:
            log.info("inbound messages kept with parts missing", count=sum(outcomes.values()))
        return outcomes

    def _join(
        self,
        tx: Tx,
        key: q.PartKey,
        stored: list[q.StoredPart],
        now: int,
        tally: Counter[tuple[str, str]],
    ) -> Counter[str]:
        upstream, source, destination, _ref, total = key
        text, missing = join_parts({p.seq: p.text for p in stored}, total)
        digest = hashlib.sha256("".join(p.fingerprint for p in stored).encode()).hexdigest()
        message = q.NewInbound(
            upstream,
            inbound_address(source),
            inbound_address(destination),
            text,
            digest[:40],
            parts=total,
            missing=missing,
        )
        inbound_id, outcomes = self._keep(tx, message, now, tally)
        q.mark_joined(tx, key, inbound_id)
        return outcomes

    def _keep(
        self, tx: Tx, message: q.NewInbound, now: int, tally: Counter[tuple[str, str]]
    ) -> tuple[int, Counter[str]]:
        """Route, store, apply STOP, queue the handler's callback and the SMPP receivers'
        copy: one message. `tally`
        counts it for the metrics by upstream and outcome (a stop keyword, else its route)."""
        since = now - int(self._settings.reply_window_h * 3600)
        owner = decide_owner(
            q.number_owner(tx, message.to_phone),
            q.reply_target(tx, message.phone, message.to_phone, since),
        )
        stop = False
        account = None
        if owner.account_id is not None:
            account = q.account_inbound(tx, owner.account_id)
            keywords = (
                self._default_keywords
                if account.stop_keywords is None
                else parse_keywords(account.stop_keywords)
            )
            stop = is_stop(message.text, keywords)
        inbound_id = q.insert_inbound(tx, message, owner, stop, now)
        if owner.account_id is not None and account is not None:
            if stop:
                newly = q.stop_list_phone(tx, owner.account_id, message.phone, now)
                if newly and account.stop_reply:
                    self._confirm(tx, owner.account_id, account, message, now)
            if account.forwards:
                q.enqueue_inbound_callback(tx, owner.account_id, inbound_id, now)
            if account.smpp_receivers:
                door_inbound.queue(tx, SMPP_DOOR, owner.account_id, inbound_id, now)
        kept = Counter({owner.route.name.lower(): 1})
        if stop:
            kept["stop"] += 1
        tally[(message.upstream, "stop" if stop else ROUTE_NAMES[owner.route])] += 1
        return inbound_id, kept

    def _confirm(
        self, tx: Tx, account_id: int, account: q.AccountInbound, message: q.NewInbound, now: int
    ) -> None:
        """The account's confirmation to a number its stop keyword newly opted out: from the
        number or name it wrote to, charged as a message when the dispatcher hands it over.
        Only once per opt-out: a number already kept out of lists gets none (no loop of
        confirmations, no charge per repeated STOP)."""
        assert account.stop_reply is not None
        channel = self._routes.channel_for(message.phone, mail=False, test_mode=account.test_mode)
        reply = q.StopReply(
            account_id,
            message.phone,
            message.to_phone,
            account.stop_reply,
            channel,
            segment_count(account.stop_reply).parts,
            now + self._validity_s,
        )
        q.queue_stop_reply(tx, reply, now)


def _stored_part(item: InboundPart) -> q.StoredPart:
    assert item.concat is not None
    ref, total, seq = item.concat
    key: q.PartKey = (item.upstream, item.source, item.destination, ref, total)
    return q.StoredPart(key, seq, item.text, item.fingerprint)

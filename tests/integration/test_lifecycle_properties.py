"""The message lifecycle as a stateful property (issue 10): random interleavings of sends,
list runs, claims, submit outcomes, receipts, expiry, cancels, deletes, crashes and top-ups
on a real store (SQLite and PostgreSQL), with the money and the counters checked after every
step against what the messages themselves say (the checks: lifecycle_checks.py).

`make test` runs a fixed (derandomised) CI-sized set of examples. The long run, random and
with many more examples (docs/testing.md):

    TIDINGS_PROPERTY_EXAMPLES=2000 PYTHONPATH=src .venv/bin/pytest -p no:randomly \
        tests/integration/test_lifecycle_properties.py
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.integration.engine_support import create_list, dispatcher, engine_store
from tests.integration.engine_support import settings as engine_settings
from tests.integration.lifecycle_checks import (
    FINAL,
    LifecycleChecks,
    fresh_tables,
    still_tables,
)
from tidings.app import routes_for
from tidings.channels.base import (
    Receipt,
    SubmitResult,
    accepted,
    ambiguous,
    refused,
    retry_later,
)
from tidings.config import Settings
from tidings.dispatch.claims import Claimed
from tidings.dispatch.sender import Dispatcher
from tidings.domain.accounts import Account, PasswordHashes, hash_password
from tidings.domain.clock import FakeClock
from tidings.domain.jobs import MessageFormat
from tidings.domain.lifecycle import (
    DELETABLE,
    MessageStatus,
    RunStatus,
)
from tidings.domain.schedule import Repeat
from tidings.domain.sends import NewSend, SendService
from tidings.errors import InsufficientFunds
from tidings.store.messages import MessageStore

LONG_RUN = int(os.environ.get("TIDINGS_PROPERTY_EXAMPLES", "0"))
# CI-sized: each backend well under half a minute on a 2-core machine.
CI_EXAMPLES = {"sqlite": 300, "postgresql": 60}
STEPS = 50

LANE = "virtual"
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
PHONES = ("79161234567", "79161234568", "79031234567", "79261234599")
TEXTS = ("Hello", "Ж" * 100, "Ж" * 150)  # 1, 2 and 3 parts
# What an upstream may answer a submit (accepted twice as often as each of the others).
OUTCOMES = (
    "accepted",
    "accepted",
    "delivered at once",
    "failed at once",
    "split otherwise",
    "refused",
    "refused after a part",
    "retry",
    "ambiguous",
)
RECEIPT_STATUSES = (
    MessageStatus.DELIVERED,
    MessageStatus.DELIVERED,
    MessageStatus.UNDELIVERABLE,
    MessageStatus.EXPIRED,
    MessageStatus.BAD_NUMBER,
)
# Seconds the clock moves: within a retry's backoff, past a lease (120 s), past a validity of
# 1 or 3 minutes, to the next hourly run, past validity plus the receipt grace (60 min), past
# the default validity of a day.
ADVANCES = (1, 30, 61, 121, 301, 3601, 4 * 3600, 25 * 3600)
pick = st.integers(0, 10**6)  # an index into whatever the rule chooses from (modulo its size)


@cache
def password_hashes() -> PasswordHashes:
    return hash_password("pw")  # argon2 is slow: once per session


@dataclass
class Flight:
    """An armed message being submitted, and the upstream ids it gets if it is accepted."""

    claimed: Claimed
    upstream_ids: tuple[str, ...]


class LifecycleMachine(LifecycleChecks, RuleBasedStateMachine):
    """Drives the real store and dispatcher code paths one transaction at a time, as the
    dispatcher's loops would, with a clock the test moves."""

    def __init__(self) -> None:
        super().__init__()
        fresh_tables(self.store)
        self.clock = FakeClock(START)
        self.policy = "skip"
        self.workers = (f"prop-{n}" for n in itertools.count(1))
        self.worker_id = next(self.workers)
        self.worker = self._dispatcher()
        # Live accounts' sends take the virtual upstream, as the engine tests' settings say.
        self.messages = MessageStore(self.store, routes_for(engine_settings()))
        self.sends = SendService(self.messages, Settings().dispatch.default_validity_min)
        self.tariff = self.store.tariff_by_id(None)
        # A small balance (NO_MONEY comes soon), and one with a credit limit.
        self.accounts = [self._account(500, credit=0), self._account(1000, credit=400)]
        self.jobs: list[tuple[Account, int]] = []
        self.held: list[Claimed] = []
        self.flights: list[Flight] = []
        self.attempts = itertools.count(1)
        # Upstream id → its message: recorded ones, and those of submits still in flight (a
        # receipt for one of these is early: it overtakes its submit's result).
        self.issued: dict[str, int] = {}
        self.latest_ids: dict[int, tuple[str, ...]] = {}
        self.prices = {}
        self.deleted = {}
        self.given_accepted = set()
        self.ever_armed = set()
        self.unknown_fate = {}

    def _dispatcher(self) -> Dispatcher:
        cfg = engine_settings(dispatch={"on_ambiguous": self.policy})
        return dispatcher(self.store, self.clock, cfg, worker_id=self.worker_id)

    def _account(self, balance: int, credit: int) -> Account:
        now = self.clock.now()
        acc = self.store.create_account(f"p{secrets.token_hex(6)}", password_hashes(), now)
        self.store.add_ledger_entry(acc.id, balance, "credit", "start", now)
        with self.store.db.tx() as tx:
            tx.execute("UPDATE accounts SET credit_limit_minor = ? WHERE id = ?", (credit, acc.id))
        found = self.store.account(acc.id)
        assert found is not None
        return found

    # ---- what clients do ------------------------------------------------------------------

    @rule(
        acc=st.integers(0, 1),
        recipients=st.integers(1, 3),
        text=st.sampled_from(TEXTS),
        validity_min=st.sampled_from((1, 0)),
    )
    def send(self, acc: int, recipients: int, text: str, validity_min: int) -> None:
        """send.php: refused at the door when the balance does not cover it."""
        new = NewSend(
            addresses=PHONES[:recipients],
            texts=None,
            groups=(),
            message=text,
            fmt=MessageFormat.SMS,
            due=self.clock.now(),
            validity_min=validity_min,
        )
        with contextlib.suppress(InsufficientFunds):
            self.sends.send(self.accounts[acc], new, self.clock.now())

    @rule(
        acc=st.integers(0, 1),
        recipients=st.integers(1, 4),
        text=st.sampled_from(TEXTS),
        validity_min=st.sampled_from((1, 3, 0)),
        hourly=st.booleans(),
        later=st.booleans(),
    )
    def add_list(
        self, acc: int, recipients: int, text: str, validity_min: int, hourly: bool, later: bool
    ) -> None:
        """jobs.php add: now or in a minute, once or hourly for two runs."""
        account = self.accounts[acc]
        job_id = create_list(
            self.store,
            account,
            ",".join(PHONES[:recipients]),
            self.clock.now(),
            message=text,
            first_run=self.clock.now() + timedelta(seconds=60 if later else 0),
            validity_min=validity_min,
            rpt=int(Repeat.HOURLY if hourly else Repeat.NONE),
            rptn=2 if hourly else 0,
        )
        self.jobs.append((account, job_id))

    @precondition(lambda self: self.jobs)
    @rule(which=pick, delete=st.booleans())
    def stop_list(self, which: int, delete: bool) -> None:
        """jobs.php del (the list leaves) or its cancel (it stays, disabled)."""
        account, job_id = self.jobs[which % len(self.jobs)]
        if delete:
            assert self.store.delete_job(account.id, job_id, self.clock.now())
            self.jobs.remove((account, job_id))
        else:
            self.store.cancel_job(account.id, job_id, self.clock.now())

    @rule(which=pick)
    def delete_message(self, which: int) -> None:
        """status.php del: only a message nothing can change any more leaves the history."""
        rows = sorted(self._snapshot().messages.values(), key=lambda r: r.id)
        if not rows:
            return
        row = rows[which % len(rows)]
        deleted = self.messages.delete(row.account_id, row.id)
        assert deleted == (MessageStatus(row.status) in DELETABLE)
        if deleted:
            self.deleted[row.id] = row

    @rule(acc=st.integers(0, 1), amount=st.sampled_from((180, 1000)))
    def top_up(self, acc: int, amount: int) -> None:
        self.store.add_ledger_entry(
            self.accounts[acc].id, amount, "credit", "top-up", self.clock.now()
        )

    # ---- what the dispatcher does ---------------------------------------------------------

    @rule()
    def tick(self) -> None:
        self.worker._scheduler.tick()

    @rule(n=st.integers(1, 6))
    def claim(self, n: int) -> None:
        """Claim (expiring what ran out of time, charging the rest, 24 when short): held."""
        self.held += self.worker._claim_tx(LANE, n)

    @precondition(lambda self: self.held or self.flights)
    @rule(outcomes=st.lists(st.sampled_from(OUTCOMES), max_size=4), arm=st.integers(0, 4))
    def settle(self, outcomes: list[str], arm: int) -> None:
        """One transaction of the lane loop: the results that came back are recorded and as
        many held messages are armed (they are then written to the upstream)."""
        done = self.flights[: len(outcomes)]
        self.flights = self.flights[len(done) :]
        results = [(f.claimed, self._result(f, o)) for f, o in zip(done, outcomes, strict=False)]
        to_arm, self.held = self.held[:arm], self.held[arm:]
        taken = [c.row.id for c, r in results if r.accepted]
        before = self._snapshot().messages if taken else {}
        armed = self.worker._settle_tx(LANE, results, to_arm)
        after = self._snapshot().messages if taken else {}
        for message_id in taken:
            # Accepted while its dispatcher still had it armed: it is the upstream's now.
            # (Not armed any more: its lease ran out and the sweep resolved it meanwhile.)
            was = before.get(message_id)
            if was is not None and was.armed and was.lease_owner == self.worker_id:
                assert after[message_id].handed_over, f"message {message_id} taken, not sent"
        for item in armed:
            if self.policy == "skip":
                # on_ambiguous=skip: never a duplicate. A message that may have been written
                # (its submit unanswered, or armed when its dispatcher died) is not again.
                writing = {f.claimed.row.id for f in self.flights} | set(self.unknown_fate)
                assert item.row.id not in writing, f"message {item.row.id} written twice"
            parts = range(1, item.row.parts + 1)
            attempt = next(self.attempts)
            ids = tuple(f"u{item.row.id}.{attempt}.{p}" for p in parts)
            self.flights.append(Flight(item, ids))
            self.ever_armed.add(item.row.id)
            self.issued.update(dict.fromkeys(ids, item.row.id))

    def _result(self, flight: Flight, outcome: str) -> SubmitResult:
        ids = flight.upstream_ids
        message_id = flight.claimed.row.id
        if outcome == "retry":
            return retry_later("throttled")
        if outcome == "ambiguous":
            return ambiguous("no answer")
        if outcome == "refused":
            return refused(MessageStatus.BAD_NUMBER, "bad number", err=22)
        if outcome == "refused after a part":
            return refused(MessageStatus.UNDELIVERABLE, "refused", err=20, done=ids[:1])
        if outcome == "split otherwise":  # the upstream counted one part more than we did
            ids = (*ids, f"{ids[-1]}+")
            self.issued[ids[-1]] = message_id
        self.given_accepted.add(message_id)
        self.latest_ids[message_id] = ids
        if outcome == "delivered at once":
            return accepted(ids, MessageStatus.DELIVERED)
        if outcome == "failed at once":
            return accepted(ids, MessageStatus.UNDELIVERABLE)
        return accepted(ids)

    @precondition(lambda self: self.issued)
    @rule(which=pick, status=st.sampled_from(RECEIPT_STATUSES), times=st.integers(1, 2))
    def receipt(self, which: int, status: MessageStatus, times: int) -> None:
        """A receipt for one part (possibly early, possibly sent twice by the SMSC)."""
        ids = list(self.issued)
        upstream_id = ids[which % len(ids)]
        err = 0 if status is MessageStatus.DELIVERED else int(status)
        for _ in range(times):
            self.worker._receipts.on_receipt(Receipt(LANE, upstream_id, status, err))
        self._flush_receipts()

    @precondition(lambda self: self.latest_ids)
    @rule(which=pick, together=st.booleans())
    def deliver_every_part(self, which: int, together: bool) -> None:
        """DELIVERED for each part of one message: in one batch, or one batch each."""
        ids = list(self.latest_ids.values())[which % len(self.latest_ids)]
        for upstream_id in ids:
            self.worker._receipts.on_receipt(Receipt(LANE, upstream_id, MessageStatus.DELIVERED))
            if not together:
                self._flush_receipts()
        self._flush_receipts()

    def _flush_receipts(self) -> None:
        """The receipt loop's flush: recorded, or stored until their submit is recorded (the
        settle that records it applies them, or the sweep's retry)."""
        asyncio.run(self.worker._receipts.flush())

    @rule(seconds=st.sampled_from(ADVANCES), sweep=st.booleans())
    def advance(self, seconds: int, sweep: bool) -> None:
        """Time passes; then maybe the sweep: it expires what ran out of time and resolves
        leases (anybody's) that expired. Without it, the next claim finds them."""
        self.clock.advance(seconds)
        if sweep:
            self.worker._sweep()

    @rule(policy=st.sampled_from(("skip", "resend")), restarted=st.booleans())
    def crash(self, policy: str, restarted: bool) -> None:
        """kill -9: the held messages, the submits in flight and the parked receipts are gone
        with the process. Restarted with the same worker id it takes its leases back at once;
        else another dispatcher (maybe with the other policy) finds them once they expire."""
        rows = self._snapshot().messages
        self.unknown_fate.update(
            (r.id, self.worker_id)
            for r in rows.values()
            if r.armed and r.lease_owner == self.worker_id
        )
        self.held, self.flights = [], []
        self.policy = policy
        if not restarted:
            self.worker_id = next(self.workers)
        self.worker = self._dispatcher()
        self.worker._recover_own_leases()

    # The way from a claim to a receipt is several steps long: drawn twice as often as the
    # others, or few examples would get there.
    claim_again = claim
    settle_again = settle
    receipt_again = receipt
    deliver_every_part_again = deliver_every_part

    def teardown(self) -> None:
        """Everything ends: with time, sweeps and ticks every message becomes final and every
        run finishes (hourly lists run twice at most)."""
        for _ in range(4):
            self.clock.advance(26 * 3600)
            self.worker._sweep()
            self.worker._scheduler.tick()
        snap = self._snapshot()
        self._check_money(snap)
        self._check_counters(snap)
        self._check_ambiguous(snap)
        left = Counter(r.status for r in snap.messages.values() if r.status not in FINAL)
        assert not left, f"messages never finished: {dict(left)}"
        assert all(run[5] == RunStatus.FINISHED for run in snap.runs), "a run never finished"


def _settings(backend: str) -> settings:
    if LONG_RUN:
        return settings(
            max_examples=LONG_RUN,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    return settings(
        max_examples=CI_EXAMPLES[backend],
        stateful_step_count=STEPS,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def test_random_lifecycles_keep_money_and_counters_in_step(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with engine_store(backend, tmp_path_factory.mktemp("properties")) as store:
        still_tables(store)
        machine = type("LifecycleMachine", (LifecycleMachine,), {"store": store})
        run_state_machine_as_test(machine, settings=_settings(backend))

"""What the lifecycle property test checks after every step (test_lifecycle_properties.py):
the store's money and counters against what its messages say, and the model's knowledge of
what the upstream was told."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypothesis.stateful import invariant

from tidings.domain.lifecycle import (
    AMBIGUOUS_ERR,
    FINAL_STATUSES,
    JobStatus,
    MessageStatus,
    RunStatus,
    is_paid_for,
)
from tidings.domain.pricing import Tariff
from tidings.store.repository import Store

# Rows of every table an example writes: emptied before the next one (a fresh store each).
TABLES = (
    "callbacks",
    "upstream_ids",
    "upstream_states",
    "ledger",
    "messages",
    "runs",
    "job_recipients",
    "job_phones",
    "jobs",
    "accounts",
)
FINAL = frozenset(int(s) for s in FINAL_STATUSES)


def fresh_tables(store: Store) -> None:
    """Empty tables, exactly as at the start of the previous example: the store orders
    messages due at the same second as they lie (SQLite by row id, PostgreSQL by where the
    row sits), and a replayed example must meet the same order or Hypothesis cannot shrink."""
    with store.db.tx() as tx:
        if tx.dialect == "postgresql":
            tx.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        else:
            for table in TABLES:
                tx.execute(f"DELETE FROM {table}")
            if tx.one("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"):
                tx.execute("DELETE FROM sqlite_sequence")  # AUTOINCREMENT starts again


def still_tables(store: Store) -> None:
    """No autovacuum on PostgreSQL: it moves rows at moments of its own."""
    if store.db.dialect == "postgresql":
        with store.db.tx() as tx:
            for table in TABLES:
                tx.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")


@dataclass(frozen=True)
class MessageRow:
    id: int
    account_id: int
    job_pk: int | None
    run_id: int | None
    address: str
    parts: int
    status: int
    err: int
    handed_over: bool
    attempts: int
    cost: int
    lease_owner: str | None
    # Leased, waiting and armed: possibly written to the upstream by its dispatcher.
    armed: bool


@dataclass
class Snapshot:
    balances: dict[int, int]
    ledger_sums: dict[int, int]
    # message id → ledger kind → amounts
    entries: dict[int, dict[str, list[int]]]
    messages: dict[int, MessageRow]
    runs: list[tuple[int, int, int, int, int, int]]
    jobs: list[tuple[int, int, int, int, int, int, int]]
    stray: list[tuple[Any, ...]] = field(default_factory=list)


def take_snapshot(store: Store) -> Snapshot:
    """Every account, ledger entry of a message, message, run and list, in one read."""
    with store.db.tx(write=False) as tx:
        accounts = tx.all("SELECT id, balance_minor FROM accounts")
        sums = tx.all("SELECT account_id, SUM(amount_minor) FROM ledger GROUP BY account_id")
        ledger = tx.all(
            "SELECT message_id, kind, amount_minor FROM ledger WHERE message_id IS NOT NULL"
        )
        stray = tx.all("SELECT id, kind FROM ledger WHERE message_id IS NULL AND kind <> 'credit'")
        rows = tx.all(
            "SELECT id, account_id, job_pk, run_id, address, parts, status, err, "
            "sent_at IS NOT NULL, attempts, cost_minor, lease_owner, "
            "lease_until IS NOT NULL AND status = -1 AND upstream IS NULL FROM messages"
        )
        runs = tx.all("SELECT id, job_pk, run_no, recipients_cnt, final_cnt, status FROM runs")
        jobs = tx.all(
            "SELECT id, status, runs_done, phones_cnt, sms_sent, sms_ok, cost_minor FROM jobs"
        )
    entries: dict[int, dict[str, list[int]]] = {}
    for message_id, kind, amount in ledger:
        entries.setdefault(int(message_id), {}).setdefault(kind, []).append(int(amount))
    messages = {
        int(r[0]): MessageRow(
            int(r[0]),
            int(r[1]),
            r[2],
            r[3],
            r[4],
            int(r[5]),
            int(r[6]),
            int(r[7]),
            bool(r[8]),
            int(r[9]),
            int(r[10]),
            r[11],
            bool(r[12]),
        )
        for r in rows
    }
    return Snapshot(
        {int(r[0]): int(r[1]) for r in accounts},
        {int(a): int(s) for a, s in sums},
        entries,
        messages,
        [tuple(int(v) for v in r) for r in runs],  # type: ignore[misc]
        [tuple(int(v) for v in r) for r in jobs],  # type: ignore[misc]
        list(stray),
    )


class LifecycleChecks:
    """The invariants, over the state the machine keeps of what it did."""

    store: ClassVar[Store]  # set per test: one database for all its examples
    tariff: Tariff
    policy: str
    # Message id → its price, when first seen (before any claim).
    prices: dict[int, int]
    # Messages deleted by status.php del, as they were: their lists keep counting them.
    deleted: dict[int, MessageRow]
    # Given an accepted submit result at least once; armed at least once.
    given_accepted: set[int]
    ever_armed: set[int]
    # Armed when their dispatcher died, not resolved yet: message id → that dispatcher.
    unknown_fate: dict[int, str]

    def _snapshot(self) -> Snapshot:
        return take_snapshot(self.store)

    @invariant()
    def money_and_counters_agree_with_the_messages(self) -> None:
        snap = self._snapshot()
        self._check_money(snap)
        self._check_counters(snap)
        self._check_ambiguous(snap)

    def _check_ambiguous(self, snap: Snapshot) -> None:
        """What became of messages armed when their dispatcher died follows the policy of
        the dispatcher that found them: skip gives them up (20, err 1001, charged), resend
        releases them to be sent again."""
        for message_id, owner in list(self.unknown_fate.items()):
            row = snap.messages[message_id]  # not final: cannot have been deleted
            if row.armed and row.lease_owner == owner:
                continue  # not found yet (its lease has not expired)
            del self.unknown_fate[message_id]
            if self.policy == "skip":
                assert (row.status, row.err) == (MessageStatus.UNDELIVERABLE, AMBIGUOUS_ERR), (
                    f"message {message_id}, armed at a crash, ended {row.status} err {row.err}"
                )

    def _check_money(self, snap: Snapshot) -> None:
        for account_id, balance in snap.balances.items():
            assert balance == snap.ledger_sums.get(account_id, 0), "balance ≠ sum of the ledger"
        assert not snap.stray, f"money moved for no message: {snap.stray}"
        every = {**self.deleted, **snap.messages}
        assert set(snap.entries) <= set(every), "a ledger entry for a message never queued"
        for row in every.values():
            if row.id not in self.prices:
                # First seen before any claim: what it costs is what its first claim charges.
                assert row.attempts == 0, f"message {row.id} claimed before it was seen"
                self.prices[row.id] = self.tariff.sms_cost(row.address, row.parts)
            price = self.prices[row.id]
            kinds = snap.entries.get(row.id, {})
            charges, refunds = kinds.get("charge", []), kinds.get("refund", [])
            assert set(kinds) <= {"charge", "refund"}, f"message {row.id}: {kinds}"
            assert len(charges) <= 1, f"message {row.id} charged {len(charges)} times"
            assert len(refunds) <= 1, f"message {row.id} refunded {len(refunds)} times"
            assert charges in ([], [-price]), f"message {row.id} charged {charges}, costs {price}"
            assert refunds in ([], [price]) and (charges or not refunds), f"message {row.id}"
            net = -sum(charges) - sum(refunds)
            if row.status in FINAL:
                # The lifecycle says which ends are paid for: handed over, or possibly so (an
                # ambiguous submit given up under on_ambiguous=skip keeps its charge).
                paid = is_paid_for(MessageStatus(row.status), row.handed_over, row.err)
                expected = price if paid else 0
            else:
                assert not refunds, f"message {row.id} refunded while still in progress"
                expected = price if row.attempts else 0  # charged on its first claim
            assert net == expected, (
                f"message {row.id} (status {row.status}, err {row.err}, handed over "
                f"{row.handed_over}) net charge {net}, expected {expected}"
            )
            assert row.cost == net, f"message {row.id} shows cost {row.cost}, paid {net}"
            # Only the upstream's acceptance hands a message over; only a submit that may
            # have been written is given up as ambiguous.
            assert not row.handed_over or row.id in self.given_accepted, f"message {row.id}"
            assert row.err != AMBIGUOUS_ERR or row.id in self.ever_armed, f"message {row.id}"

    def _check_counters(self, snap: Snapshot) -> None:
        every = {**self.deleted, **snap.messages}.values()  # a list keeps its history
        net = {
            m: -sum(a for amounts in kinds.values() for a in amounts)
            for m, kinds in snap.entries.items()
        }
        per_run: dict[int, list[MessageRow]] = {}
        per_job: dict[int, list[MessageRow]] = {}
        for row in every:
            if row.run_id is not None:
                per_run.setdefault(row.run_id, []).append(row)
            if row.job_pk is not None:
                per_job.setdefault(row.job_pk, []).append(row)
        runs_of: dict[int, list[tuple[int, int]]] = {}
        for run_id, job_pk, run_no, recipients, finals, status in snap.runs:
            rows = per_run.get(run_id, [])
            runs_of.setdefault(job_pk, []).append((run_no, recipients))
            assert recipients == len(rows), f"run {run_id}: {recipients} recipients"
            final = sum(1 for r in rows if r.status in FINAL)
            assert finals == final, f"run {run_id} counts {finals} final, has {final}"
            if status == RunStatus.FINISHED:
                assert final == len(rows), f"run {run_id} finished with messages in progress"
        for job_pk, status, runs_done, phones, sent, ok, cost in snap.jobs:
            rows = per_job.get(job_pk, [])
            runs = sorted(runs_of.get(job_pk, []))
            assert runs_done == len(runs), f"list {job_pk}: runs_done {runs_done}"
            # Before its first run phones_cnt is what the list was given; then each run's count.
            assert not runs or phones == runs[-1][1], f"list {job_pk}: phones_cnt {phones}"
            handed = sum(1 for r in rows if r.handed_over)
            assert sent == handed, f"list {job_pk}: sms_sent {sent}, handed over {handed}"
            delivered = sum(1 for r in rows if r.status == MessageStatus.DELIVERED)
            assert ok == delivered, f"list {job_pk}: sms_ok {ok}, delivered {delivered}"
            paid = sum(net.get(r.id, 0) for r in rows)
            assert cost == paid, f"list {job_pk}: cost {cost}, its messages paid {paid}"
            if status == JobStatus.FINISHED:
                assert all(r.status in FINAL for r in rows), f"list {job_pk} finished early"

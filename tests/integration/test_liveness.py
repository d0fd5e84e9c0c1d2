"""Dispatcher identity and liveness on SQLite and PostgreSQL: a live dispatcher's leases are
never taken, however old; a dead one's are (heartbeat too old, stopped, or its process gone on
this host); a configured worker id is one live process's at a time."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from tests.integration.engine_support import (
    account,
    create_list,
    dispatcher,
    engine_store,
    settings,
    statuses,
)
from tidings.config import DispatchSettings
from tidings.dispatch.liveness import WorkerIdTaken, generated_worker_id
from tidings.dispatch.sender import Dispatcher
from tidings.domain.accounts import Account
from tidings.domain.clock import FakeClock
from tidings.store.repository import Store

DEAD_AFTER = settings().dispatch.dead_after_s


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with engine_store(backend, tmp_path_factory.mktemp("liveness")) as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))


def holding(store: Store, clock: FakeClock, worker: Dispatcher, held: int, armed: int) -> Account:
    """`worker` registered, holding `held` messages of which `armed` are armed."""
    acc = account(store, clock.now())
    create_list(store, acc, ",".join(f"7916{i:07d}" for i in range(held)), clock.now())
    worker._liveness.register()
    worker._scheduler.tick()
    claimed = worker._claim_tx("virtual", held)
    assert worker._settle_tx("virtual", [], claimed[:armed]) == claimed[:armed]
    return acc


def leased(store: Store) -> int:
    with store.db.tx(write=False) as tx:
        row = tx.one("SELECT COUNT(*) FROM messages WHERE lease_owner IS NOT NULL")
    assert row is not None
    return int(row[0])


def gone_pid() -> int:
    """The pid of a process that ran and was reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def set_pid(store: Store, worker_id: str, pid: int) -> None:
    with store.db.tx() as tx:
        tx.execute("UPDATE dispatchers SET pid = ? WHERE worker_id = ?", (pid, worker_id))


def test_a_live_dispatchers_leases_are_never_taken_however_old(
    store: Store, clock: FakeClock
) -> None:
    live = dispatcher(store, clock, worker_id="live")
    acc = holding(store, clock, live, held=6, armed=2)
    other = dispatcher(store, clock, worker_id="other")
    other._liveness.register()
    # Long past the lease: still live (it renews its heartbeat), so nothing is touched.
    for _ in range(3):
        clock.advance(settings().dispatch.lease_s)
        live._liveness.beat()
        other._sweep()
    assert statuses(store, acc) == {-1: 6} and leased(store) == 6


def test_a_dispatcher_whose_heartbeat_stopped_is_dead(store: Store, clock: FakeClock) -> None:
    live = dispatcher(store, clock, worker_id="live")
    acc = holding(store, clock, live, held=6, armed=2)
    other = dispatcher(store, clock, worker_id="other")
    other._liveness.register()
    clock.advance(DEAD_AFTER)
    other._sweep()
    assert leased(store) == 6  # exactly at the bound: not yet
    clock.advance(1)
    other._sweep()
    assert statuses(store, acc) == {20: 2, -1: 4} and leased(store) == 0


def test_a_stopped_dispatchers_leftovers_are_taken_at_once(store: Store, clock: FakeClock) -> None:
    gone = dispatcher(store, clock, worker_id="gone")
    acc = holding(store, clock, gone, held=4, armed=1)
    gone._liveness.leave()
    dispatcher(store, clock, worker_id="other")._sweep()
    assert statuses(store, acc) == {20: 1, -1: 3}


def test_a_dispatcher_whose_process_is_gone_is_dead_at_the_next_heartbeat(
    store: Store, clock: FakeClock
) -> None:
    killed = dispatcher(store, clock, worker_id="killed")
    acc = holding(store, clock, killed, held=4, armed=1)
    set_pid(store, "killed", gone_pid())  # as if kill -9'd, on this host
    other = dispatcher(store, clock, worker_id="other")
    other._liveness.register()  # a new dispatcher looks at its peers at once
    other._sweep()
    assert statuses(store, acc) == {20: 1, -1: 3}


def test_a_live_process_on_this_host_is_not_taken_for_dead(store: Store, clock: FakeClock) -> None:
    live = dispatcher(store, clock, worker_id="live")
    acc = holding(store, clock, live, held=4, armed=1)
    set_pid(store, "live", os.getppid())  # a process that runs
    other = dispatcher(store, clock, worker_id="other")
    other._liveness.register()
    other._liveness.beat()
    other._sweep()
    assert statuses(store, acc) == {-1: 4} and leased(store) == 4


def test_a_configured_worker_id_is_refused_while_its_holder_lives(
    store: Store, clock: FakeClock
) -> None:
    first = dispatcher(store, clock, worker_id="main")
    first._liveness.register()
    set_pid(store, "main", os.getppid())
    with pytest.raises(WorkerIdTaken, match="'main' belongs to a live dispatcher"):
        dispatcher(store, clock, worker_id="main")._liveness.register()
    # Another dispatcher object of this very process is no less alive.
    set_pid(store, "main", os.getpid())
    with pytest.raises(WorkerIdTaken):
        dispatcher(store, clock, worker_id="main")._liveness.register()


def test_a_configured_worker_id_of_a_dead_process_is_taken_over_with_its_leases(
    store: Store, clock: FakeClock
) -> None:
    crashed = dispatcher(store, clock, worker_id="main")
    acc = holding(store, clock, crashed, held=5, armed=2)
    set_pid(store, "main", gone_pid())
    clock.advance(1)
    restarted = dispatcher(store, clock, worker_id="main")
    restarted._liveness.register()
    restarted._recover_own_leases()
    assert statuses(store, acc) == {20: 2, -1: 3} and leased(store) == 0
    # The crashed one, were it only paused, learns at its next heartbeat that it lost the id.
    assert crashed._liveness.beat() is False
    assert restarted._liveness.beat() is True


def test_generated_worker_ids_differ_per_dispatcher() -> None:
    first, second = generated_worker_id(), generated_worker_id()
    assert first != second and first.split(":")[1] == str(os.getpid())
    assert len(first) <= 64


def test_dead_after_must_leave_room_for_a_few_heartbeats() -> None:
    with pytest.raises(ValidationError, match="at least twice heartbeat_s"):
        DispatchSettings(heartbeat_s=5, dead_after_s=8)

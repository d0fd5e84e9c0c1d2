"""Dispatcher identity and liveness with real `tidings dispatcher` processes and the node-smpp
SMSC: two dispatchers with default settings on one database leave each other's leases alone
and the survivor recovers a killed one's at once; a configured worker id is one live process's;
receipts acknowledged just before a kill -9 are not lost."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import drop_database, fresh_database_url
from tests.e2e.test_dispatcher_processes import (
    TIDINGS,
    WINDOW,
    crash_reports,
    run_state,
    stop,
    wait,
)
from tests.integration.engine_support import account, create_list, statuses, view
from tests.integration.smsc_sim import SmscSim, StartSim, start_sim_fixture  # noqa: F401
from tidings.app import default_tariff
from tidings.config import Settings
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.repository import Store


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[tuple[str, Store]]:
    url = fresh_database_url(backend, tmp_path)
    migrate.upgrade(url)
    store = Store(open_database(url), default_tariff(Settings()))
    yield url, store
    store.close()
    drop_database(url)


def default_config(tmp_path: Path, sim: SmscSim, **smpp: object) -> Path:
    """Only the upstream: every [dispatch] setting at its default (no worker id)."""
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in smpp.items())
    path = tmp_path / "tidings.toml"
    path.write_text(
        f'[[smpp]]\nname = "sim"\nhost = "127.0.0.1"\nport = {sim.port}\n'
        f'system_id = "tidings"\npassword = "secret"\nwindow = {WINDOW}\n{extra}',
        encoding="utf-8",
    )
    return path


def start(url: str, config: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(
            [TIDINGS, "dispatcher", "--db", url, "--config", str(config), *extra],
            stdout=subprocess.DEVNULL,
            stderr=handle,
            env={**os.environ},
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def live_dispatchers(store: Store) -> int:
    with store.db.tx(write=False) as tx:
        row = tx.one("SELECT COUNT(*) FROM dispatchers WHERE stopped_at IS NULL")
    assert row is not None
    return int(row[0])


def ambiguous_in_store(store: Store) -> int:
    with store.db.tx(write=False) as tx:
        row = tx.one("SELECT COUNT(*) FROM messages WHERE err = 1001")
    assert row is not None
    return int(row[0])


def check_money(store: Store, account_id: int, credit: int) -> None:
    with store.db.tx(write=False) as tx:
        charged = tx.one("SELECT COALESCE(SUM(cost_minor), 0) FROM messages")
    assert charged is not None
    assert store.balance(account_id) == credit - int(charged[0]) == store.ledger_sum(account_id)


def test_two_default_dispatchers_touch_none_of_each_others_work_and_recover_a_killed_one(
    backend: str, database: tuple[str, Store], start_sim: StartSim, tmp_path: Path
) -> None:
    url, store = database
    sim = start_sim()
    now = datetime.now(UTC)
    acc = account(store, now, balance="100000")
    job_id = create_list(store, acc, ",".join(f"7916{i:07d}" for i in range(8000)), now)
    # Paced, so the list is still sending while both run, and when one is killed.
    config, log = default_config(tmp_path, sim, throughput_per_bind=250), tmp_path / "d.log"
    first = start(url, config, log)
    second = None
    try:
        wait(lambda: len(sim.submits) >= 500, 60, "the first dispatcher's submits")
        second = start(url, config, log)
        wait(lambda: live_dispatchers(store) == 2, 60, "the second dispatcher to register")
        # Both send side by side for several sweeps and heartbeats of each.
        both_since = len(sim.submits)
        time.sleep(8)
        assert len(sim.submits) > both_since
        assert view(store, acc, job_id).status == 0, "the list ended before the kill"
        assert crash_reports(log) == 0 and ambiguous_in_store(store) == 0
        sessions = Counter(s["session"] for s in sim.submits[both_since:])
        assert len(sessions) == 2, sessions

        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed = time.monotonic()
        # Recovered promptly: the survivor sees at its next heartbeat that the pid is gone
        # (dead_after_s, 15 s, is the bound when it cannot tell).
        wait(lambda: crash_reports(log) > 0, 25, "the killed dispatcher's leases recovered")
        recovered_after = time.monotonic() - killed
        wait(
            lambda: view(store, acc, job_id).status == 1,
            180,
            "the run to finish",
            run_state(store, acc, log),
        )
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                stop(proc)
    sim.stop()
    assert recovered_after < 25
    final = statuses(store, acc)
    ambiguous = crash_reports(log)
    assert sum(final.values()) == 8000 and set(final) <= {1, 20}, final
    assert 0 < ambiguous <= WINDOW and final.get(20, 0) == ambiguous == ambiguous_in_store(store)
    per_destination = Counter(s["destination_addr"] for s in sim.submits)
    # Never twice; the ambiguous ones may not have reached the SMSC (armed, waiting for pace).
    assert len(per_destination) >= 8000 - ambiguous and max(per_destination.values()) == 1
    check_money(store, acc.id, 10_000_000)


def test_a_configured_worker_id_is_refused_while_its_holder_lives(
    backend: str, database: tuple[str, Store], start_sim: StartSim, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("the identity rule is the same on both; one backend is enough")
    url, store = database
    config, log = default_config(tmp_path, start_sim()), tmp_path / "d.log"
    holder = start(url, config, log, "--worker-id", "main")
    try:
        wait(lambda: live_dispatchers(store) == 1, 60, "the first dispatcher to register")
        second = subprocess.run(
            [TIDINGS, "dispatcher", "--db", url, "--config", str(config), "--worker-id", "main"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 2, second.stderr
        assert "worker id 'main' belongs to a live dispatcher" in second.stderr
        assert "Traceback" not in second.stderr
        # A server whose dispatcher cannot start stops too (it would answer and never send).
        server = subprocess.run(
            [TIDINGS, "serve", "--db", url, "--config", str(config), "--port", str(free_port())],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "TIDINGS_DISPATCH__WORKER_ID": "main"},
        )
        assert server.returncode == 2, server.stderr
        assert "worker id 'main' belongs to a live dispatcher" in server.stderr
        assert holder.poll() is None and live_dispatchers(store) == 1
        with store.db.tx(write=False) as tx:
            assert tx.one("SELECT pid FROM dispatchers WHERE worker_id = 'main'") == (holder.pid,)
    finally:
        stop(holder)


def test_receipts_acknowledged_right_before_a_kill_9_are_not_lost(
    backend: str, database: tuple[str, Store], start_sim: StartSim, tmp_path: Path
) -> None:
    """The SMSC sends each receipt before its submit_sm_resp and kills the dispatcher the
    moment a deliver_sm_resp reaches it: every receipt it was told we have must count."""
    url, store = database
    sim = start_sim(receipt_first=True, commands=True)
    now = datetime.now(UTC)
    acc = account(store, now, balance="100000")
    job_id = create_list(store, acc, ",".join(f"7916{i:07d}" for i in range(6000)), now)
    config, log = default_config(tmp_path, sim), tmp_path / "d.log"
    first = start(url, config, log)
    sim.kill_after_deliver_resps(first.pid, 2000)
    sim.wait_for(lambda e: e["event"] == "killed", timeout=120)
    first.wait(10)
    acknowledged = len(sim.of("deliver_sm_resp"))
    second = start(url, config, log)
    try:
        # Before the fix, receipts parked in memory and acknowledged died with the process:
        # their messages stayed handed over (0) until their validity ran out.
        wait(
            lambda: view(store, acc, job_id).status == 1,
            180,
            "every message to be final",
            run_state(store, acc, log),
        )
    finally:
        stop(second)
    sim.stop()
    final = statuses(store, acc)
    ambiguous = crash_reports(log)
    assert sum(final.values()) == 6000 and set(final) <= {1, 20}, final
    assert final.get(20, 0) == ambiguous <= WINDOW
    assert final[1] >= acknowledged - ambiguous
    destinations = Counter(s["destination_addr"] for s in sim.submits)
    assert max(destinations.values()) == 1
    check_money(store, acc.id, 10_000_000)

"""`tidings dispatcher` as real processes against the node-smpp SMSC: a hard kill in the middle
of a 20,000-recipient run, and two dispatchers sharing one PostgreSQL run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import drop_database, fresh_database_url
from tests.integration.engine_support import account, create_list, statuses, view
from tests.integration.smsc_sim import SmscSim, StartSim, start_sim_fixture  # noqa: F401
from tidings.app import default_tariff
from tidings.config import Settings
from tidings.domain.accounts import Account
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.repository import Store

TIDINGS = str(Path(sys.executable).with_name("tidings"))
WINDOW = 50


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[tuple[str, Store]]:
    url = fresh_database_url(backend, tmp_path)
    migrate.upgrade(url)
    store = Store(open_database(url), default_tariff(Settings()))
    yield url, store
    store.close()
    drop_database(url)


def config_file(tmp_path: Path, sim: SmscSim, policy: str) -> Path:
    path = tmp_path / "tidings.toml"
    path.write_text(
        f'[dispatch]\ntick_s = 0.05\non_ambiguous = "{policy}"\nreceipt_grace_min = 0\n\n'
        f'[[smpp]]\nname = "sim"\nhost = "127.0.0.1"\nport = {sim.port}\n'
        f'system_id = "tidings"\npassword = "secret"\nwindow = {WINDOW}\n',
        encoding="utf-8",
    )
    return path


def dispatcher(url: str, config: Path, worker: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [TIDINGS, "dispatcher", "--db", url, "--config", str(config), "--worker-id", worker],
            stdout=subprocess.DEVNULL,
            stderr=handle,
            env={**os.environ},
        )


def wait(
    condition: object, timeout: float, what: str, explain: Callable[[], str] | None = None
) -> None:
    """Until `condition()` holds; past `timeout` s, fail saying what `explain()` sees."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() >= deadline:
            seen = f": {explain()}" if explain is not None else ""
            raise AssertionError(f"timed out waiting for {what}{seen}")
        time.sleep(0.1)


def run_state(store: Store, acc: Account, log: Path) -> Callable[[], str]:
    """What a run that does not finish has come to: its messages' statuses and the end of
    the dispatchers' log."""

    def explain() -> str:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        return f"statuses {dict(statuses(store, acc))}; log ends:\n" + "\n".join(tail)

    return explain


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)


def crash_reports(log: Path) -> int:
    """Messages the restarted dispatcher reported as in flight at the crash."""
    count = 0
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith("{") and '"messages in flight at a crash"' in line:
            count += json.loads(line)["count"]
    return count


@pytest.mark.parametrize("policy", ["skip", "resend"])
def test_kill_9_mid_run_loses_nothing_and_duplicates_at_most_the_window(
    backend: str,
    database: tuple[str, Store],
    start_sim: StartSim,
    tmp_path: Path,
    policy: str,
) -> None:
    if backend != "sqlite" and policy == "resend":
        pytest.skip("one backend is enough for the resend variant")
    url, store = database
    sim = start_sim()
    now = datetime.now(UTC)
    acc = account(store, now, balance="100000")
    phones = ",".join(f"7916{i:07d}" for i in range(20_000))
    # A short validity, so messages whose receipt died with the process expire in a minute.
    job_id = create_list(store, acc, phones, now, validity_min=1)
    config, log = config_file(tmp_path, sim, policy), tmp_path / "dispatcher.log"

    first = dispatcher(url, config, "crashy", log)
    wait(lambda: len(sim.submits) >= 4000, 60, "the first submits")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    handed_before = len(sim.submits)
    assert handed_before < 20_000, "the run ended before the kill"

    second = dispatcher(url, config, "crashy", log)
    try:
        wait(
            lambda: view(store, acc, job_id).status == 1,
            180,
            "the run to finish",
            run_state(store, acc, log),
        )
    finally:
        stop(second)
    sim.stop()

    final = statuses(store, acc)
    assert sum(final.values()) == 20_000
    assert set(final) <= {1, 3, 20}, final  # delivered, expired without receipt, ambiguous
    ambiguous = crash_reports(log)
    assert 0 < ambiguous <= WINDOW
    duplicates = sum(n - 1 for n in Counter(s["destination_addr"] for s in sim.submits).values())
    if policy == "skip":
        assert duplicates == 0
        assert final.get(20, 0) == ambiguous
    else:
        assert duplicates <= ambiguous
    with store.db.tx(write=False) as tx:
        charged = tx.one("SELECT COALESCE(SUM(cost_minor), 0) FROM messages")
    assert charged is not None
    assert store.balance(acc.id) == 10_000_000 - int(charged[0]) == store.ledger_sum(acc.id)


def test_two_dispatchers_share_one_run_without_duplicates(
    backend: str, database: tuple[str, Store], start_sim: StartSim, tmp_path: Path
) -> None:
    if backend != "postgresql":
        pytest.skip("several dispatcher processes share PostgreSQL (SQLite is one machine's)")
    url, store = database
    sim = start_sim()
    now = datetime.now(UTC)
    acc = account(store, now, balance="100000")
    phones = ",".join(f"7916{i:07d}" for i in range(5000))
    job_id = create_list(store, acc, phones, now)
    config, log = config_file(tmp_path, sim, "skip"), tmp_path / "dispatchers.log"
    workers = [dispatcher(url, config, f"worker-{n}", log) for n in (1, 2)]
    try:
        wait(
            lambda: view(store, acc, job_id).status == 1,
            120,
            "the run to finish",
            run_state(store, acc, log),
        )
    except AssertionError as stuck:
        # Say where it stopped: statuses in the store, the log, and what the SMSC saw.
        events = Counter(e["event"] for e in sim.events)
        raise AssertionError(f"{stuck}\nSMSC events {events}") from None
    finally:
        for proc in workers:
            stop(proc)
    sim.stop()
    assert statuses(store, acc) == {1: 5000}
    per_destination = Counter(s["destination_addr"] for s in sim.submits)
    assert len(per_destination) == 5000 and max(per_destination.values()) == 1
    per_session = Counter(s["session"] for s in sim.submits)
    assert len(per_session) == 2 and min(per_session.values()) > 0, per_session

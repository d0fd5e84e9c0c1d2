"""Crash test: one mailing list sent by real `tidings dispatcher` processes (default settings:
no worker id, `on_ambiguous = "skip"`) through the node-smpp SMSC, which sends every receipt
before its submit_sm_resp and kill -9s the running dispatcher the moment a deliver_sm_resp
reaches it — `--kills` times, spread over the run; each time a new dispatcher is started.
After the last one has finished the list it prints the figures and checks them: no message
left not final, no duplicate beyond the ambiguous count the dispatchers reported, the ledger
equal to the charges.

    PYTHONPATH=src .venv/bin/python bench/kill9.py --recipients 20000 --kills 8

PostgreSQL by default (a fresh database on --admin-url, dropped afterwards); --sqlite for a
file in a temporary folder. Exit code 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sim import Simulator

from tidings.app import default_tariff
from tidings.config import Settings
from tidings.domain.accounts import hash_password
from tidings.domain.jobs import JobService, MessageFormat, NewJob
from tidings.domain.lifecycle import AMBIGUOUS_ERR, JobStatus, MessageStatus
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.repository import Store

TIDINGS = str(Path(sys.executable).with_name("tidings"))
CREDIT = 10**12
IN_PROGRESS = (int(MessageStatus.WAITING), int(MessageStatus.HANDED_OVER))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the whole run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tidings-kill9-") as tmp:
        folder = Path(tmp)
        url = folder_url(folder) if args.sqlite else create_database(args.admin_url)
        try:
            return run(url, folder, args.recipients, args.kills, args.timeout)
        finally:
            if not args.sqlite:
                drop_database(args.admin_url, url)


def folder_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'kill9.db'}"


def create_database(admin_url: str) -> str:
    import psycopg

    name = f"tidings_kill9_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def run(url: str, folder: Path, recipients: int, kills: int, timeout: float) -> int:
    migrate.upgrade(url)
    store = Store(open_database(url), default_tariff(Settings()))
    sim = Simulator(receipt_first=True, commands=True)
    config = folder / "tidings.toml"
    config.write_text(
        f'[[smpp]]\nname = "sim"\nhost = "127.0.0.1"\nport = {sim.port}\n'
        'system_id = "tidings"\npassword = "secret"\n',
        encoding="utf-8",
    )
    log = folder / "dispatchers.log"
    account_id, job_id = create_list(store, recipients)
    started = time.monotonic()
    deadline = started + timeout
    # Kills spread over the run: each dispatcher dies after its share of acknowledgements.
    share = max(recipients // (kills + 2), 1)
    for _ in range(kills):
        proc = start(url, config, log)
        sim.kill_after_deliver_resps(proc.pid, share)
        while proc.poll() is None:
            if time.monotonic() > deadline or list_done(store, job_id):
                break
            time.sleep(0.05)
        if proc.poll() is None:  # the list ended (or time ran out) before this kill
            stop(proc)
            break
    last = start(url, config, log)
    while not list_done(store, job_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    stop(last)
    sim.stop()
    figures = measure(store, account_id, log)
    store.close()
    figures.update(
        recipients=recipients,
        kills=len(sim.killed),
        seconds=round(elapsed, 1),
        submits=sim.submits,
        deliver_sm_resp=sim.deliver_resps,
        duplicates=sim.duplicates,
        database="sqlite" if url.startswith("sqlite") else "postgresql",
    )
    checks = {
        "every message final": figures["not_final"] == 0,
        "duplicates <= reported ambiguous": figures["duplicates"] <= figures["ambiguous"],
        "ambiguous in the store == reported": figures["ambiguous_in_store"] == figures["ambiguous"],
        "ledger == charges": figures["ledger_minor"] == figures["balance_minor"]
        and CREDIT - figures["balance_minor"] == figures["charged_minor"],
    }
    print(json.dumps(figures, indent=2))
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


def create_list(store: Store, recipients: int) -> tuple[int, int]:
    now = datetime.now(UTC)
    account = store.create_account("kill9", hash_password("kill9"), now)
    store.add_ledger_entry(account.id, CREDIT, "credit", "bench", now)
    job = NewJob(
        name="kill9",
        phones_text="",
        addresses=[f"7916{n:07d}" for n in range(recipients)],
        texts=None,
        groups=[],
        message="Crash test",
        fmt=MessageFormat.SMS,
        first_run=now,
        zone="Europe/Moscow",
    )
    return account.id, JobService(store).create(account, job, now, with_cost=False).job_id


def start(url: str, config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(
            [TIDINGS, "dispatcher", "--db", url, "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=handle,
            env={**os.environ},
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)


def list_done(store: Store, job_id: int) -> bool:
    with store.db.tx(write=False) as tx:
        row = tx.one("SELECT status FROM jobs WHERE id = ?", (job_id,))
    return row is not None and int(row[0]) == JobStatus.FINISHED


def measure(store: Store, account_id: int, log: Path) -> dict[str, object]:
    with store.db.tx(write=False) as tx:
        by_status = dict(tx.all("SELECT status, COUNT(*) FROM messages GROUP BY status"))
        err_1001 = tx.one(
            "SELECT COUNT(*) FROM messages WHERE status = ? AND err = ?",
            (int(MessageStatus.UNDELIVERABLE), AMBIGUOUS_ERR),
        )
        charged = tx.one("SELECT COALESCE(SUM(cost_minor), 0) FROM messages")
        stored = tx.one("SELECT COUNT(*) FROM unmatched_receipts")
    assert err_1001 is not None and charged is not None and stored is not None
    events: Counter[str] = Counter()
    ambiguous = 0
    for line in log.read_text(encoding="utf-8").splitlines():
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        events[event["event"]] += 1
        if event["event"] == "messages in flight at a crash":
            ambiguous += int(event["count"])
    return {
        "statuses": {int(s): int(n) for s, n in sorted(by_status.items())},
        "not_final": sum(int(n) for s, n in by_status.items() if int(s) in IN_PROGRESS),
        "ambiguous": ambiguous,
        "ambiguous_in_store": int(err_1001[0]),
        "unmatched_receipts_kept": int(stored[0]),
        "charged_minor": int(charged[0]),
        "balance_minor": store.balance(account_id),
        "ledger_minor": store.ledger_sum(account_id),
        "log_errors": events.get("recording receipts failed; will retry", 0)
        + events.get("claiming failed", 0)
        + events.get("housekeeping failed", 0),
    }


if __name__ == "__main__":
    sys.exit(main())

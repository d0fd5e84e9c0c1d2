"""Operator commands against a real store (SQLite and PostgreSQL) and a real SMSC simulator:
import-contacts, jobs, doctor, upstreams."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import drop_database, fresh_database_url
from tests.integration.engine_support import account, create_list, dispatcher, drive, view
from tests.integration.smsc_sim import StartSim, start_sim_fixture  # noqa: F401
from tidings.app import default_tariff
from tidings.cli.main import app
from tidings.config import Settings
from tidings.domain.contacts import GroupType
from tidings.store import migrate
from tidings.store.contacts import ContactStore
from tidings.store.db import open_database
from tidings.store.repository import Store

runner = CliRunner()
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("cli-ops"))
    migrate.upgrade(url)
    yield url
    drop_database(url)


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    s = Store(open_database(db), default_tariff(Settings()))
    yield s
    s.close()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output
    return result.output


def test_import_contacts_streams_a_10000_row_csv_and_reports_bad_rows(
    db: str, store: Store, tmp_path: Path
) -> None:
    acc = account(store, NOW)
    contacts = ContactStore(store.db)
    group = contacts.add_group(acc.id, "Клиенты", 5, GroupType.PHONE, NOW)
    contacts.add_group(acc.id, "VIP", 7, GroupType.PHONE, NOW)
    # An existing contact: the file updates it instead of adding a second one.
    contacts.add_contacts(acc.id, [_new("79160000003", "old name")], [], NOW)
    lines = ["Телефон;Имя;E-mail;Группа"]
    for i in range(10_000):
        lines.append(f"+7 916 {i:07d};Иван {i};u{i}@example.com;{7 if i % 2 else ''}")
    lines[101] = "12;Короткий;;"  # line 102: not a phone number
    lines[5001] = "79165555555;Плохой;not-an-email;"  # line 5002
    lines[7001] = "79167777777;Без группы;;99"  # line 7002: no such group
    path = tmp_path / "contacts.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("windows-1251"))

    out = run("import-contacts", acc.login, str(path), "--group", "5", "--db", db)

    assert "9996 added, 1 updated, 3 rejected" in out, out
    assert "102" in out and "not a phone number: 12" in out
    assert "5002" in out and "not an e-mail address: not-an-email" in out
    assert "7002" in out and "no group 99" in out
    with store.db.tx(write=False) as tx:
        count = tx.one("SELECT COUNT(*) FROM contacts WHERE account_id = ?", (acc.id,))
        updated = tx.one(
            "SELECT name, email FROM contacts WHERE account_id = ? AND phone = ?",
            (acc.id, "79160000003"),
        )
    assert count is not None and count[0] == 9997
    assert updated == ("Иван 3", "u3@example.com")
    groups = {g.num: g.members for g in contacts.list_groups(acc.id)}
    assert groups == {5: 9997, 7: 5000}  # every imported row in 5; the odd ones in 7 too
    assert group in {g.id for g in contacts.list_groups(acc.id)}


def _new(phone: str, name: str) -> object:
    from tidings.domain.contacts import NewContact

    return NewContact(phone, None, name)


def test_import_reads_utf8_with_bom_and_commas_without_a_header(
    db: str, store: Store, tmp_path: Path
) -> None:
    acc = account(store, NOW)
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbf79161112233,\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0\n89161112234,Bob\n")
    out = run("import-contacts", acc.login, str(path), "--db", db)
    assert "2 added, 0 updated, 0 rejected" in out
    names = {c.phone: c.name for c in ContactStore(store.db).list_contacts(acc.id, [], 0, 10, None)}
    assert names == {"79161112233": "Анна", "79161112234": "Bob"}
    assert "no group 3" in run(
        "import-contacts", acc.login, str(path), "--group", "3", "--db", db, code=1
    )


def test_jobs_shows_each_list_with_its_progress(db: str, store: Store) -> None:
    clock_now = datetime.now(UTC)
    acc = account(store, clock_now, test_mode=True)
    done = create_list(store, acc, "79161230001,79161230002,79161230003", clock_now)
    asyncio.run(drive(dispatcher(store, _Clock()), lambda: view(store, acc, done).status == 1))
    later = create_list(
        store, acc, "79161230004,79161230005", clock_now, first_run=datetime(2099, 1, 1, tzinfo=UTC)
    )
    out = run("jobs", acc.login, "--db", db)
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "finished" in rows[str(done)] and "100%" in rows[str(done)]
    assert [c.strip() for c in rows[str(done)].split("│")[4:9]] == ["3", "0", "0", "3", "0"]
    assert "waiting" in rows[str(later)] and "0%" in rows[str(later)]
    assert "no account" in run("jobs", "nobody", "--db", db, code=1)


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def _config(tmp_path: Path, db: str, port: int) -> str:
    path = tmp_path / "tidings.toml"
    path.write_text(
        f'database_url = "{db}"\n\n[[smpp]]\nname = "sim"\nhost = "127.0.0.1"\nport = {port}\n'
        'system_id = "tidings"\npassword = "secret"\nbind_timeout_s = 2\n',
        encoding="utf-8",
    )
    return str(path)


def test_doctor_passes_against_a_running_smsc_and_fails_on_a_closed_port(
    db: str, tmp_path: Path, start_sim: StartSim
) -> None:
    sim = start_sim()
    out = run("doctor", "--config", _config(tmp_path, db, sim.port))
    # config, store, migrations, routing (the SMSC takes live accounts' SMS), smpp
    assert out.count("OK") == 5 and "FAIL" not in out, out
    assert "bound as tidings" in out

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # bound, never listening: connections are refused
        out = run("doctor", "--config", _config(tmp_path, db, closed), code=1)
    assert "FAIL" in out and f"127.0.0.1:{closed}" in out and "Error" in out, out

    refused = run("doctor", "--db", "sqlite:////nonexistent/dir/t.db", code=1)
    assert "does not exist" in refused


def test_upstreams_lists_the_settings_and_the_live_state(db: str, store: Store) -> None:
    from tidings.store.operations import StateReport, write_upstream_states

    out = run("upstreams", "--db", db)
    assert "virtual" in out and "no dispatcher has reported yet" in out
    now = int(datetime.now(UTC).timestamp())
    write_upstream_states(
        store.db,
        [
            StateReport(
                "main", "w1", "smpp", False, 0, 2, 3, 100, 12.5, 40, "bind refused", now, now
            )
        ],
    )
    out = run("upstreams", "--db", db)
    assert "main" in out and "w1" in out and "3 / 100" in out and "bind refused" in out
    assert "no (0/2)" in out and "12.5" in out

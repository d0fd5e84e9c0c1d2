"""`tidings inbound` against a real store (SQLite and PostgreSQL): the operator assigns an
inbound number to an account, lists and releases it, and sees the messages nobody owns —
through the inbound service, under the rules the admin page follows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from tests.conftest import drop_database, fresh_database_url
from tidings.app import default_tariff
from tidings.channels.base import InboundPart
from tidings.cli.main import app
from tidings.config import InboundSettings, Settings
from tidings.dispatch.db_calls import DbCalls
from tidings.dispatch.inbound import InboundRecorder
from tidings.domain.clock import FakeClock
from tidings.store.db import open_database
from tidings.store.repository import Store

runner = CliRunner()


@pytest.fixture
def db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("cli"))
    yield url
    drop_database(url)


def cli(db: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--db", db], env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output
    return result.output


def test_numbers_assigned_listed_and_released(db: str) -> None:
    for login in ("shop", "cafe"):
        cli(db, "accounts", "create", login, "--password", "password-1")
    assert "inbound number 79001112233 assigned to shop" in cli(
        db, "inbound", "assign", "shop", "+79001112233"
    )
    cli(db, "inbound", "assign", "cafe", "79004445566")
    # Assigning it again to its own account changes nothing; another account's is refused.
    cli(db, "inbound", "assign", "shop", "79001112233")
    refused = cli(db, "inbound", "assign", "cafe", "79001112233", code=1)
    assert "79001112233 is assigned to another account" in refused
    assert "no account 'nobody'" in cli(db, "inbound", "assign", "nobody", "7900", code=1)
    assert "3 to 20 digits" in cli(db, "inbound", "assign", "shop", "12ab", code=1)

    listing = cli(db, "inbound", "numbers")
    assert "79001112233" in listing and "shop" in listing and "79004445566" in listing
    mine = cli(db, "inbound", "numbers", "shop")
    assert "79001112233" in mine and "79004445566" not in mine

    assert "inbound number 79001112233 released" in cli(db, "inbound", "release", "+79001112233")
    assert "79001112233" not in cli(db, "inbound", "numbers")
    assert "no such inbound number" in cli(db, "inbound", "release", "79001112233", code=1)


def test_unassigned_messages_are_listed_for_the_operator(db: str) -> None:
    cli(db, "accounts", "create", "shop", "--password", "password-1")
    cli(db, "inbound", "assign", "shop", "79001112233")
    store = Store(open_database(db), default_tariff(Settings()))
    try:
        clock = FakeClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
        recorder = InboundRecorder(store.db, clock, DbCalls(store.db), InboundSettings())
        recorder.record(
            [
                InboundPart("sim", "79161234567", "79001112233", "for the shop", "f1"),
                InboundPart("sim", "79169999999", "79990000000", "who is this", "f2"),
            ]
        )
    finally:
        store.close()
    listing = cli(db, "inbound", "unassigned")
    assert (
        "who is this" in listing and "79169999999" in listing and "2026-01-15 12:00:00" in listing
    )
    assert "for the shop" not in listing


def _forwards(db: str, login: str) -> bool:
    store = Store(open_database(db), default_tariff(Settings()))
    try:
        with store.db.tx(write=False) as tx:
            row = tx.one("SELECT forward_inbound FROM accounts WHERE login = ?", (login,))
    finally:
        store.close()
    assert row is not None
    return bool(row[0])


def test_accounts_callback_inbound_switches_forwarding(db: str) -> None:
    cli(db, "accounts", "create", "shop", "--password", "password-1")
    url = "http://93.184.216.34/hook"
    assert len(cli(db, "accounts", "callback", "shop", url, "--inbound").strip()) == 64
    assert _forwards(db, "shop")
    cli(db, "accounts", "callback", "shop", url)
    assert _forwards(db, "shop")
    cli(db, "accounts", "callback", "shop", url, "--no-inbound")
    assert not _forwards(db, "shop")

"""The accounts CLI against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from tests.conftest import drop_database, fresh_database_url
from tidings.app import default_tariff
from tidings.cli.main import app
from tidings.config import Settings
from tidings.domain.accounts import api_key_hash
from tidings.store.db import open_database
from tidings.store.repository import Store

runner = CliRunner()


@pytest.fixture
def db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("cli"))
    yield url
    drop_database(url)


def cli(db: str, *args: str) -> str:
    result = runner.invoke(app, [*args, "--db", db], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_account_lifecycle_from_the_command_line(db: str) -> None:
    assert "created account shop" in cli(
        db,
        "accounts",
        "create",
        "shop",
        "--password",
        "pw1",
        "--balance",
        "150.50",
        "--timezone",
        "Asia/Omsk",
        "--test-mode",
    )
    key = cli(db, "accounts", "apikey", "shop").strip()
    assert cli(db, "accounts", "allow-ip", "shop", "203.0.113.9").startswith("203.0.113.9/32")
    assert "shop: balance 160.50 RUB" in cli(db, "accounts", "credit", "shop", "10")
    listing = cli(db, "accounts", "list")
    assert "shop" in listing and "160.50" in listing and "Asia/Omsk" in listing

    store = Store(open_database(db), default_tariff(Settings()))
    try:
        account = store.account_by_login("shop")
        assert account is not None and account.test_mode
        assert store.account_id_by_key_hash(api_key_hash(key)) == account.id
        assert store.allowed_ips(account.id) == ["203.0.113.9/32"]
        assert store.balance(account.id) == 16050
    finally:
        store.close()
    assert "removed" in cli(db, "accounts", "deny-ip", "shop", "203.0.113.9")


def test_bad_input_is_refused_and_changes_nothing(db: str) -> None:
    cli(db, "accounts", "create", "shop", "--password", "pw1")
    for args in (
        ["accounts", "create", "shop", "--password", "pw2"],
        ["accounts", "create", "bad login!", "--password", "pw"],
        ["accounts", "create", "zoned", "--password", "pw", "--timezone", "Mars/Base"],
        ["accounts", "credit", "shop", "lots"],
        ["accounts", "allow-ip", "shop", "300.1.1.1"],
        ["accounts", "apikey", "nobody"],
    ):
        result = runner.invoke(app, [*args, "--db", db])
        assert result.exit_code == 1, args
    listing = cli(db, "accounts", "list")
    assert "shop" in listing and "zoned" not in listing and "bad" not in listing

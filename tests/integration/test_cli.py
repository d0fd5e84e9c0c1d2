"""The accounts CLI against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

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
        "password-1",
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
    cli(db, "accounts", "create", "shop", "--password", "password-1")
    for args in (
        ["accounts", "create", "shop", "--password", "password-2"],
        ["accounts", "create", "bad login!", "--password", "password"],
        ["accounts", "create", "zoned", "--password", "password", "--timezone", "Mars/Base"],
        ["accounts", "credit", "shop", "lots"],
        ["accounts", "allow-ip", "shop", "300.1.1.1"],
        ["accounts", "apikey", "nobody"],
    ):
        result = runner.invoke(app, [*args, "--db", db])
        assert result.exit_code == 1, args
    listing = cli(db, "accounts", "list")
    assert "shop" in listing and "zoned" not in listing and "bad" not in listing


# The cabinet's rules (domain/admin.py, domain/profile.py), word for word: the command line
# calls the same services, so what the admin and callback pages refuse it refuses too.
CABINET_REFUSES: list[tuple[list[str], str]] = [
    (["accounts", "create", "short", "--password", "seven77"], "password: at least 8 characters"),
    (
        ["accounts", "create", "owing", "--password", "password-1", "--balance=-5"],
        "balance: a positive amount",
    ),
    (["accounts", "credit", "shop", "0"], "amount: a positive amount"),
    (["accounts", "credit", "shop", "100000001"], "amount: at most 100000000"),
    (["accounts", "debit", "shop", "1,5x"], "amount: not an amount"),
    (["accounts", "debit", "shop", "5", "--memo", "m" * 201], "memo: at most 200 characters"),
    (["accounts", "callback", "shop", "http://"], "callback URL: an http:// or https:// address"),
    (["accounts", "callback", "shop", "ftp://example.com/"], "callback URL: an http://"),
    (
        ["accounts", "callback", "shop", "https://example.com/" + "a" * 500],
        "callback URL: at most 500 characters",
    ),
    (
        ["accounts", "callback", "shop", "http://127.0.0.1:5432/"],
        "callback URL: 127.0.0.1 is not allowed (127.0.0.1 is a loopback address)",
    ),
    (["accounts", "callback", "shop", "http://2130706433/"], "127.0.0.1 is a loopback"),
    (["accounts", "callback", "shop", "http://[fd00::1]/"], "fd00::1 is a private address"),
    (["accounts", "callback", "shop", "http://metadata/"], "169.254.169.254 is a link-local"),
    (["senders", "approve", "shop", "Nope"], "shop has no sender 'Nope'"),
]


def test_the_command_line_refuses_what_the_cabinet_refuses(db: str) -> None:
    cli(db, "accounts", "create", "shop", "--password", "password-1")
    for args, reason in CABINET_REFUSES:
        result = runner.invoke(app, [*args, "--db", db], env={"COLUMNS": "300"})
        assert result.exit_code == 1, (args, result.output)
        assert reason in result.output, args
    # ... and changed nothing.
    store = Store(open_database(db), default_tariff(Settings()))
    try:
        shop = store.account_by_login("shop")
        assert shop is not None and store.balance(shop.id) == store.ledger_sum(shop.id) == 0
        assert store.count_accounts() == 1
        with store.db.tx(write=False) as tx:
            assert tx.one("SELECT callback_url FROM accounts WHERE id = ?", (shop.id,)) == ("",)
    finally:
        store.close()


def test_money_moves_through_the_ledger_as_the_admin_page_books_it(db: str) -> None:
    cli(db, "accounts", "create", "shop", "--password", "password-1", "--balance", "10")
    assert "shop: balance 7.50 RUB" in cli(db, "accounts", "debit", "shop", "2,50")
    assert "shop: balance 12.50 RUB" in cli(
        db, "accounts", "credit", "shop", "5", "--memo", "Счёт 5"
    )
    store = Store(open_database(db), default_tariff(Settings()))
    try:
        shop = store.account_by_login("shop")
        assert shop is not None
        with store.db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT amount_minor, kind, memo FROM ledger WHERE account_id = ? ORDER BY id",
                (shop.id,),
            )
    finally:
        store.close()
    assert [tuple(r) for r in rows] == [
        (1000, "credit", "opening balance"),
        (-250, "debit", "debit from CLI"),
        (500, "credit", "Счёт 5"),
    ]


def test_the_operator_sets_a_password_and_the_accounts_sessions_end(db: str) -> None:
    cli(db, "accounts", "create", "shop", "--password", "password-1")
    from tidings.app import opened_services
    from tidings.config import load_settings

    with opened_services(load_settings(None, database_url=db)) as services:
        account = services.admin.account_by_login("shop")
        token = services.sessions.start(account.id, datetime.now(UTC))
        assert services.sessions.account_for(token, datetime.now(UTC)) == account.id
    short = runner.invoke(app, ["accounts", "password", "shop", "--password", "short", "--db", db])
    assert short.exit_code == 1 and "8" in short.output
    assert "password set" in cli(db, "accounts", "password", "shop", "--password", "password-2")
    with opened_services(load_settings(None, database_url=db)) as services:
        assert services.sessions.account_for(token, datetime.now(UTC)) is None
        assert services.auth.authenticate("shop", "password-2", "").id == account.id


def test_templates_from_the_command_line(db: str) -> None:
    cli(db, "accounts", "create", "shop", "--password", "password-1")
    assert "template 1 (Code) added for shop" in cli(
        db, "templates", "add", "shop", "--name", "Code", "--text", "Your code: 1234"
    )
    assert "template 1 changed" in cli(
        db, "templates", "change", "shop", "1", "--sender", "Shop", "--signature"
    )
    listing = cli(db, "templates", "list", "shop")
    assert "Your code: 1234" in listing and "Shop" in listing and "yes" in listing
    # The rules of templates.php, and nothing stored when they are broken.
    refused = runner.invoke(app, ["templates", "add", "shop", "--name", "X", "--db", db])
    assert refused.exit_code == 1 and "msg: required" in refused.output
    refused = runner.invoke(
        app, ["templates", "change", "shop", "1", "--format", "viber", "--db", db]
    )
    assert refused.exit_code == 1 and "viber messages cannot be sent" in refused.output
    gone = runner.invoke(app, ["templates", "delete", "shop", "7", "--db", db])
    assert gone.exit_code == 1 and "template not found" in gone.output
    assert "template 1 deleted" in cli(db, "templates", "delete", "shop", "1")
    assert "Code" not in cli(db, "templates", "list", "shop")


def test_an_smpp_password_is_set_generated_refused_and_cleared(db: str) -> None:
    from tidings.domain.accounts import verify_secret

    cli(db, "accounts", "create", "esme", "--password", "password-1")
    assert "SMPP password Ab3$efgh" in cli(
        db, "accounts", "smpp-password", "esme", "--password", "Ab3$efgh"
    )
    generated = cli(db, "accounts", "smpp-password", "esme").split()[-1]
    assert len(generated) == 8
    refused = runner.invoke(
        app, ["accounts", "smpp-password", "esme", "--password", "ninechars", "--db", db]
    )
    assert refused.exit_code == 1 and "1 to 8 printable ASCII" in refused.output
    s = Store(open_database(db), default_tariff(Settings()))
    try:
        account = s.account_by_login("esme")
        assert account is not None
        stored = s.smpp_password_hash(account.id)
        assert stored is not None and verify_secret(stored, generated)
        assert "removed" in cli(db, "accounts", "smpp-password", "esme", "--clear")
        assert s.smpp_password_hash(account.id) is None
    finally:
        s.close()

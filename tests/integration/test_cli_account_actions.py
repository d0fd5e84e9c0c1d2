"""The operator's account actions on the command line against a real store (SQLite and
PostgreSQL): disable/enable, the operator flag, test mode, sender names, IP blocks and the
audit log — the services the admin pages use, audited as "cli"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from tests.conftest import drop_database, fresh_database_url
from tidings.app import default_tariff
from tidings.cli.main import app
from tidings.config import Settings
from tidings.domain.clock import to_ts
from tidings.errors import AccountDisabled
from tidings.store.audit import AuditQueries
from tidings.store.contacts import ContactStore
from tidings.store.db import open_database
from tidings.store.repository import Store

runner = CliRunner()


@pytest.fixture
def db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("cli-actions"))
    result = runner.invoke(
        app, ["accounts", "create", "shop", "--password", "password-1", "--db", url]
    )
    assert result.exit_code == 0, result.output
    yield url
    drop_database(url)


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    s = Store(open_database(db), default_tariff(Settings()))
    yield s
    s.close()


def cli(db: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--db", db], env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output
    return result.output


def _actions(store: Store) -> list[str]:
    return [e.action for e in AuditQueries(store.db).audit_entries(None, 0, 100)]


def test_disable_enable_operator_and_test_mode(db: str, store: Store) -> None:
    from tidings.app import opened_services
    from tidings.config import load_settings

    assert "shop disabled" in cli(db, "accounts", "disable", "shop")
    row = next(line for line in cli(db, "accounts", "list").splitlines() if "shop" in line)
    assert "yes" in row  # the disabled column: neither test mode nor operator is on
    settings = load_settings(None, database_url=db)
    with opened_services(settings) as services, pytest.raises(AccountDisabled):
        services.auth.authenticate("shop", "password-1", "")
    assert "shop enabled" in cli(db, "accounts", "enable", "shop")
    assert "operator on" in cli(db, "accounts", "operator", "shop", "--on")
    assert "test mode off" in cli(db, "accounts", "test-mode", "shop", "--off")
    account = store.account_by_login("shop")
    assert account is not None and account.is_operator and not account.test_mode
    assert not account.disabled
    assert "no account" in cli(db, "accounts", "disable", "nobody", code=1)
    assert _actions(store)[:4] == [
        "test_mode",
        "operator_flag",
        "account_enabled",
        "account_disabled",
    ]


def test_senders_approved_and_rejected(db: str, store: Store) -> None:
    account = store.account_by_login("shop")
    assert account is not None
    contacts = ContactStore(store.db)
    now = datetime.now(UTC)
    contacts.add_sender(account.id, "Shop", now)
    contacts.add_sender(account.id, "Spam", now)
    assert "Shop approved for shop" in cli(db, "senders", "approve", "shop", "Shop")
    assert "Spam rejected for shop" in cli(db, "senders", "reject", "shop", "Spam")
    assert "has no sender" in cli(db, "senders", "reject", "shop", "Spam", code=1)
    views = contacts.senders(account.id, approved_only=False)
    assert [(v.name, v.approved) for v in views] == [("Shop", True)]
    assert _actions(store)[:2] == ["sender_rejected", "sender_approved"]


def test_blocks_listed_and_lifted_and_the_audit_log_printed(db: str, store: Store) -> None:
    until = to_ts(datetime.now(UTC)) + 600
    store.block_ip("203.0.113.77", until, "auth failures")
    assert "203.0.113.77" in cli(db, "blocks")
    assert "block of 203.0.113.77 lifted" in cli(db, "unblock", "203.0.113.77")
    assert "no IP is blocked" in cli(db, "blocks")
    assert "not blocked" in cli(db, "unblock", "203.0.113.77", code=1)
    assert "not an IP address" in cli(db, "unblock", "nonsense", code=1)
    printed = cli(db, "audit")
    assert "ip_unblocked" in printed and "203.0.113.77" in printed and "cli" in printed
    assert "account_created" in printed
    assert "account_created" in cli(db, "audit", "--login", "shop")
    assert "ip_unblocked" not in cli(db, "audit", "--login", "shop")


def test_a_generated_password_is_printed_once_and_signs_in(db: str) -> None:
    from tidings.app import opened_services
    from tidings.config import load_settings

    printed = cli(db, "accounts", "password", "shop")
    generated = printed.split(" to ", 1)[1].split(",", 1)[0]
    assert len(generated) == 12
    with opened_services(load_settings(None, database_url=db)) as services:
        assert services.auth.authenticate("shop", generated, "").login == "shop"

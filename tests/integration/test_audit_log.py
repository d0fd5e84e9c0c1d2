"""The audit log through the real server (SQLite and PostgreSQL): every audited action — done
on the admin pages, at the sign-in form or on the command line — writes its entry (who, from
which IP, what, about which account), a refused action writes none, and /admin/audit shows
them newest first, filtered by account and paged."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from tests.conftest import Server
from tests.integration.web_support import WebUser
from tidings.cli.main import app
from tidings.domain.accounts import Account, hash_password
from tidings.domain.audit import PAGE_SIZE, AuditEntry
from tidings.domain.clock import to_ts
from tidings.store.audit import AuditQueries
from tidings.store.contacts import ContactStore


@dataclass
class Ctx:
    server: Server
    operator: WebUser
    operator_login: str
    ip: str
    customer: Account
    password: str


@pytest.fixture
def ctx(server: Server, ip: str) -> Iterator[Ctx]:
    password = secrets.token_urlsafe(8)
    login = f"op{secrets.token_hex(4)}"
    server.store.create_account(
        login, hash_password(password), server.clock.now(), is_operator=True
    )
    web = WebUser(server, ip)
    assert web.sign_in(login, password).status_code == 303
    web.get("/admin")
    customer, customer_password = server.account()
    yield Ctx(server, web, login, ip, customer, customer_password)
    web.close()


def entries(server: Server, account_id: int | None) -> list[AuditEntry]:
    return AuditQueries(server.store.db).audit_entries(account_id, 0, 500)


def newest(server: Server, account_id: int | None) -> AuditEntry:
    found = entries(server, account_id)
    assert found, "no audit entry"
    return found[0]


def _post(ctx: Ctx, path: str, form: dict[str, str], code: int = 303) -> None:
    response = ctx.operator.post(path, form)
    assert response.status_code == code, response.text[:500]


def _tariff(ctx: Ctx) -> int:
    name = f"T {secrets.token_hex(3)}"
    _post(ctx, "/admin/tariffs", {"name": name, "default_price": "1", "email_price": "0.1"})
    return next(t.id for t in ctx.server.store.tariffs() if t.name == name)


def _pending_sender(ctx: Ctx) -> str:
    name = f"S{secrets.token_hex(3)}"
    ContactStore(ctx.server.store.db).add_sender(ctx.customer.id, name, ctx.server.clock.now())
    return name


def _block(ctx: Ctx) -> str:
    blocked = f"2001:db8:9::{secrets.token_hex(2)}"
    until = to_ts(ctx.server.clock.now()) + 600
    ctx.server.store.block_ip(blocked, until, "auth failures")
    return blocked


def _number() -> str:
    return "7900" + str(secrets.randbelow(10**7)).zfill(7)


# Each case does one action and returns (action, account the entry concerns, detail it shows).
Case = Callable[[Ctx], tuple[str, int | None, str]]


def credit(ctx: Ctx) -> tuple[str, int | None, str]:
    form = {"amount": "12.30", "direction": "credit", "memo": "счёт 5"}
    _post(ctx, f"/admin/accounts/{ctx.customer.id}/money", form)
    return "credit", ctx.customer.id, "12.30 RUB, balance 112.30 (счёт 5)"


def debit(ctx: Ctx) -> tuple[str, int | None, str]:
    form = {"amount": "1", "direction": "debit", "memo": ""}
    _post(ctx, f"/admin/accounts/{ctx.customer.id}/money", form)
    return "debit", ctx.customer.id, "1.00 RUB, balance 99.00"


def create_account(ctx: Ctx) -> tuple[str, int | None, str]:
    login = f"new{secrets.token_hex(4)}"
    form = {"login": login, "password": "long enough", "balance": "5", "test_mode": "1"}
    _post(ctx, "/admin/accounts", form)
    created = ctx.server.store.account_by_login(login)
    assert created is not None
    return "account_created", created.id, "balance 5.00"


def switch_test_mode(ctx: Ctx) -> tuple[str, int | None, str]:
    _post(ctx, f"/admin/accounts/{ctx.customer.id}/test-mode", {"on": "0"})
    return "test_mode", ctx.customer.id, "off"


def operator_flag(ctx: Ctx) -> tuple[str, int | None, str]:
    _post(ctx, f"/admin/accounts/{ctx.customer.id}/operator", {"on": "1"})
    return "operator_flag", ctx.customer.id, "on"


def disable(ctx: Ctx) -> tuple[str, int | None, str]:
    _post(ctx, f"/admin/accounts/{ctx.customer.id}/disabled", {"on": "1"})
    return "account_disabled", ctx.customer.id, ""


def enable(ctx: Ctx) -> tuple[str, int | None, str]:
    _post(ctx, f"/admin/accounts/{ctx.customer.id}/disabled", {"on": "0"})
    return "account_enabled", ctx.customer.id, ""


def reset_password(ctx: Ctx) -> tuple[str, int | None, str]:
    _post(ctx, f"/admin/accounts/{ctx.customer.id}/password", {"password": ""}, code=200)
    return "password_reset", ctx.customer.id, "generated"


def account_tariff(ctx: Ctx) -> tuple[str, int | None, str]:
    tariff = _tariff(ctx)
    _post(ctx, f"/admin/accounts/{ctx.customer.id}/tariff", {"tariff": str(tariff)})
    return "account_tariff", ctx.customer.id, f"tariff {tariff}"


def tariff_created(ctx: Ctx) -> tuple[str, int | None, str]:
    _tariff(ctx)
    return "tariff_created", None, "SMS part 1.00, e-mail 0.10"


def tariff_changed(ctx: Ctx) -> tuple[str, int | None, str]:
    tariff = _tariff(ctx)
    _post(ctx, f"/admin/tariffs/{tariff}", {"default_price": "2", "email_price": "0.2"})
    return "tariff_changed", None, "SMS part 2.00, e-mail 0.20"


def country_price(ctx: Ctx) -> tuple[str, int | None, str]:
    tariff = _tariff(ctx)
    _post(ctx, f"/admin/tariffs/{tariff}/countries", {"country": "uz", "price": "4.2"})
    return "country_price", None, "UZ 4.20"


def country_price_removed(ctx: Ctx) -> tuple[str, int | None, str]:
    tariff = _tariff(ctx)
    _post(ctx, f"/admin/tariffs/{tariff}/countries/delete", {"country": "KZ"})
    return "country_price_removed", None, "KZ"


def sender_approved(ctx: Ctx) -> tuple[str, int | None, str]:
    name = _pending_sender(ctx)
    form = {"account_id": str(ctx.customer.id), "sender": name}
    _post(ctx, "/admin/senders/approve", form)
    return "sender_approved", ctx.customer.id, name


def sender_rejected(ctx: Ctx) -> tuple[str, int | None, str]:
    name = _pending_sender(ctx)
    form = {"account_id": str(ctx.customer.id), "sender": name}
    _post(ctx, "/admin/senders/reject", form)
    return "sender_rejected", ctx.customer.id, name


def ip_unblocked(ctx: Ctx) -> tuple[str, int | None, str]:
    _post(ctx, "/admin/blocks/lift", {"ip": _block(ctx)})
    return "ip_unblocked", None, ""


def number_assigned(ctx: Ctx) -> tuple[str, int | None, str]:
    number = _number()
    _post(ctx, "/admin/inbound/numbers", {"login": ctx.customer.login, "number": number})
    return "number_assigned", ctx.customer.id, number


def number_released(ctx: Ctx) -> tuple[str, int | None, str]:
    number = _number()
    _post(ctx, "/admin/inbound/numbers", {"login": ctx.customer.login, "number": number})
    _post(ctx, "/admin/inbound/numbers/release", {"number": number})
    return "number_released", ctx.customer.id, number


ADMIN_CASES: list[Case] = [
    credit,
    debit,
    create_account,
    switch_test_mode,
    operator_flag,
    disable,
    enable,
    reset_password,
    account_tariff,
    tariff_created,
    tariff_changed,
    country_price,
    country_price_removed,
    sender_approved,
    sender_rejected,
    ip_unblocked,
    number_assigned,
    number_released,
]


@pytest.mark.parametrize("case", ADMIN_CASES, ids=lambda c: c.__name__)
def test_each_admin_action_writes_its_entry(ctx: Ctx, case: Case) -> None:
    action, account_id, detail = case(ctx)
    entry = newest(ctx.server, None)
    assert entry.action == action
    assert entry.actor == ctx.operator_login and entry.ip == ctx.ip
    assert entry.account_id == account_id
    assert detail in entry.details
    assert abs(entry.at - to_ts(ctx.server.clock.now())) <= 1
    if account_id is not None:
        assert newest(ctx.server, account_id).id == entry.id


def test_sign_ins_are_recorded_with_the_ip_success_and_failure(ctx: Ctx) -> None:
    customer, server = ctx.customer, ctx.server
    ip = ctx.ip.replace("2001:db8::", "2001:db8:5::")
    web = WebUser(server, ip)
    try:
        assert web.sign_in(customer.login, "wrong password").status_code == 401
        failed = newest(server, customer.id)
        assert (failed.action, failed.actor, failed.ip) == ("sign_in_failed", customer.login, ip)
        assert failed.details == "wrong login or password"
        assert "wrong password" not in str(failed)
        assert web.sign_in(customer.login, ctx.password).status_code == 303
        done = newest(server, customer.id)
        assert (done.action, done.actor, done.ip) == ("sign_in", customer.login, ip)
        unknown = f"nobody{secrets.token_hex(3)}"
        assert web.sign_in(unknown, "whatever1").status_code == 401
        stranger = newest(server, None)
        assert (stranger.action, stranger.target, stranger.account_id) == (
            "sign_in_failed",
            unknown,
            None,
        )
    finally:
        web.close()


def test_the_command_line_credit_is_recorded_as_cli(ctx: Ctx) -> None:
    result = CliRunner().invoke(
        app,
        ["accounts", "credit", ctx.customer.login, "7", "--db", ctx.server.settings.database_url],
    )
    assert result.exit_code == 0, result.output
    entry = newest(ctx.server, ctx.customer.id)
    assert (entry.action, entry.actor, entry.ip) == ("credit", "cli", "")
    assert "7.00 RUB, balance 107.00" in entry.details


def test_a_refused_action_writes_no_entry_and_changes_nothing(ctx: Ctx) -> None:
    before = newest(ctx.server, None).id
    bad_money = {"amount": "abc", "direction": "credit"}
    _post(ctx, f"/admin/accounts/{ctx.customer.id}/money", bad_money, code=400)
    _post(ctx, "/admin/blocks/lift", {"ip": "203.0.113.254"}, code=400)
    _post(ctx, "/admin/blocks/lift", {"ip": "not an ip"}, code=400)
    short = {"password": "short"}
    _post(ctx, f"/admin/accounts/{ctx.customer.id}/password", short, code=400)
    _post(ctx, "/admin/senders/approve", {"account_id": str(ctx.customer.id), "sender": "X"}, 400)
    for switch in ("disabled", "operator", "test-mode"):
        _post(ctx, f"/admin/accounts/{ctx.customer.id}/{switch}", {"on": "yes"}, code=400)
    # A tariff that does not exist: the account's change fails after its entry was begun.
    _post(ctx, f"/admin/accounts/{ctx.customer.id}/tariff", {"tariff": "999999999"}, code=404)
    assert newest(ctx.server, None).id == before
    assert ctx.server.store.account(ctx.customer.id).tariff_id is None  # type: ignore[union-attr]


def test_an_operator_cannot_lock_itself_out(ctx: Ctx) -> None:
    me = ctx.server.store.account_by_login(ctx.operator_login)
    assert me is not None
    refused = ctx.operator.post(f"/admin/accounts/{me.id}/disabled", {"on": "1"})
    assert refused.status_code == 400 and "its own account" in refused.text
    refused = ctx.operator.post(f"/admin/accounts/{me.id}/operator", {"on": "0"})
    assert refused.status_code == 400 and "its own flag" in refused.text
    me = ctx.server.store.account(me.id)
    assert me is not None and me.is_operator and not me.disabled


def test_the_audit_page_is_newest_first_filtered_and_paged(ctx: Ctx) -> None:
    for n in range(PAGE_SIZE + 2):
        form = {"amount": "1", "direction": "credit", "memo": f"memo {n}"}
        _post(ctx, f"/admin/accounts/{ctx.customer.id}/money", form)
    page = ctx.operator.get("/admin/audit", login=ctx.customer.login)
    assert page.status_code == 200
    text = page.text
    assert text.index(f"(memo {PAGE_SIZE + 1})") < text.index(f"(memo {PAGE_SIZE})")
    assert "(memo 0)" not in text and "(memo 1)" not in text
    assert "older →" in text
    older = ctx.operator.get("/admin/audit", login=ctx.customer.login, offset=PAGE_SIZE).text
    assert "(memo 1)" in older and "(memo 0)" in older and "older →" not in older
    assert ctx.customer.login in ctx.operator.get("/admin/audit").text
    missing = ctx.operator.get("/admin/audit", login="no-such-login")
    assert missing.status_code == 400 and "no account" in missing.text

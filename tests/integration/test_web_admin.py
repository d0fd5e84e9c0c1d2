"""The cabinet's admin section through the real server: operators only (everyone else gets
404), accounts with balances, credit/debit through the ledger, test mode, tariffs, upstreams."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.conftest import CLOCK_START, Server, fresh_database_url, start_server
from tests.integration.web_support import WebUser
from tidings.channels.base import InboundPart
from tidings.config import InboundSettings
from tidings.dispatch.db_calls import DbCalls
from tidings.dispatch.inbound import InboundRecorder
from tidings.domain.accounts import hash_password
from tidings.domain.clock import FakeClock, to_ts
from tidings.domain.inbound import InboundService
from tidings.store.inbound_reads import InboundQueries
from tidings.store.operations import StateReport, write_upstream_states

GET_PAGES = [
    "/admin",
    "/admin/tariffs",
    "/admin/upstreams",
    "/admin/upstreams/rows",
    "/admin/inbound",
    "/admin/senders",
    "/admin/blocks",
    "/admin/audit",
]
POST_ROUTES = [
    "/admin/accounts",
    "/admin/accounts/1/money",
    "/admin/accounts/1/test-mode",
    "/admin/accounts/1/tariff",
    "/admin/accounts/1/disabled",
    "/admin/accounts/1/operator",
    "/admin/accounts/1/password",
    "/admin/tariffs",
    "/admin/tariffs/1",
    "/admin/tariffs/1/countries",
    "/admin/tariffs/1/countries/delete",
    "/admin/inbound/numbers",
    "/admin/inbound/numbers/release",
    "/admin/senders/approve",
    "/admin/senders/reject",
    "/admin/senders/withdraw",
    "/admin/blocks/lift",
]


@pytest.fixture
def operator(server: Server, ip: str) -> Iterator[WebUser]:
    password = secrets.token_urlsafe(8)
    acc = server.store.create_account(
        f"op{secrets.token_hex(4)}", hash_password(password), server.clock.now(), is_operator=True
    )
    web = WebUser(server, ip)
    assert web.sign_in(acc.login, password).status_code == 303
    yield web
    web.close()


@pytest.fixture
def customer(server: Server, ip: str) -> Iterator[WebUser]:
    acc, psw = server.account()
    web = WebUser(server, ip.replace("2001:db8::", "2001:db8:2::"))
    assert web.sign_in(acc.login, psw).status_code == 303
    yield web
    web.close()


def test_the_section_does_not_exist_for_a_customer(server: Server, customer: WebUser) -> None:
    page = customer.get("/lists")
    assert 'href="/admin"' not in page.text
    for path in GET_PAGES:
        assert customer.get(path).status_code == 404, path
    victim, _ = server.account()
    for path in POST_ROUTES:
        url = path.replace("/1/", f"/{victim.id}/")
        data = {"amount": "1000", "direction": "credit", "on": "0", "login": "x" * 8}
        assert customer.post(url, data).status_code == 404, url
    assert server.store.balance(victim.id) == 10_000
    after = server.store.account(victim.id)
    assert after is not None and after.test_mode and not after.disabled and not after.is_operator


@pytest.mark.parametrize("path", POST_ROUTES)
def test_every_admin_post_needs_the_csrf_token(operator: WebUser, path: str) -> None:
    assert operator.post(path, {"amount": "1"}, csrf=False).status_code == 403
    assert operator.client.post(path, data={"csrf_token": "forged"}).status_code == 403


def test_accounts_listed_with_balances_credit_debit_and_test_mode(
    server: Server, operator: WebUser
) -> None:
    acc, _ = server.account(balance="12.50")
    page = operator.get("/admin")
    assert page.status_code == 200 and 'href="/admin"' in page.text
    row = re.search(rf'<tr id="account-{acc.id}">.*?</tr>', page.text, re.S)
    assert row and acc.login in row.group(0) and "12.50 RUB" in row.group(0)

    credit = {"amount": "100,25", "direction": "credit", "memo": "Пополнение по счёту №5"}
    assert operator.post(f"/admin/accounts/{acc.id}/money", credit).status_code == 303
    assert "balance 112.75" in operator.get("/admin").text
    debit = {"amount": "2.75", "direction": "debit", "memo": ""}
    assert operator.post(f"/admin/accounts/{acc.id}/money", debit).status_code == 303
    assert server.store.balance(acc.id) == 11_000
    assert server.store.ledger_sum(acc.id) == 11_000
    for bad in ("0", "-5", "abc", ""):
        response = operator.post(
            f"/admin/accounts/{acc.id}/money", {"amount": bad, "direction": "credit"}
        )
        assert response.status_code == 400, bad
    assert operator.post("/admin/accounts/999999999/money", credit).status_code == 404
    assert server.store.balance(acc.id) == 11_000

    assert operator.post(f"/admin/accounts/{acc.id}/test-mode", {"on": "0"}).status_code == 303
    assert not server.store.account(acc.id).test_mode  # type: ignore[union-attr]
    assert operator.post(f"/admin/accounts/{acc.id}/test-mode", {"on": "1"}).status_code == 303
    assert server.store.account(acc.id).test_mode  # type: ignore[union-attr]


def test_create_an_account(server: Server, operator: WebUser) -> None:
    login = f"new{secrets.token_hex(4)}"
    form = {"login": login, "password": "long enough", "balance": "50", "test_mode": "1"}
    assert operator.post("/admin/accounts", form).status_code == 303
    acc = server.store.account_by_login(login)
    assert acc is not None and acc.test_mode and not acc.is_operator
    assert server.store.balance(acc.id) == 5_000
    again = operator.post("/admin/accounts", form)
    assert again.status_code == 400 and "exists" in again.text
    short = operator.post("/admin/accounts", {**form, "login": "other1", "password": "short"})
    assert short.status_code == 400 and "at least 8 characters" in short.text
    bad = operator.post("/admin/accounts", {**form, "login": "<script>x</script>"})
    assert bad.status_code == 400 and "<script>x" not in bad.text


def test_tariffs_edited_and_given_to_an_account(server: Server, operator: WebUser) -> None:
    page = operator.get("/admin/tariffs")
    assert page.status_code == 200 and "Default tariff" in page.text and "1.80" in page.text
    name = f"Опт {secrets.token_hex(3)} <b>"
    form = {"name": name, "default_price": "1.50", "email_price": "0.05"}
    assert operator.post("/admin/tariffs", form).status_code == 303
    record = next(t for t in server.store.tariffs() if t.name == name)
    assert dict(record.tariff.country_prices) == {"RU": 180, "KZ": 350, "BY": 400}
    page = operator.get("/admin/tariffs").text
    assert name.replace("<b>", "&lt;b&gt;") in page and name not in page

    tid = record.id
    assert (
        operator.post(
            f"/admin/tariffs/{tid}", {"default_price": "1.60", "email_price": "0.07"}
        ).status_code
        == 303
    )
    assert (
        operator.post(
            f"/admin/tariffs/{tid}/countries", {"country": "uz", "price": "5"}
        ).status_code
        == 303
    )
    assert (
        operator.post(f"/admin/tariffs/{tid}/countries/delete", {"country": "BY"}).status_code
        == 303
    )
    bad = operator.post(f"/admin/tariffs/{tid}/countries", {"country": "Узб", "price": "5"})
    assert bad.status_code == 400 and "two-letter" in bad.text
    assert operator.post("/admin/tariffs/999999999", form).status_code == 404
    record = next(t for t in server.store.tariffs() if t.id == tid)
    assert record.tariff.default_price_minor == 160 and record.tariff.email_price_minor == 7
    assert dict(record.tariff.country_prices) == {"RU": 180, "KZ": 350, "UZ": 500}

    acc, _ = server.account()
    assert (
        operator.post(f"/admin/accounts/{acc.id}/tariff", {"tariff": str(tid)}).status_code == 303
    )
    account = server.store.account(acc.id)
    assert account is not None and account.tariff_id == tid
    assert server.store.tariff_for(account).sms_part_price("998901234567") == 500
    assert operator.post(f"/admin/accounts/{acc.id}/tariff", {"tariff": ""}).status_code == 303
    assert server.store.account(acc.id).tariff_id is None  # type: ignore[union-attr]


def test_upstreams_show_live_state_or_unknown(server: Server, operator: WebUser) -> None:
    page = operator.get("/admin/upstreams")
    assert page.status_code == 200
    assert 'hx-get="/admin/upstreams/rows"' in page.text
    now = server.clock.now()
    worker = f"w{secrets.token_hex(3)}"
    write_upstream_states(
        server.store.db,
        [
            StateReport(
                "virtual", worker, "virtual", True, 1, 1, 7, 200, 12.5, 900, "", None, to_ts(now)
            ),
            StateReport(
                f"smsc-{worker}", worker, "smpp", False, 0, 2, 0, 50, 0.0, 10,
                "bind refused: <ESME_RBINDFAIL>", to_ts(now - timedelta(seconds=30)),
                to_ts(now),
            ),
        ],
    )  # fmt: skip
    rows = operator.get("/admin/upstreams/rows").text
    assert rows.startswith("<tbody") and "<html" not in rows
    assert worker in rows and "7 / 200" in rows and "12.5" in rows
    assert f"smsc-{worker}" in rows and "not bound" in rows
    assert "bind refused: &lt;ESME_RBINDFAIL&gt;" in rows


def test_upstreams_without_reports_are_unknown(tmp_path_factory: pytest.TempPathFactory) -> None:
    url = fresh_database_url("sqlite", tmp_path_factory.mktemp("admin"))
    smpp = {"name": "beeline", "host": "127.0.0.1", "port": 2775, "system_id": "a", "password": "b"}
    uv, thread, srv = start_server(url, FakeClock(CLOCK_START), smpp=[smpp])
    try:
        password = "operator-pass"
        srv.store.create_account("op", hash_password(password), srv.clock.now(), is_operator=True)
        web = WebUser(srv, "2001:db8:3::1")
        web.sign_in("op", password)
        rows = web.get("/admin/upstreams/rows").text
        web.close()
    finally:
        srv.client.close()
        uv.should_exit = True
        thread.join(10)
        srv.store.close()
    assert rows.count("state unknown") == 2
    assert "beeline" in rows and "127.0.0.1:2775" in rows


def test_the_upstreams_page_says_what_live_accounts_cannot_send(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """No [[smpp]] configured and a live account: the operator sees that its SMS wait; with
    an SMSC configured the warning is gone."""
    smpp = {"name": "beeline", "host": "127.0.0.1", "port": 2775, "system_id": "a", "password": "b"}
    pages = []
    for upstreams in ([], [smpp]):
        url = fresh_database_url("sqlite", tmp_path_factory.mktemp("gaps"))
        uv, thread, srv = start_server(url, FakeClock(CLOCK_START), smpp=upstreams)
        try:
            password = "operator-pass"
            now = srv.clock.now()
            srv.store.create_account("op", hash_password(password), now, is_operator=True)
            srv.store.create_account("shop", hash_password(password), now, test_mode=False)
            web = WebUser(srv, "2001:db8:3::2")
            web.sign_in("op", password)
            pages.append(web.get("/admin/upstreams").text)
            web.close()
        finally:
            srv.client.close()
            uv.should_exit = True
            thread.join(10)
            srv.store.close()
    warning = "no [[smpp]] upstream is configured: live accounts&#39; SMS wait, uncharged"
    assert warning in pages[0]
    assert "no [[smpp]]" not in pages[1]


def test_inbound_numbers_assigned_and_released_and_unassigned_messages_shown(
    server: Server, operator: WebUser
) -> None:
    acc, _ = server.account()
    other, _ = server.account()
    number = f"7900{secrets.randbelow(10**7):07d}"
    page = operator.get("/admin/inbound")
    assert page.status_code == 200 and "Inbound numbers" in page.text
    done = operator.post("/admin/inbound/numbers", {"number": "+" + number, "login": acc.login})
    assert done.status_code == 303
    page = operator.get("/admin/inbound").text
    row = re.search(rf'<tr id="number-{number}">.*?</tr>', page, re.S)
    # The suite's cabinet speaks English: the date as English writes it.
    assert row and acc.login in row.group(0) and "1/15/2026" in row.group(0)
    assert [n.number for n in server_inbound(server).numbers(acc)] == [number]
    # Another account's number is refused, and so is a login nobody has.
    taken = operator.post("/admin/inbound/numbers", {"number": number, "login": other.login})
    assert taken.status_code == 400 and "assigned to another account" in taken.text
    nobody = operator.post("/admin/inbound/numbers", {"number": "79000000001", "login": "nx"})
    assert nobody.status_code == 400 and "no account" in nobody.text
    bad = operator.post("/admin/inbound/numbers", {"number": "12ab", "login": acc.login})
    assert bad.status_code == 400 and "3 to 20 digits" in bad.text
    # An SMS to a number nobody has is listed for the operator.
    stranger = f"7916{secrets.randbelow(10**7):07d}"
    _receive(server, stranger, "79990001122", "кто это? <i>")
    page = operator.get("/admin/inbound").text
    assert stranger in page and "кто это? &lt;i&gt;" in page
    released = operator.post("/admin/inbound/numbers/release", {"number": number})
    assert released.status_code == 303
    assert server_inbound(server).numbers(acc) == []
    again = operator.post("/admin/inbound/numbers/release", {"number": number})
    assert again.status_code == 400 and "no such inbound number" in again.text


def server_inbound(server: Server) -> InboundService:
    return InboundService(InboundQueries(server.store.db))


def _receive(server: Server, source: str, destination: str, text: str) -> None:
    db = server.store.db
    recorder = InboundRecorder(db, server.clock, DbCalls(db), InboundSettings())
    recorder.record([InboundPart("sim", source, destination, text, secrets.token_hex(8))])

"""The operator's pages in a real browser against a live server: each action done through the
page and its effect seen where it matters — a disabled account's sign-in refused and its API
calls answered `ERROR = 2 (account is blocked)`, a reset password that signs in, an approved
sender usable by jobs.php, a lifted IP block, the operator flag, and the audit log of it all."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import Server
from tidings.domain.accounts import Account, hash_password


@pytest.fixture
def context(browser: Any, live: Server) -> Iterator[BrowserContext]:
    assert isinstance(browser, Browser)
    made = browser.new_context(base_url=live.url, viewport={"width": 1400, "height": 900})
    made.set_default_timeout(15_000)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext, live: Server) -> Page:
    """The operator, signed in."""
    password = secrets.token_urlsafe(10)
    login = f"op{secrets.token_hex(4)}"
    live.store.create_account(login, hash_password(password), live.clock.now(), is_operator=True)
    tab = context.new_page()
    _sign_in(tab, login, password)
    expect(tab).to_have_url(re.compile(r"/dashboard$"))
    return tab


def _sign_in(tab: Page, login: str, password: str) -> None:
    tab.goto("/signin")
    tab.get_by_label("Login").fill(login)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Sign in").click()


def _customer_tab(browser: Any, live: Server) -> tuple[BrowserContext, Page]:
    other = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 800})
    other.set_default_timeout(15_000)
    return other, other.new_page()


def _api(live: Server, script: str, ip: str, **params: str) -> str:
    response = live.client.get(f"/sys/{script}.php", params=params, headers={"X-Forwarded-For": ip})
    assert response.status_code == 200
    return response.text


def _ip() -> str:
    return f"2001:db8:7::{secrets.token_hex(2)}"


def _row(page: Page, account: Account) -> Any:
    return page.locator(f"#account-{account.id}")


def test_disable_enable_and_reset_password(
    page: Page, browser: Any, live: Server, backend: str
) -> None:
    customer, password = live.account()
    ip = _ip()
    other, tab = _customer_tab(browser, live)
    try:
        _sign_in(tab, customer.login, password)
        expect(tab).to_have_url(re.compile(r"/dashboard$"))

        page.goto("/admin")
        _row(page, customer).get_by_role("button", name=f"Disable {customer.login}").click()
        expect(page.get_by_role("status")).to_have_text(f"{customer.login} disabled")
        expect(_row(page, customer)).to_contain_text("disabled")
        page.screenshot(path=str(ARTIFACTS / f"operator-disabled-{backend}.png"), full_page=True)

        # Its open session has ended, a new sign-in is refused, the API answers error 2.
        tab.goto("/lists")
        expect(tab).to_have_url(re.compile(r"/signin$"))
        _sign_in(tab, customer.login, password)
        expect(tab.get_by_role("alert")).to_contain_text("This account is disabled")
        login = {"login": customer.login, "psw": password}
        assert _api(live, "balance", ip, **login) == "ERROR = 2 (account is blocked)"
        assert '"error_code": 2' in _api(live, "balance", ip, **login, fmt="3")

        page.goto("/admin")
        _row(page, customer).get_by_role("button", name=f"Enable {customer.login}").click()
        expect(page.get_by_role("status")).to_have_text(f"{customer.login} enabled again")
        assert _api(live, "balance", ip, **login) == "100.00"
        _sign_in(tab, customer.login, password)
        expect(tab).to_have_url(re.compile(r"/dashboard$"))

        # A generated password, shown once; the old one stops working, the session ends.
        page.goto("/admin")
        _row(page, customer).get_by_role(
            "button", name=f"Reset password of {customer.login}"
        ).click()
        shown = page.locator("#new-password")
        expect(shown).to_have_text(re.compile(r"^\S{12}$"))
        new_password = shown.inner_text()
        page.screenshot(path=str(ARTIFACTS / f"operator-password-{backend}.png"), full_page=True)
        tab.goto("/lists")
        expect(tab).to_have_url(re.compile(r"/signin$"))
        assert _api(live, "balance", ip, **login).startswith("ERROR = 2")
        _sign_in(tab, customer.login, new_password)
        expect(tab).to_have_url(re.compile(r"/dashboard$"))

        # One the operator types (the cabinet's 8-character rule applies).
        page.goto("/admin")
        row = _row(page, customer)
        row.get_by_label(f"New password for {customer.login}").fill("chosen-by-op")
        row.get_by_role("button", name=f"Reset password of {customer.login}").click()
        expect(page.get_by_role("status")).to_contain_text("password set")
        assert _api(live, "balance", ip, login=customer.login, psw="chosen-by-op") == "100.00"
    finally:
        other.close()


def test_approve_and_reject_senders(page: Page, live: Server, backend: str) -> None:
    customer, password = live.account()
    ip = _ip()
    login = {"login": customer.login, "psw": password}
    shop, spam = f"Shop{secrets.token_hex(2)}", f"Spam{secrets.token_hex(2)}"
    for name in (shop, spam):
        assert _api(live, "senders", ip, **login, add="1", sender=name, fmt="3").startswith("{")

    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Sender names").click()
    pending = page.locator("table.senders-pending")
    expect(pending).to_contain_text(shop)
    page.screenshot(path=str(ARTIFACTS / f"operator-senders-{backend}.png"), full_page=True)
    pending.get_by_role("button", name=f"Approve {shop} of {customer.login}").click()
    expect(page.get_by_role("status")).to_have_text(f"{shop}: approved")
    expect(page.locator("table.senders-approved")).to_contain_text(shop)
    page.locator("table.senders-pending").get_by_role(
        "button", name=f"Reject {spam} of {customer.login}"
    ).click()
    expect(page.get_by_role("status")).to_have_text(f"{spam}: rejected")
    expect(page.locator("table.senders-pending")).not_to_contain_text(spam)

    # The approved name sends; any other is refused now that the account has one.
    job = {**login, "add": "1", "name": "L", "phones": "79161234567", "mes": "Hi"}
    sent = _api(live, "jobs", ip, **job, sender=shop, fmt="3")
    assert '"id"' in sent, sent
    refused = _api(live, "jobs", ip, **{**job, "name": "L2"}, sender=spam)
    assert refused.startswith("ERROR = 1") and "not an approved sender" in refused
    listed = _api(live, "senders", ip, **login, get="1", all="1")
    assert shop in listed and spam not in listed


def test_lift_an_ip_block_and_set_the_operator_flag(
    page: Page, browser: Any, live: Server, backend: str
) -> None:
    customer, password = live.account()
    ip = _ip()
    for _ in range(5):
        _api(live, "balance", ip, login=customer.login, psw="wrong")
    login = {"login": customer.login, "psw": password}
    assert _api(live, "balance", ip, **login) == "ERROR = 4 (ip is blocked)"

    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="IP blocks").click()
    row = page.locator(f'tr[data-ip="{ip}"]')
    expect(row).to_contain_text("auth failures")
    page.screenshot(path=str(ARTIFACTS / f"operator-blocks-{backend}.png"), full_page=True)
    row.get_by_role("button", name=f"Lift the block of {ip}").click()
    expect(page.get_by_role("status")).to_have_text(f"Block of {ip} lifted")
    expect(page.locator(f'tr[data-ip="{ip}"]')).to_have_count(0)
    assert _api(live, "balance", ip, **login) == "100.00"

    page.goto("/admin")
    _row(page, customer).get_by_role("button", name=f"Make operator {customer.login}").click()
    expect(page.get_by_role("status")).to_have_text(f"{customer.login} is an operator now")
    other, tab = _customer_tab(browser, live)
    try:
        _sign_in(tab, customer.login, password)
        tab.get_by_role("link", name="Admin").click()
        expect(tab).to_have_url(re.compile(r"/admin$"))
    finally:
        other.close()

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Account").fill(customer.login)
    page.get_by_role("button", name="Filter").click()
    actions = page.locator("table.audit tbody tr")
    expect(actions.first).to_have_attribute("data-action", "sign_in")
    expect(page.locator('tr[data-action="operator_flag"]')).to_contain_text(customer.login)
    page.screenshot(path=str(ARTIFACTS / f"operator-audit-{backend}.png"), full_page=True)
    page.goto("/admin/audit")
    expect(page.locator('tr[data-action="ip_unblocked"]').first).to_contain_text(ip)


def test_the_operator_pages_fit_a_phone(page: Page, live: Server, backend: str) -> None:
    live.account()  # a row in the accounts table at least
    page.set_viewport_size({"width": 400, "height": 800})
    for path in ("/admin", "/admin/senders", "/admin/blocks", "/admin/audit"):
        page.goto(path)
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > 400:
            page.screenshot(path=str(ARTIFACTS / f"operator-phone-{backend}.png"), full_page=True)
        assert wide <= 400, f"{path} is {wide} px wide on a 400 px screen"

"""The operator's admin section in a real browser against a live server (API, dispatcher and
the virtual upstream): credit an account, price a country, watch the upstreams' live state."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import Server
from tidings.domain.accounts import hash_password


@pytest.fixture
def page(browser: Any, live: Server) -> Iterator[Page]:
    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def test_operator_credits_an_account_prices_a_country_and_sees_upstreams(
    page: Page, live: Server, backend: str
) -> None:
    customer, _ = live.account(balance="10")
    password = secrets.token_urlsafe(10)
    login = f"op{secrets.token_hex(4)}"
    live.store.create_account(login, hash_password(password), live.clock.now(), is_operator=True)
    page.goto("/signin")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))

    page.get_by_role("link", name="Admin").click()
    row = page.locator(f"#account-{customer.id}")
    row.get_by_label(f"Amount for {customer.login}").fill("90.50")
    row.get_by_label("Memo").fill("Оплата по счёту №17")
    row.get_by_role("button", name="Credit").click()
    expect(page.get_by_role("status")).to_contain_text("balance 100.50")
    expect(page.locator(f"#account-{customer.id} .balance")).to_have_text("100.50 RUB")
    page.screenshot(path=str(ARTIFACTS / f"admin-accounts-{backend}.png"), full_page=True)

    page.get_by_role("link", name="Tariffs").click()
    name = f"Опт {secrets.token_hex(2)}"
    page.get_by_label("Name").fill(name)
    page.get_by_label("SMS part, any country").last.fill("1.50")
    page.get_by_label("E-mail").last.fill("0.05")
    page.get_by_role("button", name="Create").click()
    card = page.locator("section.tariff", has_text=name)
    card.get_by_label("Country code").fill("uz")
    card.get_by_label("Price").fill("4.20")
    card.get_by_role("button", name="Set country price").click()
    card = page.locator("section.tariff", has_text=name)
    expect(card.locator("table.countries")).to_contain_text("UZ")
    expect(card.locator("table.countries")).to_contain_text("4.20")
    page.screenshot(path=str(ARTIFACTS / f"admin-tariffs-{backend}.png"), full_page=True)

    page.get_by_role("link", name="Upstreams").click()
    # The live server's dispatcher reports the virtual upstream every couple of seconds.
    virtual = page.locator('tr.upstream[data-upstream="virtual"]').first
    expect(virtual).to_contain_text("bound", timeout=20_000)
    expect(virtual).not_to_contain_text("state unknown")
    page.screenshot(path=str(ARTIFACTS / f"admin-upstreams-{backend}.png"), full_page=True)

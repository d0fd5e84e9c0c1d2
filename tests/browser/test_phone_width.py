"""The cabinet on a phone (400 px wide, and 360): no page scrolls sideways — wide tables
scroll inside their own box — and the navigation fits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import Server

PAGES = [
    "/dashboard",
    "/send",
    "/lists",
    "/lists/new",
    "/history",
    "/contacts",
    "/blacklist",
    "/templates",
    "/inbox",
    "/account",
]


@pytest.fixture(params=[400, 360], ids=lambda w: f"{w}px")
def phone(browser: Any, live: Server, request: pytest.FixtureRequest) -> Iterator[Page]:
    assert isinstance(browser, Browser)
    width = request.param
    context = browser.new_context(base_url=live.url, viewport={"width": width, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def _sign_in(page: Page, live: Server) -> None:
    acc, psw = live.account(balance="50")
    page.goto("/signin")
    page.get_by_label("Login").fill(acc.login)
    page.get_by_label("Password").fill(psw)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    # A list, so the lists page has a row to lay out.
    page.goto("/lists/new")
    page.get_by_label("Name").fill("Весенняя акция для постоянных покупателей")
    page.get_by_label("Recipients").fill("79161234567, 79161234568")
    page.get_by_label("Message").fill("Скидка 20% до воскресенья")
    page.get_by_role("button", name="Preview cost").click()
    page.get_by_role("button", name="Create mailing list").click()
    expect(page).to_have_url(re.compile(r"/lists/\d+$"))


def test_no_page_scrolls_sideways_on_a_phone(phone: Page, live: Server, backend: str) -> None:
    _sign_in(phone, live)
    width = phone.viewport_size["width"] if phone.viewport_size else 400
    list_page = phone.url
    for path in [*PAGES, list_page]:
        phone.goto(path)
        overflow = phone.evaluate("document.documentElement.scrollWidth")
        if overflow > width:
            phone.screenshot(path=str(ARTIFACTS / f"phone-{width}-{backend}.png"), full_page=True)
        assert overflow <= width, f"{path} is {overflow} px wide on a {width} px screen"
    # The navigation takes at most two rows.
    header = phone.locator("header.top").bounding_box()
    assert header and header["height"] <= 2 * 56, f"the header is {header} high"

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
    "/groups",
    "/contacts/import",
    "/account",
    "/account/balance",
    "/account/keys",
    "/account/ips",
    "/account/callback",
    "/account/senders",
    "/account/stop-keywords",
    "/account/password",
    "/account/language",
    "/docs",
    "/no-such-page",
]
# One record's own page of each kind, found from its index (made through the API first).
DETAIL_PAGES = [
    ("/contacts", r"/contacts/\d+"),
    ("/groups", r"/groups/\d+"),
    ("/templates", r"/templates/\d+"),
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


def _records(live: Server, login: str, psw: str) -> None:
    """A contact in a group and a template, so their own pages have something to lay out."""
    for script, params in (
        ("phones", {"add_group": 1, "name": "Постоянные покупатели из Подмосковья"}),
        ("phones", {"add": 1, "phone": "79161234567", "name": "Константин Константинопольский"}),
        ("templates", {"add": 1, "name": "Напоминание о записи", "msg": "Ждём вас завтра"}),
    ):
        answer = live.client.get(
            f"/sys/{script}.php",
            params={"login": login, "psw": psw, "charset": "utf-8", "fmt": 3, **params},
        )
        assert '"id"' in answer.text, answer.text


def _detail_page(page: Page, index: str, pattern: str) -> str:
    page.goto(index)
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    found = [h for h in hrefs if re.fullmatch(pattern, h)]
    assert found, f"no link like {pattern} on {index}"
    return str(found[0])


def _sign_in(page: Page, live: Server) -> None:
    acc, psw = live.account(balance="50")
    _records(live, acc.login, psw)
    page.goto("/signin")
    _fits(page, "/signin")
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


def _fits(page: Page, path: str, backend: str = "") -> None:
    width = page.viewport_size["width"] if page.viewport_size else 400
    overflow = page.evaluate("document.documentElement.scrollWidth")
    if overflow > width:
        name = f"phone-{width}-{backend}-{re.sub(r'[^a-z0-9]+', '-', path)}.png"
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    assert overflow <= width, f"{path} is {overflow} px wide on a {width} px screen"


def test_no_page_scrolls_sideways_on_a_phone(phone: Page, live: Server, backend: str) -> None:
    _sign_in(phone, live)
    list_page = phone.url
    details = [_detail_page(phone, index, pattern) for index, pattern in DETAIL_PAGES]
    for path in [*PAGES, list_page, *details]:
        phone.goto(path)
        _fits(phone, path, backend)
    # The navigation takes at most two rows.
    header = phone.locator("header.top").bounding_box()
    assert header and header["height"] <= 2 * 56, f"the header is {header} high"

"""The inbox in a real browser against a live server (API, dispatcher, virtual upstream):
incoming SMS to the account's number, newest first, a search in Cyrillic that narrows the
table, paging to older messages, and the stop keywords edited on their page."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import Server
from tidings.channels.base import InboundPart
from tidings.config import InboundSettings
from tidings.dispatch.db_calls import DbCalls
from tidings.dispatch.inbound import InboundRecorder
from tidings.domain.clock import SystemClock
from tidings.domain.inbound import InboundService
from tidings.store.inbound_reads import InboundQueries


@pytest.fixture
def page(browser: Any, live: Server) -> Iterator[Page]:
    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def test_the_inbox_lists_searches_and_pages_incoming_sms(
    page: Page, live: Server, backend: str
) -> None:
    acc, psw = live.account()
    number = f"7900{secrets.randbelow(10**7):07d}"
    InboundService(InboundQueries(live.store.db)).assign(number, acc, live.clock.now())
    db = live.store.db
    recorder = InboundRecorder(db, SystemClock(), DbCalls(db), InboundSettings())
    parts = [
        InboundPart("sim", f"7916{i:07d}", number, f"Ответ {i}", secrets.token_hex(8))
        for i in range(60)
    ]
    parts.append(InboundPart("sim", "79169876543", number, "Когда доставка?", "last"))
    recorder.record(parts)

    page.goto("/signin")
    page.get_by_label("Login").fill(acc.login)
    page.get_by_label("Password").fill(psw)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.get_by_role("link", name="Inbox", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("^Inbox"))).to_be_visible()
    rows = page.locator("table.inbox tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("Когда доставка?")  # newest first
    expect(rows.first).to_contain_text("79169876543")
    page.screenshot(path=str(ARTIFACTS / f"inbox-{backend}.png"), full_page=True)

    page.get_by_role("link", name="older →").click()
    expect(rows).to_have_count(11)
    expect(rows.last).to_contain_text("Ответ 0")

    page.get_by_label("Search").fill("ДОСТАВКА")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Когда доставка?")
    page.get_by_label("Search").fill("+79160000007")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ответ 7")

    page.get_by_role("link", name="Stop keywords").first.click()
    page.get_by_label(re.compile("^Keywords")).fill("Хватит\nhalt")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Stop keywords saved.")
    expect(page.locator("#current-keywords")).to_have_text("хватит, halt")

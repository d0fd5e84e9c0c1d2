"""Importing a 10,000-row contacts CSV in a real browser (Debian Chromium via Playwright):
the upload, the progress bar polled to 100%, the report naming the bad row's line."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import Server
from tidings.store.contacts import ContactStore

ROWS = 10_000
BAD_LINE = 5_001  # the header is line 1, so data row n is line n + 1


@pytest.fixture
def page(browser: Any, live: Server) -> Iterator[Page]:
    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def _csv(path: Path) -> Path:
    lines = ["phone;name;email"]
    for n in range(1, ROWS + 1):
        if n + 1 == BAD_LINE:
            lines.append("12-34;Неверный номер;")
        else:
            lines.append(f"+7 (926) {n // 10000:03d}-{n % 10000:04d};Абонент №{n};")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_ten_thousand_rows_with_one_bad(
    page: Page, live: Server, backend: str, tmp_path: Path
) -> None:
    acc, psw = live.account()
    page.goto("/signin")
    page.get_by_label("Login").fill(acc.login)
    page.get_by_label("Password").fill(psw)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))

    page.get_by_role("link", name="Contacts").first.click()
    expect(page.get_by_role("heading", name=re.compile("^Contacts"))).to_be_visible()
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("File").set_input_files(str(_csv(tmp_path / "contacts.csv")))
    started = time.monotonic()
    page.get_by_role("button", name="Import").click()
    expect(page).to_have_url(re.compile(r"/contacts/import/[\w-]+$"))
    page.screenshot(path=str(ARTIFACTS / f"contacts-import-running-{backend}.png"))

    bar = page.get_by_role("progressbar")
    # Within the same 30 s the test allows the whole import (a busy PostgreSQL needs >5 s).
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=30_000)
    expect(page.locator("#import-percent")).to_have_text("100%")
    took = time.monotonic() - started
    expect(page.locator("#import-added")).to_have_text(str(ROWS - 1))
    expect(page.locator("#import-rejected")).to_have_text("1")
    rejected = page.locator("table.rejected tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.locator("td.line")).to_have_text(str(BAD_LINE))
    expect(rejected.locator("td.message")).to_contain_text("not a phone number: 12-34")
    page.screenshot(path=str(ARTIFACTS / f"contacts-import-done-{backend}.png"), full_page=True)
    assert took < 30, f"the import took {took:.1f} s"

    assert ContactStore(live.store.db).count_contacts(acc.id) == ROWS - 1
    page.get_by_role("link", name="← All contacts").click()
    expect(page.get_by_text(f"{ROWS - 1:,} in all")).to_be_visible()
    expect(page.get_by_text("Абонент №1", exact=True)).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"contacts-list-{backend}.png"), full_page=True)

"""The cabinet in a real browser (Debian Chromium via Playwright) against a live server:
API, dispatcher and the virtual upstream of test mode. Screenshots go to artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.screenshots import (
    README_IMAGES,
    UPDATE_README_SCREENSHOT,
    readme_screenshot,
    shot,
)
from tests.conftest import Server
from tidings.domain.sms import segment_count, split_comment


@pytest.fixture
def page(browser: Any, live: Server, request: pytest.FixtureRequest) -> Iterator[Page]:
    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def _sign_in(page: Page, live: Server) -> tuple[int, str]:
    acc, psw = live.account(balance="50")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.get_by_label("Login").fill(acc.login)
    page.get_by_label("Password").fill(psw)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text(acc.login)).to_be_visible()
    return acc.id, acc.login


def test_sign_in_with_a_wrong_password_then_the_right_one(page: Page, live: Server) -> None:
    acc, psw = live.account()
    page.goto("/signin")
    page.get_by_label("Login").fill(acc.login)
    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong login or password.")
    page.get_by_label("Password").fill(psw)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def test_a_refused_form_marks_the_field_the_error_names(
    page: Page, live: Server, backend: str
) -> None:
    _sign_in(page, live)
    page.get_by_role("link", name="New mailing list").click()
    page.get_by_label("Name").fill("No one")
    page.get_by_label("Message").fill("Hello")
    page.get_by_role("button", name="Preview cost").click()
    expect(page.locator("#preview .error")).to_contain_text("phones")
    recipients = page.get_by_label("Recipients")
    expect(recipients).to_have_attribute("aria-invalid", "true")
    expect(recipients).to_be_focused()
    shot(page, "field-marked", backend)
    # Put right, the mark goes with the next answer.
    recipients.fill("79161234567")
    page.get_by_role("button", name="Preview cost").click()
    expect(page.locator("#cost")).to_be_visible()
    expect(recipients).not_to_have_attribute("aria-invalid", "true")


def test_create_a_list_of_three_and_watch_it_finish(page: Page, live: Server, backend: str) -> None:
    _sign_in(page, live)
    page.get_by_role("link", name="New mailing list").click()
    page.get_by_label("Name").fill("Весенняя акция")
    page.get_by_label("Recipients").fill("79161234567\n79161234568\n79161234569")
    page.get_by_label("Message").fill("Скидка 20% до воскресенья")
    # The live counter, computed in the page as the text is typed.
    expect(page.locator("#mes-counter")).to_have_text("25 characters · UCS-2 · 1 SMS part")
    page.get_by_role("button", name="Preview cost").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("25 characters · UCS-2 · 1 SMS part")
    expect(page.locator("#cost")).to_have_text("5.40 RUB")  # 3 × 1.80
    shot(page, "cost-preview", backend)
    page.get_by_role("button", name="Create mailing list").click()
    expect(page).to_have_url(re.compile(r"/lists/\d+$"))
    job_id = page.url.rsplit("/", 1)[1]

    page.get_by_role("link", name="Mailing lists").click()
    page.evaluate("window.notReloaded = true")
    row = page.locator(f"#list-{job_id}")
    expect(row).to_have_attribute("data-status", "finished")
    bar = row.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(row).to_contain_text("delivered 3")
    assert page.evaluate("window.notReloaded") is True  # htmx refreshed the rows in place
    shot(page, "lists-finished", backend)
    if UPDATE_README_SCREENSHOT and backend == "sqlite":
        readme_screenshot(page, live, README_IMAGES / "cabinet.png", "Weekly digest")

    page.locator(f"#list-{job_id}").get_by_role("link", name="Весенняя акция").click()
    expect(page.locator("#job-status")).to_have_text("finished")
    expect(page.locator("table.recipients tbody tr")).to_have_count(3)
    expect(page.locator("svg.chart")).to_be_visible()
    shot(page, "list-page", backend)


def test_progress_moves_without_reload(page: Page, live: Server, backend: str) -> None:
    """A list that starts in a minute is waiting; cancelled from its page, the table shows
    it disabled without the page being reloaded."""
    _sign_in(page, live)
    page.goto("/lists/new")
    page.get_by_label("Name").fill("Later")
    page.get_by_label("Recipients").fill("79161234567")
    page.get_by_label("Message").fill("Hello")
    page.get_by_label("Start").fill("+1")
    page.get_by_role("button", name="Preview cost").click()
    page.get_by_role("button", name="Create mailing list").click()
    expect(page.locator("#job-status")).to_have_text("waiting")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#job-status")).to_have_text("disabled")
    expect(page.get_by_role("status")).to_contain_text("cancelled")


def test_revoke_an_api_key(page: Page, live: Server, backend: str) -> None:
    _sign_in(page, live)
    page.get_by_role("link", name="API keys").click()
    page.get_by_role("button", name="Create API key").click()
    key = page.locator("#new-key .secret").inner_text()
    assert key.startswith("tk_")
    assert live.call("jobs", apikey=key, get_all=1) == "NO JOBS"
    shot(page, "api-key-created", backend)
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_have_text("API key revoked.")
    expect(page.locator("table.keys")).to_contain_text("revoked")
    expect(page.locator("#new-key")).to_have_count(0)  # shown once only
    assert live.call("jobs", apikey=key, get_all=1) == "ERROR = 2 (authorise error)"
    shot(page, "api-key-revoked", backend)


# Texts where counting goes wrong easily: the GSM-7 extension table (two septets each), the
# 160/153 and 70/67 boundaries, astral characters (surrogate pairs), the `~~~` comment.
COUNTER_TEXTS = [
    "Hello",
    "€" * 80,
    "€" * 81,
    "a" * 160,
    "a" * 161,
    "{" + "a" * 152 + "}",
    "Привет" * 11 + "Прив",
    "Привет" * 12,
    "😀" * 35,
    "😀" * 36,
    "Hello\n~~~\nстоимость не считается",
]


def test_the_live_counter_agrees_with_the_server(page: Page, live: Server) -> None:
    _sign_in(page, live)
    page.goto("/lists/new")
    page.get_by_label("Name").fill("Counter")
    page.get_by_label("Recipients").fill("79161234567")
    box = page.get_by_label("Message")
    for text in COUNTER_TEXTS:
        box.fill(text)
        live_figures = page.locator("#mes-counter").inner_text()
        page.get_by_role("button", name="Preview cost").click()
        expect(page.locator("#preview dd").nth(1)).to_have_text(live_figures)
        body = split_comment(text)[0]
        seg = segment_count(body)
        parts = f"{seg.parts} SMS part{'s' if seg.parts != 1 else ''}"
        assert live_figures.endswith(parts), (text, live_figures)


def test_delete_asks_first(page: Page, live: Server, backend: str) -> None:
    _sign_in(page, live)
    page.goto("/lists/new")
    page.get_by_label("Name").fill("To delete")
    page.get_by_label("Recipients").fill("79161234567")
    page.get_by_label("Message").fill("Hello")
    page.get_by_label("Start").fill("+60")
    page.get_by_role("button", name="Preview cost").click()
    page.get_by_role("button", name="Create mailing list").click()
    expect(page.locator("#job-status")).to_have_text("waiting")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("#job-status")).to_have_text("waiting")  # said no: still there
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"/lists$"))
    expect(page.get_by_role("status")).to_contain_text("deleted")
    expect(page.get_by_text("To delete")).to_have_count(0)

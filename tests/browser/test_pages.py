"""The dashboard, sending one message, the history with its search and CSV, and an e-mail
list through a real SMTP server (aiosmtpd), in Debian Chromium against a live server — each
in Russian and in English (the browser's language; the texts from tests/browser/words.py)."""

from __future__ import annotations

import csv
import io
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from playwright.sync_api import Page, expect

from tests.browser.conftest import _tabs_in
from tests.browser.screenshots import shot
from tests.browser.words import LOCALES, PageIn, Speech, sign_in
from tests.conftest import Server, drop_database, fresh_database_url, start_live
from tidings.domain.lifecycle import JobStatus, MessageStatus


@pytest.fixture
def page(page_in: PageIn) -> Page:
    """An English tab (the tests that are not about the language)."""
    return page_in("en-US")


def _new_list(page: Page, say: Speech, name: str, recipients: str, message: str) -> str:
    page.goto("/lists/new")
    page.get_by_label(say["name"]).fill(name)
    page.get_by_label(say["recipients"]).fill(recipients)
    page.get_by_label(say["message"]).fill(message)
    page.get_by_role("button", name=say["preview"]).click()
    page.get_by_role("button", name=say["create"]).click()
    expect(page).to_have_url(re.compile(r"/lists/\d+$"))
    return page.url.rsplit("/", 1)[1]


def _reload_until(page: Page, selector: str, count: int) -> None:
    """The history is not live: reload until the dispatcher has finished the messages."""
    for _ in range(60):
        if page.locator(selector).count() == count:
            return
        page.wait_for_timeout(250)
        page.reload()
    expect(page.locator(selector)).to_have_count(count)


def _send(page: Page, say: Speech, phones: str, text: str) -> None:
    page.goto("/send")
    page.get_by_label(say["recipients"]).fill(phones)
    page.get_by_label(say["message"]).fill(text)
    page.get_by_role("button", name=say["send"], exact=True).click()


@pytest.mark.parametrize("locale", LOCALES)
def test_the_dashboard_shows_figures_after_a_list_ran(
    page_in: PageIn, live: Server, backend: str, locale: str
) -> None:
    say = Speech(locale)
    page = page_in(locale)
    sign_in(page, live, say)
    expect(page.locator("#today")).to_contain_text(say["today"])
    expect(page.locator("#today .messages")).to_have_text("0")
    expect(page.locator("#today .spend")).to_have_text(say.money("0.00"))
    _new_list(page, say, say["dashboard"], "79161234567, 79161234568", "Привет")
    expect(page.locator("#job-status")).to_have_text(say.job_status(JobStatus.FINISHED))
    page.locator("header nav").get_by_role("link", name=say["dashboard"], exact=True).click()
    today = page.locator("#today")
    expect(today.locator(".messages")).to_have_text("2")
    expect(today.locator(".delivered")).to_have_text("100%")
    expect(today.locator(".spend")).to_have_text(say.money("3.60"))  # 2 × 1.80, test mode
    expect(page.locator("#month .messages")).to_have_text("2")
    shot(page, f"dashboard-{locale}", backend)


@pytest.mark.parametrize("locale", LOCALES)
def test_send_one_then_find_it_in_the_history(
    page_in: PageIn, live: Server, backend: str, locale: str
) -> None:
    say = Speech(locale)
    page = page_in(locale)
    sign_in(page, live, say)
    menu = page.locator("header nav")
    menu.get_by_role("link", name=say["send link"], exact=True).click()
    page.get_by_label(say["recipients"]).fill("+7 916 765-43-21")
    page.get_by_label(say["message"]).fill("Ваш код 1234")
    page.get_by_role("button", name=say["send"], exact=True).click()
    expect(page.locator("#sent-parts")).to_have_text("1")
    expect(page.locator("#sent-cost")).to_have_text(f"{say.money('1.80')} RUB")
    message_id = page.locator("#sent-id").inner_text()
    shot(page, f"send-one-{locale}", backend)
    page.get_by_role("link", name=say["see in history"]).click()
    expect(page.get_by_role("heading", name=say["history"])).to_be_visible()
    _reload_until(page, f"#message-{message_id}[data-status='1']", 1)
    row = page.locator(f"#message-{message_id}")
    expect(row).to_contain_text("79167654321")
    expect(row).to_contain_text("Ваш код 1234")
    expect(row).to_contain_text(say.delivered)  # the virtual upstream delivers in 20 ms
    shot(page, f"history-{locale}", backend)


def test_a_refused_send_marks_its_field(page: Page, live: Server, backend: str) -> None:
    say = Speech("en-US")
    sign_in(page, live, say)
    _send(page, say, "not a number", "Hello")
    expect(page.locator("#send-result .error")).to_be_visible()
    recipients = page.get_by_label("Recipients")
    expect(recipients).to_have_attribute("aria-invalid", "true")
    expect(recipients).to_be_focused()
    shot(page, "send-refused", backend)
    page.get_by_label("E-mail", exact=True).check()
    expect(page.get_by_label("Subject")).to_be_visible()
    recipients.fill("someone@example.com")
    page.get_by_role("button", name="Send", exact=True).click()
    subject = page.get_by_label("Subject")
    expect(subject).to_have_attribute("aria-invalid", "true")
    expect(recipients).not_to_have_attribute("aria-invalid", "true")


@pytest.mark.parametrize("locale", LOCALES)
def test_history_search_and_its_csv(
    page_in: PageIn, live: Server, backend: str, locale: str
) -> None:
    say = Speech(locale)
    page = page_in(locale)
    sign_in(page, live, say)
    for phone, text in (("79161110001", "Первое"), ("79161110002", "Второе")):
        _send(page, say, phone, text)
        expect(page.locator("#sent-id")).to_be_visible()
    _send(page, say, "79161110001", "Третье")
    expect(page.locator("#sent-id")).to_be_visible()
    page.goto("/history")
    _reload_until(page, "table.history tbody tr[data-status='1']", 3)
    page.get_by_label(say["phone or e-mail"]).fill("+7 916 111-00-01")
    page.get_by_role("button", name=say["search"]).click()
    rows = page.locator("table.history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Третье")
    status = page.get_by_label(say["status"])
    status.select_option(label=say.message_status(MessageStatus.UNDELIVERABLE))
    page.get_by_role("button", name=say["search"]).click()
    expect(page.locator("table.history tbody td.empty")).to_be_visible()
    page.get_by_label(say["status"]).select_option(label=say.delivered)
    page.get_by_role("button", name=say["search"]).click()
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(say.delivered)
    shot(page, f"history-search-{locale}", backend)
    with page.expect_download() as info:
        page.get_by_role("link", name=say["download csv"]).click()
    body = Path(info.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("id,time,phone,sender,status")
    found = list(csv.DictReader(io.StringIO(text)))
    assert [r["phone"] for r in found] == ["79161110001", "79161110001"]
    assert "Третье" in text.splitlines()[1] and "Первое" in text.splitlines()[2]
    # The status names are domain/status_names.py's, in the visit's language.
    assert {r["status_name"] for r in found} == {say.delivered}


class Relay:
    """Takes every message and keeps (recipient, body)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for rcpt in envelope.rcpt_tos:
            self.received.append((rcpt, bytes(envelope.content or b"")))
        return "250 Message accepted"


@pytest.fixture(scope="module")
def relay() -> Iterator[tuple[Relay, int]]:
    handler = Relay()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(scope="module")
def mail_live(
    backend: str, relay: tuple[Relay, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A live server whose e-mail goes to the relay (live accounts: test mode would keep
    it on the virtual upstream)."""
    url = fresh_database_url(backend, tmp_path_factory.mktemp(f"mail-{backend}"))
    uv, thread, srv = start_live(
        url, smtp=[{"name": "relay", "host": "127.0.0.1", "port": relay[1]}]
    )
    yield srv
    srv.client.close()
    uv.should_exit = True
    thread.join(30)
    srv.store.close()
    drop_database(url)


@pytest.fixture
def mail_page_in(browser: Any, mail_live: Server) -> Iterator[PageIn]:
    yield from _tabs_in(browser, mail_live)


@pytest.mark.parametrize("locale", LOCALES)
def test_an_e_mail_list_goes_out_through_smtp_and_finishes(
    mail_page_in: PageIn,
    mail_live: Server,
    relay: tuple[Relay, int],
    backend: str,
    locale: str,
) -> None:
    say = Speech(locale)
    tab = mail_page_in(locale)
    sign_in(tab, mail_live, say, test_mode=False)
    tab.goto("/lists/new")
    tab.get_by_label(say["name"]).fill("Новости")
    tab.get_by_label(say["e-mail"], exact=True).check()
    expect(tab.get_by_label(say["sender"])).to_be_hidden()
    # Addresses of this backend's and language's run: the relay serves them all.
    wanted = [f"anna-{backend}-{locale}@example.org", f"boris-{backend}-{locale}@example.org"]
    tab.get_by_label(say["recipients"]).fill("\n".join(wanted))
    tab.get_by_label(say["from address"]).fill("shop@example.net")
    tab.get_by_label(say["subject"]).fill("Новая коллекция")
    tab.get_by_label(say["message"]).fill("Здравствуйте! Новая коллекция уже в магазине.")
    tab.get_by_role("button", name=say["preview"]).click()
    expect(tab.locator("#channel")).to_have_text(say["channel e-mail"])
    expect(tab.locator("#cost")).to_have_text(f"{say.money('0.20')} RUB")  # 2 × 0.10
    shot(tab, f"mail-list-preview-{locale}", backend)
    tab.get_by_role("button", name=say["create"]).click()
    expect(tab).to_have_url(re.compile(r"/lists/\d+$"))
    finished = say.job_status(JobStatus.FINISHED)
    expect(tab.locator("#job-status")).to_have_text(finished, timeout=60_000)
    expect(tab.locator("#recipients tbody tr")).to_have_count(2)
    shot(tab, f"mail-list-finished-{locale}", backend)
    got = sorted(r for r, _ in relay[0].received if r in wanted)
    assert got == wanted

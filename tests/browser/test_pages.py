"""The dashboard, sending one message, the history with its search and CSV, and an e-mail
list through a real SMTP server (aiosmtpd), in Debian Chromium against a live server."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from playwright.sync_api import Browser, Page, expect

from tests.browser.screenshots import shot
from tests.conftest import Server, drop_database, fresh_database_url, start_live


@pytest.fixture
def page(browser: Any, live: Server) -> Iterator[Page]:
    yield from _tab(browser, live)


def _tab(browser: Any, server: Server) -> Iterator[Page]:
    assert isinstance(browser, Browser)
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1280, "height": 800}, accept_downloads=True
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def _sign_in(page: Page, server: Server, *, test_mode: bool = True) -> str:
    acc, psw = server.account(balance="50", test_mode=test_mode)
    page.goto("/signin")
    page.get_by_label("Login").fill(acc.login)
    page.get_by_label("Password").fill(psw)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    return acc.login


def _new_list(page: Page, name: str, recipients: str, message: str) -> str:
    page.goto("/lists/new")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Recipients").fill(recipients)
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Preview cost").click()
    page.get_by_role("button", name="Create mailing list").click()
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


def _send(page: Page, phones: str, text: str) -> None:
    page.goto("/send")
    page.get_by_label("Recipients").fill(phones)
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def test_the_dashboard_shows_figures_after_a_list_ran(
    page: Page, live: Server, backend: str
) -> None:
    _sign_in(page, live)
    expect(page.locator("#today .messages")).to_have_text("0")
    _new_list(page, "Dashboard", "79161234567, 79161234568", "Привет")
    expect(page.locator("#job-status")).to_have_text("finished")
    page.get_by_role("link", name="Dashboard").click()
    today = page.locator("#today")
    expect(today.locator(".messages")).to_have_text("2")
    expect(today.locator(".delivered")).to_have_text("100%")
    expect(today.locator(".spend")).to_have_text("3.60")  # 2 × 1.80, priced in test mode
    expect(page.locator("#month .messages")).to_have_text("2")
    shot(page, "dashboard", backend)


def test_send_one_then_find_it_in_the_history(page: Page, live: Server, backend: str) -> None:
    _sign_in(page, live)
    _send(page, "+7 916 765-43-21", "Ваш код 1234")
    expect(page.locator("#sent-parts")).to_have_text("1")
    expect(page.locator("#sent-cost")).to_have_text("1.80 RUB")
    message_id = page.locator("#sent-id").inner_text()
    shot(page, "send-one", backend)
    page.get_by_role("link", name="See it in the history").click()
    _reload_until(page, f"#message-{message_id}[data-status='1']", 1)
    row = page.locator(f"#message-{message_id}")
    expect(row).to_contain_text("79167654321")
    expect(row).to_contain_text("Ваш код 1234")
    expect(row).to_contain_text("delivered")  # the virtual upstream delivers in 20 ms
    shot(page, "history", backend)


def test_a_refused_send_marks_its_field(page: Page, live: Server, backend: str) -> None:
    _sign_in(page, live)
    _send(page, "not a number", "Hello")
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


def test_history_search_and_its_csv(page: Page, live: Server, backend: str) -> None:
    _sign_in(page, live)
    for phone, text in (("79161110001", "Первое"), ("79161110002", "Второе")):
        _send(page, phone, text)
        expect(page.locator("#sent-id")).to_be_visible()
    _send(page, "79161110001", "Третье")
    expect(page.locator("#sent-id")).to_be_visible()
    page.goto("/history")
    _reload_until(page, "table.history tbody tr[data-status='1']", 3)
    page.get_by_label("Phone or e-mail").fill("+7 916 111-00-01")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Третье")
    page.get_by_label("Status").select_option(label="undeliverable")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.history tbody td.empty")).to_be_visible()
    page.get_by_label("Status").select_option(label="delivered")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(2)
    shot(page, "history-search", backend)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    body = Path(info.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,time,phone,sender,status")
    assert len(lines) == 3 and all("79161110001" in line for line in lines[1:])
    assert "Третье" in lines[1] and "Первое" in lines[2]


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
def mail_page(browser: Any, mail_live: Server) -> Iterator[Page]:
    yield from _tab(browser, mail_live)


def test_an_e_mail_list_goes_out_through_smtp_and_finishes(
    mail_page: Page, mail_live: Server, relay: tuple[Relay, int], backend: str
) -> None:
    tab = mail_page
    _sign_in(tab, mail_live, test_mode=False)
    tab.goto("/lists/new")
    tab.get_by_label("Name").fill("Новости")
    tab.get_by_label("E-mail", exact=True).check()
    expect(tab.get_by_label("Sender")).to_be_hidden()
    # Addresses of this backend's run: the relay serves both.
    wanted = [f"anna-{backend}@example.org", f"boris-{backend}@example.org"]
    tab.get_by_label("Recipients").fill("\n".join(wanted))
    tab.get_by_label("From address").fill("shop@example.net")
    tab.get_by_label("Subject").fill("Новая коллекция")
    tab.get_by_label("Message").fill("Здравствуйте! Новая коллекция уже в магазине.")
    tab.get_by_role("button", name="Preview cost").click()
    expect(tab.locator("#channel")).to_have_text("e-mail")
    expect(tab.locator("#cost")).to_have_text("0.20 RUB")  # 2 × 0.10
    shot(tab, "mail-list-preview", backend)
    tab.get_by_role("button", name="Create mailing list").click()
    expect(tab).to_have_url(re.compile(r"/lists/\d+$"))
    expect(tab.locator("#job-status")).to_have_text("finished", timeout=60_000)
    shot(tab, "mail-list-finished", backend)
    got = sorted(r for r, _ in relay[0].received if r in wanted)
    assert got == wanted

"""The cabinet in a real browser (Debian Chromium via Playwright) against a live server:
API, dispatcher and the virtual upstream of test mode. Screenshots go to artifacts/."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.screenshots import (
    README_IMAGES,
    UPDATE_README_SCREENSHOT,
    readme_screenshot,
    shot,
)
from tests.browser.words import LOCALES, PageIn, Speech, sign_in
from tests.conftest import Server
from tidings.domain.lifecycle import JobStatus
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


# A refusal under the form, in the page's language (the API's words in English).
REQUIRED_PHONES = {"ru-RU": "Получатели: обязательное поле", "en-US": "phones: required"}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_refused_form_marks_the_field_the_error_names(
    page_in: PageIn, live: Server, backend: str, locale: str
) -> None:
    say = Speech(locale)
    page = page_in(locale)
    sign_in(page, live, say)
    page.get_by_role("link", name=say["lists"], exact=True).click()
    page.get_by_role("link", name=say["new list"]).click()
    page.get_by_label(say["name"]).fill("No one")
    page.get_by_label(say["message"]).fill("Hello")
    page.get_by_role("button", name=say["preview"]).click()
    expect(page.locator("#preview .error")).to_have_text(REQUIRED_PHONES[locale])
    recipients = page.get_by_label(say["recipients"])
    expect(recipients).to_have_attribute("aria-invalid", "true")
    expect(recipients).to_be_focused()
    shot(page, f"field-marked-{locale}", backend)
    # Put right, the mark goes with the next answer.
    recipients.fill("79161234567")
    page.get_by_role("button", name=say["preview"]).click()
    expect(page.locator("#cost")).to_be_visible()
    expect(recipients).not_to_have_attribute("aria-invalid", "true")


# Every time the list's live part is drawn (the page, then each poll htmx swaps in), what it
# shows, read in the page itself so that no poll is missed between two Playwright calls.
_RECORD_LIVE_PARTS = """
window.liveParts = [];
function recordLiveParts() {
  const live = document.getElementById('progress');
  if (!live) return;
  const text = (sel) => {
    const el = live.querySelector(sel);
    return el ? el.textContent.trim() : null;
  };
  const chartTexts = [...live.querySelectorAll('svg.chart text')];
  const cost = live.querySelector('#cost-so-far');
  window.liveParts.push({
    status: text('#job-status'),
    polling: live.hasAttribute('hx-get'),
    cancel: live.querySelector('form[action$="/cancel"] button') !== null,
    percent: live.querySelector('[role=progressbar]').getAttribute('aria-valuenow'),
    pct: text('.counts .pct'),
    waiting: text('.c-waiting'), sent: text('.c-sent'),
    delivered: text('.c-delivered'), failed: text('.c-failed'),
    stats: [...live.querySelectorAll('.stats .stat')].map((s) => {
      const b = s.querySelector('b').textContent;
      return [b.trim(), s.textContent.replace(b, '').trim()];
    }),
    lastSent: text('#last-sent'),
    cost: cost ? cost.firstChild.textContent.trim() : null,
    chart: chartTexts.length ? chartTexts[chartTexts.length - 1].textContent.trim() : null,
    noDeliveries: text('p.counter'),
    recipients: [...document.querySelectorAll('#recipients tbody tr')].map((tr) =>
      tr.querySelector('td.empty') ? null : tr.children[1].textContent.trim()),
  });
}
document.addEventListener('DOMContentLoaded', recordLiveParts);
document.addEventListener('htmx:afterSettle', recordLiveParts);
"""


def _count(text: str) -> int:
    """The number in "delivered 3", "доставлено 3"."""
    found = re.search(r"\d[\d\s\u00a0]*", text)
    assert found, text
    return int(re.sub(r"\D", "", found.group()))


def _check_live_parts(say: Speech, part: dict[str, Any], total: int, price: float) -> None:
    """One drawing of the live part agrees with itself: counts, percentage, per-status
    figures, cost so far, last sent, the chart or its "no deliveries yet", the Cancel button."""
    waiting, sent = _count(part["waiting"]), _count(part["sent"])
    delivered, failed = _count(part["delivered"]), _count(part["failed"])
    assert waiting + sent + delivered + failed == total, part
    assert part["delivered"] == say["delivered n"].format(n=delivered), part
    percent = 100 * (delivered + failed) // total
    assert part["percent"] == str(percent) and part["pct"] == f"{percent}%", part
    stats = {name: _count(figure) for figure, name in part["stats"]}
    assert sum(stats.values()) == total, part
    if say["not started"] in stats:
        assert waiting == total, part
    else:
        assert stats.get(say.delivered, 0) == delivered, part
    handed_over = sent + delivered + failed
    assert (part["lastSent"] == "—") == (handed_over == 0), part
    # Charged when claimed: every message handed over, and none beyond the list.
    cost = float(part["cost"].split()[0].replace(",", "."))
    charged = round(cost / price)
    assert abs(charged * price - cost) < 0.005, part
    assert handed_over <= charged <= total, part
    if waiting == 0:
        assert charged == total, part
    if delivered:
        assert part["chart"] == say["chart delivered n"].format(n=delivered), part
        assert part["noDeliveries"] is None, part
    else:
        assert part["chart"] is None and part["noDeliveries"] == say["no deliveries"], part
    # The recipients' page (one page holds them all): a row per message, in its status.
    rows = part["recipients"]
    if rows == [None]:
        assert stats == {say["not started"]: total}, part
    else:
        assert len(rows) == total and rows.count(say.delivered) == delivered, part
        assert {name: rows.count(name) for name in set(rows)} == stats, part
    running = part["status"] in {say.job_status(s) for s in (JobStatus.WAITING, JobStatus.SENDING)}
    assert part["cancel"] is running, part
    assert part["polling"] is (running or waiting > 0 or sent > 0), part


@pytest.mark.parametrize("locale", LOCALES)
def test_a_list_with_a_refused_number_watched_to_the_end(
    page_in: PageIn, live: Server, backend: str, locale: str
) -> None:
    """Six numbers, one not a number: the preview names it and why, and the list of five
    is watched until it has finished, every live part agreeing with the others each time
    it is drawn; then its recipients and their CSV."""
    say = Speech(locale)
    page = page_in(locale)
    page.add_init_script(_RECORD_LIVE_PARTS)
    sign_in(page, live, say)
    page.get_by_role("link", name=say["lists"], exact=True).click()
    page.get_by_role("link", name=say["new list"]).click()
    page.get_by_label(say["name"]).fill("Весенняя акция")
    phones = [f"7916123456{n}" for n in range(5)]
    page.get_by_label(say["recipients"]).fill("\n".join([*phones[:3], "00000", *phones[3:]]))
    page.get_by_label(say["message"]).fill("Скидка 20% до воскресенья")
    # The live counter, computed in the page as the text is typed, agrees with the server.
    expect(page.locator("#mes-counter")).to_have_text(say["counter"])
    page.get_by_role("button", name=say["preview"]).click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text(say["counter"])
    expect(page.locator("#refused")).to_have_text(say["left out"].format(item="00000"))
    expect(page.locator("#cost")).to_have_text(f"{say.money('9.00')} RUB")  # 5 × 1.80
    shot(page, f"cost-preview-{locale}", backend)
    page.get_by_role("button", name=say["create"]).click()
    expect(page).to_have_url(re.compile(r"/lists/\d+$"))
    expect(page.get_by_role("status")).to_contain_text(say["created"])
    job_id = page.url.rsplit("/", 1)[1]

    # Watched to the end: polling stops once the list has finished and every message is final.
    live_part = page.locator("#progress")
    expect(page.locator("#job-status")).to_have_text(say.job_status(JobStatus.FINISHED))
    expect(live_part).not_to_have_attribute("hx-get", re.compile(".*"), timeout=60_000)
    parts = page.evaluate("window.liveParts")
    assert parts, "the live part was never recorded"
    for part in parts:
        _check_live_parts(say, part, total=5, price=1.80)
    assert _count(parts[-1]["delivered"]) == 5
    expect(page.get_by_role("button", name=say["cancel"])).to_have_count(0)
    expect(page.locator("svg.chart")).to_be_visible()
    expect(page.locator("table.recipients tbody tr")).to_have_count(5)
    expect(page.locator("table.recipients")).to_contain_text(say.delivered)
    expect(page.locator("table.recipients")).not_to_contain_text("00000")
    shot(page, f"list-page-{locale}", backend)
    with page.expect_download() as download:
        page.get_by_role("link", name=say["export csv"]).click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["phone"] for r in rows) == phones, rows
    assert {r["status_name"] for r in rows} == {say.delivered}

    page.get_by_role("link", name=say["lists"], exact=True).click()
    page.evaluate("window.notReloaded = true")
    row = page.locator(f"#list-{job_id}")
    expect(row).to_have_attribute("data-status", say.job_status(JobStatus.FINISHED))
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(row).to_contain_text(say["delivered n"].format(n=5))
    assert page.evaluate("window.notReloaded") is True  # htmx refreshed the rows in place
    shot(page, f"lists-finished-{locale}", backend)
    if UPDATE_README_SCREENSHOT and backend == "sqlite":
        image, weekly = README_SHOTS[locale]
        readme_screenshot(page, live, README_IMAGES / image, weekly)


# The README's screenshots of the lists page: its file and the repeated list's name.
README_SHOTS = {
    "ru-RU": ("cabinet-ru.png", "Еженедельная рассылка"),
    "en-US": ("cabinet.png", "Weekly digest"),
}


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

"""The cabinet in Russian and in English in a real browser: the browser's language
(Playwright's locale sets Accept-Language), the Language page, a list's page and its CSV.
The README's screenshot of the Russian cabinet is taken here (TIDINGS_UPDATE_SCREENSHOT=1)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.screenshots import (
    README_IMAGES,
    UPDATE_README_SCREENSHOT,
    readme_screenshot,
    shot,
)
from tests.conftest import Server

PageIn = Callable[[str], Page]


@pytest.fixture
def page_in(browser: Any, live: Server) -> Iterator[PageIn]:
    """A tab whose browser speaks the given locale ("ru-RU", "en-US")."""
    assert isinstance(browser, Browser)
    contexts = []

    def open_tab(locale: str) -> Page:
        context = browser.new_context(
            base_url=live.url, viewport={"width": 1280, "height": 800}, locale=locale
        )
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        return tab

    yield open_tab
    for context in contexts:
        context.close()


def _sign_in(page: Page, live: Server, login_label: str, button: str) -> tuple[str, str]:
    """A new account signed in; its login and password."""
    acc, psw = live.account(balance="50")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.get_by_label(login_label).fill(acc.login)
    page.locator("input[name=password]").fill(psw)
    page.get_by_role("button", name=button).click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto("/lists")
    return acc.login, psw


def test_the_russian_cabinet_lists_a_list_and_its_csv(
    page_in: PageIn, live: Server, backend: str
) -> None:
    page = page_in("ru-RU")
    _sign_in(page, live, "Логин", "Войти")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", name="Рассылки")).to_be_visible()
    page.get_by_role("link", name="Новая рассылка").click()
    page.get_by_label("Название").fill("Весенняя акция")
    page.get_by_label("Получатели").fill("79161234567\n79161234568\n79161234569")
    page.get_by_label("Сообщение").fill("Скидка 20% до воскресенья")
    # The live counter speaks Russian, with Russian plurals, and agrees with the server.
    expect(page.locator("#mes-counter")).to_have_text("25 символов · UCS-2 · 1 часть SMS")
    page.get_by_role("button", name="Рассчитать стоимость").click()
    expect(page.locator("#preview")).to_contain_text("25 символов · UCS-2 · 1 часть SMS")
    expect(page.locator("#cost")).to_have_text("5,40 RUB")  # 3 × 1,80, a decimal comma
    page.get_by_role("button", name="Создать рассылку").click()
    expect(page).to_have_url(re.compile(r"/lists/\d+$"))
    expect(page.get_by_role("status")).to_contain_text("создана")
    job_id = page.url.rsplit("/", 1)[1]

    page.get_by_role("link", name="Рассылки").click()
    row = page.locator(f"#list-{job_id}")
    expect(row).to_have_attribute("data-status", "Завершена")
    expect(row).to_contain_text("доставлено 3")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"lists-ru-{backend}.png"), full_page=True)
    if UPDATE_README_SCREENSHOT and backend == "sqlite":
        readme_screenshot(page, live, README_IMAGES / "cabinet-ru.png", "Еженедельная рассылка")

    page.locator(f"#list-{job_id}").get_by_role("link", name="Весенняя акция").click()
    expect(page.locator("#job-status")).to_have_text("Завершена")
    expect(page.locator(".stats")).to_contain_text("Доставлено")
    expect(page.get_by_role("heading", name="Получатели", exact=True)).to_be_visible()
    expect(page.locator("table.recipients tbody tr")).to_have_count(3)
    expect(page.locator("table.recipients")).to_contain_text("Доставлено")
    page.screenshot(path=str(ARTIFACTS / f"list-page-ru-{backend}.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Выгрузить CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 and {r["status_name"] for r in rows} == {"Доставлено"}


def test_the_russian_dashboard_send_and_history(
    page_in: PageIn, live: Server, backend: str
) -> None:
    page = page_in("ru-RU")
    _sign_in(page, live, "Логин", "Войти")
    menu = page.locator("header nav")
    for title in ("Сводка", "Отправить SMS", "История сообщений"):
        expect(menu.get_by_role("link", name=title, exact=True)).to_be_visible()
    menu.get_by_role("link", name="Сводка").click()
    expect(page.get_by_role("heading", name="Сводка")).to_be_visible()
    expect(page.locator("#today")).to_contain_text("Сегодня")
    expect(page.locator("#today .spend")).to_have_text("0,00")  # a decimal comma

    menu.get_by_role("link", name="Отправить SMS").click()
    page.get_by_label("Получатели").fill("79161234570")
    page.get_by_label("Сообщение").fill("Ваш код 4321")
    page.get_by_role("button", name="Отправить", exact=True).click()
    expect(page.locator("#sent-cost")).to_have_text("1,80 RUB")
    message_id = page.locator("#sent-id").inner_text()
    page.get_by_role("link", name="Посмотреть в истории").click()
    expect(page.get_by_role("heading", name="История сообщений")).to_be_visible()
    row = page.locator(f"#message-{message_id}[data-status='1']")
    for _ in range(60):  # the history is not live: reload until the message is delivered
        if row.count():
            break
        page.wait_for_timeout(250)
        page.reload()
    # The status names are domain/status_names.py's, in the visit's language.
    expect(row).to_contain_text("Доставлено")
    page.get_by_label("Статус").select_option(label="Доставлено")
    page.get_by_role("button", name="Найти").click()
    expect(page.locator("table.history tbody tr")).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"history-ru-{backend}.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Скачать CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["status_name"] for r in rows] == ["Доставлено"]


def test_the_english_cabinet_for_an_english_browser(page_in: PageIn, live: Server) -> None:
    page = page_in("en-US")
    _sign_in(page, live, "Login", "Sign in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Mailing lists")).to_be_visible()
    expect(page.get_by_role("link", name="New mailing list")).to_be_visible()


def test_choosing_russian_on_the_language_page_changes_the_next_page(
    page_in: PageIn, live: Server, backend: str
) -> None:
    page = page_in("en-US")
    _sign_in(page, live, "Login", "Sign in")
    page.get_by_role("link", name="Language").click()
    page.get_by_label("Русский").check()
    page.get_by_role("button", name="Save").click()
    # The answer is already Russian, and so is every page after it.
    expect(page.get_by_role("status")).to_have_text("Язык сохранён.")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_label("Русский")).to_be_checked()
    page.get_by_role("link", name="Рассылки").click()
    expect(page.get_by_role("heading", name="Рассылки")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"language-ru-{backend}.png"), full_page=True)
    # And back: English whatever the browser says.
    page.get_by_role("link", name="Язык").click()
    page.get_by_label("English").check()
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("status")).to_have_text("Language saved.")
    expect(page.locator("html")).to_have_attribute("lang", "en")


# What the templates and password pages say, per browser language.
WORDS = {
    "ru-RU": {
        "login": "Логин",
        "sign in": "Войти",
        "templates": "Шаблоны",
        "save template": "Сохранить шаблон",
        "saved": "Шаблон Напоминание сохранён: tpl=",
        "password": "Пароль",
        "current": "Текущий пароль",
        "new": "Новый пароль",
        "again": "Новый пароль ещё раз",
        "change": "Сменить пароль",
        "changed": "Пароль изменён. Остальные сеансы завершены.",
    },
    "en-US": {
        "login": "Login",
        "sign in": "Sign in",
        "templates": "Templates",
        "save template": "Save template",
        "saved": "Template Напоминание saved: tpl=",
        "password": "Password",
        "current": "Current password",
        "new": "New password",
        "again": "New password again",
        "change": "Change password",
        "changed": "Password changed. Other sessions ended.",
    },
}


@pytest.mark.parametrize("locale", ["ru-RU", "en-US"])
def test_a_template_and_a_password_change_in_either_language(
    page_in: PageIn, live: Server, backend: str, locale: str
) -> None:
    words = WORDS[locale]
    page = page_in(locale)
    login, psw = _sign_in(page, live, words["login"], words["sign in"])
    page.get_by_role("link", name=words["templates"], exact=True).click()
    expect(page.get_by_role("heading", name=words["templates"], exact=True)).to_be_visible()
    page.locator("input[name=name]").fill("Напоминание")
    page.locator("textarea[name=msg]").fill("Ждём вас завтра в 10:00")
    page.get_by_role("button", name=words["save template"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["saved"])
    expect(page.locator("table.templates tbody")).to_contain_text("Ждём вас завтра в 10:00")
    shot(page, f"templates-{locale}", backend)

    page.get_by_role("link", name=words["password"], exact=True).click()
    page.get_by_label(words["current"]).fill(psw)
    expect(page.get_by_role("heading", name=words["password"], exact=True)).to_be_visible()
    page.get_by_label(words["new"]).first.fill("new-password-1")
    page.get_by_label(words["again"]).fill("new-password-1")
    page.get_by_role("button", name=words["change"]).click()
    expect(page.get_by_role("status")).to_have_text(words["changed"])
    shot(page, f"password-{locale}", backend)
    # The new password is the one that signs in now, over the API too.
    answer = live.call("balance", login=login, psw="new-password-1", fmt=3)
    assert "balance" in answer, answer

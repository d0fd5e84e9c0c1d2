"""The cabinet's language in a real browser: the browser's language (Playwright's locale sets
Accept-Language), the Language page, and a template and a password change in Russian and in
English. The other pages' flows run in both languages in test_cabinet.py and test_pages.py
(their texts in words.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.screenshots import shot
from tests.browser.words import LOCALES, PageIn, Speech, sign_in
from tests.conftest import Server


def test_the_english_cabinet_for_an_english_browser(page_in: PageIn, live: Server) -> None:
    page = page_in("en-US")
    sign_in(page, live, Speech("en-US"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/lists")
    expect(page.get_by_role("heading", name="Mailing lists")).to_be_visible()
    expect(page.get_by_role("link", name="New mailing list")).to_be_visible()


def test_choosing_russian_on_the_language_page_changes_the_next_page(
    page_in: PageIn, live: Server, backend: str
) -> None:
    page = page_in("en-US")
    sign_in(page, live, Speech("en-US"))
    page.get_by_role("link", name="Language").click()
    page.get_by_label("Русский").check()
    page.get_by_role("button", name="Save").click()
    # The answer is already Russian, and so is every page after it.
    expect(page.get_by_role("status")).to_have_text("Язык сохранён.")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_label("Русский")).to_be_checked()
    page.get_by_role("link", name="Рассылки").click()
    expect(page.get_by_role("heading", name="Рассылки")).to_be_visible()
    shot(page, "language-ru", backend)
    # And back: English whatever the browser says.
    page.get_by_role("link", name="Язык").click()
    page.get_by_label("English").check()
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("status")).to_have_text("Language saved.")
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.parametrize("locale", LOCALES)
def test_a_template_and_a_password_change_in_either_language(
    page_in: PageIn, live: Server, backend: str, locale: str
) -> None:
    words = Speech(locale)
    page = page_in(locale)
    login, psw = sign_in(page, live, words)
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

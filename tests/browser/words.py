"""What the cabinet says, per browser language: the tests that run in Russian and in English
take their visible texts from here (and status names from domain/status_names.py, the
table the cabinet itself reads), so one test covers both languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from tests.conftest import Server
from tidings.domain.lifecycle import MessageStatus
from tidings.domain.status_names import job_status_names, message_status_names

LOCALES = ["ru-RU", "en-US"]

PageIn = Callable[[str], Page]

WORDS: dict[str, dict[str, str]] = {
    "ru-RU": {
        "login": "Логин",
        "sign in": "Войти",
        "dashboard": "Сводка",
        "lists": "Рассылки",
        "new list": "Новая рассылка",
        "name": "Название",
        "recipients": "Получатели",
        "message": "Сообщение",
        "start": "Начало",
        "preview": "Рассчитать стоимость",
        "create": "Создать рассылку",
        "created": "создана",
        "counter": "25 символов · UCS-2 · 1 часть SMS",
        "left out": "не номера телефонов — 1: {item}",
        "cancel": "Отменить",
        "not started": "не начата",
        "no deliveries": "Доставленных пока нет.",
        "delivered n": "доставлено {n}",
        "chart delivered n": "доставлено: {n}",
        "export csv": "Выгрузить CSV",
        "send": "Отправить",
        "send link": "Отправить SMS",
        "today": "Сегодня",
        "see in history": "Посмотреть в истории",
        "history": "История сообщений",
        "phone or e-mail": "Телефон или e-mail",
        "status": "Статус",
        "search": "Найти",
        "download csv": "Скачать CSV",
        "e-mail": "E-mail",
        "sender": "Отправитель",
        "from address": "Адрес отправителя",
        "subject": "Тема",
        "channel e-mail": "e-mail",
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
        "dashboard": "Dashboard",
        "lists": "Mailing lists",
        "new list": "New mailing list",
        "name": "Name",
        "recipients": "Recipients",
        "message": "Message",
        "start": "Start",
        "preview": "Preview cost",
        "create": "Create mailing list",
        "created": "created",
        "counter": "25 characters · UCS-2 · 1 SMS part",
        "left out": "1 not a phone number: {item}",
        "cancel": "Cancel",
        "not started": "not started",
        "no deliveries": "No deliveries yet.",
        "delivered n": "delivered {n}",
        "chart delivered n": "{n} delivered",
        "export csv": "Export CSV",
        "send": "Send",
        "send link": "Send",
        "today": "Today",
        "see in history": "See it in the history",
        "history": "History",
        "phone or e-mail": "Phone or e-mail",
        "status": "Status",
        "search": "Search",
        "download csv": "Download CSV",
        "e-mail": "E-mail",
        "sender": "Sender",
        "from address": "From address",
        "subject": "Subject",
        "channel e-mail": "e-mail",
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


@dataclass(frozen=True)
class Speech:
    """One browser language: its words, and how it writes money and status names."""

    locale: str

    @property
    def lang(self) -> str:
        return self.locale.split("-")[0]

    def __getitem__(self, key: str) -> str:
        return WORDS[self.locale][key]

    def money(self, amount: str) -> str:
        """'5.40' as the page writes it (a decimal comma in Russian)."""
        return amount.replace(".", ",") if self.lang == "ru" else amount

    def job_status(self, code: int) -> str:
        return job_status_names(self.lang)[code]

    def message_status(self, code: int) -> str:
        return message_status_names(self.lang)[code]

    @property
    def delivered(self) -> str:
        return self.message_status(MessageStatus.DELIVERED)


def sign_in(page: Page, server: Server, say: Speech, *, test_mode: bool = True) -> tuple[str, str]:
    """A new account signed in on the dashboard; its login and password."""
    acc, psw = server.account(balance="50", test_mode=test_mode)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.get_by_label(say["login"]).fill(acc.login)
    page.locator("input[name=password]").fill(psw)
    page.get_by_role("button", name=say["sign in"]).click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("html")).to_have_attribute("lang", say.lang)
    expect(page.get_by_role("heading", name=say["dashboard"])).to_be_visible()
    expect(page.get_by_text(acc.login)).to_be_visible()
    return acc.login, psw

"""The cabinet in Russian and English over HTTP: the language a visit gets (the account's
choice, else Accept-Language, else web.default_language), what changes with it — texts,
`<html lang>`, numbers, status names, recipients.csv (the API's answers are pinned by
test_status_get_golden.py and friends)."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator

import pytest

from tests.conftest import CLOCK_START, FakeClock, Server, fresh_database_url, served
from tests.integration.web_support import WebUser


@pytest.fixture
def user(server: Server, ip: str) -> Iterator[WebUser]:
    web = WebUser(server, ip)
    yield web
    web.close()


def _html_lang(page: str) -> str:
    found = re.search(r'<html lang="(\w+)">', page)
    assert found, "no <html lang>"
    return found.group(1)


def test_the_browsers_language_is_the_visits_until_the_account_chooses(
    server: Server, user: WebUser
) -> None:
    acc, psw = server.account()
    user.client.headers["Accept-Language"] = "ru-RU,ru;q=0.9,en;q=0.8"
    signin = user.get("/signin").text
    assert _html_lang(signin) == "ru" and "Войти" in signin and "Логин" in signin
    user.sign_in(acc.login, psw)
    lists = user.get("/lists").text
    assert _html_lang(lists) == "ru"
    assert "<h1>Рассылки</h1>" in lists and "Новая рассылка" in lists and ">Язык<" in lists
    # The account's choice wins over the browser's, from the next page on.
    chosen = user.post("/account/language", {"language": "en"})
    assert chosen.status_code == 303
    page = user.get("/account/language").text
    assert _html_lang(page) == "en" and "Language saved." in page
    assert "<h1>Mailing lists</h1>" in user.get("/lists").text
    # "As the browser asks" forgets the choice: Russian again.
    user.post("/account/language", {"language": "browser"})
    assert _html_lang(user.get("/lists").text) == "ru"
    refused = user.post("/account/language", {"language": "de"})
    # A refusal in the visit's language (the API would say "language must be one of ru, en").
    assert refused.status_code == 400 and "Язык: один из ru, en" in refused.text


def test_a_wrong_password_is_said_in_the_browsers_language(server: Server, user: WebUser) -> None:
    acc, _psw = server.account()
    user.client.headers["Accept-Language"] = "ru"
    user.get("/signin")
    refused = user.post("/signin", {"login": acc.login, "password": "not it"})
    assert refused.status_code == 401 and "Неверный логин или пароль." in refused.text


def test_without_accept_language_the_default_setting_decides(
    tmp_path_factory: pytest.TempPathFactory, ip: str
) -> None:
    """Production's default is Russian (the suite's servers say English)."""
    url = fresh_database_url("sqlite", tmp_path_factory.mktemp("ru-default"))
    with served(url, FakeClock(CLOCK_START), web={"default_language": "ru"}) as srv:
        web = WebUser(srv, ip)
        try:
            page = web.get("/signin").text
            assert _html_lang(page) == "ru" and "<h1>Войти</h1>" in page
            missing = web.get("/no-such-page")
            assert missing.status_code == 404 and "Такой страницы нет." in missing.text
        finally:
            web.close()


def test_a_finished_list_in_russian_and_its_csv(live: Server, ip: str) -> None:
    acc, psw = live.account(balance="5000")
    user = WebUser(live, ip)
    user.client.headers["Accept-Language"] = "ru"
    user.sign_in(acc.login, psw)
    user.get("/lists/new")
    form = {"name": "Акция", "phones": "79161234567, 79161234568", "mes": "Привет"}
    created = user.post("/lists/new", form, headers={"HX-Request": "true"})
    assert created.status_code == 204, created.text
    job_id = int(created.headers["HX-Redirect"].rsplit("/", 1)[1])
    deadline = time.monotonic() + 20
    while "доставлено 2" not in (page := user.get(f"/lists/{job_id}").text):
        assert time.monotonic() < deadline, "the list did not finish"
        time.sleep(0.2)
    assert 'id="job-status">Завершена<' in page and "<b>2</b>Доставлено" in page
    assert "Получатели" in page and "Выгрузить CSV" in page
    # Dates as Russian writes them (DD.MM.YYYY); money with a decimal comma.
    assert re.search(r'id="last-sent">\d\d\.\d\d\.\d{4}, ', page)
    assert re.search(r'id="cost-so-far">\d+,\d\d RUB', page)
    assert "Баланс" in user.get("/account/balance").text
    rows = list(csv.DictReader(io.StringIO(user.get(f"/lists/{job_id}/recipients.csv").text)))
    assert {r["status_name"] for r in rows} == {"Доставлено"}
    # The columns and the numbers in them stay machine-readable, as in English.
    assert list(rows[0])[:3] == ["\ufeffphone", "status", "status_name"]
    assert {r["cost"] for r in rows} == {"1.80"}
    user.close()


def test_a_refused_form_says_why_in_russian(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.client.headers["Accept-Language"] = "ru"
    user.sign_in(acc.login, psw)
    user.get("/account/password")
    form = {"current": psw, "new": "new-password-1", "repeated": "new-password-2"}
    refused = user.post("/account/password", form)
    assert refused.status_code == 400
    assert "Новый пароль: введённые значения не совпадают" in refused.text
    user.get("/lists/new")
    preview = user.post("/lists/preview", {"name": "x", "phones": "", "mes": "Привет"}).text
    # Named as the form labels the field; the field is still marked by its parameter name.
    assert "Получатели: обязательное поле" in preview and 'data-field="phones"' in preview

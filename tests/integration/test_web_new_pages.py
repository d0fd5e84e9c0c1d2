"""The dashboard, send-one, history (and its CSV) and e-mail lists through the real server,
as a person at the cabinet uses them (httpx with the page's cookie and CSRF token)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Server
from tests.integration.web_support import WebUser


@pytest.fixture
def user(server: Server, ip: str) -> Iterator[WebUser]:
    web = WebUser(server, ip)
    yield web
    web.close()


def test_the_dashboard_is_the_landing_page_and_first_in_the_menu(
    server: Server, user: WebUser
) -> None:
    acc, psw = server.account()
    assert user.sign_in(acc.login, psw).headers["location"] == "/dashboard"
    page = user.get("/dashboard")
    assert page.status_code == 200
    assert page.text.index('href="/dashboard"') < page.text.index('href="/lists"')
    assert 'id="today"' in page.text and 'id="month"' in page.text
    assert "No mailing list is sending now." in page.text


def _send(user: WebUser, **form: str) -> str:
    user.get("/send")
    response = user.post("/send", form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.text


def test_send_one_goes_through_send_php_rules_and_shows_in_the_history(
    server: Server, user: WebUser
) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    sent = _send(user, channel="sms", phones="+7 916 123-45-67", mes="Привет")
    assert 'id="sent-parts">1<' in sent and "1.80 RUB" in sent
    refused = _send(user, channel="sms", phones="not a number", mes="Привет")
    assert 'data-field="phones"' in refused
    no_text = _send(user, channel="sms", phones="79161234567", mes="")
    assert 'data-field="mes"' in no_text
    no_subject = _send(user, channel="mail", phones="a@example.com", mes="Hi")
    assert 'data-field="subj"' in no_subject
    bad_from = _send(
        user, channel="mail", phones="a@example.com", mes="Hi", subj="S", mail_from="nobody"
    )
    assert 'data-field="mail_from"' in bad_from
    mail = _send(
        user, channel="mail", phones="a@example.com", mes="Hi", subj="S", mail_from="me@ex.com"
    )
    assert "0.10 RUB" in mail
    history = user.get("/history").text
    assert "79161234567" in history and "a@example.com" in history
    assert user.get("/history", phone="89161234567").text.count('id="message-') == 1
    assert user.get("/history", status="1").text.count('id="message-') == 0
    assert user.get("/history", start="not a date").status_code == 400


def test_history_pages_by_keyset_and_exports_the_search(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    for n in range(3):
        _send(user, channel="sms", phones=f"7916123456{n}", mes=f"Текст {n}")
    from tidings.web.pages import history

    first = user.get("/history").text
    assert first.count('id="message-') == 3 and 'id="older"' not in first
    history.PAGE_SIZE, saved = 2, history.PAGE_SIZE
    try:
        first = user.get("/history").text
        assert first.count('id="message-') == 2 and 'id="older"' in first
        older = first.split('id="older"')[0].rsplit('href="', 1)[1].split('"')[0]
        second = user.client.get(older.replace("&amp;", "&")).text
        assert second.count('id="message-') == 1 and "79161234560" in second
    finally:
        history.PAGE_SIZE = saved
    csv_body = user.get("/history.csv", phone="79161234561").content
    assert csv_body.startswith(b"\xef\xbb\xbf")
    lines = csv_body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,time,phone") and len(lines) == 2
    assert "79161234561" in lines[1] and "Текст 1" in lines[1]


def test_an_e_mail_list_from_the_create_form_is_priced_and_created(
    server: Server, user: WebUser
) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    form = {
        "name": "Рассылка",
        "channel": "mail",
        "phones": "a@example.com, b@example.com, not-an-address",
        "mes": "Здравствуйте!",
        "mail_from": "shop@example.net",
        "subj": "Новая коллекция",
        "sender": "IgnoredSMS",
    }
    user.get("/lists/new")
    preview = user.post("/lists/preview", form, headers={"HX-Request": "true"}).text
    assert 'id="channel">e-mail<' in preview and "Новая коллекция" in preview
    assert 'id="cost">0.20 RUB<' in preview  # 2 × 0.10; the third is no address
    no_subject = user.post(
        "/lists/preview", {**form, "subj": ""}, headers={"HX-Request": "true"}
    ).text
    assert 'data-field="subj"' in no_subject
    bad_from = user.post(
        "/lists/preview", {**form, "mail_from": "shop"}, headers={"HX-Request": "true"}
    ).text
    assert 'data-field="mail_from"' in bad_from
    created = user.post("/lists/new", form, headers={"HX-Request": "true"})
    assert created.status_code == 204
    job_id = created.headers["HX-Redirect"].rsplit("/", 1)[1]
    got = server.jobs(login=acc.login, psw=psw, get=1, id=job_id, fmt=3, charset="utf-8")
    assert '"subject": "Новая коллекция"' in got and '"sender_id": "shop@example.net"' in got
    assert '"format": 8' in got or '"format": "8"' in got

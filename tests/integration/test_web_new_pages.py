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

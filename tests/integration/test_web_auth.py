"""Signing in to the web cabinet: session cookie, CSRF, brute-force blocking shared with the
API, signing out. Through the real server, as a browser would."""

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


def test_sign_in_sets_an_httponly_lax_cookie_and_shows_the_lists(
    server: Server, user: WebUser
) -> None:
    acc, psw = server.account()
    assert user.get("/lists").status_code == 303  # not signed in: sent to the sign-in page
    response = user.sign_in(acc.login, psw)
    assert response.status_code == 303
    assert response.headers["location"] == "/lists"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = user.get("/lists")
    assert page.status_code == 200
    assert "Mailing lists" in page.text and acc.login in page.text


def test_wrong_password_is_refused(server: Server, user: WebUser) -> None:
    acc, _psw = server.account()
    response = user.sign_in(acc.login, "wrong")
    assert response.status_code == 401
    assert "Wrong login or password." in response.text
    assert user.get("/lists").status_code == 303


def test_sign_in_without_csrf_token_is_forbidden(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.get("/signin")
    response = user.post("/signin", {"login": acc.login, "password": psw}, csrf=False)
    assert response.status_code == 403
    assert user.get("/lists").status_code == 303


def test_sixth_failed_sign_in_blocks_the_ip_like_the_api(server: Server, ip: str) -> None:
    acc, psw = server.account()
    user = WebUser(server, ip)
    for _ in range(5):
        assert user.sign_in(acc.login, "wrong").status_code == 401
    # Blocked now, even with the right password, in the cabinet and in the API alike.
    response = user.sign_in(acc.login, psw)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text
    assert user.get("/lists").status_code == 303
    assert server.jobs(ip, login=acc.login, psw=psw, get_all=1) == "ERROR = 4 (ip is blocked)"
    other = WebUser(server, ip.replace("2001:db8::", "2001:db8:1::"))
    assert other.sign_in(acc.login, psw).status_code == 303
    user.close()
    other.close()


def test_api_failures_count_towards_the_cabinet_block(server: Server, ip: str) -> None:
    acc, psw = server.account()
    for _ in range(5):
        assert server.jobs(ip, login=acc.login, psw="wrong", get_all=1).startswith("ERROR = 2")
    user = WebUser(server, ip)
    assert user.sign_in(acc.login, psw).status_code == 429
    user.close()


def test_sign_out_ends_the_session(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    assert user.post("/signout").status_code == 303
    assert user.get("/lists").status_code == 303

"""Signing in to the web cabinet: session cookie, CSRF, brute-force blocking shared with the
API, signing out. Through the real server, as a browser would."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
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
    assert response.headers["location"] == "/dashboard"
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


def copy_of(server: Server, user: WebUser) -> httpx.Client:
    """Another client holding a copy of the user's cookie (as a thief would)."""
    thief = httpx.Client(base_url=server.url, timeout=30)
    for name, value in user.client.cookies.items():
        thief.cookies.set(name, value)
    return thief


def test_a_copied_cookie_opens_nothing_after_sign_out(server: Server, user: WebUser) -> None:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    with copy_of(server, user) as thief:
        assert thief.get("/lists").status_code == 200  # the copy works while the session lives
        assert user.post("/signout").status_code == 303
        page = thief.get("/lists")
        assert page.status_code == 303 and page.headers["location"] == "/signin"
        assert thief.get("/account/keys").status_code == 303
    # Signing in again starts a new session; the old cookie stays dead.
    user.sign_in(acc.login, psw)
    assert user.get("/lists").status_code == 200


def test_a_password_change_ends_the_other_sessions(server: Server, ip: str) -> None:
    acc, psw = server.account()
    here, elsewhere = WebUser(server, ip), WebUser(server, ip)
    here.sign_in(acc.login, psw)
    elsewhere.sign_in(acc.login, psw)
    here.get("/account/password")
    refusals = [
        (
            {"current": "wrong-one", "new": "new-password-1", "repeated": "new-password-1"},
            "current password: not the account&#39;s password",
        ),
        ({"current": psw, "new": "short", "repeated": "short"}, "password: at least 8"),
        ({"current": psw, "new": "new-password-1", "repeated": "new-password-2"}, "differ"),
    ]
    for form, reason in refusals:
        refused = here.post("/account/password", form)
        assert refused.status_code == 400 and reason in refused.text, reason
    assert elsewhere.get("/lists").status_code == 200  # nothing changed yet
    changed = here.post(
        "/account/password",
        {"current": psw, "new": "new-password-1", "repeated": "new-password-1"},
    )
    assert changed.status_code == 303
    assert "Other sessions ended" in here.get("/account/password").text
    assert here.get("/lists").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/lists").status_code == 303  # every other one is signed out
    assert elsewhere.sign_in(acc.login, psw).status_code == 401
    assert elsewhere.sign_in(acc.login, "new-password-1").status_code == 303
    here.close()
    elsewhere.close()

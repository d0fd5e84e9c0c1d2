"""A disabled account through the real server (SQLite and PostgreSQL): its right credentials
— password or API key — get error 2 `account is blocked` from every script and count
nothing against the client's IP; a wrong password still gets `authorise error` (disabling
tells nothing to someone guessing); the cabinet refuses it; enabling restores all at once."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.conftest import Server
from tests.integration.web_support import WebUser
from tidings.domain.accounts import api_key_hash, generate_api_key, hash_password


@pytest.fixture
def operator(server: Server, ip: str) -> Iterator[WebUser]:
    """An operator at the admin pages: the running server's own services act (and forget
    what they cached about the account)."""
    password = secrets.token_urlsafe(8)
    login = f"op{secrets.token_hex(4)}"
    server.store.create_account(
        login, hash_password(password), server.clock.now(), is_operator=True
    )
    web = WebUser(server, ip.replace("2001:db8::", "2001:db8:4::"))
    assert web.sign_in(login, password).status_code == 303
    web.get("/admin")
    yield web
    web.close()


def _set(operator: WebUser, account_id: int, what: str, form: dict[str, str]) -> None:
    response = operator.post(f"/admin/accounts/{account_id}/{what}", form)
    assert response.status_code == 303, response.text[:300]


def test_a_disabled_account_is_refused_by_the_api_and_the_cabinet(
    server: Server, ip: str, operator: WebUser
) -> None:
    acc, psw = server.account()
    key = generate_api_key()
    server.store.add_api_key(acc.id, api_key_hash(key), key[:8], server.clock.now())
    web = WebUser(server, ip.replace("2001:db8::", "2001:db8:3::"))
    try:
        assert web.sign_in(acc.login, psw).status_code == 303
        _set(operator, acc.id, "disabled", {"on": "1"})

        blocked = "ERROR = 2 (account is blocked)"
        for _ in range(7):  # more than the failures that would block the IP
            assert server.jobs(ip, login=acc.login, psw=psw, get_all=1) == blocked
        assert server.call("balance", ip, apikey=key) == blocked
        assert server.call("balance", ip, login="", psw=key) == blocked
        wrong = server.jobs(ip, login=acc.login, psw="not-the-password", get_all=1)
        assert wrong == "ERROR = 2 (authorise error)"

        assert web.get("/lists").headers["location"] == "/signin"  # its session ended
        refused = web.sign_in(acc.login, psw)
        assert refused.status_code == 403 and "disabled" in refused.text

        _set(operator, acc.id, "disabled", {"on": "0"})
        assert server.call("balance", ip, apikey=key) == "100.00"
        assert server.jobs(ip, login=acc.login, psw=psw, get_all=1) == "NO JOBS"
        assert web.sign_in(acc.login, psw).status_code == 303
    finally:
        web.close()


def test_a_reset_password_replaces_the_old_one_everywhere(
    server: Server, ip: str, operator: WebUser
) -> None:
    acc, psw = server.account()
    assert server.call("balance", ip, login=acc.login, psw=psw) == "100.00"  # now cached
    new = f"new-{secrets.token_hex(4)}"
    _set(operator, acc.id, "password", {"password": new})
    assert server.call("balance", ip, login=acc.login, psw=psw) == "ERROR = 2 (authorise error)"
    assert server.call("balance", ip, login=acc.login, psw=new) == "100.00"

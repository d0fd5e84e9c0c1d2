"""callback.php (Tidings' own script): the status callback URL set, read and switched off by
the API, under the same URL rules as the cabinet and the command line."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import Server
from tests.integration.web_support import WebUser

PUBLIC = "http://93.184.216.34/hook"  # a literal public address: no name to resolve


def _auth(server: Server) -> dict[str, str]:
    acc, psw = server.account()
    return {"login": acc.login, "psw": psw, "charset": "utf-8"}


@pytest.mark.parametrize(
    ("fmt", "pattern"),
    [
        (0, r"OK, SECRET - ([0-9a-f]{64})"),
        (1, r"([0-9a-f]{64})"),
        (2, r"<result><secret>([0-9a-f]{64})</secret></result>"),
        (3, r'\{"secret": "([0-9a-f]{64})"\}'),
    ],
)
def test_set_answers_the_new_secret(server: Server, ip: str, fmt: int, pattern: str) -> None:
    auth = _auth(server)
    answer = server.call("callback", ip, **auth, set=1, url=PUBLIC, fmt=fmt)
    match = re.fullmatch(pattern, answer)
    assert match, answer
    acc = server.store.account_by_login(auth["login"])
    assert acc is not None
    with server.store.db.tx(write=False) as tx:
        row = tx.one("SELECT callback_url, callback_secret FROM accounts WHERE id = ?", (acc.id,))
    assert row == (PUBLIC, match.group(1))


@pytest.mark.parametrize(
    ("fmt", "on", "off"),
    [
        (0, PUBLIC, "OFF"),
        (1, PUBLIC, "OFF"),
        (2, f"<result><url>{PUBLIC}</url></result>", "<result><url></url></result>"),
        (3, json.dumps({"url": PUBLIC}), '{"url": ""}'),
    ],
)
def test_get_and_del(server: Server, ip: str, fmt: int, on: str, off: str) -> None:
    auth = _auth(server)
    assert server.call("callback", ip, **auth, get=1, fmt=fmt) == off
    server.call("callback", ip, **auth, set=1, url=PUBLIC)
    assert server.call("callback", ip, **auth, get=1, fmt=fmt) == on
    assert server.call("callback", ip, **auth, **{"del": 1}, fmt=3) == '{"result": "OK"}'
    assert server.call("callback", ip, **auth, get=1, fmt=fmt) == off


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"set": 1}, "url: required (del=1 switches callbacks off)"),
        ({"set": 1, "url": "http://127.0.0.1/hook"}, "127.0.0.1 is a loopback address"),
        ({"set": 1, "url": "http://10.1.2.3/hook"}, "10.1.2.3 is a private address"),
        ({"set": 1, "url": "http://0x7f.1/hook"}, "127.0.0.1 is a loopback address"),
        ({"set": 1, "url": "ftp://93.184.216.34/"}, "callback URL: an http:// or https://"),
        ({"set": 1, "get": 1}, "exactly one of get, set, del must be 1"),
    ],
)
def test_the_url_rules_apply(
    server: Server, ip: str, params: dict[str, str | int], description: str
) -> None:
    auth = _auth(server)
    server.call("callback", ip, **auth, set=1, url=PUBLIC)
    answer = json.loads(server.call("callback", ip, **auth, fmt=3, **params))
    assert answer["error_code"] == 1
    assert description in answer["error"]
    # Nothing changed.
    assert server.call("callback", ip, **auth, get=1) == PUBLIC


def test_the_cabinet_shows_the_url_the_api_set(server: Server, ip: str) -> None:
    acc, psw = server.account()
    server.call("callback", ip, login=acc.login, psw=psw, set=1, url=PUBLIC)
    user = WebUser(server, ip)
    try:
        user.sign_in(acc.login, psw)
        page = user.get("/account/callback").text
        assert f'<code id="callback-url">{PUBLIC}</code>' in page
    finally:
        user.close()


def _forwards(server: Server, login: str) -> bool:
    acc = server.store.account_by_login(login)
    assert acc is not None
    with server.store.db.tx(write=False) as tx:
        row = tx.one("SELECT forward_inbound FROM accounts WHERE id = ?", (acc.id,))
    assert row is not None
    return bool(row[0])


def test_fl_11_switches_forwarding_incoming_sms_on_and_off(server: Server, ip: str) -> None:
    auth = _auth(server)
    server.call("callback", ip, **auth, set=1, url=PUBLIC)
    assert not _forwards(server, auth["login"])
    server.call("callback", ip, **auth, set=1, url=PUBLIC + "2", **{"fl[11]": 1})
    assert _forwards(server, auth["login"])
    server.call("callback", ip, **auth, set=1, url=PUBLIC + "3")  # absent: unchanged
    assert _forwards(server, auth["login"])
    bad = server.call("callback", ip, **auth, set=1, url=PUBLIC + "4", fmt=3, **{"fl[11]": 2})
    assert bad == '{"error": "fl[11]: 0 or 1", "error_code": 1}'
    server.call("callback", ip, **auth, set=1, url=PUBLIC + "5", **{"fl[11]": 0})
    assert not _forwards(server, auth["login"])

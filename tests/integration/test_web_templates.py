"""The cabinet's templates page through the real server: create, change, delete, the
auto-signature; the rules of templates.php; CSRF; one account never sees another's."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import Server
from tests.integration.web_support import WebUser


@pytest.fixture
def user(server: Server, ip: str) -> Iterator[WebUser]:
    web = WebUser(server, ip)
    yield web
    web.close()


def _signed_in(server: Server, user: WebUser) -> dict[str, str]:
    acc, psw = server.account()
    user.sign_in(acc.login, psw)
    return {"login": acc.login, "psw": psw, "charset": "utf-8"}


def test_a_template_made_in_the_cabinet_is_the_one_tpl_sends(
    server: Server, user: WebUser, ip: str
) -> None:
    auth = _signed_in(server, user)
    page = user.get("/templates")
    assert "No templates yet." in page.text
    form = {"name": "Код", "msg": "Ваш код: 1234", "format": "sms", "sender": "Shop"}
    saved = user.post("/templates", form)
    assert saved.status_code == 303
    listed = json.loads(server.call("templates", ip, **auth, get=1, fmt=3))
    assert [(t["name"], t["message"], t["format"], t["sender"]) for t in listed] == [
        ("Код", "Ваш код: 1234", "sms", "Shop")
    ]
    tid = listed[0]["id"]
    assert f"tpl={tid}" in user.get("/templates").text  # the flash message names the id
    sent = json.loads(server.call("send", ip, **auth, phones="79161234567", tpl=tid, fmt=3))
    assert sent["cnt"] == 1


def test_change_and_delete(server: Server, user: WebUser, ip: str) -> None:
    auth = _signed_in(server, user)
    user.get("/templates")
    user.post("/templates", {"name": "A", "msg": "one"})
    tid = json.loads(server.call("templates", ip, **auth, get=1, fmt=3))[0]["id"]
    edit = user.get(f"/templates/{tid}")
    assert edit.status_code == 200 and ">one</textarea>" in edit.text
    changed = user.post(f"/templates/{tid}", {"name": "A", "msg": "two", "fl[1]": "1"})
    assert changed.status_code == 303
    got = json.loads(server.call("templates", ip, **auth, get=1, id=tid, fmt=3))[0]
    assert (got["message"], got["signature"]) == ("two", 1)
    assert "(auto-signature)" in user.get("/templates").text
    # An unticked box takes the signature off again.
    user.get(f"/templates/{tid}")
    user.post(f"/templates/{tid}", {"name": "A", "msg": "two"})
    got = json.loads(server.call("templates", ip, **auth, get=1, id=tid, fmt=3))[0]
    assert got["signature"] == 0
    user.get("/templates")
    assert user.post(f"/templates/{tid}/delete").status_code == 303
    assert server.call("templates", ip, **auth, get=1) == "NO TEMPLATES"


def test_bad_input_is_shown_and_changes_nothing(server: Server, user: WebUser, ip: str) -> None:
    auth = _signed_in(server, user)
    user.get("/templates")
    bad = user.post("/templates", {"name": "V", "msg": "hi", "format": "mail", "sender": "Shop"})
    assert bad.status_code == 400
    assert "sender: an e-mail address" in bad.text
    assert 'value="V"' in bad.text  # the form keeps what was typed
    assert server.call("templates", ip, **auth, get=1) == "NO TEMPLATES"


def test_actions_need_the_csrf_token(server: Server, user: WebUser, ip: str) -> None:
    auth = _signed_in(server, user)
    user.get("/templates")
    refused = user.post("/templates", {"name": "A", "msg": "one"}, csrf=False)
    assert refused.status_code == 403
    assert server.call("templates", ip, **auth, get=1) == "NO TEMPLATES"


def test_another_accounts_template_is_not_found(server: Server, user: WebUser, ip: str) -> None:
    theirs, psw = server.account()
    other = {"login": theirs.login, "psw": psw}
    created = server.call("templates", ip, **other, add=1, name="Secret", msg="x", fmt=3)
    tid = json.loads(created)["id"]
    _signed_in(server, user)
    assert user.get(f"/templates/{tid}").status_code == 404
    user.get("/templates")
    assert "Secret" not in user.get("/templates").text
    assert user.post(f"/templates/{tid}", {"name": "Mine", "msg": "y"}).status_code == 404
    assert user.post(f"/templates/{tid}/delete").status_code == 404
    still = json.loads(server.call("templates", ip, **other, get=1, fmt=3))
    assert [(t["name"], t["message"]) for t in still] == [("Secret", "x")]

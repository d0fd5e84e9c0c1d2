"""/rest/send/: send.php with the parameters in a JSON object body, answered as send.php
answers fmt=3 (docs/api.md, "/rest/send/")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Server


def _sys(server: Server, ip: str, **params: Any) -> Any:
    return json.loads(server.call("send", ip, fmt=3, charset="utf-8", **params))


def _rest(server: Server, ip: str, body: object) -> Any:
    """POST `body` as JSON (bytes are sent as they are)."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = server.client.post(
        "/rest/send/",
        content=content,
        headers={"Content-Type": "application/json", "X-Forwarded-For": ip},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return json.loads(response.text)


@pytest.mark.parametrize("cost", [0, 1, 2, 3])
def test_the_answer_is_send_php_fmt_3(server: Server, ip: str, cost: int) -> None:
    acc, psw = server.account(balance="100")
    auth = {"login": acc.login, "psw": psw}
    common = {"phones": "79161234567,79161234568", "mes": "Привет", "cost": cost}
    via_sys = _sys(server, ip, **auth, **common, id=f"s{cost}")
    via_rest = _rest(server, ip, {**auth, **common, "id": f"r{cost}"})
    if cost != 1:
        assert (via_sys.pop("id"), via_rest.pop("id")) == (f"s{cost}", f"r{cost}")
    assert via_rest == via_sys
    assert list(via_rest) == list(via_sys)  # the same keys in the same order


def test_json_values_numbers_lists_and_flags(server: Server, ip: str) -> None:
    acc, psw = server.account(balance="100")
    body = {
        "login": acc.login,
        "psw": psw,
        "phones": ["79161234567", "+7 916 123-45-68"],
        "mes": "Hi",
        "id": 42,
        "cost": 2,
        "flash": True,
        "translit": 0,
        "sender": None,
    }
    assert _rest(server, ip, body) == {"id": 42, "cnt": 2, "cost": "3.60"}
    status = json.loads(
        server.call("status", ip, login=acc.login, psw=psw, fmt=3, id=42, phone="79161234568")
    )
    assert status["status"] == -1  # found: waiting (this server runs no dispatcher)


def test_fmt_and_charset_in_the_body_do_not_change_the_answer(server: Server, ip: str) -> None:
    acc, psw = server.account(balance="100")
    body = {"login": acc.login, "psw": psw, "phones": "79161234567", "mes": "Ёлка"}
    answer = _rest(server, ip, {**body, "fmt": 0, "charset": "windows-1251", "id": "x1"})
    assert answer == {"id": "x1", "cnt": 1}


def test_errors_are_the_send_php_fmt_3_envelopes(server: Server, ip: str) -> None:
    acc, psw = server.account(balance="100")
    auth = {"login": acc.login, "psw": psw}
    for params in (
        {"phones": "79161234567"},
        {"phones": "79161234567", "id": "ord-7"},
        {"phones": "not-a-number", "mes": "x", "id": "ord-8"},
        {"phones": "79161234567", "mes": "x", "cost": 7},
    ):
        assert _rest(server, ip, {**auth, **params}) == _sys(server, ip, **auth, **params)
    assert _rest(server, ip, {"login": acc.login, "psw": "wrong"}) == {
        "error": "authorise error",
        "error_code": 2,
    }


def test_a_body_that_is_not_a_json_object_is_error_1(server: Server, ip: str) -> None:
    not_json = _rest(server, ip, b"{login:")
    assert not_json == {"error": "the body is not valid JSON", "error_code": 1}
    array = _rest(server, ip, ["phones"])
    assert array == {"error": "the body must be a JSON object", "error_code": 1}
    nested = _rest(server, ip, {"login": "a", "psw": "b", "phones": {"a": 1}})
    assert nested["error_code"] == 1 and nested["error"].startswith("phones:")


def test_any_content_type_and_query_parameters_are_read(server: Server, ip: str) -> None:
    """Go's http.Post names the Content-Type as the caller writes it; credentials may be in
    the query string (the body wins on a clash, as everywhere)."""
    acc, psw = server.account(balance="100")
    body = json.dumps({"phones": "79161234567", "mes": "plain", "id": "q1"}).encode()
    answer = server.client.post(
        "/rest/send",
        params={"login": acc.login, "psw": psw, "fmt": 2},
        content=body,
        headers={"Content-Type": "text/plain", "X-Forwarded-For": ip},
    )
    assert json.loads(answer.text) == {"id": "q1", "cnt": 1}

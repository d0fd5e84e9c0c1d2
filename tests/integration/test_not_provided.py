"""What smsc.ru has and Tidings does not provide: every script and action of smsc-api.md that
Tidings lacks, and any other path under /sys/ and /rest/, is answered HTTP 200 with the error
envelope of the requested fmt (error 1 `<name> is not provided`; docs/api.md, "What Tidings
provides") — never a 404 or an empty body, which the official JavaScript library and
node-smsc would crash on (`JSON.parse`)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import Server

# smsc-api.md §1.1 (and node-smsc's get_mnp.php).
SCRIPTS = (
    "op_templates",
    "ping",
    "info",
    "tinyurls",
    "users",
    "documents",
    "wait_call",
    "downloads",
    "get_mnp",
)
# Actions of scripts Tidings has (smsc-api.md §5.3, §5.5).
ACTIONS = (
    ("receive_phones", "add"),
    ("receive_phones", "del"),
    ("get", "get_price"),
    ("get", "get_mega_accounts"),
    ("senders", "chg"),
    ("senders", "send_code"),
    ("senders", "check_code"),
)


def envelope(fmt: int, description: str, code: int = 1) -> str:
    return {
        0: f"ERROR = {code} ({description})",
        1: f"0,-{code}",
        2: f"<result><error>{description}</error><error_code>{code}</error_code></result>",
        3: json.dumps({"error": description, "error_code": code}, ensure_ascii=False),
    }[fmt]


def _assert_answer(response: httpx.Response, fmt: int, description: str, code: int = 1) -> None:
    assert response.status_code == 200
    media = {0: "text/plain", 1: "text/plain", 2: "text/xml", 3: "application/json"}[fmt]
    assert response.headers["content-type"].split(";")[0] == media
    assert response.text == envelope(fmt, description, code)


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_a_script_not_provided_answers_an_error_envelope(
    server: Server, ip: str, script: str, fmt: int
) -> None:
    acc, psw = server.account()
    response = server.client.get(
        f"/sys/{script}.php",
        params={"login": acc.login, "psw": psw, "fmt": fmt, "get": 1},
        headers={"X-Forwarded-For": ip},
    )
    _assert_answer(response, fmt, f"{script}.php is not provided")


@pytest.mark.parametrize(("script", "action"), ACTIONS)
@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_an_action_not_provided_answers_an_error_envelope(
    server: Server, ip: str, script: str, action: str, fmt: int
) -> None:
    acc, psw = server.account()
    response = server.client.get(
        f"/sys/{script}.php",
        params={"login": acc.login, "psw": psw, "fmt": fmt, action: 1},
        headers={"X-Forwarded-For": ip},
    )
    _assert_answer(response, fmt, f"{action} is not provided")


def test_the_js_library_multipart_post_to_an_unknown_script_gets_json(
    server: Server, ip: str
) -> None:
    """smsc_api.js `raw(file, data)` POSTs multipart with fmt=3 in the body only."""
    acc, psw = server.account()
    fields = {"login": acc.login, "psw": psw, "fmt": "3", "charset": "utf-8", "get_operator": "1"}
    response = server.client.post(
        "/sys/info.php",
        files={k: (None, v) for k, v in fields.items()},
        headers={"X-Forwarded-For": ip},
    )
    assert json.loads(response.text) == {"error": "info.php is not provided", "error_code": 1}
    assert response.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_any_other_path_under_sys_is_an_envelope_too(server: Server, ip: str, fmt: int) -> None:
    acc, psw = server.account()
    auth = {"login": acc.login, "psw": psw, "fmt": fmt}
    for path, name in (
        ("/sys/nope.php", "nope.php"),
        ("/sys/nope", "/sys/nope"),
        ("/sys/a/b.php", "/sys/a/b.php"),
        ("/sys/", "/sys/"),
    ):
        response = server.client.get(path, params=auth, headers={"X-Forwarded-For": ip})
        _assert_answer(response, fmt, f"{name} is not provided")


def test_credentials_come_first_on_an_unknown_script(server: Server, ip: str) -> None:
    """The order of every script (docs/api.md): a wrong password is error 2 here as well."""
    response = server.client.get(
        "/sys/users.php",
        params={"login": "nobody", "psw": "x", "fmt": 3},
        headers={"X-Forwarded-For": ip},
    )
    _assert_answer(response, 3, "authorise error", 2)


def test_a_long_unknown_name_is_cut_in_the_error(server: Server, ip: str) -> None:
    acc, psw = server.account()
    response = server.client.get(
        f"/sys/{'x' * 500}",
        params={"login": acc.login, "psw": psw, "fmt": 3},
        headers={"X-Forwarded-For": ip},
    )
    error = json.loads(response.text)["error"]
    assert error.startswith("/sys/xxx") and len(error) < 100


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_other_rest_paths_answer_the_json_envelope(server: Server, ip: str, fmt: int) -> None:
    """/rest/ answers JSON whatever `fmt` says."""
    acc, psw = server.account()
    for path, name in (
        ("/rest/users/", "/rest/users/"),
        ("/rest/status", "/rest/status/"),
        ("/rest/", "/rest/"),
    ):
        response = server.client.post(
            path,
            json={"login": acc.login, "psw": psw, "fmt": fmt},
            headers={"X-Forwarded-For": ip},
        )
        _assert_answer(response, 3, f"{name} is not provided")

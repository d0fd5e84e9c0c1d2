"""senders.php and balance.php through the real HTTP server on SQLite and PostgreSQL: golden
answers per fmt, every error in every fmt, parameter rules, tenant isolation, request limits,
and the operator's `tidings senders approve` as jobs.php sees it."""

from __future__ import annotations

import json

import pytest
import smsc.api
from typer.testing import CliRunner

from tests.conftest import Server
from tests.integration.test_phones_api import Client, client_for
from tidings.cli.main import app
from tidings.domain.clock import to_ts


@pytest.fixture
def client(server: Server, ip: str) -> Client:
    return client_for(server, ip)


def senders(client: Client, **params: str | int) -> str:
    return client.raw("senders", **params).decode("utf-8")


def balance(client: Client, **params: str | int) -> str:
    return client.raw("balance", **params).decode("utf-8")


def _error(fmt: int, code: int, description: str) -> str:
    return {
        0: f"ERROR = {code} ({description})",
        1: f"0,-{code}",
        2: f"<result><error>{description}</error><error_code>{code}</error_code></result>",
        3: f'{{"error": "{description}", "error_code": {code}}}',
    }[fmt]


def _set_account(server: Server, login: str, **columns: int) -> None:
    acc = server.store.account_by_login(login)
    assert acc is not None
    sets = ", ".join(f"{name} = ?" for name in columns)
    with server.store.db.tx() as tx:
        tx.execute(f"UPDATE accounts SET {sets} WHERE id = ?", (*columns.values(), acc.id))


# ---- balance.php ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "cur", "expected"),
    [
        (0, 0, "100.00"),
        (0, 1, "100.00,RUB"),
        (1, 0, "100.00"),
        (1, 1, "100.00,RUB"),
        (2, 0, "<result><balance>100.00</balance></result>"),
        (2, 1, "<result><balance>100.00</balance><currency>RUB</currency></result>"),
        (3, 0, '{"balance": "100.00"}'),
        (3, 1, '{"balance": "100.00", "currency": "RUB"}'),
    ],
)
def test_balance_answers(client: Client, fmt: int, cur: int, expected: str) -> None:
    assert balance(client, fmt=fmt, cur=cur) == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (0, "-12.30,RUB"),  # never the credit in fmt 0/1: the libraries split on commas
        (1, "-12.30,RUB"),
        (2, "<result><balance>-12.30</balance><currency>RUB</currency><credit>50.00</credit>"),
        (3, '{"balance": "-12.30", "currency": "RUB", "credit": "50.00"}'),
    ],
)
def test_balance_with_a_credit_limit(client: Client, fmt: int, expected: str) -> None:
    _set_account(client.server, client.login, balance_minor=-1230, credit_limit_minor=5000)
    tail = "</result>" if fmt == 2 else ""
    assert balance(client, fmt=fmt, cur=1) == expected + tail


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_balance_errors(server: Server, ip: str, fmt: int) -> None:
    client = client_for(server, ip)
    assert balance(client, fmt=fmt, cur=2) == _error(fmt, 1, "cur must be 0 or 1")
    wrong = Client(server, ip, client.login, "wrong")
    assert balance(wrong, fmt=fmt) == _error(fmt, 2, "authorise error")
    blocked = Client(server, f"2001:db8:b1c::{fmt}", client.login, client.psw)
    server.store.block_ip(blocked.ip, to_ts(server.clock.now()) + 600, "test")
    assert balance(blocked, fmt=fmt) == _error(fmt, 4, "ip is blocked")
    for n in range(10):
        answer = balance(client, fmt=fmt, cur=n % 2)
        assert "100.00" in answer and "error" not in answer.lower(), n
    assert balance(client, fmt=fmt) == _error(fmt, 9, "too many balance requests, wait a minute")


def test_eleventh_balance_request_in_a_minute_is_error_9(client: Client) -> None:
    balance(client, cur=7)  # a refused request is not counted
    for _ in range(10):
        assert balance(client) == "100.00"
    assert balance(client, fmt=3, cur=1) == (
        '{"error": "too many balance requests, wait a minute", "error_code": 9}'
    )
    other = client_for(client.server, client.ip)  # another account has its own count
    assert balance(other) == "100.00"
    client.server.clock.advance(61)
    assert balance(client) == "100.00"


def test_the_pypi_clients_read_the_balance(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    acc, psw = server.account(balance="250.80")
    monkeypatch.setattr(smsc.api.SMSC, "_url", f"{server.url}/sys/")  # its only host setting
    answer = smsc.api.SMSC(login=acc.login, password=psw).get_balance()  # fmt=3&cur=1
    assert (answer.balance, answer.currency, answer.credit) == (250.8, "RUB", 0.0)
    # smsc_api.py (official) asks fmt=1 and takes a one-field body as the balance.
    body = server.call("balance", login=acc.login, psw=psw, fmt=1)
    assert body.split(",") == ["250.80"]


# ---- senders.php ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "created", "ok"),
    [
        (0, "ID = {id}", "OK"),
        (1, "{id}", "OK"),
        (2, "<result><id>{id}</id></result>", "<result>OK</result>"),
        (3, '{{"id": {id}}}', '{"result": "OK"}'),
    ],
)
def test_sender_add_and_del_answers(client: Client, fmt: int, created: str, ok: str) -> None:
    answer = senders(client, add=1, sender="Shop", fmt=fmt)
    sender_id = json.loads(senders(client, get=1, all=1, fmt=3))[0]["id"]
    assert answer == created.format(id=sender_id)
    assert senders(client, **{"del": 1}, id=sender_id, fmt=fmt) == ok


def test_sender_lists_in_every_fmt(client: Client) -> None:
    a = json.loads(senders(client, add=1, sender="Shop", fmt=3))["id"]
    b = json.loads(senders(client, add=1, mail="news@Example.com", fmt=3))["id"]
    c = json.loads(senders(client, add=1, sender="79161234567", fmt=3))["id"]
    _approve(client, "Shop")
    assert senders(client, get=1) == f"{a}|Shop|approved"
    assert senders(client, get=1, all=1, fmt=1) == (
        f"{a};Shop;approved\n{b};news@Example.com;pending\n{c};79161234567;pending"
    )
    assert senders(client, get=1, fmt=2) == (
        f"<senders><sender><id>{a}</id><sender>Shop</sender><status>approved</status></sender>"
        "</senders>"
    )
    assert senders(client, get=1, all=1, fmt=3) == (
        f'[{{"id": {a}, "sender": "Shop", "status": "approved"}}, '
        f'{{"id": {b}, "sender": "news@Example.com", "status": "pending"}}, '
        f'{{"id": {c}, "sender": "79161234567", "status": "pending"}}]'
    )


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [(0, "NO SENDERS"), (1, "NO SENDERS"), (2, "<senders></senders>"), (3, "[]")],
)
def test_no_senders(client: Client, fmt: int, expected: str) -> None:
    senders(client, add=1, sender="Pending")
    assert senders(client, get=1, fmt=fmt) == expected


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_sender_errors(server: Server, ip: str, fmt: int) -> None:
    client = client_for(server, ip)
    senders(client, add=1, sender="Shop")
    cases = [
        (1, "exactly one of get, add, del must be 1", {"get": 1, "add": 1}),
        (3, "sender not found", {"del": 1, "sender": "Nope"}),
        (3, "sender already exists", {"add": 1, "sender": "Shop", "cmt": "again"}),
    ]
    for code, description, params in cases:
        assert senders(client, fmt=fmt, **params) == _error(fmt, code, description)
    wrong = Client(server, ip, client.login, "wrong")
    assert senders(wrong, get=1, fmt=fmt) == _error(fmt, 2, "authorise error")
    assert not senders(client, add=1, sender="Twice", fmt=fmt).startswith("ERROR")
    assert senders(client, add=1, sender="Twice", fmt=fmt) == _error(
        fmt, 9, "duplicate request, wait a minute"
    )
    blocked = Client(server, f"2001:db8:b1d::{fmt}", client.login, client.psw)
    server.store.block_ip(blocked.ip, to_ts(server.clock.now()) + 600, "test")
    assert senders(blocked, get=1, fmt=fmt) == _error(fmt, 4, "ip is blocked")


SENDER_RULES: list[tuple[str, dict[str, str | int], int, str]] = [
    ("no action", {"sender": "Shop"}, 1, "exactly one"),
    ("add without sender", {"add": 1}, 1, "sender"),
    ("add too long", {"add": 1, "sender": "ABCDEFGHIJKL"}, 1, "sender"),
    ("add no letter", {"add": 1, "sender": "12-34"}, 1, "sender"),
    ("add 16 digits", {"add": 1, "sender": "1" * 16}, 1, "sender"),
    ("add Cyrillic", {"add": 1, "sender": "Магазин"}, 1, "sender"),
    ("add bad e-mail", {"add": 1, "mail": 1, "sender": "shop"}, 1, "sender"),
    ("add bad mail value", {"add": 1, "mail": "yes"}, 1, "mail"),
    ("add mail and sender", {"add": 1, "mail": "a@example.com", "sender": "Shop"}, 1, "sender"),
    ("add existing", {"add": 1, "sender": "Old"}, 3, "already exists"),
    ("del without name", {"del": 1}, 1, "exactly one"),
    ("del id and sender", {"del": 1, "id": 1, "sender": "Old"}, 1, "exactly one"),
    ("del bad id", {"del": 1, "id": "x"}, 1, "id"),
    ("del unknown id", {"del": 1, "id": 999_999_999}, 3, "sender not found"),
]


@pytest.mark.parametrize(
    ("params", "code", "words"), [r[1:] for r in SENDER_RULES], ids=[r[0] for r in SENDER_RULES]
)
def test_sender_bad_input_changes_nothing(
    client: Client, params: dict[str, str | int], code: int, words: str
) -> None:
    senders(client, add=1, sender="Old")
    before = senders(client, get=1, all=1, fmt=3)
    answer = json.loads(senders(client, fmt=3, **params))
    assert answer["error_code"] == code and words in answer["error"], answer
    assert senders(client, get=1, all=1, fmt=3) == before


def test_another_accounts_senders_are_not_found(server: Server, ip: str) -> None:
    owner, intruder = client_for(server, ip), client_for(server, ip)
    sender_id = json.loads(senders(owner, add=1, sender="Shop", fmt=3))["id"]
    assert json.loads(senders(intruder, **{"del": 1}, id=sender_id, fmt=3))["error_code"] == 3
    assert json.loads(senders(intruder, **{"del": 1}, sender="Shop", fmt=3))["error_code"] == 3
    assert senders(intruder, get=1, all=1, fmt=3) == "[]"
    assert senders(intruder, add=1, sender="Shop").startswith("ID = ")  # names are per account
    assert json.loads(senders(owner, get=1, all=1, fmt=3))[0]["id"] == sender_id


# ---- approval by the operator, as jobs.php sees it -------------------------------------------


def _approve(client: Client, name: str, *extra: str) -> str:
    result = CliRunner().invoke(
        app,
        [
            "senders",
            "approve",
            client.login,
            name,
            *extra,
            "--db",
            client.server.settings.database_url,
        ],
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_only_approved_senders_send_once_the_account_has_one(client: Client) -> None:
    add = {"add": 1, "name": "L", "phones": "79161234567", "mes": "Hi"}
    senders(client, add=1, sender="Shop")
    # A pending name does not restrict the account yet.
    assert client.raw("jobs", sender="Other", **add).startswith(b"OK")
    assert "Shop approved" in _approve(client, "Shop")
    # (another text: the same request again would be a duplicate, error 9)
    refused = client.raw("jobs", sender="Other", **{**add, "mes": "x"})
    assert refused.startswith(b"ERROR = 1 (sender:")
    assert client.raw("jobs", sender="Shop", **add).startswith(b"OK")
    assert "pending" in _approve(client, "Shop", "--revoke")
    assert senders(client, get=1) == "NO SENDERS"


def test_approving_an_unknown_sender_fails(client: Client) -> None:
    result = CliRunner().invoke(
        app,
        ["senders", "approve", client.login, "Nope", "--db", client.server.settings.database_url],
    )
    assert result.exit_code == 1
    assert senders(client, get=1, all=1) == "NO SENDERS"

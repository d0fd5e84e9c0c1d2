"""send.php and status.php through a live server (API + dispatcher on the virtual upstream)."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import Server

ONE = {"phones": "79161234567", "mes": "Hello"}


def wait_status(
    live: Server, ip: str, login: str, psw: str, msg_id: str, phone: str, wanted: int = 1
) -> dict[str, object]:
    deadline = time.monotonic() + 15
    while True:
        got = json.loads(
            live.call(
                "status",
                ip,
                login=login,
                psw=psw,
                id=msg_id,
                phone=phone,
                fmt=3,
                all=1,
                charset="utf-8",
            )
        )
        if got["status"] == wanted or time.monotonic() > deadline:
            return dict(got)
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("fmt", "cost", "expected"),
    [
        (0, 0, "OK - 2 SMS, ID - 7"),
        (0, 2, "OK - 2 SMS, ID - 7, COST - 3.60"),
        (0, 3, "OK - 2 SMS, ID - 7, COST - 3.60, BALANCE - 96.40"),
        (1, 0, "7,2"),
        (1, 2, "7,2,3.60"),
        (1, 3, "7,2,3.60,96.40"),
        (2, 0, "<result><cnt>2</cnt><id>7</id></result>"),
        (2, 3, "<result><cnt>2</cnt><id>7</id><cost>3.60</cost><balance>96.40</balance></result>"),
        (3, 0, '{"id": 7, "cnt": 2}'),
        (3, 2, '{"id": 7, "cnt": 2, "cost": "3.60"}'),
        (3, 3, '{"id": 7, "cnt": 2, "cost": "3.60", "balance": "96.40"}'),
    ],
)
def test_send_answers(live: Server, ip: str, fmt: int, cost: int, expected: str) -> None:
    acc, psw = live.account(balance="100", test_mode=False)
    got = live.call(
        "send",
        ip,
        login=acc.login,
        psw=psw,
        phones="79161234567,79161234568",
        mes="Hi",
        id=7,
        fmt=fmt,
        cost=cost,
    )
    assert got == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (0, "1.80 (1 SMS)"),
        (1, "1.80,1"),
        (2, "<result><cost>1.80</cost><cnt>1</cnt></result>"),
        (3, '{"cost": "1.80", "cnt": 1}'),
    ],
)
def test_cost_only_sends_nothing(live: Server, ip: str, fmt: int, expected: str) -> None:
    acc, psw = live.account()
    assert live.call("send", ip, login=acc.login, psw=psw, cost=1, fmt=fmt, **ONE) == expected
    with live.store.db.tx(write=False) as tx:
        assert tx.one("SELECT COUNT(*) FROM messages WHERE account_id = ?", (acc.id,)) == (0,)


def test_server_assigned_id_and_uuid_ids_are_echoed(live: Server, ip: str) -> None:
    acc, psw = live.account()
    first = live.call("send", ip, login=acc.login, psw=psw, **ONE)
    assert first.startswith("OK - 1 SMS, ID - ")
    uuid = "18a3cd1a-6d1e-4c5b-9b57-2f4d3b1a0c9e"
    assert live.call("send", ip, login=acc.login, psw=psw, id=uuid, **ONE) == (
        f"OK - 1 SMS, ID - {uuid}"
    )


# (case, parameters, code, description)
ERRORS: list[tuple[str, dict[str, str | int], int, str]] = [
    ("no phones", {"mes": "x"}, 1, "phones: required"),
    ("no text", {"phones": "79161234567"}, 1, "mes: required"),
    ("bad numbers only", {"phones": "abc,12", "mes": "x"}, 7, "invalid number"),
    ("bad cost", {**ONE, "cost": 4}, 1, "cost must be 0, 1, 2 or 3"),
    ("bad time", {**ONE, "time": "99.99.99 10:00"}, 5, "invalid time format"),
    (
        "unsupported",
        {**ONE, "viber": 1},
        1,
        "viber: Viber messages cannot be sent here, format not supported",
    ),
]


@pytest.mark.parametrize(
    ("params", "code", "description"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_send_errors_echo_the_id(
    live: Server, ip: str, params: dict[str, str | int], code: int, description: str, fmt: int
) -> None:
    acc, psw = live.account()
    got = live.call("send", ip, login=acc.login, psw=psw, id=99, fmt=fmt, **params)
    assert (
        got
        == {
            0: f"ERROR = {code} ({description}), ID - 99",
            1: f"99,-{code}",
            2: f"<result><error>{description}</error><error_code>{code}</error_code><id>99</id>"
            "</result>",
            3: f'{{"error": "{description}", "error_code": {code}, "id": 99}}',
        }[fmt]
    )
    with live.store.db.tx(write=False) as tx:
        assert tx.one("SELECT COUNT(*) FROM messages WHERE account_id = ?", (acc.id,)) == (0,)


def test_no_money_is_error_3_and_nothing_is_queued(live: Server, ip: str) -> None:
    acc, psw = live.account(balance="1.00", test_mode=False)
    assert live.call("send", ip, login=acc.login, psw=psw, **ONE) == "ERROR = 3 (no money)"
    assert live.store.balance(acc.id) == 100


def test_unapproved_sender_is_error_6_outside_test_mode(live: Server, ip: str) -> None:
    acc, psw = live.account(test_mode=False)
    live.store.add_sender(acc.id, "Shop", True, live.clock.now())
    assert live.call("send", ip, login=acc.login, psw=psw, sender="Other", **ONE) == (
        "ERROR = 6 (message is denied)"
    )
    test_acc, test_psw = live.account(test_mode=True)
    live.store.add_sender(test_acc.id, "Shop", True, live.clock.now())
    assert live.call(
        "send", ip, login=test_acc.login, psw=test_psw, sender="SMSC.ru", **ONE
    ).startswith("OK")


def test_stop_listed_recipients_are_error_8(live: Server, ip: str) -> None:
    acc, psw = live.account()
    with live.store.db.tx() as tx:
        tx.execute(
            "INSERT INTO blacklist (account_id, address, type, created_at) VALUES (?, ?, 2, 0)",
            (acc.id, "79161234567"),
        )
    assert live.call("send", ip, login=acc.login, psw=psw, **ONE) == "ERROR = 8 (can't to deliver)"


def test_identical_send_within_a_minute_is_error_9(live: Server, ip: str) -> None:
    acc, psw = live.account()
    assert live.call("send", ip, login=acc.login, psw=psw, **ONE).startswith("OK")
    assert live.call("send", ip, login=acc.login, psw=psw, **ONE) == (
        "ERROR = 9 (duplicate request, wait a minute)"
    )


def test_a_sent_message_is_delivered_charged_and_queryable(live: Server, ip: str) -> None:
    acc, psw = live.account(balance="100", test_mode=False)
    assert (
        live.call("send", ip, login=acc.login, psw=psw, id=5, sender="Shop", **ONE)
        == "OK - 1 SMS, ID - 5"
    )
    got = wait_status(live, ip, acc.login, psw, "5", "79161234567")
    assert got["status"] == 1 and got["status_name"] == "Доставлено"
    assert got["cost"] == "1.80" and got["message"] == "Hello" and got["sender_id"] == "Shop"
    assert got["phone"] == "79161234567"
    assert live.store.balance(acc.id) == 10_000 - 180 == live.store.ledger_sum(acc.id)
    short = live.call("status", ip, login=acc.login, psw=psw, id=5, phone="79161234567")
    assert short.startswith("Status = 1, check_time = ")
    line = live.call("status", ip, login=acc.login, psw=psw, id=5, phone="79161234567", fmt=1)
    status, timestamp, err = line.split(",")
    assert (status, err) == ("1", "0") and int(timestamp) > 1_700_000_000


def test_multiple_status_query_is_an_array_even_for_one(live: Server, ip: str) -> None:
    acc, psw = live.account()
    live.call(
        "send", ip, login=acc.login, psw=psw, id=8, phones="79161234567,79161234568", mes="Hi"
    )
    wait_status(live, ip, acc.login, psw, "8", "79161234568")
    one = json.loads(
        live.call(
            "status",
            ip,
            login=acc.login,
            psw=psw,
            id="8,",
            phone="79161234567,",
            fmt=3,
            all=2,
            charset="utf-8",
        )
    )
    assert isinstance(one, list) and len(one) == 1 and one[0]["id"] == 8
    assert one[0]["country"] == "Россия"
    lines = live.call(
        "status", ip, login=acc.login, psw=psw, id="8,8", phone="79161234567,79161234568", fmt=1
    ).split("\n")
    assert [line.split(",")[0] for line in lines] == ["1", "1"]
    assert [line.split(",")[-1] for line in lines] == ["79161234567", "79161234568"]


def test_unknown_message_is_status_minus_3(live: Server, ip: str) -> None:
    acc, psw = live.account()
    got = json.loads(
        live.call("status", ip, login=acc.login, psw=psw, id=424242, phone="79161234567", fmt=3)
    )
    assert got["status"] == -3


def test_another_accounts_message_is_not_visible(live: Server, ip: str) -> None:
    a, a_psw = live.account()
    b, b_psw = live.account()
    live.call("send", ip, login=a.login, psw=a_psw, id=11, **ONE)
    got = json.loads(
        live.call("status", ip, login=b.login, psw=b_psw, id=11, phone="79161234567", fmt=3)
    )
    assert got["status"] == -3
    assert (
        live.call("status", ip, login=b.login, psw=b_psw, id=11, phone="79161234567", **{"del": 1})
        == "ERROR = 5 (message cannot be deleted)"
    )


def test_delete_removes_a_finished_message_from_history(live: Server, ip: str) -> None:
    acc, psw = live.account()
    live.call("send", ip, login=acc.login, psw=psw, id=12, **ONE)
    wait_status(live, ip, acc.login, psw, "12", "79161234567")
    assert (
        live.call("status", ip, login=acc.login, psw=psw, id=12, phone="79161234567", **{"del": 1})
        == "OK"
    )
    got = json.loads(
        live.call("status", ip, login=acc.login, psw=psw, id=12, phone="79161234567", fmt=3)
    )
    assert got["status"] == -3


def _shape(fmt: int, code: int, description: str, reference: str | None = None) -> str:
    tail = (
        {0: f", ID - {reference}", 1: "", 2: f"<id>{reference}</id>", 3: f', "id": {reference}'}
        if reference
        else {0: "", 1: "", 2: "", 3: ""}
    )
    return {
        0: f"ERROR = {code} ({description}){tail[0]}",
        1: f"{reference or 0},-{code}",
        2: f"<result><error>{description}</error><error_code>{code}</error_code>{tail[2]}</result>",
        3: f'{{"error": "{description}", "error_code": {code}{tail[3]}}}',
    }[fmt]


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_every_send_error_code_in_every_fmt(live: Server, fmt: int) -> None:
    ip = f"2001:db8:5e4d::{fmt}"
    poor, poor_psw = live.account(balance="0.50", test_mode=False)
    strict, strict_psw = live.account(test_mode=False)
    live.store.add_sender(strict.id, "Shop", True, live.clock.now())
    listed, listed_psw = live.account()
    with live.store.db.tx() as tx:
        tx.execute(
            "INSERT INTO blacklist (account_id, address, type, created_at) VALUES (?, ?, 0, 0)",
            (listed.id, "79161234567"),
        )
    cases = [
        (dict(login=poor.login, psw="wrong"), 2, "authorise error"),
        (dict(login=poor.login, psw=poor_psw), 3, "no money"),
        (dict(login=strict.login, psw=strict_psw, sender="Other"), 6, "message is denied"),
        (dict(login=listed.login, psw=listed_psw), 8, "can't to deliver"),
    ]
    for auth, code, description in cases:
        got = live.call("send", ip, id=77, fmt=fmt, **ONE, **auth)
        assert got == _shape(fmt, code, description, "77"), (code, got)
    ok, ok_psw = live.account()
    live.call("send", ip, login=ok.login, psw=ok_psw, id=78, fmt=fmt, **ONE)
    assert live.call("send", ip, login=ok.login, psw=ok_psw, id=78, fmt=fmt, **ONE) == _shape(
        fmt, 9, "duplicate request, wait a minute", "78"
    )
    blocked = f"2001:db8:b10c:5e4d::{fmt}"
    live.store.block_ip(blocked, int(time.time()) + 600, "test")
    assert live.call("send", blocked, login=ok.login, psw=ok_psw, fmt=fmt, **ONE) == _shape(
        fmt, 4, "ip is blocked"
    )


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_status_and_get_errors_in_every_fmt(live: Server, fmt: int) -> None:
    ip = f"2001:db8:57a7::{fmt}"
    acc, psw = live.account()
    auth = {"login": acc.login, "psw": psw, "fmt": fmt}
    assert live.call("status", ip, **auth, id=1, phone="79161234567", all=3) == _shape(
        fmt, 1, "all must be 0, 1 or 2"
    )
    assert live.call("status", ip, **auth, id=1, phone="79161234567", **{"del": 1}) == _shape(
        fmt, 5, "message cannot be deleted"
    )
    assert live.call("get", ip, **auth, get_messages=1, cnt=0) == _shape(fmt, 1, "cnt: 1..1000")
    assert live.call("get", ip, **auth, get_stat=1, start="1.1.2026") == _shape(
        fmt, 5, "invalid date format"
    )
    assert live.call("status", ip, login=acc.login, psw="bad", fmt=fmt, id=1) == _shape(
        fmt, 2, "authorise error"
    )

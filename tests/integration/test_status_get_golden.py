"""Exact answers of status.php and get.php per fmt, on messages with known times (the test
server's clock is fixed: 15.01.2026 15:00:00 Moscow)."""

from __future__ import annotations

import pytest

from tests.conftest import CLOCK_START, Server
from tidings.domain.accounts import Account

SENT = int(CLOCK_START.timestamp())  # 15.01.2026 15:00:00 in Moscow
DONE = SENT + 7  # 15:00:07


def _message(server: Server, acc: Account, client_id: str, phone: str) -> None:
    with server.store.db.tx() as tx:
        tx.execute(
            "INSERT INTO messages (account_id, client_id, address, text, sender, status, err, "
            "cost_minor, parts, due_at, created_at, sent_at, done_at) "
            "VALUES (?, ?, ?, ?, ?, 1, 0, 180, 1, ?, ?, ?, ?)",
            (acc.id, client_id, phone, "Hello, world", "Shop", SENT, SENT, SENT, DONE),
        )


@pytest.fixture
def sent(server: Server) -> tuple[Server, dict[str, str]]:
    acc, psw = server.account()
    _message(server, acc, "5", "79161234567")
    _message(server, acc, "5", "79161234568")
    return server, {"login": acc.login, "psw": psw, "charset": "utf-8"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"fmt": 0}, "Status = 1, check_time = 15.01.2026 15:00:07"),
        ({"fmt": 1}, f"1,{DONE},0"),
        (
            {"fmt": 2},
            "<result><status>1</status><last_date>15.01.2026 15:00:07</last_date>"
            f"<last_timestamp>{DONE}</last_timestamp><err>0</err></result>",
        ),
        (
            {"fmt": 3},
            f'{{"status": 1, "last_date": "15.01.2026 15:00:07", '
            f'"last_timestamp": {DONE}, "err": 0}}',
        ),
        ({"fmt": 1, "all": 1}, f"1,{DONE},0,{SENT},79161234567,1.80,Shop,Доставлено,Hello, world"),
        (
            {"fmt": 3, "all": 1},
            f'{{"status": 1, "last_date": "15.01.2026 15:00:07", "last_timestamp": {DONE}, '
            f'"err": 0, "send_date": "15.01.2026 15:00:00", "send_timestamp": {SENT}, '
            '"phone": "79161234567", "cost": "1.80", "sender_id": "Shop", '
            '"status_name": "Доставлено", "message": "Hello, world"}',
        ),
    ],
)
def test_single_status(
    sent: tuple[Server, dict[str, str]], ip: str, params: dict[str, str | int], expected: str
) -> None:
    server, auth = sent
    assert server.call("status", ip, **auth, id=5, phone="79161234567", **params) == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (
            0,
            "Status = 1, check_time = 15.01.2026 15:00:07, id = 5, phone = 79161234567\n"
            "Status = 1, check_time = 15.01.2026 15:00:07, id = 5, phone = 79161234568",
        ),
        (1, f"1,{DONE},0,5,79161234567\n1,{DONE},0,5,79161234568"),
        (
            2,
            "<result><status><status>1</status><last_date>15.01.2026 15:00:07</last_date>"
            f"<last_timestamp>{DONE}</last_timestamp><err>0</err><id>5</id></status>"
            "<status><status>1</status><last_date>15.01.2026 15:00:07</last_date>"
            f"<last_timestamp>{DONE}</last_timestamp><err>0</err><id>5</id></status></result>",
        ),
        (
            3,
            f'[{{"status": 1, "last_date": "15.01.2026 15:00:07", "last_timestamp": {DONE}, '
            f'"err": 0, "id": 5}}, {{"status": 1, "last_date": "15.01.2026 15:00:07", '
            f'"last_timestamp": {DONE}, "err": 0, "id": 5}}]',
        ),
    ],
)
def test_multiple_status(
    sent: tuple[Server, dict[str, str]], ip: str, fmt: int, expected: str
) -> None:
    server, auth = sent
    assert (
        server.call("status", ip, **auth, id="5,5", phone="79161234567,79161234568", fmt=fmt)
        == expected
    )


def test_multiple_status_fmt0_with_details_names_the_phone_once(
    sent: tuple[Server, dict[str, str]], ip: str
) -> None:
    server, auth = sent
    answer = server.call("status", ip, **auth, id="5,", phone="79161234567,", fmt=0, all=1)
    assert answer == (
        "Status = 1, check_time = 15.01.2026 15:00:07, send_date = 15.01.2026 15:00:00, "
        "phone = 79161234567, cost = 1.80, sender_id = Shop, status_name = Доставлено, "
        "message = Hello, world, id = 5"
    )


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (0, "ERROR = 1 (id: required)"),
        (1, "0,-1"),
        (2, "<result><error>id: required</error><error_code>1</error_code></result>"),
        (3, '{"error": "id: required", "error_code": 1}'),
    ],
)
def test_status_error(
    sent: tuple[Server, dict[str, str]], ip: str, fmt: int, expected: str
) -> None:
    server, auth = sent
    assert server.call("status", ip, **auth, phone="79161234567", fmt=fmt) == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (
            1,
            f"2,5,1,15.01.2026 15:00:07,{DONE},0,15.01.2026 15:00:00,{SENT},79161234568,"
            "1.80,Shop,Доставлено,0,1,Hello, world",
        ),
        (
            3,
            '{"int_id": 2, "id": 5, "status": 1, "last_date": "15.01.2026 15:00:07", '
            f'"last_timestamp": {DONE}, "err": 0, "send_date": "15.01.2026 15:00:00", '
            f'"send_timestamp": {SENT}, "phone": "79161234568", "cost": "1.80", '
            '"sender_id": "Shop", "status_name": "Доставлено", "format": 0, "sms_cnt": 1, '
            '"message": "Hello, world"}',
        ),
    ],
)
def test_history_record(
    sent: tuple[Server, dict[str, str]], ip: str, fmt: int, expected: str
) -> None:
    server, auth = sent
    got = server.call(
        "get", ip, **auth, get_messages=1, fmt=fmt, start="15.01.2026", end="15.01.2026", cnt=1
    )
    first = got.split("\n")[0] if fmt == 1 else got[1:-1]
    # int_id is the database id: compare the rest exactly.
    assert first.split(",", 1)[1] == expected.split(",", 1)[1]

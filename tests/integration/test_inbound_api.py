"""get.php get_answers and /sys/receive_phones.php: their exact answers in every fmt, their
parameters, and tenant isolation (account B never sees A's messages or numbers). The messages
are recorded by the dispatcher's own InboundRecorder on the server's store, so each is owned
the way the engine owns it: by an assigned number, as a reply, or by nobody."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest

from tests.conftest import CLOCK_START, Server, fresh_database_url, served
from tidings.channels.base import InboundPart
from tidings.config import InboundSettings
from tidings.dispatch.db_calls import DbCalls
from tidings.dispatch.inbound import InboundRecorder
from tidings.domain.accounts import Account
from tidings.domain.clock import FakeClock, from_ts, to_ts
from tidings.domain.inbound import InboundService
from tidings.store.inbound_reads import InboundQueries

NOW = to_ts(CLOCK_START)  # 15.01.2026 15:00:00 in Moscow
A_NUMBER = "79001112233"
B_NUMBER = "79004445566"
PHONE = "79161234567"


def _record(srv: Server, source: str, destination: str, text: str) -> None:
    recorder = InboundRecorder(srv.store.db, srv.clock, DbCalls(srv.store.db), InboundSettings())
    fingerprint = hashlib.sha1(f"{source}{destination}{text}".encode()).hexdigest()
    recorder.record([InboundPart("sim", source, destination, text, fingerprint)])


@pytest.fixture(scope="module")
def inbox(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, dict[str, str], dict[str, str]]]:
    """Account A: number A_NUMBER, a message sent to PHONE from "Shop" at 14:00; account B:
    number B_NUMBER. Inbound ids 1–4 as below (a fresh database, so the ids are known)."""
    url = fresh_database_url(backend, tmp_path_factory.mktemp("answers"))
    clock = FakeClock(CLOCK_START)
    with served(url, clock) as srv:
        a, a_psw = srv.account()
        b, b_psw = srv.account()
        _assign(srv, A_NUMBER, a, NOW - 86400)
        _assign(srv, B_NUMBER, b, NOW - 3600)
        with srv.store.db.tx() as tx:
            tx.execute(
                "INSERT INTO messages (account_id, address, text, sender, status, err, "
                "cost_minor, parts, due_at, created_at, sent_at) "
                "VALUES (?, ?, 'Sale', 'Shop', 1, 0, 180, 1, ?, ?, ?)",
                (a.id, PHONE, NOW - 3600, NOW - 3600, NOW - 3600),
            )
        clock.set(CLOCK_START.replace(hour=10))  # 13:00 Moscow: two hours ago
        _record(srv, PHONE, A_NUMBER, "Early")  # 1: A by number, two hours old
        clock.set(CLOCK_START)
        _record(srv, "+" + PHONE, A_NUMBER, "Привет, мир")  # 2: A by number
        _record(srv, PHONE, "Shop", "Да\nспасибо")  # 3: A, a reply to the 14:00 message
        _record(srv, "79169999999", B_NUMBER, "B's own")  # 4: B by number
        _record(srv, "79160000000", "79990000000", "nobody's")  # 5: unassigned
        auth_a = {"login": a.login, "psw": a_psw, "charset": "utf-8"}
        auth_b = {"login": b.login, "psw": b_psw, "charset": "utf-8"}
        yield srv, auth_a, auth_b


def _assign(srv: Server, number: str, acc: Account, at: int) -> None:
    InboundService(InboundQueries(srv.store.db)).assign(number, acc, from_ts(at))


ANSWERS = {
    0: (
        "id = 2, received = 15.01.2026 15:00:00, phone = 79161234567, to_phone = 79001112233, "
        "sent = , message = Привет, мир\n"
        "id = 3, received = 15.01.2026 15:00:00, phone = 79161234567, to_phone = Shop, "
        "sent = 15.01.2026 14:00:00, message = Да\\nспасибо"
    ),
    1: (
        "2,15.01.2026 15:00:00,79161234567,79001112233,,Привет, мир\n"
        "3,15.01.2026 15:00:00,79161234567,Shop,15.01.2026 14:00:00,Да\\nспасибо"
    ),
    2: (
        "<answers><answer><id>2</id><received>15.01.2026 15:00:00</received>"
        "<phone>79161234567</phone><to_phone>79001112233</to_phone><sent></sent>"
        "<message>Привет, мир</message></answer>"
        "<answer><id>3</id><received>15.01.2026 15:00:00</received>"
        "<phone>79161234567</phone><to_phone>Shop</to_phone><sent>15.01.2026 14:00:00</sent>"
        "<message>Да\nспасибо</message></answer></answers>"
    ),
    3: (
        '[{"id": 2, "received": "15.01.2026 15:00:00", "phone": "79161234567", '
        '"to_phone": "79001112233", "sent": "", "message": "Привет, мир"}, '
        '{"id": 3, "received": "15.01.2026 15:00:00", "phone": "79161234567", '
        '"to_phone": "Shop", "sent": "15.01.2026 14:00:00", "message": "Да\\nспасибо"}]'
    ),
}


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_get_answers_of_the_last_hour_in_every_fmt(
    inbox: tuple[Server, dict[str, str], dict[str, str]], ip: str, fmt: int
) -> None:
    srv, auth, _ = inbox
    assert srv.call("get", ip, **auth, get_answers=1, fmt=fmt) == ANSWERS[fmt]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [(0, "NO ANSWERS"), (1, "NO ANSWERS"), (2, "<answers></answers>"), (3, "[]")],
)
def test_get_answers_with_none_to_show(
    inbox: tuple[Server, dict[str, str], dict[str, str]], ip: str, fmt: int, expected: str
) -> None:
    srv, auth, _ = inbox
    assert srv.call("get", ip, **auth, get_answers=1, after_id=5, fmt=fmt) == expected


def test_hour_after_id_and_to_phone_narrow_the_answer(
    inbox: tuple[Server, dict[str, str], dict[str, str]], ip: str
) -> None:
    srv, auth, _ = inbox

    def ids(**params: str | int) -> list[int]:
        answer = json.loads(srv.call("get", ip, **auth, get_answers=1, fmt=3, **params))
        return [a["id"] for a in answer]

    assert ids() == [2, 3]
    assert ids(hour=3) == [1, 2, 3]  # oldest first: page on with after_id
    assert ids(hour=24, after_id=1) == [2, 3]
    assert ids(hour=24, after_id=2) == [3]
    assert ids(hour=3, to_phone="+" + A_NUMBER) == [1, 2]
    assert ids(to_phone="Shop") == [3]
    assert ids(to_phone=B_NUMBER) == []


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"hour": 0}, "hour: 1..24"),
        ({"hour": 25}, "hour: 1..24"),
        ({"hour": "x"}, "hour: a number"),
        ({"after_id": "-1"}, "after_id: a number"),
    ],
)
def test_bad_get_answers_parameters_are_error_1(
    inbox: tuple[Server, dict[str, str], dict[str, str]],
    ip: str,
    params: dict[str, str | int],
    description: str,
) -> None:
    srv, auth, _ = inbox
    answer = srv.call("get", ip, **auth, get_answers=1, fmt=3, **params)
    assert answer == f'{{"error": "{description}", "error_code": 1}}'


def test_account_b_sees_only_its_own_answers(
    inbox: tuple[Server, dict[str, str], dict[str, str]], ip: str
) -> None:
    srv, _, auth_b = inbox
    answer = srv.call("get", ip, **auth_b, get_answers=1, fmt=1, hour=24)
    assert answer == "4,15.01.2026 15:00:00,79169999999,79004445566,,B's own"
    # Asking for A's number, or past A's ids, shows none of A's either.
    assert srv.call("get", ip, **auth_b, get_answers=1, fmt=3, to_phone=A_NUMBER) == "[]"


RECEIVE_PHONES = {
    "a": {
        0: "79001112233|14.01.2026 15:00:00",
        1: "79001112233;14.01.2026 15:00:00",
        2: "<numbers><number><phone>79001112233</phone>"
        "<created>14.01.2026 15:00:00</created></number></numbers>",
        3: '[{"phone": "79001112233", "created": "14.01.2026 15:00:00"}]',
    },
    "b": {
        0: "79004445566|15.01.2026 14:00:00",
        1: "79004445566;15.01.2026 14:00:00",
        2: "<numbers><number><phone>79004445566</phone>"
        "<created>15.01.2026 14:00:00</created></number></numbers>",
        3: '[{"phone": "79004445566", "created": "15.01.2026 14:00:00"}]',
    },
}


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
@pytest.mark.parametrize("who", ["a", "b"])
def test_receive_phones_lists_the_accounts_own_numbers_in_every_fmt(
    inbox: tuple[Server, dict[str, str], dict[str, str]], ip: str, fmt: int, who: str
) -> None:
    srv, auth_a, auth_b = inbox
    auth = auth_a if who == "a" else auth_b
    assert srv.call("receive_phones", ip, **auth, get=1, fmt=fmt) == RECEIVE_PHONES[who][fmt]
    # [choice] the list is also the answer without get=1.
    assert srv.call("receive_phones", ip, **auth, fmt=fmt) == RECEIVE_PHONES[who][fmt]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [(0, "NO PHONES"), (1, "NO PHONES"), (2, "<numbers></numbers>"), (3, "[]")],
)
def test_receive_phones_of_an_account_without_numbers(
    inbox: tuple[Server, dict[str, str], dict[str, str]], ip: str, fmt: int, expected: str
) -> None:
    srv, _, _ = inbox
    acc, psw = srv.account()
    assert srv.call("receive_phones", ip, login=acc.login, psw=psw, fmt=fmt) == expected


def test_receive_phones_needs_credentials(
    inbox: tuple[Server, dict[str, str], dict[str, str]], ip: str
) -> None:
    srv, auth, _ = inbox
    answer = srv.call("receive_phones", ip, login=auth["login"], psw="wrong", fmt=3)
    assert answer == '{"error": "authorise error", "error_code": 2}'

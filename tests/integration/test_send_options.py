"""Options that used to be accepted and ignored (issue 12 item 5): each either works or is
refused with error 1 naming it, and a refused request stores nothing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Server
from tests.integration.test_send_status_api import wait_status

ONE = {"phones": "79161234567", "mes": "Hello"}
TWO = {"phones": "79161234567, abc", "mes": "Hello"}


def _auth(server: Server) -> dict[str, str]:
    acc, psw = server.account()
    return {"login": acc.login, "psw": psw, "charset": "utf-8"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"fmt": 0, "op": 1},
            "OK - 1 SMS, ID - 7\n79161234567 - 1.80, 1 SMS\nabc - ERROR = 7 (invalid number)",
        ),
        ({"fmt": 0, "err": 1}, "OK - 1 SMS, ID - 7\nabc - ERROR = 7 (invalid number)"),
        ({"fmt": 1, "op": 1}, "7,1\n79161234567,1.80,1,0\nabc,0.00,0,7"),
        ({"fmt": 1, "err": 1}, "7,1\nabc,0.00,0,7"),
        (
            {"fmt": 2, "op": 1},
            "<result><cnt>1</cnt><id>7</id><phones><number><phone>79161234567</phone>"
            "<cost>1.80</cost><cnt>1</cnt><error>0</error></number><number><phone>abc</phone>"
            "<cost>0.00</cost><cnt>0</cnt><error>7</error></number></phones></result>",
        ),
        (
            {"fmt": 2, "err": 1},
            "<result><cnt>1</cnt><id>7</id><errors><number><phone>abc</phone><cost>0.00</cost>"
            "<cnt>0</cnt><error>7</error></number></errors></result>",
        ),
        (
            {"fmt": 3, "op": 1, "err": 1},
            '{"id": 7, "cnt": 1, "phones": [{"phone": "79161234567", "cost": "1.80", "cnt": 1, '
            '"error": 0}, {"phone": "abc", "cost": "0.00", "cnt": 0, "error": 7}], '
            '"errors": [{"phone": "abc", "cost": "0.00", "cnt": 0, "error": 7}]}',
        ),
        (
            {"fmt": 3, "cost": 1, "op": 1},
            '{"cost": "1.80", "cnt": 1, "phones": [{"phone": "79161234567", "cost": "1.80", '
            '"cnt": 1, "error": 0}, {"phone": "abc", "cost": "0.00", "cnt": 0, "error": 7}]}',
        ),
    ],
)
def test_op_and_err_list_the_numbers(
    server: Server, ip: str, params: dict[str, str | int], expected: str
) -> None:
    auth = _auth(server)
    assert server.call("send", ip, **auth, id=7, **TWO, **params) == expected


def test_op_shows_a_stop_listed_number_as_error_8(server: Server, ip: str) -> None:
    auth = _auth(server)
    server.call("phones", ip, **auth, add_black=1, phone="79161234568", type=2)
    got = json.loads(
        server.call("send", ip, **auth, phones="79161234567,79161234568", mes="Hi", fmt=3, err=1)
    )
    assert got["errors"] == [{"phone": "79161234568", "cost": "0.00", "cnt": 0, "error": 8}]


def test_op_and_err_must_be_0_or_1(server: Server, ip: str) -> None:
    assert server.call("send", ip, **_auth(server), **ONE, op=2) == "ERROR = 1 (op must be 0 or 1)"


# (case, script, parameters, the description's start)
REFUSED: list[tuple[str, str, dict[str, str | int], str]] = [
    ("whatsapp", "send", {**ONE, "whatsapp": 1}, "whatsapp: WhatsApp messages cannot be sent"),
    ("viber", "send", {**ONE, "viber": 1}, "viber: Viber messages cannot be sent"),
    ("tg", "jobs", {"tg": 1}, "tg: Telegram messages cannot be sent"),
    ("call", "send", {**ONE, "call": 1}, "call: voice calls cannot be sent"),
    ("mms", "jobs", {"mms": 1}, "mms: MMS messages cannot be sent"),
    ("push", "send", {**ONE, "push": 1}, "push: WAP-push messages cannot be sent"),
    ("soc", "send", {**ONE, "soc": 1}, "soc: social network messages cannot be sent"),
    ("hlr", "send", {**ONE, "hlr": 1}, "hlr: HLR requests (no upstream does HLR)"),
    ("viber prefix", "send", {**ONE, "mes": "__VIBER__ Hi"}, "viber: Viber messages"),
    ("call prefix", "jobs", {"mes": "__CALL__ Hi"}, "call: voice calls"),
    ("hlr prefix", "send", {**ONE, "mes": "__HLR__"}, "hlr: HLR requests"),
    ("prefix in list", "send", {"list": "79161234567:__SOC__ Hi"}, "soc: social network"),
    ("telegram chat", "send", {**ONE, "phones": "#shop_chat"}, "phones: Telegram chats (#ID)"),
    ("telegram in list", "jobs", {"phones": "79161234567,#42"}, "phones: Telegram chats"),
    ("tinyurl", "send", {**ONE, "tinyurl": 1}, "tinyurl: link shortening is not supported"),
    ("tinyurl jobs", "jobs", {"tinyurl": 1}, "tinyurl: link shortening is not supported"),
    ("fileurl", "jobs", {"fileurl": "http://x.test/a.png"}, "fileurl: attachments are not"),
    ("mes2", "jobs", {"mes2": "fallback"}, "mes2: a fallback text needs Viber"),
    ("voice", "send", {**ONE, "voice": "w"}, "voice: voice calls are not supported"),
    ("param", "jobs", {"param": "10,10,2"}, "param: voice calls are not supported"),
]


@pytest.mark.parametrize(
    ("script", "params", "words"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_undeliverable_types_and_their_options_are_refused(
    server: Server, ip: str, script: str, params: dict[str, str | int], words: str
) -> None:
    acc, psw = server.account()
    request: dict[str, str | int] = {"login": acc.login, "psw": psw, "fmt": 3}
    if script == "jobs":
        request |= {"add": 1, "name": "L", "phones": "79161234567", "mes": "Hi"}
    answer = json.loads(server.call(script, ip, **{**request, **params}))
    assert answer["error_code"] == 1
    assert answer["error"].startswith(words), answer["error"]
    with server.store.db.tx(write=False) as tx:
        assert tx.one("SELECT COUNT(*) FROM messages WHERE account_id = ?", (acc.id,)) == (0,)
        assert tx.one("SELECT COUNT(*) FROM jobs WHERE account_id = ?", (acc.id,)) == (0,)


def test_a_ping_prefix_sends_a_ping(server: Server, ip: str) -> None:
    """`__PING__` names a type we do send: the message is a ping (format 6)."""
    acc, psw = server.account()
    assert server.call("send", ip, login=acc.login, psw=psw, phones="79161234567", mes="__PING__")
    with server.store.db.tx(write=False) as tx:
        assert tx.one("SELECT format FROM messages WHERE account_id = ?", (acc.id,)) == (6,)


def test_tinyurl_0_and_empty_options_are_the_same_as_absent(server: Server, ip: str) -> None:
    auth = _auth(server)
    sent = server.call("send", ip, **auth, **ONE, tinyurl=0, fileurl="", voice="", viber=0)
    assert sent.startswith("OK - 1 SMS, ID - ")


def test_jobs_cost_counts_the_members_of_g_groups_now(server: Server, ip: str) -> None:
    auth = _auth(server)
    group = server.call("phones", ip, **auth, add_group=1, name="VIP", num=5, fmt=3)
    group_id = json.loads(group)["id"]
    server.call("phones", ip, **auth, add=1, phone="79160000001,79160000002", grp=group_id)
    # Two members at 1.80, one of them also given as a number (sent once), one other number.
    got = server.call(
        "jobs",
        ip,
        **auth,
        add=1,
        name="L",
        phones="G5,79160000001,79161234567",
        mes="Hi",
        cost=1,
        fmt=3,
    )
    assert json.loads(got)["cost"] == "5.40"
    only_group = server.call(
        "jobs", ip, **auth, add=1, name="M", phones="G5", mes="Hi", cost=1, fmt=1
    )
    assert only_group.endswith(",3.60")


def _moscow_hour() -> int:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/Moscow")).hour


def test_send_php_h1_h2_waits_for_the_window(live: Server, ip: str) -> None:
    """A send outside its hours waits (status -1) until the window opens on the recipient's
    clock; one inside them goes out now."""
    acc, psw = live.account()
    hour = _moscow_hour()
    # Two hours wide, so that the hour turning during the test changes nothing.
    closed = f"{(hour + 3) % 24}-{(hour + 4) % 24}"
    opened = f"{hour}-{(hour + 2) % 24 or 24}"
    auth = {"login": acc.login, "psw": psw}
    assert live.call("send", ip, **auth, **ONE, id=1, time=closed).startswith("OK - 1 SMS")
    assert live.call("send", ip, **auth, **ONE, id=2, time=opened).startswith("OK - 1 SMS")
    assert wait_status(live, ip, acc.login, psw, "2", "79161234567")["status"] == 1
    time.sleep(0.3)  # several dispatcher ticks
    with live.store.db.tx(write=False) as tx:
        row = tx.one(
            "SELECT status, due_at FROM messages WHERE account_id = ? AND client_id = ?",
            (acc.id, "1"),
        )
    assert row is not None
    status, due_at = row
    assert status == -1
    opens = datetime.fromtimestamp(due_at, UTC).astimezone(ZoneInfo("Europe/Moscow"))
    assert opens.hour == (hour + 3) % 24 and opens.minute == 0

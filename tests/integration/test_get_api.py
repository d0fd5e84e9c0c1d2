"""get.php: history (get_messages) and totals (get_stat) through a live server."""

from __future__ import annotations

import json
import time

from tests.conftest import Server


def _send_three(live: Server, ip: str) -> tuple[str, str]:
    acc, psw = live.account(balance="100", test_mode=False)
    for n, phone in enumerate(("79161234567", "79161234568", "79161234567")):
        live.call("send", ip, login=acc.login, psw=psw, phones=phone, mes=f"Text {n}", id=n + 1)
    deadline = time.monotonic() + 15
    while True:
        (stat,) = json.loads(live.call("get", ip, login=acc.login, psw=psw, get_stat=1, fmt=3))
        if stat["delivered"] == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return acc.login, psw


def test_history_newest_first_with_paging_and_filters(live: Server, ip: str) -> None:
    login, psw = _send_three(live, ip)
    got = json.loads(
        live.call("get", ip, login=login, psw=psw, get_messages=1, fmt=3, charset="utf-8")
    )
    assert [m["message"] for m in got] == ["Text 2", "Text 1", "Text 0"]
    first = got[0]
    assert (first["status"], first["status_name"], first["cost"]) == (1, "Доставлено", "1.80")
    assert first["phone"] == "79161234567" and first["id"] == 3 and first["sms_cnt"] == 1
    page = json.loads(
        live.call(
            "get", ip, login=login, psw=psw, get_messages=1, fmt=3, cnt=1, prev_id=first["int_id"]
        )
    )
    assert [m["message"] for m in page] == ["Text 1"]
    only = json.loads(
        live.call("get", ip, login=login, psw=psw, get_messages=1, fmt=3, phone="+7 916 123-45-68")
    )
    assert [m["message"] for m in only] == ["Text 1"]
    lines = live.call("get", ip, login=login, psw=psw, get_messages=1, fmt=1).split("\n")
    assert len(lines) == 3 and lines[0].endswith(",Text 2")


def test_stat_totals_over_the_period(live: Server, ip: str) -> None:
    login, psw = _send_three(live, ip)
    # fmt 3 is an array, as smsc.ru answers get_stat (node-smsc asserts it): one object.
    stat = json.loads(live.call("get", ip, login=login, psw=psw, get_stat=1, fmt=3))
    assert stat == [
        {
            "msg_cnt": 3,
            "sms_cnt": 3,
            "cost": "5.40",
            "delivered": 3,
            "failed": 0,
            "in_progress": 0,
        }
    ]
    assert live.call("get", ip, login=login, psw=psw, get_stat=1, fmt=1) == "3,3,5.40,3,0,0"


def test_history_is_per_account_and_never_empty(live: Server, ip: str) -> None:
    _send_three(live, ip)
    other, psw = live.account()
    assert live.call("get", ip, login=other.login, psw=psw, get_messages=1) == "NO MESSAGES"
    assert live.call("get", ip, login=other.login, psw=psw, get_messages=1, fmt=3) == "[]"


def test_bad_parameters(live: Server, ip: str) -> None:
    acc, psw = live.account()
    auth = {"login": acc.login, "psw": psw}
    assert live.call("get", ip, **auth, get_messages=1, cnt=1001).startswith("ERROR = 1 (cnt")
    assert live.call("get", ip, **auth, get_messages=1, start="2026-01-01").startswith(
        "ERROR = 5 ("
    )
    assert live.call(
        "get", ip, **auth, get_messages=1, start="01.01.2020", end="01.01.2021"
    ).startswith("ERROR = 5 (")
    assert live.call("get", ip, **auth).startswith("ERROR = 1 (")

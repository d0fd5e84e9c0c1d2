"""Where smsc.ru answers differently (issue 12, node-smsc's suite against smsc.ru): each
difference decided in docs/api.md, and each decision tested here."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import Server
from tests.integration.test_not_provided import envelope


def test_id_0_and_an_empty_id_are_assigned_ids(server: Server, ip: str) -> None:
    acc, psw = server.account()
    auth = {"login": acc.login, "psw": psw}
    answers = [
        server.call("send", ip, **auth, phones="79161234567", mes=f"m{n}", id=given)
        for n, given in enumerate(("0", "0", "00", ""))
    ]
    ids = [re.fullmatch(r"OK - 1 SMS, ID - (\d+)", a).group(1) for a in answers]  # type: ignore[union-attr]
    assert len(set(ids)) == 4 and "0" not in ids
    for n, sent_id in enumerate(ids):
        found = json.loads(
            server.call("status", ip, **auth, fmt=3, all=1, id=sent_id, phone="79161234567")
        )
        assert found["message"] == f"m{n}"
    # An error of an id=0 send echoes no id (fmt 0 would otherwise say `, ID - 0`).
    assert (
        server.call("send", ip, **auth, phones="x", mes="m", id="0") == "ERROR = 7 (invalid number)"
    )


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_del_right_after_the_send_is_error_5(server: Server, ip: str, fmt: int) -> None:
    """smsc.ru deletes at once; Tidings keeps a message in flight (this server has no
    dispatcher, so the message is still waiting)."""
    acc, psw = server.account()
    auth = {"login": acc.login, "psw": psw}
    sent = json.loads(server.call("send", ip, **auth, fmt=3, phones="79161234567", mes=f"d{fmt}"))
    answer = server.call(
        "status", ip, **auth, fmt=fmt, id=sent["id"], phone="79161234567", **{"del": 1}
    )
    assert answer == envelope(fmt, "message cannot be deleted", 5)


def test_del_group_and_chg_group_take_grp(server: Server, ip: str) -> None:
    acc, psw = server.account()
    auth = {"login": acc.login, "psw": psw, "fmt": 3}

    def phones(**params: object) -> object:
        return json.loads(server.call("phones", ip, **auth, **params))  # type: ignore[arg-type]

    first = phones(add_group=1, name="One")["id"]  # type: ignore[index]
    second = phones(add_group=1, name="Two")["id"]  # type: ignore[index]
    assert phones(chg_group=1, grp=first, name="Renamed") == {"result": "OK"}
    assert [g["name"] for g in phones(get_group=1)] == ["Renamed", "Two"]  # type: ignore[attr-defined]
    assert phones(chg_group=1, id=first, grp=second, name="x") == {
        "error": "id or grp: give one of them",
        "error_code": 1,
    }
    assert phones(del_group=1, grp=f"{first},{second}") == {"result": "OK"}
    assert phones(get_group=1) == []
    assert phones(del_group=1, grp=first) == {"error": "group not found", "error_code": 3}


def test_numbers_outside_every_numbering_plan_are_refused(server: Server, ip: str) -> None:
    number = "99999999999"  # +999 is no country's code
    acc, psw = server.account()
    auth = {"login": acc.login, "psw": psw, "fmt": 3}
    added = json.loads(server.call("phones", ip, **auth, add=1, phone=number, name="Test"))
    assert added == {"error": f"phone: not a phone number: {number}", "error_code": 1}
    sent = json.loads(server.call("send", ip, **auth, phones=number, mes="x"))
    assert sent == {"error": "invalid number", "error_code": 7}
    # node-smsc's other test number is a possible +1 number: taken.
    taken = json.loads(server.call("phones", ip, **auth, add=1, phone="11111111111", name="T"))
    assert isinstance(taken["id"], int)


def test_get_stat_is_an_array_in_fmt_3(server: Server, ip: str) -> None:
    acc, psw = server.account()
    auth = {"login": acc.login, "psw": psw}
    server.call("send", ip, **auth, phones="79161234567", mes="s")
    (row,) = json.loads(server.call("get", ip, **auth, fmt=3, get_stat=1))
    assert row == {
        "msg_cnt": 1,
        "sms_cnt": 1,
        "cost": "0.00",
        "delivered": 0,
        "failed": 0,
        "in_progress": 1,
    }
    # The other fmts keep their one record.
    assert server.call("get", ip, **auth, fmt=1, get_stat=1) == "1,1,0.00,0,0,1"

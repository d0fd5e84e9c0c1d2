"""Every jobs.php parameter rule (jobs.md §1): the documented error code, and nothing stored."""

from __future__ import annotations

import pytest

from tests.conftest import Server

OK_ADD = {"add": 1, "name": "Promo", "phones": "79161234567", "mes": "Hello"}


def _without(key: str) -> dict[str, str | int]:
    return {k: v for k, v in OK_ADD.items() if k != key}


# (case id, request parameters, error code, words the description must contain)
RULES: list[tuple[str, dict[str, str | int], int, str]] = [
    ("no action", {"name": "x"}, 1, "exactly one"),
    ("two actions", {**OK_ADD, "get_all": 1}, 1, "exactly one"),
    ("fmt out of range", {**OK_ADD, "fmt": 7}, 1, "fmt"),
    ("unknown charset", {**OK_ADD, "charset": "latin-9"}, 1, "charset"),
    ("name missing", _without("name"), 1, "name"),
    ("name blank", {**OK_ADD, "name": "   "}, 1, "name"),
    ("name too long", {**OK_ADD, "name": "x" * 101}, 1, "name"),
    ("phones missing", _without("phones"), 1, "phones"),
    ("phones all invalid", {**OK_ADD, "phones": "abc,123"}, 1, "phones"),
    ("phones with list", {**_without("mes"), "list": "79161234567:hi"}, 1, "phones"),
    ("mes missing", _without("mes"), 1, "mes"),
    ("mes too long", {**OK_ADD, "mes": "x" * 1001}, 1, "mes"),
    ("mes with list", {**_without("phones"), "list": "79161234567:hi"}, 1, "mes"),
    ("tpl with mes", {**OK_ADD, "tpl": 1}, 1, "tpl"),
    ("tpl not a number", {**_without("mes"), "tpl": "abc"}, 1, "tpl"),
    ("tpl unknown", {**_without("mes"), "tpl": 424242}, 1, "tpl"),
    ("list line without text", {"add": 1, "name": "L", "list": "79161234567"}, 1, "list"),
    ("list without valid recipient", {"add": 1, "name": "L", "list": "abc:hi"}, 1, "list"),
    ("list text too long", {"add": 1, "name": "L", "list": "79161234567:" + "x" * 1001}, 1, "list"),
    ("id zero", {**OK_ADD, "id": 0}, 1, "id"),
    ("id too big", {**OK_ADD, "id": 2147483648}, 1, "id"),
    ("id not a number", {**OK_ADD, "id": "abc"}, 1, "id"),
    ("sender too long", {**OK_ADD, "sender": "ABCDEFGHIJKL"}, 1, "sender"),
    ("sender not Latin", {**OK_ADD, "sender": "Магазин"}, 1, "sender"),
    ("sender 16 digits", {**OK_ADD, "sender": "1234567890123456"}, 1, "sender"),
    ("sender2 invalid", {**OK_ADD, "sender2": "Магазин"}, 1, "sender2"),
    ("mail without subj", {**OK_ADD, "mail": 1, "phones": "a@example.com"}, 1, "subj"),
    (
        "subj too long",
        {**OK_ADD, "mail": 1, "phones": "a@example.com", "subj": "s" * 256},
        1,
        "subj",
    ),
    ("mail to phones", {**OK_ADD, "mail": 1, "subj": "s"}, 1, "phones"),
    (
        "mail sender not an address",
        {**OK_ADD, "mail": 1, "phones": "a@example.com", "subj": "s", "sender": "Shop"},
        1,
        "sender",
    ),
    ("time garbage", {**OK_ADD, "time": "tomorrow"}, 5, "time"),
    ("time impossible date", {**OK_ADD, "time": "31.02.26 10:00"}, 5, "time"),
    ("time bad window", {**OK_ADD, "time": "9-25"}, 5, ""),
    ("tz garbage", {**OK_ADD, "tz": "Mars/Olympus"}, 5, "tz"),
    ("tz out of range", {**OK_ADD, "tz": "20"}, 5, "tz"),
    ("rpt out of range", {**OK_ADD, "rpt": 8}, 1, "rpt"),
    ("rptn negative", {**OK_ADD, "rpt": 1, "rptn": -1}, 1, "rptn"),
    ("period without freq", {**OK_ADD, "period": 2}, 1, "period"),
    ("period too long", {**OK_ADD, "period": 721, "freq": 10}, 1, "period"),
    ("freq too big", {**OK_ADD, "period": 2, "freq": 1441}, 1, "freq"),
    ("valid hours too big", {**OK_ADD, "valid": 25}, 1, "valid"),
    ("valid clock too big", {**OK_ADD, "valid": "24:01"}, 1, "valid"),
    ("translit out of range", {**OK_ADD, "translit": 3}, 1, "translit"),
    ("push unsupported", {**OK_ADD, "push": 1}, 1, "format not supported"),
    ("hlr unsupported", {**OK_ADD, "hlr": 1}, 1, "format not supported"),
    ("mms unsupported", {**OK_ADD, "mms": 1}, 1, "format not supported"),
    ("viber unsupported", {**OK_ADD, "viber": 1}, 1, "format not supported"),
    ("call unsupported", {**OK_ADD, "call": 1}, 1, "format not supported"),
    ("soc unsupported", {**OK_ADD, "soc": 1}, 1, "format not supported"),
    ("two formats", {**OK_ADD, "flash": 1, "bin": 1}, 1, "format"),
    ("bin out of range", {**OK_ADD, "bin": 3}, 1, "bin"),
    ("bin=2 not hex", {**OK_ADD, "bin": 2, "mes": "xyz"}, 1, "hex"),
    ("cost out of range", {**OK_ADD, "cost": 2}, 1, "cost"),
    ("get without id", {"get": 1}, 1, "id"),
    ("cancel bad id", {"cancel": 1, "id": "x"}, 1, "id"),
    ("get unknown id", {"get": 1, "id": 31337}, 3, "not found"),
    ("cancel unknown id", {"cancel": 1, "id": 31337}, 3, "not found"),
    ("del unknown id", {"del": 1, "id": 31337}, 3, "not found"),
    ("get_all bad start", {"get_all": 1, "start": "2026-01-01"}, 5, "date"),
    ("get_all bad end", {"get_all": 1, "end": "32.01.2026"}, 5, "date"),
]


@pytest.mark.parametrize(
    ("params", "code", "words"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_rule(server: Server, ip: str, params: dict[str, str | int], code: int, words: str) -> None:
    acc, psw = server.account()
    before = server.store.balance(acc.id)
    request = {"fmt": 3, "charset": "utf-8", **params}
    answer = server.jobs(ip, login=acc.login, psw=psw, **request)
    # A bad fmt cannot be answered in that fmt: the error comes in fmt 0.
    shape = f"ERROR = {code} (" if request["fmt"] == 7 else f'"error_code": {code}'
    assert shape in answer
    assert words in answer
    # Nothing was stored, and no money moved.
    listing = server.jobs(ip, login=acc.login, psw=psw, get_all=1, fmt=3)
    assert listing == "[]"
    assert server.store.balance(acc.id) == before


def test_taken_id_is_error_3_and_the_first_list_is_unchanged(server: Server, ip: str) -> None:
    acc, psw = server.account()
    assert server.jobs(ip, login=acc.login, psw=psw, id=7, **OK_ADD) == "OK, ID - 7"
    again = {**OK_ADD, "id": 7, "name": "Other", "mes": "Other text"}
    assert server.jobs(ip, login=acc.login, psw=psw, **again) == (
        "ERROR = 3 (mailing list id is taken)"
    )
    assert "|Promo|" in server.jobs(ip, login=acc.login, psw=psw, get=1, id=7)


def test_unapproved_sender_is_refused_when_the_account_has_approved_ones(
    server: Server, ip: str
) -> None:
    acc, psw = server.account()
    server.store.add_sender(acc.id, "Shop", True, server.clock.now())
    refused = server.jobs(ip, login=acc.login, psw=psw, sender="Other", **OK_ADD)
    assert refused.startswith("ERROR = 1 (sender:")
    assert server.jobs(ip, login=acc.login, psw=psw, get_all=1) == "NO JOBS"
    assert server.jobs(ip, login=acc.login, psw=psw, sender="Shop", **OK_ADD).startswith("OK")


def test_cancelling_twice_is_error_3(server: Server, ip: str) -> None:
    acc, psw = server.account()
    server.jobs(ip, login=acc.login, psw=psw, id=3, **OK_ADD)
    assert server.jobs(ip, login=acc.login, psw=psw, cancel=1, id=3) == "OK"
    # fmt=2 makes it a different request (an identical one would be error 9).
    assert server.jobs(ip, login=acc.login, psw=psw, cancel=1, id=3, fmt=2) == (
        "<result><error>mailing list cannot be cancelled</error><error_code>3</error_code></result>"
    )
    status = server.jobs(ip, login=acc.login, psw=psw, get=1, id=3, fmt=3)
    assert '"status": -2' in status

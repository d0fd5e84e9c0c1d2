"""phones.php through the real HTTP server on SQLite and PostgreSQL: golden answers per action
and fmt, every error in every fmt, parameter rules (nothing changes on a refusal), tenant
isolation, the three-a-minute limit, and contacts/blacklist as the mailing-list engine sees them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import CLOCK_START, Server, fresh_database_url, served
from tests.integration.engine_support import dispatcher, drive, view
from tidings.domain.clock import FakeClock, to_ts


@dataclass
class Client:
    """One account talking to phones.php (and friends) from one client IP, in UTF-8."""

    server: Server
    ip: str
    login: str
    psw: str

    def raw(self, script: str, **params: str | int) -> bytes:
        response = self.server.client.get(
            f"/sys/{script}.php",
            params={"login": self.login, "psw": self.psw, "charset": "utf-8", **params},
            headers={"X-Forwarded-For": self.ip},
        )
        assert response.status_code == 200
        return response.content

    def __call__(self, **params: str | int) -> str:
        return self.raw("phones", **params).decode("utf-8")

    def json(self, **params: str | int) -> Any:
        return json.loads(self(fmt=3, **params))


def client_for(server: Server, ip: str) -> Client:
    acc, psw = server.account()
    return Client(server, ip, acc.login, psw)


@pytest.fixture
def client(server: Server, ip: str) -> Client:
    return client_for(server, ip)


def snapshot(client: Client) -> tuple[list[Any], ...]:
    """Everything phones.php can change for the client's account."""
    acc = client.server.store.account_by_login(client.login)
    assert acc is not None
    with client.server.store.db.tx(write=False) as tx:
        return tuple(
            tx.all(sql, (acc.id,))
            for sql in (
                "SELECT id, phone, email, name FROM contacts WHERE account_id = ? ORDER BY id",
                "SELECT id, num, name, type FROM contact_groups WHERE account_id = ? ORDER BY id",
                "SELECT gm.group_id, gm.contact_id FROM group_members gm JOIN contacts c "
                "ON c.id = gm.contact_id WHERE c.account_id = ? ORDER BY 1, 2",
                "SELECT id, address, type FROM blacklist WHERE account_id = ? ORDER BY id",
            )
        )


def seed(client: Client) -> dict[str, int]:
    """Two groups, three contacts (two in group `vip`), one stop-listed number."""
    vip = client.json(add_group=1, name="VIP", num=5)["id"]
    news = client.json(add_group=1, name="News", type=1)["id"]
    ivan, maria = client.json(add=1, phone="89161234567\n+7 916 123-45-68", name="Иван", grp=vip)[
        "ids"
    ]
    mail = client.json(add=1, mail="Ann@Example.COM", name="Ann", grp=news)["id"]
    black = client.json(add_black=1, phone="79169999999", type=1)["id"]
    return {"vip": vip, "news": news, "ivan": ivan, "maria": maria, "mail": mail, "black": black}


# ---- golden answers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "one", "several"),
    [
        (0, "ID = {a}", "ID = {a},{b}"),
        (1, "{a}", "{a},{b}"),
        (2, "<result><id>{a}</id></result>", "<result><id>{a}</id><id>{b}</id></result>"),
        (3, '{{"id": {a}}}', '{{"id": {a}, "ids": [{a}, {b}]}}'),
    ],
)
def test_created_answers(client: Client, fmt: int, one: str, several: str) -> None:
    group = client(add_group=1, name="G", fmt=fmt)
    contacts = client(add=1, phone="79161234567,79161234568", fmt=fmt)
    black = client(add_black=1, phone="79160000001", fmt=fmt)
    g = client.json(get_group=1)[0]["id"]
    a, b = (c["id"] for c in client.json(get=1))
    e = client.json(get_black=1)[0]["id"]
    assert group == one.format(a=g)
    assert contacts == several.format(a=a, b=b)
    assert black == one.format(a=e)


@pytest.mark.parametrize(
    ("fmt", "expected"), [(0, "OK"), (1, "OK"), (2, "<result>OK</result>"), (3, '{"result": "OK"}')]
)
def test_ok_answers(client: Client, fmt: int, expected: str) -> None:
    ids = seed(client)
    assert client(chg=1, id=ids["ivan"], name="Ivan", fmt=fmt) == expected
    assert client(chg_group=1, id=ids["vip"], name="V", fmt=fmt) == expected
    assert client(move_group=2, id=ids["mail"], grp=ids["vip"], fmt=fmt) == expected
    assert client(del_black=1, phone="79169999999", fmt=fmt) == expected
    assert client(del_group=1, id=ids["news"], fmt=fmt) == expected
    assert client(**{"del": 1}, id=ids["maria"], fmt=fmt) == expected


def test_get_contacts_in_every_fmt(client: Client) -> None:
    i = seed(client)
    vip, news = i["vip"], i["news"]
    assert client(get=1) == (
        f"{i['ivan']}|79161234567||Иван|{vip}\n{i['maria']}|79161234568||Иван|{vip}\n"
        f"{i['mail']}||Ann@example.com|Ann|{news}"
    )
    assert client(get=1, fmt=1, grp=vip) == (
        f"{i['ivan']};79161234567;;Иван;{vip}\n{i['maria']};79161234568;;Иван;{vip}"
    )
    assert client(get=1, fmt=2, search="ann") == (
        f"<contacts><contact><id>{i['mail']}</id><phone></phone><mail>Ann@example.com</mail>"
        f"<name>Ann</name><grp>{news}</grp></contact></contacts>"
    )
    assert client(get=1, fmt=3, search="+7916123456", cnt=1) == (
        f'[{{"id": {i["ivan"]}, "phone": "79161234567", "mail": "", "name": "Иван", '
        f'"grp": "{vip}"}}]'
    )


def test_get_groups_and_blacklist_in_every_fmt(client: Client) -> None:
    i = seed(client)
    vip, news, black = i["vip"], i["news"], i["black"]
    assert client(get_group=1) == f"{vip}|5|VIP|0|2\n{news}|6|News|1|1"
    assert client(get_group=1, fmt=1) == f"{vip};5;VIP;0;2\n{news};6;News;1;1"
    assert client(get_group=1, fmt=2) == (
        f"<groups><group><id>{vip}</id><num>5</num><name>VIP</name><type>0</type><cnt>2</cnt>"
        f"</group><group><id>{news}</id><num>6</num><name>News</name><type>1</type><cnt>1</cnt>"
        "</group></groups>"
    )
    assert client(get_group=1, fmt=3) == (
        f'[{{"id": {vip}, "num": 5, "name": "VIP", "type": 0, "cnt": 2}}, '
        f'{{"id": {news}, "num": 6, "name": "News", "type": 1, "cnt": 1}}]'
    )
    client(add_black=1, mail="spam@example.com", type=0)
    mail_id = client.json(get_black=1)[1]["id"]
    assert client(get_black=1) == f"{black}|79169999999||1\n{mail_id}||spam@example.com|0"
    assert client(get_black=1, fmt=1, cnt=1) == f"{black};79169999999;;1"
    assert client(get_black=1, fmt=2, after_id=black) == (
        f"<blacklist><entry><id>{mail_id}</id><phone></phone><mail>spam@example.com</mail>"
        "<type>0</type></entry></blacklist>"
    )
    assert client(get_black=1, fmt=3, cnt=1) == (
        f'[{{"id": {black}, "phone": "79169999999", "mail": "", "type": 1}}]'
    )


@pytest.mark.parametrize("action", ["get", "get_group", "get_black"])
@pytest.mark.parametrize(
    ("fmt", "root"), [(0, None), (1, None), (2, "<{r}></{r}>"), (3, "[]")], ids=str
)
def test_empty_lists(client: Client, action: str, fmt: int, root: str | None) -> None:
    text = {"get": "NO CONTACTS", "get_group": "NO GROUPS", "get_black": "NO BLACKLIST"}[action]
    xml_root = {"get": "contacts", "get_group": "groups", "get_black": "blacklist"}[action]
    expected = text if root is None else root.format(r=xml_root)
    assert client(**{action: 1}, fmt=fmt) == expected


def test_answers_use_the_requested_charset(server: Server, ip: str) -> None:
    client = client_for(server, ip)
    ids = seed(client)
    response = server.client.get(
        "/sys/phones.php",
        params={"login": client.login, "psw": client.psw, "get": 1, "grp": ids["vip"], "cnt": 1},
        headers={"X-Forwarded-For": ip},
    )
    assert response.headers["content-type"] == "text/plain; charset=windows-1251"
    assert response.content == f"{ids['ivan']}|79161234567||Иван|{ids['vip']}".encode("cp1251")


# ---- errors in every fmt -----------------------------------------------------------------


def _error(fmt: int, code: int, description: str) -> str:
    return {
        0: f"ERROR = {code} ({description})",
        1: f"0,-{code}",
        2: f"<result><error>{description}</error><error_code>{code}</error_code></result>",
        3: f'{{"error": "{description}", "error_code": {code}}}',
    }[fmt]


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_error_shapes(server: Server, ip: str, fmt: int) -> None:
    client = client_for(server, ip)
    client(add_group=1, name="G", num=9)
    cases = [
        (1, "move_group: 1 (move), 2 (add) or 3 (remove)", {"move_group": 4}),
        (3, "contact not found", {"chg": 1, "id": 999_999_999, "name": "x"}),
        (5, "group number is taken", {"add_group": 1, "name": "H", "num": 9}),
    ]
    for code, description, params in cases:
        assert client(fmt=fmt, **params) == _error(fmt, code, description)
    wrong = Client(server, ip, client.login, "wrong")
    assert wrong(get=1, fmt=fmt) == _error(fmt, 2, "authorise error")
    for _ in range(3):
        assert not client(get_group=1, fmt=fmt).startswith(("ERROR", "0,-", "<result><error"))
    assert client(get_group=1, fmt=fmt) == _error(fmt, 9, "duplicate request, wait a minute")
    blocked = Client(server, f"2001:db8:b1b::{fmt}", client.login, client.psw)
    server.store.block_ip(blocked.ip, to_ts(server.clock.now()) + 600, "test")
    assert blocked(get=1, fmt=fmt) == _error(fmt, 4, "ip is blocked")


# ---- parameter rules: the documented error, and nothing changes ------------------------

RULES: list[tuple[str, dict[str, str | int], int, str]] = [
    ("no action", {"name": "x"}, 1, "exactly one"),
    ("two actions", {"get": 1, "get_group": 1}, 1, "exactly one"),
    ("fmt out of range", {"get": 1, "fmt": 4}, 1, "fmt"),
    ("add without phone", {"add": 1, "name": "x"}, 1, "phone"),
    ("add bad phone", {"add": 1, "phone": "79161234560,12ab"}, 1, "phone"),
    ("add bad mail", {"add": 1, "mail": "nobody"}, 1, "mail"),
    (
        "add two phones and mail",
        {"add": 1, "phone": "79161234560,79161234561", "mail": "a@b.c"},
        1,
        "one of each",
    ),
    ("add name too long", {"add": 1, "phone": "79161234560", "name": "x" * 256}, 1, "name"),
    ("add grp not a number", {"add": 1, "phone": "79161234560", "grp": "vip"}, 1, "grp"),
    (
        "add grp unknown",
        {"add": 1, "phone": "79161234560", "grp": 999_999_999},
        3,
        "group not found",
    ),
    (
        "add existing phone",
        {"add": 1, "phone": "79161234560,89161234567"},
        5,
        "contact already exists",
    ),
    ("add existing mail", {"add": 1, "mail": "Ann@EXAMPLE.com"}, 5, "contact already exists"),
    ("chg nothing", {"chg": 1, "phone": "79161234567"}, 1, "nothing to change"),
    ("chg two keys", {"chg": 1, "phone": "79161234567", "id": 1, "name": "x"}, 1, "exactly one"),
    (
        "chg two phones",
        {"chg": 1, "phone": "79161234567,79161234568", "name": "x"},
        1,
        "one contact",
    ),
    ("chg unknown", {"chg": 1, "phone": "79160000000", "name": "x"}, 3, "contact not found"),
    ("chg bad new_phone", {"chg": 1, "phone": "79161234567", "new_phone": "x"}, 1, "new_phone"),
    ("chg bad new_mail", {"chg": 1, "phone": "79161234567", "new_mail": "x"}, 1, "new_mail"),
    (
        "chg to taken phone",
        {"chg": 1, "phone": "79161234567", "new_phone": "79161234568"},
        5,
        "already exists",
    ),
    ("del without key", {"del": 1}, 1, "exactly one"),
    ("del bad id", {"del": 1, "id": "1,x"}, 1, "id"),
    ("del one unknown", {"del": 1, "phone": "79161234567,79160000000"}, 3, "contact not found"),
    ("get bad cnt", {"get": 1, "cnt": 1001}, 1, "cnt"),
    ("get zero cnt", {"get": 1, "cnt": 0}, 1, "cnt"),
    ("get bad after_id", {"get": 1, "after_id": "-1"}, 1, "after_id"),
    ("get unknown grp", {"get": 1, "grp": 999_999_999}, 3, "group not found"),
    ("get too many grp", {"get": 1, "grp": ",".join(map(str, range(1, 1002)))}, 1, "grp"),
    ("add_group no name", {"add_group": 1, "num": 50}, 1, "name"),
    ("add_group long name", {"add_group": 1, "name": "x" * 101}, 1, "name"),
    ("add_group bad num", {"add_group": 1, "name": "x", "num": "0"}, 1, "num"),
    ("add_group huge num", {"add_group": 1, "name": "x", "num": 10**9}, 1, "num"),
    ("add_group bad type", {"add_group": 1, "name": "x", "type": 2}, 1, "type"),
    ("add_group taken num", {"add_group": 1, "name": "x", "num": 5}, 5, "taken"),
    ("chg_group no id", {"chg_group": 1, "name": "x"}, 1, "id"),
    ("chg_group nothing", {"chg_group": 1, "id": 1}, 1, "nothing to change"),
    ("chg_group unknown", {"chg_group": 1, "id": 999_999_999, "name": "x"}, 3, "group not found"),
    ("del_group no id", {"del_group": 1}, 1, "id"),
    ("del_group unknown", {"del_group": 1, "id": 999_999_999}, 3, "group not found"),
    ("move_group bad mode", {"move_group": "x", "phone": "79161234567", "grp": 1}, 1, "move_group"),
    ("move_group no grp", {"move_group": 1, "phone": "79161234567"}, 1, "grp"),
    ("move_group no contact", {"move_group": 2, "grp": 1}, 1, "exactly one"),
    (
        "move_group unknown grp",
        {"move_group": 2, "phone": "79161234567", "grp": 999_999_999},
        3,
        "group not found",
    ),
    ("add_black no phone", {"add_black": 1}, 1, "phone"),
    ("add_black bad phone", {"add_black": 1, "phone": "x"}, 1, "phone"),
    ("add_black bad type", {"add_black": 1, "phone": "79160000001", "type": 3}, 1, "type"),
    ("del_black not listed", {"del_black": 1, "phone": "79160000001"}, 3, "not in the blacklist"),
    ("get_black bad cnt", {"get_black": 1, "cnt": "many"}, 1, "cnt"),
]


@pytest.mark.parametrize(
    ("params", "code", "words"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_bad_input_is_refused_and_changes_nothing(
    client: Client, params: dict[str, str | int], code: int, words: str
) -> None:
    seed(client)
    before = snapshot(client)
    # A bad fmt is answered in fmt 0; every other case asks for JSON.
    answer = client(**{"fmt": 3, **params})
    if "fmt" in params:
        assert answer.startswith(f"ERROR = {code} (") and words in answer
    else:
        assert json.loads(answer)["error_code"] == code, answer
        assert words in json.loads(answer)["error"], answer
    assert snapshot(client) == before


# ---- behaviour ---------------------------------------------------------------------------


def test_contacts_are_normalised_changed_and_deleted(client: Client) -> None:
    i = seed(client)
    assert [c["phone"] for c in client.json(get=1)][:2] == ["79161234567", "79161234568"]
    assert client(chg=1, phone="8 (916) 123-45-67", new_phone="+79160000007", name="") == "OK"
    assert client(chg=1, mail="Ann@EXAMPLE.com", new_mail="ann@example.org") == "OK"
    assert client(chg=1, id=i["maria"], name="Мария") == "OK"
    got = {c["id"]: (c["phone"], c["mail"], c["name"]) for c in client.json(get=1)}
    assert got == {
        i["ivan"]: ("79160000007", "", ""),
        i["maria"]: ("79161234568", "", "Мария"),
        i["mail"]: ("", "ann@example.org", "Ann"),
    }
    assert client.json(get=1, search="мари")[0]["id"] == i["maria"]  # case-insensitive
    assert client(**{"del": 1}, phone="79160000007;79161234568") == "OK"
    assert [c["id"] for c in client.json(get=1)] == [i["mail"]]
    # Deleting a contact takes it out of its groups.
    assert [g["cnt"] for g in client.json(get_group=1)] == [0, 1]


def test_paging_by_after_id_and_cnt(client: Client) -> None:
    ids = client.json(add=1, phone=",".join(f"7916000{n:04d}" for n in range(5)))["ids"]
    assert [c["id"] for c in client.json(get=1, cnt=2)] == ids[:2]
    assert [c["id"] for c in client.json(get=1, cnt=2, after_id=ids[1])] == ids[2:4]
    assert [c["id"] for c in client.json(get=1, after_id=ids[4])] == []
    assert [c["id"] for c in client.json(get=1, search="0003", after_id=ids[1])] == [ids[3]]


def test_groups_numbers_moves_and_deletion(client: Client) -> None:
    i = seed(client)
    assert client.json(add_group=1, name="Next")["id"]  # num: the highest (6) + 1
    assert client(chg_group=1, id=i["news"], num="G42", name="Letters") == "OK"
    assert [(g["num"], g["name"]) for g in client.json(get_group=1)] == [
        (5, "VIP"),
        (42, "Letters"),
        (7, "Next"),
    ]
    assert client(chg_group=1, id=i["vip"], num=5) == "OK"  # its own number is not "taken"
    # 2: add to a group; 3: remove from one; 1: move (leave every other group).
    assert client(move_group=2, phone="79161234567", grp=i["news"]) == "OK"
    assert client.json(get=1, grp=i["news"])[0]["grp"] == f"{i['vip']},{i['news']}"
    assert client(move_group=3, id=i["ivan"], grp=i["vip"]) == "OK"
    assert client.json(get=1, grp=i["vip"])[0]["id"] == i["maria"]
    assert client(move_group=1, id=f"{i['ivan']},{i['maria']}", grp=i["vip"]) == "OK"
    assert {c["grp"] for c in client.json(get=1, grp=i["vip"])} == {str(i["vip"])}
    assert client(del_group=1, id=i["vip"]) == "OK"
    assert len(client.json(get=1)) == 3  # the contacts stay
    assert i["vip"] not in [g["id"] for g in client.json(get_group=1)]


def test_blacklist_add_is_idempotent_and_takes_the_new_type(client: Client) -> None:
    i = seed(client)
    assert client(add_black=1, phone="89169999999", type=2) == f"ID = {i['black']}"
    assert client.json(get_black=1) == [
        {"id": i["black"], "phone": "79169999999", "mail": "", "type": 2}
    ]


def test_another_accounts_records_are_not_found(server: Server, ip: str) -> None:
    owner, intruder = client_for(server, ip), client_for(server, ip)
    i = seed(owner)
    before = snapshot(owner)
    attempts: list[dict[str, str | int]] = [
        {"chg": 1, "id": i["ivan"], "name": "x"},
        {"del": 1, "id": i["ivan"]},
        {"get": 1, "grp": i["vip"]},
        {"chg_group": 1, "id": i["vip"], "name": "x"},
        {"del_group": 1, "id": i["vip"]},
        {"move_group": 2, "id": i["ivan"], "grp": i["vip"]},
        {"add": 1, "phone": "79160000001", "grp": i["vip"]},
        {"del_black": 1, "phone": "79169999999"},
    ]
    for params in attempts:
        assert intruder.json(**params)["error_code"] == 3, params
    assert intruder.json(get=1) == intruder.json(get_group=1) == intruder.json(get_black=1) == []
    # The same numbers and group numbers are free in another account.
    assert "ids" in intruder.json(add=1, phone="79161234567,79161234568")
    assert intruder.json(add_group=1, name="Mine", num=5)["id"] != i["vip"]
    assert intruder.json(add_black=1, phone="79169999999")["id"] != i["black"]
    assert snapshot(owner) == before


def test_fourth_identical_request_within_a_minute_is_error_9(client: Client) -> None:
    assert client.json(add_group=1, name="Same")["id"]
    # Failed requests do not count: the 2nd and 3rd fail (num taken), but are not 9 either.
    params = {"add_group": 1, "name": "Same", "num": 1}
    assert [client(**params)[:9] for _ in range(5)] == ["ERROR = 5"] * 5
    for _ in range(3):
        assert client(get=1) == "NO CONTACTS"
    assert client(get=1) == "ERROR = 9 (duplicate request, wait a minute)"
    assert client(get=1, cnt=5) == "NO CONTACTS"  # another request
    client.server.clock.advance(61)
    assert client(get=1) == "NO CONTACTS"


# ---- as the mailing lists see it -----------------------------------------------------------


def test_jobs_php_accepts_a_group_of_contacts_added_here(client: Client) -> None:
    seed(client)
    answer = client.raw("jobs", add=1, name="VIP", phones="G5", mes="Hi", fmt=3)
    assert json.loads(answer)["id"] == 1


@pytest.fixture(scope="module")
def engine_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: the dispatcher runs every due list in its database."""
    url = fresh_database_url(backend, tmp_path_factory.mktemp("phones-engine"))
    with served(url, FakeClock(CLOCK_START)) as srv:
        yield srv


def _sent_to(server: Server, login: str, job_id: int) -> set[str]:
    acc = server.store.account_by_login(login)
    assert acc is not None
    asyncio.run(
        drive(
            dispatcher(server.store, server.clock),
            lambda: view(server.store, acc, job_id).status == 1,
        )
    )
    with server.store.db.tx(write=False) as tx:
        rows = tx.all("SELECT address FROM messages WHERE account_id = ?", (acc.id,))
    return {r[0] for r in rows}


def test_group_contacts_and_blacklist_reach_the_run(engine_server: Server, ip: str) -> None:
    client = client_for(engine_server, ip)
    group = client.json(add_group=1, name="VIP", num=7)["id"]
    client(add=1, phone="79160000001,79160000002,79160000003,79160000004", grp=group)
    client(add_black=1, phone="79160000002", type=0)  # every message
    client(add_black=1, phone="79160000003", type=1)  # mailing lists
    client(add_black=1, phone="79160000004", type=2)  # single messages only: still sent here
    client(add_black=1, phone="79160000009", type=1)
    job = json.loads(client.raw("jobs", add=1, name="L", phones="G7,79160000009", mes="Hi", fmt=3))
    assert _sent_to(engine_server, client.login, job["id"]) == {"79160000001", "79160000004"}

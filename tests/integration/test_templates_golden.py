"""templates.php: the exact answer of every action in every fmt, its rules, tenants kept apart,
and `tpl=` in jobs.php and send.php (smsc-api.md §5.6)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Server
from tidings.domain.accounts import Account

OK = {0: "OK", 1: "OK", 2: "<result>OK</result>", 3: '{"result": "OK"}'}


class Client:
    def __init__(self, server: Server, ip: str) -> None:
        self.server = server
        self.ip = ip
        self.account: Account
        self.account, psw = server.account()
        self.auth: dict[str, str | int] = {
            "login": self.account.login,
            "psw": psw,
            "charset": "utf-8",
        }

    def __call__(self, script: str = "templates", **params: str | int) -> str:
        return self.server.call(script, self.ip, **self.auth, **params)

    def add(self, **params: str | int) -> int:
        return int(json.loads(self(add=1, fmt=3, **params))["id"])

    def newest(self) -> int:
        with self.server.store.db.tx(write=False) as tx:
            row = tx.one("SELECT MAX(id) FROM templates WHERE account_id = ?", (self.account.id,))
        assert row is not None
        return int(row[0])


@pytest.fixture
def client(server: Server, ip: str) -> Client:
    return Client(server, ip)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [(0, "ID = {id}"), (1, "{id}"), (2, "<result><id>{id}</id></result>"), (3, '{{"id": {id}}}')],
)
def test_add(client: Client, fmt: int, expected: str) -> None:
    got = client(add=1, name="Заказ", msg="Ваш заказ готов", fmt=fmt)
    assert got == expected.format(id=client.newest())


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_chg(client: Client, fmt: int) -> None:
    tid = client.add(name="A", msg="one")
    assert client(chg=1, id=tid, msg="two", sender="Shop", fmt=fmt) == OK[fmt]
    got = json.loads(client(get=1, id=tid, fmt=3))
    assert got == [
        {"id": tid, "name": "A", "message": "two", "format": "", "sender": "Shop", "signature": 0}
    ]


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_del(client: Client, fmt: int) -> None:
    tid = client.add(name="A", msg="one")
    assert client(**{"del": 1}, id=tid, fmt=fmt) == OK[fmt]
    assert client(get=1) == "NO TEMPLATES"


GET = {
    0: "{a}|Заказ|Ваш заказ | готов\\nспасибо|sms|Shop|0\n{b}|Подпись|-- Shop & Co|flash||1",
    1: "{a};Заказ;Ваш заказ | готов\\nспасибо;sms;Shop;0\n{b};Подпись;-- Shop & Co;flash;;1",
    2: "<templates><template><id>{a}</id><name>Заказ</name><message>Ваш заказ | готов\nспасибо"
    "</message><format>sms</format><sender>Shop</sender><signature>0</signature></template>"
    "<template><id>{b}</id><name>Подпись</name><message>-- Shop &amp; Co</message><format>flash"
    "</format><sender></sender><signature>1</signature></template></templates>",
    3: '[{{"id": {a}, "name": "Заказ", "message": "Ваш заказ | готов\\nспасибо", "format": "sms", '
    '"sender": "Shop", "signature": 0}}, {{"id": {b}, "name": "Подпись", "message": '
    '"-- Shop & Co", "format": "flash", "sender": "", "signature": 1}}]',
}


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_get(client: Client, fmt: int) -> None:
    a = client.add(name="Заказ", msg="Ваш заказ | готов\nспасибо", format="sms", sender="Shop")
    b = client.add(name="Подпись", msg="-- Shop & Co", format="flash", **{"fl[1]": 1})
    assert client(get=1, fmt=fmt) == GET[fmt].format(a=a, b=b)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [(0, "NO TEMPLATES"), (1, "NO TEMPLATES"), (2, "<templates></templates>"), (3, "[]")],
)
def test_get_nothing(client: Client, fmt: int, expected: str) -> None:
    assert client(get=1, fmt=fmt) == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (0, "ERROR = 3 (template not found)"),
        (1, "0,-3"),
        (2, "<result><error>template not found</error><error_code>3</error_code></result>"),
        (3, '{"error": "template not found", "error_code": 3}'),
    ],
)
def test_another_accounts_template_is_not_found(
    client: Client, server: Server, ip: str, fmt: int, expected: str
) -> None:
    theirs = Client(server, ip).add(name="Secret", msg="theirs")
    assert client(get=1, id=theirs, fmt=fmt) == expected
    assert client(chg=1, id=theirs, msg="mine", fmt=fmt) == expected
    assert client(**{"del": 1}, id=theirs, fmt=fmt) == expected
    assert client("jobs", add=1, name="L", phones="79161234567", tpl=theirs) == (
        "ERROR = 1 (tpl: template not found)"
    )
    assert client("send", phones="79161234567", tpl=theirs) == "ERROR = 1 (tpl: template not found)"
    assert client(get=1) == "NO TEMPLATES"


# (case, parameters, the description)
RULES: list[tuple[str, dict[str, str | int], str]] = [
    ("no action", {"name": "x"}, "exactly one of add, chg, del, get must be 1"),
    ("two actions", {"add": 1, "get": 1}, "exactly one of add, chg, del, get must be 1"),
    ("no name", {"add": 1, "msg": "x"}, "name: required"),
    ("long name", {"add": 1, "name": "n" * 101, "msg": "x"}, "name: at most 100 characters"),
    ("no msg", {"add": 1, "name": "x"}, "msg: required"),
    ("long msg", {"add": 1, "name": "x", "msg": "m" * 1001}, "msg: at most 1000 characters"),
    (
        "viber format",
        {"add": 1, "name": "x", "msg": "m", "format": "viber"},
        "format: viber messages cannot be sent here, format not supported",
    ),
    (
        "unknown format",
        {"add": 1, "name": "x", "msg": "m", "format": "fax"},
        "format: one of sms, flash, bin, mail (or empty: any)",
    ),
    (
        "bad sender",
        {"add": 1, "name": "x", "msg": "m", "sender": "Too long sender"},
        "sender: up to 11 Latin letters and digits, or up to 15 digits",
    ),
    (
        "mail sender not an address",
        {"add": 1, "name": "x", "msg": "m", "format": "mail", "sender": "Shop"},
        "sender: an e-mail address",
    ),
    ("bad fl[1]", {"add": 1, "name": "x", "msg": "m", "fl[1]": 2}, "fl[1] must be 0 or 1"),
    ("chg without id", {"chg": 1, "msg": "m"}, "id: required"),
    ("del bad id", {"del": 1, "id": "x"}, "id: a record id"),
    (
        "prefix text",
        {"add": 1, "name": "x", "msg": "__VIBER__ hi"},
        "viber: Viber messages cannot be sent here, format not supported",
    ),
]


@pytest.mark.parametrize(
    ("params", "description"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_rules(client: Client, params: dict[str, str | int], description: str) -> None:
    assert client(fmt=3, **params) == json.dumps({"error": description, "error_code": 1})
    assert client(get=1) == "NO TEMPLATES"


def test_chg_needs_a_change_and_keeps_the_whole_consistent(client: Client) -> None:
    tid = client.add(name="A", msg="one", format="mail", sender="shop@example.com")
    assert client(chg=1, id=tid) == (
        "ERROR = 1 (at least one of name, msg, format, sender, fl[1] is required)"
    )
    # A phone sender name cannot stay on with an SMS format... and the other way round.
    assert client(chg=1, id=tid, format="sms") == (
        "ERROR = 1 (sender: up to 11 Latin letters and digits, or up to 15 digits)"
    )
    assert client(chg=1, id=tid, format="sms", sender="Shop") == "OK"


def test_one_auto_signature_per_account(client: Client) -> None:
    first = client.add(name="A", msg="-- A", **{"fl[1]": 1})
    second = client.add(name="B", msg="-- B", **{"fl[1]": 1})
    flags = {t["id"]: t["signature"] for t in json.loads(client(get=1, fmt=3))}
    assert flags == {first: 0, second: 1}


def test_tpl_in_jobs_php_uses_the_text_format_and_sender(client: Client) -> None:
    tid = client.add(name="A", msg="Скидка 10%", format="flash", sender="Shop")
    created = client("jobs", add=1, name="L", phones="79161234567", tpl=tid, fmt=3, id=5)
    assert created == '{"id": 5}'
    got = json.loads(client("jobs", get=1, id=5, fmt=3))[0]
    assert (got["message"], got["format"], got["sender_id"]) == ("Скидка 10%", 1, "Shop")
    # The request's own sender wins; a template of another format is refused.
    client("jobs", add=1, name="L", phones="79161234567", tpl=tid, sender="Other", id=6)
    assert json.loads(client("jobs", get=1, id=6, fmt=3))[0]["sender_id"] == "Other"
    assert client("jobs", add=1, name="L", phones="79161234567", tpl=tid, bin=1) == (
        "ERROR = 1 (tpl: the template is for flash messages)"
    )


def test_tpl_in_send_php(client: Client) -> None:
    tid = client.add(name="A", msg="Ваш код: 1234")
    sent = json.loads(client("send", phones="79161234567", tpl=tid, fmt=3, cost=2))
    assert (sent["cnt"], sent["cost"]) == (1, "1.80")
    status = json.loads(client("status", id=sent["id"], phone="79161234567", all=1, fmt=3))
    assert status["message"] == "Ваш код: 1234"
    assert client("send", phones="79161234567", tpl=tid, mes="x") == (
        "ERROR = 1 (tpl: cannot be combined with mes or list)"
    )


def test_tpl_mail_template_needs_mail(client: Client) -> None:
    tid = client.add(name="M", msg="Hello", format="mail")
    assert client("send", phones="79161234567", tpl=tid) == (
        "ERROR = 1 (tpl: an e-mail template needs mail=1)"
    )
    sent = client("send", phones="a@example.com", mail=1, subj="Hi", tpl=tid)
    assert sent.startswith("OK - 1 SMS, ID - ")


def test_the_auto_signature_follows_every_text(client: Client) -> None:
    client.add(name="Sig", msg="-- Shop", **{"fl[1]": 1})
    sent = json.loads(client("send", phones="79161234567", mes="Hi\n~~~\nnote", fmt=3))
    status = json.loads(client("status", id=sent["id"], phone="79161234567", all=1, fmt=3))
    assert status["message"] == "Hi\n-- Shop"  # as sent: the comment is not
    client("jobs", add=1, name="L", phones="79161234567", mes="Hello\n~~~\nnote", id=9)
    got = json.loads(client("jobs", get=1, id=9, fmt=3))[0]["message"]
    assert got == "Hello\n-- Shop\n~~~\nnote"
    # Binary messages carry none.
    client("jobs", add=1, name="B", phones="79161234567", mes="AB", bin=1, id=10)
    assert json.loads(client("jobs", get=1, id=10, fmt=3))[0]["message"] == "AB"

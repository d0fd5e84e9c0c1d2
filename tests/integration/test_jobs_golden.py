"""Golden tests: the exact bytes of every jobs.php answer, per action × fmt × cost × mail,
and of every error code in every fmt (jobs.md §2-3, the seed page)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.conftest import Server, fresh_database_url, served
from tidings.domain.accounts import hash_password
from tidings.domain.clock import FakeClock
from tidings.domain.money import to_minor

MOMENT = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)  # 15.01.2026 15:00:00 in Moscow
PASSWORD = "golden-secret"


@pytest.fixture(scope="module")
def golden(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("golden"))
    with served(url, FakeClock(MOMENT)) as srv:
        for login in ("golden", "empty"):
            acc = srv.store.create_account(login, hash_password(PASSWORD), MOMENT, test_mode=True)
            srv.store.add_ledger_entry(acc.id, to_minor("100"), "credit", "t", MOMENT)
        yield srv


def raw(srv: Server, login: str = "golden", **params: str | int) -> httpx.Response:
    response = srv.client.get(
        "/sys/jobs.php", params={"login": login, "psw": PASSWORD, "charset": "utf-8", **params}
    )
    assert response.status_code == 200
    return response


def body(srv: Server, **params: str | int) -> str:
    content = raw(srv, **params).content
    return content.decode("utf-8")


SMS_LIST = {
    "id": 77,
    "name": "Акция",
    "phones": "79161234567,+7 916 123-45-68",
    "mes": "Скидка 10%\nтолько | сегодня",
    "sender": "Shop",
    "time": "2001261030",
    "rpt": 2,
    "rptn": 3,
    "valid": 2,
}
MAIL_LIST = {
    "id": 78,
    "name": "News & <notes>",
    "mail": 1,
    "phones": "a@example.com;b@example.org",
    "subj": "Weekly",
    "sender": "news@example.com",
    "mes": "Hello <b>world</b>",
    "period": "2.5",
    "freq": 30,
}


@pytest.fixture(scope="module")
def lists(golden: Server) -> Server:
    assert body(golden, add=1, cost=1, fmt=3, **SMS_LIST) == '{"id": 77, "cost": "3.60"}'
    assert body(golden, add=1, cost=1, fmt=3, **MAIL_LIST) == '{"id": 78, "cost": "0.20"}'
    return golden


@pytest.mark.parametrize(
    ("fmt", "cost", "expected"),
    [
        (0, 0, "OK, ID - {id}"),
        (0, 1, "OK, ID - {id}, COST - 1.80"),
        (1, 0, "{id}"),
        (1, 1, "{id},1.80"),
        (2, 0, "<result><id>{id}</id></result>"),
        (2, 1, "<result><id>{id}</id><cost>1.80</cost></result>"),
        (3, 0, '{{"id": {id}}}'),
        (3, 1, '{{"id": {id}, "cost": "1.80"}}'),
    ],
)
def test_add_answer_per_fmt_and_cost(golden: Server, fmt: int, cost: int, expected: str) -> None:
    job_id = 1000 + fmt * 10 + cost
    got = body(
        golden,
        add=1,
        id=job_id,
        name=f"n{job_id}",
        phones="79161234567",
        mes="Hi",
        fmt=fmt,
        cost=cost,
    )
    assert got == expected.format(id=job_id)


def test_add_mail_answer_with_cost(golden: Server) -> None:
    got = body(
        golden,
        add=1,
        id=1100,
        name="m",
        mail=1,
        phones="x@example.com",
        subj="s",
        mes="Hi",
        fmt=0,
        cost=1,
    )
    assert got == "OK, ID - 1100, COST - 0.10"


GET_SMS_TEXT = (
    "77|Акция||2|3|15.01.2026 15:00:00|15.01.2026 15:00:00|20.01.2026 10:30:00||"
    "79161234567,+7 916 123-45-68|Скидка 10%\\nтолько | сегодня|0|120|0|0|-1|Shop"
)
GET_MAIL_TEXT = (
    "78|News & <notes>|Weekly|0|0|15.01.2026 15:00:00|15.01.2026 15:00:00|"
    "15.01.2026 15:00:00||a@example.com,b@example.org|Hello <b>world</b>|8|0|2.5|30|-1|"
    "news@example.com"
)


def test_get_fmt0(lists: Server) -> None:
    assert body(lists, get=1, id=77) == GET_SMS_TEXT
    assert body(lists, get=1, id=78) == GET_MAIL_TEXT


def test_get_fmt1_joins_the_same_fields_by_semicolons(lists: Server) -> None:
    assert body(lists, get=1, id=77, fmt=1) == GET_SMS_TEXT.replace("|", ";").replace(
        "только ; сегодня", "только | сегодня"
    )


def test_get_fmt2(lists: Server) -> None:
    assert body(lists, get=1, id=77, fmt=2) == (
        "<job><id>77</id><name>Акция</name><subject></subject><repeat_send>2</repeat_send>"
        "<repeat_cnt>3</repeat_cnt><created>15.01.2026 15:00:00</created>"
        "<changed>15.01.2026 15:00:00</changed><need_date>20.01.2026 10:30:00</need_date>"
        "<last_sent></last_sent><phones>79161234567,+7 916 123-45-68</phones>"
        "<message>Скидка 10%\nтолько | сегодня</message><format>0</format>"
        "<validity>120</validity><period>0</period><frequency>0</frequency>"
        "<status>-1</status><sender_id>Shop</sender_id></job>"
    )


def test_get_fmt2_mail_list_names_the_field_emails_and_escapes(lists: Server) -> None:
    assert body(lists, get=1, id=78, fmt=2) == (
        "<job><id>78</id><name>News &amp; &lt;notes&gt;</name><subject>Weekly</subject>"
        "<repeat_send>0</repeat_send><repeat_cnt>0</repeat_cnt>"
        "<created>15.01.2026 15:00:00</created><changed>15.01.2026 15:00:00</changed>"
        "<need_date>15.01.2026 15:00:00</need_date><last_sent></last_sent>"
        "<emails>a@example.com,b@example.org</emails>"
        "<message>Hello &lt;b&gt;world&lt;/b&gt;</message><format>8</format>"
        "<validity>0</validity><period>2.5</period><frequency>30</frequency>"
        "<status>-1</status><sender_id>news@example.com</sender_id></job>"
    )


def test_get_fmt3(lists: Server) -> None:
    assert body(lists, get=1, id=77, fmt=3) == (
        '[{"id": 77, "name": "Акция", "subject": "", "repeat_send": 2, "repeat_cnt": 3, '
        '"created": "15.01.2026 15:00:00", "changed": "15.01.2026 15:00:00", '
        '"need_date": "20.01.2026 10:30:00", "last_sent": "", '
        '"phones": "79161234567,+7 916 123-45-68", "message": "Скидка 10%\\nтолько | сегодня", '
        '"format": 0, "validity": 120, "period": "0", "frequency": 0, "status": -1, '
        '"cost": "0.00", "sms_sent": 0, "sms_ok": 0, "sender_id": "Shop"}]'
    )


def test_get_fmt3_mail(lists: Server) -> None:
    assert body(lists, get=1, id=78, fmt=3, mail=1) == (
        '[{"id": 78, "name": "News & <notes>", "subject": "Weekly", "repeat_send": 0, '
        '"repeat_cnt": 0, "created": "15.01.2026 15:00:00", "changed": "15.01.2026 15:00:00", '
        '"need_date": "15.01.2026 15:00:00", "last_sent": "", '
        '"emails": "a@example.com,b@example.org", "message": "Hello <b>world</b>", '
        '"format": 8, "validity": 0, "period": "2.5", "frequency": 30, "status": -1, '
        '"cost": "0.00", "sms_sent": 0, "sms_ok": 0, "sender_id": "news@example.com"}]'
    )


def _only_lists(text: str, fmt: int) -> str:
    """get_all of the `golden` account also holds the add tests' lists: keep 77 and 78."""
    if fmt in (0, 1):
        return "\n".join(line for line in text.split("\n") if line.startswith(("77", "78")))
    return text


ALL_TEXT_78 = (
    "78|News & <notes>|15.01.2026 15:00:00|15.01.2026 15:00:00||a@example.com,b@example.org|"
    "Hello <b>world</b>|2|0.00|-1|news@example.com|8"
)
ALL_TEXT_77 = (
    "77|Акция|15.01.2026 15:00:00|20.01.2026 10:30:00||79161234567,+7 916 123-45-68|"
    "Скидка 10%\\nтолько | сегодня|2|0.00|-1|Shop|0"
)


def test_get_all_fmt0_and_fmt1_newest_first(lists: Server) -> None:
    day = {"start": "15.01.2026", "end": "15.01.2026"}
    text0 = body(lists, get_all=1, **day)
    assert _only_lists(text0, 0) == ALL_TEXT_78 + "\n" + ALL_TEXT_77
    text1 = body(lists, get_all=1, fmt=1, **day)
    assert _only_lists(text1, 1) == (
        ALL_TEXT_78.replace("|", ";")
        + "\n"
        + ALL_TEXT_77.replace("|", ";").replace("только ; сегодня", "только | сегодня")
    )


def test_get_all_fmt2_and_fmt3_of_one_list(golden: Server) -> None:
    acc, psw = golden.account()
    golden.jobs(login=acc.login, psw=psw, add=1, id=5, name="One", phones="79161234567", mes="Hi")
    params = {"login": acc.login, "psw": psw, "get_all": 1, "charset": "utf-8"}
    xml = golden.client.get("/sys/jobs.php", params={**params, "fmt": 2}).text
    assert xml == (
        "<sms_jobs><job><id>5</id><name>One</name><changed>15.01.2026 15:00:00</changed>"
        "<need_date>15.01.2026 15:00:00</need_date><last_sent></last_sent>"
        "<phones>79161234567</phones><message>Hi</message><phones_cnt>1</phones_cnt>"
        "<cost>0.00</cost><status>-1</status><sender_id></sender_id><format>0</format></job>"
        "</sms_jobs>"
    )
    js = golden.client.get("/sys/jobs.php", params={**params, "fmt": 3}).text
    assert js == (
        '[{"id": 5, "name": "One", "changed": "15.01.2026 15:00:00", '
        '"need_date": "15.01.2026 15:00:00", "last_sent": "", "phones": "79161234567", '
        '"message": "Hi", "phones_cnt": 1, "cost": "0.00", "status": -1, "sender_id": "", '
        '"format": 0, "sms_sent": 0, "sms_ok": 0}]'
    )


@pytest.mark.parametrize(
    ("fmt", "expected"), [(0, "NO JOBS"), (1, "NO JOBS"), (2, "<sms_jobs></sms_jobs>"), (3, "[]")]
)
def test_get_all_empty(golden: Server, fmt: int, expected: str) -> None:
    assert body(golden, login="empty", get_all=1, fmt=fmt) == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [(0, "OK"), (1, "OK"), (2, "<result>OK</result>"), (3, '{"result": "OK"}')],
)
def test_cancel_and_del_answers(golden: Server, fmt: int, expected: str) -> None:
    job_id = 2000 + fmt
    body(golden, add=1, id=job_id, name="c", phones="79161234567", mes="Hi")
    assert body(golden, cancel=1, id=job_id, fmt=fmt) == expected
    assert body(golden, **{"del": 1}, id=job_id, fmt=fmt) == expected


# (code, description, request that provokes it)
ERRORS = [
    (1, "exactly one of add, del, cancel, get, get_all must be 1", {"get": 1, "get_all": 1}),
    (2, "authorise error", {"psw": "wrong", "get_all": 1}),
    (3, "mailing list not found", {"get": 1, "id": 999999}),
    (
        5,
        "invalid time format",
        {"add": 1, "name": "x", "phones": "79161234567", "mes": "m", "time": "32.01.26 10:00"},
    ),
]


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
@pytest.mark.parametrize(("code", "description", "params"), ERRORS)
def test_error_shapes(
    golden: Server, fmt: int, code: int, description: str, params: dict[str, str | int]
) -> None:
    expected = {
        0: f"ERROR = {code} ({description})",
        1: f"0,-{code}",
        2: f"<result><error>{description}</error><error_code>{code}</error_code></result>",
        3: f'{{"error": "{description}", "error_code": {code}}}',
    }[fmt]
    response = golden.client.get(
        "/sys/jobs.php",
        params={"login": "golden", "psw": PASSWORD, "charset": "utf-8", "fmt": fmt, **params},
        headers={"X-Forwarded-For": f"2001:db8:e::{code}{fmt}"},
    )
    assert response.status_code == 200
    assert response.content == expected.encode()


def test_response_is_encoded_in_the_default_windows_1251(lists: Server) -> None:
    response = lists.client.get(
        "/sys/jobs.php", params={"login": "golden", "psw": PASSWORD, "get": 1, "id": 77}
    )
    assert response.headers["content-type"] == "text/plain; charset=windows-1251"
    assert response.content == GET_SMS_TEXT.encode("cp1251")


def _error(fmt: int, code: int, description: str) -> bytes:
    return {
        0: f"ERROR = {code} ({description})",
        1: f"0,-{code}",
        2: f"<result><error>{description}</error><error_code>{code}</error_code></result>",
        3: f'{{"error": "{description}", "error_code": {code}}}',
    }[fmt].encode()


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_error_4_shape(golden: Server, fmt: int) -> None:
    blocked = f"2001:db8:b10c::{fmt}"
    golden.store.block_ip(blocked, int(MOMENT.timestamp()) + 600, "test")
    response = golden.client.get(
        "/sys/jobs.php",
        params={"login": "golden", "psw": PASSWORD, "get_all": 1, "fmt": fmt},
        headers={"X-Forwarded-For": blocked},
    )
    assert response.content == _error(fmt, 4, "ip is blocked")


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
def test_error_9_shape(golden: Server, fmt: int) -> None:
    params = {"add": 1, "name": f"dup{fmt}", "phones": "79161234567", "mes": "m", "fmt": fmt}
    first = raw(golden, **params).content
    assert b"ERROR" not in first and b"error" not in first
    assert raw(golden, **params).content == _error(fmt, 9, "duplicate request, wait a minute")

"""Raw-request fuzz of every /sys script over a plain socket (no HTTP client tidying the bytes):
random bytes, huge values, bad percent-escapes, bad and mixed charsets, repeated parameters,
each fmt, GET / urlencoded / multipart / odd content types, with and without a real account.

Whatever arrives, the answer is HTTP 200 with a non-empty body that is a valid answer in the
requested fmt (fmt 3 JSON, fmt 2 XML, fmt 0 `ERROR = N (…)` or a success text, fmt 1 bare values
or `…,-N`), in the requested charset — and never the `internal error` of a crash. An unknown
script or path is answered the same way (error 1 `… is not provided`, docs/api.md). Found
cases are kept below as plain regression tests."""

from __future__ import annotations

import json
import re
import secrets
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CLOCK_START, Server, fresh_database_url, served
from tidings.domain.clock import FakeClock

SCRIPTS = {
    "jobs": ("add", "del", "cancel", "get", "get_all"),
    "send": ("cost",),
    "status": ("del", "all"),
    "balance": ("cur",),
    "phones": (
        "add",
        "chg",
        "del",
        "get",
        "add_group",
        "chg_group",
        "del_group",
        "get_group",
        "move_group",
        "add_black",
        "del_black",
        "get_black",
    ),
    "senders": ("get", "add", "del", "all"),
    "get": ("get_messages", "get_stat", "get_answers"),
    "receive_phones": ("get",),
}
_OTHER_NAMES = """id name phones phone mes list tpl sender sender2 subj time tz rpt rptn period
freq valid translit flash bin ping mail cost fl[5] start end maxsms new_phone new_mail grp num
type search after_id cnt email format prev_id push viber tinyurl hour to_phone"""
KNOWN_NAMES = sorted({*(a for actions in SCRIPTS.values() for a in actions), *_OTHER_NAMES.split()})
LABELS = {
    "windows-1251": "windows-1251",
    "cp1251": "windows-1251",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "koi8-r": "koi8-r",
}
CODECS = {"windows-1251": "cp1251", "utf-8": "utf-8", "koi8-r": "koi8-r"}
RESERVED = {b"fmt", b"charset", b"login", b"psw", b"apikey"}

ERROR0 = re.compile(r"ERROR = [1-9] \(.+\)(, ID - [A-Za-z0-9._-]+)?", re.S)
ERROR1 = re.compile(r"[A-Za-z0-9._-]+,-[1-9]")


# ---- the raw client ----------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def media(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    @property
    def charset(self) -> str:
        match = re.search(r"charset=([\w-]+)", self.headers.get("content-type", ""))
        return match.group(1) if match else ""


def raw_request(
    port: int, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> Answer:
    head = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    head += [name + b": " + value for name, value in headers]
    if body or method == b"POST":
        head.append(b"Content-Length: " + str(len(body)).encode())
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(b"\r\n".join(head) + b"\r\n\r\n" + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    header_block, _sep, payload = data.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    parsed = {}
    for line in lines[1:]:
        name, _colon, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return Answer(status, parsed, payload)


# ---- what a valid answer is --------------------------------------------------------------------


def check_answer(answer: Answer, fmt: int, label: str) -> None:
    assert answer.status == 200, answer
    assert answer.body, "empty body"
    assert answer.charset == label, answer.headers
    text = answer.body.decode(CODECS[label])
    assert "internal error" not in text, text
    if fmt == 3:
        assert answer.media == "application/json"
        value = json.loads(text)
        if isinstance(value, dict) and "error" in value:
            assert isinstance(value["error"], str) and value["error"]
            assert value["error_code"] in range(1, 10), value
        else:
            assert isinstance(value, dict | list), value
    elif fmt == 2:
        assert answer.media == "text/xml"
        root = ET.fromstring(text)
        error = root.find("error")
        if error is not None:
            assert root.tag == "result" and error.text
            code = root.find("error_code")
            assert code is not None and code.text in {str(n) for n in range(1, 10)}
    else:
        assert answer.media == "text/plain"
        assert not text.startswith(("<", "{", "[")), text[:200]
        if fmt == 0:
            assert not ERROR1.fullmatch(text), text
            if text.startswith("ERROR"):
                assert ERROR0.fullmatch(text), text[:300]
        else:
            assert not text.startswith("ERROR"), text[:200]
            if re.search(r",-\d+$", text) and "\n" not in text:
                assert ERROR1.fullmatch(text), text[:300]


# ---- strategies --------------------------------------------------------------------------------

# Bytes allowed as they are in a request target (everything else arrives %-escaped).
_TARGET_SAFE = bytes(c for c in range(0x21, 0x7F) if c not in b"&=#%+")
_BAD_ESCAPES = [b"%", b"%G1", b"%1", b"%%", b"%zz", b"%0", b"%u0041", b"%C3", b"%FF%FE", b"%00"]
_ODD_TEXT = [
    "²",
    "١٢٣",
    "９９",
    "Привет, мир",
    "日本語",
    "\U0001f600",
    "\x00",
    "\r\n~~~\r\n",
    "G1,G2;+79161234567\n89161234567",
    "DD.MM.YY",
    "01.01.2026 25:61",
    "-1",
    "0x10",
    "1e9",
    "99999999999999999999999999",
    "9" * 5000,
    "²,",
    "1,٣,",
]


def _escaped(data: bytes) -> bytes:
    return quote_from_bytes(data, safe="").encode()


query_token: st.SearchStrategy[bytes] = st.one_of(
    st.binary(max_size=30).map(_escaped),
    st.text(max_size=30).flatmap(
        lambda t: st.sampled_from(["utf-8", "cp1251", "koi8-r", "utf-16"]).map(
            lambda c: _escaped(t.encode(c, "replace"))
        )
    ),
    st.sampled_from(_ODD_TEXT).map(lambda t: _escaped(t.encode("utf-8"))),
    st.sampled_from(_BAD_ESCAPES),
    st.lists(st.sampled_from(list(_TARGET_SAFE)), max_size=20).map(bytes),
    st.integers().map(lambda n: str(n).encode()),
    st.sampled_from([b"1", b"0", b"2", b"3", b"", b"+", b"++1"]),
    st.just(b"9" * 2000),
)


# Huge values go in bodies: a request line over 64 KB is refused by the HTTP server (400)
# before the application sees it (docs/api.md).
token: st.SearchStrategy[bytes] = st.one_of(
    query_token,
    st.sampled_from([1_000, 70_000, 300_000]).flatmap(
        lambda n: st.sampled_from(
            [b"9" * n, b"a" * n, b"%D0%9F" * (n // 6), b"7916123456%2C" * (n // 13)]
        )
    ),
)


def _decoded_name(raw: bytes) -> bytes:
    return unquote_to_bytes(raw.replace(b"+", b" "))


names = st.one_of(st.sampled_from(KNOWN_NAMES).map(str.encode), query_token).filter(
    lambda n: _decoded_name(n) not in RESERVED
)
query_pairs = st.lists(st.tuples(names, query_token), max_size=12)
body_pairs = st.lists(st.tuples(names, token), max_size=12)


@dataclass
class Plan:
    script: str
    fmt_value: bytes | None
    charset_value: bytes | None
    credentials: bool
    action: bytes | None
    query: list[tuple[bytes, bytes]]
    body: list[tuple[bytes, bytes]]
    transport: str  # get, form, multipart, odd
    content_type: bytes
    fmt_in_body: bool

    @property
    def expected_fmt(self) -> int:
        value = (self.fmt_value or b"").decode().strip()
        return int(value) if value in ("0", "1", "2", "3") else 0

    @property
    def expected_label(self) -> str:
        value = (self.charset_value or b"").decode().strip().lower()
        return LABELS.get(value, "windows-1251")


plans = st.sampled_from(sorted(SCRIPTS)).flatmap(
    lambda script: st.builds(
        Plan,
        script=st.just(script),
        fmt_value=st.one_of(
            st.none(),
            st.sampled_from([b"0", b"1", b"2", b"3", b" 3", b"4", b"x", b"", b"-1", b"03"]),
        ),
        charset_value=st.one_of(
            st.none(),
            st.sampled_from(
                [
                    b"utf-8",
                    b"UTF-8",
                    b"utf8",
                    b"windows-1251",
                    b"cp1251",
                    b"koi8-r",
                    b"utf-16",
                    b"x",
                ]
            ),
        ),
        credentials=st.booleans(),
        action=st.one_of(st.none(), st.sampled_from(SCRIPTS[script]).map(str.encode)),
        query=query_pairs,
        body=body_pairs,
        transport=st.sampled_from(["get", "form", "multipart", "odd"]),
        content_type=st.sampled_from(
            [b"text/plain", b"application/json", b"multipart/form-data", b"x/y; boundary=q", b""]
        ),
        fmt_in_body=st.booleans(),
    )
)


def _urlencoded(items: list[tuple[bytes, bytes]]) -> bytes:
    return b"&".join(name + b"=" + value for name, value in items)


def _multipart(items: list[tuple[bytes, bytes]], boundary: bytes) -> bytes:
    out = b""
    for name, value in items:
        # Multipart carries raw bytes: the escaped tokens are sent decoded.
        out += b"--" + boundary + b"\r\n"
        out += (
            b'Content-Disposition: form-data; name="'
            + _decoded_name(name).replace(b'"', b"'").replace(b"\r", b"").replace(b"\n", b"")
            + b'"\r\n\r\n'
        )
        out += _decoded_name(value) + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def send_plan(api: Server, plan: Plan, login: str, password: str) -> Answer:
    port = urlsplit(api.url).port
    assert port is not None
    query = list(plan.query)
    body = list(plan.body) if plan.transport != "get" else []
    settings_pairs: list[tuple[bytes, bytes]] = []
    if plan.fmt_value is not None:
        settings_pairs.append((b"fmt", _escaped(plan.fmt_value)))
    if plan.charset_value is not None:
        settings_pairs.append((b"charset", plan.charset_value))
    if plan.credentials:
        settings_pairs += [(b"login", login.encode()), (b"psw", _escaped(password.encode()))]
    if plan.action is not None:
        query.insert(0, (plan.action, b"1"))
    # The settings go where they will be read: the body only when the server reads the body.
    readable_body = plan.transport in ("form", "multipart")
    (body if readable_body and plan.fmt_in_body else query).extend(settings_pairs)
    headers: list[tuple[bytes, bytes]] = []
    if plan.transport == "get":
        method, payload = b"GET", b""
    elif plan.transport == "form":
        method, payload = b"POST", _urlencoded(body)
        headers.append((b"Content-Type", b"application/x-www-form-urlencoded"))
    elif plan.transport == "multipart":
        boundary = b"fuzz" + secrets.token_hex(8).encode()
        method, payload = b"POST", _multipart(body, boundary)
        headers.append((b"Content-Type", b"multipart/form-data; boundary=" + boundary))
    else:
        method, payload = b"POST", _urlencoded(body)
        if plan.content_type:
            headers.append((b"Content-Type", plan.content_type))
    target = f"/sys/{plan.script}.php".encode()
    if query:
        target += b"?" + _urlencoded(query)
    return raw_request(port, method, target, headers, payload)


# ---- tests -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own with the abuse guard out of the way: every request is answered
    by the script, not by error 4."""
    url = fresh_database_url(backend, tmp_path_factory.mktemp("fuzz"))
    guards = {"auth_failures_max": 10**9, "error_streak_max": 10**9, "balance_requests_max": 10**9}
    with served(url, FakeClock(CLOCK_START), guards=guards) as srv:
        yield srv


@pytest.fixture(scope="module")
def account(api: Server) -> tuple[str, str]:
    acc, password = api.account(balance="100000")
    return acc.login, password


def test_random_requests_get_a_valid_answer_in_their_fmt(
    api: Server, account: tuple[str, str]
) -> None:
    login, password = account

    @given(plan=plans)
    @settings(
        max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(plan: Plan) -> None:
        answer = send_plan(api, plan, login, password)
        check_answer(answer, plan.expected_fmt, plan.expected_label)

    run()


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
@pytest.mark.parametrize("charset", ["windows-1251", "utf-8", "koi8-r"])
def test_an_unknown_script_is_an_error_in_its_fmt_whatever_its_name(
    api: Server, account: tuple[str, str], fmt: int, charset: str
) -> None:
    """The path's name is echoed in the error: bytes that are no text, characters the
    charset lacks, markup and line breaks must still make a valid answer."""
    port = urlsplit(api.url).port
    assert port is not None
    login, password = account
    query = f"?login={login}&psw={password}&fmt={fmt}&charset={charset}".encode()
    for path in (
        b"/sys/nope.php",
        b"/sys/%FF.php",
        b"/sys/.php",
        b"/sys/%ED%A0%80.php",
        b"/sys/%3Cb%3E%22%26.php",
        b"/sys/a%0Ab%0D.php",
        b"/sys/%E2%82%AC%F0%9F%98%80/x",
        b"/sys/" + b"y" * 3000,
    ):
        answer = raw_request(port, b"GET", path + query, [], b"")
        check_answer(answer, fmt, charset)
        assert b"is not provided" in answer.body or fmt == 1, (path, answer.body)
        assert b"\n" not in answer.body and b"\r" not in answer.body


@pytest.mark.parametrize("fmt", [0, 1, 2, 3])
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_a_body_fmt_shapes_a_charset_error(api: Server, script: str, fmt: int) -> None:
    """Found by schemathesis: an undecodable body answered in fmt 0 although it asked for
    another (the fmt was read only from the query string when decoding failed)."""
    port = urlsplit(api.url).port
    assert port is not None
    body = f"fmt={fmt}&charset=windows-1251&name=%98".encode()
    answer = raw_request(
        port,
        b"POST",
        f"/sys/{script}.php".encode(),
        [(b"Content-Type", b"application/x-www-form-urlencoded")],
        body,
    )
    check_answer(answer, fmt, "windows-1251")
    text = answer.body.decode("cp1251")
    assert text == "0,-1" if fmt == 1 else "not valid windows-1251" in text


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (b"multipart/form-data", b"charset=utf-8&fmt=2"),
        (b"application/x-www-form-urlencoded", b"charset=utf-8&fmt=2&name=%FF"),
    ],
)
def test_an_error_in_the_body_is_answered_in_the_charset_asked_for(
    api: Server, content_type: bytes, body: bytes
) -> None:
    """Found by the fuzz: a body the server cannot read (no multipart boundary, bytes that
    are not the charset) was answered in windows-1251 whatever `charset` said."""
    port = urlsplit(api.url).port
    assert port is not None
    target = b"/sys/jobs.php?charset=utf-8&fmt=2"
    answer = raw_request(port, b"POST", target, [(b"Content-Type", content_type)], body)
    check_answer(answer, 2, "utf-8")


@pytest.mark.parametrize("fmt", [1, 3])
def test_settings_in_a_multipart_body_the_parser_refuses_still_shape_the_error(
    api: Server, fmt: int
) -> None:
    """Found by the fuzz: a part name of 5,000 bytes is over the multipart parser's header
    limit; the body's fmt and charset parts were then ignored (fmt 0, windows-1251)."""
    port = urlsplit(api.url).port
    assert port is not None
    body = _multipart(
        [(b"fmt", str(fmt).encode()), (b"charset", b"utf-8"), (b"9" * 5000, b"1")], b"fuzzq"
    )
    headers = [(b"Content-Type", b"multipart/form-data; boundary=fuzzq")]
    answer = raw_request(port, b"POST", b"/sys/jobs.php", headers, body)
    check_answer(answer, fmt, "utf-8")
    text = answer.body.decode("utf-8")
    assert text == "0,-1" if fmt == 1 else json.loads(text)["error_code"] == 1


# Found by the fuzz: Unicode digits (`²`.isdigit() is true, int() refuses it) and numbers of
# thousands of digits (int() refuses over 4300) or beyond 64 bits (SQLite refuses them) were
# taken for numbers and ended as `internal error`.
NUMBER_CASES = [
    ("status", {"id": "²,", "phone": "79161234567,"}),
    ("status", {"id": "²", "phone": "79161234567"}),
    ("status", {"id": "9" * 5000 + ",", "phone": "79161234567,"}),
    ("get", {"get_messages": "1", "prev_id": "²"}),
    ("get", {"get_messages": "1", "prev_id": "9" * 30}),
    ("get", {"get_messages": "1", "cnt": "9" * 5000}),
    ("jobs", {"get": "1", "id": "²"}),
    ("jobs", {"del": "1", "id": "9" * 5000}),
    ("jobs", {"add": "1", "name": "x", "phones": "79161234567", "tpl": "²"}),
    ("jobs", {"add": "1", "name": "x", "phones": "79161234567", "tpl": "9" * 5000}),
    ("send", {"phones": "79161234567", "mes": "x", "maxsms": "²"}),
    ("send", {"phones": "79161234567", "mes": "x", "maxsms": "9" * 5000}),
]


@pytest.mark.parametrize(("script", "params"), NUMBER_CASES, ids=lambda v: str(v)[:24])
def test_a_number_that_is_not_one_is_a_parameter_error(
    api: Server, account: tuple[str, str], script: str, params: dict[str, str]
) -> None:
    login, password = account
    query = {"login": login, "psw": password, "fmt": "3", **params}
    answer = json.loads(api.call(script, **query))
    if "error" in answer:
        assert answer["error_code"] == 1 and "internal" not in answer["error"], answer
    else:  # status.php: an id no message has is status -3, not an error
        assert script == "status"
        statuses = answer if isinstance(answer, list) else [answer]
        assert [s["status"] for s in statuses] == [-3]

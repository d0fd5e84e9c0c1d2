"""jobs.php behaviour through the real HTTP server: authentication, guards, tenants,
request encodings and recipients (jobs.md §1, §2, §5)."""

from __future__ import annotations

import hashlib
import secrets
import select
import socket
import time
from urllib.parse import quote_from_bytes

import pytest

from tests.conftest import Server
from tidings.domain.accounts import api_key_hash, generate_api_key

ADD = {"add": 1, "name": "Promo", "phones": "79161234567", "mes": "Hello"}


# ---- authentication ---------------------------------------------------------------------


def test_password_in_plain_md5_and_sha1_forms(server: Server, ip: str) -> None:
    acc, psw = server.account()
    md5 = hashlib.md5(psw.encode()).hexdigest()
    sha1 = hashlib.sha1(psw.encode()).hexdigest()
    for form in (psw, md5, sha1, sha1.upper()):
        assert server.jobs(ip, login=acc.login, psw=form, get_all=1) == "NO JOBS"
    assert server.jobs(ip, login=acc.login, psw=md5.upper(), get_all=1) == (
        "ERROR = 2 (authorise error)"
    )


def test_api_key_as_apikey_or_as_psw_with_empty_login(server: Server, ip: str) -> None:
    acc, _psw = server.account()
    key = generate_api_key()
    server.store.add_api_key(acc.id, api_key_hash(key), key[:8], server.clock.now())
    assert server.jobs(ip, apikey=key, get_all=1) == "NO JOBS"
    assert server.jobs(ip, login="", psw=key, get_all=1) == "NO JOBS"
    assert server.jobs(ip, apikey=key + "x", get_all=1) == "ERROR = 2 (authorise error)"


def test_missing_or_wrong_credentials_are_error_2(server: Server, ip: str) -> None:
    acc, psw = server.account()
    assert server.jobs(ip, get_all=1) == "ERROR = 2 (authorise error)"
    assert server.jobs(ip, login=acc.login, get_all=1) == "ERROR = 2 (authorise error)"
    assert server.jobs(ip, login="nobody", psw=psw, get_all=1) == "ERROR = 2 (authorise error)"


def test_ip_allowlist(server: Server) -> None:
    acc, psw = server.account()
    server.store.allow_ip(acc.id, "2001:db8:a11::/48")
    inside, outside = "2001:db8:a11::7", "2001:db8:bad::7"
    assert server.jobs(inside, login=acc.login, psw=psw, get_all=1) == "NO JOBS"
    assert server.jobs(outside, login=acc.login, psw=psw, get_all=1) == (
        "ERROR = 2 (authorise error)"
    )
    assert server.jobs(outside, login=acc.login, psw=psw, **ADD) == "ERROR = 2 (authorise error)"
    assert server.jobs(inside, login=acc.login, psw=psw, get_all=1) == "NO JOBS"


# ---- abuse protection (error 4) ------------------------------------------------------------


def test_sixth_failed_login_within_30_minutes_blocks_that_ip_only(server: Server) -> None:
    acc, psw = server.account()
    bad_ip, other_ip = "2001:db8:bf::1", "2001:db8:bf::2"
    for _ in range(5):
        assert server.jobs(bad_ip, login=acc.login, psw="wrong", get_all=1).startswith("ERROR = 2")
    # Blocked now, even with the right password; nothing else is done.
    assert server.jobs(bad_ip, login=acc.login, psw=psw, get_all=1) == "ERROR = 4 (ip is blocked)"
    assert server.jobs(bad_ip, login=acc.login, psw=psw, **ADD) == "ERROR = 4 (ip is blocked)"
    assert server.jobs(other_ip, login=acc.login, psw=psw, get_all=1) == "NO JOBS"
    server.clock.advance(31 * 60)
    assert server.jobs(bad_ip, login=acc.login, psw=psw, get_all=1) == "NO JOBS"


def test_failures_spread_over_more_than_30_minutes_do_not_block(server: Server) -> None:
    acc, psw = server.account()
    slow_ip = "2001:db8:51::1"
    for _ in range(5):
        server.jobs(slow_ip, login=acc.login, psw="wrong", get_all=1)
        server.clock.advance(8 * 60)
    assert server.jobs(slow_ip, login=acc.login, psw=psw, get_all=1) == "NO JOBS"


def test_allowlisted_ip_is_never_blocked_for_its_account(server: Server) -> None:
    acc, psw = server.account()
    office = "2001:db8:0ff::1"
    server.store.allow_ip(acc.id, office)
    for _ in range(8):
        server.jobs(office, login=acc.login, psw="wrong", get_all=1)
    assert server.jobs(office, login=acc.login, psw=psw, get_all=1) == "NO JOBS"


def test_hundred_failed_requests_in_a_row_block_for_ten_minutes(server: Server) -> None:
    acc, psw = server.account()
    noisy = "2001:db8:40::1"
    for _ in range(100):
        assert server.jobs(noisy, login=acc.login, psw=psw, get=1, id=1).startswith("ERROR = 3")
    assert server.jobs(noisy, login=acc.login, psw=psw, get_all=1) == "ERROR = 4 (ip is blocked)"
    server.clock.advance(11 * 60)
    assert server.jobs(noisy, login=acc.login, psw=psw, get_all=1) == "NO JOBS"


def test_a_success_resets_the_failed_request_streak(server: Server) -> None:
    acc, psw = server.account()
    noisy = "2001:db8:41::1"
    for _ in range(99):
        server.jobs(noisy, login=acc.login, psw=psw, get=1, id=1)
    assert server.jobs(noisy, login=acc.login, psw=psw, get_all=1) == "NO JOBS"
    for _ in range(99):
        server.jobs(noisy, login=acc.login, psw=psw, get=1, id=1)
    assert server.jobs(noisy, login=acc.login, psw=psw, get_all=1) == "NO JOBS"


# ---- duplicates and concurrency (error 9) --------------------------------------------------


def test_identical_add_within_60_seconds_is_error_9(server: Server, ip: str) -> None:
    acc, psw = server.account()
    assert server.jobs(ip, login=acc.login, psw=psw, **ADD) == "OK, ID - 1"
    assert server.jobs(ip, login=acc.login, psw=psw, **ADD) == (
        "ERROR = 9 (duplicate request, wait a minute)"
    )
    # A different request is fine, and after the minute the same one is too.
    assert server.jobs(ip, login=acc.login, psw=psw, **{**ADD, "mes": "Other"}) == "OK, ID - 2"
    server.clock.advance(61)
    assert server.jobs(ip, login=acc.login, psw=psw, **ADD) == "OK, ID - 3"


def test_a_failed_add_does_not_count_as_a_duplicate(server: Server, ip: str) -> None:
    acc, psw = server.account()
    bad = {**ADD, "time": "garbage"}
    assert server.jobs(ip, login=acc.login, psw=psw, **bad).startswith("ERROR = 5")
    assert server.jobs(ip, login=acc.login, psw=psw, **bad).startswith("ERROR = 5")


def _slow_request(server: Server, login: str, psw: str) -> socket.socket:
    """Open a POST whose body never finishes: it stays in flight until closed."""
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    head = (
        f"POST /sys/jobs.php?login={login}&psw={psw}&get_all=1 HTTP/1.1\r\n"
        f"Host: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 100\r\n\r\nfmt=0"
    )
    sock.sendall(head.encode())
    return sock


def test_fifteenth_concurrent_request_under_one_login_is_error_9(server: Server, ip: str) -> None:
    acc, psw = server.account()
    slow = [_slow_request(server, acc.login, psw) for _ in range(14)]
    try:
        # Let all 14 reach the server; none may have been answered (all are still in flight).
        time.sleep(0.5)
        readable, _, _ = select.select(slow, [], [], 0)
        assert readable == []
        answer = server.jobs(ip, login=acc.login, psw=psw, get_all=1)
        assert answer == "ERROR = 9 (too many concurrent requests)"
        other, other_psw = server.account()
        assert server.jobs(ip, login=other.login, psw=other_psw, get_all=1) == "NO JOBS"
    finally:
        for sock in slow:
            sock.close()
    deadline = time.monotonic() + 5
    while server.jobs(ip, login=acc.login, psw=psw, get_all=1) != "NO JOBS":
        assert time.monotonic() < deadline, "slots were not released"
        time.sleep(0.05)


def test_a_refused_request_with_its_login_in_the_body_gives_back_no_slot(
    server: Server, ip: str
) -> None:
    acc, psw = server.account()
    slow = [_slow_request(server, acc.login, psw) for _ in range(14)]
    try:
        time.sleep(0.5)
        for _ in range(3):
            refused = server.client.post(
                "/sys/jobs.php",
                data={"login": acc.login, "psw": psw, "get_all": "1"},
                headers={"X-Forwarded-For": ip},
            ).text
            assert refused == "ERROR = 9 (too many concurrent requests)"
        # The 14 slots are still taken: the refusals above did not free any of them.
        assert server.jobs(ip, login=acc.login, psw=psw, get_all=1) == (
            "ERROR = 9 (too many concurrent requests)"
        )
    finally:
        for sock in slow:
            sock.close()


# ---- tenants --------------------------------------------------------------------------------


def test_accounts_never_see_each_others_lists(server: Server, ip: str) -> None:
    a, a_psw = server.account()
    b, b_psw = server.account()
    assert server.jobs(ip, login=a.login, psw=a_psw, id=10, **ADD) == "OK, ID - 10"
    before = server.jobs(ip, login=a.login, psw=a_psw, get=1, id=10, fmt=3)
    for action in ("get", "cancel", "del"):
        answer = server.jobs(ip, login=b.login, psw=b_psw, **{action: 1}, id=10)
        assert answer == "ERROR = 3 (mailing list not found)"
    assert server.jobs(ip, login=b.login, psw=b_psw, get_all=1) == "NO JOBS"
    assert server.jobs(ip, login=a.login, psw=a_psw, get=1, id=10, fmt=3) == before
    # The same id is free for another account.
    assert server.jobs(ip, login=b.login, psw=b_psw, id=10, **ADD) == "OK, ID - 10"
    assert server.jobs(ip, login=a.login, psw=a_psw, get_all=1, fmt=1).count("\n") == 0


# ---- lifecycle ------------------------------------------------------------------------------


def test_cancel_then_delete_then_reuse_the_id(server: Server, ip: str) -> None:
    acc, psw = server.account()
    server.jobs(ip, login=acc.login, psw=psw, id=4, **ADD)
    server.clock.advance(5)
    assert server.jobs(ip, login=acc.login, psw=psw, cancel=1, id=4) == "OK"
    got = server.jobs(ip, login=acc.login, psw=psw, get=1, id=4).split("|")
    assert got[15] == "-2"
    assert got[6] != got[5], "changed moves on cancel"
    assert server.jobs(ip, login=acc.login, psw=psw, **{"del": 1}, id=4) == "OK"
    assert server.jobs(ip, login=acc.login, psw=psw, get=1, id=4) == (
        "ERROR = 3 (mailing list not found)"
    )
    assert server.jobs(ip, login=acc.login, psw=psw, get_all=1) == "NO JOBS"
    assert server.jobs(ip, login=acc.login, psw=psw, id=4, **{**ADD, "mes": "again"}) == (
        "OK, ID - 4"
    )


def test_server_assigned_ids_follow_the_accounts_highest(server: Server, ip: str) -> None:
    acc, psw = server.account()
    assert server.jobs(ip, login=acc.login, psw=psw, id=41, **ADD) == "OK, ID - 41"
    assert server.jobs(ip, login=acc.login, psw=psw, **{**ADD, "mes": "2"}) == "OK, ID - 42"


def test_time_and_tz_set_need_date_in_the_account_zone(server: Server, ip: str) -> None:
    acc, psw = server.account()
    # 10:30 Yekaterinburg (Moscow+2) is 08:30 Moscow.
    server.jobs(ip, login=acc.login, psw=psw, id=1, time="01.06.2027 10:30", tz=2, **ADD)
    assert server.jobs(ip, login=acc.login, psw=psw, get=1, id=1).split("|")[7] == (
        "01.06.2027 08:30:00"
    )
    server.jobs(
        ip, login=acc.login, psw=psw, id=2, time="01.06.2027 10:30", tz="Europe/Berlin", **ADD
    )
    assert server.jobs(ip, login=acc.login, psw=psw, get=1, id=2).split("|")[7] == (
        "01.06.2027 11:30:00"
    )


# ---- recipients -----------------------------------------------------------------------------


def test_numbers_are_normalised_groups_kept_and_bad_ones_dropped(server: Server, ip: str) -> None:
    acc, psw = server.account()
    phones = "89161234567; +7 (916) 123-45-68\nG5,not-a-number,79161234567"
    answer = server.jobs(ip, login=acc.login, psw=psw, id=1, **{**ADD, "phones": phones})
    assert answer == "OK, ID - 1"
    fields = server.jobs(ip, login=acc.login, psw=psw, get_all=1).split("|")
    assert fields[5] == "89161234567,+7 (916) 123-45-68,G5,not-a-number,79161234567"
    assert fields[7] == "2"  # phones_cnt: the two distinct valid numbers
    stored = server.store.job_recipients(acc.id, 1)
    assert stored == [
        ("79161234567", None, None),
        ("79161234568", None, None),
        (None, 5, None),
    ]


def test_list_gives_each_recipient_its_own_text_and_cost(server: Server, ip: str) -> None:
    acc, psw = server.account()
    listing = "79161234567:Hello\n79161234568:" + "Привет " * 20
    answer = server.jobs(
        ip, login=acc.login, psw=psw, add=1, name="L", list=listing, cost=1, fmt=1, charset="utf-8"
    )
    # 1 part + 3 parts (140 Cyrillic characters) at 1.80 each.
    assert answer == "1,7.20"
    stored = server.store.job_recipients(acc.id, 1)
    assert [r[2] for r in stored] == ["Hello", "Привет " * 20]


def test_one_hundred_thousand_phones_in_one_request(server: Server, ip: str) -> None:
    acc, psw = server.account()
    phones = ",".join(f"7916{n:07d}" for n in range(100_000))
    response = server.client.post(
        "/sys/jobs.php",
        data={
            "login": acc.login,
            "psw": psw,
            "add": "1",
            "name": "Big",
            "mes": "Hi",
            "phones": phones,
            "cost": "1",
        },
        headers={"X-Forwarded-For": ip},
    )
    assert response.text == "OK, ID - 1, COST - 180000.00"
    assert len(server.store.job_recipients(acc.id, 1)) == 100_000
    assert server.jobs(ip, login=acc.login, psw=psw, get_all=1).split("|")[7] == "100000"


# ---- request encodings ----------------------------------------------------------------------


def _raw_get(server: Server, ip: str, pairs: list[tuple[str, bytes]]) -> bytes:
    query = "&".join(f"{k}={quote_from_bytes(v)}" for k, v in pairs)
    response = server.client.get(f"/sys/jobs.php?{query}", headers={"X-Forwarded-For": ip})
    assert response.status_code == 200
    return response.content


@pytest.mark.parametrize("charset", ["windows-1251", "utf-8", "koi8-r"])
def test_declared_charset_decodes_the_request_and_encodes_the_answer(
    server: Server, ip: str, charset: str
) -> None:
    acc, psw = server.account()
    codec = {"windows-1251": "cp1251", "utf-8": "utf-8", "koi8-r": "koi8-r"}[charset]
    auth = [("login", acc.login.encode()), ("psw", psw.encode()), ("charset", charset.encode())]
    name = "Рассылка для всех"
    add = [
        ("add", b"1"),
        ("name", name.encode(codec)),
        ("phones", b"79161234567"),
        ("mes", "Текст".encode(codec)),
    ]
    assert _raw_get(server, ip, auth + add) == b"OK, ID - 1"
    got = _raw_get(server, ip, [*auth, ("get", b"1"), ("id", b"1")])
    assert got.decode(codec).split("|")[1] == name


def test_without_charset_cp1251_is_assumed_and_utf8_is_recognised(server: Server, ip: str) -> None:
    acc, psw = server.account()
    auth = [("login", acc.login.encode()), ("psw", psw.encode())]
    base = [("add", b"1"), ("phones", b"79161234567"), ("mes", b"m")]
    assert _raw_get(server, ip, auth + base + [("name", "Акция".encode("cp1251"))]) == (
        b"OK, ID - 1"
    )
    assert _raw_get(server, ip, auth + base + [("name", "Распродажа".encode())]) == (b"OK, ID - 2")
    listing = _raw_get(server, ip, [*auth, ("get_all", b"1"), ("fmt", b"1")])
    # The answer is in the default windows-1251.
    names = [line.split(";")[1] for line in listing.decode("cp1251").split("\n")]
    assert names == ["Распродажа", "Акция"]


def test_invalid_bytes_for_the_charset_are_error_1(server: Server, ip: str) -> None:
    acc, psw = server.account()
    answer = _raw_get(
        server,
        ip,
        [
            ("login", acc.login.encode()),
            ("psw", psw.encode()),
            ("charset", b"utf-8"),
            ("add", b"1"),
            ("name", b"\xff\xfe"),
            ("phones", b"79161234567"),
            ("mes", b"m"),
        ],
    )
    assert answer == b"ERROR = 1 (request text is not valid utf-8)"


def test_urlencoded_post_body_wins_over_the_query(server: Server, ip: str) -> None:
    acc, psw = server.account()
    response = server.client.post(
        f"/sys/jobs.php?login={acc.login}&psw={psw}&name=FromQuery&fmt=1",
        data={
            "add": "1",
            "name": "FromBody",
            "phones": "79161234567",
            "mes": "m",
            "charset": "utf-8",
        },
        headers={"X-Forwarded-For": ip},
    )
    assert response.text == "1"
    assert server.jobs(ip, login=acc.login, psw=psw, get=1, id=1).split("|")[1] == "FromBody"


def test_multipart_post_as_the_official_node_library_sends_it(server: Server, ip: str) -> None:
    acc, psw = server.account()
    boundary = "----tidings" + secrets.token_hex(8)
    fields = {
        "login": acc.login,
        "psw": psw,
        "fmt": "3",
        "charset": "utf-8",
        "add": "1",
        "name": "Из Node",
        "phones": "79161234567",
        "mes": "Привет",
    }
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    response = server.client.post(
        "/sys/jobs.php",
        content=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Forwarded-For": ip,
        },
    )
    assert response.json() == {"id": 1}
    got = server.jobs(ip, login=acc.login, psw=psw, get=1, id=1, fmt=3, charset="utf-8")
    assert '"name": "Из Node"' in got and '"message": "Привет"' in got


def test_malformed_multipart_is_an_error_not_a_crash(server: Server, ip: str) -> None:
    acc, psw = server.account()
    response = server.client.post(
        f"/sys/jobs.php?login={acc.login}&psw={psw}",
        content=b"--x\r\nthis is not a part",
        headers={"Content-Type": "multipart/form-data; boundary=x", "X-Forwarded-For": ip},
    )
    assert response.status_code == 200
    assert response.text.startswith("ERROR = 1 (")

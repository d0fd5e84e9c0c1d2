"""The requests the official SMS Center libraries make (smsc_api.py 2.0, smsc_api.php 3.8,
smsc_api.js 1.2 — smsc-api.md §6), replayed byte for byte against a live server, with the
parsing those libraries do on the answers."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from urllib.parse import quote, urlencode

import httpx

from tests.conftest import Server


def _py_call(live: Server, cmd: str, arg: str, login: str, psw: str) -> list[str]:
    """smsc_api.py `_smsc_send_cmd`: GET …?login=…&psw=…&fmt=1&charset=utf-8&<arg>, then
    `result.split(",")`."""
    url = (
        f"{live.url}/sys/{cmd}.php?login={quote(login)}&psw={quote(psw)}&fmt=1&charset=utf-8&{arg}"
    )
    body = httpx.get(url, timeout=10).text
    assert body, "the library treats an empty body as a failure and retries other hosts"
    return body.split(",")


def test_smsc_api_py_send_cost_status_balance(live: Server) -> None:
    acc, psw = live.account(balance="100", test_mode=False)
    mes = quote("Привет, мир")
    # send_sms(phones, message, translit=0, time="", id=0, format=0, sender=False, query="")
    m = _py_call(
        live, "send", f"cost=3&phones=79161234567&mes={mes}&translit=0&id=0", acc.login, psw
    )
    assert len(m) == 4 and int(m[1]) > 0  # (id, cnt, cost, balance)
    assert (m[1], m[2], m[3]) == ("1", "1.80", "98.20")
    msg_id = m[0]
    # get_sms_cost → (cost, cnt)
    cost = _py_call(live, "send", f"cost=1&phones=79161234567&mes={mes}&translit=0", acc.login, psw)
    assert cost == ["1.80", "1"]
    # get_status(id, phone, all=0) → (status, time, err)
    deadline = time.monotonic() + 15
    while True:
        status = _py_call(live, "status", f"phone=79161234567&id={msg_id}&all=0", acc.login, psw)
        if status[0] == "1" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(status) == 3 and status[0] == "1" and int(status[1]) > 0 and status[2] == "0"
    # all=1: the library splits again with a limit of 9 (the message may hold commas).
    full = ",".join(
        _py_call(live, "status", f"phone=79161234567&id={msg_id}&all=1", acc.login, psw)
    ).split(",", 8)
    assert full[0] == "1" and full[4] == "79161234567" and full[8] == "Привет, мир"
    # get_balance → [balance]
    assert _py_call(live, "balance", "cur=0", acc.login, psw) == ["98.20"]


def test_smsc_api_py_sees_errors_as_zero_minus_n(live: Server) -> None:
    acc, psw = live.account()
    answer = _py_call(live, "send", "cost=3&phones=not-a-number&mes=x", acc.login, psw)
    assert answer == ["0", "-7"]
    assert _py_call(live, "balance", "", acc.login, "wrong") == ["0", "-2"]


def test_smsc_api_php_windows_1251_get_and_long_post(live: Server) -> None:
    """smsc_api.php: charset windows-1251 by default, fmt=1, `explode(",")`; a URL over 2000
    characters goes as an urlencoded POST."""
    acc, psw = live.account(balance="1000", test_mode=False)
    mes = "Скидка 10%".encode("cp1251")
    query = urlencode(
        {
            "login": acc.login,
            "psw": psw,
            "fmt": 1,
            "charset": "windows-1251",
            "cost": 3,
            "phones": "79161234567",
            "mes": mes,
        }
    )
    body = httpx.get(f"{live.url}/sys/send.php?{query}", timeout=10).content
    fields = body.decode("cp1251").split(",")
    assert len(fields) == 4 and fields[1] == "1"
    # A message is charged when the dispatcher hands it over: wait for that, so the next
    # answer's balance has this one's charge in it.
    balance_url = f"{live.url}/sys/balance.php?login={acc.login}&psw={psw}&fmt=1"
    deadline = time.monotonic() + 20
    while httpx.get(balance_url, timeout=10).text != "998.20":
        assert time.monotonic() < deadline, "the first message was never charged"
        time.sleep(0.05)
    phones = ",".join(f"7916{n:07d}" for n in range(200))  # > 2000 characters
    post = urlencode(
        {
            "login": acc.login,
            "psw": psw,
            "fmt": 1,
            "charset": "windows-1251",
            "cost": 3,
            "phones": phones,
            "mes": mes,
        }
    )
    answer = httpx.post(
        f"{live.url}/sys/send.php",
        content=post,
        timeout=30,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ).text
    sent_id, cnt, cost, balance = answer.split(",")
    assert float(balance) == 1000 - 1.80 - 360
    assert (cnt, cost) == ("200", "360.00") and sent_id.isdigit()
    # A multi-id status query: one line per message (`\n`), each split by ",".
    lines = httpx.get(
        f"{live.url}/sys/status.php",
        timeout=10,
        params={
            "login": acc.login,
            "psw": psw,
            "fmt": 1,
            "charset": "windows-1251",
            "phone": "79160000000,79160000001",
            "id": f"{sent_id},{sent_id}",
        },
    ).text.split("\n")
    assert len(lines) == 2 and all(len(line.split(",")) == 5 for line in lines)


def _js_post(live: Server, script: str, fields: dict[str, str]) -> dict[str, object]:
    """smsc_api.js: a multipart/form-data POST (form-data `submit`) with fmt=3 and
    charset=utf-8, then `JSON.parse(body)`; an answer with `error_code` is an error."""
    boundary = "--------------------------" + secrets.token_hex(12)
    parts = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode()
        + v.encode()
        + b"\r\n"
        for k, v in fields.items()
    )
    response = httpx.post(
        f"{live.url}/sys/{script}",
        content=parts + f"--{boundary}--\r\n".encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=10,
    )
    parsed: dict[str, object] = json.loads(response.text)
    return parsed


def test_smsc_api_js_multipart_json(live: Server) -> None:
    acc, psw = live.account(balance="50", test_mode=False)
    base = {"login": acc.login, "psw": psw, "fmt": "3", "charset": "utf-8"}
    sent = _js_post(
        live,
        "send.php",
        {**base, "phones": "79161234567", "mes": "Привет", "cost": "3", "sms": "1"},
    )
    assert "error_code" not in sent and sent["cnt"] == 1 and sent["cost"] == "1.80"
    cost = _js_post(
        live, "send.php", {**base, "phones": "79161234567", "mes": "Привет", "cost": "1"}
    )
    assert cost["cost"] == "1.80"
    balance = _js_post(live, "balance.php", {**base, "cur": "1"})
    assert balance["balance"] == "48.20" and balance["currency"] == "RUB"
    job = _js_post(
        live,
        "jobs.php",
        {**base, "add": "1", "name": "From JS", "phones": "79161234567", "mes": "Привет"},
    )
    assert isinstance(job["id"], int)
    bad = _js_post(live, "send.php", {**base, "phones": "79161234567"})
    assert bad["error_code"] == 1


def _php_call(live: Server, cmd: str, arg: str, login: str, psw: str, *, post: bool) -> list[str]:
    """smsc_api.php `_smsc_send_cmd`: `login=…&psw=…&fmt=1&charset=windows-1251&<arg>` as a
    GET query, or the same string as an urlencoded POST body (SMSC_POST, or a URL over 2000
    characters); then `explode(",")` on the windows-1251 answer."""
    query = f"login={quote(login)}&psw={quote(psw)}&fmt=1&charset=windows-1251&{arg}"
    if post:
        response = httpx.post(
            f"{live.url}/sys/{cmd}.php",
            content=query.encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
    else:
        response = httpx.get(f"{live.url}/sys/{cmd}.php?{query}", timeout=10)
    body = response.content.decode("cp1251")
    assert body, "the library treats an empty body as a failure and retries other hosts"
    return body.split(",")


def _delivered(call: Callable[[], list[str]]) -> list[str]:
    deadline = time.monotonic() + 15
    while True:
        answer = call()
        if answer[0] == "1" or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def test_smsc_api_php_id_0_sends_get_distinct_ids_and_their_statuses(live: Server) -> None:
    """send_sms($phones, $message, $translit = 0, $time = 0, $id = 0, …) sends `id=0` when the
    caller gives no id: every send must still get an id of its own, and get_status($id,
    $phone) must find each message — by GET and by POST, in windows-1251."""
    acc, psw = live.account(balance="100", test_mode=False)
    sent: list[tuple[str, str]] = []
    for n, post in enumerate((False, True, False)):
        text = f"Заказ {n} готов"
        mes = quote(text.encode("cp1251"))
        arg = f"cost=3&phones=79161234567&mes={mes}&translit=0&id=0"
        m = _php_call(live, "send", arg, acc.login, psw, post=post)
        assert len(m) == 4 and m[1] == "1" and m[0] != "0", m  # (id, cnt, cost, balance)
        sent.append((m[0], text))
    assert len({sent_id for sent_id, _ in sent}) == 3
    for n, (sent_id, text) in enumerate(sent):
        arg = f"phone=79161234567&id={quote(sent_id)}&all=1"
        status = _delivered(
            lambda a=arg, p=n % 2 == 1: _php_call(live, "status", a, acc.login, psw, post=p)
        )
        # all=1 and no comma in the id: the library splits again with a limit of 9.
        full = ",".join(status).split(",", 8)
        assert full[0] == "1" and full[4] == "79161234567" and full[8] == text


def test_smsc_api_py_id_0_sends_get_distinct_ids_and_their_statuses(live: Server) -> None:
    """smsc_api.py send_sms(…, id=0, …) likewise: `id=0` with each send, fmt=1, utf-8."""
    acc, psw = live.account(balance="100", test_mode=False)
    ids = []
    for n in range(3):
        arg = f"cost=3&phones=79161234567&mes={quote(f'Код {n}')}&translit=0&id=0"
        m = _py_call(live, "send", arg, acc.login, psw)
        assert len(m) == 4 and m[0] != "0", m
        ids.append(m[0])
    assert len(set(ids)) == 3
    for n, msg_id in enumerate(ids):
        arg = f"phone=79161234567&id={msg_id}&all=1"
        status = _delivered(lambda a=arg: _py_call(live, "status", a, acc.login, psw))
        assert ",".join(status).split(",", 8)[8] == f"Код {n}"
    # An empty id is "assign one" too, and an error of an id=0 send echoes no id.
    assert _py_call(live, "send", "phones=79161234567&mes=x&id=", acc.login, psw)[0] not in ids
    assert _py_call(live, "send", "cost=3&phones=bad&mes=x&id=0", acc.login, psw) == ["0", "-7"]

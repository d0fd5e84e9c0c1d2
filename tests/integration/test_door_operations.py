"""Operating the doors: /metrics counts their binds, PDUs, window and mails; `tidings doctor`
finds each enabled door answering, free to start, or its address taken by something else."""

from __future__ import annotations

import asyncio
import re
import smtplib
from collections.abc import Iterator

import pytest

from tests.conftest import fresh_database_url
from tests.integration.door_support import Doors, doors_running, free_port
from tests.integration.test_smpp_server import account, answers, submit
from tidings.ops.doctor import door_check


@pytest.fixture(scope="module")
def doors(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Doors]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp(f"door-ops-{backend}"))
    with doors_running(url) as running:
        yield running


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_binds_pdus_and_mails(doors: Doors) -> None:
    from tests.integration.door_support import Esme

    before = doors.server.client.get("/metrics").text
    who = account(doors)
    esme = Esme(doors.smpp_port)
    try:
        esme.bind("transceiver", who.login, who.smpp)
        submit(esme, b"counted")
        assert answers(esme, 1)[0][0] == 0
        with smtplib.SMTP("127.0.0.1", doors.smtp_port, local_hostname="client.test") as smtp:
            smtp.ehlo()
            smtp.mail("a@example.org")
            smtp.rcpt("send@send.localhost")
            assert smtp.data(b"nobody:wrong:::0,0,,0:79161234567:x\r\n")[0] == 550
        after = doors.server.client.get("/metrics").text
        assert metric(after, "tidings_smpp_server_binds", login=who.login, mode="transceiver") == 1
    finally:
        esme.close()
    ok = {"command": "submit_sm_resp", "status": "ESME_ROK"}
    name = "tidings_smpp_server_pdus_total"
    assert metric(after, name, **ok) == metric(before, name, **ok) + 1
    binds = {"command": "bind_transceiver", "status": "request"}
    assert metric(after, name, **binds) >= metric(before, name, **binds) + 1
    refused = "tidings_smtp_server_mails_total"
    assert metric(after, refused, result="refused") == metric(before, refused, result="refused") + 1
    assert metric(after, "tidings_smpp_server_window_in_use") == 0


def test_doctor_finds_the_doors_answering_free_or_taken(doors: Doors) -> None:
    async def checks() -> list[tuple[bool, str]]:
        found = [
            await door_check("smpp", "127.0.0.1", doors.smpp_port),
            await door_check("smtp", "127.0.0.1", doors.smtp_port),
            await door_check("smpp", "127.0.0.1", free_port()),
            # The SMTP door's address for the SMPP server: something else listens there.
            await door_check("smpp", "127.0.0.1", doors.smtp_port, timeout_s=2),
        ]
        return [(c.ok, c.detail) for c in found]

    smpp, smtp, free, taken = asyncio.run(checks())
    assert smpp == (True, "answers enquire_link")
    assert smtp[0] and smtp[1].startswith("answers: 220 send.localhost")
    assert free == (True, "not running here; the address is free for it")
    assert not taken[0] and "something else listens there" in taken[1]


def test_the_admin_page_lists_bound_clients_and_forgets_them_after_unbind(doors: Doors) -> None:
    import secrets
    import time

    from tests.integration.door_support import Esme
    from tests.integration.web_support import WebUser
    from tidings.domain.accounts import hash_password

    password = secrets.token_urlsafe(8)
    operator = doors.server.store.create_account(
        f"op{secrets.token_hex(4)}",
        hash_password(password),
        doors.server.clock.now(),
        is_operator=True,
    )
    web = WebUser(doors.server, f"2001:db8:7::{secrets.token_hex(2)}")
    assert web.sign_in(operator.login, password).status_code == 303
    who = account(doors)
    esme = Esme(doors.smpp_port)

    def shown() -> str:
        page = web.get("/admin/smpp")
        assert page.status_code == 200
        return page.text

    try:
        esme.bind("transceiver", who.login, who.smpp)
        submit(esme, b"counted")
        assert answers(esme, 1)[0][0] == 0
        deadline = time.monotonic() + 10  # the server reports its binds every 2 s
        while not re.search(
            rf"<td>{who.login}</td><td>transceiver</td><td>127\.0\.0\.1</td>", shown()
        ):
            assert time.monotonic() < deadline, "the bound client never showed"
            time.sleep(0.3)
        row = re.search(rf"<td>{who.login}</td>.*?</tr>", shown(), re.S)
        assert (
            row and "<td>0 / " in row.group(0) and "<td>1</td>" in row.group(0)
        )  # window, submits
    finally:
        esme.close()
    deadline = time.monotonic() + 10
    while who.login in shown():
        assert time.monotonic() < deadline, "a client gone still shows as bound"
        time.sleep(0.3)
    # Customers never see it.
    acc, psw = doors.server.account()
    customer = WebUser(doors.server, f"2001:db8:8::{secrets.token_hex(2)}")
    assert customer.sign_in(acc.login, psw).status_code == 303
    assert customer.get("/admin/smpp").status_code == 404
    web.close()
    customer.close()

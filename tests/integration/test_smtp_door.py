"""The SMTP door with Python's smtplib on loopback, on both stores: the documented body in
koi8-r (the default) and utf-8, `[text]…[/text]`, the `list` variant, the API key form, and
the refusals — a bad login, a bad phone, another domain, a mail too large. What is accepted
is visible in status.php with its text."""

from __future__ import annotations

import secrets
import smtplib
from collections.abc import Iterator
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from tests.conftest import fresh_database_url
from tests.integration.door_support import Doors, doors_running
from tidings.domain.accounts import api_key_hash

PHONE, OTHER = "79161234567", "79161234568"
ADDRESS = "send@send.localhost"


@pytest.fixture(scope="module")
def doors(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Doors]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp(f"smtp-{backend}"))
    guards = {"auth_failures_max": 1000}  # the refusal tests all come from 127.0.0.1
    with doors_running(url, guards=guards, smtp_server={"max_message_bytes": 4096}) as running:
        yield running


def deliver(doors: Doors, body: bytes | str, *, to: str = ADDRESS) -> tuple[int, str]:
    """One mail; the answer to its DATA (or to its RCPT when that refused it)."""
    with smtplib.SMTP("127.0.0.1", doors.smtp_port, local_hostname="client.test") as smtp:
        smtp.ehlo()
        smtp.mail("shop@example.org")
        code, reply = smtp.rcpt(to)
        if code != 250:
            return code, reply.decode()
        code, reply = smtp.data(body)
        return code, reply.decode()


def plain(text: str, charset: str | None) -> bytes:
    """A text/plain mail; without `charset` its Content-Type names none (the koi8-r rule)."""
    codec = charset or "koi8-r"
    content_type = "text/plain" + (f"; charset={charset}" if charset else "")
    head = f"From: shop@example.org\r\nTo: {ADDRESS}\r\nContent-Type: {content_type}\r\n"
    head += "Content-Transfer-Encoding: 8bit\r\n\r\n"
    return head.encode() + text.encode(codec) + b"\r\n"


def sent_id(reply: str) -> str:
    assert reply.startswith("OK - "), reply
    return reply.rsplit("ID - ", 1)[1]


def account(doors: Doors) -> tuple[str, str]:
    acc, psw = doors.server.account(test_mode=False)
    return acc.login, psw


@pytest.mark.parametrize("charset", [None, "koi8-r", "utf-8"])
def test_the_documented_body_sends_the_text(doors: Doors, charset: str | None) -> None:
    login, psw = account(doors)
    text = "Привет по почте: встреча в 10:30"
    code, reply = deliver(doors, plain(f"{login}:{psw}:::0,0,Shop,0:{PHONE}:{text}", charset))
    assert code == 250 and reply == f"OK - 1 SMS, ID - {sent_id(reply)}"
    got = doors.wait_status(login, psw, sent_id(reply), PHONE, wanted=1)
    assert (got["status"], got["message"], got["sender_id"]) == (1, text, "Shop")


def test_the_list_variant_gives_each_number_its_text(doors: Doors) -> None:
    login, psw = account(doors)
    body = f"{login}:{psw}:mail-7::0,0,,0::{PHONE}:Первому\n{OTHER}:Второму"
    code, reply = deliver(doors, plain(body, "utf-8"))
    assert (code, reply) == (250, "OK - 2 SMS, ID - mail-7")
    first = doors.wait_status(login, psw, "mail-7", PHONE, wanted=1)
    second = doors.wait_status(login, psw, "mail-7", OTHER, wanted=1)
    assert (first["message"], second["message"]) == ("Первому", "Второму")


def test_an_empty_login_takes_the_api_key_and_text_markers_bound_the_body(doors: Doors) -> None:
    login, psw = account(doors)
    acc = doors.server.store.account_by_login(login)
    assert acc is not None
    key = "tk_" + secrets.token_urlsafe(20)
    doors.server.store.add_api_key(acc.id, api_key_hash(key), key[:6], doors.server.clock.now())
    mail = MIMEMultipart("alternative")
    mail["To"] = ADDRESS
    html = f"<p>[text]:{key}:::0,0,,0:{PHONE}:Ключ и разметка[/text]</p>"
    mail.attach(MIMEText(html, "html", "utf-8"))
    code, reply = deliver(doors, mail.as_bytes())
    assert code == 250, reply
    got = doors.wait_status(login, psw, sent_id(reply), PHONE, wanted=1)
    assert got["message"] == "Ключ и разметка"


def test_test_mode_of_the_body_prices_without_sending(doors: Doors) -> None:
    login, psw = account(doors)
    code, reply = deliver(doors, plain(f"{login}:{psw}:::0,0,,1:{PHONE}:Only a price", None))
    assert (code, reply) == (250, "1.80 (1 SMS)")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("{login}:wrong-password:::0,0,,0:79161234567:Hi", "authorise error"),
        ("{login}:{psw}:::0,0,,0:12:Hi", "invalid number"),
        ("{login}:{psw}:::0,7,,0:79161234567:Hi", "format not supported"),
        ("just some words", "the body must be login:psw:id"),
    ],
)
def test_a_refused_request_is_a_5xx_with_the_error_text(
    doors: Doors, body: str, error: str
) -> None:
    login, psw = account(doors)
    code, reply = deliver(doors, plain(body.format(login=login, psw=psw), None))
    assert code == 550 and error in reply, reply


def test_another_domain_is_refused_no_open_relay(doors: Doors) -> None:
    login, psw = account(doors)
    body = plain(f"{login}:{psw}:::0,0,,0:{PHONE}:Relay me", None)
    for address in ("someone@example.org", "send@other.localhost", "other@send.localhost"):
        code, reply = deliver(doors, body, to=address)
        assert code == 550 and "relaying denied" in reply


def test_a_mail_over_the_size_limit_is_refused(doors: Doors) -> None:
    login, psw = account(doors)
    long_text = "\r\n".join(["x" * 70] * 70)  # lines within SMTP's 1,000, 5 KB in all
    code, _reply = deliver(doors, plain(f"{login}:{psw}:::0,0,,0:{PHONE}:{long_text}", None))
    assert code == 552

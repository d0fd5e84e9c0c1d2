"""The SMTP channel's pure parts: MIME templates, addresses, Message-IDs and the mapping of
relay refusals to statuses."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.channels.base import OutboundMessage
from tidings.channels.smtp import (
    MimeTemplates,
    SmtpUpstream,
    build_template,
    is_html,
    message_id_for,
    refusal_result,
    wire_address,
)
from tidings.domain.lifecycle import MessageStatus

DEFAULT_FROM = "Tidings <noreply@tidings.example>"


def mail(message_id: int = 1, address: str = "a@example.org", **overrides: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "message_id": message_id,
        "address": address,
        "text": "Hello",
        "sender": "shop@example.com",
        "fmt": 8,
        "subject": "Offer",
        "template_key": "job-1",
    }
    values.update(overrides)
    return OutboundMessage(**values)


def rendered(message: OutboundMessage) -> tuple[bytes, EmailMessage]:
    templates = MimeTemplates(DEFAULT_FROM, max_size=8)
    raw = templates.render(templates.template(message), message.address, "<1.x@example.com>")
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return raw, parsed


# --- MIME -----------------------------------------------------------------------------------


def test_a_long_cyrillic_subject_survives_encoding_and_folding() -> None:
    subject = "Скидки недели — только до пятницы, успейте купить всё, что давно хотели"
    raw, msg = rendered(mail(subject=subject))

    assert msg["Subject"] == subject
    head = raw.split(b"\r\n\r\n")[0]
    assert raw.isascii()
    assert max(len(line) for line in head.split(b"\r\n")) <= 78


# "=?" is left out: an ASCII subject that happens to spell an encoded word is decoded by readers.
@given(
    st.text(min_size=1, max_size=200).filter(
        lambda s: s.strip() == s and s.isprintable() and "=?" not in s
    )
)
def test_any_printable_subject_comes_back_as_sent(subject: str) -> None:
    _, msg = rendered(mail(subject=subject))

    assert " ".join(msg["Subject"].split()) == " ".join(subject.split())


def test_a_subject_cannot_inject_headers() -> None:
    _, msg = rendered(mail(subject="Hi\r\nBcc: victim@example.org"))

    assert msg["Bcc"] is None
    assert msg["Subject"] == "Hi Bcc: victim@example.org"


@pytest.mark.parametrize(
    ("text", "content_type"),
    [
        ("Hello", "text/plain"),
        ("<p>Привет</p>", "text/html"),
        ("  <html><body>Hi</body></html>", "text/html"),
        ("<3 you", "text/plain"),
        ("Use </b> tags", "text/plain"),
    ],
)
def test_simple_html_is_sent_as_html(text: str, content_type: str) -> None:
    _, msg = rendered(mail(text=text))

    assert is_html(text) == (content_type == "text/html")
    assert msg.get_content_type() == content_type
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_content().replace("\r\n", "\n").rstrip("\n") == text


def test_the_body_is_7bit_safe_even_with_long_lines_and_cyrillic() -> None:
    text = "Привет! " * 200 + "\n." + "x" * 1200
    raw, msg = rendered(mail(text=text))

    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert msg["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
    assert msg.get_content().replace("\r\n", "\n").rstrip("\n") == text


@pytest.mark.parametrize(
    ("sender", "from_name", "from_address"),
    [
        ("shop@example.com", "", "shop@example.com"),
        ("Магазин «Ромашка» <shop@example.com>", "Магазин «Ромашка»", "shop@example.com"),
        ("Shop, Inc <shop@example.com>", "Shop, Inc", "shop@example.com"),
        ("Ромашка", "Ромашка", "noreply@tidings.example"),
        ("", "Tidings", "noreply@tidings.example"),
    ],
)
def test_from_is_the_sender_or_the_default(sender: str, from_name: str, from_address: str) -> None:
    _, msg = rendered(mail(sender=sender))

    [address] = msg["From"].addresses
    assert (address.display_name, address.addr_spec) == (from_name, from_address)
    assert build_template(sender, "", "x", DEFAULT_FROM).envelope_from == from_address


def test_per_recipient_headers_are_to_date_and_message_id() -> None:
    _, msg = rendered(mail(address="someone@example.org"))

    assert msg["To"] == "someone@example.org"
    assert msg["Message-ID"] == "<1.x@example.com>"
    assert msg["Date"].datetime.tzinfo is not None
    assert msg["MIME-Version"] == "1.0"


def test_the_template_cache_is_per_list_and_bounded() -> None:
    templates = MimeTemplates(DEFAULT_FROM, max_size=2)
    for key in ("a", "b", "a", "c", "a"):
        for address in ("x@example.org", "y@example.org"):
            templates.template(mail(address=address, template_key=key))

    # "a" stays hot; "b" is evicted by "c"; nothing is rebuilt for a second recipient.
    assert len(templates) == 2
    assert templates.built == 3
    templates.template(mail(template_key="b"))
    assert templates.built == 4


def test_a_personalised_text_in_one_list_gets_its_own_template() -> None:
    templates = MimeTemplates(DEFAULT_FROM, max_size=8)
    one = templates.template(mail(text="Dear Ann"))
    two = templates.template(mail(text="Dear Bob"))

    assert one != two
    assert templates.built == 2


# --- addresses and ids ----------------------------------------------------------------------


def test_wire_address() -> None:
    assert wire_address("a@example.org") == ("a@example.org", False)
    assert wire_address("info@почта.рф") == ("info@xn--80a1acny.xn--p1ai", False)
    assert wire_address("иван@почта.рф") == ("иван@xn--80a1acny.xn--p1ai", True)


@pytest.mark.parametrize(
    "address", ["", "no-at-sign", "@example.org", "a@", "a@b.org\r\nBcc: c@d.org", "a b@c.org"]
)
def test_wire_address_refuses_what_cannot_go_on_the_wire(address: str) -> None:
    with pytest.raises(ValueError, match="bad e-mail"):
        wire_address(address)


def test_message_ids_are_stable_for_a_retry_and_distinct_per_recipient() -> None:
    first = message_id_for(mail(7, "a@example.org"), "example.com")

    assert first == message_id_for(mail(7, "a@example.org"), "example.com")
    assert first != message_id_for(mail(8, "b@example.org"), "example.com")
    assert first.startswith("<7.") and first.endswith("@example.com>")


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "code", "reply", "status"),
    [
        ("RCPT", 550, "5.1.1 No such user", MessageStatus.BAD_NUMBER),
        ("RCPT", 550, "No such user here", MessageStatus.BAD_NUMBER),
        ("RCPT", 553, "mailbox name not allowed", MessageStatus.BAD_NUMBER),
        ("RCPT", 550, "5.7.1 Relaying denied", MessageStatus.PROHIBITED),
        ("RCPT", 552, "5.2.2 Mailbox full", MessageStatus.UNDELIVERABLE),
        ("DATA", 554, "5.7.1 Message rejected as spam", MessageStatus.PROHIBITED),
        ("DATA", 552, "5.3.4 Message too big", MessageStatus.UNDELIVERABLE),
        ("DATA", 554, "Transaction failed", MessageStatus.UNDELIVERABLE),
        ("MAIL", 553, "5.1.8 Sender domain does not exist", MessageStatus.PROHIBITED),
    ],
)
def test_permanent_refusals_are_final(
    stage: Any, code: int, reply: str, status: MessageStatus
) -> None:
    result = refusal_result(stage, code, reply)

    assert (result.accepted, result.retry) == (False, False)
    assert result.final_status is status
    assert result.err == code
    assert reply in result.detail


@pytest.mark.parametrize(
    ("stage", "code"), [("RCPT", 451), ("MAIL", 421), ("DATA", 452), ("RCPT", 354)]
)
def test_transient_refusals_are_retried(stage: Any, code: int) -> None:
    result = refusal_result(stage, code, "4.3.0 try later")

    assert (result.accepted, result.retry, result.final_status) == (False, True, None)
    assert result.err == code


# --- configuration --------------------------------------------------------------------------


def upstream(**overrides: Any) -> SmtpUpstream:
    values: dict[str, Any] = {"name": "relay", "host": "127.0.0.1", "default_from": DEFAULT_FROM}
    values.update(overrides)
    return SmtpUpstream(**values)


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"security": "ssl"}, "security"),
        ({"pool_size": 0}, "pool_size"),
        ({"default_from": "nobody"}, "default_from"),
        ({"username": "u"}, "username and password"),
        ({"dkim_selector": "s", "dkim_domain": "example.com"}, "DKIM"),
        ({"dkim_private_key": b"k"}, "DKIM"),
    ],
)
def test_upstream_config_is_checked(overrides: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        upstream(**overrides)


def test_secrets_stay_out_of_the_repr() -> None:
    text = repr(
        upstream(
            username="u",
            password="s3cret",
            dkim_private_key=b"KEY",
            dkim_selector="s",
            dkim_domain="example.com",
        )
    )

    assert "s3cret" not in text and "KEY" not in text
    assert upstream().pool_size == 4 and upstream().max_messages_per_connection == 100

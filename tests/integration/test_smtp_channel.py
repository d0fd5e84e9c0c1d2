"""The SMTP channel against real aiosmtpd servers on loopback: what arrives at the relay, how
refusals map to statuses, TLS and AUTH, DKIM, the connection pool and stopping."""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import dkim
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.tls_support import self_signed
from tidings.channels.base import OutboundMessage, Receipt, SubmitResult
from tidings.channels.smtp import SmtpChannel, SmtpUpstream
from tidings.domain.lifecycle import MessageStatus

T = TypeVar("T")
SUBJECT = "Скидки недели — только до пятницы"
TEXT = "Здравствуйте!\nНовая коллекция уже в магазине.\n"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    peer: tuple[str, int]
    authenticated: bool
    tls: bool

    def parsed(self) -> EmailMessage:
        msg = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Relay:
    """The aiosmtpd handler: records what arrives and counts connections that said EHLO."""

    messages: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    # "rcpt" or "data": close the connection at that command instead of answering;
    # "mail-once": do so at the next MAIL FROM only.
    hang_up_at: str = ""
    # Seconds to sit on DATA before answering: keeps a submit in flight.
    data_delay: float = 0.0
    in_data: threading.Event = field(default_factory=threading.Event)
    open_peers: set[tuple[str, int]] = field(default_factory=set)
    all_peers: set[tuple[str, int]] = field(default_factory=set)
    peak_connections: int = 0
    quit_peers: set[tuple[str, int]] = field(default_factory=set)
    servers: list[SMTP] = field(default_factory=list)

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        self.open_peers.add(session.peer)
        self.all_peers.add(session.peer)
        self.peak_connections = max(self.peak_connections, len(self.open_peers))
        self.servers.append(server)
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.hang_up_at == "mail-once":
            self.hang_up_at = ""
            server.transport.close()
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.hang_up_at == "rcpt":
            server.transport.close()
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.hang_up_at == "data":
            server.transport.close()
        self.in_data.set()
        await asyncio.sleep(self.data_delay)
        content = envelope.original_content
        assert isinstance(content, bytes) and isinstance(envelope.mail_from, str)
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                content,
                session.peer,
                session.authenticated,
                server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 2.0.0 queued"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.quit_peers.add(session.peer)
        return "221 Bye"

    def closed(self, peer: tuple[str, int]) -> None:
        self.open_peers.discard(peer)

    def by_recipient(self) -> dict[str, Received]:
        return {m.rcpt_tos[0]: m for m in self.messages}


class CountingSMTP(SMTP):
    def connection_lost(self, error: Exception | None) -> None:
        if self.session is not None:
            self.event_handler.closed(self.session.peer)
        super().connection_lost(error)


class CountingController(Controller):
    def factory(self) -> SMTP:
        return CountingSMTP(self.handler, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def relay() -> Relay:
    return Relay()


def start_relay(relay: Relay, **kwargs: Any) -> Controller:
    controller = CountingController(relay, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def plain_relay(relay: Relay) -> Iterator[Controller]:
    controller = start_relay(relay)
    yield controller
    controller.stop()


def upstream(port: int, **overrides: Any) -> SmtpUpstream:
    values: dict[str, Any] = {
        "name": "relay",
        "host": "127.0.0.1",
        "port": port,
        "default_from": "Tidings <noreply@tidings.example>",
        "helo_name": "tidings.test",
        "timeout_s": 5.0,
    }
    values.update(overrides)
    return SmtpUpstream(**values)


def mail(message_id: int, address: str, **overrides: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "message_id": message_id,
        "address": address,
        "text": TEXT,
        "sender": "Shop <shop@example.com>",
        "fmt": 8,
        "subject": SUBJECT,
        "template_key": "job-7",
    }
    values.update(overrides)
    return OutboundMessage(**values)


def no_receipts(receipt: Receipt) -> None:
    raise AssertionError(f"e-mail has no receipts, got {receipt}")


async def with_channel(up: SmtpUpstream, work: Any) -> Any:
    channel = SmtpChannel(up)
    await channel.start(no_receipts)
    try:
        return await work(channel)
    finally:
        await channel.stop(drain=True)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def send_all(up: SmtpUpstream, messages: list[OutboundMessage]) -> list[SubmitResult]:
    async def work(channel: SmtpChannel) -> list[SubmitResult]:
        return list(await asyncio.gather(*(channel.submit(m) for m in messages)))

    results: list[SubmitResult] = run(with_channel(up, work))
    return results


def delivered(result: SubmitResult) -> bool:
    return result.accepted and result.final_status is MessageStatus.DELIVERED


# --- a mailing list -------------------------------------------------------------------------


def test_a_list_of_50_reaches_every_recipient_with_its_subject_from_and_body(
    plain_relay: Controller, relay: Relay
) -> None:
    addresses = [f"user{i}@example.org" for i in range(50)]
    channel = SmtpChannel(upstream(plain_relay.port))

    async def scenario() -> list[SubmitResult]:
        await channel.start(no_receipts)
        results = await asyncio.gather(
            *(channel.submit(mail(i, a)) for i, a in enumerate(addresses, 1))
        )
        await channel.stop()
        return list(results)

    results = run(scenario())

    assert all(delivered(r) for r in results)
    received = relay.by_recipient()
    assert sorted(received) == sorted(addresses)
    for address, result in zip(addresses, results, strict=True):
        got = received[address]
        msg = got.parsed()
        assert got.mail_from == "shop@example.com"
        assert msg["Subject"] == SUBJECT
        assert msg["From"].addresses[0].addr_spec == "shop@example.com"
        assert msg["From"].addresses[0].display_name == "Shop"
        assert msg["To"] == address
        assert msg["Message-ID"] == result.upstream_ids[0]
        assert msg["Date"].datetime.tzinfo is not None
        assert msg.get_content_type() == "text/plain"
        # Text travels in canonical form (CRLF line ends, RFC 2046 4.1.1).
        assert msg.get_content().replace("\r\n", "\n") == TEXT
        # 7-bit clean on the wire: the Cyrillic subject is RFC 2047, the body base64/QP.
        assert got.content.isascii()
        assert b"=?utf-8?" in got.content.split(b"\r\n\r\n")[0]
    assert len({r.upstream_ids[0] for r in results}) == 50
    # The MIME was built once for the list, not once per recipient.
    assert channel.templates.built == 1
    assert len(channel.templates) == 1


def test_html_text_goes_out_as_text_html_and_the_default_from_is_used(
    plain_relay: Controller, relay: Relay
) -> None:
    html = "<h1>Привет</h1><p>Новая коллекция</p>"
    [result] = send_all(
        upstream(plain_relay.port), [mail(1, "a@example.org", text=html, sender="")]
    )

    assert delivered(result)
    msg = relay.messages[0].parsed()
    assert msg.get_content_type() == "text/html"
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_content().strip() == html
    assert str(msg["From"]) == "Tidings <noreply@tidings.example>"
    assert relay.messages[0].mail_from == "noreply@tidings.example"


def test_an_idn_address_with_a_cyrillic_mailbox_is_sent_with_smtputf8(
    plain_relay: Controller, relay: Relay
) -> None:
    [result] = send_all(upstream(plain_relay.port), [mail(1, "иван@почта.рф")])

    assert delivered(result)
    assert relay.messages[0].rcpt_tos == ["иван@xn--80a1acny.xn--p1ai"]
    assert relay.messages[0].parsed()["To"] == "иван@xn--80a1acny.xn--p1ai"


# --- refusals -------------------------------------------------------------------------------


def test_no_such_user_fails_that_message_only(plain_relay: Controller, relay: Relay) -> None:
    relay.rcpt_replies["ghost@example.org"] = "550 5.1.1 No such user"
    addresses = ["a@example.org", "ghost@example.org", "b@example.org", "c@example.org"]
    # One connection, so the messages after the refused one reuse the connection it left.
    results = send_all(
        upstream(plain_relay.port, pool_size=1),
        [mail(i, a) for i, a in enumerate(addresses, 1)],
    )

    ghost = results[1]
    assert not ghost.accepted and not ghost.retry
    assert ghost.final_status is MessageStatus.BAD_NUMBER
    assert ghost.err == 550
    assert "No such user" in ghost.detail
    assert all(delivered(r) for i, r in enumerate(results) if i != 1)
    assert sorted(relay.by_recipient()) == ["a@example.org", "b@example.org", "c@example.org"]


def test_try_later_is_retried_and_the_retry_is_delivered(
    plain_relay: Controller, relay: Relay
) -> None:
    relay.rcpt_replies["busy@example.org"] = "451 4.3.0 try later"
    up = upstream(plain_relay.port)

    async def work(channel: SmtpChannel) -> tuple[SubmitResult, SubmitResult]:
        first = await channel.submit(mail(1, "busy@example.org"))
        del relay.rcpt_replies["busy@example.org"]
        second = await channel.submit(mail(1, "busy@example.org"))
        return first, second

    first, second = run(with_channel(up, work))

    assert not first.accepted and first.retry
    assert first.err == 451 and first.final_status is None
    assert delivered(second)
    assert [m.rcpt_tos for m in relay.messages] == [["busy@example.org"]]


def test_a_connection_lost_at_rcpt_is_retried_as_not_sent(
    plain_relay: Controller, relay: Relay
) -> None:
    relay.hang_up_at = "rcpt"
    [result] = send_all(upstream(plain_relay.port), [mail(1, "a@example.org")])

    assert not result.accepted and result.retry
    assert "not sent" in result.detail
    assert relay.messages == []


def test_a_connection_lost_after_data_is_retried_as_ambiguous(
    plain_relay: Controller, relay: Relay
) -> None:
    relay.hang_up_at = "data"
    [result] = send_all(upstream(plain_relay.port), [mail(1, "a@example.org")])

    assert not result.accepted and result.retry
    assert "may have accepted" in result.detail


def test_no_relay_listening_is_retried() -> None:
    [result] = send_all(upstream(free_port()), [mail(1, "a@example.org")])

    assert not result.accepted and result.retry
    assert "cannot connect" in result.detail


def test_a_bad_address_fails_without_touching_the_relay(
    plain_relay: Controller, relay: Relay
) -> None:
    [result] = send_all(upstream(plain_relay.port), [mail(1, "a@b.org\r\nBcc: x@y.org")])

    assert result.final_status is MessageStatus.BAD_NUMBER and not result.retry
    assert relay.all_peers == set()


# --- TLS and AUTH ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (cert, key)."""
    return self_signed(tmp_path_factory.mktemp("tls"))


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"tidings"
    return AuthResult(success=ok and auth_data.password == b"s3cret", handled=False)


@pytest.fixture
def starttls_relay(relay: Relay, certificate: tuple[Path, Path]) -> Iterator[Controller]:
    controller = start_relay(
        relay,
        tls_context=server_tls(certificate),
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator,
    )
    yield controller
    controller.stop()


def test_starttls_and_auth(
    starttls_relay: Controller, relay: Relay, certificate: tuple[Path, Path]
) -> None:
    up = upstream(
        starttls_relay.port,
        security="starttls",
        ca_file=str(certificate[0]),
        username="tidings",
        password="s3cret",
    )
    [result] = send_all(up, [mail(1, "a@example.org")])

    assert delivered(result)
    assert relay.messages[0].tls and relay.messages[0].authenticated


def test_a_wrong_password_is_retried_and_nothing_is_sent(
    starttls_relay: Controller, relay: Relay, certificate: tuple[Path, Path]
) -> None:
    up = upstream(
        starttls_relay.port,
        security="starttls",
        ca_file=str(certificate[0]),
        username="tidings",
        password="wrong",
    )
    [result] = send_all(up, [mail(1, "a@example.org")])

    assert not result.accepted and result.retry
    assert "535" in result.detail
    assert relay.messages == []


def test_an_untrusted_certificate_is_refused(starttls_relay: Controller, relay: Relay) -> None:
    up = upstream(starttls_relay.port, security="starttls", username="tidings", password="s3cret")
    [result] = send_all(up, [mail(1, "a@example.org")])

    assert not result.accepted and result.retry
    assert relay.messages == []


def test_implicit_tls(relay: Relay, certificate: tuple[Path, Path]) -> None:
    controller = start_relay(relay, ssl_context=server_tls(certificate))
    try:
        up = upstream(controller.port, security="tls", ca_file=str(certificate[0]))
        [result] = send_all(up, [mail(1, "a@example.org")])
    finally:
        controller.stop()

    assert delivered(result)
    assert relay.messages[0].tls


# --- DKIM -----------------------------------------------------------------------------------


def test_the_received_message_carries_a_dkim_signature_that_verifies(
    plain_relay: Controller, relay: Relay, tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path = tmp_path / "dkim.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"mail2026._domainkey.example.com." else None

    up = upstream(
        plain_relay.port,
        dkim_selector="mail2026",
        dkim_domain="example.com",
        dkim_private_key_path=str(key_path),
    )
    send_all(up, [mail(1, "a@example.org"), mail(2, "b@example.org")])

    assert len(relay.messages) == 2
    for got in relay.messages:
        assert got.content.startswith(b"DKIM-Signature:")
        assert dkim.verify(got.content, dnsfunc=dns)
        assert b"d=example.com" in got.content and b"s=mail2026" in got.content
        # A relay changing the recipient breaks the signature: To is signed.
        forged = got.content.replace(b"To: ", b"To: x", 1)
        assert not dkim.verify(forged, dnsfunc=dns)


def test_a_bad_dkim_key_fails_at_start(plain_relay: Controller) -> None:
    up = upstream(
        plain_relay.port, dkim_selector="s", dkim_domain="example.com", dkim_private_key=b"junk"
    )

    with pytest.raises(dkim.KeyFormatError):
        run(SmtpChannel(up).start(no_receipts))


# --- the pool -------------------------------------------------------------------------------


def test_200_concurrent_submits_share_4_connections(plain_relay: Controller, relay: Relay) -> None:
    up = upstream(plain_relay.port, pool_size=4, max_messages_per_connection=1000)
    results = send_all(up, [mail(i, f"u{i}@example.org") for i in range(200)])

    assert all(delivered(r) for r in results)
    assert len(relay.messages) == 200
    assert relay.peak_connections == 4
    assert len(relay.all_peers) == 4
    assert {m.peer for m in relay.messages} == relay.all_peers


def test_a_connection_is_replaced_after_its_message_allowance(
    plain_relay: Controller, relay: Relay
) -> None:
    up = upstream(plain_relay.port, pool_size=1, max_messages_per_connection=3)

    async def work(channel: SmtpChannel) -> list[SubmitResult]:
        return [await channel.submit(mail(i, f"u{i}@example.org")) for i in range(7)]

    results = run(with_channel(up, work))

    assert all(delivered(r) for r in results)
    peers = [m.peer for m in relay.messages]
    assert [len(set(peers[i : i + 3])) for i in (0, 3, 6)] == [1, 1, 1]
    assert len(set(peers)) == 3
    assert relay.peak_connections == 1


def test_a_connection_the_relay_dropped_while_idle_is_replaced(
    plain_relay: Controller, relay: Relay
) -> None:
    up = upstream(plain_relay.port, pool_size=1)

    async def work(channel: SmtpChannel) -> list[SubmitResult]:
        first = await channel.submit(mail(1, "a@example.org"))
        for server in relay.servers:
            plain_relay.loop.call_soon_threadsafe(server.transport.close)
        await asyncio.sleep(0.05)
        return [first, await channel.submit(mail(2, "b@example.org"))]

    results = run(with_channel(up, work))

    assert all(delivered(r) for r in results)
    assert len(relay.all_peers) == 2


def test_a_pooled_connection_that_dies_at_mail_from_is_replaced_without_failing_the_message(
    plain_relay: Controller, relay: Relay
) -> None:
    up = upstream(plain_relay.port, pool_size=1)

    async def work(channel: SmtpChannel) -> list[SubmitResult]:
        first = await channel.submit(mail(1, "a@example.org"))
        relay.hang_up_at = "mail-once"
        return [first, await channel.submit(mail(2, "b@example.org"))]

    results = run(with_channel(up, work))

    assert all(delivered(r) for r in results)
    assert sorted(relay.by_recipient()) == ["a@example.org", "b@example.org"]
    assert len(relay.all_peers) == 2


def test_a_fresh_connection_that_dies_at_mail_from_is_retried_as_not_sent(
    plain_relay: Controller, relay: Relay
) -> None:
    relay.hang_up_at = "mail-once"
    [result] = send_all(upstream(plain_relay.port), [mail(1, "a@example.org")])

    assert not result.accepted and result.retry
    assert "at MAIL, the message was not sent" in result.detail


def test_stop_with_drain_answers_every_submit_in_flight_then_quits(
    plain_relay: Controller, relay: Relay
) -> None:
    channel = SmtpChannel(upstream(plain_relay.port, pool_size=2))

    async def scenario() -> tuple[list[SubmitResult], SubmitResult]:
        await channel.start(no_receipts)
        tasks = [
            asyncio.create_task(channel.submit(mail(i, f"u{i}@example.org"))) for i in range(20)
        ]
        await asyncio.sleep(0)  # let them start
        await channel.stop(drain=True)
        assert all(t.done() for t in tasks)
        late = await channel.submit(mail(99, "late@example.org"))
        return [t.result() for t in tasks], late

    results, late = run(scenario())

    assert all(delivered(r) for r in results)
    assert len(relay.messages) == 20
    assert late.retry and not late.accepted
    assert relay.quit_peers == relay.all_peers  # every connection was closed with QUIT


def test_stop_without_drain_cuts_submits_in_flight_and_says_they_may_have_arrived(
    plain_relay: Controller, relay: Relay
) -> None:
    relay.data_delay = 10.0
    channel = SmtpChannel(upstream(plain_relay.port, pool_size=1))

    async def scenario() -> list[SubmitResult]:
        await channel.start(no_receipts)
        tasks = [asyncio.create_task(channel.submit(mail(i, f"u{i}@example.org"))) for i in (1, 2)]
        # Stop only once the first message is inside DATA, waiting for the relay's answer.
        assert await asyncio.to_thread(relay.in_data.wait, 10)
        await channel.stop(drain=False)
        return list(await asyncio.gather(*tasks))

    cut, waiting = run(scenario())

    assert not cut.accepted and cut.retry
    assert "may have accepted" in cut.detail
    assert not waiting.accepted and waiting.retry and "stopped" in waiting.detail

"""E-mail mailing lists through the engine to a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.integration.engine_support import (
    account,
    create_list,
    drive,
    engine_store,
    settings,
    statuses,
    view,
)
from tidings.app import build_dispatcher, build_services
from tidings.domain.clock import SystemClock
from tidings.domain.send_request import new_send
from tidings.store.repository import Store


class Relay:
    """Accepts everything but: 550 for `refused`, 451 the first `busy_times` for `busy`."""

    def __init__(self, refused: str, busy: str, busy_times: int) -> None:
        self.refused, self.busy, self.busy_times = refused, busy, busy_times
        self.received: list[tuple[str, bytes]] = []

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address == self.refused:
            return "550 5.1.1 No such user"
        if address == self.busy and self.busy_times > 0:
            self.busy_times -= 1
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for rcpt in envelope.rcpt_tos:
            self.received.append((rcpt, bytes(envelope.content or b"")))
        return "250 Message accepted"


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with engine_store(backend, tmp_path_factory.mktemp("smtp")) as s:
        yield s


def test_a_mail_list_reaches_every_recipient_550_fails_and_451_is_retried(store: Store) -> None:
    relay = Relay(refused="nobody@example.com", busy="later@example.com", busy_times=1)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        clock = SystemClock()
        acc = account(store, clock.now())
        addresses = [f"user{n}@example.org" for n in range(20)]
        addresses += ["nobody@example.com", "later@example.com"]
        job_id = create_list(
            store,
            acc,
            ",".join(addresses),
            clock.now(),
            mail=True,
            message="Здравствуйте! Новая коллекция.",
            sender="shop@example.net",
        )
        cfg = settings(
            smtp=[{"name": "relay", "host": "127.0.0.1", "port": port}], dispatch={"retry_min_s": 1}
        )
        worker = build_dispatcher(cfg, store, clock, worker_id="mail")
        asyncio.run(drive(worker, lambda: view(store, acc, job_id).status == 1, timeout=60))
    finally:
        controller.stop()
    assert statuses(store, acc) == {1: 21, 22: 1}
    got = view(store, acc, job_id)
    assert (got.sms_sent, got.sms_ok) == (21, 21)
    assert got.cost_minor == 21 * 10  # e-mail price 0.10; the refused address is refunded
    assert sorted(r for r, _ in relay.received) == sorted(
        a for a in addresses if a != "nobody@example.com"
    )
    with store.db.tx(write=False) as tx:
        err = tx.one(
            "SELECT err, attempts FROM messages WHERE address = ?", ("nobody@example.com",)
        )
        retried = tx.one("SELECT attempts FROM messages WHERE address = ?", ("later@example.com",))
    assert err is not None and err[0] == 550
    assert retried is not None and retried[0] == 2
    message = message_from_bytes(relay.received[0][1], policy=policy.default)
    assert message["Subject"] == "Subject"
    assert message["From"] == "shop@example.net"
    assert "Здравствуйте" in message.get_content()


def test_a_send_php_e_mail_carries_its_subject(store: Store) -> None:
    """send.php's `subj` is the message's own (it has no list to take one from)."""
    relay = Relay(refused="", busy="", busy_times=0)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        clock = SystemClock()
        acc = account(store, clock.now())
        cfg = settings(smtp=[{"name": "relay", "host": "127.0.0.1", "port": port}])
        services = build_services(cfg, store, clock)
        values = {
            "phones": "ann@example.org",
            "mail": "1",
            "subj": "Ваш заказ 42",
            "mes": "Заказ отправлен.",
            "sender": "shop@example.net",
        }
        send = new_send(values, acc, clock.now(), None)
        services.sends.send(acc, send, clock.now())
        worker = build_dispatcher(cfg, store, clock, worker_id="mail")
        asyncio.run(drive(worker, lambda: bool(relay.received), timeout=60))
    finally:
        controller.stop()
    message = message_from_bytes(relay.received[0][1], policy=policy.default)
    assert message["Subject"] == "Ваш заказ 42"
    assert message["From"] == "shop@example.net"
    assert "Заказ отправлен." in message.get_content()

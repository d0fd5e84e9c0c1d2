"""Inbound messages on the SMPP server's receivers: an SMS to a number the account owns goes to
its receiver or transceiver binds as deliver_sm (esm_class 0), as receipts do — queued while
none is bound, offered again until acknowledged — once the account has bound a receiver; with
smpplib from PyPI as the client, on both stores. The messages are recorded by the
dispatcher's own InboundRecorder on the server's store, as an upstream's deliver_sm would be."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.door_support import (
    RECEIVER_SETTINGS,
    Doors,
    Esme,
    receiver_doors,
)
from tests.integration.test_smpp_server import PHONE, Login, account, bound
from tidings.channels.base import InboundPart
from tidings.config import InboundSettings
from tidings.dispatch.db_calls import DbCalls
from tidings.dispatch.inbound import InboundRecorder
from tidings.domain.clock import SystemClock
from tidings.domain.inbound import InboundService
from tidings.store.inbound_reads import InboundQueries


@pytest.fixture(scope="module")
def doors(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Doors]:
    with receiver_doors(backend, tmp_path_factory, "smpp-mo") as running:
        yield running


def with_number(doors: Doors) -> tuple[Login, str]:
    """An account with an SMPP password and a number of its own."""
    who = account(doors)
    number = "7900" + str(secrets.randbelow(10**7)).zfill(7)
    acc = doors.server.store.account_by_login(who.login)
    assert acc is not None
    InboundService(InboundQueries(doors.server.store.db)).assign(number, acc, SystemClock().now())
    return who, number


def arrives(doors: Doors, to: str, text: str, source: str = PHONE) -> None:
    """An SMS from `source` to `to`, as the dispatcher records one from its upstream."""
    db = doors.server.store.db
    recorder = InboundRecorder(db, SystemClock(), DbCalls(db), InboundSettings())
    fingerprint = hashlib.sha1(f"{source}{to}{text}{time.time()}".encode()).hexdigest()
    recorder.record([InboundPart("sim", source, to, text, fingerprint)])


def messages(esme: Esme) -> list[Any]:
    return [p for p in esme.of("deliver_sm") if not int(p.esm_class) & 0x04]


def text_of(deliver: Any) -> str:
    payload = getattr(deliver, "message_payload", None)
    octets = deliver.short_message or payload or b""
    if isinstance(octets, str):
        octets = octets.encode("latin-1")
    return bytes(octets).decode("utf-16-be" if int(deliver.data_coding) == 8 else "ascii")


def test_a_receiver_gets_the_accounts_inbound_messages(doors: Doors, esmes: list[Esme]) -> None:
    who, number = with_number(doors)
    receiver = bound(doors, esmes, "receiver", who.login, who.smpp)
    time.sleep(0.3)  # the bind is recorded
    arrives(doors, number, "Hello there")
    arrives(doors, number, "Привет")
    receiver.wait_for(lambda _got: len(messages(receiver)) >= 2)
    first, second = messages(receiver)
    assert [text_of(first), text_of(second)] == ["Hello there", "Привет"]
    assert (int(first.data_coding), int(second.data_coding)) == (0, 8)
    assert first.source_addr.decode() == PHONE and first.destination_addr.decode() == number
    # Acknowledged (smpplib answers deliver_sm): never offered again.
    time.sleep(RECEIVER_SETTINGS["receipt_retry_s"] * 2.5)
    assert len(messages(receiver)) == 2


def test_inbound_messages_wait_while_no_receiver_is_bound(doors: Doors, esmes: list[Esme]) -> None:
    who, number = with_number(doors)
    arrives(doors, number, "before any receiver")  # the account reads it over HTTP only
    first = bound(doors, esmes, "transceiver", who.login, who.smpp)
    time.sleep(0.3)
    first.close()
    arrives(doors, number, "while none is bound")
    later = bound(doors, esmes, "receiver", who.login, who.smpp)
    later.wait_for(lambda _got: len(messages(later)) >= 1)
    time.sleep(0.5)
    assert [text_of(p) for p in messages(later)] == ["while none is bound"]
    assert messages(first) == []


def test_a_long_message_comes_whole_in_message_payload(doors: Doors, esmes: list[Esme]) -> None:
    who, number = with_number(doors)
    receiver = bound(doors, esmes, "receiver", who.login, who.smpp)
    time.sleep(0.3)
    text = "Длинное сообщение, " * 8  # 152 characters: three UCS-2 SMS
    arrives(doors, number, text)
    receiver.wait_for(lambda _got: len(messages(receiver)) >= 1)
    [deliver] = messages(receiver)
    assert not deliver.short_message
    assert text_of(deliver) == text


def test_a_receiver_that_never_acknowledges_is_offered_it_again_and_another_takes_it(
    doors: Doors, esmes: list[Esme]
) -> None:
    who, number = with_number(doors)
    other, other_number = with_number(doors)
    deaf = bound(doors, esmes, "receiver", who.login, who.smpp, answer_deliver=False)
    listener = bound(doors, esmes, "receiver", other.login, other.smpp)
    time.sleep(0.3)
    arrives(doors, number, "are you there")
    arrives(doors, other_number, "for the other account")
    deaf.wait_for(lambda _got: len(messages(deaf)) >= 1)
    listener.wait_for(lambda _got: len(messages(listener)) >= 1)
    assert [text_of(p) for p in messages(listener)] == ["for the other account"]
    deaf.wait_for(lambda _got: len(messages(deaf)) >= 2, timeout=10)
    assert {text_of(p) for p in messages(deaf)} == {"are you there"}
    good = bound(doors, esmes, "receiver", who.login, who.smpp)
    good.wait_for(lambda _got: len(messages(good)) >= 1, timeout=10)
    assert text_of(messages(good)[0]) == "are you there"
    time.sleep(RECEIVER_SETTINGS["receipt_retry_s"] * 2.5)
    assert len(messages(good)) == 1

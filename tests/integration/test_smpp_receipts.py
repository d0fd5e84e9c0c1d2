"""Receipts of the SMPP server: the final status of a message submitted over SMPP goes back as
deliver_sm (receipt text, receipted_message_id and message_state) to a receiver or
transceiver bind of the account — bound on another connection, bound later, or never
answering — with smpplib from PyPI as the client, on both stores."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import smpplib.consts as c

from tests.conftest import fresh_database_url
from tests.integration.door_support import (
    RECEIVER_SETTINGS,
    Doors,
    Esme,
    doors_running,
    receiver_doors,
)
from tests.integration.test_smpp_server import PHONE, Login, account, answers, bound, submit


@pytest.fixture(scope="module")
def doors(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Doors]:
    with receiver_doors(backend, tmp_path_factory, "smpp-dlr") as running:
        yield running


def receipts(esme: Esme) -> list[Any]:
    return [p for p in esme.of("deliver_sm") if int(p.esm_class) & 0x04]


def receipted_id(deliver: Any) -> str:
    value = deliver.receipted_message_id
    return (value.decode() if isinstance(value, bytes) else str(value)).rstrip("\x00")


def submitted(esme: Esme, count: int, registered: int = 1) -> list[str]:
    """The ids of `count` more submits (the bind's earlier answers are left out)."""
    before = len(esme.of("submit_sm_resp"))
    for n in range(count):
        submit(esme, b"receipt please %d" % n, registered_delivery=registered)
    got = answers(esme, before + count)
    assert [status for status, _id in got[-count:]] == [0] * count
    return [message_id for _status, message_id in got[-count:]]


def wait_delivered(doors: Doors, who: Login, ids: list[str]) -> None:
    for message_id in ids:
        assert doors.wait_status(who.login, who.http, message_id, PHONE, wanted=1)["status"] == 1


def test_a_receiver_on_another_connection_gets_the_transmitters_receipts(
    doors: Doors, esmes: list[Esme]
) -> None:
    who = account(doors)
    receiver = bound(doors, esmes, "receiver", who.login, who.smpp)
    transmitter = bound(doors, esmes, "transmitter", who.login, who.smpp)
    ids = submitted(transmitter, 3)
    unasked = submitted(transmitter, 1, registered=0)
    receiver.wait_for(lambda _got: len(receipts(receiver)) >= 3)
    got = receipts(receiver)
    assert sorted(receipted_id(p) for p in got) == sorted(ids)
    for deliver in got:
        text = deliver.short_message.decode()
        assert f"id:{receipted_id(deliver)} " in text and "stat:DELIVRD err:000" in text
        assert int(deliver.message_state) == 2
        assert deliver.source_addr.decode() == PHONE
        assert deliver.destination_addr.decode() == "Tidings"
    wait_delivered(doors, who, unasked)
    time.sleep(0.5)
    assert len(receipts(receiver)) == 3  # none for the submit that asked for none
    assert receipts(transmitter) == []  # a transmitter is given none


def test_receipts_wait_while_no_receiver_is_bound_and_come_on_bind(
    doors: Doors, esmes: list[Esme]
) -> None:
    who = account(doors)
    transmitter = bound(doors, esmes, "transmitter", who.login, who.smpp)
    ids = submitted(transmitter, 2)
    wait_delivered(doors, who, ids)
    time.sleep(0.5)
    later = bound(doors, esmes, "transceiver", who.login, who.smpp)
    later.wait_for(lambda _got: len(receipts(later)) >= 2)
    assert sorted(receipted_id(p) for p in receipts(later)) == sorted(ids)


def test_a_client_that_never_acknowledges_is_retried_and_blocks_nobody(
    doors: Doors, esmes: list[Esme]
) -> None:
    silent, other = account(doors), account(doors)
    deaf = bound(doors, esmes, "receiver", silent.login, silent.smpp, answer_deliver=False)
    listener = bound(doors, esmes, "transceiver", other.login, other.smpp)
    [silent_id] = submitted(bound(doors, esmes, "transmitter", silent.login, silent.smpp), 1)
    deaf.wait_for(lambda _got: len(receipts(deaf)) >= 1)
    # Meanwhile another account's receipts flow.
    other_ids = submitted(listener, 3)
    listener.wait_for(lambda _got: len(receipts(listener)) >= 3)
    assert sorted(receipted_id(p) for p in receipts(listener)) == sorted(other_ids)
    # Never acknowledged: offered again after receipt_retry_s.
    deaf.wait_for(lambda _got: len(receipts(deaf)) >= 2, timeout=10)
    assert {receipted_id(p) for p in receipts(deaf)} == {silent_id}
    # A receiver that answers takes it, and then it is gone for good.
    good = bound(doors, esmes, "receiver", silent.login, silent.smpp)
    good.wait_for(lambda _got: len(receipts(good)) >= 1, timeout=10)
    assert receipted_id(receipts(good)[0]) == silent_id
    time.sleep(RECEIVER_SETTINGS["receipt_retry_s"] * 2.5)
    assert len(receipts(good)) == 1


def test_a_refused_submit_gets_no_receipt_and_a_transceiver_its_own(
    doors: Doors, esmes: list[Esme]
) -> None:
    who = account(doors)
    both = bound(doors, esmes, "transceiver", who.login, who.smpp)
    submit(both, b"to nowhere", registered_delivery=1, destination_addr="12")
    submit(both, b"to someone", registered_delivery=1)
    got = sorted(answers(both, 2))
    assert [status for status, _id in got] == [0, c.SMPP_ESME_RINVDSTADR]
    ok = got[0][1]
    both.wait_for(lambda _got: len(receipts(both)) >= 1)
    time.sleep(0.5)
    assert [receipted_id(p) for p in receipts(both)] == [ok]


def test_failures_come_back_as_undeliv_and_failures_only_skips_deliveries(
    backend: str, tmp_path_factory: pytest.TempPathFactory, esmes: list[Esme]
) -> None:
    """Every message fails here (the virtual upstream's 20, undeliverable): registered_delivery
    2 (failures only) gets those receipts; a delivery is no receipt for it (the other test)."""
    url = fresh_database_url(backend, tmp_path_factory.mktemp("smpp-dlr-fail"))
    virtual = {"delay_ms": 20, "serves_live_accounts": True, "failures": {"20": 1.0}}
    with doors_running(url, smpp_server=RECEIVER_SETTINGS, virtual=virtual) as failing:
        who = account(failing)
        both = bound(failing, esmes, "transceiver", who.login, who.smpp)
        [failed] = submitted(both, 1, registered=2)
        both.wait_for(lambda _got: len(receipts(both)) >= 1)
        [deliver] = receipts(both)
        assert receipted_id(deliver) == failed and int(deliver.message_state) == 5
        assert "stat:UNDELIV err:" in deliver.short_message.decode()
        assert "dlvrd:000" in deliver.short_message.decode()


def test_failures_only_gives_no_receipt_for_a_delivery(doors: Doors, esmes: list[Esme]) -> None:
    who = account(doors)
    both = bound(doors, esmes, "transceiver", who.login, who.smpp)
    ids = submitted(both, 1, registered=2)
    wait_delivered(doors, who, ids)
    [asked] = submitted(both, 1, registered=1)
    both.wait_for(lambda _got: len(receipts(both)) >= 1)
    time.sleep(0.5)
    assert [receipted_id(p) for p in receipts(both)] == [asked]


def submit_multi_body(source: str, destinations: list[tuple[int, str]], text: bytes) -> bytes:
    """submit_multi written out field by field (SMPP 3.4 §4.5.1): (dest_flag, address)."""
    body = b"\x00" + bytes((5, 0)) + source.encode() + b"\x00" + bytes((len(destinations),))
    for flag, address in destinations:
        body += bytes((flag, 1, 1)) if flag == 1 else bytes((flag,))
        body += address.encode() + b"\x00"
    # esm_class, protocol_id, priority; no schedule, no validity; registered_delivery 1,
    # replace 0, data_coding 0, default id 0, sm_length, the message.
    return body + bytes((0, 0, 0)) + b"\x00\x00" + bytes((1, 0, 0, 0, len(text))) + text


def test_submit_multi_sends_to_each_number_and_reports_the_others(
    doors: Doors, esmes: list[Esme]
) -> None:
    from tests.integration.test_smpp_server import next_of, raw_bind
    from tidings.channels.smpp import pdu

    who = account(doors)
    receiver = bound(doors, esmes, "receiver", who.login, who.smpp)
    other = "79161234568"
    destinations = [(1, PHONE), (1, other), (1, "12"), (2, "friends")]
    with raw_bind(doors, who.login, who.smpp, pdu.BIND_TRANSMITTER) as sock:
        body = submit_multi_body("Shop", destinations, b"to many")
        sock.sendall(pdu.encode_pdu(pdu.SUBMIT_MULTI, 5, body))
        answer = next_of(sock, pdu.SUBMIT_MULTI_RESP)
    assert (answer.status, answer.sequence) == (0, 5)
    message_id, _, rest = answer.body.partition(b"\x00")
    assert rest[0] == 2  # two destinations got no message
    refused = rest[1:]
    assert refused == (
        bytes((1, 1)) + b"12\x00" + (0x0B).to_bytes(4, "big")
        + bytes((0, 0)) + b"friends\x00" + (0x34).to_bytes(4, "big")
    )  # fmt: skip
    sent = message_id.decode()
    for phone in (PHONE, other):
        got = doors.wait_status(who.login, who.http, sent, phone, wanted=1)
        assert got["message"] == "to many"
    receiver.wait_for(lambda _got: len(receipts(receiver)) >= 2)
    assert [receipted_id(p) for p in receipts(receiver)] == [sent, sent]
    assert sorted(p.source_addr.decode() for p in receipts(receiver)) == [PHONE, other]

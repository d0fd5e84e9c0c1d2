"""The SMPP server against a real client (smpplib from PyPI) and raw sockets on loopback, on
both stores: binds refused as the spec says, the link kept and dropped, submits going through
send.php's service and visible in status.php, long messages joined, the window and the
throughput cap."""

from __future__ import annotations

import secrets
import socket
import struct
import time
from collections.abc import Iterator
from typing import NamedTuple

import pytest
import smpplib.consts as c
import smpplib.gsm

from tests.conftest import fresh_database_url
from tests.integration.door_support import (
    Doors,
    Esme,
    bind_refusal,
    doors_running,
    free_port,
)
from tests.tls_support import self_signed
from tidings.channels.smpp import pdu
from tidings.domain.accounts import hash_password, hash_secret

PHONE = "79161234567"
SMPP_SETTINGS = {
    "window": 4,
    "throughput_per_account": 5,
    "long_message_timeout_s": 2,
    "idle_s": 4,
    "enquire_link_s": 1,
}


@pytest.fixture(scope="module")
def doors(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Doors]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp(f"smpp-{backend}"))
    # Failed binds of the refusal tests would block 127.0.0.1 for the others at 5.
    guards = {"auth_failures_max": 1000}
    with doors_running(url, smpp_server=SMPP_SETTINGS, guards=guards) as running:
        yield running


class Login(NamedTuple):
    login: str
    smpp: str  # its SMPP password
    http: str  # its password, for status.php


def account(doors: Doors, *, balance: str = "100") -> Login:
    """A live account (its messages charged, through the virtual upstream here) with an
    SMPP password."""
    acc, psw = doors.server.account(balance=balance, test_mode=False)
    smpp_password = secrets.token_hex(4)
    doors.server.store.set_smpp_password_hash(acc.id, hash_secret(smpp_password))
    return Login(acc.login, smpp_password, psw)


def bound(doors: Doors, esmes: list[Esme], mode: str, login: str, psw: str, **kw: bool) -> Esme:
    esme = Esme(doors.smpp_port, **kw)
    esmes.append(esme)
    esme.bind(mode, login, psw)
    return esme


def submit(esme: Esme, text: bytes, **fields: object) -> None:
    values: dict[str, object] = {
        "source_addr_ton": c.SMPP_TON_ALNUM,
        "source_addr": "Tidings",
        "dest_addr_ton": c.SMPP_TON_INTL,
        "dest_addr_npi": c.SMPP_NPI_ISDN,
        "destination_addr": PHONE,
        "short_message": text,
        **fields,
    }
    esme.client.send_message(**values)


def answers(esme: Esme, count: int) -> list[tuple[int, str]]:
    got = esme.wait_for(lambda r: len([p for p in r if p.command == "submit_sm_resp"]) >= count)
    return [
        (int(p.status or 0), (p.message_id or b"").decode())
        for p in got
        if p.command == "submit_sm_resp"
    ]


# --- binds ----------------------------------------------------------------------------------


def test_a_wrong_password_and_an_unknown_login_get_the_same_refusal(doors: Doors) -> None:
    login, psw, _http = account(doors)
    assert bind_refusal(doors.smpp_port, "transmitter", login, "wrong!") == c.SMPP_ESME_RINVPASWD
    assert bind_refusal(doors.smpp_port, "receiver", "nobody", psw) == c.SMPP_ESME_RINVPASWD
    assert bind_refusal(doors.smpp_port, "transceiver", login, psw) == c.SMPP_ESME_ROK


def test_the_accounts_own_password_binds_when_it_fits_eight_characters(doors: Doors) -> None:
    store, login = doors.server.store, f"u{secrets.token_hex(5)}"
    store.create_account(login, hash_password("eight8ch"), doors.server.clock.now())
    assert bind_refusal(doors.smpp_port, "transmitter", login, "eight8ch") == 0


def test_a_replaced_smpp_password_stops_binding_at_once(doors: Doors) -> None:
    """The old one was verified (and remembered) a moment ago; replaced, it binds no more."""
    login, old, _http = account(doors)
    assert bind_refusal(doors.smpp_port, "transmitter", login, old) == 0
    acc = doors.server.store.account_by_login(login)
    assert acc is not None
    new = doors.services.profile.set_smpp_password(acc, None)
    assert new is not None and new != old
    assert bind_refusal(doors.smpp_port, "transmitter", login, old) == c.SMPP_ESME_RINVPASWD
    assert bind_refusal(doors.smpp_port, "transmitter", login, new) == 0


def test_an_ip_off_the_allowlist_is_refused(doors: Doors) -> None:
    login, psw, _http = account(doors)
    acc = doors.server.store.account_by_login(login)
    assert acc is not None
    doors.server.store.allow_ip(acc.id, "10.0.0.0/8")
    assert bind_refusal(doors.smpp_port, "transceiver", login, psw) == c.SMPP_ESME_RBINDFAIL


def test_a_disabled_account_cannot_bind_and_its_refusals_block_no_ip(doors: Doors) -> None:
    login, psw, _http = account(doors)
    acc = doors.server.store.account_by_login(login)
    assert acc is not None
    doors.server.store.set_disabled(acc.id, True)
    for _ in range(6):  # more than the failures that block an IP
        assert bind_refusal(doors.smpp_port, "transceiver", login, psw) == c.SMPP_ESME_RBINDFAIL
    other, other_psw, _http = account(doors)
    assert bind_refusal(doors.smpp_port, "transceiver", other, other_psw) == c.SMPP_ESME_ROK


def test_an_ip_blocked_after_failed_binds_is_refused_even_with_the_password(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("smpp-block"))
    with doors_running(url, guards={"auth_failures_max": 2}) as running:
        login, psw, _http = account(running)
        for _ in range(2):
            assert bind_refusal(running.smpp_port, "transmitter", login, "wrong") == 0x0E
        assert bind_refusal(running.smpp_port, "transmitter", login, psw) == c.SMPP_ESME_RBINDFAIL


# --- the link, with raw PDUs ----------------------------------------------------------------


def raw_bind(
    doors: Doors, login: str, psw: str, command: int = pdu.BIND_TRANSCEIVER
) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", doors.smpp_port), timeout=10)
    sock.sendall(pdu.encode_pdu(command, 1, pdu.Bind(login, psw).encode_body()))
    answer = read_pdu(sock)
    assert (answer.command_id, answer.status) == (command | pdu.RESPONSE_BIT, 0)
    return sock


def read_pdu(sock: socket.socket) -> pdu.Pdu:
    head = recv_exact(sock, 4)
    (length,) = struct.unpack(">I", head)
    return pdu.decode_pdu(head + recv_exact(sock, length - 4))


def recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def next_of(sock: socket.socket, command_id: int) -> pdu.Pdu:
    while True:
        got = read_pdu(sock)
        if got.command_id == command_id:
            return got


def test_before_a_bind_only_a_bind_is_answered(doors: Doors) -> None:
    login, psw, _http = account(doors)
    with socket.create_connection(("127.0.0.1", doors.smpp_port), timeout=10) as sock:
        body = pdu.ShortMessage("Tidings", PHONE, b"hi").encode_body()
        sock.sendall(pdu.encode_pdu(pdu.SUBMIT_SM, 7, body))
        nack = read_pdu(sock)
        assert (nack.command_id, nack.status, nack.sequence) == (
            pdu.GENERIC_NACK,
            pdu.ESME_RINVBNDSTS,
            7,
        )
    with raw_bind(doors, login, psw, pdu.BIND_RECEIVER) as sock:
        sock.sendall(pdu.encode_pdu(pdu.SUBMIT_SM, 2, body))
        refused = next_of(sock, pdu.SUBMIT_SM_RESP)
        assert refused.status == pdu.ESME_RINVBNDSTS
        sock.sendall(pdu.encode_pdu(pdu.BIND_TRANSMITTER, 3, pdu.Bind(login, psw).encode_body()))
        again = next_of(sock, pdu.BIND_TRANSMITTER_RESP)
        assert again.status == pdu.ESME_RALYBND


def test_enquire_link_both_ways_and_unbind(doors: Doors) -> None:
    login, psw, _http = account(doors)
    with raw_bind(doors, login, psw) as sock:
        sock.sendall(pdu.encode_enquire_link(5))
        answer = next_of(sock, pdu.ENQUIRE_LINK_RESP)
        assert answer.sequence == 5
        # Quiet for longer than enquire_link_s: the server asks whether we are there.
        asked = next_of(sock, pdu.ENQUIRE_LINK)
        sock.sendall(pdu.encode_enquire_link_resp(asked.sequence))
        sock.sendall(pdu.encode_unbind(6))
        assert next_of(sock, pdu.UNBIND_RESP).sequence == 6
        assert sock.recv(1) == b""  # and the connection is closed


def test_a_client_that_says_nothing_is_disconnected_after_the_idle_limit(doors: Doors) -> None:
    login, psw, _http = account(doors)
    with raw_bind(doors, login, psw) as sock:
        started = time.monotonic()
        sock.settimeout(SMPP_SETTINGS["idle_s"] + 5)
        with pytest.raises(ConnectionError):
            while True:  # enquire_links come, and are not answered
                read_pdu(sock)
        assert SMPP_SETTINGS["idle_s"] - 0.5 <= time.monotonic() - started


def test_pdus_that_cannot_be_read_get_generic_nack(doors: Doors) -> None:
    login, psw, _http = account(doors)
    with raw_bind(doors, login, psw) as sock:
        sock.sendall(pdu.encode_pdu(0x00000099, 9))  # no such command
        nack = next_of(sock, pdu.GENERIC_NACK)
        assert (nack.status, nack.sequence) == (pdu.ESME_RINVCMDID, 9)
        sock.sendall(pdu.encode_pdu(pdu.SUBMIT_SM, 10, b"\x00\x01"))  # a body cut short
        nack = next_of(sock, pdu.GENERIC_NACK)
        assert (nack.status, nack.sequence) == (pdu.ESME_RINVCMDLEN, 10)
        sock.sendall(struct.pack(">I", 3) + b"\x00" * 12)  # no PDU is 3 octets long
        nack = next_of(sock, pdu.GENERIC_NACK)
        assert nack.status == pdu.ESME_RINVCMDLEN
        assert sock.recv(1) == b""


# --- submits --------------------------------------------------------------------------------


def test_a_submit_is_a_message_status_php_shows(doors: Doors, esmes: list[Esme]) -> None:
    login, psw, http = account(doors)
    esme = bound(doors, esmes, "transmitter", login, psw)
    submit(esme, b"Hello over SMPP", registered_delivery=1)
    [(status, message_id)] = answers(esme, 1)
    assert status == 0 and message_id
    got = doors.wait_status(login, http, message_id, PHONE, wanted=1)
    assert (got["status"], got["message"], got["cost"]) == (1, "Hello over SMPP", "1.80")
    assert got["sender_id"] == "Tidings"


def test_a_three_part_ucs2_message_in_udh_parts_is_one_message(
    doors: Doors, esmes: list[Esme]
) -> None:
    login, psw, http = account(doors)
    esme = bound(doors, esmes, "transceiver", login, psw)
    text = "Привет из SMPP! " * 12  # 192 characters: three UCS-2 parts of 67
    parts, coding, esm_class = smpplib.gsm.make_parts(text)
    assert len(parts) == 3 and coding == c.SMPP_ENCODING_ISO10646
    for part in parts:
        submit(esme, part, data_coding=coding, esm_class=esm_class)
    got = answers(esme, 3)
    ids = {message_id for _status, message_id in got}
    assert [status for status, _id in got] == [0, 0, 0] and len(ids) == 1
    status = doors.wait_status(login, http, ids.pop(), PHONE, wanted=1)
    assert (status["message"], status["cost"]) == (text, "5.40")  # 3 parts of 1.80


def test_a_three_part_ucs2_message_in_sar_parts_is_one_message(
    doors: Doors, esmes: list[Esme]
) -> None:
    login, psw, http = account(doors)
    esme = bound(doors, esmes, "transmitter", login, psw)
    text = "Длинное сообщение в частях SAR. " * 6  # 192 characters
    octets = text.encode("utf-16-be")
    parts = [octets[i : i + 134] for i in range(0, len(octets), 134)]
    assert len(parts) == 3
    for seq, part in enumerate(parts, 1):
        submit(
            esme,
            part,
            data_coding=c.SMPP_ENCODING_ISO10646,
            sar_msg_ref_num=0x1234,
            sar_total_segments=3,
            sar_segment_seqnum=seq,
        )
    got = answers(esme, 3)
    ids = {message_id for _status, message_id in got}
    assert [status for status, _id in got] == [0, 0, 0] and len(ids) == 1
    status = doors.wait_status(login, http, ids.pop(), PHONE, wanted=1)
    assert (status["message"], status["cost"]) == (text, "5.40")  # 3 parts of 1.80


def test_a_full_window_is_refused_with_msgqful(doors: Doors, esmes: list[Esme]) -> None:
    """Parts of long messages wait for their other parts: each holds a place in the window
    until the timeout refuses it."""
    login, psw, _http = account(doors)
    esme = bound(doors, esmes, "transmitter", login, psw)
    window = SMPP_SETTINGS["window"]
    for ref in range(1, window + 2):
        submit(esme, b"part one", sar_msg_ref_num=ref, sar_total_segments=2, sar_segment_seqnum=1)
    got = answers(esme, 1)
    assert got == [(c.SMPP_ESME_RMSGQFUL, "")]  # the one beyond the window, at once
    got = answers(esme, window + 1)
    assert sorted(status for status, _id in got[1:]) == [c.SMPP_ESME_RSUBMITFAIL] * window
    # Room again: a whole message goes through.
    submit(esme, b"whole")
    assert answers(esme, window + 2)[-1][0] == 0


def test_a_submit_beyond_the_accounts_throughput_is_throttled(
    doors: Doors, esmes: list[Esme]
) -> None:
    """Two binds of one account share its cap; each stays within its window."""
    login, psw, _http = account(doors)
    first = bound(doors, esmes, "transmitter", login, psw)
    second = bound(doors, esmes, "transceiver", login, psw)
    started = time.monotonic()
    for burst in range(1, 13):
        for esme in (first, second):
            for n in range(2):
                submit(esme, b"burst %d.%d" % (burst, n))
        answers(first, 2 * burst)
        answers(second, 2 * burst)
    elapsed = time.monotonic() - started
    statuses = [status for status, _id in answers(first, 24) + answers(second, 24)]
    assert set(statuses) == {0, c.SMPP_ESME_RTHROTTLED}
    rate = SMPP_SETTINGS["throughput_per_account"]
    assert statuses.count(0) <= rate + rate * elapsed + 1
    assert statuses.count(c.SMPP_ESME_RTHROTTLED) >= 48 - (rate + rate * elapsed + 1)


def test_send_php_rules_refuse_a_submit(doors: Doors, esmes: list[Esme]) -> None:
    login, psw, _http = account(doors, balance="0")
    esme = bound(doors, esmes, "transmitter", login, psw)
    submit(esme, b"no money for this")
    submit(esme, b"no number", destination_addr="12")
    got = dict((n, s) for n, (s, _id) in enumerate(answers(esme, 2)))
    assert sorted(got.values()) == sorted([c.SMPP_ESME_RSUBMITFAIL, c.SMPP_ESME_RINVDSTADR])


def test_a_bound_account_disabled_meanwhile_gets_its_submits_refused(
    doors: Doors, esmes: list[Esme], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tidings.domain.auth

    monkeypatch.setattr(tidings.domain.auth, "PROFILE_TTL_S", 0.0)  # each submit reads afresh
    login, psw, _http = account(doors)
    esme = bound(doors, esmes, "transmitter", login, psw)
    acc = doors.server.store.account_by_login(login)
    assert acc is not None
    doors.server.store.set_disabled(acc.id, True)
    submit(esme, b"after the operator disabled it")
    [(status, message_id)] = answers(esme, 1)
    assert (status, message_id) == (c.SMPP_ESME_RSUBMITFAIL, "")


def stored(doors: Doors, message_id: str) -> tuple[int, int, int, int, str]:
    """(format, due_at - created_at, valid_until - due_at, parts, text) of a stored message."""
    with doors.server.store.db.tx(write=False) as tx:
        row = tx.one(
            "SELECT format, due_at - created_at, valid_until - due_at, parts, text "
            "FROM messages WHERE id = ?",
            (int(message_id),),
        )
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2]), int(row[3]), str(row[4])


def test_schedule_and_validity_become_time_and_valid(doors: Doors, esmes: list[Esme]) -> None:
    login, psw, http = account(doors)
    esme = bound(doors, esmes, "transmitter", login, psw)
    # In 10 minutes, valid for 2 hours (relative forms); then an absolute validity, UTC+3.
    submit(
        esme,
        b"later",
        schedule_delivery_time="000000001000000R",
        validity_period="000000020000000R",
    )
    [(status, later)] = answers(esme, 1)
    assert status == 0
    assert doors.status(login, http, later, PHONE)["status"] == -1  # waits for its time
    fmt, delay, valid, _parts, _text = stored(doors, later)
    assert (fmt, valid) == (0, 2 * 3600) and 599 <= delay <= 601
    submit(esme, b"bad schedule", schedule_delivery_time="tomorrow")
    submit(esme, b"bad validity", validity_period="2030-01-01")
    refused = sorted(status for status, _id in answers(esme, 3)[1:])
    assert refused == sorted([c.SMPP_ESME_RINVSCHED, c.SMPP_ESME_RINVEXPIRY])


def test_eight_bit_data_is_a_binary_message_and_gsm_text_keeps_its_extension(
    doors: Doors, esmes: list[Esme]
) -> None:
    login, psw, _http = account(doors)
    esme = bound(doors, esmes, "transmitter", login, psw)
    submit(esme, bytes(range(0x80, 0x90)), data_coding=0x04)
    [(status, binary)] = answers(esme, 1)
    assert status == 0
    fmt, _delay, _valid, parts, text = stored(doors, binary)
    assert (fmt, parts, text.encode("latin-1")) == (4, 1, bytes(range(0x80, 0x90)))
    # GSM-7 unpacked, with the escape for € and [ (one octet a septet).
    submit(esme, b"Price \x1be5 \x1b<x>", data_coding=0x00)
    [_first, (status, gsm)] = answers(esme, 2)
    assert status == 0 and stored(doors, gsm)[4] == "Price €5 [x>"


def test_smpp_over_tls_on_its_own_port(
    backend: str, tmp_path_factory: pytest.TempPathFactory, esmes: list[Esme]
) -> None:
    import ssl

    folder = tmp_path_factory.mktemp("smpp-tls")
    cert_file, key_file = self_signed(folder)
    tls_port = free_port()
    tls = {"tls_port": tls_port, "tls_cert_file": str(cert_file), "tls_key_file": str(key_file)}
    url = fresh_database_url(backend, folder)
    with doors_running(url, smpp_server=tls) as running:
        login, psw, http = account(running)
        trusted = ssl.create_default_context(cafile=str(cert_file))
        # smpplib wraps its socket without a server name: the chain is verified, not the name.
        trusted.check_hostname = False
        esme = Esme(tls_port, ssl_context=trusted)
        esmes.append(esme)
        esme.bind("transceiver", login, psw)
        submit(esme, b"over TLS")
        [(status, message_id)] = answers(esme, 1)
        assert status == 0
        assert (
            running.wait_status(login, http, message_id, PHONE, wanted=1)["message"] == "over TLS"
        )
        # The plain port still answers plain SMPP.
        assert bind_refusal(running.smpp_port, "transmitter", login, psw) == 0

"""Incoming SMS forwarded to the account's handler (SMS Center's `fl[11]`): an MO from the
node-smpp SMSC to an assigned number and a reply to a list's message are POSTed to a real
HTTP endpoint on loopback, signed like status callbacks and retried the same way; an account
that does not forward gets none, and nothing of one account reaches another's handler."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest

from tests.integration.engine_support import (
    account,
    create_list,
    drive,
    engine_store,
    settings,
    view,
)
from tests.integration.smsc_sim import StartSim, start_sim_fixture  # noqa: F401
from tests.integration.test_callbacks import LOOPBACK_ALLOWED, Receiver
from tests.integration.test_inbound_smpp import NUMBER, PHONE, inbound_rows
from tidings.app import build_dispatcher
from tidings.domain.clock import SystemClock
from tidings.domain.inbound import InboundService
from tidings.domain.profile import ProfileService
from tidings.store.inbound_reads import InboundQueries
from tidings.store.profile import ProfileStore
from tidings.store.repository import Store

SECRET = "s3cret"
OTHER_NUMBER = "79005556677"


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with engine_store(backend, tmp_path_factory.mktemp("forward")) as s:
        yield s


def test_inbound_messages_reach_the_handler_signed_and_retried(
    store: Store, start_sim: StartSim
) -> None:
    sim = start_sim(commands=True)
    clock = SystemClock()
    receiver, quiet = Receiver(failures=1), Receiver(failures=0)
    acc, other = account(store, clock.now()), account(store, clock.now())
    inbound = InboundService(InboundQueries(store.db))
    inbound.assign(NUMBER, acc, clock.now())
    inbound.assign(OTHER_NUMBER, other, clock.now())
    profiles = ProfileService(ProfileStore(store))
    store.set_callback(acc.id, receiver.url, SECRET)
    profiles.set_forward_inbound(acc, True)
    # The other account has a callback URL but does not forward inbound messages.
    store.set_callback(other.id, quiet.url, "other")
    job_id = create_list(store, acc, PHONE, clock.now(), sender="Shop")
    upstream = {
        "name": "sim",
        "host": "127.0.0.1",
        "port": sim.port,
        "system_id": "tidings",
        "password": "secret",
    }
    cfg = settings(
        smpp=[upstream], dispatch={"callback_backoff_s": [1], "callbacks": LOOPBACK_ALLOWED}
    )
    worker = build_dispatcher(cfg, store, clock, worker_id="w1")
    sent = {"done": False}

    async def during() -> None:
        if not sent["done"] and view(store, acc, job_id).status == 1:
            sent["done"] = True
            sim.mo("Привет".encode("utf-16-be"), destination=NUMBER, data_coding=8)
            sim.mo("СТОП".encode("utf-16-be"), source=PHONE, destination="Shop", data_coding=8)
            sim.mo(b"hello other", source="79169999999", destination=OTHER_NUMBER)

    def forwarded() -> bool:
        with receiver.lock:
            inbound_posts = [f for f, _h, _b in receiver.received if f.get("type") == "inbound"]
        return len(inbound_posts) >= 2 and len(inbound_rows(store)) == 3

    asyncio.run(drive(worker, forwarded, timeout=60, during=during))
    for r in (receiver, quiet):
        r.server.shutdown()
        r.server.server_close()
    # Empty fields kept (the receiver's own parse drops them).
    posts = [
        (dict(parse_qsl(b.decode(), keep_blank_values=True)), h, b)
        for f, h, b in receiver.received
        if f.get("type") == "inbound"
    ]
    by_text = {f["mes"]: (f, h, b) for f, h, b in posts}
    assert set(by_text) == {"Привет", "СТОП"}
    with store.db.tx(write=False) as tx:
        message = tx.one("SELECT id FROM messages WHERE account_id = ?", (acc.id,))
        ids = dict(tx.all("SELECT text, id FROM inbound_messages"))
    assert message is not None
    hello, stop = by_text["Привет"][0], by_text["СТОП"][0]
    assert (hello["phone"], hello["to"], hello["reply_to"], hello["job_id"], hello["stop"]) == (
        PHONE, NUMBER, "", "", "0",
    )  # fmt: skip
    assert (stop["phone"], stop["to"], stop["reply_to"], stop["job_id"], stop["stop"]) == (
        PHONE, "Shop", str(message[0]), str(job_id), "1",
    )  # fmt: skip
    for fields, header, body in by_text.values():
        assert fields["id"] == fields["sms_id"] == str(ids[fields["mes"]])
        assert fields["sent"] == fields["ts"] and len(fields["time"]) == 19
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert header == f"sha256={expected}"
        text = f"{fields['id']}:{fields['phone']}:{fields['to']}:{fields['ts']}"
        assert fields["sign"] == hmac.new(SECRET.encode(), text.encode(), "sha256").hexdigest()
        smsc = f"{fields['id']}:{fields['phone']}:{fields['to']}:{SECRET}"
        assert fields["sha1"] == hashlib.sha1(smsc.encode()).hexdigest()
        assert set(fields) == {
            *("type", "id", "sms_id", "phone", "mes", "to", "sent", "time", "ts"),
            *("reply_to", "job_id", "stop", "sha1", "sign"),
        }
    # The first attempt got a 500: retried after the status callbacks' backoff.
    with store.db.tx(write=False) as tx:
        attempts = tx.all("SELECT attempts FROM callbacks WHERE inbound_id IS NOT NULL")
    assert len(attempts) == 2 and all(a[0] >= 1 for a in attempts)
    # The account that does not forward got no inbound message, only status callbacks.
    assert all(f.get("type") != "inbound" for f, _h, _b in quiet.received)
    assert all(f.get("mes") != "hello other" for f, _h, _b in receiver.received)

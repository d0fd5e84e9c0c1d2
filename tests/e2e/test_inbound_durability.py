"""An inbound message survives a kill -9 of the `tidings dispatcher` process that stored it:
the node-smpp SMSC kills the dispatcher the moment its deliver_sm_resp arrives and forgets
that answer, as if the process had died between its commit and the answer leaving; the SMSC
delivers the MO again on the next bind, and the restarted dispatcher keeps it once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import drop_database, fresh_database_url
from tests.e2e.test_dispatcher_liveness import default_config, start
from tests.e2e.test_dispatcher_processes import stop, wait
from tests.integration.engine_support import account
from tests.integration.smsc_sim import StartSim, start_sim_fixture  # noqa: F401
from tidings.app import default_tariff
from tidings.config import Settings
from tidings.domain.inbound import InboundService, Route
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.inbound_reads import InboundQueries
from tidings.store.repository import Store

NUMBER = "79001112233"
PHONE = "79161234567"


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[tuple[str, Store]]:
    url = fresh_database_url(backend, tmp_path)
    migrate.upgrade(url)
    store = Store(open_database(url), default_tariff(Settings()))
    yield url, store
    store.close()
    drop_database(url)


def rows(store: Store) -> list[tuple[object, ...]]:
    with store.db.tx(write=False) as tx:
        return [tuple(r) for r in tx.all(
            "SELECT account_id, phone, to_phone, text, route FROM inbound_messages ORDER BY id"
        )]  # fmt: skip


@pytest.mark.parametrize("long", [False, True], ids=["whole", "in-parts"])
def test_an_mo_stored_then_killed_before_its_answer_is_kept_once(
    database: tuple[str, Store], start_sim: StartSim, tmp_path: Path, long: bool
) -> None:
    url, store = database
    sim = start_sim(commands=True)
    acc = account(store, datetime.now(UTC))
    InboundService(InboundQueries(store.db)).assign(NUMBER, acc, datetime.now(UTC))
    config, log = default_config(tmp_path, sim), tmp_path / "d.log"
    text = "Ответ после сбоя, " * 8 if long else "Привет"
    first = start(url, config, log)
    try:
        sim.wait_for(lambda e: e["event"] == "bind", timeout=60)
        if long:
            # Three UCS-2 parts; the kill comes with the answer to the last one, the part
            # whose commit joins the message.
            chunks = [text[i : i + 67].encode("utf-16-be") for i in range(0, len(text), 67)]
            assert len(chunks) == 3
            sim.kill_after_deliver_resps(first.pid, 3, forget=True)
            for seq, chunk in enumerate(chunks, 1):
                sim.mo(bytes((5, 0, 3, 9, 3, seq)) + chunk, source=PHONE, destination=NUMBER,
                       data_coding=8, esm_class=0x40)  # fmt: skip
        else:
            sim.kill_after_deliver_resps(first.pid, 1, forget=True)
            sim.mo(text.encode("utf-16-be"), source=PHONE, destination=NUMBER, data_coding=8)
        sim.wait_for(lambda e: e["event"] == "killed", timeout=60)
        assert first.wait(10) == -9
    finally:
        if first.poll() is None:
            stop(first)
    # Stored before the answer went out: it is there although the SMSC never got the answer.
    assert rows(store) == [(acc.id, PHONE, NUMBER, text, Route.NUMBER)]
    # The simulator prints the dropped answer right after the kill: wait for its line.
    sim.wait_for(lambda e: e["event"] == "mo_resp" and e["forgotten"], timeout=10)
    assert len([e for e in sim.of("mo_resp") if e["forgotten"]]) == 1
    answered_before = len(sim.of("mo_resp"))
    second = start(url, config, log)
    try:
        # The SMSC delivers it again on the new bind; this time the answer arrives.
        wait(
            lambda: any(
                not e["forgotten"] and e["status"] == 0 for e in sim.of("mo_resp")[answered_before:]
            ),
            60,
            "the MO to be delivered again and answered",
        )
    finally:
        stop(second)
    assert rows(store) == [(acc.id, PHONE, NUMBER, text, Route.NUMBER)]

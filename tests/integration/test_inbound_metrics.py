"""/metrics counts incoming SMS by upstream and outcome, through the node-smpp SMSC and the
dispatcher, as the server exposes them (SQLite and PostgreSQL): one each to an assigned
number, a reply, a stop keyword and nobody's, and one delivered twice (kept once)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.conftest import CLOCK_START, Server, fresh_database_url, served
from tests.integration.engine_support import create_list, drive, view
from tests.integration.smsc_sim import StartSim, start_sim_fixture  # noqa: F401
from tests.integration.test_inbound_stop import smpp
from tests.integration.test_operations import scrape, value
from tidings.app import build_dispatcher
from tidings.domain.clock import FakeClock
from tidings.domain.inbound import InboundService
from tidings.store.inbound_reads import InboundQueries

NUMBER = "79001112233"
FAN, QUITTER = "79161234567", "79161234568"
NAME = "tidings_inbound_messages_total"


@pytest.fixture
def srv(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("mo-metrics"))
    with served(url, FakeClock(CLOCK_START)) as server:
        yield server


def test_inbound_messages_by_upstream_and_outcome(srv: Server, start_sim: StartSim) -> None:
    sim = start_sim(commands=True)
    acc, _ = srv.account(test_mode=False)
    InboundService(InboundQueries(srv.store.db)).assign(NUMBER, acc, srv.clock.now())
    job_id = create_list(srv.store, acc, f"{FAN},{QUITTER}", srv.clock.now(), sender="Shop")
    before = scrape(srv.client)
    worker = build_dispatcher(smpp(sim), srv.store, srv.clock, worker_id="w1")
    sent = {"done": False}

    async def during() -> None:
        if not sent["done"] and view(srv.store, acc, job_id).status == 1:
            sent["done"] = True
            sim.mo(b"hi", source=FAN, destination=NUMBER)
            sim.mo(b"hi", source=FAN, destination=NUMBER)  # the same again: a duplicate
            sim.mo(b"thanks", source=FAN, destination="Shop")
            sim.mo(b"Stop", source=QUITTER, destination="Shop")
            sim.mo(b"who?", source="79169999999", destination="79990000000")

    asyncio.run(drive(worker, lambda: len(sim.of("mo_resp")) == 5, timeout=60, during=during))
    after = scrape(srv.client)
    counts = {
        outcome: value(after, NAME, upstream="sim", outcome=outcome)
        - value(before, NAME, upstream="sim", outcome=outcome)
        for outcome in ("number", "reply", "stop", "unassigned", "duplicate")
    }
    assert counts == {"number": 1, "reply": 1, "stop": 1, "unassigned": 1, "duplicate": 1}

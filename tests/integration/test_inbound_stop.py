"""STOP end to end, on SQLite and PostgreSQL, through the node-smpp SMSC: a repeated mailing
list goes out, one recipient answers "стоп " to its sender, that number lands on the
account's stop list for mailing lists, the list's next run skips it (and only it), and the
reply shows in get.php get_answers of the list's account — and of no other account."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from tests.conftest import CLOCK_START, Server, fresh_database_url, served
from tests.integration.engine_support import create_list, drive, settings, view
from tests.integration.smsc_sim import SmscSim, StartSim, start_sim_fixture  # noqa: F401
from tidings.app import build_dispatcher
from tidings.config import Settings
from tidings.domain.clock import FakeClock
from tidings.domain.inbound import InboundService
from tidings.store.inbound_reads import InboundQueries

QUITTER = "79161234567"
STAYER = "79161234568"


@pytest.fixture
def srv(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = fresh_database_url(backend, tmp_path_factory.mktemp("stop"))
    with served(url, FakeClock(CLOCK_START)) as server:
        yield server


def smpp(sim: SmscSim) -> Settings:
    upstream = {
        "name": "sim",
        "host": "127.0.0.1",
        "port": sim.port,
        "system_id": "tidings",
        "password": "secret",
    }
    return settings(smpp=[upstream])


def test_stop_from_a_list_recipient_is_skipped_by_the_next_run_and_shown_in_get_answers(
    srv: Server, start_sim: StartSim, ip: str
) -> None:
    sim = start_sim(commands=True)
    clock = srv.clock
    acc, psw = srv.account(test_mode=False)
    other, other_psw = srv.account(test_mode=False)
    job_id = create_list(
        srv.store, acc, f"{QUITTER},{STAYER}", clock.now(), sender="Shop", rpt=1, rptn=2
    )
    cfg = smpp(sim)

    def first_run_done() -> bool:
        got = view(srv.store, acc, job_id)
        return got.sms_ok == 2 and got.status == -1

    asyncio.run(drive(build_dispatcher(cfg, srv.store, clock, worker_id="w1"), first_run_done))
    assert sorted(s["destination_addr"] for s in sim.submits) == [QUITTER, STAYER]

    def stopped() -> bool:
        with srv.store.db.tx(write=False) as tx:
            return tx.one("SELECT type FROM blacklist WHERE account_id = ?", (acc.id,)) == (1,)

    async def answer() -> None:
        if not sim.of("mo_sent"):
            sim.mo("стоп ".encode("utf-16-be"), source=QUITTER, destination="Shop", data_coding=8)

    worker = build_dispatcher(cfg, srv.store, clock, worker_id="w1")
    asyncio.run(drive(worker, stopped, timeout=30, during=answer))
    phones = srv.call("phones", ip, login=acc.login, psw=psw, get_black=1, fmt=3)
    assert [(e["phone"], e["type"]) for e in json.loads(phones)] == [(QUITTER, 1)]

    clock.advance(3600)  # the hourly repeat is due
    worker = build_dispatcher(cfg, srv.store, clock, worker_id="w1")
    asyncio.run(drive(worker, lambda: view(srv.store, acc, job_id).status == 1, timeout=30))
    second = [s["destination_addr"] for s in sim.submits[2:]]
    assert second == [STAYER]
    final = view(srv.store, acc, job_id)
    assert (final.sms_sent, final.phones_cnt) == (3, 1)

    answers = srv.call("get", ip, login=acc.login, psw=psw, get_answers=1, hour=2, fmt=3)
    [reply] = json.loads(answers)
    assert (reply["phone"], reply["to_phone"], reply["message"]) == (QUITTER, "Shop", "стоп ")
    assert reply["sent"] == "15.01.2026 15:00:00"  # the first run's message it answers
    theirs = srv.call("get", ip, login=other.login, psw=other_psw, get_answers=1, hour=24, fmt=3)
    assert theirs == "[]"


def test_a_stop_confirmation_is_sent_once_and_charged_when_the_account_sets_one(
    srv: Server, start_sim: StartSim, ip: str
) -> None:
    sim = start_sim(commands=True)
    clock = srv.clock
    acc, psw = srv.account(test_mode=False, balance="10")
    reply = "Вы отписаны от рассылок"
    InboundService(InboundQueries(srv.store.db)).set_stop_reply(acc, reply)
    job_id = create_list(srv.store, acc, QUITTER, clock.now(), sender="Shop")
    cfg = smpp(sim)

    async def answers() -> None:
        if view(srv.store, acc, job_id).status == 1 and not sim.of("mo_sent"):
            # STOP twice: the second finds the number opted out already, and gets nothing.
            sim.mo(b"STOP", source=QUITTER, destination="Shop")
            sim.mo("Стоп".encode("utf-16-be"), source=QUITTER, destination="Shop", data_coding=8)

    def confirmed() -> bool:
        return len(sim.of("mo_resp")) == 2 and len(sim.submits) >= 2 and _all_final(srv, acc.id)

    worker = build_dispatcher(cfg, srv.store, clock, worker_id="w1")
    asyncio.run(drive(worker, confirmed, timeout=60, during=answers))
    assert len(sim.submits) == 2
    confirmation = sim.submits[1]
    assert (confirmation["destination_addr"], confirmation["source_addr"]) == (QUITTER, "Shop")
    with srv.store.db.tx(write=False) as tx:
        rows = tx.all(
            "SELECT text, job_pk, cost_minor FROM messages WHERE account_id = ? ORDER BY id",
            (acc.id,),
        )
    # The list's message (its text is the list's), then the confirmation: a single message,
    # charged at the tariff like any other.
    assert [(r[1] is None, r[2]) for r in rows] == [(False, 180), (True, 180)]
    assert rows[1][0] == reply
    balance = srv.call("balance", ip, login=acc.login, psw=psw, fmt=3)
    assert json.loads(balance)["balance"] == "6.40"


def _all_final(srv: Server, account_id: int) -> bool:
    with srv.store.db.tx(write=False) as tx:
        row = tx.one(
            "SELECT COUNT(*) FROM messages WHERE account_id = ? AND status IN (-1, 0)",
            (account_id,),
        )
    return row is not None and row[0] == 0

"""A live account with no upstream to take its messages (no [[smpp]] configured — a forgotten
--config is enough): the message waits, uncharged, with a reason; the operator is told; once
an upstream is configured the message goes out through it and is charged then."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import Server, drop_database, fresh_database_url, start_live
from tests.integration.engine_support import drive
from tests.integration.smsc_sim import StartSim, start_sim_fixture  # noqa: F401
from tidings.app import build_dispatcher
from tidings.cli.main import app
from tidings.config import Settings
from tidings.domain.clock import SystemClock
from tidings.domain.lifecycle import NO_UPSTREAM_ERR


@pytest.fixture
def bare(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`tidings serve` with the default settings: no upstream, the virtual one for test mode."""
    url = fresh_database_url(backend, tmp_path_factory.mktemp("bare"))
    uv, thread, srv = start_live(url, virtual={"delay_ms": 20})
    yield srv
    srv.client.close()
    uv.should_exit = True
    thread.join(30)
    srv.store.close()
    drop_database(url)


def _status(srv: Server, login: str, psw: str, msg_id: str, phone: str) -> dict[str, object]:
    got = srv.client.get(
        "/sys/status.php",
        params={"login": login, "psw": psw, "id": msg_id, "phone": phone, "fmt": 3},
    ).json()
    assert isinstance(got, dict)
    return got


def _balance(srv: Server, login: str, psw: str) -> str:
    got = srv.client.get("/sys/balance.php", params={"login": login, "psw": psw, "fmt": 3}).json()
    return str(got["balance"])


def test_a_live_accounts_sms_waits_uncharged_with_a_reason_then_goes_out_when_configured(
    bare: Server, start_sim: StartSim
) -> None:
    live, live_psw = bare.account(balance="100", test_mode=False)
    trial, trial_psw = bare.account(balance="100", test_mode=True)
    sent = {}
    for acc, psw in ((live, live_psw), (trial, trial_psw)):
        answer = bare.client.get(
            "/sys/send.php",
            params={"login": acc.login, "psw": psw, "phones": "79161234567", "mes": "hi", "fmt": 3},
        ).json()
        assert "error" not in answer, answer
        sent[acc.login] = str(answer["id"])

    deadline = time.monotonic() + 20
    while _status(bare, trial.login, trial_psw, sent[trial.login], "79161234567")["status"] != 1:
        assert time.monotonic() < deadline, "the test-mode message was not delivered"
        time.sleep(0.1)
    time.sleep(0.5)  # the dispatcher has had many ticks to (wrongly) take the live one
    waiting = _status(bare, live.login, live_psw, sent[live.login], "79161234567")
    assert (waiting["status"], waiting["err"]) == (-1, NO_UPSTREAM_ERR)
    assert _balance(bare, live.login, live_psw) == "100.00"
    assert bare.store.balance(live.id) == 10_000 == bare.store.ledger_sum(live.id)

    gaps = build_gaps(bare.settings, bare)
    assert any("no [[smpp]] upstream" in line and "(1 waiting)" in line for line in gaps)

    # The operator configures an SMSC; the next dispatcher start gives the message to it.
    sim = start_sim()
    with_smpp = bare.settings.model_copy(
        update={
            "smpp": Settings.model_validate(
                {
                    "smpp": [
                        {
                            "name": "sim",
                            "host": "127.0.0.1",
                            "port": sim.port,
                            "system_id": "tidings",
                            "password": "secret",
                        }
                    ]
                }
            ).smpp
        }
    )
    worker = build_dispatcher(with_smpp, bare.store, SystemClock(), worker_id="configured")

    def delivered() -> bool:
        got = _status(bare, live.login, live_psw, sent[live.login], "79161234567")
        return got["status"] == 1

    asyncio.run(drive(worker, delivered, timeout=30))
    assert [s["destination_addr"] for s in sim.submits] == ["79161234567"]
    assert bare.store.balance(live.id) == 10_000 - 180 == bare.store.ledger_sum(live.id)


def build_gaps(settings: Settings, srv: Server) -> list[str]:
    """What the admin page and `serve` say about this store under these settings."""
    from tidings.app import build_services

    return build_services(settings, srv.store).upstreams.gaps()


def test_doctor_fails_while_a_live_account_has_no_upstream(backend: str, tmp_path: Path) -> None:
    url = fresh_database_url(backend, tmp_path)
    runner = CliRunner()
    try:
        made = runner.invoke(
            app, ["accounts", "create", "shop", "--password", "password-1", "--db", url]
        )
        assert made.exit_code == 0, made.output
        result = runner.invoke(app, ["doctor", "--db", url], env={"COLUMNS": "300"})
        assert result.exit_code == 1
        assert "routing" in result.output and "no [[smpp]] upstream" in result.output
        staging = runner.invoke(
            app,
            ["doctor", "--db", url],
            env={"COLUMNS": "300", "TIDINGS_VIRTUAL__SERVES_LIVE_ACCOUNTS": "true"},
        )
        assert staging.exit_code == 0, staging.output
    finally:
        drop_database(url)

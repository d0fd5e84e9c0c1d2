"""Operator tools against a real server: /metrics after real lists (virtual and SMPP
upstreams), /readyz, and the live upstream state written by the dispatcher."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import (
    CLOCK_START,
    drop_database,
    fresh_database_url,
    served,
    start_live,
    start_server,
)
from tests.integration.smsc_sim import StartSim, start_sim_fixture  # noqa: F401
from tidings.domain.clock import FakeClock
from tidings.store.repository import Store

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: httpx.Client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def phones(n: int, start: int) -> str:
    return ",".join(f"7916{start + i:07d}" for i in range(n))


def _finished(store: Store, account_id: int, job_id: int) -> bool:
    job = store.get_job(account_id, job_id)
    return job is not None and job.status == 1


def test_metrics_after_lists_on_the_virtual_and_an_smpp_upstream(
    backend: str, tmp_path_factory: pytest.TempPathFactory, start_sim: StartSim
) -> None:
    sim = start_sim()
    upstream = {
        "name": "sim",
        "host": "127.0.0.1",
        "port": sim.port,
        "system_id": "tidings",
        "password": "secret",
        "window": 5,
        "binds": 2,
    }
    url = fresh_database_url(backend, tmp_path_factory.mktemp("ops-metrics"))
    uv, thread, srv = start_live(url, smpp=[upstream])
    try:
        before = scrape(srv.client)
        test_acc, test_pw = srv.account(test_mode=True)
        real_acc, real_pw = srv.account(test_mode=False, balance="1000")
        lists = []
        for acc, pw, start in ((test_acc, test_pw, 0), (real_acc, real_pw, 100)):
            body = srv.jobs(
                login=acc.login, psw=pw, add=1, name="M", phones=phones(20, start), mes="Hi", fmt=3
            )
            assert '"id"' in body, body
            lists.append((acc, int(body.split(":")[1].strip(" }\n"))))
        assert "ERROR" in srv.jobs(login=test_acc.login, psw="wrong", get_all=1)
        for acc, job_id in lists:
            until(lambda a=acc, j=job_id: _finished(srv.store, a.id, j))  # type: ignore[misc]
        until(lambda: any(s.submitted == 20 for s in srv.store.upstream_states()), 10)
        after = scrape(srv.client)
    finally:
        srv.client.close()
        uv.should_exit = True
        thread.join(30)
        srv.store.close()
        drop_database(url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("tidings_api_requests_total", script="jobs", code="0") == 2
    assert delta("tidings_api_requests_total", script="jobs", code="2") == 1
    assert delta("tidings_api_request_seconds_count", script="jobs") == 3
    assert delta("tidings_api_request_seconds_bucket", script="jobs", le="+Inf") == 3
    # Messages by status, read from this server's own store: both lists, all delivered.
    assert value(after, "tidings_messages", status="1") == 40
    assert value(after, "tidings_queue_depth", upstream="sim") == 0
    assert delta("tidings_submits_total", upstream="sim", result="accepted") == 20
    assert delta("tidings_submits_total", upstream="virtual", result="accepted") == 20
    assert ("tidings_upstream_window", frozenset({("upstream", "sim")})) in after
    assert ("tidings_upstream_in_flight", frozenset({("upstream", "sim")})) in after
    assert value(after, "tidings_upstream_bound", upstream="sim", worker="live") == 1
    assert value(after, "tidings_upstream_bound", upstream="virtual", worker="live") == 1
    # Only the real account is charged: 20 messages at 1.80.
    assert value(after, "tidings_ledger_amount_minor", kind="charge") == -20 * 180
    assert value(after, "tidings_ledger_entries", kind="charge") == 20
    assert value(after, "tidings_balances_minor") == 100_00 + 1000_00 - 20 * 180


def test_the_dispatcher_reports_its_upstreams_live(
    backend: str, tmp_path_factory: pytest.TempPathFactory, start_sim: StartSim
) -> None:
    sim = start_sim()
    upstream = {
        "name": "sim",
        "host": "127.0.0.1",
        "port": sim.port,
        "system_id": "tidings",
        "password": "secret",
        "window": 7,
        "binds": 2,
    }
    url = fresh_database_url(backend, tmp_path_factory.mktemp("ops-state"))
    uv, thread, srv = start_live(url, smpp=[upstream])
    try:
        until(lambda: len(srv.store.upstream_states()) == 2, 10)
        states = {s.upstream: s for s in srv.store.upstream_states()}
        sim_state = states["sim"]
        assert (sim_state.kind, sim_state.worker_id, sim_state.bound) == ("smpp", "live", True)
        assert (sim_state.binds_live, sim_state.binds_total, sim_state.window) == (2, 2, 14)
        assert states["virtual"].kind == "virtual" and states["virtual"].bound
        first = sim_state.updated_at
        sim.stop()  # the SMSC goes away: the binds drop and the error is reported
        until(
            lambda: any(
                s.upstream == "sim" and not s.bound and s.last_error and s.updated_at > first
                for s in srv.store.upstream_states()
            ),
            15,
        )
        uv.should_exit = True
        thread.join(30)
        # A dispatcher that stopped says so: nothing in flight, no window.
        final = {s.upstream: s for s in srv.store.upstream_states()}
        assert (final["virtual"].window, final["virtual"].in_flight) == (0, 0)
        assert not final["virtual"].bound
    finally:
        srv.client.close()
        uv.should_exit = True
        thread.join(30)
        srv.store.close()
        drop_database(url)


def test_readyz_answers_ready_and_503_once_the_database_is_gone(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("ready")
    url = fresh_database_url(backend, tmp)
    uv, thread, srv = start_server(url, FakeClock(CLOCK_START))
    try:
        ready = srv.client.get("/readyz")
        assert (ready.status_code, ready.text) == (200, "ready")
        if backend == "sqlite":
            path = Path(url[len("sqlite:///") :])
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            drop_database(url)
        gone = srv.client.get("/readyz")
        assert gone.status_code == 503
        assert gone.text.startswith("not ready: ")
        assert srv.client.get("/healthz").status_code == 200  # alive, just not ready
    finally:
        srv.client.close()
        uv.should_exit = True
        thread.join(10)
        srv.store.close()
        drop_database(url)
    assert not os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def test_metrics_behind_a_token_when_one_is_set(backend: str, tmp_path: Path) -> None:
    url = fresh_database_url(backend, tmp_path)
    with served(url, FakeClock(CLOCK_START), metrics_token="s3cret-token") as srv:
        bare = srv.client.get("/metrics")
        assert bare.status_code == 401 and bare.headers["www-authenticate"] == "Bearer"
        assert "tidings_" not in bare.text, "a refused scrape must not show the series"
        wrong = srv.client.get("/metrics", headers={"Authorization": "Bearer guessed"})
        assert wrong.status_code == 401
        scraped = srv.client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert scraped.status_code == 200 and "tidings_balances_minor" in scraped.text
        # Health stays open to the load balancer.
        assert srv.client.get("/healthz").status_code == 200
        assert srv.client.get("/readyz").status_code == 200

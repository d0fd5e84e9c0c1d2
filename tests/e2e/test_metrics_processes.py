"""`tidings api` and `tidings dispatcher` as separate processes sharing
PROMETHEUS_MULTIPROC_DIR: /metrics of the API process shows the dispatcher's series too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_serve import _free_port
from tidings.app import default_tariff
from tidings.config import Settings
from tidings.domain.accounts import hash_password
from tidings.domain.clock import SystemClock
from tidings.domain.money import to_minor
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.repository import Store

TIDINGS = Path(sys.executable).with_name("tidings")


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_api_metrics_include_a_separate_dispatcher_process(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'tidings.db'}"
    migrate.upgrade(db)
    store = Store(open_database(db), default_tariff(Settings()))
    now = SystemClock().now()
    acc = store.create_account("mp", hash_password("pw"), now, test_mode=True)
    store.add_ledger_entry(acc.id, to_minor("100"), "credit", "test", now)
    store.close()
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "TIDINGS_VIRTUAL__DELAY_MS": "20",
        "TIDINGS_DISPATCH__TICK_S": "0.05",
    }
    port = _free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    api = subprocess.Popen([str(TIDINGS), "api", "--db", db, "--port", str(port)], **quiet)  # type: ignore[call-overload]
    worker = subprocess.Popen(
        [str(TIDINGS), "dispatcher", "--db", db, "--worker-id", "mp"], **quiet
    )  # type: ignore[call-overload]
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and api.poll() is None, "api did not start"
            time.sleep(0.1)
        added = httpx.get(
            f"{base}/sys/jobs.php",
            params={
                "login": "mp",
                "psw": "pw",
                "add": 1,
                "name": "MP",
                "fmt": 3,
                "phones": "79161110001,79161110002,79161110003",
                "mes": "Hi",
            },
        ).text
        assert '"id"' in added, added
        while True:
            samples = _samples(httpx.get(f"{base}/metrics").text)
            key = (
                "tidings_submits_total",
                frozenset({("upstream", "virtual"), ("result", "accepted")}),
            )
            if (
                samples.get(key) == 3
                and samples.get(("tidings_messages", frozenset({("status", "1")}))) == 3
            ):
                break
            assert time.monotonic() < deadline + 30, samples.get(key)
            time.sleep(0.2)
        assert (
            samples[("tidings_api_requests_total", frozenset({("script", "jobs"), ("code", "0")}))]
            == 1
        )
        assert samples[("tidings_upstream_window", frozenset({("upstream", "virtual")}))] == 200
    finally:
        for proc in (worker, api):
            proc.send_signal(signal.SIGTERM)
        for proc in (worker, api):
            proc.wait(30)

"""The cabinet behind `tidings api --workers 2` with no session secret configured: a session
made by one worker is good in the other (they share the supervisor's random secret)."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tidings.app import open_store
from tidings.config import Settings
from tidings.domain.accounts import hash_password

from .test_api_workers import TIDINGS, _wait_until_answering
from .test_serve import _free_port


@pytest.mark.timeout(180)
def test_a_session_is_good_in_every_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tidings.db'}"
    store = open_store(Settings(database_url=url))
    store.create_account("web", hash_password("pw"), datetime.now(UTC), test_mode=True)
    store.close()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_WEB")}
    api = subprocess.Popen(
        [str(TIDINGS), "api", "--db", url, "--port", str(port), "--workers", "2"],
        env={**env, "TIDINGS_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_answering(api, port)
        # A new connection per request, so the requests spread over both workers.
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"Connection": "close"},
            timeout=30,
        ) as client:
            page = client.get("/signin").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token
            signed = client.post(
                "/signin", data={"login": "web", "password": "pw", "csrf_token": token.group(1)}
            )
            assert signed.status_code == 303, signed.text
            answers = [client.get("/lists").status_code for _ in range(40)]
        assert answers == [200] * 40
    finally:
        api.terminate()
        api.wait(30)

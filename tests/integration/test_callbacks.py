"""Status callbacks POSTed to a real HTTP endpoint on loopback, signed, retried."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from prometheus_client import REGISTRY

from tests.integration.engine_support import (
    account,
    create_list,
    dispatcher,
    drive,
    engine_store,
    settings,
    view,
)
from tidings.domain.clock import SystemClock
from tidings.store.repository import Store

# The receiver listens on loopback, which callbacks may reach only when the operator allows.
LOOPBACK_ALLOWED = {"allow_networks": ["127.0.0.0/8"]}


class Receiver:
    """An HTTP endpoint that fails its first `failures` requests with 500."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], str, bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    failing = receiver.failures > 0
                    receiver.failures -= 1
                    if not failing:
                        receiver.received.append(
                            (
                                dict(parse_qsl(body.decode())),
                                self.headers["X-Tidings-Signature"],
                                body,
                            )
                        )
                self.send_response(500 if failing else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with engine_store(backend, tmp_path_factory.mktemp("callbacks")) as s:
        yield s


def test_every_status_change_is_posted_signed_and_retried(store: Store) -> None:
    receiver = Receiver(failures=2)
    clock = SystemClock()
    acc = account(store, clock.now())
    secret = "s3cret"
    store.set_callback(acc.id, receiver.url, secret)
    job_id = create_list(store, acc, "79161234567,79161234568", clock.now())
    cfg = settings(dispatch={"callback_backoff_s": [1], "callbacks": LOOPBACK_ALLOWED})

    def all_posted() -> bool:
        with receiver.lock:
            return len(receiver.received) >= 4  # handed over and delivered, for each

    def counted(result: str) -> float:
        return REGISTRY.get_sample_value("tidings_callbacks_total", {"result": result}) or 0.0

    before = {r: counted(r) for r in ("delivered", "retry", "given_up")}
    asyncio.run(drive(dispatcher(store, clock, cfg), all_posted))
    receiver.server.shutdown()
    receiver.server.server_close()
    assert view(store, acc, job_id).status == 1
    # /metrics counts each recorded outcome once: the two failures retried, none given up.
    assert counted("delivered") - before["delivered"] == 4
    assert counted("retry") - before["retry"] == 2
    assert counted("given_up") == before["given_up"]
    changes = sorted((f["phone"], f["status"]) for f, _sig, _body in receiver.received)
    assert changes == [
        ("79161234567", "0"),
        ("79161234567", "1"),
        ("79161234568", "0"),
        ("79161234568", "1"),
    ]
    for fields, header, body in receiver.received:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert header == f"sha256={expected}"
        text = f"{fields['id']}:{fields['phone']}:{fields['status']}:{fields['err']}:{fields['ts']}"
        assert (
            fields["sign"] == hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        )
        # The fields an SMS Center handler reads, its sha1 check keyed by the secret.
        smsc = f"{fields['id']}:{fields['phone']}:{fields['status']}:{secret}"
        assert fields["sha1"] == hashlib.sha1(smsc.encode()).hexdigest()
        assert (fields["cnt"], fields["cost"]) == ("1", "1.80")
        assert set(fields) == {
            *("id", "int_id", "phone", "status", "err", "ts", "time"),
            *("cnt", "cost", "sha1", "sign"),
        }
    with store.db.tx(write=False) as tx:
        retried = tx.one("SELECT MAX(attempts) FROM callbacks")
    assert retried is not None and retried[0] >= 2


def test_accounts_without_a_url_queue_nothing(store: Store) -> None:
    clock = SystemClock()
    acc = account(store, clock.now())
    job_id = create_list(store, acc, "79161234567", clock.now())
    asyncio.run(drive(dispatcher(store, clock), lambda: view(store, acc, job_id).status == 1))
    with store.db.tx(write=False) as tx:
        assert tx.one("SELECT COUNT(*) FROM callbacks") == (0,)

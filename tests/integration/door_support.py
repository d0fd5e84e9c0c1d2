"""A live Tidings with its doors: the API, the dispatcher and the SMPP (and SMTP) servers in one
event loop on a thread, as `tidings serve` runs them with the doors enabled; and an SMPP
client (Python smpplib from PyPI, threads) that records every PDU it is sent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp
import uvicorn

from tests.conftest import TRUST_LOOPBACK, Server, drop_database
from tidings.app import build_application, build_dispatcher, build_doors, serve_with_dispatcher
from tidings.config import Settings
from tidings.domain.clock import FakeClock, SystemClock
from tidings.domain.services import Services


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Doors:
    server: Server
    smpp_port: int
    smtp_port: int
    # The running app's own services (what the cabinet calls).
    services: Services

    def status(self, login: str, psw: str, msg_id: str, phone: str) -> dict[str, Any]:
        body = self.server.call(
            "status", login=login, psw=psw, id=msg_id, phone=phone, fmt=3, all=1, charset="utf-8"
        )
        return dict(json.loads(body))

    def wait_status(
        self, login: str, psw: str, msg_id: str, phone: str, wanted: int, timeout: float = 15
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.status(login, psw, msg_id, phone)
            if got.get("status") == wanted or time.monotonic() > deadline:
                return got
            time.sleep(0.05)


@contextmanager
def doors_running(database_url: str, **overrides: Any) -> Iterator[Doors]:
    smpp_port, smtp_port, http_port = free_port(), free_port(), free_port()
    smpp = {"enabled": True, "port": smpp_port, **overrides.pop("smpp_server", {})}
    smtp = {"enabled": True, "port": smtp_port, **overrides.pop("smtp_server", {})}
    values = {
        "database_url": database_url,
        "port": http_port,
        "dispatch": {"tick_s": 0.02},
        "virtual": {"delay_ms": 20, "serves_live_accounts": True},
        "smpp_server": smpp,
        "smtp_server": smtp,
        **TRUST_LOOPBACK,
        **overrides,
    }
    settings = Settings.model_validate(values)
    application = build_application(settings)
    dispatcher = build_dispatcher(settings, application.store, SystemClock(), worker_id="doors")
    doors = build_doors(settings, application.services)
    holder: dict[str, uvicorn.Server] = {}
    failed: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(
                serve_with_dispatcher(
                    application.http,
                    dispatcher,
                    "127.0.0.1",
                    http_port,
                    on_server=lambda s: holder.setdefault("server", s),
                    settings=settings,
                    doors=doors,
                )
            )
        except BaseException as error:
            failed.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while "server" not in holder or not holder["server"].started:
        if failed or time.monotonic() > deadline:
            raise RuntimeError(f"doors did not start: {failed}")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{http_port}"
    import httpx

    client = httpx.Client(base_url=url, timeout=30)
    clock = FakeClock(datetime.now(UTC))  # only stamps the test accounts
    server = Server(url, settings, application.store, clock, client)
    try:
        yield Doors(server, smpp_port, smtp_port, application.services)
    finally:
        client.close()
        holder["server"].should_exit = True
        thread.join(30)
        application.store.close()
        drop_database(database_url)


# Receipts and inbound messages offered again soon, idle binds kept: the receiver tests' doors.
RECEIVER_SETTINGS = {"receipt_retry_s": 2, "receipt_poll_s": 0.1, "idle_s": 30, "enquire_link_s": 5}


@contextmanager
def receiver_doors(backend: str, factory: pytest.TempPathFactory, tag: str) -> Iterator[Doors]:
    """Doors on a new database of `backend`, with RECEIVER_SETTINGS."""
    from tests.conftest import fresh_database_url

    url = fresh_database_url(backend, factory.mktemp(f"{tag}-{backend}"))
    with doors_running(url, smpp_server=RECEIVER_SETTINGS) as running:
        yield running


class Esme:
    """An smpplib client on its own listening thread; every PDU it gets is kept."""

    def __init__(self, port: int, *, answer_deliver: bool = True, ssl_context: Any = None) -> None:
        self.client = smpplib.client.Client(
            "127.0.0.1", port, timeout=10, allow_unknown_opt_params=True, ssl_context=ssl_context
        )
        self.received: list[Any] = []
        self._changed = threading.Condition()
        self._answer = answer_deliver
        self.client.set_message_sent_handler(self._sent)
        self.client.set_error_pdu_handler(self._record)
        self.client.set_message_received_handler(self._delivered)
        self._thread: threading.Thread | None = None
        self.gone = False

    def _record(self, pdu: Any, **_: Any) -> None:
        with self._changed:
            self.received.append(pdu)
            self._changed.notify_all()

    def _sent(self, pdu: Any, **_: Any) -> None:
        # smpplib gives a refused submit_sm_resp to both handlers: the error one keeps it.
        if not pdu.is_error():
            self._record(pdu)

    def _delivered(self, pdu: Any, **_: Any) -> int | None:
        self._record(pdu)
        return None

    def bind(self, mode: str, login: str, password: str) -> None:
        self.client.connect()
        getattr(self.client, f"bind_{mode}")(system_id=login, password=password)
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        try:
            while True:
                if self._answer:
                    self.client.read_once()
                    continue
                try:
                    self._record(self.client.read_pdu())
                except TimeoutError:
                    continue
        except (smpplib.exceptions.ConnectionError, OSError, ValueError, AttributeError):
            # The socket went away (closed by us, or by the server).
            self.gone = True
            with self._changed:
                self._changed.notify_all()

    def wait_for(self, check: Callable[[list[Any]], bool], timeout: float = 15) -> list[Any]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not check(self.received):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not seen in {timeout} s: {self.commands()}")
                self._changed.wait(left)
            return list(self.received)

    def commands(self) -> list[tuple[str, int]]:
        return [(p.command, int(p.status or 0)) for p in self.received]

    def of(self, command: str) -> list[Any]:
        return [p for p in self.received if p.command == command]

    def close(self) -> None:
        """unbind (the server answers and closes the connection), then the socket closed."""
        with contextlib.suppress(Exception):
            self.client.send_pdu(smpplib.smpp.make_pdu("unbind", client=self.client))
            deadline = time.monotonic() + 5
            while not self.gone and time.monotonic() < deadline:
                time.sleep(0.01)
        self.client.state = smpplib.consts.SMPP_CLIENT_STATE_OPEN
        self.client.disconnect()


def bind_refusal(port: int, mode: str, login: str, password: str) -> int:
    """The command_status a bind gets (0: bound, and unbound again)."""
    client = smpplib.client.Client("127.0.0.1", port, timeout=10, allow_unknown_opt_params=True)
    client.connect()
    try:
        getattr(client, f"bind_{mode}")(system_id=login, password=password)
    except smpplib.exceptions.PDUError as error:
        return int(error.args[1])
    finally:
        client.state = smpplib.consts.SMPP_CLIENT_STATE_OPEN
        client.disconnect()
    return smpplib.consts.SMPP_ESME_ROK

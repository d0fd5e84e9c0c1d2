"""On SQLite a request runs first on the event loop; what would wait there (the writer lock
held by someone else, a password not yet verified) sends it to a thread instead — answered
once, written once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import Server


def test_a_send_while_another_writer_holds_the_lock_waits_and_is_stored_once(
    server: Server, ip: str
) -> None:
    if server.store.db.dialect != "sqlite":
        pytest.skip("the event-loop path is SQLite's")
    acc, psw = server.account()
    holding = threading.Event()
    release = threading.Event()

    def hold_the_writer() -> None:
        with server.store.db.tx() as tx:
            tx.one("SELECT COUNT(*) FROM accounts")
            holding.set()
            release.wait(10)

    with ThreadPoolExecutor(2) as pool:
        writer = pool.submit(hold_the_writer)
        assert holding.wait(5)
        started = time.monotonic()
        answer = pool.submit(
            server.call,
            "send",
            ip,
            login=acc.login,
            psw=psw,
            phones="79161234567",
            mes="Привет",
            id="held-1",
        )
        time.sleep(0.5)
        assert not answer.done(), "answered while the writer lock was held elsewhere"
        # Other requests are still served meanwhile: the loop is not blocked.
        assert server.call("balance", ip, login=acc.login, psw=psw).startswith("100")
        release.set()
        writer.result(5)
        assert answer.result(10) == "OK - 1 SMS, ID - held-1"
        assert time.monotonic() - started >= 0.5
    with server.store.db.tx(write=False) as tx:
        stored = tx.one("SELECT COUNT(*) FROM messages WHERE client_id = 'held-1'")
    assert stored == (1,)


def test_a_first_login_is_verified_off_the_loop_and_counts_once(server: Server, ip: str) -> None:
    acc, psw = server.account()
    # The password is not in the credential cache yet: the hash runs in a thread.
    assert server.call("balance", ip, login=acc.login, psw=psw).startswith("100")
    for _ in range(3):
        assert server.call("balance", ip, login=acc.login, psw="wrong") == (
            "ERROR = 2 (authorise error)"
        )
    # Three failures, each counted once (counted twice they would make six: blocked).
    assert server.call("balance", ip, login=acc.login, psw=psw).startswith("100")

"""One SMPP bind (SmppSession) against the node-smpp simulator on loopback."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from tests.integration.smsc_sim import SmscSim, StartSim, start_sim_fixture  # noqa: F401
from tidings.channels.smpp import (
    SessionConfig,
    SmppBindError,
    SmppDisconnected,
    SmppSession,
    SmppStatusError,
    SmppTimeout,
)
from tidings.channels.smpp import pdu as P
from tidings.channels.smpp.session import DeliverAck

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    """Run with a hard limit, so a hang fails the test instead of stalling the suite."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def config(sim: SmscSim, **overrides: Any) -> SessionConfig:
    base: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": sim.port,
        "system_id": "tidings",
        "password": "secret",
        "response_timeout_s": 5.0,
        "bind_timeout_s": 5.0,
    }
    return SessionConfig(**{**base, **overrides})


def sm(text: str = "hello", destination: str = "79161234567", **kw: Any) -> P.ShortMessage:
    return P.ShortMessage("Shop", destination, text.encode(), source_addr_ton=5, **kw)


def test_bind_submit_and_unbind(start_sim: StartSim) -> None:
    sim = start_sim()

    async def scenario() -> tuple[str, str]:
        session = SmppSession(config(sim))
        await session.open()
        assert session.bound
        first = await session.submit(sm("one"))
        second = await session.submit(sm("two"))
        await session.close()
        assert not session.bound
        return first, second

    assert run(scenario()) == ("1", "2")
    sim.stop()  # all its events are read once it has exited
    assert [e["text"] for e in sim.submits] == ["one", "two"]
    assert sim.of("bind")[0]["interface_version"] == 0x34
    assert len(sim.of("unbind")) == 1


def test_tcp_nodelay_is_set_on_our_socket(start_sim: StartSim) -> None:
    sim = start_sim()
    sockets: list[socket.socket] = []
    original = socket.socket.setsockopt

    def spy(sock: socket.socket, level: int, option: int, value: Any) -> None:
        if (level, option) == (socket.IPPROTO_TCP, socket.TCP_NODELAY):
            sockets.append(sock)
        original(sock, level, option, value)

    async def scenario() -> list[int]:
        session = SmppSession(config(sim))
        await session.open()
        # Read back from the live socket: Nagle off, whoever else also set it.
        flags = [s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in sockets]
        await session.close()
        return flags

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "setsockopt", spy)
        flags = run(scenario())
    assert flags and all(flags)


def test_rejected_bind_raises_at_once(start_sim: StartSim) -> None:
    sim = start_sim()

    async def scenario() -> None:
        session = SmppSession(config(sim, password="wrong", bind_timeout_s=10.0))
        await session.open()

    started = time.monotonic()
    with pytest.raises(SmppBindError) as caught:
        run(scenario())
    assert caught.value.status == P.ESME_RBINDFAIL
    assert time.monotonic() - started < 2.0  # the answer, not the 10 s bind timeout
    sim.stop()  # all its events are read once it has exited
    assert sim.of("bind")[0]["ok"] is False


def test_connection_refused_is_an_os_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    cfg = SessionConfig("127.0.0.1", port, "tidings", "secret")
    with pytest.raises(ConnectionRefusedError):
        run(SmppSession(cfg).open())


def test_refused_submit_raises_the_status(start_sim: StartSim) -> None:
    sim = start_sim(reject_dest=["70000000000"])

    async def scenario() -> None:
        session = SmppSession(config(sim))
        await session.open()
        try:
            await session.submit(sm(destination="70000000000"))
        finally:
            await session.close()

    with pytest.raises(SmppStatusError) as caught:
        run(scenario())
    assert caught.value.status == P.ESME_RINVDSTADR


def test_unanswered_submit_times_out_and_the_late_answer_is_ignored(start_sim: StartSim) -> None:
    sim = start_sim(reply_delay_ms=600)

    async def scenario() -> tuple[float, str]:
        session = SmppSession(config(sim, response_timeout_s=0.2))
        await session.open()
        started = time.monotonic()
        with pytest.raises(SmppTimeout):
            await session.submit(sm("late"))
        waited = time.monotonic() - started
        await asyncio.sleep(0.6)  # the late submit_sm_resp arrives and must not confuse us
        session.config = config(sim, response_timeout_s=5.0)
        next_id = await session.submit(sm("next"))
        await session.close()
        return waited, next_id

    waited, next_id = run(scenario())
    assert 0.2 <= waited < 0.5
    assert next_id == "2"


def test_enquire_link_both_ways(start_sim: StartSim) -> None:
    sim = start_sim(enquire_link_ms=50)

    async def scenario() -> None:
        session = SmppSession(config(sim, enquire_link_s=0.05))
        await session.open()
        await sim.until(lambda: len(sim.of("enquire_link")) >= 3)
        await sim.until(lambda: len(sim.of("enquire_link_resp")) >= 3)
        assert session.bound
        await session.close()

    run(scenario())


def test_receipts_reach_the_handler_and_are_acknowledged(start_sim: StartSim) -> None:
    sim = start_sim()
    received: list[P.ShortMessage] = []

    def on_deliver(message: P.ShortMessage, ack: DeliverAck) -> None:
        received.append(message)
        ack()

    async def scenario() -> None:
        session = SmppSession(config(sim), on_deliver)
        await session.open()
        await session.submit(sm(registered_delivery=1))
        await sim.until(lambda: len(sim.of("deliver_sm_resp")) == 1)
        await session.close()

    run(scenario())
    sim.stop()  # all its events are read once it has exited
    (message,) = received
    assert message.esm_class == 0x04
    assert message.tlv(P.TAG_RECEIPTED_MESSAGE_ID) == P.tlv_cstring(P.TAG_RECEIPTED_MESSAGE_ID, "1")
    assert sim.of("deliver_sm_resp")[0]["status"] == 0


def test_a_receipt_is_acknowledged_only_when_the_handler_says_so(start_sim: StartSim) -> None:
    """The deliver_sm_resp waits for the receipt to be recorded: until then the SMSC keeps
    it, and a crash in between costs a resend, not the receipt."""
    sim = start_sim()
    acks: list[DeliverAck] = []

    async def scenario() -> None:
        session = SmppSession(config(sim), lambda _message, ack: acks.append(ack))
        await session.open()
        await session.submit(sm(registered_delivery=1))
        for _ in range(100):
            if acks:
                break
            await asyncio.sleep(0.01)
        assert len(acks) == 1
        await asyncio.sleep(0.3)
        assert sim.of("deliver_sm_resp") == []  # not answered yet
        acks[0]()
        await sim.until(lambda: len(sim.of("deliver_sm_resp")) == 1)
        await session.close()

    run(scenario())
    assert sim.of("deliver_sm_resp")[0]["status"] == 0


def test_a_receipt_left_unanswered_by_a_dead_bind_comes_again_on_the_next(
    start_sim: StartSim,
) -> None:
    """The simulator holds receipts as an SMSC does: one the ESME never acknowledged (it
    died first) is delivered again on the next bind, so a crash costs a resend, not the
    receipt — the dispatcher tests that kill a process rely on it."""
    sim = start_sim()
    again: list[P.ShortMessage] = []

    def record(message: P.ShortMessage, ack: DeliverAck) -> None:
        again.append(message)
        ack()

    async def scenario() -> None:
        dying = SmppSession(config(sim), lambda _message, _ack: None)  # never answers
        await dying.open()
        await dying.submit(sm(registered_delivery=1))
        await asyncio.sleep(0.3)
        await dying.close()
        next_bind = SmppSession(config(sim), record)
        await next_bind.open()
        await sim.until(lambda: len(sim.of("deliver_sm_resp")) == 1)
        await next_bind.close()

    run(scenario())
    sim.stop()
    (message,) = again
    assert message.tlv(P.TAG_RECEIPTED_MESSAGE_ID) == P.tlv_cstring(P.TAG_RECEIPTED_MESSAGE_ID, "1")
    assert len(sim.of("receipt_resent")) == 1


def test_a_failing_handler_makes_the_smsc_retry_later(start_sim: StartSim) -> None:
    sim = start_sim()

    def on_deliver(message: P.ShortMessage, ack: DeliverAck) -> None:
        raise RuntimeError("store is down")

    async def scenario() -> None:
        session = SmppSession(config(sim), on_deliver)
        await session.open()
        await session.submit(sm(registered_delivery=1))
        await sim.until(lambda: len(sim.of("deliver_sm_resp")) == 1)
        await session.close()

    run(scenario())
    sim.stop()  # all its events are read once it has exited
    assert sim.of("deliver_sm_resp")[0]["status"] == P.ESME_RX_T_APPN


def test_window_bounds_outstanding_submits(start_sim: StartSim) -> None:
    sim = start_sim(reply_delay_ms=100)

    async def timed(window: int) -> float:
        session = SmppSession(config(sim, window=window))
        await session.open()
        started = time.monotonic()
        await asyncio.gather(*(session.submit(sm()) for _ in range(20)))
        elapsed = time.monotonic() - started
        await session.close()
        return elapsed

    assert run(timed(5)) >= 0.4  # 4 rounds of 100 ms
    assert run(timed(20)) < 0.3  # one round


def test_throughput_cap(start_sim: StartSim) -> None:
    sim = start_sim()

    async def scenario() -> float:
        session = SmppSession(config(sim, throughput=50.0))
        await session.open()
        started = time.monotonic()
        await asyncio.gather(*(session.submit(sm()) for _ in range(26)))
        elapsed = time.monotonic() - started
        await session.close()
        return elapsed

    assert 0.45 <= run(scenario()) < 2.0  # 25 intervals of 20 ms


def test_close_with_drain_waits_for_answers(start_sim: StartSim) -> None:
    sim = start_sim(reply_delay_ms=300)

    async def scenario() -> list[str | BaseException]:
        session = SmppSession(config(sim))
        await session.open()
        submits = [asyncio.create_task(session.submit(sm())) for _ in range(10)]
        await sim.until(lambda: len(sim.submits) == 10)
        await session.close(drain=True)
        return await asyncio.gather(*submits, return_exceptions=True)

    results = run(scenario())
    sim.stop()  # all its events are read once it has exited
    assert sorted(results, key=str) == sorted((format(i, "x") for i in range(1, 11)), key=str)
    assert len(sim.of("unbind")) == 1


def test_close_without_drain_leaves_written_submits_ambiguous(start_sim: StartSim) -> None:
    sim = start_sim(reply_delay_ms=500)

    async def scenario() -> list[str | BaseException]:
        session = SmppSession(config(sim, window=4))
        await session.open()
        submits = [asyncio.create_task(session.submit(sm())) for _ in range(6)]
        await sim.until(lambda: len(sim.submits) == 4)
        await session.close(drain=False)
        return await asyncio.gather(*submits, return_exceptions=True)

    results = run(scenario())
    assert all(isinstance(r, SmppDisconnected) for r in results)
    sent = [r.sent for r in results if isinstance(r, SmppDisconnected)]
    assert sorted(sent) == [False, False, True, True, True, True]


def test_connection_drop_fails_outstanding_submits_as_sent(start_sim: StartSim) -> None:
    sim = start_sim(reply_delay_ms=200, drop_after=3)

    async def scenario() -> list[str | BaseException]:
        session = SmppSession(config(sim))
        await session.open()
        results = await asyncio.gather(
            *(session.submit(sm()) for _ in range(3)), return_exceptions=True
        )
        await session.wait_closed()
        assert not session.bound
        with pytest.raises(SmppDisconnected) as caught:
            await session.submit(sm())
        assert caught.value.sent is False
        return results

    results = run(scenario(), timeout=10)
    assert all(isinstance(r, SmppDisconnected) and r.sent for r in results)


def test_unbind_from_the_smsc_is_answered_and_ends_the_session(start_sim: StartSim) -> None:
    sim = start_sim(unbind_after=2)

    async def scenario() -> str:
        session = SmppSession(config(sim))
        await session.open()
        await session.submit(sm())
        await session.submit(sm())
        await session.wait_closed()
        with pytest.raises(SmppDisconnected) as caught:
            await session.submit(sm())
        assert caught.value.sent is False
        await session.close()
        return session.close_reason

    assert run(scenario(), timeout=10) == "unbound by the SMSC"
    sim.stop()  # all its events are read once it has exited
    assert len(sim.of("unbind_resp")) == 1


def test_a_silent_peer_is_dropped_after_an_unanswered_enquire_link(start_sim: StartSim) -> None:
    sim = start_sim(ignore_enquire_link=True)

    async def scenario() -> tuple[str, float]:
        session = SmppSession(config(sim, enquire_link_s=0.1, response_timeout_s=0.2))
        await session.open()
        t0 = time.monotonic()
        await session.wait_closed()
        took = time.monotonic() - t0
        await session.close()
        return session.close_reason, took

    reason, took = run(scenario(), timeout=10)
    assert reason == "enquire_link unanswered"
    assert 0.3 <= took < 1.5


def test_unknown_requests_get_generic_nack(start_sim: StartSim) -> None:
    sim = start_sim(send_unknown=True)

    async def scenario() -> None:
        session = SmppSession(config(sim))
        await session.open()
        await sim.until(lambda: bool(sim.of("generic_nack")))
        assert session.bound  # the session carries on
        assert await session.submit(sm()) == "1"
        await session.close()

    run(scenario())
    sim.stop()  # all its events are read once it has exited
    assert sim.of("generic_nack")[0]["status"] == P.ESME_RINVCMDID

"""SmppChannel against the node-smpp simulator on loopback: receipts, throttling, dropped
connections, long messages as the SMSC receives them, windowing, several binds, stopping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import structlog

from tests.integration.smsc_sim import SmscSim, StartSim, start_sim_fixture  # noqa: F401
from tidings.channels.base import InboundPart, OutboundMessage, Receipt, SubmitOutcome, SubmitResult
from tidings.channels.smpp import SmppChannel, SmppUpstream
from tidings.channels.smpp import pdu as P
from tidings.domain.jobs import MessageFormat
from tidings.domain.lifecycle import MessageStatus

T = TypeVar("T")
CYRILLIC_200 = ("Съешь же ещё этих мягких французских булок, да выпей чаю. " * 4)[:200]


def run(coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    """Run with a hard limit, so a hang fails the test instead of stalling the suite."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def upstream(sim: SmscSim, **overrides: Any) -> SmppUpstream:
    base: dict[str, Any] = {
        "name": "sim",
        "host": "127.0.0.1",
        "port": sim.port,
        "system_id": "tidings",
        "password": "secret",
        "response_timeout_s": 5.0,
        "bind_timeout_s": 5.0,
        "reconnect_min_s": 0.05,
        "reconnect_max_s": 0.5,
    }
    return SmppUpstream(**{**base, **overrides})


def msg(
    message_id: int,
    text: str = "Hello",
    address: str = "79161234567",
    fmt: int = MessageFormat.SMS,
    **kw: Any,
) -> OutboundMessage:
    return OutboundMessage(message_id, address, text, "Shop", int(fmt), **kw)


class Receipts:
    """The on_receipt callback: keeps what arrives."""

    def __init__(self) -> None:
        self.items: list[Receipt | InboundPart] = []

    def __call__(self, receipt: Receipt | InboundPart) -> None:
        self.items.append(receipt)
        if receipt.ack is not None:
            receipt.ack()  # recorded: what the dispatcher does after its commit

    async def until(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.items) < count:
            assert time.monotonic() < deadline, f"{len(self.items)} of {count} receipts"
            await asyncio.sleep(0.01)


async def started(sim: SmscSim, receipts: Receipts | None = None, **kw: Any) -> SmppChannel:
    channel = SmppChannel(upstream(sim, **kw))
    await channel.start(receipts or Receipts())
    return channel


def test_thousand_submits_all_receipts_matched(start_sim: StartSim) -> None:
    sim = start_sim()
    receipts = Receipts()

    async def scenario() -> list[SubmitResult]:
        channel = await started(sim, receipts, binds=2)
        results = await asyncio.gather(*(channel.submit(msg(i)) for i in range(1000)))
        await receipts.until(1000)
        await channel.stop()
        return results

    results = run(scenario())
    sim.stop()  # all its events are read once it has exited
    assert all(r.accepted and len(r.upstream_ids) == 1 for r in results)
    submitted = {r.upstream_ids[0] for r in results}
    assert len(submitted) == 1000
    assert len(receipts.items) == 1000
    assert {r.upstream_id for r in receipts.items} == submitted
    assert {(r.upstream, r.status, r.err) for r in receipts.items} == {
        ("sim", MessageStatus.DELIVERED, 0)
    }
    assert len(sim.submits) == 1000
    assert [e["status"] for e in sim.of("deliver_sm_resp")] == [0] * 1000


def test_rejected_bind_makes_submits_retry_not_hang(start_sim: StartSim) -> None:
    sim = start_sim()

    async def scenario() -> tuple[SubmitResult, float, float]:
        channel = SmppChannel(upstream(sim, password="wrong", response_timeout_s=0.5))
        t0 = time.monotonic()
        await channel.start(Receipts())
        start_took = time.monotonic() - t0
        assert channel.live_binds == 0
        t1 = time.monotonic()
        result = await channel.submit(msg(1))
        await channel.stop()
        return result, start_took, time.monotonic() - t1

    result, start_took, submit_took = run(scenario())
    sim.stop()  # all its events are read once it has exited
    assert start_took < 2.0
    assert (result.accepted, result.retry) == (False, True)
    assert "ESME_RBINDFAIL" in result.detail
    assert 0.5 <= submit_took < 1.5
    binds = sim.of("bind")
    assert len(binds) >= 2 and not any(b["ok"] for b in binds)  # kept retrying with backoff
    assert sim.submits == []


def test_throttling_returns_retry_and_backs_off(start_sim: StartSim) -> None:
    sim = start_sim(throttle_every=3)
    # Messages 3 and 6 meet the 3rd and 6th submit_sm (refused); then both are resubmitted.
    order = [1, 2, 3, 4, 5, 6, 3, 6]

    async def scenario() -> list[tuple[SubmitResult, float]]:
        channel = await started(sim, window=1, throttle_retries=0, throttle_pause_min_s=0.3)
        timed = []
        for i in order:
            t0 = time.monotonic()
            result = await channel.submit(msg(i))
            timed.append((result, time.monotonic() - t0))
        await channel.stop()
        return timed

    timed = run(scenario())
    sim.stop()  # all its events are read once it has exited
    refused = [n for n, (r, _) in enumerate(timed) if not r.accepted]
    assert refused == [2, 5]
    for n in refused:
        result, _ = timed[n]
        assert (result.retry, result.err, result.final_status) == (True, P.ESME_RTHROTTLED, None)
        assert "ESME_RTHROTTLED" in result.detail
        assert timed[n + 1][1] >= 0.29  # the next submit waited out the bind's pause
    assert timed[1][1] < 0.2 and timed[4][1] < 0.2  # no pause without throttling
    assert timed[6][0].accepted and timed[7][0].accepted
    assert len(sim.submits) == 8


def test_throttling_is_retried_inside_the_channel_by_default(start_sim: StartSim) -> None:
    sim = start_sim(throttle_every=4)

    async def scenario() -> list[SubmitResult]:
        channel = await started(sim, window=10, throttle_pause_min_s=0.02)
        results = await asyncio.gather(*(channel.submit(msg(i)) for i in range(40)))
        await channel.stop()
        return results

    results = run(scenario())
    sim.stop()  # all its events are read once it has exited
    assert all(r.accepted for r in results)
    assert len({r.upstream_ids[0] for r in results}) == 40
    assert len(sim.submits) == 53  # every 4th of 53 attempts refused: 40 accepted + 13


def test_dropped_connection_mid_window(start_sim: StartSim) -> None:
    sim = start_sim(reply_delay_ms=50, drop_after=30)

    async def scenario() -> tuple[list[SubmitResult], list[SubmitResult], float]:
        channel = await started(sim, window=50)
        t0 = time.monotonic()
        results = await asyncio.gather(*(channel.submit(msg(i)) for i in range(100)))
        took = time.monotonic() - t0
        later = await asyncio.gather(*(channel.submit(msg(i)) for i in range(100, 120)))
        await channel.stop()
        return results, later, took

    results, later, took = run(scenario(), timeout=30)
    sim.stop()  # all its events are read once it has exited
    assert took < 3.0  # nothing waited for the 5 s response timeout
    ambiguous = [r for r in results if not r.accepted]
    accepted = [r for r in results if r.accepted]
    # The submits on the wire when the SMSC hung up at the 30th are unknowable: at least those
    # 30, at most a window (how many more were written first depends on timing); the rest were
    # never written, so they went out on the new bind.
    assert 30 <= len(ambiguous) <= 50 and len(accepted) == 100 - len(ambiguous)
    assert all(r.outcome is SubmitOutcome.AMBIGUOUS for r in ambiguous)
    assert all(r.accepted for r in later)
    assert len([b for b in sim.of("bind") if b["ok"]]) == 2


def test_a_dropped_bind_logs_how_many_submits_became_ambiguous(start_sim: StartSim) -> None:
    sim = start_sim(reply_delay_ms=50, drop_after=30)

    async def scenario() -> list[SubmitResult]:
        channel = await started(sim, window=50)
        results = await asyncio.gather(*(channel.submit(msg(i)) for i in range(60)))
        await channel.stop()
        return results

    with structlog.testing.capture_logs() as logs:
        results = run(scenario(), timeout=30)
    sim.stop()
    ambiguous = sum(1 for r in results if r.outcome is SubmitOutcome.AMBIGUOUS)
    drops = [e for e in logs if e["event"] == "smpp.bind_dropped_with_submits_in_flight"]
    assert [(e["upstream"], e["ambiguous"], e["log_level"]) for e in drops] == [
        ("sim", ambiguous, "warning")
    ]
    assert ambiguous >= 30


def test_receipt_before_submit_resp_still_matches(start_sim: StartSim) -> None:
    sim = start_sim(receipt_first=True)
    order: list[tuple[str, str]] = []

    class Ordered(Receipts):
        def __call__(self, receipt: Receipt) -> None:
            order.append(("receipt", receipt.upstream_id))
            super().__call__(receipt)

    receipts = Ordered()

    async def scenario() -> None:
        channel = await started(sim, receipts)
        for i in range(5):
            result = await channel.submit(msg(i))
            order.append(("submit", result.upstream_ids[0]))
        await receipts.until(5)
        await channel.stop()

    run(scenario())
    ids = [format(i, "x") for i in range(1, 6)]
    assert order == [pair for i in ids for pair in (("receipt", i), ("submit", i))]


def test_decimal_receipt_ids_match_hex_submit_ids(start_sim: StartSim) -> None:
    sim = start_sim(receipt_ids="dec", receipt_tlvs=False, id_start=250)
    receipts = Receipts()

    async def scenario() -> list[SubmitResult]:
        channel = await started(sim, receipts, resp_id_format="hex", receipt_id_format="dec")
        results = [await channel.submit(msg(i)) for i in range(10)]
        await receipts.until(10)
        await channel.stop()
        return results

    results = run(scenario())
    sim.stop()  # all its events are read once it has exited
    assert [r.upstream_ids[0] for r in results] == [str(n) for n in range(250, 260)]
    assert sorted(r.upstream_id for r in receipts.items) == [str(n) for n in range(250, 260)]
    assert len(sim.submits) == 10


def _parts(sim: SmscSim) -> list[dict[str, Any]]:
    """The submit_sm the simulator received, in order (it is stopped first, so none is missed)."""
    sim.stop()
    return sorted(sim.submits, key=lambda e: e["sequence"])


def test_long_cyrillic_arrives_as_three_udh_parts(start_sim: StartSim) -> None:
    sim = start_sim()

    async def scenario() -> SubmitResult:
        channel = await started(sim)
        result = await channel.submit(msg(0x2A7, CYRILLIC_200))
        await channel.stop()
        return result

    result = run(scenario())
    assert result.accepted and result.upstream_ids == ("1", "2", "3")
    parts = _parts(sim)
    assert len(parts) == 3
    for seq, part in enumerate(parts, 1):
        assert (part["esm_class"], part["data_coding"]) == (0x40, 8)
        assert part["short_message_hex"][:12] == f"050003a703{seq:02x}"
        assert part["udh"] == [f"0003a703{seq:02x}"]  # node-smpp's own reading of the UDH
    payloads = [bytes.fromhex(p["short_message_hex"])[6:].decode("utf-16-be") for p in parts]
    assert "".join(payloads) == CYRILLIC_200
    assert "".join(p["text"] for p in parts) == CYRILLIC_200


def test_long_cyrillic_with_sar_tlvs(start_sim: StartSim) -> None:
    sim = start_sim()

    async def scenario() -> SubmitResult:
        channel = await started(sim, long_mode="sar")
        result = await channel.submit(msg(0x12345, CYRILLIC_200))
        await channel.stop()
        return result

    assert run(scenario()).accepted
    parts = _parts(sim)
    assert [(p["sar_msg_ref_num"], p["sar_total_segments"], p["sar_segment_seqnum"])
            for p in parts] == [(0x2345, 3, 1), (0x2345, 3, 2), (0x2345, 3, 3)]  # fmt: skip
    assert all((p["esm_class"], p["data_coding"], p["udh"]) == (0, 8, []) for p in parts)
    text = b"".join(bytes.fromhex(p["short_message_hex"]) for p in parts).decode("utf-16-be")
    assert text == CYRILLIC_200


def test_formats_as_the_smsc_sees_them(start_sim: StartSim) -> None:
    sim = start_sim()
    messages = [
        msg(1, "Hi {there} €5", validity_min=90),
        msg(2, "Alert", fmt=MessageFormat.FLASH),
        msg(3, "", fmt=MessageFormat.PING),
        msg(4, "c0ffee", fmt=MessageFormat.BIN_HEX, registered_delivery=False),
    ]

    async def scenario() -> list[SubmitResult]:
        channel = await started(sim)
        results = [await channel.submit(m) for m in messages]
        await channel.stop()
        return results

    assert all(r.accepted for r in run(scenario()))
    sms, flash, ping, binary = _parts(sim)
    assert (sms["text"], sms["data_coding"], sms["validity_period"]) == (
        "Hi {there} €5",
        0,
        "000000013000000R",
    )
    assert (sms["source_addr"], sms["source_addr_ton"], sms["source_addr_npi"]) == ("Shop", 5, 0)
    assert (sms["dest_addr_ton"], sms["dest_addr_npi"], sms["registered_delivery"]) == (1, 1, 1)
    assert (flash["data_coding"], flash["text"]) == (0x10, "Alert")
    assert (ping["protocol_id"], ping["short_message_hex"], ping["data_coding"]) == (0x40, "", 0)
    assert (binary["data_coding"], binary["short_message_hex"]) == (4, "c0ffee")
    assert binary["registered_delivery"] == 0


def test_refusals_are_final_with_the_status(start_sim: StartSim) -> None:
    sim = start_sim(reject_dest=["70000000000"])

    async def scenario() -> SubmitResult:
        channel = await started(sim)
        result = await channel.submit(msg(1, address="70000000000"))
        await channel.stop()
        return result

    result = run(scenario())
    assert (result.accepted, result.retry) == (False, False)
    assert (result.final_status, result.err) == (MessageStatus.BAD_NUMBER, P.ESME_RINVDSTADR)


def test_undeliverable_receipts(start_sim: StartSim) -> None:
    sim = start_sim(receipt_stat="UNDELIV", receipt_err=34)
    receipts = Receipts()

    async def scenario() -> None:
        channel = await started(sim, receipts)
        await channel.submit(msg(1))
        await receipts.until(1)
        await channel.stop()

    run(scenario())
    (receipt,) = receipts.items
    assert (receipt.status, receipt.err, receipt.extra) == (
        MessageStatus.UNDELIVERABLE,
        34,
        {"stat": "UNDELIV"},
    )


def test_window_gives_concurrency(start_sim: StartSim) -> None:
    sim = start_sim(reply_delay_ms=20)

    async def scenario() -> float:
        channel = await started(sim, window=50)
        t0 = time.monotonic()
        results = await asyncio.gather(*(channel.submit(msg(i)) for i in range(200)))
        took = time.monotonic() - t0
        assert all(r.accepted for r in results)
        await channel.stop()
        return took

    assert run(scenario()) < 200 * 0.020 / 5


def test_several_binds_share_the_load(start_sim: StartSim) -> None:
    sim = start_sim(reply_delay_ms=5)

    async def scenario() -> None:
        channel = await started(sim, binds=3, window=10)
        assert channel.live_binds == 3
        results = await asyncio.gather(*(channel.submit(msg(i)) for i in range(300)))
        assert all(r.accepted for r in results)
        await channel.stop()

    run(scenario())
    sim.stop()  # all its events are read once it has exited
    assert len([b for b in sim.of("bind") if b["ok"]]) == 3
    per_session = [sum(1 for s in sim.submits if s["session"] == n) for n in (1, 2, 3)]
    assert min(per_session) >= 50, per_session


def test_stop_with_drain_lets_in_flight_submits_finish(start_sim: StartSim) -> None:
    sim = start_sim(reply_delay_ms=300)

    async def scenario() -> list[SubmitResult]:
        channel = await started(sim)
        tasks = [asyncio.create_task(channel.submit(msg(i))) for i in range(20)]
        await sim.until(lambda: len(sim.submits) == 20)
        await channel.stop(drain=True)
        return await asyncio.gather(*tasks)

    assert all(r.accepted for r in run(scenario()))
    sim.stop()  # all its events are read once it has exited
    assert len(sim.of("unbind")) == 1


def test_stop_without_drain_reports_in_flight_as_ambiguous(start_sim: StartSim) -> None:
    sim = start_sim(reply_delay_ms=500)

    async def scenario() -> list[SubmitResult]:
        channel = await started(sim)
        tasks = [asyncio.create_task(channel.submit(msg(i))) for i in range(5)]
        await sim.until(lambda: len(sim.submits) == 5)
        await channel.stop(drain=False)
        return await asyncio.gather(*tasks)

    results = run(scenario(), timeout=10)
    assert all(r.outcome is SubmitOutcome.AMBIGUOUS for r in results)


def test_mobile_originated_message_is_handed_on_and_answered_only_once_recorded(
    start_sim: StartSim,
) -> None:
    sim = start_sim(send_mo="STOP")
    held: list[InboundPart] = []

    async def scenario() -> None:
        channel = SmppChannel(upstream(sim))
        await channel.start(lambda item: held.append(item))  # type: ignore[arg-type]
        await sim.until(lambda: bool(held))
        await asyncio.sleep(0.2)
        assert sim.of("deliver_sm_resp") == []  # not recorded yet: not answered
        assert held[0].ack is not None
        held[0].ack()
        await sim.until(lambda: bool(sim.of("deliver_sm_resp")))
        await channel.stop()

    run(scenario())
    sim.stop()  # all its events are read once it has exited
    assert sim.of("deliver_sm_resp")[0]["status"] == 0
    part = held[0]
    assert isinstance(part, InboundPart)
    assert (part.upstream, part.source, part.destination, part.text) == (
        "sim", "79161234567", "Shop", "STOP",
    )  # fmt: skip
    assert part.concat is None


def test_data_sm_and_udh_parts_arrive_decoded(start_sim: StartSim) -> None:
    sim = start_sim(send_data_sm=True, commands=True)
    got = Receipts()

    async def scenario() -> None:
        await started(sim, got)
        await got.until(1)
        udh = bytes((5, 0, 3, 0x2A, 2, 2))
        sim.mo(udh + "ещё".encode("utf-16-be"), data_coding=8, esm_class=0x40)
        sim.mo("Hi all".encode("utf-16-be"), data_coding=8, sar=(300, 3, 1), data_sm=True)
        await got.until(3)

    run(scenario())
    sim.stop()
    first, udh_part, sar_part = got.items
    assert isinstance(first, InboundPart) and first.text == "Hi"
    assert isinstance(udh_part, InboundPart) and isinstance(sar_part, InboundPart)
    assert (udh_part.text, udh_part.concat) == ("ещё", (0x2A, 2, 2))
    assert (sar_part.text, sar_part.concat) == ("Hi all", (300, 3, 1))
    assert [e["status"] for e in sim.of("data_sm_resp")] == [0, 0]
    assert [e["status"] for e in sim.of("deliver_sm_resp")] == [0]


def test_channel_rebinds_after_the_smsc_unbinds(start_sim: StartSim) -> None:
    sim = start_sim(unbind_after=3)

    async def scenario() -> list[SubmitResult]:
        channel = await started(sim)
        first = [await channel.submit(msg(i)) for i in range(3)]
        await sim.until(lambda: len([b for b in sim.of("bind") if b["ok"]]) == 2)
        later = [await channel.submit(msg(i)) for i in range(3, 6)]
        await channel.stop()
        return first + later

    results = run(scenario())
    assert all(r.accepted for r in results)
    assert [r.upstream_ids[0] for r in results] == ["1", "2", "3", "4", "5", "6"]

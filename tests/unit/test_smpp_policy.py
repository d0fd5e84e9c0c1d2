"""Pure pieces of the SMPP channel: pacing with a fake clock, status mapping, upstream
validation."""

from __future__ import annotations

import pytest

from tidings.channels.base import Channel
from tidings.channels.smpp import SmppChannel, SmppUpstream, final_status_for
from tidings.channels.smpp import pdu as P
from tidings.channels.smpp.pacing import Backoff, TokenBucket
from tidings.domain.lifecycle import MessageStatus


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_spaces_reservations() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock)
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    clock.now += 10  # idle time is not banked beyond the burst
    assert [bucket.reserve() for _ in range(2)] == pytest.approx([0.0, 0.1])


def test_token_bucket_burst_and_unlimited() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(5)] == pytest.approx([0, 0, 0, 0.5, 1.0])
    assert TokenBucket(0, clock=clock).reserve() == 0.0
    with pytest.raises(ValueError):
        TokenBucket(-1)


def test_backoff_doubles_to_the_cap_and_resets() -> None:
    backoff = Backoff(0.5, 3)
    assert [backoff.next() for _ in range(5)] == [0.5, 1, 2, 3, 3]
    backoff.reset()
    assert backoff.current == 0.5
    with pytest.raises(ValueError):
        Backoff(0, 1)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (P.ESME_RINVDSTADR, MessageStatus.BAD_NUMBER),
        (P.ESME_RINVDSTTON, MessageStatus.BAD_NUMBER),
        (P.ESME_RINVSRCADR, MessageStatus.PROHIBITED),
        (P.ESME_RINVSERTYP, MessageStatus.PROHIBITED),
        (P.ESME_RSYSERR, MessageStatus.UNDELIVERABLE),
        (0x401, MessageStatus.UNDELIVERABLE),
    ],
)
def test_final_status_for(status: int, expected: MessageStatus) -> None:
    assert final_status_for(status) is expected


def upstream(name: str) -> SmppUpstream:
    return SmppUpstream(name, "127.0.0.1", 2775, "id", "pw")


def test_upstream_validation() -> None:
    with pytest.raises(ValueError):
        SmppUpstream("u", "h", 1, "s", "p", binds=0)
    with pytest.raises(ValueError):
        SmppUpstream("u", "h", 1, "s", "p", long_mode="both")  # type: ignore[arg-type]


def test_smpp_channel_is_a_channel() -> None:
    channel: Channel = SmppChannel(upstream("u"))  # mypy checks the protocol here
    assert channel.name == "u"

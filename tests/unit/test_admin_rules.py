"""The admin section's pure rules: amounts of manual credits/debits, upstream lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tidings.domain.admin import ConfiguredUpstream, amount, upstream_lines
from tidings.domain.operations import UpstreamState
from tidings.errors import InvalidParameter

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _state(upstream: str, worker: str, age_s: float = 0) -> UpstreamState:
    return UpstreamState(
        upstream, worker, "smpp", True, 1, 1, 3, 50, 10.0, 100, "", None,
        NOW - timedelta(seconds=age_s),
    )  # fmt: skip


def test_amounts() -> None:
    assert amount("10", "amount") == 1000
    assert amount(" 10,5 ", "amount") == 1050
    assert amount("0", "balance", allow_zero=True) == 0
    for bad in ("", "0", "-1", "x", "nan", "100000001"):
        with pytest.raises(InvalidParameter):
            amount(bad, "amount")


def test_upstream_lines_join_settings_and_reports() -> None:
    configured = [
        ConfiguredUpstream("virtual", "virtual", "—", 200, 1),
        ConfiguredUpstream("mts", "smpp", "10.0.0.1:2775", 50, 2),
    ]
    states = [_state("mts", "a"), _state("mts", "b", age_s=60), _state("elsewhere", "c")]
    lines = upstream_lines(configured, states, NOW)
    assert [(line.upstream.name, line.known) for line in lines] == [
        ("virtual", False),
        ("mts", True),
        ("elsewhere", True),
    ]
    assert [s.worker_id for s in lines[1].states] == ["a", "b"]
    assert [s.stale(NOW) for s in lines[1].states] == [False, True]
    assert lines[2].upstream.address == "—"

"""The delivery chart keeps time on its x axis: an empty stretch stays empty."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tidings.domain.reports import Timeline
from tidings.web.chart import HEIGHT, PAD, WIDTH, timeline_chart

MOSCOW = ZoneInfo("Europe/Moscow")
START = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def test_bars_sit_where_their_time_is() -> None:
    counts = [0] * 48
    counts[0], counts[47] = 3, 1
    chart = timeline_chart(Timeline(START, 10, counts), MOSCOW)
    assert chart is not None
    assert chart.total == 4
    first, last = chart.bars
    slot = (WIDTH - 2 * PAD) / 48
    assert abs(first.x - (PAD + 0.1 * slot)) < 1e-9
    assert abs(last.x - (PAD + 47.1 * slot)) < 1e-9
    assert first.height == HEIGHT - 2 * PAD and last.height == first.height / 3
    assert first.label == "15.01.2026 15:00:00: 3"
    assert chart.last == "15.01.2026 15:08:00"
    # The running total ends at the top.
    assert chart.line.endswith(f"{WIDTH - PAD:.1f},{PAD:.1f}")


def test_nothing_to_draw() -> None:
    assert timeline_chart(None, MOSCOW) is None

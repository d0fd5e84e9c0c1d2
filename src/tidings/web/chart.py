"""The delivery-over-time chart as inline SVG coordinates (no chart library, no script)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from tidings.domain.reports import Timeline
from tidings.domain.schedule import format_local

WIDTH, HEIGHT, PAD = 720, 160, 24


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    # The running total of deliveries as an SVG polyline.
    line: str
    total: int
    first: str
    last: str
    width: int = WIDTH
    height: int = HEIGHT
    pad: int = PAD


def timeline_chart(timeline: Timeline | None, zone: ZoneInfo) -> Chart | None:
    """Bars per time bucket (empty buckets keep their place, so the x axis is time)."""
    if timeline is None or not timeline.total:
        return None
    peak = max(timeline.counts)
    slot = (WIDTH - 2 * PAD) / len(timeline.counts)
    inner = HEIGHT - 2 * PAD
    bars: list[Bar] = []
    line = [f"{PAD},{HEIGHT - PAD}"]
    running = 0
    for i, count in enumerate(timeline.counts):
        x = PAD + i * slot
        running += count
        line.append(f"{x + slot:.1f},{HEIGHT - PAD - inner * running / timeline.total:.1f}")
        if not count:
            continue
        h = inner * count / peak
        at = timeline.start + timedelta(seconds=i * timeline.bucket_s)
        label = f"{format_local(at, zone)}: {count}"
        bars.append(Bar(x + slot * 0.1, HEIGHT - PAD - h, slot * 0.8, h, label))
    end = timeline.start + timedelta(seconds=len(timeline.counts) * timeline.bucket_s)
    return Chart(
        bars=bars,
        line=" ".join(line),
        total=timeline.total,
        first=format_local(timeline.start, zone),
        last=format_local(end, zone),
    )
